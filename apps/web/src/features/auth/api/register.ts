import { AuthSession, type RegisterInput } from '@stampede/contract';
import { useMutation } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { useSessionStore } from '@/store/session-store';
import type { MutationConfig } from '@/types/react-query';

export const register = async (input: RegisterInput): Promise<AuthSession> => {
  const response = await api.post('/auth/register', input);
  return parseResponse(AuthSession, response.data);
};

export const useRegister = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof register> } = {}) => {
  const signIn = useSessionStore((state) => state.signIn);
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (session, ...args) => {
      signIn({
        accessToken: session.access_token,
        user: session.user,
        expiresInSeconds: session.expires_in,
      });
      onSuccess?.(session, ...args);
    },
    mutationFn: register,
  });
};
