import { and, count, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { OrderStatus } from '@stampede/contract';
import type { DbContext } from '../../context.ts';
import type { DbOrTx } from '../../db/transaction.ts';
import { orderItems, orders } from '../../db/schema.ts';
import { LIVE_STATUSES } from './state-machine.ts';
import type { OrderRecord } from './types.ts';

type OrderRow = typeof orders.$inferSelect;

async function withItems(db: DbOrTx, rows: OrderRow[]): Promise<OrderRecord[]> {
  if (rows.length === 0) return [];
  const items = await db
    .select()
    .from(orderItems)
    .where(
      inArray(
        orderItems.orderId,
        rows.map((row) => row.id),
      ),
    )
    .orderBy(orderItems.orderId, orderItems.productId);
  const byOrder = new Map<number, (typeof items)[number][]>();
  for (const item of items) byOrder.set(item.orderId, [...(byOrder.get(item.orderId) ?? []), item]);
  return rows.map((row) => ({
    id: row.id,
    userId: row.userId,
    status: row.status,
    items: (byOrder.get(row.id) ?? []).map((item) => ({
      productId: item.productId,
      name: item.name,
      quantity: item.quantity,
      unitPriceCents: item.unitPriceCents,
    })),
    totalCents: row.totalCents,
    currency: row.currency,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    paidAt: row.paidAt,
    cancelledAt: row.cancelledAt,
    expiredAt: row.expiredAt,
  }));
}

/** The order if it exists and belongs to `userId` (someone else's order does not exist). */
export async function getOrderForUser({
  ctx,
  input: { orderId, userId },
}: {
  ctx: DbContext;
  input: { orderId: number; userId: number };
}): Promise<OrderRecord | null> {
  const rows = await ctx.db
    .select()
    .from(orders)
    .where(and(eq(orders.id, orderId), eq(orders.userId, userId)));
  return (await withItems(ctx.db, rows))[0] ?? null;
}

/** The order the user made under this Idempotency-Key, if any. */
export async function getOrderByIdempotencyKey({
  ctx,
  input: { userId, key },
}: {
  ctx: DbContext;
  input: { userId: number; key: string };
}): Promise<OrderRecord | null> {
  const rows = await ctx.db
    .select()
    .from(orders)
    .where(and(eq(orders.userId, userId), eq(orders.idempotencyKey, key)));
  return (await withItems(ctx.db, rows))[0] ?? null;
}

/** The order a reservation became, if it was written. */
export async function getOrderByReservation({
  ctx,
  input: { reservationId },
}: {
  ctx: DbContext;
  input: { reservationId: string };
}): Promise<OrderRecord | null> {
  const rows = await ctx.db.select().from(orders).where(eq(orders.reservationId, reservationId));
  return (await withItems(ctx.db, rows))[0] ?? null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which of these reservations became orders (the gate's holds the sync may drop). */
export async function getWrittenReservations({
  ctx,
  input: { reservationIds },
}: {
  ctx: DbContext;
  input: { reservationIds: readonly string[] };
}): Promise<string[]> {
  // Only ids that can be an order's: anything else is no order (and would fail the uuid cast).
  const candidates = reservationIds.filter((id) => UUID.test(id));
  if (candidates.length === 0) return [];
  const result = await ctx.db.execute<{ reservation_id: string }>(sql`
    SELECT reservation_id FROM orders WHERE reservation_id = ANY(${sql.param(candidates)}::uuid[])`);
  return result.rows.map((row) => row.reservation_id);
}

/** Units of one product each user has in live orders (what counts against the cap). */
export async function getLiveUnitsByUser({
  ctx,
  input: { productId },
}: {
  ctx: DbContext;
  input: { productId: number };
}): Promise<Map<number, number>> {
  const result = await ctx.db.execute<{ user_id: number; units: number }>(sql`
    SELECT o.user_id, SUM(oi.quantity)::int AS units
    FROM order_items oi JOIN orders o ON o.id = oi.order_id
    WHERE oi.product_id = ${productId} AND o.status = ANY(${sql.param(LIVE_STATUSES)}::order_status[])
    GROUP BY o.user_id`);
  return new Map(result.rows.map((row) => [row.user_id, row.units]));
}

async function listWhere(
  db: DbOrTx,
  where: SQL | undefined,
  page: number,
  pageSize: number,
): Promise<{ items: OrderRecord[]; total: number }> {
  const [rows, totals] = await Promise.all([
    db
      .select()
      .from(orders)
      .where(where)
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(pageSize)
      .offset((page - 1) * pageSize),
    db.select({ total: count() }).from(orders).where(where),
  ]);
  return { items: await withItems(db, rows), total: totals[0]?.total ?? 0 };
}

/** The user's orders, newest first. */
export function listOrdersForUser({
  ctx,
  input: { userId, page, pageSize },
}: {
  ctx: DbContext;
  input: { userId: number; page: number; pageSize: number };
}): Promise<{ items: OrderRecord[]; total: number }> {
  return listWhere(ctx.db, eq(orders.userId, userId), page, pageSize);
}

/** Every order (admin), newest first, optionally of one status. */
export function listAllOrders({
  ctx,
  input: { status, page, pageSize },
}: {
  ctx: DbContext;
  input: { status?: OrderStatus; page: number; pageSize: number };
}): Promise<{ items: OrderRecord[]; total: number }> {
  return listWhere(ctx.db, status ? eq(orders.status, status) : undefined, page, pageSize);
}
