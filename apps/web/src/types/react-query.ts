import type { UseMutationOptions } from '@tanstack/react-query';
import type { ApiError } from '@/api/api-error';

declare module '@tanstack/react-query' {
  // Every fetcher rejects with ApiError (see src/api/client.ts), so say so once.
  interface Register {
    defaultError: ApiError;
  }
}

/** Extra options a screen may pass to a feature's query hook (bulletproof-react's pattern). */
export type QueryConfig<T extends (...args: never[]) => unknown> = Omit<
  ReturnType<T>,
  'queryKey' | 'queryFn'
>;

export type ApiFnReturnType<FnType extends (...args: never[]) => Promise<unknown>> = Awaited<
  ReturnType<FnType>
>;

export type MutationConfig<MutationFnType extends (...args: never[]) => Promise<unknown>> =
  UseMutationOptions<ApiFnReturnType<MutationFnType>, ApiError, Parameters<MutationFnType>[0]>;
