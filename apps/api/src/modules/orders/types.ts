import type { OrderStatus } from '@stampede/contract';

/** An order as the services see it; routes turn it into the wire `Order`. */
export interface OrderRecord {
  readonly id: number;
  readonly userId: number;
  readonly status: OrderStatus;
  readonly items: readonly OrderItemRecord[];
  readonly totalCents: number;
  readonly currency: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly paidAt: Date | null;
  readonly cancelledAt: Date | null;
  readonly expiredAt: Date | null;
}

export interface OrderItemRecord {
  readonly productId: number;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}
