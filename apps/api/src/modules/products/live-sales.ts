import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { getStockQuantities } from '../stock/selectors.ts';

/** Units still on sale, summed over the sales running now (for the operator's gauge). */
export async function liveSaleUnits(ctx: AppContext): Promise<number> {
  const live = await ctx.db.execute<{ id: number }>(sql`
    SELECT id FROM products
    WHERE is_active AND sale_starts_at <= now() AND (sale_ends_at IS NULL OR sale_ends_at > now())`);
  const quantities = await getStockQuantities({
    ctx,
    input: { productIds: live.rows.map((row) => row.id) },
  });
  let total = 0;
  for (const units of quantities.values()) total += units;
  return total;
}
