import { Product } from '@stampede/contract';
import { queryOptions, useQueries, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

export const getProduct = async ({ productId }: { productId: number }): Promise<Product> => {
  const response = await api.get(`/products/${productId}`);
  return parseResponse(Product, response.data);
};

export const getProductQueryOptions = (productId: number) =>
  queryOptions({
    queryKey: queryKeys.products.detail(productId),
    queryFn: () => getProduct({ productId }),
    staleTime: 15_000,
  });

export const useProduct = ({
  productId,
  queryConfig,
}: {
  productId: number;
  queryConfig?: QueryConfig<typeof getProductQueryOptions>;
}) => useQuery({ ...getProductQueryOptions(productId), ...queryConfig });

/** Several products at once (the cart's lines), each cached as its own detail query. */
export const useProductsById = (productIds: readonly number[]) =>
  useQueries({ queries: productIds.map((id) => getProductQueryOptions(id)) });
