import { createHash } from 'node:crypto';
import type { OrderLineInput } from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import { AppError, RateLimitedError, StockConflictError } from '../../lib/errors.ts';
import { storedRefusalError, type RememberInput, type StoredAnswer } from '../stock/services.ts';
import { getOrderByIdempotencyKey, getOrderForUser } from './selectors.ts';
import type { OrderRecord } from './types.ts';

/**
 * The answers an Idempotency-Key keeps (API.md, "Which answers a key keeps"): a created order
 * always, a final refusal at once in the gate and a moment later in PostgreSQL, retryable answers
 * never. A key is the user's own: the same key of two users is two keys.
 */

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** One order attempt: who, under which key and body, with which reservation id. */
export interface OrderRequest {
  readonly userId: number;
  readonly reservationId: string;
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

/** Same key, same request: the canonical body (lines in product order) hashed. */
export function fingerprintOf(items: readonly OrderLineInput[]): string {
  const canonical = [...items]
    .sort((a, b) => a.product_id - b.product_id)
    .map((item) => `${item.product_id}x${item.quantity}`)
    .join(',');
  return createHash('sha256').update(`POST /api/orders ${canonical}`).digest('hex');
}

/**
 * Refusals that would be the same if asked again; conflicts and outages are worth a retry, and
 * so is a missing waiting-room pass (the same request with the same key succeeds once the buyer
 * is admitted, so the refusal is never kept as the key's answer).
 */
export function isFinalRefusal(error: unknown): error is AppError {
  return (
    error instanceof AppError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.code !== 'queue_pass_required' &&
    !(error instanceof StockConflictError) &&
    !(error instanceof RateLimitedError)
  );
}

/** An earlier answer of the key: the order as it is now, or the refusal it was. */
export async function replayAnswer(
  ctx: AppContext,
  request: OrderRequest,
  answer: StoredAnswer,
): Promise<{ order: OrderRecord } | { error: AppError }> {
  if ('refusal' in answer) {
    // Kept by the gate's own script, possibly for an attempt whose answer never left (Redis ran
    // it after the API had given up): recorded in PostgreSQL now, if it was not yet.
    const error = storedRefusalError(answer);
    recordRefusal(ctx, request, error);
    return { error };
  }
  if (answer.orderId !== undefined) {
    const order = await getOrderForUser({
      ctx,
      input: { orderId: answer.orderId, userId: request.userId },
    });
    if (order) return { order };
    throw new Error(`idempotency answer names order ${answer.orderId}, which is gone`);
  }
  const stored = (
    answer.body as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    }
  )?.error;
  return {
    error: new AppError(
      (stored?.code ?? 'internal_error') as AppError['code'],
      stored?.message ?? 'Earlier answer.',
      stored?.details,
    ),
  };
}

/** The order a key already made, if the database has one (the gate may not know it). */
export function orderOfKey(ctx: AppContext, request: OrderRequest): Promise<OrderRecord | null> {
  if (!request.idempotency) return Promise.resolve(null);
  return getOrderByIdempotencyKey({
    ctx,
    input: { userId: request.userId, key: request.idempotency.key },
  });
}

/** A created order is the key's answer (in the gate; the database has it already). */
export async function keepOrder(
  ctx: AppContext,
  request: OrderRequest,
  order: OrderRecord,
): Promise<void> {
  if (!request.idempotency) return;
  await ctx.admission
    .remember({
      userId: request.userId,
      ...request.idempotency,
      answer: { status: 201, orderId: order.id },
      ttlMs: IDEMPOTENCY_TTL_SECONDS * 1000,
    })
    .catch((error: unknown) => ctx.logger.warn({ err: error }, 'idempotency answer not cached'));
}

/**
 * A final refusal is the key's answer: in the gate (unless the gate's own step kept it
 * already) and in PostgreSQL.
 */
export async function keepRefusal(
  ctx: AppContext,
  request: OrderRequest,
  error: AppError,
  keptInGate: boolean,
): Promise<void> {
  if (!request.idempotency) return;
  if (!keptInGate) {
    await ctx.admission
      .remember(refusalToKeep(request.userId, request.idempotency, error))
      .catch((cacheError: unknown) =>
        ctx.logger.warn({ err: cacheError }, 'idempotency state not updated'),
      );
  }
  recordRefusal(ctx, request, error);
}

/**
 * A refusal decided without the gate (the sold-out edge) becomes the key's answer if the key
 * holds nothing yet: in the gate in one write, and in PostgreSQL like every kept refusal. False
 * when the key holds something, or the gate cannot say: the request takes the whole path.
 */
export async function keepFirstAnswer(
  ctx: AppContext,
  request: OrderRequest,
  error: AppError,
): Promise<boolean> {
  if (!request.idempotency) return true;
  const kept = await ctx.admission
    .rememberIfNew(refusalToKeep(request.userId, request.idempotency, error))
    .catch(() => false);
  if (kept) recordRefusal(ctx, request, error);
  return kept;
}

/** A refusal as the gate keeps it for a key. */
function refusalToKeep(
  userId: number,
  idempotency: NonNullable<OrderRequest['idempotency']>,
  error: AppError,
): RememberInput {
  return {
    userId,
    ...idempotency,
    answer: { status: error.status, body: bodyOf(error) },
    ttlMs: IDEMPOTENCY_TTL_SECONDS * 1000,
  };
}

/** Nothing was decided: the key is free for a retry at once. */
export async function freeKey(ctx: AppContext, request: OrderRequest): Promise<void> {
  if (!request.idempotency) return;
  await ctx.admission
    .forget({
      userId: request.userId,
      key: request.idempotency.key,
      reservationId: request.reservationId,
    })
    // The in-flight marker expires on its own (STOCK_HOLD_MAX_AGE_MS); nothing was sold.
    .catch((error: unknown) => ctx.logger.warn({ err: error }, 'idempotency state not updated'));
}

function recordRefusal(ctx: AppContext, request: OrderRequest, error: AppError): void {
  if (!request.idempotency) return;
  ctx.idempotencyLog.record({
    userId: request.userId,
    ...request.idempotency,
    status: error.status,
    body: bodyOf(error),
  });
}

function bodyOf(error: AppError) {
  return { error: { code: error.code, message: error.message, details: error.details } };
}
