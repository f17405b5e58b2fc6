import { AuthSession, type LoginInput } from '@stampede/contract';
import { useMutation } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { useSessionStore } from '@/store/session-store';
import type { MutationConfig } from '@/types/react-query';

export const login = async (input: LoginInput): Promise<AuthSession> => {
  const response = await api.post('/auth/login', input);
  return parseResponse(AuthSession, response.data);
};

export const useLogin = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof login> } = {}) => {
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
    mutationFn: login,
  });
};
