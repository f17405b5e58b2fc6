import { eq } from 'drizzle-orm';
import type { QueueStatus, QueueView } from '@stampede/contract';
import type { AppContext, DbContext } from '../../context.ts';
import { queueSettings } from '../../db/schema.ts';
import { AppError, ProductNotFoundError, QueueUnavailableError } from '../../lib/errors.ts';
import type { CatalogProduct } from '../products/selectors.ts';
import type { QueueConfig } from './board.ts';
import { DEFAULT_QUEUE, passRequired, queueStateOf, queueTimes } from './state.ts';
import { signTicket, verifyTicket } from './tickets.ts';

type QueueRow = typeof queueSettings.$inferSelect;

const toConfig = (row: QueueRow): QueueConfig => ({
  productId: row.productId,
  enabled: row.enabled,
  opensBeforeSeconds: row.opensBeforeSeconds,
  admitPerMinute: row.admitPerMinute,
  maxActive: row.maxActive,
  inventoryFactor: row.inventoryFactor,
  passTtlSeconds: row.passTtlSeconds,
  paused: row.paused,
});

/** The stored settings of one product's queue (the board's loader; callers use the board). */
export async function getQueueConfig({
  db,
  productId,
}: DbContext & { productId: number }): Promise<QueueConfig | null> {
  const [row] = await db.select().from(queueSettings).where(eq(queueSettings.productId, productId));
  return row ? toConfig(row) : null;
}

/** Every queue switched on (the tickers' list). */
export async function getEnabledQueues({ db }: DbContext): Promise<QueueConfig[]> {
  const rows = await db.select().from(queueSettings).where(eq(queueSettings.enabled, true));
  return rows.map(toConfig);
}

/** A product on the shop (active), from the product cache, or 404. */
export async function getQueuedProduct({
  ctx,
  input: { productId },
}: {
  ctx: AppContext;
  input: { productId: number };
}): Promise<CatalogProduct> {
  const product = (await ctx.productCache.get([productId])).get(productId);
  if (!product || !product.isActive) throw new ProductNotFoundError(productId);
  return product;
}

