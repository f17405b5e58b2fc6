import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { withTransaction } from '../../db/transaction.ts';
import { InvalidOrderStateError, OrderNotFoundError } from '../../lib/errors.ts';
import { creditGate, restoreStock } from '../stock/services.ts';
import { getOrderForUser } from './selectors.ts';
import { statusCanBecome } from './state-machine.ts';
import type { OrderRecord } from './types.ts';

/**
 * Cancel an order (unpaid or paid) and put its stock back. The guarded status change and the
 * restore share one transaction, so however many cancels and expiries race, the stock returns
 * once.
 */
export async function cancelOrder({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { userId: number; orderId: number };
}): Promise<OrderRecord> {
  const credits = await withTransaction(ctx, async (tx) => {
    const cancelled = await tx.db.execute<{ id: number; user_id: number }>(sql`
      UPDATE orders SET status = 'cancelled', cancelled_at = now()
      WHERE id = ${input.orderId} AND user_id = ${input.userId} AND ${statusCanBecome('cancelled')}
      RETURNING id, user_id`);
    if (cancelled.rowCount === 0) return undefined;
    return restoreStock({
      ctx: tx,
      input: { orders: [{ id: input.orderId, userId: input.userId }], cause: 'cancel' },
    });
  });
  if (!credits) {
    const current = await getOrderForUser({ ctx, input });
    if (!current) throw new OrderNotFoundError(input.orderId);
    throw new InvalidOrderStateError(input.orderId, current.status, 'cancelled');
  }
  await creditGate({ ctx, input: { credits, cause: 'cancel' } });
  return (await getOrderForUser({ ctx, input }))!;
}
