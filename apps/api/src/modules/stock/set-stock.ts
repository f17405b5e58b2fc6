import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { withTransaction } from '../../db/transaction.ts';
import { ProductNotFoundError } from '../../lib/errors.ts';
import { syncGate } from './sync-gate.ts';

/** Admin: set a product's stock. The change is in the ledger; the gate follows by a sync. */
export async function setStock({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { productId: number; quantity: number };
}): Promise<{ productId: number; available: number }> {
  const available = await withTransaction(ctx, async ({ db: tx }) => {
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
  await syncAfterAdminChange({ ctx, input: { productId: input.productId } });
  return { productId: input.productId, available };
}

/** After an admin change the gate follows at once; if it cannot, the sweep will. */
export async function syncAfterAdminChange({
  ctx,
  input: { productId },
}: {
  ctx: AppContext;
  input: { productId: number };
}): Promise<void> {
  ctx.productCache.invalidate(productId);
  try {
    await syncGate({ ctx, input: { productId, trigger: 'admin' } });
  } catch (error) {
    ctx.logger.warn(
      { err: error, productId },
      'sync after admin change failed; the sweep will retry',
    );
  }
}
