import { StockLevel } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import { withServerClock } from '@/store/server-clock-store';

export const getLiveStock = ({ productId }: { productId: number }) =>
  withServerClock(async () => {
    const response = await api.get(`/products/${productId}/stock`);
    return parseResponse(StockLevel, response.data);
  });

/** The console watches running sales closely: the gate's counter, every two seconds. */
export const getLiveStockQueryOptions = (productId: number) =>
  queryOptions({
    queryKey: [...queryKeys.admin.all, 'stock', productId] as const,
    queryFn: () => getLiveStock({ productId }),
    staleTime: 2_000,
    refetchInterval: 2_000,
  });

export const useLiveStock = ({ productId }: { productId: number }) =>
  useQuery(getLiveStockQueryOptions(productId));
