import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { RestoreCause } from '../../observability/metrics.ts';
import type { GateCredit } from './gate/types.ts';

/**
 * Put the units of orders back on sale, inside the transaction (`ctx.db`) that has just moved
 * those orders out of a live status. The caller's guarded status change is what makes this happen
 * exactly once per order. Rows are locked in product_id order. Returns what to credit to the
 * gate after commit (`creditGate`).
 */
export async function restoreStock({
  ctx,
  input,
}: {
  ctx: Pick<AppContext, 'db'>;
  input: { orders: readonly { id: number; userId: number }[]; cause: RestoreCause };
}): Promise<GateCredit[]> {
  const tx = ctx.db;
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
  input: { credits, cause },
}: {
  ctx: AppContext;
  input: { credits: readonly GateCredit[]; cause: RestoreCause };
}): Promise<void> {
  for (const credit of credits) {
    ctx.metrics.stockRestores.inc({ cause });
    const units = credit.lines.reduce((sum, line) => sum + line.quantity, 0);
    ctx.metrics.unitsRestored.inc({ cause }, units);
    try {
      await ctx.stock.credit(credit);
    } catch (error) {
      // The database holds the truth; the sweep finds the gap and brings the gate to it.
      ctx.logger.warn({ err: error }, 'gate credit failed; the sweep will repair it');
    }
  }
}
