import { Order, type OrderLineInput } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

export type PlaceOrderInput = { items: OrderLineInput[]; idempotencyKey: string };

/**
 * Resolves only on the server's 2xx with a valid order: the caller shows success on nothing less.
 * The Idempotency-Key makes a retry of the same attempt safe (the server answers the first result).
 */
export const placeOrder = async ({ items, idempotencyKey }: PlaceOrderInput): Promise<Order> => {
  const response = await api.post(
    '/orders',
    { items },
    { headers: { 'Idempotency-Key': idempotencyKey } },
  );
  return parseResponse(Order, response.data);
};

export const usePlaceOrder = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof placeOrder> } = {}) => {
  const queryClient = useQueryClient();
  const { onSettled, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    // Whatever the answer, stock moved (or someone else's did): refresh what the pages show.
    onSettled: (...args) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.products.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders.all });
      onSettled?.(...args);
    },
    mutationFn: placeOrder,
  });
};
