import { AuthSession, type RegisterInput } from '@stampede/contract';
import { useMutation } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import type { MutationConfig } from '@/types/react-query';
import { useStartSession } from '../hooks/use-start-session';

export const register = async (input: RegisterInput): Promise<AuthSession> => {
  const response = await api.post('/auth/register', input);
  return parseResponse(AuthSession, response.data);
};

export const useRegister = ({
  mutationConfig,
}: { mutationConfig?: MutationConfig<typeof register> } = {}) => {
  const startSession = useStartSession();
  const { onSuccess, ...rest } = mutationConfig ?? {};
  return useMutation({
    ...rest,
    onSuccess: (session, ...args) => {
      startSession(session);
      onSuccess?.(session, ...args);
    },
    mutationFn: register,
  });
};
