import { Product } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';

export const getAdminProduct = async ({ productId }: { productId: number }) => {
  const response = await api.get(`/products/${productId}`);
  return parseResponse(Product, response.data);
};

export const getAdminProductQueryOptions = (productId: number) =>
  queryOptions({
    queryKey: [...queryKeys.admin.all, 'product', productId] as const,
    queryFn: () => getAdminProduct({ productId }),
    staleTime: 0,
  });

export const useAdminProduct = ({ productId }: { productId: number }) =>
  useQuery(getAdminProductQueryOptions(productId));
