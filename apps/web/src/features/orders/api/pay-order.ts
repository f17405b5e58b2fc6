import { Order } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

export const payOrder = async ({ orderId }: { orderId: number }): Promise<Order> => {
  const response = await api.post(`/orders/${orderId}/pay`);
  return parseResponse(Order, response.data);
};

export const usePayOrder = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof payOrder> } = {}) => {
  const queryClient = useQueryClient();
  const { onSuccess, onSettled, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (order, ...args) => {
      queryClient.setQueryData(queryKeys.orders.detail(order.id), order);
      onSuccess?.(order, ...args);
    },
    onSettled: (...args) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders.all });
      onSettled?.(...args);
    },
    mutationFn: payOrder,
  });
};
