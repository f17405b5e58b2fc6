import { randomUUID } from 'node:crypto';
import type { OrderLineInput } from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import {
  AppError,
  DuplicateOrderError,
  InsufficientStockError,
  OrderAlreadyWrittenError,
  ProductNotFoundError,
  PurchaseLimitError,
  RateLimitedError,
  StockConflictError,
  StockUnavailableError,
  ValidationError,
  withoutStack,
} from '../../lib/errors.ts';
import { isDatabaseTimeout, isDatabaseUnavailable } from '../../lib/pg-errors.ts';
import type { OrderOutcome } from '../../observability/metrics.ts';
import type { CatalogProduct } from '../products/selectors.ts';
import { checkQueuePass } from '../queue/selectors.ts';
import { spendQueuePasses } from '../queue/services.ts';
import {
  gateRefusalError,
  holdOf,
  reserveStock,
  type AdmitResult,
  type AttemptResult,
  type GateLine,
  type Hold,
} from '../stock/services.ts';
import {
  fingerprintOf,
  freeKey,
  IDEMPOTENCY_TTL_SECONDS,
  isFinalRefusal,
  keepFirstAnswer,
  keepOrder,
  keepRefusal,
  orderOfKey,
  replayAnswer,
  type OrderRequest,
} from './idempotency.ts';
import { getOrderByReservation } from './selectors.ts';
import type { OrderRecord } from './types.ts';

export interface PlaceOrderResult {
  readonly order: OrderRecord;
  /** True when this is an earlier answer returned again for the same Idempotency-Key. */
  readonly replayed: boolean;
}

/** How an attempt ended, before it is answered. */
type Decision =
  /** This request wrote the order. */
  | { readonly kind: 'created'; readonly order: OrderRecord }
  /** An earlier answer of the key: its order. */
  | { readonly kind: 'replayed'; readonly order: OrderRecord }
  /** This request's refusal (final ones become the key's answer); `keptInGate`: already is. */
  | { readonly kind: 'refused'; readonly error: unknown; readonly keptInGate: boolean }
  /** Turned away before the key was this request's (rate limit, in flight, reused, replayed). */
  | { readonly kind: 'turned_away'; readonly error: AppError; readonly outcome: OrderOutcome };

type Reserved = Decision | { readonly kind: 'held'; readonly hold: Hold };

/**
 * Place an order, as README's "How an order is decided" tells it:
 *   1. check the lines (product, sale window, one currency) on cached data: decided now,
 *      answered after step 2, which API.md puts first; a product this process knows to be sold
 *      out is answered here, from memory (the sold-out edge);
 *   2. admit and reserve: the key's earlier answer, the rate limit, every line's cap and stock,
 *      in one gate step that leaves a hold;
 *   3. write the order, or give the hold back;
 *   4. remember the answer (the key keeps it), count it, give it.
 */
export async function placeOrder({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { userId: number; items: readonly OrderLineInput[]; idempotencyKey?: string };
}): Promise<PlaceOrderResult> {
  const request: OrderRequest = {
    userId: input.userId,
    reservationId: randomUUID(),
    ...(input.idempotencyKey === undefined
      ? {}
      : { idempotency: { key: input.idempotencyKey, fingerprint: fingerprintOf(input.items) } }),
  };
  const checked = await checkLines(ctx, input.userId, input.items);
  const edge = 'lines' in checked ? await soldOutEdge(ctx, request, checked.lines) : undefined;
  if (edge) return answer(ctx, request, edge);
  const reserved = await admitAndReserve(ctx, request, checked);
  const decision =
    reserved.kind === 'held' ? await writeOrGiveBack(ctx, request, reserved.hold) : reserved;
  return answer(ctx, request, decision);
}

type Checked = { readonly lines: GateLine[] } | { readonly refusal: AppError };

/**
 * Step 1: existence, activity, the sale window, one currency, on cached product data; then, for
 * a product sold through a waiting room, the buyer's pass (one Redis read on the queue's slot).
 */
async function checkLines(
  ctx: AppContext,
  userId: number,
  items: readonly OrderLineInput[],
): Promise<Checked> {
  const products = await ctx.productCache.get(items.map((item) => item.product_id));
  // API.md's order: every product must exist before any sale window is looked at.
  for (const item of items) {
    const product = products.get(item.product_id);
    if (!product || !product.isActive) {
      return { refusal: new ProductNotFoundError(item.product_id) };
    }
  }
  const now = Date.now();
  const lines: GateLine[] = [];
  for (const item of items) {
    const product = products.get(item.product_id)!;
    const closed = saleClosed(product, now);
    if (closed) return { refusal: closed };
    lines.push({
      productId: product.id,
      quantity: item.quantity,
      limit: product.sale?.maxPerUser ?? null,
      buckets: product.stockBuckets,
    });
  }
  const currencies = new Set(items.map((item) => products.get(item.product_id)!.currency));
  if (currencies.size > 1) {
    return {
      refusal: new ValidationError([
        { path: 'body.items', message: 'all items must share one currency' },
      ]),
    };
  }
  for (const item of items) {
    const product = products.get(item.product_id)!;
    const refusal = await checkQueuePass({ ctx, input: { userId, product, now } });
    if (refusal) return { refusal };
  }
  return { lines };
}

