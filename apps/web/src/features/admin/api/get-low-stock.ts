import { LowStockList } from '@stampede/contract';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

export const getLowStock = async ({ threshold }: { threshold: number }) => {
  const response = await api.get('/admin/products/low-stock', { params: { threshold } });
  return parseResponse(LowStockList, response.data);
};

export const getLowStockQueryOptions = (threshold: number) =>
  queryOptions({
    queryKey: queryKeys.admin.lowStock(threshold),
    queryFn: () => getLowStock({ threshold }),
    staleTime: 5_000,
    refetchInterval: 10_000,
    placeholderData: keepPreviousData,
  });

export const useLowStock = ({
  threshold,
  queryConfig,
}: {
  threshold: number;
  queryConfig?: QueryConfig<typeof getLowStockQueryOptions>;
}) => useQuery({ ...getLowStockQueryOptions(threshold), ...queryConfig });
