import { sql, type SQL } from 'drizzle-orm';
import type { OrderStatus } from '@stampede/contract';

/**
 * The order's life as data. Unpaid orders expire at their deadline; a paid order can still be
 * cancelled (its stock returns). Nothing leaves `cancelled` or `expired`.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending_payment: ['paid', 'cancelled', 'expired'],
  paid: ['cancelled'],
  cancelled: [],
  expired: [],
};

/** Statuses whose units count as sold (and against the buyer's cap). */
export const LIVE_STATUSES: readonly OrderStatus[] = ['pending_payment', 'paid'];

export function statusesThatCanBecome(target: OrderStatus): OrderStatus[] {
  return (Object.keys(ORDER_TRANSITIONS) as OrderStatus[]).filter((from) =>
    ORDER_TRANSITIONS[from].includes(target),
  );
}

/**
 * `status IN (...)` for the statuses the transition table lets become `target`: every guarded
 * status change (pay, cancel, expire) is decided by the table. Written as literals, so that the
 * planner matches partial indexes on status (the expiry sweep's).
 */
export function statusCanBecome(target: OrderStatus): SQL {
  const from = statusesThatCanBecome(target).map((status) => `'${status}'`);
  return sql.raw(`status IN (${from.join(', ')})`);
}
