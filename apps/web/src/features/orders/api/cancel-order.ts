import { Order } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

export const cancelOrder = async ({ orderId }: { orderId: number }): Promise<Order> => {
  const response = await api.post(`/orders/${orderId}/cancel`);
  return parseResponse(Order, response.data);
};

export const useCancelOrder = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof cancelOrder> } = {}) => {
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
      // The cancelled units are back on sale: every stock bar should show them.
      void queryClient.invalidateQueries({ queryKey: queryKeys.products.all });
      onSettled?.(...args);
    },
    mutationFn: cancelOrder,
  });
};
