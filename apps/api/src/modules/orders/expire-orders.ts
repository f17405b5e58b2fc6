import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { withTransaction } from '../../db/transaction.ts';
import { creditGate, restoreStock } from '../stock/services.ts';
import { statusCanBecome } from './state-machine.ts';

/**
 * Expire unpaid orders past their deadline and return their stock. Safe with several API
 * processes: each takes the due orders no one else holds (`FOR UPDATE SKIP LOCKED`).
 * Returns how many orders expired.
 */
export async function expireDueOrders({
  ctx,
  input: { limit = 500, orderIds } = {},
}: {
  ctx: AppContext;
  input?: {
    limit?: number;
    /** Only these orders (when a late payment finds one past its deadline). */
    orderIds?: readonly number[];
  };
}): Promise<number> {
  const only = orderIds ? sql`AND id = ANY(${sql.param(orderIds)}::int[])` : sql``;
  const result = await withTransaction(ctx, async (tx) => {
    const expired = await tx.db.execute<{ id: number; user_id: number; late_s: number }>(sql`
      WITH due AS (
        SELECT id FROM orders
        WHERE ${statusCanBecome('expired')} AND expires_at <= now() ${only}
        ORDER BY expires_at LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE orders o SET status = 'expired', expired_at = now()
      FROM due WHERE o.id = due.id
      RETURNING o.id, o.user_id, EXTRACT(EPOCH FROM o.expired_at - o.expires_at)::float8 AS late_s`);
    const credits = await restoreStock({
      ctx: tx,
      input: {
        orders: expired.rows.map((row) => ({ id: row.id, userId: row.user_id })),
        cause: 'expiry',
      },
    });
    return { rows: expired.rows, credits };
  });
  for (const row of result.rows) ctx.metrics.expiryLateness.observe(Math.max(0, row.late_s));
  ctx.metrics.ordersExpired.inc(result.rows.length);
  await creditGate({ ctx, input: { credits: result.credits, cause: 'expiry' } });
  return result.rows.length;
}
