import { QueueView } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

/** The console follows a waiting room closely: its figures every two seconds. */
export const QUEUE_REFRESH_MS = 2_000;

export const getProductQueue = async ({ productId }: { productId: number }) => {
  const response = await api.get(`/admin/products/${productId}/queue`);
  return parseResponse(QueueView, response.data);
};

export const getProductQueueQueryOptions = (productId: number) =>
  queryOptions({
    queryKey: queryKeys.admin.queue(productId),
    queryFn: () => getProductQueue({ productId }),
    staleTime: QUEUE_REFRESH_MS,
    refetchInterval: QUEUE_REFRESH_MS,
  });

export const useProductQueue = ({
  productId,
  queryConfig,
}: {
  productId: number;
  queryConfig?: QueryConfig<typeof getProductQueueQueryOptions>;
}) => useQuery({ ...getProductQueueQueryOptions(productId), ...queryConfig });
