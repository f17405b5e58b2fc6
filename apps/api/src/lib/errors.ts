import type { ErrorCode } from '@stampede/contract';

/**
 * One error hierarchy for the whole API. Services throw these; the single error handler maps
 * `code` to the HTTP status of API.md and never shows a 5xx's internals to the client.
 */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  email_taken: 409,
  invalid_credentials: 401,
  rate_limited: 429,
  product_not_found: 404,
  order_not_found: 404,
  sale_not_started: 409,
  sale_ended: 409,
  purchase_limit_exceeded: 409,
  insufficient_stock: 409,
  stock_conflict: 409,
  idempotency_key_reused: 422,
  idempotency_in_flight: 409,
  invalid_order_state: 409,
  sku_taken: 409,
  stock_unavailable: 503,
  queue_pass_required: 403,
  queue_closed: 409,
  challenge_failed: 400,
  service_unavailable: 503,
  internal_error: 500,
};

export type ErrorDetails = Record<string, unknown>;

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  /** Seconds the client should wait before trying again (sent as `Retry-After`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    options?: { retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = STATUS_BY_CODE[code];
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/**
 * Build an error without capturing a stack trace: for the expected refusals of a sale (sold
 * out, over the cap, rate limited), thousands a second, whose stack nobody reads.
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export class ValidationError extends AppError {
  constructor(fields: { path: string; message: string }[], message = 'The request is not valid.') {
    super('validation_failed', message, { fields });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Sign in to continue.') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this.') {
    super('forbidden', message);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterMs: number, message = 'Too many attempts; wait a moment and try again.') {
    super(
      'rate_limited',
      message,
      { retry_after_ms: retryAfterMs },
      { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) },
    );
  }
}

export class ProductNotFoundError extends AppError {
  constructor(productId: number) {
    super('product_not_found', `Product ${productId} does not exist.`, { product_id: productId });
  }
}

export class OrderNotFoundError extends AppError {
  constructor(orderId: number) {
    super('order_not_found', `Order ${orderId} does not exist.`, { order_id: orderId });
  }
}

export class InsufficientStockError extends AppError {
  constructor(
    readonly productId: number,
    requested: number,
    available: number,
  ) {
    super(
      'insufficient_stock',
      available === 0 ? 'Sold out.' : `Only ${available} left of product ${productId}.`,
      { product_id: productId, requested, available },
    );
  }
}

export class PurchaseLimitError extends AppError {
  constructor(productId: number, limit: number, alreadyBought: number) {
    super('purchase_limit_exceeded', `You can buy at most ${limit} of product ${productId}.`, {
      product_id: productId,
      max_per_user: limit,
      already_ordered: alreadyBought,
    });
  }
}

export class StockConflictError extends AppError {
  constructor(cause?: unknown) {
    super(
      'stock_conflict',
      'The stock was too busy to take your order; it is safe to try again.',
      undefined,
      { cause },
    );
  }
}

export class StockUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super('stock_unavailable', 'Orders are paused for a moment; try again shortly.', undefined, {
      retryAfterSeconds: 2,
      cause,
    });
  }
}

/**
 * PostgreSQL cannot be reached, dropped the connection, or timed out: an outage answered 503
 * with Retry-After on every endpoint, never a 500. Nothing the request asked for is known to be
 * done; retrying (with the same Idempotency-Key, for orders) is safe.
 */
export class DatabaseUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(
      'service_unavailable',
      'The shop cannot reach its database for a moment; try again shortly.',
      { dependency: 'database' },
      { retryAfterSeconds: 2, cause },
    );
  }
}

export class InvalidOrderStateError extends AppError {
  constructor(orderId: number, status: string, action: string) {
    super('invalid_order_state', `Order ${orderId} is ${status} and cannot be ${action}.`, {
      order_id: orderId,
      status,
    });
  }
}

/**
 * The user already has an order under this idempotency key (the order writer's unique index
 * said so); that order is answered instead. Not an answer of its own.
 */
export class DuplicateOrderError extends Error {
  override name = 'DuplicateOrderError';
  constructor(
    readonly userId: number,
    readonly idempotencyKey: string,
  ) {
    super('an order with this idempotency key exists');
  }
}

/**
 * A retry after a lost connection found this reservation's order already written: the commit
 * had gone through before the connection dropped. That order is answered; nothing is taken twice.
 */
export class OrderAlreadyWrittenError extends Error {
  override name = 'OrderAlreadyWrittenError';
  constructor(readonly reservationId: string) {
    super('the order of this reservation was written before the connection dropped');
  }
}

/**
 * The waiting room's Redis did not answer: a join or a poll is answered 503 with Retry-After,
 * and an order for a queued product too (its pass cannot be checked), never a 500.
 */
export class QueueUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(
      'service_unavailable',
      'The waiting room cannot be reached for a moment; try again shortly.',
      { dependency: 'redis' },
      { retryAfterSeconds: 2, cause },
    );
  }
}
