import { and, count, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { OrderStatus } from '@stampede/contract';
import type { DbOrTx } from '../../db/transaction.ts';
import { orderItems, orders } from '../../db/schema.ts';
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
  db,
  orderId,
  userId,
}: {
  db: DbOrTx;
  orderId: number;
  userId: number;
}): Promise<OrderRecord | null> {
  const rows = await db
    .select()
    .from(orders)
    .where(and(eq(orders.id, orderId), eq(orders.userId, userId)));
  return (await withItems(db, rows))[0] ?? null;
}

export async function getOrderByIdempotencyKey({
  db,
  userId,
  key,
}: {
  db: DbOrTx;
  userId: number;
  key: string;
}): Promise<OrderRecord | null> {
  const rows = await db
    .select()
    .from(orders)
    .where(and(eq(orders.userId, userId), eq(orders.idempotencyKey, key)));
  return (await withItems(db, rows))[0] ?? null;
}

/** The order a reservation became, if it was written. */
export async function getOrderByReservation({
  db,
  reservationId,
}: {
  db: DbOrTx;
  reservationId: string;
}): Promise<OrderRecord | null> {
  const rows = await db.select().from(orders).where(eq(orders.reservationId, reservationId));
  return (await withItems(db, rows))[0] ?? null;
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
  db,
  userId,
  page,
  pageSize,
}: {
  db: DbOrTx;
  userId: number;
  page: number;
  pageSize: number;
}): Promise<{ items: OrderRecord[]; total: number }> {
  return listWhere(db, eq(orders.userId, userId), page, pageSize);
}

/** Every order (admin), newest first, optionally of one status. */
export function listAllOrders({
  db,
  status,
  page,
  pageSize,
}: {
  db: DbOrTx;
  status?: OrderStatus;
  page: number;
  pageSize: number;
}): Promise<{ items: OrderRecord[]; total: number }> {
  return listWhere(db, status ? eq(orders.status, status) : undefined, page, pageSize);
}
