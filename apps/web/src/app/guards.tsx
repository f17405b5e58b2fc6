import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { EmptyState } from '@/components/ui/states';
import { useSession } from '@/store/session-store';
import { paths } from '@/utils/paths';

export function RequireAuth({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (!session) return <Navigate to={paths.login(location.pathname + location.search)} replace />;
  return children;
}

export function RequireAdmin({ children }: { children: ReactNode }) {
  const session = useSession();
  if (session?.user.role !== 'admin') {
    return (
      <EmptyState title="Operators only">
        This console is for shop operators. Sign in with an admin account to use it.
      </EmptyState>
    );
  }
  return children;
}
