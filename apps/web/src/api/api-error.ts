import { ErrorBody, type ErrorCode } from '@stampede/contract';
import { AxiosError, isAxiosError } from 'axios';

/**
 * Codes the client itself can produce, beside the server's: no answer at all, or an answer that
 * does not match the contract.
 */
export type ClientErrorCode = 'network_error' | 'timeout' | 'invalid_response' | 'unknown_error';
export type ApiErrorCode = ErrorCode | ClientErrorCode;

export type ApiErrorInit = {
  code: ApiErrorCode;
  message: string;
  status?: number | null;
  details?: Record<string, unknown>;
  retryAfterSeconds?: number | null;
  requestId?: string | null;
  cause?: unknown;
};

/** Every failed API call rejects with one of these, whatever went wrong. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** HTTP status, or null when no answer arrived. */
  readonly status: number | null;
  readonly details: Record<string, unknown>;
  /** From the `Retry-After` header (429, 503), in whole seconds. */
  readonly retryAfterSeconds: number | null;
  /** The `x-request-id` the server logged this request under; worth showing to support. */
  readonly requestId: string | null;

  constructor(init: ApiErrorInit) {
    super(init.message, { cause: init.cause });
    this.name = 'ApiError';
    this.code = init.code;
    this.status = init.status ?? null;
    this.details = init.details ?? {};
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
    this.requestId = init.requestId ?? null;
  }

  /** True when the request may or may not have been applied: the outcome is unknown. */
  get isOutcomeUnknown(): boolean {
    return this.status === null || this.code === 'invalid_response' || (this.status ?? 0) >= 500;
  }
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;

/** `Retry-After` is either delta-seconds or an HTTP date; both become whole seconds from now. */
export function parseRetryAfter(value: unknown, nowMs: number = Date.now()): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const text = String(value).trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.max(0, Math.ceil(Number(text)));
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function headerOf(headers: unknown, name: string): string | null {
  if (!headers || typeof headers !== 'object') return null;
  const record = headers as Record<string, unknown> & { get?: (key: string) => unknown };
  const value =
    typeof record.get === 'function'
      ? record.get(name)
      : (record[name] ?? record[name.toLowerCase()]);
  return typeof value === 'string' ? value : null;
}

/** Turns whatever an Axios call threw into an ApiError, reading API.md's error body when present. */
export function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  if (!isAxiosError(error)) {
    return new ApiError({
      code: 'unknown_error',
      message: error instanceof Error ? error.message : 'Something went wrong.',
      cause: error,
    });
  }
  const response = error.response;
  if (!response) {
    const timedOut = error.code === AxiosError.ECONNABORTED || error.code === AxiosError.ETIMEDOUT;
    return new ApiError({
      code: timedOut ? 'timeout' : 'network_error',
      message: timedOut
        ? 'The server took too long to answer.'
        : 'Could not reach the server. Check your connection.',
      cause: error,
    });
  }
  const requestId = headerOf(response.headers, 'x-request-id');
  const retryAfterSeconds = parseRetryAfter(headerOf(response.headers, 'retry-after'));
  const body = ErrorBody.safeParse(response.data);
  if (body.success) {
    return new ApiError({
      code: body.data.error.code,
      message: body.data.error.message,
      status: response.status,
      details: body.data.error.details ?? {},
      retryAfterSeconds,
      requestId,
      cause: error,
    });
  }
  return new ApiError({
    code: response.status >= 500 ? 'internal_error' : 'unknown_error',
    message: `The server answered ${response.status}.`,
    status: response.status,
    retryAfterSeconds,
    requestId,
    cause: error,
  });
}
