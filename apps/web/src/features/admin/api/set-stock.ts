import { StockSet } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

export const setStock = async ({
  productId,
  quantity,
}: {
  productId: number;
  quantity: number;
}) => {
  const response = await api.put(`/admin/products/${productId}/stock`, { quantity });
  return parseResponse(StockSet, response.data);
};

export const useSetStock = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof setStock> } = {}) => {
  const queryClient = useQueryClient();
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (...args) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.admin.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.products.all });
      onSuccess?.(...args);
    },
    mutationFn: setStock,
  });
};
