import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { AppContext } from '../../src/context.ts';
import { syncGate } from '../../src/modules/stock/services.ts';

export interface ProductExpectation {
  readonly id: number;
  /** Units the product had before the race. */
  readonly initial: number;
}

async function dbState(ctx: AppContext, productId: number) {
  const { rows } = await ctx.db.execute<{ available: number; live: number; ledger: number }>(sql`
    SELECT s.available,
      (SELECT COALESCE(SUM(oi.quantity), 0)::int FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WHERE oi.product_id = s.product_id AND o.status IN ('pending_payment', 'paid')) AS live,
      (SELECT COALESCE(SUM(delta), 0)::int FROM stock_ledger l WHERE l.product_id = s.product_id) AS ledger
    FROM stock s WHERE s.product_id = ${productId}`);
  return rows[0]!;
}

/** Units in live orders of one product. */
export async function unitsSold(ctx: AppContext, productId: number): Promise<number> {
  return (await dbState(ctx, productId)).live;
}

export async function databaseAvailable(ctx: AppContext, productId: number): Promise<number> {
  return (await dbState(ctx, productId)).available;
}

/**
 * The invariants every stock test ends on, once the system is quiet:
 * stock >= 0; initial == available + units in live orders; the ledger sums to available;
 * every success is an order row; no hold is left in the gate; gate == database, before and after
 * a sync (which then finds no drift).
 */
export async function expectStockInvariants(
  ctx: AppContext,
  products: readonly ProductExpectation[],
  createdOrderIds: readonly number[] = [],
): Promise<void> {
  await ctx.writer.drain();
  for (const product of products) {
    const state = await dbState(ctx, product.id);
    expect(state.available, `product ${product.id}: stock never below zero`).toBeGreaterThanOrEqual(
      0,
    );
    expect(state.available + state.live, `product ${product.id}: initial == available + sold`).toBe(
      product.initial,
    );
    expect(state.ledger, `product ${product.id}: the ledger sums to available`).toBe(
      state.available,
    );
    if (ctx.stock.tracksStock) {
      expect(
        await ctx.stock.holds(product.id),
        `product ${product.id}: no hold left behind`,
      ).toEqual([]);
      expect(
        await ctx.stock.available([product.id]),
        `product ${product.id}: gate == database`,
      ).toEqual([state.available]);
      const synced = await syncGate({
        ctx,
        input: { productId: product.id, trigger: 'on_demand' },
      });
      expect(synced, `product ${product.id}: the sync finds no drift`).toMatchObject({
        previous: state.available,
        current: state.available,
      });
    }
  }
  if (createdOrderIds.length > 0) {
    const { rows } = await ctx.db.execute<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM orders WHERE id = ANY(${sql.param([...createdOrderIds])}::int[])`);
    expect(rows[0]!.n, 'every 201 is an order row').toBe(new Set(createdOrderIds).size);
  }
}
