import { ProductList } from '@stampede/contract';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

export const ADMIN_PAGE_SIZE = 50;

/**
 * The console's product table. API.md has no admin listing, so this reads the public catalogue:
 * active products only (an inactive one drops out of the table until reactivated).
 */
export const getAdminProducts = async ({
  search,
  page = 1,
}: {
  search?: string;
  page?: number;
}) => {
  const response = await api.get('/products', {
    params: { search: search || undefined, page, page_size: ADMIN_PAGE_SIZE },
  });
  return parseResponse(ProductList, response.data);
};

export const getAdminProductsQueryOptions = (params: { search?: string; page?: number } = {}) =>
  queryOptions({
    queryKey: queryKeys.admin.products(params),
    queryFn: () => getAdminProducts(params),
    staleTime: 5_000,
    placeholderData: keepPreviousData,
  });

export const useAdminProducts = ({
  queryConfig,
  ...params
}: {
  search?: string;
  page?: number;
  queryConfig?: QueryConfig<typeof getAdminProductsQueryOptions>;
} = {}) => useQuery({ ...getAdminProductsQueryOptions(params), ...queryConfig });
