import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { OrderLineInput } from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import { withTransaction } from '../../db/transaction.ts';
import {
  AppError,
  InsufficientStockError,
  InvalidOrderStateError,
  OrderNotFoundError,
  ProductNotFoundError,
  PurchaseLimitError,
  RateLimitedError,
  StockConflictError,
  StockUnavailableError,
  ValidationError,
  withoutStack,
} from '../../lib/errors.ts';
import { isDatabaseTimeout, isDatabaseUnavailable } from '../../lib/pg-errors.ts';
import { observeGateCall, type OrderOutcome } from '../../observability/metrics.ts';
import type { CatalogProduct } from '../products/catalog.ts';
import type { AdmitResult, AttemptResult, GateLine, StoredAnswer } from '../stock/gate/types.ts';
import { DuplicateOrderError, OrderAlreadyWrittenError } from '../stock/order-writer.ts';
import {
  creditGate,
  decreaseStock,
  gateCall,
  gateRefusalError,
  restoreStock,
  storedRefusalError,
} from '../stock/services.ts';
import { getOrderByIdempotencyKey, getOrderByReservation, getOrderForUser } from './selectors.ts';
import { statusesThatCanBecome } from './state-machine.ts';
import type { OrderRecord } from './types.ts';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export interface PlaceOrderResult {
  readonly order: OrderRecord;
  /** True when this is an earlier answer returned again for the same Idempotency-Key. */
  readonly replayed: boolean;
}

/**
 * Place an order, with the checks of API.md in their order: idempotent replay, rate limit,
 * product and sale window, then the stock (cap, availability) through `decreaseStock`.
 */
export async function placeOrder({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { userId: number; items: readonly OrderLineInput[]; idempotencyKey?: string };
}): Promise<PlaceOrderResult> {
  const { userId, idempotencyKey } = input;
  const fingerprint = idempotencyKey === undefined ? undefined : fingerprintOf(input.items);
  const keyed = idempotencyKey !== undefined && fingerprint !== undefined;
  // The same key and fingerprint go to the gate's admission and to the order's record. The
  // in-flight marker lives as long as a hold can: a key whose request died with its process
  // is answerable again when its hold is given back.
  const idempotency = keyed
    ? {
        idempotency: {
          key: idempotencyKey,
          fingerprint,
          inFlightTtlMs: ctx.config.stockHoldMaxAgeMs,
        },
      }
    : {};
  const rateLimitMs = ctx.config.orderRateLimitMs;
  const reservationId = randomUUID();

  // The product and sale checks are decided first, from cached data, but answered only after
  // admission: API.md puts a replay and the rate limit before them.
  let lines: GateLine[] | undefined;
  let verdict: AppError | undefined;
  try {
    lines = await orderableLines(ctx, input.items);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    verdict = error;
  }

  // With the gate, admission and the reservation of every line are one round trip.
  const attempting = lines !== undefined && ctx.stockGateEnabled;
  const gateStarted = performance.now();
  const step = await gateCall<AdmitResult | AttemptResult>(() =>
    attempting
      ? ctx.gate.attempt({
          userId,
          rateLimitMs,
          ...idempotency,
          reservationId,
          lines: lines!,
          answerTtlMs: IDEMPOTENCY_TTL_SECONDS * 1000,
        })
      : ctx.gate.admit({ userId, rateLimitMs, reservationId, ...idempotency }),
  )
    .finally(() => observeGateCall(ctx.metrics, attempting, gateStarted))
    .catch((error: unknown) => {
      countOutcome(ctx, error);
      // The call may still run in Redis after this answer (a timeout): undo what it would take.
      undoAttempt(ctx, {
        userId,
        reservationId,
        key: idempotencyKey,
        lines: attempting ? lines : undefined,
      });
      throw error;
    });
  switch (step.kind) {
    case 'replay':
      return replay(ctx, userId, step.answer, { key: idempotencyKey!, fingerprint: fingerprint! });
    case 'rate_limited':
      ctx.metrics.orderOutcomes.inc({ outcome: 'rate_limited' });
      throw withoutStack(() => new RateLimitedError(step.retryAfterMs));
    case 'in_flight': {
      // The first request may have written its order and died before it could say so.
      const written = await getOrderByIdempotencyKey({ db: ctx.db, userId, key: idempotencyKey! });
      if (written) {
        ctx.metrics.orderOutcomes.inc({ outcome: 'replayed' });
        return { order: written, replayed: true };
      }
      ctx.metrics.orderOutcomes.inc({ outcome: 'idempotency_conflict' });
      throw new AppError(
        'idempotency_in_flight',
        'This request is still being processed; ask again in a moment.',
      );
    }
    case 'key_reused':
      ctx.metrics.orderOutcomes.inc({ outcome: 'idempotency_conflict' });
      throw new AppError(
        'idempotency_key_reused',
        'This Idempotency-Key was used for a different request.',
      );
  }

  // From here on this request owns its idempotency key.
  const created = async (order: OrderRecord): Promise<PlaceOrderResult> => {
    ctx.metrics.orderOutcomes.inc({ outcome: 'created' });
    ctx.metrics.unitsOrdered.inc(order.items.reduce((sum, item) => sum + item.quantity, 0));
    if (keyed) {
      await ctx.gate
        .remember({
          userId,
          key: idempotencyKey,
          fingerprint,
          answer: { status: 201, orderId: order.id },
          ttlMs: IDEMPOTENCY_TTL_SECONDS * 1000,
        })
        .catch((error: unknown) =>
          ctx.logger.warn({ err: error }, 'idempotency answer not cached'),
        );
    }
    return { order, replayed: false };
  };
  let answerStored = false;
  try {
    if (verdict) throw verdict;
    if (step.kind === 'refused' && step.refusal.reason !== 'missing') {
      // Insufficient stock or over the cap: the gate kept this answer for the key already.
      answerStored = step.refusal.reason !== 'duplicate';
      throw gateRefusalError(step.refusal, lines!);
    }
    return await created(
      await decreaseStock({
        ctx,
        input: { userId, reservationId, lines: lines!, ...idempotency },
        reserved: step.kind === 'reserved',
      }),
    );
  } catch (error) {
    if (error instanceof OrderAlreadyWrittenError) {
      const written = await getOrderByReservation({ db: ctx.db, reservationId });
      if (written) return created(written);
    }
    if (error instanceof DuplicateOrderError) {
      // The cache had lost this key, the database had not: answer the order made the first time.
      const existing = await getOrderByIdempotencyKey({
        db: ctx.db,
        userId,
        key: error.idempotencyKey,
      });
      if (existing) {
        ctx.metrics.orderOutcomes.inc({ outcome: 'replayed' });
        return { order: existing, replayed: true };
      }
    }
    countOutcome(ctx, error);
    if (keyed) {
      await settleRefusal(
        ctx,
        userId,
        idempotencyKey,
        fingerprint,
        reservationId,
        error,
        answerStored,
      );
    }
    throw error;
  }
}

