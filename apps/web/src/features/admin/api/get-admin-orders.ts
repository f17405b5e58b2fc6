import { AdminOrderList, type OrderStatus } from '@stampede/contract';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

export type GetAdminOrdersParams = { status?: OrderStatus; page?: number; pageSize?: number };

export const getAdminOrders = async ({ status, page = 1, pageSize = 25 }: GetAdminOrdersParams) => {
  const response = await api.get('/admin/orders', {
    params: { status: status || undefined, page, page_size: pageSize },
  });
  return parseResponse(AdminOrderList, response.data);
};

export const getAdminOrdersQueryOptions = (params: GetAdminOrdersParams = {}) =>
  queryOptions({
    queryKey: queryKeys.admin.orders(params),
    queryFn: () => getAdminOrders(params),
    staleTime: 3_000,
    refetchInterval: 10_000,
    placeholderData: keepPreviousData,
  });

export const useAdminOrders = ({
  queryConfig,
  ...params
}: GetAdminOrdersParams & { queryConfig?: QueryConfig<typeof getAdminOrdersQueryOptions> } = {}) =>
  useQuery({ ...getAdminOrdersQueryOptions(params), ...queryConfig });
