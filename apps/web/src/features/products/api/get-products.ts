import { ProductList } from '@stampede/contract';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import { withServerClock } from '@/store/server-clock-store';
import type { QueryConfig } from '@/types/react-query';

export type GetProductsParams = { search?: string; page?: number; pageSize?: number };

export const getProducts = ({ search, page = 1, pageSize = 24 }: GetProductsParams = {}) =>
  withServerClock(async () => {
    const response = await api.get('/products', {
      params: { search: search || undefined, page, page_size: pageSize },
    });
    return parseResponse(ProductList, response.data);
  });

export const getProductsQueryOptions = (params: GetProductsParams = {}) =>
  queryOptions({
    queryKey: queryKeys.products.list(params),
    queryFn: () => getProducts(params),
    // Stock on the cards comes from the per-product stock polls; the list itself changes rarely.
    staleTime: 15_000,
    placeholderData: keepPreviousData,
  });

export const useProducts = ({
  queryConfig,
  ...params
}: GetProductsParams & { queryConfig?: QueryConfig<typeof getProductsQueryOptions> } = {}) =>
  useQuery({ ...getProductsQueryOptions(params), ...queryConfig });