/**
 * The gate did not answer the attempt in time. Redis may still run it (it was paused, say):
 * the hold it would record is given back and the key's in-flight marker dropped, by commands
 * sent on the same connection, so they run after it. If they cannot be sent, the hold ages out
 * and the marker expires (both within STOCK_HOLD_MAX_AGE_MS).
 */
function undoAttempt(
  ctx: AppContext,
  attempt: {
    userId: number;
    reservationId: string;
    key: string | undefined;
    lines: readonly GateLine[] | undefined;
  },
): void {
  const { userId, reservationId, key, lines } = attempt;
  const undo = async () => {
    if (lines) {
      await ctx.gate.giveBack({ reservationId, productIds: lines.map((line) => line.productId) });
    }
    if (key !== undefined) await ctx.gate.forget({ userId, key, reservationId });
  };
  undo().catch((error: unknown) =>
    ctx.logger.debug({ err: error, reservationId }, 'undoing an unanswered attempt failed'),
  );
}

/** A keyed request that failed: a final answer is kept for replays, a retryable one is not. */
async function settleRefusal(
  ctx: AppContext,
  userId: number,
  key: string,
  fingerprint: string,
  reservationId: string,
  error: unknown,
  /** The gate kept the answer already (in the attempt's round trip). */
  answerStored: boolean,
): Promise<void> {
  try {
    if (error instanceof AppError && isFinalRefusal(error)) {
      const body = { error: { code: error.code, message: error.message, details: error.details } };
      if (!answerStored) {
        await ctx.gate.remember({
          userId,
          key,
          fingerprint,
          answer: { status: error.status, body },
          ttlMs: IDEMPOTENCY_TTL_SECONDS * 1000,
        });
      }
      ctx.idempotencyLog.record({ userId, key, fingerprint, status: error.status, body });
    } else {
      await ctx.gate.forget({ userId, key, reservationId });
    }
  } catch (cacheError) {
    // The in-flight marker expires on its own; nothing was sold.
    ctx.logger.warn({ err: cacheError }, 'idempotency state not updated');
  }
}

