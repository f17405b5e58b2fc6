import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { withTransaction } from '../../db/transaction.ts';
import type { SyncTrigger } from '../../observability/metrics.ts';
import { getLiveUnitsByUser, getWrittenReservations } from '../orders/selectors.ts';
import type { CapMode, SyncResult } from './gate/types.ts';

/**
 * Set the gate of one product from the database: available stock minus the holds still in
 * flight, while the stock row is locked so that no order commits and no other sync of the
 * product runs in between (one script for one stock bucket, a few for several). Holds
 * whose orders are committed are dropped; holds older than any request can live are dropped
 * (that is how a crash between the gate and the database heals). Returns null when the
 * product does not exist.
 */
export async function syncGate({
  ctx,
  input: { productId, trigger, caps = trigger === 'timer' ? 'keep' : 'rebuild' },
}: {
  ctx: AppContext;
  input: { productId: number; trigger: SyncTrigger; caps?: 'keep' | 'rebuild' };
}): Promise<SyncResult | null> {
  if (!ctx.stock.tracksStock) return null;
  const result = await withTransaction(ctx, async (txCtx) => {
    const tx = txCtx.db;
    const locked = await tx.execute<{
      available: number;
      version: number;
      max_per_user: number | null;
      stock_buckets: number;
    }>(sql`
      SELECT s.available, s.version, p.max_per_user, p.stock_buckets
      FROM stock s JOIN products p ON p.id = s.product_id
      WHERE s.product_id = ${productId} FOR NO KEY UPDATE OF s`);
    const row = locked.rows[0];
    if (!row) return null;
    const holds = await ctx.stock.holds(productId);
    const committed = await getWrittenReservations({
      ctx: txCtx,
      input: { reservationIds: holds.map((h) => h.reservationId) },
    });
    let capMode: CapMode = { mode: 'keep' };
    if (caps === 'rebuild') {
      if (row.max_per_user === null) {
        capMode = { mode: 'clear' };
      } else {
        capMode = {
          mode: 'rebuild',
          liveUnitsByUser: await getLiveUnitsByUser({ ctx: txCtx, input: { productId } }),
        };
      }
    }
    const started = performance.now();
    const synced = await ctx.stock.sync({
      productId,
      buckets: row.stock_buckets,
      available: row.available,
      version: row.version,
      committed,
      maxHoldAgeMs: ctx.config.stockHoldMaxAgeMs,
      caps: capMode,
    });
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
export async function syncGates({
  ctx,
  input: { trigger, productIds, where = () => true },
}: {
  ctx: AppContext;
  input: {
    trigger: SyncTrigger;
    productIds?: readonly number[];
    /** Only the products matching (those of one shard, after its failover). */
    where?: (productId: number) => boolean;
  };
}): Promise<{ synced: number; drift: number }> {
  if (!ctx.stock.tracksStock) return { synced: 0, drift: 0 };
  const ids =
    productIds ??
    (
      await ctx.db.execute<{ id: number }>(sql`
        SELECT p.id FROM products p JOIN stock s ON s.product_id = p.id
        WHERE p.is_active ORDER BY p.id`)
    ).rows.map((row) => row.id);
  let synced = 0;
  let drift = 0;
  for (const productId of ids.filter(where)) {
    const result = await syncGate({ ctx, input: { productId, trigger } });
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
  if (!ctx.stock.tracksStock) return 0;
  const { stockSyncIntervalMs, stockHoldMaxAgeMs } = ctx.config;
  // A little shorter than a round, so the process that held it can take it again next round.
  if (!(await ctx.stock.lease(SWEEP_LEASE, stockSyncIntervalMs * 0.8))) return 0;
  const { rows } = await ctx.db.execute<{
    product_id: number;
    available: number;
    stock_buckets: number;
  }>(sql`
    SELECT s.product_id, s.available, p.stock_buckets FROM stock s JOIN products p ON p.id = s.product_id
    WHERE p.is_active ORDER BY s.product_id`);
  if (rows.length === 0) return 0;
  const gates = await ctx.stock.inspect({
    productIds: rows.map((row) => row.product_id),
    buckets: rows.map((row) => row.stock_buckets),
    maxHoldAgeMs: stockHoldMaxAgeMs,
  });
  let synced = 0;
  for (const [i, row] of rows.entries()) {
    const gate = gates[i]!;
    const drift = gate.counter === null || gate.counter + gate.held !== row.available;
    if (!drift && gate.stale === 0) continue;
    // A gap may be a cap that a lost credit never freed: rebuild the caps too.
    await syncGate({
      ctx,
      input: { productId: row.product_id, trigger: 'timer', caps: drift ? 'rebuild' : 'keep' },
    });
    synced += 1;
  }
  return synced;
}
