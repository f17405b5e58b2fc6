import { QueueView, type QueueSettingsInput } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

/** Sets every setting at once (a PUT): switching on, the rates, pausing and resuming. */
export const updateProductQueue = async ({
  productId,
  input,
}: {
  productId: number;
  input: QueueSettingsInput;
}) => {
  const response = await api.put(`/admin/products/${productId}/queue`, input);
  return parseResponse(QueueView, response.data);
};

export const useUpdateProductQueue = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof updateProductQueue> } = {}) => {
  const queryClient = useQueryClient();
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (view, ...args) => {
      queryClient.setQueryData(queryKeys.admin.queue(view.product_id), view);
      // Switching a queue on or off changes what every buyer's product page shows.
      void queryClient.invalidateQueries({ queryKey: queryKeys.queue.all });
      onSuccess?.(view, ...args);
    },
    mutationFn: updateProductQueue,
  });
};
