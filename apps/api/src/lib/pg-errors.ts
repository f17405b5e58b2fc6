import type { DbRetryCause } from '../observability/metrics.ts';

/** The database errors worth retrying a stock transaction for, by metric cause. */
const RETRYABLE: Record<string, DbRetryCause> = {
  '40P01': 'deadlock',
  '40001': 'serialization',
  '55P03': 'lock_timeout',
};

export function retryCauseOf(error: unknown): DbRetryCause | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? RETRYABLE[code] : undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** Retry delays of DESIGN.md: three retries, 10, 20 and 40 ms. */
export const RETRY_DELAYS_MS = [10, 20, 40] as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
