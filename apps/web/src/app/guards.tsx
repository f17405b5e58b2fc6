import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { useMe } from '@/features/auth/api/get-me';
import { useIsSignedIn } from '@/store/session-store';
import { paths } from '@/utils/paths';

export function RequireAuth({ children }: { children: ReactNode }) {
  const isSignedIn = useIsSignedIn();
  const location = useLocation();
  if (isSignedIn) return children;
  return <Navigate to={paths.login(location.pathname + location.search)} replace />;
}

/** Inside RequireAuth. The role is the server's answer, so a demoted operator is turned away. */
export function RequireAdmin({ children }: { children: ReactNode }) {
  const me = useMe();
  if (me.isPending) return <PageSpinner label="Checking your account" />;
  if (me.isError) {
    return (
      <ErrorState
        title="We couldn't check your account"
        error={me.error}
        onRetry={() => void me.refetch()}
      />
    );
  }
  if (me.data.role !== 'admin') {
    return (
      <EmptyState title="Operators only">
        This console is for shop operators. Sign in with an admin account to use it.
      </EmptyState>
    );
  }
  return children;
}