function saleClosed(product: CatalogProduct, now: number): AppError | undefined {
  const sale = product.sale;
  if (!sale) return undefined;
  if (now < sale.startsAt.getTime()) {
    return new AppError('sale_not_started', `The sale of ${product.name} has not started yet.`, {
      product_id: product.id,
      starts_at: sale.startsAt.toISOString(),
    });
  }
  if (sale.endsAt && now >= sale.endsAt.getTime()) {
    return new AppError('sale_ended', `The sale of ${product.name} has ended.`, {
      product_id: product.id,
      ended_at: sale.endsAt.toISOString(),
    });
  }
  return undefined;
}

/**
 * The sold-out edge: a line's product that this process learnt is sold out (the gate said so a
 * moment ago, and no unit has come back since) is refused from memory, before the rate limit
 * and without a round trip for the stock. With an Idempotency-Key the refusal becomes the key's
 * answer, as a refusal of the gate would, in one write that only a key holding nothing takes; a
 * key that holds something (an order, a refusal, a request in flight) takes the whole path, so
 * that it is answered what it was answered.
 */
async function soldOutEdge(
  ctx: AppContext,
  request: OrderRequest,
  lines: readonly GateLine[],
): Promise<Decision | undefined> {
  const line = lines.find((l) => ctx.soldOut.soldOut(l.productId));
  if (!line) return undefined;
  const error = withoutStack(() => new InsufficientStockError(line.productId, line.quantity, 0));
  if (request.idempotency && !(await keepFirstAnswer(ctx, request, error))) return undefined;
  ctx.metrics.soldOutEdgeAnswers.inc();
  return { kind: 'turned_away', error, outcome: 'sold_out' };
}

/**
 * Step 2: the gate. Lines that passed step 1 are admitted and reserved in one step; lines that
 * did not are only admitted (a replay and the rate limit come first), then refused.
 */
async function admitAndReserve(
  ctx: AppContext,
  request: OrderRequest,
  checked: Checked,
): Promise<Reserved> {
  const admission = {
    userId: request.userId,
    rateLimitMs: ctx.config.orderRateLimitMs,
    reservationId: request.reservationId,
    ...(request.idempotency
      ? { idempotency: { ...request.idempotency, inFlightTtlMs: ctx.config.stockHoldMaxAgeMs } }
      : {}),
  };
  if ('refusal' in checked) {
    const admitted = await ctx.admission.admit(admission).catch((error: unknown) => error);
    if (!isAdmission(admitted)) return { kind: 'refused', error: admitted, keptInGate: false };
    if (admitted.kind === 'admitted') {
      return { kind: 'refused', error: checked.refusal, keptInGate: false };
    }
    return turnedAway(ctx, request, admitted);
  }
  const { lines } = checked;
  let result: AttemptResult;
  const soldOutMark = ctx.soldOut.mark();
  try {
    const started = performance.now();
    result = await ctx.admission.attempt(
      { ...admission, lines, answerTtlMs: IDEMPOTENCY_TTL_SECONDS * 1000 },
      ctx.stock,
    );
    ctx.metrics.gateLatency.observe({ operation: 'attempt' }, (performance.now() - started) / 1000);
  } catch (error) {
    // The gate did not answer; Redis may still run the call (it was paused, say). The hold
    // it would record is given back by a command on the same connection, so it runs after.
    if (error instanceof StockUnavailableError) undoHold(ctx, request, lines);
    return { kind: 'refused', error, keptInGate: false };
  }
  switch (result.kind) {
    case 'reserved':
      return { kind: 'held', hold: holdOf(ctx, { ...request, lines }) };
    case 'refused':
      if (result.refusal.reason === 'missing') return reserveAlone(ctx, request, lines);
      if (result.refusal.reason === 'insufficient' && result.refusal.available === 0) {
        ctx.soldOut.learn(result.refusal.productId, soldOutMark);
      }
      return {
        kind: 'refused',
        error: gateRefusalError(result.refusal, lines),
        // Stock and cap refusals are kept by the gate's own step.
        keptInGate: result.refusal.reason !== 'duplicate',
      };
    default:
      return turnedAway(ctx, request, result);
  }
}

