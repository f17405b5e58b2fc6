import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { withTransaction, type Tx } from '../../db/transaction.ts';
import {
  type AppError,
  InsufficientStockError,
  ProductNotFoundError,
  PurchaseLimitError,
  RateLimitedError,
  StockUnavailableError,
  withoutStack,
} from '../../lib/errors.ts';
import { isDatabaseUnavailable } from '../../lib/pg-errors.ts';
import type { RestoreCause, SyncTrigger } from '../../observability/metrics.ts';
import type { OrderRecord } from '../orders/types.ts';
import {
  GateUnavailableError,
  storedRefusalOf,
  type GateCredit,
  type GateLine,
  type Refusal,
  type StoredRefusal,
  type SyncResult,
} from './gate/types.ts';
import { DuplicateOrderError, OrderAlreadyWrittenError, type OrderDraft } from './order-writer.ts';

/**
 * The stock path of DESIGN.md. The gate (Redis or in-process) answers most buyers without the
 * database; PostgreSQL is the truth and, with its conditional UPDATE and CHECK, never oversells
 * on its own.
 */

export interface DecreaseStockInput {
  readonly userId: number;
  readonly reservationId: string;
  /** One line per product; the limit is the product's `max_per_user`. */
  readonly lines: readonly GateLine[];
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

/**
 * Take the units of one order and write the order: the gate first (one atomic script for all
 * lines), then the database. Every reserve has its compensation on the failure path.
 */
export async function decreaseStock({
  ctx,
  input,
  reserved = false,
}: {
  ctx: AppContext;
  input: DecreaseStockInput;
  /** The gate already holds these lines (the order path's one-round-trip attempt took them). */
  reserved?: boolean;
}): Promise<OrderRecord> {
  const lines = [...input.lines].sort((a, b) => a.productId - b.productId);
  const draft: OrderDraft = { ...input, lines };
  if (!ctx.stockGateEnabled) return ctx.writer.write(draft);

  if (!reserved) await reserveInGate(ctx, input.reservationId, input.userId, lines);
  try {
    return await ctx.writer.write(draft);
  } catch (error) {
    await compensate(ctx, input.reservationId, lines, error);
    throw error;
  }
}

async function reserveInGate(
  ctx: AppContext,
  reservationId: string,
  userId: number,
  lines: readonly GateLine[],
): Promise<void> {
  await ctx.gateKeeper.ready();
  for (let attempt = 0; ; attempt += 1) {
    const started = performance.now();
    const result = await gateCall(() => ctx.gate.reserve({ reservationId, userId, lines }));
    ctx.metrics.gateLatency.observe({ operation: 'reserve' }, (performance.now() - started) / 1000);
    if (result.ok) return;
    if (result.reason !== 'missing') throw gateRefusalError(result, lines);
    // A product the gate has never seen (created elsewhere, or its key was lost): fill it from
    // the database, then try once more.
    if (attempt > 0) throw new StockUnavailableError();
    if (!(await gateCall(() => ctx.gateKeeper.repair(result.productId)))) {
      throw new ProductNotFoundError(result.productId);
    }
  }
}

/**
 * The answer to a gate refusal. Refusals are the common answer of a sale; they carry no stack
 * trace (nobody reads it, and capturing one per buyer is not free).
 */
export function gateRefusalError(refusal: Refusal, lines: readonly GateLine[]): Error {
  const line = lines.find((l) => l.productId === refusal.productId)!;
  const stored = storedRefusalOf(refusal, line);
  if (!stored) {
    return new Error(`reservation refused: ${refusal.reason} (product ${refusal.productId})`);
  }
  return withoutStack(() => storedRefusalError(stored));
}

/** A stock or cap refusal as an error: first answered, or kept for a key and answered again. */
export function storedRefusalError(stored: StoredRefusal): AppError {
  return stored.refusal === 'insufficient'
    ? new InsufficientStockError(stored.product_id, stored.requested, stored.value)
    : new PurchaseLimitError(stored.product_id, stored.limit, stored.value);
}

/** The database step failed: put the gate right. */
async function compensate(
  ctx: AppContext,
  reservationId: string,
  lines: readonly GateLine[],
  error: unknown,
): Promise<void> {
  const productIds = lines.map((line) => line.productId);
  try {
    if (error instanceof OrderAlreadyWrittenError) {
      // The units belong to the order the lost connection had already committed.
      await Promise.all(
        productIds.map((productId) =>
          ctx.gate.release({ productId, reservationIds: [reservationId] }),
        ),
      );
      return;
    }
    if (isDatabaseUnavailable(error)) {
      // The connection failed mid-transaction: the order may have been committed. The holds are
      // left for the next sync to settle against the database, marked so it does at once.
      await ctx.gate.abandon({ reservationId, productIds });
      ctx.metrics.gateCompensations.inc({ reason: 'database_unavailable' });
      return;
    }
    if (error instanceof InsufficientStockError) {
      // The database has fewer units than the gate believed: the hold is dropped without a
      // credit (crediting would re-open units that do not exist), and the sync sets the truth.
      await ctx.gate.release({ productId: error.productId, reservationIds: [reservationId] });
      await ctx.gate.giveBack({
        reservationId,
        productIds: productIds.filter((id) => id !== error.productId),
      });
      ctx.metrics.gateCompensations.inc({ reason: 'database_refused' });
      await syncStockToRedis({ ctx, productId: error.productId, trigger: 'repair' });
      return;
    }
    await ctx.gate.giveBack({ reservationId, productIds });
    const reason =
      error instanceof DuplicateOrderError
        ? 'duplicate'
        : error instanceof PurchaseLimitError
          ? 'purchase_limit'
          : 'database_failed';
    ctx.metrics.gateCompensations.inc({ reason });
    if (error instanceof PurchaseLimitError) {
      await syncStockToRedis({
        ctx,
        productId: error.details!.product_id as number,
        trigger: 'repair',
      });
    }
  } catch (compensationError) {
    // The gate is unreachable: the hold ages out and the next sync returns its units.
    ctx.logger.warn({ err: compensationError, reservationId }, 'gate compensation failed');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Put the units of orders back on sale, inside the transaction `tx` that has just moved those
 * orders out of a live status. The caller's guarded status change is what makes this happen
 * exactly once per order. Rows are locked in product_id order. Returns what to credit to the
 * gate after commit (`creditGate`).
 */
export async function restoreStock({
  tx,
  input,
}: {
  tx: Tx;
  input: { orders: readonly { id: number; userId: number }[]; cause: RestoreCause };
}): Promise<GateCredit[]> {
  if (input.orders.length === 0) return [];
  const ids = input.orders.map((order) => order.id);
  const items = await tx.execute<{ order_id: number; product_id: number; quantity: number }>(sql`
    SELECT order_id, product_id, quantity FROM order_items
    WHERE order_id = ANY(${sql.param(ids)}::int[])
    ORDER BY product_id, order_id`);
  const units = new Map<number, number>();
  for (const item of items.rows) {
    units.set(item.product_id, (units.get(item.product_id) ?? 0) + item.quantity);
  }
  // The version each update produced tells the gate whether a sync has counted the units.
  const versions = new Map<number, number>();
  for (const [productId, quantity] of [...units].sort(([a], [b]) => a - b)) {
    const updated = await tx.execute<{ version: number }>(sql`
      UPDATE stock SET available = available + ${quantity}, version = version + 1, updated_at = now()
      WHERE product_id = ${productId} RETURNING version`);
    versions.set(productId, updated.rows[0]!.version);
  }
  await tx.execute(sql`
    INSERT INTO stock_ledger (product_id, delta, cause, order_id)
    SELECT product_id, quantity, ${input.cause}::stock_change_cause, order_id FROM order_items
    WHERE order_id = ANY(${sql.param(ids)}::int[])`);
  const userOf = new Map(input.orders.map((order) => [order.id, order.userId]));
  const byOrder = new Map<number, GateCredit['lines'][number][]>();
  for (const item of items.rows) {
    const lines = byOrder.get(item.order_id) ?? [];
    const version = versions.get(item.product_id)!;
    lines.push({ productId: item.product_id, quantity: item.quantity, version });
    byOrder.set(item.order_id, lines);
  }
  return [...byOrder].map(([orderId, lines]) => ({ userId: userOf.get(orderId)!, lines }));
}

/** After the restore committed: the units go back on sale in the gate. */
export async function creditGate({
  ctx,
  credits,
  cause,
}: {
  ctx: AppContext;
  credits: readonly GateCredit[];
  cause: RestoreCause;
}): Promise<void> {
  for (const credit of credits) {
    ctx.metrics.stockRestores.inc({ cause });
    const units = credit.lines.reduce((sum, line) => sum + line.quantity, 0);
    ctx.metrics.unitsRestored.inc({ cause }, units);
    if (!ctx.stockGateEnabled) continue;
    try {
      await ctx.gate.credit(credit);
    } catch (error) {
      // The database holds the truth; the sweep finds the gap and brings the gate to it.
      ctx.logger.warn({ err: error }, 'gate credit failed; the sweep will repair it');
    }
  }
}

/**
 * Set the gate of one product from the database: available stock minus the holds still in
 * flight, in one script, while the stock row is locked so no order commits in between. Holds
 * whose orders are committed are dropped; holds older than any request can live are dropped
 * (that is how a crash between the gate and the database heals). Returns null when the
 * product does not exist.
 */
export async function syncStockToRedis({
  ctx,
  productId,
  trigger,
  caps = trigger === 'timer' ? 'keep' : 'rebuild',
}: {
  ctx: AppContext;
  productId: number;
  trigger: SyncTrigger;
  caps?: 'keep' | 'rebuild';
}): Promise<SyncResult | null> {
  if (!ctx.stockGateEnabled) return null;
  const result = await withTransaction(ctx.db, async (tx) => {
    const locked = await tx.execute<{
      available: number;
      version: number;
      max_per_user: number | null;
    }>(sql`
      SELECT s.available, s.version, p.max_per_user FROM stock s JOIN products p ON p.id = s.product_id
      WHERE s.product_id = ${productId} FOR SHARE OF s`);
    const row = locked.rows[0];
    if (!row) return null;
    const holds = await gateCall(() => ctx.gate.holds(productId));
    // Only ids that can be an order's: anything else in the hash is no committed order (and
    // would make the uuid cast fail).
    const candidates = holds.map((h) => h.reservationId).filter((id) => UUID.test(id));
    const committed = candidates.length
      ? (
          await tx.execute<{ reservation_id: string }>(sql`
            SELECT reservation_id FROM orders
            WHERE reservation_id = ANY(${sql.param(candidates)}::uuid[])`)
        ).rows.map((r) => r.reservation_id)
      : [];
    let capMode: Parameters<AppContext['gate']['sync']>[0]['caps'] = { mode: 'keep' };
    if (caps === 'rebuild') {
      if (row.max_per_user === null) {
        capMode = { mode: 'clear' };
      } else {
        const live = await tx.execute<{ user_id: number; units: number }>(sql`
          SELECT o.user_id, SUM(oi.quantity)::int AS units
          FROM order_items oi JOIN orders o ON o.id = oi.order_id
          WHERE oi.product_id = ${productId} AND o.status IN ('pending_payment', 'paid')
          GROUP BY o.user_id`);
        capMode = {
          mode: 'rebuild',
          liveUnitsByUser: new Map(live.rows.map((r) => [r.user_id, r.units])),
        };
      }
    }
    const started = performance.now();
    const synced = await gateCall(() =>
      ctx.gate.sync({
        productId,
        available: row.available,
        version: row.version,
        committed,
        maxHoldAgeMs: ctx.config.stockHoldMaxAgeMs,
        caps: capMode,
      }),
    );
    ctx.metrics.gateLatency.observe({ operation: 'sync' }, (performance.now() - started) / 1000);
    return synced;
  });
  ctx.metrics.syncRuns.inc({ trigger });
  if (result && result.previous !== null && result.previous !== result.current) {
    const drift = Math.abs(result.previous - result.current);
    ctx.metrics.syncDrift.inc({ trigger }, drift);
    ctx.logger.info(
      { productId, trigger, gate: result.previous, database: result.current, drift },
      'stock sync corrected drift',
    );
  }
  return result;
}

/** Sync every active product (or the given ones). Returns how many were synced and the drift. */
export async function bulkSyncStockToRedis({
  ctx,
  trigger,
  productIds,
}: {
  ctx: AppContext;
  trigger: SyncTrigger;
  productIds?: readonly number[];
}): Promise<{ synced: number; drift: number }> {
  if (!ctx.stockGateEnabled) return { synced: 0, drift: 0 };
  const ids =
    productIds ??
    (
      await ctx.db.execute<{ id: number }>(sql`
        SELECT p.id FROM products p JOIN stock s ON s.product_id = p.id
        WHERE p.is_active ORDER BY p.id`)
    ).rows.map((row) => row.id);
  let synced = 0;
  let drift = 0;
  for (const productId of ids) {
    const result = await syncStockToRedis({ ctx, productId, trigger });
    if (!result) continue;
    synced += 1;
    if (result.previous !== null) drift += Math.abs(result.previous - result.current);
  }
  return { synced, drift };
}

/** The sweep's lease: one process of many runs it each round. */
const SWEEP_LEASE = 'stock-sweep';

/**
 * The timed sweep (guarantee 2 without an operator): every active product's gate is checked
 * against the database, and synced where the gate has no counter, where counter and holds do
 * not add up to the database's units (a credit that never arrived, a hold whose order
 * committed), or where a hold is older than STOCK_HOLD_MAX_AGE_MS or was abandoned (its
 * request died or gave up). Whichever process dealt with a product, and whether or not it is
 * still alive, a dead hold is back on sale within STOCK_HOLD_MAX_AGE_MS plus one interval.
 * Checking costs one query and one gate round trip; only products that need it are synced.
 * Returns how many were synced (0 when another process holds the round's lease).
 */
export async function sweepStock({ ctx }: { ctx: AppContext }): Promise<number> {
  if (!ctx.stockGateEnabled) return 0;
  const { stockSyncIntervalMs, stockHoldMaxAgeMs } = ctx.config;
  // A little shorter than a round, so the process that held it can take it again next round.
  if (!(await gateCall(() => ctx.gate.lease(SWEEP_LEASE, stockSyncIntervalMs * 0.8)))) return 0;
  const { rows } = await ctx.db.execute<{ product_id: number; available: number }>(sql`
    SELECT s.product_id, s.available FROM stock s JOIN products p ON p.id = s.product_id
    WHERE p.is_active ORDER BY s.product_id`);
  if (rows.length === 0) return 0;
  const gates = await gateCall(() =>
    ctx.gate.inspect({
      productIds: rows.map((row) => row.product_id),
      maxHoldAgeMs: stockHoldMaxAgeMs,
    }),
  );
  let synced = 0;
  for (const [i, row] of rows.entries()) {
    const gate = gates[i]!;
    const drift = gate.counter === null || gate.counter + gate.held !== row.available;
    if (!drift && gate.stale === 0) continue;
    // A gap may be a cap that a lost credit never freed: rebuild the caps too.
    await syncStockToRedis({
      ctx,
      productId: row.product_id,
      trigger: 'timer',
      caps: drift ? 'rebuild' : 'keep',
    });
    synced += 1;
  }
  return synced;
}

/**
 * One order attempt per `ORDER_RATE_LIMIT_MS` per user. Throws `RateLimitedError` carrying how
 * long to wait. (Attempts with an Idempotency-Key are checked by the order path's admission,
 * which also answers replays first, so a replay never counts against the limit.)
 */
export async function checkOrderRateLimit({
  ctx,
  userId,
}: {
  ctx: AppContext;
  userId: number;
}): Promise<void> {
  const result = await gateCall(() =>
    ctx.gate.admit({ userId, rateLimitMs: ctx.config.orderRateLimitMs }),
  );
  if (result.kind === 'rate_limited') throw new RateLimitedError(result.retryAfterMs);
}

/** Admin: set a product's stock. The change is in the ledger; the gate follows by a sync. */
export async function setStock({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { productId: number; quantity: number };
}): Promise<{ productId: number; available: number }> {
  const available = await withTransaction(ctx.db, async (tx) => {
    const current = await tx.execute<{ available: number }>(sql`
      SELECT available FROM stock WHERE product_id = ${input.productId} FOR UPDATE`);
    const row = current.rows[0];
    if (!row) throw new ProductNotFoundError(input.productId);
    const delta = input.quantity - row.available;
    if (delta !== 0) {
      await tx.execute(sql`
        UPDATE stock SET available = ${input.quantity}, version = version + 1, updated_at = now()
        WHERE product_id = ${input.productId}`);
      await tx.execute(sql`
        INSERT INTO stock_ledger (product_id, delta, cause) VALUES (${input.productId}, ${delta}, 'admin')`);
    }
    return input.quantity;
  });
  await syncAfterAdminChange(ctx, input.productId);
  return { productId: input.productId, available };
}

/** After an admin change the gate follows at once; if it cannot, the sweep will. */
export async function syncAfterAdminChange(ctx: AppContext, productId: number): Promise<void> {
  ctx.catalog.invalidate(productId);
  try {
    await syncStockToRedis({ ctx, productId, trigger: 'admin' });
  } catch (error) {
    ctx.logger.warn(
      { err: error, productId },
      'sync after admin change failed; the sweep will retry',
    );
  }
}

/** Gate calls that cannot reach the gate become 503 stock_unavailable. */
export async function gateCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof GateUnavailableError) throw new StockUnavailableError(error);
    throw error;
  }
}
