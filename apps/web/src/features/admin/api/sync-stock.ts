import { SyncStockResult, type SyncStockInput } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

/** Sets the stock gate from the database (all products, or the given ones). */
export const syncStock = async (input: SyncStockInput = {}) => {
  const response = await api.post('/admin/stock/sync', input);
  return parseResponse(SyncStockResult, response.data);
};

export const useSyncStock = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof syncStock> } = {}) => {
  const queryClient = useQueryClient();
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (...args) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.products.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.admin.all });
      onSuccess?.(...args);
    },
    mutationFn: syncStock,
  });
};
