import type { Order, Product } from '@stampede/contract';

export function makeProduct(overrides: Partial<Product> = {}): Product {
  return {
    id: 1,
    sku: 'SNK-1',
    name: 'Aero Sneaker',
    description: 'Light and fast.',
    image_url: null,
    price_cents: 4999,
    currency: 'USD',
    is_active: true,
    available: 50,
    sale: { starts_at: '2030-01-01T00:00:00.000Z', ends_at: null, max_per_user: 2 },
    stock_buckets: 1,
    created_at: '2029-12-01T00:00:00.000Z',
    updated_at: '2029-12-01T00:00:00.000Z',
    ...overrides,
  };
}

export function makeOrder(overrides: Partial<Order> = {}): Order {
  return {
    id: 7,
    status: 'pending_payment',
    items: [{ product_id: 1, name: 'Aero Sneaker', quantity: 1, unit_price_cents: 4999 }],
    total_cents: 4999,
    currency: 'USD',
    created_at: '2030-01-01T00:00:00.000Z',
    expires_at: '2030-01-01T00:15:00.000Z',
    paid_at: null,
    cancelled_at: null,
    expired_at: null,
    ...overrides,
  };
}
