import type {
  QueueChallenge,
  QueueSettingsInput,
  QueueStatus,
  QueueView,
} from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import { queueSettings } from '../../db/schema.ts';
import {
  AppError,
  ProductNotFoundError,
  QueueUnavailableError,
  RateLimitedError,
  StockUnavailableError,
} from '../../lib/errors.ts';
import { checkSolution, issueChallenge } from './challenge.ts';
import { getQueuedProduct, getQueueStatus, getQueueView } from './selectors.ts';
import { passRequired, queueStateOf, queueTimes } from './state.ts';
import { placeScore, signTicket } from './tickets.ts';

/** States in which a buyer may join: the pre-queue and the sale (paused or sold out too). */
const JOINABLE = new Set(['pre_queue', 'admitting', 'paused', 'sold_out']);

function queueClosed(productId: number, state: string): AppError {
  return new AppError(
    'queue_closed',
    state === 'not_open'
      ? 'The waiting room for this sale is not open yet.'
      : 'There is no waiting room open for this sale.',
    { product_id: productId, queue_state: state },
  );
}

async function joinableState(ctx: AppContext, productId: number) {
  const product = await getQueuedProduct({ ctx, input: { productId } });
  const config = await ctx.queueBoard.configOf(productId);
  const now = Date.now();
  let units = 0;
  if (config?.enabled) {
    try {
      units = await ctx.queueBoard.unitsLeft(productId, product.stockBuckets);
    } catch (error) {
      throw new QueueUnavailableError(error);
    }
  }
  const state = queueStateOf(config, product, now, units);
  return { product, config, now, state };
}

/** A proof-of-work challenge for joining this sale's queue, bound to the buyer and the sale. */
export async function issueQueueChallenge({
  ctx,
  input: { productId, userId },
}: {
  ctx: AppContext;
  input: { productId: number; userId: number };
}): Promise<QueueChallenge> {
  const { state, now } = await joinableState(ctx, productId);
  if (state === 'off' || state === 'closed') throw queueClosed(productId, state);
  return issueChallenge({
    secret: ctx.queueBoard.secret,
    userId,
    productId,
    maxNumber: ctx.config.queue.challengeMaxNumber,
    ttlSeconds: ctx.config.queue.challengeTtlSeconds,
    now,
  });
}

/**
 * Join a sale's queue: 429 for an address over its joins a minute, 404 for no such product, 409 queue_closed outside the pre-queue and the
 * sale, 400 challenge_failed for a solution that is wrong, expired, someone else's or used
 * already. One place per account and sale: joining again answers the first place (`created`
 * false). During the pre-queue the place is a random draw; after the start, arrival order.
 */
