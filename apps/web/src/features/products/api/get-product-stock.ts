import { StockLevel } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import { withServerClock } from '@/store/server-clock-store';
import type { QueryConfig } from '@/types/react-query';

/** Stock is polled this often while a sale runs; the API answers it from the gate counter. */
export const STOCK_POLL_MS = 2_000;

export const getProductStock = ({ productId }: { productId: number }) =>
  withServerClock(async () => {
    const response = await api.get(`/products/${productId}/stock`);
    return parseResponse(StockLevel, response.data);
  });

export const getProductStockQueryOptions = (productId: number) =>
  queryOptions({
    queryKey: queryKeys.products.stock(productId),
    queryFn: () => getProductStock({ productId }),
    staleTime: STOCK_POLL_MS,
    refetchOnWindowFocus: true,
  });

export const useProductStock = ({
  productId,
  queryConfig,
}: {
  productId: number;
  queryConfig?: QueryConfig<typeof getProductStockQueryOptions>;
}) => useQuery({ ...getProductStockQueryOptions(productId), ...queryConfig });