/** Units left of a queued product: the in-process sold-out edge first, then the board's cache. */
async function unitsLeftOf(ctx: AppContext, product: CatalogProduct): Promise<number> {
  if (ctx.soldOut.soldOut(product.id)) return 0;
  try {
    return await ctx.queueBoard.unitsLeft(product.id, product.stockBuckets);
  } catch (error) {
    throw new QueueUnavailableError(error);
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * A buyer's place, cheap enough to poll: the settings, the product and the units left come from
 * this process's memory (a second old at most; the units a quarter of a second), the buyer's
 * record from one script on the queue's slot. A ticket sent with the poll (`X-Queue-Ticket`) is
 * checked here and, when the queue does not know the buyer (Redis lost it), puts them back at
 * its place. A ticket that is not this buyer's, or not well signed, is ignored.
 */
export async function getQueueStatus({
  ctx,
  input: { productId, userId, ticket },
}: {
  ctx: AppContext;
  input: { productId: number; userId: number; ticket?: string };
}): Promise<QueueStatus> {
  const product = await getQueuedProduct({ ctx, input: { productId } });
  const config = await ctx.queueBoard.configOf(productId);
  const now = Date.now();
  const { startsAt } = queueTimes(config ?? DEFAULT_QUEUE, product);
  const base = {
    product_id: productId,
    place: null,
    ahead: null,
    estimated_wait_seconds: null,
    pass_expires_at: null,
    starts_at: iso(startsAt),
  };
  if (!config?.enabled) {
    return {
      ...base,
      state: 'not_joined',
      queue_state: 'off',
      poll_after_ms: 10_000,
      ticket: null,
    };
  }
  const units = await unitsLeftOf(ctx, product);
  const queueState = queueStateOf(config, product, now, units);
  const verified = ticket
    ? verifyTicket(ctx.queueBoard.secret, ticket, { userId, productId })
    : undefined;
  let record;
  try {
    record = await ctx.queue.status({
      productId,
      userId,
      now,
      ...(verified ? { ticket: { score: verified.score, joinedAt: verified.joinedAt } } : {}),
    });
  } catch (error) {
    throw new QueueUnavailableError(error);
  }
  if (!record.joined) {
    return {
      ...base,
      state: 'not_joined',
      queue_state: queueState,
      poll_after_ms: 5000,
      ticket: null,
    };
  }
  if (record.restored) ctx.logger.debug({ productId, userId }, 'queue place restored from ticket');
  // The ticket sent is answered back when it is the one the queue holds (no second signature).
  const signed =
    ticket && verified?.score === record.score && verified.joinedAt === record.joinedAt
      ? ticket
      : signTicket(ctx.queueBoard.secret, {
          userId,
          productId,
          joinedAt: record.joinedAt,
          score: record.score,
        });
  const common = { ...base, queue_state: queueState, ticket: signed };
  if (record.passExpiresAt !== null) {
    const live = record.passExpiresAt > now;
    return {
      ...common,
      state: live ? 'admitted' : 'pass_expired',
      pass_expires_at: iso(record.passExpiresAt),
      poll_after_ms: live ? Math.min(10_000, Math.max(1000, record.passExpiresAt - now)) : 30_000,
    };
  }
  if (queueState === 'closed') return { ...common, state: 'closed', poll_after_ms: 60_000 };
  if (queueState === 'pre_queue') {
    const untilStart = (startsAt ?? now) - now;
    return {
      ...common,
      state: 'pre_queue',
      poll_after_ms: Math.min(5000, Math.max(500, untilStart)),
    };
  }
  const place = record.rank === null ? null : record.rank + 1;
  const ahead = record.rank;
  if (queueState === 'sold_out') {
    return { ...common, state: 'sold_out', place, ahead, poll_after_ms: 5000 };
  }
  // The measured rate (passes of the last minute) is what the wait will be; with none measured
  // yet, or paused, there is no honest estimate.
  const perMinute = record.admittedLastMinute;
  const estimate =
    queueState === 'admitting' && ahead !== null && perMinute > 0
      ? Math.ceil(((ahead + 1) / perMinute) * 60)
      : null;
  return {
    ...common,
    state: 'waiting',
    place,
    ahead,
    estimated_wait_seconds: estimate,
    poll_after_ms: place !== null && place <= 100 ? 1000 : 3000,
  };
}

/** The operator's view: the settings (defaults when never set) and the queue's figures now. */
export async function getQueueView({
  ctx,
  input: { productId },
}: {
  ctx: AppContext;
  input: { productId: number };
}): Promise<QueueView> {
  const product = (await ctx.productCache.get([productId])).get(productId);
  if (!product) throw new ProductNotFoundError(productId);
  const config = (await getQueueConfig({ db: ctx.db, productId })) ?? {
    productId,
    ...DEFAULT_QUEUE,
  };
  const now = Date.now();
  let units: number;
  let figures;
  try {
    units = await ctx.queueBoard.unitsLeft(productId, product.stockBuckets);
    figures = await ctx.queue.figures(productId, now);
  } catch (error) {
    throw new QueueUnavailableError(error);
  }
  const { opensAt, startsAt } = queueTimes(config, product);
  return {
    product_id: productId,
    enabled: config.enabled,
    opens_before_seconds: config.opensBeforeSeconds,
    admit_per_minute: config.admitPerMinute,
    max_active: config.maxActive,
    inventory_factor: config.inventoryFactor,
    pass_ttl_seconds: config.passTtlSeconds,
    paused: config.paused,
    state: queueStateOf(config, product, now, units),
    opens_at: iso(opensAt),
    starts_at: iso(startsAt),
    waiting: figures.waiting,
    active: figures.active,
    admitted_total: figures.admittedTotal,
    units_left: units,
    measured_admit_per_minute: figures.admittedLastMinute,
  };
}

/**
 * The order path's extra step for a product whose sale runs under a queue: the buyer must hold
 * a live pass for it. Undefined when the order may go on; the refusal otherwise. Its place in
 * the order of checks is the sale window's (README, "How an order is decided"): after the key's
 * replay and the rate limit, before the cap and the stock; it is never kept as a key's answer.
 */
export async function checkQueuePass({
  ctx,
  input: { userId, product, now },
}: {
  ctx: AppContext;
  input: { userId: number; product: CatalogProduct; now: number };
}): Promise<AppError | undefined> {
  const config = await ctx.queueBoard.configOf(product.id);
  if (!passRequired(config, product, now)) return undefined;
  let expiresAt: number | null;
  try {
    expiresAt = await ctx.queue.passOf(product.id, userId);
  } catch (error) {
    return new QueueUnavailableError(error);
  }
  if (expiresAt !== null && expiresAt > now) return undefined;
  return new AppError(
    'queue_pass_required',
    expiresAt === null
      ? `The sale of ${product.name} runs through a waiting room: join it to get a pass.`
      : `Your pass for ${product.name} has expired.`,
    { product_id: product.id },
  );
}
