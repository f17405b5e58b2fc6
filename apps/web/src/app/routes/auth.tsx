import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { LoginForm } from '@/features/auth/components/login-form';
import { RegisterForm } from '@/features/auth/components/register-form';
import { useIsSignedIn } from '@/store/session-store';
import { safeNext } from '@/utils/paths';

function useNext() {
  const [params] = useSearchParams();
  return safeNext(params.get('next'));
}

export function LoginRoute() {
  const next = useNext();
  const navigate = useNavigate();
  const isSignedIn = useIsSignedIn();
  if (isSignedIn) return <Navigate to={next} replace />;
  return <LoginForm next={next} onSuccess={() => void navigate(next, { replace: true })} />;
}

export function RegisterRoute() {
  const next = useNext();
  const navigate = useNavigate();
  const isSignedIn = useIsSignedIn();
  if (isSignedIn) return <Navigate to={next} replace />;
  return <RegisterForm next={next} onSuccess={() => void navigate(next, { replace: true })} />;
}
