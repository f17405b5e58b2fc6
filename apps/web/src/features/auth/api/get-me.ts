import { MeResponse } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import { useIsSignedIn } from '@/store/session-store';
import type { QueryConfig } from '@/types/react-query';

export const getMe = async () => {
  const response = await api.get('/auth/me');
  return parseResponse(MeResponse, response.data).user;
};

export const getMeQueryOptions = () =>
  queryOptions({ queryKey: queryKeys.auth.me, queryFn: getMe, staleTime: 60_000 });

/**
 * Who the stored token belongs to, as the server says now (role changes, revoked tokens). Asked
 * only while a token is held; a 401 here signs the user out through the client's interceptor.
 */
export const useMe = ({
  queryConfig,
}: { queryConfig?: QueryConfig<typeof getMeQueryOptions> } = {}) => {
  const isSignedIn = useIsSignedIn();
  return useQuery({ ...getMeQueryOptions(), enabled: isSignedIn, ...queryConfig });
};

/**
 * The signed-in user, or null while signed out or not yet known. A disabled query still returns
 * what it cached, so the answer for a token that is gone (a 401) is never shown.
 */
export const useCurrentUser = () => {
  const isSignedIn = useIsSignedIn();
  const me = useMe();
  return isSignedIn ? (me.data ?? null) : null;
};
