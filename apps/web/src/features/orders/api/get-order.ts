import { Order } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

export const getOrder = async ({ orderId }: { orderId: number }): Promise<Order> => {
  const response = await api.get(`/orders/${orderId}`);
  return parseResponse(Order, response.data);
};

export const getOrderQueryOptions = (orderId: number) =>
  queryOptions({
    queryKey: queryKeys.orders.detail(orderId),
    queryFn: () => getOrder({ orderId }),
    staleTime: 5_000,
  });

export const useOrder = ({
  orderId,
  queryConfig,
}: {
  orderId: number;
  queryConfig?: QueryConfig<typeof getOrderQueryOptions>;
}) => useQuery({ ...getOrderQueryOptions(orderId), ...queryConfig });
