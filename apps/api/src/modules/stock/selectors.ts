import { inArray } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { stock } from '../../db/schema.ts';

/**
 * Units on sale now, cache-aside: the gate's counter first (during a sale it is the live
 * number), the database where the gate has none, and the gate is then filled by a sync (never
 * by a plain write, which could race a sale). Unknown products are absent from the map.
 */
export async function getStockQuantities({
  ctx,
  input: { productIds, buckets },
}: {
  ctx: AppContext;
  /** `buckets`: each product's `stock_buckets`, in the order of the ids, where known. */
  input: { productIds: readonly number[]; buckets?: readonly number[] };
}): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  if (productIds.length === 0) return result;
  const cached = await ctx.stock
    .available(productIds, buckets)
    .catch(() => productIds.map(() => null));
  const missing: number[] = [];
  productIds.forEach((id, i) => {
    const value = cached[i];
    if (value === null || value === undefined) missing.push(id);
    else result.set(id, value);
  });
  if (missing.length > 0) {
    const rows = await ctx.db
      .select({ productId: stock.productId, available: stock.available })
      .from(stock)
      .where(inArray(stock.productId, missing));
    // The gate is filled by the next sweep, which finds these counters missing.
    for (const row of rows) result.set(row.productId, row.available);
  }
  return result;
}

export async function getStockQuantity({
  ctx,
  input: { productId, buckets },
}: {
  ctx: AppContext;
  input: { productId: number; buckets?: number };
}): Promise<number | null> {
  const input = { productIds: [productId], buckets: buckets === undefined ? undefined : [buckets] };
  return (await getStockQuantities({ ctx, input })).get(productId) ?? null;
}
