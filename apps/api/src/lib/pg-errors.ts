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

/**
 * SQLSTATEs saying the server cannot serve us now (class 08, connection exception; shutdowns;
 * too many connections), as opposed to a query it refused.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What node and pg raise when the connection itself fails: refused, cut, timed out. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'Cannot use a pool after calling end',
  'Connection terminated due to connection timeout',
];

/**
 * The database could not be reached, or dropped the connection: an outage, not a refusal. Such
 * a request is answered 503 and may be retried; nothing is known to have been written.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth += 1) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (code.startsWith('08') || UNAVAILABLE_STATES.has(code)) return true;
      if (UNAVAILABLE_SOCKET_CODES.has(code)) return true;
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The database took too long (a statement or lock timeout): worth a retry, not a bug. */
export function isDatabaseTimeout(error: unknown): boolean {
  const code = pgErrorOf(error)?.code;
  return code === '57014' || code === '55P03';
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
