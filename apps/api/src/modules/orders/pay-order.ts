import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { InvalidOrderStateError, OrderNotFoundError } from '../../lib/errors.ts';
import { expireDueOrders } from './expire-orders.ts';
import { getOrderForUser } from './selectors.ts';
import { ORDER_TRANSITIONS, statusCanBecome } from './state-machine.ts';
import type { OrderRecord } from './types.ts';

/** Pay an order before its deadline. */
export async function payOrder({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { userId: number; orderId: number };
}): Promise<OrderRecord> {
  const paid = await ctx.db.execute<{ id: number }>(sql`
    UPDATE orders SET status = 'paid', paid_at = now()
    WHERE id = ${input.orderId} AND user_id = ${input.userId}
      AND ${statusCanBecome('paid')} AND expires_at > now()
    RETURNING id`);
  if (paid.rowCount === 0) {
    const current = await getOrderForUser({ ctx, input });
    if (!current) throw new OrderNotFoundError(input.orderId);
    if (ORDER_TRANSITIONS[current.status].includes('expired')) {
      // Past its deadline but not yet swept: expire it now, so its stock returns at once.
      await expireDueOrders({ ctx, input: { orderIds: [input.orderId] } });
      throw new InvalidOrderStateError(input.orderId, 'expired', 'paid');
    }
    throw new InvalidOrderStateError(input.orderId, current.status, 'paid');
  }
  return (await getOrderForUser({ ctx, input }))!;
}