export async function joinQueue({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { productId: number; userId: number; altcha: string; ip?: string };
}): Promise<{ status: QueueStatus; created: boolean }> {
  if (input.ip !== undefined) {
    const counted = await ctx.joinLimiter.acquire(input.ip);
    if (!counted.allowed) {
      ctx.metrics.queueJoins.inc({ outcome: 'rate_limited' });
      throw new RateLimitedError(
        counted.retryAfterMs,
        'Too many waiting-room joins from this address; try again in a moment.',
      );
    }
  }
  const { productId, userId, altcha } = input;
  const { product, config, now, state } = await joinableState(ctx, productId);
  if (!config || !JOINABLE.has(state)) {
    ctx.metrics.queueJoins.inc({ outcome: 'closed' });
    throw queueClosed(productId, state);
  }
  const solved = await checkSolution({
    secret: ctx.queueBoard.secret,
    payload: altcha,
    userId,
    productId,
  });
  const challengeFailed = (reason: string) => {
    ctx.metrics.queueJoins.inc({ outcome: 'challenge_failed' });
    return new AppError('challenge_failed', 'The proof of work is not valid; ask for a new one.', {
      reason,
    });
  };
  if (!solved) throw challengeFailed('invalid');
  let joined;
  try {
    if (!(await ctx.queue.spendChallenge(solved.signature, Math.max(1, solved.expiresAt - now)))) {
      throw challengeFailed('used');
    }
    joined = await ctx.queue.join({
      productId,
      userId,
      score: placeScore(now, queueTimes(config, product).startsAt),
      joinedAt: now,
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new QueueUnavailableError(error);
  }
  ctx.metrics.queueJoins.inc({ outcome: joined.added ? 'joined' : 'already_joined' });
  const ticket = signTicket(ctx.queueBoard.secret, {
    userId,
    productId,
    joinedAt: joined.joinedAt,
    score: joined.score,
  });
  const status = await getQueueStatus({ ctx, input: { productId, userId, ticket } });
  return { status, created: joined.added };
}

/** The operator sets a queue (created with the product's first PUT); live within a second. */
export async function updateQueueSettings({
  ctx,
  input: { productId, settings },
}: {
  ctx: AppContext;
  input: { productId: number; settings: QueueSettingsInput };
}): Promise<QueueView> {
  const product = (await ctx.productCache.get([productId])).get(productId);
  if (!product) throw new ProductNotFoundError(productId);
  const values = {
    enabled: settings.enabled,
    opensBeforeSeconds: settings.opens_before_seconds,
    admitPerMinute: settings.admit_per_minute,
    maxActive: settings.max_active,
    inventoryFactor: settings.inventory_factor,
    passTtlSeconds: settings.pass_ttl_seconds,
    paused: settings.paused,
    updatedAt: new Date(),
  };
  await ctx.db
    .insert(queueSettings)
    .values({ productId, ...values })
    .onConflictDoUpdate({ target: queueSettings.productId, set: values });
  ctx.queueBoard.invalidate();
  return getQueueView({ ctx, input: { productId } });
}

/**
 * One admission step over every queue switched on, run by each process's ticker: the step
 * itself is one script on the queue's slot with the rate's token bucket in it, so processes
 * share the rate. The bound on live passes is the units left (the gate's count) times the
 * operator's factor, rounded up: zero units, zero new passes, and admission resumes by itself
 * when units return.
 */
export async function admitFromQueues({ ctx }: { ctx: AppContext }): Promise<number> {
  const queues = await ctx.queueBoard.enabled();
  ctx.queueBoard.retain(new Set(queues.map((q) => q.productId)));
  let admitted = 0;
  for (const config of queues) {
    const product = (await ctx.productCache.get([config.productId])).get(config.productId);
    if (!product || !product.isActive) continue;
    const now = Date.now();
    let outcome;
    let room: boolean;
    try {
      const units = ctx.soldOut.soldOut(product.id)
        ? 0
        : await ctx.queueBoard.unitsNow(product.id, product.stockBuckets);
      const state = queueStateOf(config, product, now, units);
      const bound = Math.ceil(Math.max(0, units) * config.inventoryFactor);
      outcome = await ctx.queue.admit(product.id, {
        now,
        perMinute: config.admitPerMinute,
        maxActive: config.maxActive ?? 0,
        bound,
        passTtlMs: config.passTtlSeconds * 1000,
        open: state === 'admitting',
      });
      room =
        state === 'admitting' &&
        outcome.active < bound &&
        (config.maxActive === null || outcome.active < config.maxActive);
    } catch (error) {
      // Redis away: the job's failure handler tells the outage once, not every tick.
      throw error instanceof AppError ? error : new StockUnavailableError(error);
    }
    ctx.metrics.queuePassesIssued.inc(outcome.admitted);
    ctx.metrics.queuePassesExpired.inc(outcome.expired);
    // Buyers waiting while the queue could take them: passes should follow within the minute.
    ctx.queueBoard.observe(product.id, {
      waiting: outcome.waiting,
      active: outcome.active,
      waitingWithRoom: room ? outcome.waiting : 0,
    });
    admitted += outcome.admitted;
  }
  return admitted;
}

/**
 * The buyer ordered these products: a pass spent on an order stops counting as active, so the
 * next buyer is let in (the pass still lets its holder order until it expires, within the cap).
 */
export async function spendQueuePasses({
  ctx,
  input: { userId, productIds },
}: {
  ctx: AppContext;
  input: { userId: number; productIds: readonly number[] };
}): Promise<void> {
  const products = await ctx.productCache.get(productIds);
  const now = Date.now();
  for (const productId of productIds) {
    const product = products.get(productId);
    if (!product) continue;
    if (!passRequired(await ctx.queueBoard.configOf(productId), product, now)) continue;
    await ctx.queue.spend(productId, userId);
  }
}