/** Refusals that would be the same if asked again; conflicts and outages are worth a retry. */
function isFinalRefusal(error: AppError): boolean {
  return (
    error.status >= 400 &&
    error.status < 500 &&
    !(error instanceof StockConflictError) &&
    !(error instanceof RateLimitedError)
  );
}

async function replay(
  ctx: AppContext,
  userId: number,
  answer: StoredAnswer,
  { key, fingerprint }: { key: string; fingerprint: string },
): Promise<PlaceOrderResult> {
  ctx.metrics.orderOutcomes.inc({ outcome: 'replayed' });
  if ('refusal' in answer) {
    // Kept by the gate script itself, possibly for an attempt whose own answer never left
    // (Redis ran it after the API had given up): recorded in PostgreSQL now, if it was not.
    const error = storedRefusalError(answer);
    ctx.idempotencyLog.record({
      userId,
      key,
      fingerprint,
      status: error.status,
      body: { error: { code: error.code, message: error.message, details: error.details } },
    });
    throw error;
  }
  if (answer.orderId !== undefined) {
    const order = await getOrderForUser({ db: ctx.db, orderId: answer.orderId, userId });
    if (order) return { order, replayed: true };
    throw new Error(`idempotency answer names order ${answer.orderId}, which is gone`);
  }
  const stored = (
    answer.body as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    }
  )?.error;
  throw new AppError(
    (stored?.code ?? 'internal_error') as AppError['code'],
    stored?.message ?? 'Earlier answer.',
    stored?.details,
  );
}

/** Sale checks on cached product data: existence, activity, the sale window, one currency. */
async function orderableLines(
  ctx: AppContext,
  items: readonly OrderLineInput[],
): Promise<GateLine[]> {
  const products = await ctx.catalog.get(items.map((item) => item.product_id));
  // API.md's order: every product must exist before any sale window is looked at.
  for (const item of items) {
    const product = products.get(item.product_id);
    if (!product || !product.isActive) throw new ProductNotFoundError(item.product_id);
  }
  const now = Date.now();
  const lines: GateLine[] = [];
  for (const item of items) {
    const product = products.get(item.product_id)!;
    checkSaleWindow(product, now);
    lines.push({
      productId: product.id,
      quantity: item.quantity,
      limit: product.sale?.maxPerUser ?? null,
    });
  }
  const currencies = new Set(items.map((item) => products.get(item.product_id)!.currency));
  if (currencies.size > 1) {
    throw new ValidationError([
      { path: 'body.items', message: 'all items must share one currency' },
    ]);
  }
  return lines;
}

function checkSaleWindow(product: CatalogProduct, now: number): void {
  const sale = product.sale;
  if (!sale) return;
  if (now < sale.startsAt.getTime()) {
    throw new AppError('sale_not_started', `The sale of ${product.name} has not started yet.`, {
      product_id: product.id,
      starts_at: sale.startsAt.toISOString(),
    });
  }
  if (sale.endsAt && now >= sale.endsAt.getTime()) {
    throw new AppError('sale_ended', `The sale of ${product.name} has ended.`, {
      product_id: product.id,
      ended_at: sale.endsAt.toISOString(),
    });
  }
}

/** Same key, same request: the canonical body (lines in product order) hashed. */
export function fingerprintOf(items: readonly OrderLineInput[]): string {
  const canonical = [...items]
    .sort((a, b) => a.product_id - b.product_id)
    .map((item) => `${item.product_id}x${item.quantity}`)
    .join(',');
  return createHash('sha256').update(`POST /api/orders ${canonical}`).digest('hex');
}

function countOutcome(ctx: AppContext, error: unknown): void {
  ctx.metrics.orderOutcomes.inc({ outcome: outcomeOf(error) });
}

function outcomeOf(error: unknown): OrderOutcome {
  if (error instanceof InsufficientStockError) return 'sold_out';
  if (error instanceof PurchaseLimitError) return 'purchase_limit';
  if (error instanceof RateLimitedError) return 'rate_limited';
  if (error instanceof StockConflictError) return 'stock_conflict';
  if (error instanceof StockUnavailableError) return 'stock_unavailable';
  if (error instanceof ProductNotFoundError) return 'not_found';
  if (isDatabaseUnavailable(error) || isDatabaseTimeout(error)) return 'database_unavailable';
  if (error instanceof AppError) {
    if (error.code === 'sale_not_started' || error.code === 'sale_ended') return 'sale_closed';
    if (error.code === 'validation_failed') return 'invalid';
  }
  return 'error';
}

