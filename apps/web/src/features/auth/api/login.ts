import { AuthSession, type LoginInput } from '@stampede/contract';
import { useMutation } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import type { MutationConfig } from '@/types/react-query';
import { useStartSession } from '../hooks/use-start-session';

export const login = async (input: LoginInput): Promise<AuthSession> => {
  const response = await api.post('/auth/login', input);
  return parseResponse(AuthSession, response.data);
};

export const useLogin = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof login> } = {}) => {
  const startSession = useStartSession();
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (session, ...args) => {
      startSession(session);
      onSuccess?.(session, ...args);
    },
    mutationFn: login,
  });
};
