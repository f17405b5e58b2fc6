import { Product, type UpdateProductInput } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

export const updateProduct = async ({
  productId,
  input,
}: {
  productId: number;
  input: UpdateProductInput;
}): Promise<Product> => {
  const response = await api.patch(`/admin/products/${productId}`, input);
  return parseResponse(Product, response.data);
};

export const useUpdateProduct = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof updateProduct> } = {}) => {
  const queryClient = useQueryClient();
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (...args) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.admin.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.products.all });
      onSuccess?.(...args);
    },
    mutationFn: updateProduct,
  });
};
