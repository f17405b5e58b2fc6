import type { Order, Product, QueueStatus, QueueView } from '@stampede/contract';

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

export function makeQueueStatus(overrides: Partial<QueueStatus> = {}): QueueStatus {
  return {
    product_id: 1,
    state: 'not_joined',
    queue_state: 'pre_queue',
    place: null,
    ahead: null,
    estimated_wait_seconds: null,
    pass_expires_at: null,
    starts_at: '2030-01-01T12:10:00.000Z',
    poll_after_ms: 60_000,
    ticket: null,
    ...overrides,
  };
}

export function makeQueueView(overrides: Partial<QueueView> = {}): QueueView {
  return {
    product_id: 1,
    enabled: true,
    opens_before_seconds: 900,
    admit_per_minute: 60,
    max_active: null,
    inventory_factor: 1,
    pass_ttl_seconds: 300,
    paused: false,
    state: 'admitting',
    opens_at: '2030-01-01T11:45:00.000Z',
    starts_at: '2030-01-01T12:00:00.000Z',
    waiting: 120,
    active: 8,
    admitted_total: 40,
    units_left: 30,
    measured_admit_per_minute: 58.5,
    ...overrides,
  };
}
