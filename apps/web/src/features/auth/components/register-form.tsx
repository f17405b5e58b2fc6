import { RegisterInput } from '@stampede/contract';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/input';
import { apiFieldErrors, zodFieldErrors, type FieldErrors } from '@/utils/form-errors';
import { paths } from '@/utils/paths';
import { useRegister } from '../api/register';
import { authErrorMessage } from '../utils/auth-error-message';
import { AuthCard } from './auth-card';

export function RegisterForm({ next, onSuccess }: { next: string; onSuccess: () => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const register = useRegister({
    mutationConfig: {
      onSuccess,
      onError: (error) => {
        if (error.code === 'email_taken')
          setFieldErrors({ email: 'An account with this email exists. Sign in instead.' });
        else setFieldErrors(apiFieldErrors(error));
      },
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = RegisterInput.safeParse({ name, email, password });
    if (!parsed.success) {
      setFieldErrors(zodFieldErrors(parsed.error));
      return;
    }
    setFieldErrors({});
    register.mutate(parsed.data);
  };

  return (
    <AuthCard
      title="Create your account"
      subtitle="It takes ten seconds. Drops don't wait."
      footer={
        <>
          Already have an account?{' '}
          <Link to={paths.login(next)} className="font-semibold text-primary hover:underline">
            Sign in
          </Link>
        </>
      }
    >
      <form
        onSubmit={submit}
        noValidate
        className="flex flex-col gap-4"
        aria-label="Create account"
      >
        {register.isError && !Object.keys(fieldErrors).length && (
          <Alert tone="destructive" title={authErrorMessage(register.error)} />
        )}
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={fieldErrors.name}
          required
        />
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
          autoComplete="new-password"
          hint="At least 8 characters."
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={fieldErrors.password}
          required
        />
        <Button type="submit" size="lg" block loading={register.isPending}>
          Create account
        </Button>
      </form>
    </AuthCard>
  );
}
