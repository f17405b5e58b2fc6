import { MeResponse } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';

export const getMe = async () => {
  const response = await api.get('/auth/me');
  return parseResponse(MeResponse, response.data).user;
};

export const getMeQueryOptions = () =>
  queryOptions({ queryKey: queryKeys.auth.me, queryFn: getMe, staleTime: 60_000 });

/**
 * Confirms the stored session with the server (role changes, revoked tokens). A 401 here signs
 * the user out through the client's interceptor.
 */
export const useMe = ({
  enabled,
  queryConfig,
}: {
  enabled: boolean;
  queryConfig?: QueryConfig<typeof getMeQueryOptions>;
}) => useQuery({ ...getMeQueryOptions(), enabled, ...queryConfig });