/** Pay an order before its deadline. */
export async function payOrder({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { userId: number; orderId: number };
}): Promise<OrderRecord> {
  const paid = await ctx.db.execute<{ id: number }>(sql`
    UPDATE orders SET status = 'paid', paid_at = now()
    WHERE id = ${input.orderId} AND user_id = ${input.userId}
      AND status = 'pending_payment' AND expires_at > now()
    RETURNING id`);
  if (paid.rowCount === 0) {
    const current = await getOrderForUser({ db: ctx.db, ...input });
    if (!current) throw new OrderNotFoundError(input.orderId);
    if (current.status === 'pending_payment') {
      // Past its deadline but not yet swept: expire it now, so its stock returns at once.
      await expireDueOrders({ ctx, orderIds: [input.orderId] });
      throw new InvalidOrderStateError(input.orderId, 'expired', 'paid');
    }
    throw new InvalidOrderStateError(input.orderId, current.status, 'paid');
  }
  return (await getOrderForUser({ db: ctx.db, ...input }))!;
}

/**
 * Cancel an order (unpaid or paid) and put its stock back. The guarded status change and the
 * restore share one transaction, so however many cancels and expiries race, the stock returns
 * once.
 */
export async function cancelOrder({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { userId: number; orderId: number };
}): Promise<OrderRecord> {
  const from = statusesThatCanBecome('cancelled');
  const credits = await withTransaction(ctx.db, async (tx) => {
    const cancelled = await tx.execute<{ id: number; user_id: number }>(sql`
      UPDATE orders SET status = 'cancelled', cancelled_at = now()
      WHERE id = ${input.orderId} AND user_id = ${input.userId}
        AND status = ANY(${sql.param(from)}::order_status[])
      RETURNING id, user_id`);
    if (cancelled.rowCount === 0) return undefined;
    return restoreStock({
      tx,
      input: { orders: [{ id: input.orderId, userId: input.userId }], cause: 'cancel' },
    });
  });
  if (!credits) {
    const current = await getOrderForUser({ db: ctx.db, ...input });
    if (!current) throw new OrderNotFoundError(input.orderId);
    throw new InvalidOrderStateError(input.orderId, current.status, 'cancelled');
  }
  await creditGate({ ctx, credits, cause: 'cancel' });
  return (await getOrderForUser({ db: ctx.db, ...input }))!;
}

/**
 * Expire unpaid orders past their deadline and return their stock. Safe with several API
 * processes: each takes the due orders no one else holds (`FOR UPDATE SKIP LOCKED`).
 * Returns how many orders expired.
 */
export async function expireDueOrders({
  ctx,
  limit = 500,
  orderIds,
}: {
  ctx: AppContext;
  limit?: number;
  /** Only these orders (when a late payment finds one past its deadline). */
  orderIds?: readonly number[];
}): Promise<number> {
  const only = orderIds ? sql`AND id = ANY(${sql.param(orderIds)}::int[])` : sql``;
  const result = await withTransaction(ctx.db, async (tx) => {
    const expired = await tx.execute<{ id: number; user_id: number; late_s: number }>(sql`
      WITH due AS (
        SELECT id FROM orders
        WHERE status = 'pending_payment' AND expires_at <= now() ${only}
        ORDER BY expires_at LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE orders o SET status = 'expired', expired_at = now()
      FROM due WHERE o.id = due.id
      RETURNING o.id, o.user_id, EXTRACT(EPOCH FROM o.expired_at - o.expires_at)::float8 AS late_s`);
    const credits = await restoreStock({
      tx,
      input: {
        orders: expired.rows.map((row) => ({ id: row.id, userId: row.user_id })),
        cause: 'expiry',
      },
    });
    return { rows: expired.rows, credits };
  });
  for (const row of result.rows) ctx.metrics.expiryLateness.observe(Math.max(0, row.late_s));
  ctx.metrics.ordersExpired.inc(result.rows.length);
  await creditGate({ ctx, credits: result.credits, cause: 'expiry' });
  return result.rows.length;
}
