import type { DbRetryCause } from '../observability/metrics.ts';

/** The database errors worth retrying a stock transaction for, by metric cause. */
const RETRYABLE: Record<string, DbRetryCause> = {
  '40P01': 'deadlock',
  '40001': 'serialization',
  '55P03': 'lock_timeout',
};

interface PgError {
  readonly code?: unknown;
  readonly constraint?: unknown;
}

/** The PostgreSQL error itself, also when an ORM wrapped it (Drizzle puts it in `cause`). */
export function pgErrorOf(error: unknown): PgError | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth += 1) {
    if (typeof (e as PgError).code === 'string') return e as PgError;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function retryCauseOf(error: unknown): DbRetryCause | undefined {
  const code = pgErrorOf(error)?.code;
  return typeof code === 'string' ? RETRYABLE[code] : undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = pgErrorOf(error);
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export function isForeignKeyViolation(error: unknown, constraint: string): boolean {
  const e = pgErrorOf(error);
  return e?.code === '23503' && e.constraint === constraint;
}

/** Retry delays of DESIGN.md: three retries, 10, 20 and 40 ms. */
export const RETRY_DELAYS_MS = [10, 20, 40] as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
