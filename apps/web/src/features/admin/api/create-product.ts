import { Product, type CreateProductInput } from '@stampede/contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { MutationConfig } from '@/types/react-query';

export const createProduct = async (input: CreateProductInput): Promise<Product> => {
  const response = await api.post('/admin/products', input);
  return parseResponse(Product, response.data);
};

export const useCreateProduct = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof createProduct> } = {}) => {
  const queryClient = useQueryClient();
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (...args) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.admin.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.products.all });
      onSuccess?.(...args);
    },
    mutationFn: createProduct,
  });
};
