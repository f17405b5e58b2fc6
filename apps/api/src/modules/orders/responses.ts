import type { AdminOrder, Order } from '@stampede/contract';
import type { OrderRecord } from './types.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function toOrderResponse(order: OrderRecord): Order {
  return {
    id: order.id,
    status: order.status,
    items: order.items.map((item) => ({
      product_id: item.productId,
      name: item.name,
      quantity: item.quantity,
      unit_price_cents: item.unitPriceCents,
    })),
    total_cents: order.totalCents,
    currency: order.currency,
    created_at: order.createdAt.toISOString(),
    expires_at: order.expiresAt.toISOString(),
    paid_at: iso(order.paidAt),
    cancelled_at: iso(order.cancelledAt),
    expired_at: iso(order.expiredAt),
  };
}

export function toAdminOrderResponse(order: OrderRecord): AdminOrder {
  return { ...toOrderResponse(order), user_id: order.userId };
}
