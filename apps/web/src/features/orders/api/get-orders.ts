import { OrderList } from '@stampede/contract';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

export type GetOrdersParams = { page?: number; pageSize?: number };

export const getOrders = async ({ page = 1, pageSize = 20 }: GetOrdersParams = {}) => {
  const response = await api.get('/orders', { params: { page, page_size: pageSize } });
  return parseResponse(OrderList, response.data);
};

export const getOrdersQueryOptions = (params: GetOrdersParams = {}) =>
  queryOptions({
    queryKey: queryKeys.orders.list(params),
    queryFn: () => getOrders(params),
    staleTime: 5_000,
    placeholderData: keepPreviousData,
  });

export const useOrders = ({
  queryConfig,
  ...params
}: GetOrdersParams & { queryConfig?: QueryConfig<typeof getOrdersQueryOptions> } = {}) =>
  useQuery({ ...getOrdersQueryOptions(params), ...queryConfig });
