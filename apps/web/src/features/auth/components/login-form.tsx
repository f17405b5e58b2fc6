import { LoginInput } from '@stampede/contract';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/input';
import { apiFieldErrors, zodFieldErrors, type FieldErrors } from '@/utils/form-errors';
import { paths } from '@/utils/paths';
import { useLogin } from '../api/login';
import { AuthCard } from './auth-card';
import { authErrorMessage } from '../utils/auth-error-message';

export function LoginForm({ next, onSuccess }: { next: string; onSuccess: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const login = useLogin({
    mutationConfig: {
      onSuccess,
      onError: (error) => setFieldErrors(apiFieldErrors(error)),
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = LoginInput.safeParse({ email, password });
    if (!parsed.success) {
      setFieldErrors(zodFieldErrors(parsed.error));
      return;
    }
    setFieldErrors({});
    login.mutate(parsed.data);
  };

  return (
    <AuthCard
      title="Welcome back"
      subtitle="Sign in to buy before it sells out."
      footer={
        <>
          New to Stampede?{' '}
          <Link to={paths.register(next)} className="font-semibold text-primary hover:underline">
            Create an account
          </Link>
        </>
      }
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label="Sign in">
        {login.isError && !Object.keys(fieldErrors).length && (
          <Alert tone="destructive" title={authErrorMessage(login.error)} />
        )}
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={fieldErrors.email}
          required
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={fieldErrors.password}
          required
        />
        <Button type="submit" size="lg" block loading={login.isPending}>
          Sign in
        </Button>
      </form>
    </AuthCard>
  );
}