function isAdmission(value: unknown): value is AdmitResult {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

/** Admission said no, or answered with what the key already answered. */
async function turnedAway(
  ctx: AppContext,
  request: OrderRequest,
  result: Exclude<AdmitResult, { kind: 'admitted' }>,
): Promise<Decision> {
  switch (result.kind) {
    case 'replay': {
      const earlier = await replayAnswer(ctx, request, result.answer);
      return 'order' in earlier
        ? { kind: 'replayed', order: earlier.order }
        : { kind: 'turned_away', error: earlier.error, outcome: 'replayed' };
    }
    case 'rate_limited':
      return {
        kind: 'turned_away',
        error: withoutStack(() => new RateLimitedError(result.retryAfterMs)),
        outcome: 'rate_limited',
      };
    case 'in_flight': {
      // The first request may have written its order and died before it could say so.
      const written = await orderOfKey(ctx, request);
      if (written) return { kind: 'replayed', order: written };
      return {
        kind: 'turned_away',
        error: new AppError(
          'idempotency_in_flight',
          'This request is still being processed; ask again in a moment.',
        ),
        outcome: 'idempotency_conflict',
      };
    }
    case 'key_reused':
      return {
        kind: 'turned_away',
        error: new AppError(
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different request.',
        ),
        outcome: 'idempotency_conflict',
      };
  }
}

/** A product the gate had no counter for: reserved again by the stock step, which repairs it. */
async function reserveAlone(
  ctx: AppContext,
  request: OrderRequest,
  lines: readonly GateLine[],
): Promise<Reserved> {
  try {
    const reserved = await reserveStock({ ctx, input: { ...request, lines } });
    return 'hold' in reserved
      ? { kind: 'held', hold: reserved.hold }
      : { kind: 'refused', error: reserved.refused, keptInGate: false };
  } catch (error) {
    return { kind: 'refused', error, keptInGate: false };
  }
}

function undoHold(ctx: AppContext, request: OrderRequest, lines: readonly GateLine[]): void {
  holdOf(ctx, { ...request, lines })
    .giveBack(new StockUnavailableError())
    .catch((error: unknown) =>
      ctx.logger.debug({ err: error }, 'undoing an unanswered attempt failed'),
    );
}

/** Step 3: the database writes the order, or the hold goes back (how, depends on why). */
async function writeOrGiveBack(
  ctx: AppContext,
  request: OrderRequest,
  hold: Hold,
): Promise<Decision> {
  try {
    const order = await ctx.writer.write({ ...request, lines: hold.lines });
    // Not waited for: the units are the order's; a release that fails is the sweep's to finish.
    void hold.release();
    return { kind: 'created', order };
  } catch (error) {
    await hold.giveBack(error);
    if (error instanceof OrderAlreadyWrittenError) {
      const written = await getOrderByReservation({
        ctx,
        input: { reservationId: request.reservationId },
      });
      if (written) return { kind: 'created', order: written };
    }
    if (error instanceof DuplicateOrderError) {
      // The gate had lost this key, the database had not: the order made the first time.
      const existing = await orderOfKey(ctx, request);
      if (existing) return { kind: 'replayed', order: existing };
    }
    return { kind: 'refused', error, keptInGate: false };
  }
}

/** Step 4: what the key keeps, what is counted, what is answered. */
async function answer(
  ctx: AppContext,
  request: OrderRequest,
  decision: Decision,
): Promise<PlaceOrderResult> {
  ctx.metrics.orderOutcomes.inc({ outcome: outcomeOf(decision) });
  switch (decision.kind) {
    case 'created':
      ctx.metrics.unitsOrdered.inc(decision.order.items.reduce((sum, i) => sum + i.quantity, 0));
      await keepOrder(ctx, request, decision.order);
      spendPasses(ctx, request.userId, decision.order);
      return { order: decision.order, replayed: false };
    case 'replayed':
      return { order: decision.order, replayed: true };
    case 'turned_away':
      throw decision.error;
    case 'refused':
      if (isFinalRefusal(decision.error)) {
        await keepRefusal(ctx, request, decision.error, decision.keptInGate);
      } else {
        await freeKey(ctx, request);
      }
      throw decision.error;
  }
}

/** Not waited for: a pass not marked spent only counts as active until it expires. */
function spendPasses(ctx: AppContext, userId: number, order: OrderRecord): void {
  const productIds = order.items.map((item) => item.productId);
  spendQueuePasses({ ctx, input: { userId, productIds } }).catch((error: unknown) =>
    ctx.logger.debug({ err: error }, 'marking a queue pass spent failed'),
  );
}

function outcomeOf(decision: Decision): OrderOutcome {
  switch (decision.kind) {
    case 'created':
      return 'created';
    case 'replayed':
      return 'replayed';
    case 'turned_away':
      return decision.outcome;
    case 'refused':
      return outcomeOfError(decision.error);
  }
}

function outcomeOfError(error: unknown): OrderOutcome {
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
    if (error.code === 'queue_pass_required') return 'no_pass';
  }
  return 'error';
}
