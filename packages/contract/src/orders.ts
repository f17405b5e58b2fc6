import { z } from 'zod';
import { Id, PageQuery, Timestamp, pageOf } from './common.ts';

export const MAX_ORDER_LINES = 20;
export const MAX_LINE_QUANTITY = 100;

export const OrderStatus = z
  .enum(['pending_payment', 'paid', 'cancelled', 'expired'])
  .meta({ id: 'OrderStatus' });
export type OrderStatus = z.infer<typeof OrderStatus>;

export const OrderLineInput = z
  .strictObject({
    product_id: Id,
    quantity: z.int().min(1).max(MAX_LINE_QUANTITY),
  })
  .meta({ id: 'OrderLine' });
export type OrderLineInput = z.infer<typeof OrderLineInput>;

export const PlaceOrderInput = z
  .strictObject({
    items: z
      .array(OrderLineInput)
      .min(1)
      .max(MAX_ORDER_LINES)
      .superRefine((items, ctx) => {
        const seen = new Set<number>();
        items.forEach((item, index) => {
          if (seen.has(item.product_id)) {
            ctx.addIssue({
              code: 'custom',
              message: 'the same product appears twice',
              path: [index, 'product_id'],
            });
          }
          seen.add(item.product_id);
        });
      }),
  })
  .meta({ id: 'PlaceOrder' });
export type PlaceOrderInput = z.infer<typeof PlaceOrderInput>;

/** `Idempotency-Key` header: 1..255 visible ASCII characters. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters only');

export const OrderItem = z
  .object({
    product_id: z.int(),
    name: z.string(),
    quantity: z.int(),
    unit_price_cents: z.int(),
  })
  .meta({ id: 'OrderItem' });
export type OrderItem = z.infer<typeof OrderItem>;

export const Order = z
  .object({
    id: z.int(),
    status: OrderStatus,
    items: z.array(OrderItem),
    total_cents: z.int(),
    currency: z.string(),
    created_at: Timestamp,
    /** Pay before this, or the order expires and its stock returns. */
    expires_at: Timestamp,
    paid_at: Timestamp.nullable(),
    cancelled_at: Timestamp.nullable(),
    expired_at: Timestamp.nullable(),
  })
  .meta({ id: 'Order' });
export type Order = z.infer<typeof Order>;

export const OrderListQuery = PageQuery;
export type OrderListQuery = z.infer<typeof OrderListQuery>;

export const OrderList = pageOf(Order).meta({ id: 'OrderList' });
export type OrderList = z.infer<typeof OrderList>;

export const AdminOrder = Order.extend({ user_id: z.int() }).meta({ id: 'AdminOrder' });
export type AdminOrder = z.infer<typeof AdminOrder>;

export const AdminOrderListQuery = PageQuery.extend({ status: OrderStatus.optional() });
export type AdminOrderListQuery = z.infer<typeof AdminOrderListQuery>;

export const AdminOrderList = pageOf(AdminOrder).meta({ id: 'AdminOrderList' });
export type AdminOrderList = z.infer<typeof AdminOrderList>;
