import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  char,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const userRole = pgEnum('user_role', ['customer', 'admin']);

export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: userRole('role').notNull().default('customer'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('users_email_key').on(sql`lower(${t.email})`)],
);

export const products = pgTable(
  'products',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    sku: text('sku').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    imageUrl: text('image_url'),
    priceCents: integer('price_cents').notNull(),
    currency: char('currency', { length: 3 }).notNull().default('USD'),
    isActive: boolean('is_active').notNull().default(true),
    /** The sale window; no `sale_starts_at` means the product is not on a flash sale. */
    saleStartsAt: timestamp('sale_starts_at', { withTimezone: true }),
    saleEndsAt: timestamp('sale_ends_at', { withTimezone: true }),
    maxPerUser: integer('max_per_user'),
    /** How many pieces the gate's counter is split into, each on its own cluster slot. */
    stockBuckets: smallint('stock_buckets').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('products_sku_key').on(t.sku),
    check('products_price_nonnegative', sql`${t.priceCents} >= 0`),
    check('products_max_per_user_positive', sql`${t.maxPerUser} IS NULL OR ${t.maxPerUser} > 0`),
    check('products_stock_buckets_range', sql`${t.stockBuckets} BETWEEN 1 AND 16`),
    check(
      'products_sale_window',
      sql`${t.saleEndsAt} IS NULL OR (${t.saleStartsAt} IS NOT NULL AND ${t.saleEndsAt} > ${t.saleStartsAt})`,
    ),
  ],
);

/** One row per product. The CHECK is the last line of defence against overselling. */
export const stock = pgTable(
  'stock',
  {
    productId: integer('product_id')
      .primaryKey()
      .references(() => products.id, { onDelete: 'cascade' }),
    available: integer('available').notNull(),
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [check('stock_available_nonnegative', sql`${t.available} >= 0`)],
);

export const orderStatus = pgEnum('order_status', [
  'pending_payment',
  'paid',
  'cancelled',
  'expired',
]);

export const orders = pgTable(
  'orders',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    status: orderStatus('status').notNull().default('pending_payment'),
    totalCents: bigint('total_cents', { mode: 'number' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    /** The gate hold this order was admitted with; the sync uses it to tell committed holds. */
    reservationId: uuid('reservation_id').notNull(),
    idempotencyKey: text('idempotency_key'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    paidAt: timestamp('paid_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    expiredAt: timestamp('expired_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('orders_reservation_id_key').on(t.reservationId),
    // The hard guarantee behind Idempotency-Key: one order per key and user, whatever a cache lost.
    uniqueIndex('orders_user_idempotency_key').on(t.userId, t.idempotencyKey),
    index('orders_user_created_idx').on(t.userId, t.createdAt.desc()),
    index('orders_status_created_idx').on(t.status, t.createdAt.desc()),
    index('orders_pending_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'pending_payment'`),
    check('orders_total_nonnegative', sql`${t.totalCents} >= 0`),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    name: text('name').notNull(),
    quantity: integer('quantity').notNull(),
    unitPriceCents: integer('unit_price_cents').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.productId] }),
    index('order_items_product_idx').on(t.productId),
    check('order_items_quantity_positive', sql`${t.quantity} > 0`),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    /** Hash of method, route and body: the same key with another body is refused. */
    fingerprint: text('fingerprint').notNull(),
    statusCode: smallint('status_code').notNull(),
    /** The stored answer for refusals; a created order is answered from `order_id`. */
    responseBody: jsonb('response_body'),
    orderId: integer('order_id').references(() => orders.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);

export const stockChangeCause = pgEnum('stock_change_cause', [
  'order',
  'cancel',
  'expiry',
  'admin',
]);

/** Every change of `stock.available`, with its cause. Sum of deltas == current available. */
export const stockLedger = pgTable(
  'stock_ledger',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    delta: integer('delta').notNull(),
    cause: stockChangeCause('cause').notNull(),
    orderId: integer('order_id').references(() => orders.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('stock_ledger_product_idx').on(t.productId, t.id)],
);

/**
 * A product's waiting room (DESIGN.md, "The waiting room"): no row, or `enabled` false, means
 * orders need no pass. The sale's own window (`products.sale_starts_at/ends_at`) times it.
 */
export const queueSettings = pgTable(
  'queue_settings',
  {
    productId: integer('product_id')
      .primaryKey()
      .references(() => products.id, { onDelete: 'cascade' }),
    enabled: boolean('enabled').notNull().default(false),
    opensBeforeSeconds: integer('opens_before_seconds').notNull().default(900),
    admitPerMinute: integer('admit_per_minute').notNull().default(60),
    maxActive: integer('max_active'),
    inventoryFactor: doublePrecision('inventory_factor').notNull().default(1),
    passTtlSeconds: integer('pass_ttl_seconds').notNull().default(600),
    paused: boolean('paused').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('queue_settings_opens_before_range', sql`${t.opensBeforeSeconds} BETWEEN 0 AND 604800`),
    check('queue_settings_admit_rate_positive', sql`${t.admitPerMinute} > 0`),
    check('queue_settings_max_active_positive', sql`${t.maxActive} IS NULL OR ${t.maxActive} > 0`),
    check('queue_settings_factor_range', sql`${t.inventoryFactor} BETWEEN 1 AND 10`),
    check('queue_settings_pass_ttl_range', sql`${t.passTtlSeconds} BETWEEN 30 AND 3600`),
  ],
);
