import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { queryKeys } from '@/api/query-keys';
import { useSessionStore } from '@/store/session-store';

/**
 * Signing out forgets the token (memory and sessionStorage) and every cached answer that belonged
 * to the user. The API has no logout endpoint: the token simply stops being sent.
 */
export function useLogout() {
  const queryClient = useQueryClient();
  const signOut = useSessionStore((state) => state.signOut);
  return useCallback(() => {
    signOut();
    queryClient.removeQueries({ queryKey: queryKeys.orders.all });
    queryClient.removeQueries({ queryKey: queryKeys.admin.all });
    queryClient.removeQueries({ queryKey: queryKeys.auth.me });
  }, [queryClient, signOut]);
}
