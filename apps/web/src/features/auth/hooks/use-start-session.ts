import type { AuthSession } from '@stampede/contract';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { useSessionStore } from '@/store/session-store';
import { getMeQueryOptions } from '../api/get-me';

/**
 * Sign-in and sign-up answer with a token and its user. The token goes to the session store; the
 * user is the me query's answer, written into its cache first so the query does not ask again the
 * moment it is enabled.
 */
export function useStartSession() {
  const queryClient = useQueryClient();
  const signIn = useSessionStore((state) => state.signIn);
  return useCallback(
    (session: AuthSession) => {
      queryClient.setQueryData(getMeQueryOptions().queryKey, session.user);
      signIn({ accessToken: session.access_token, expiresInSeconds: session.expires_in });
    },
    [queryClient, signIn],
  );
}
