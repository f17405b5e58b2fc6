/**
 * The SQL of one batch of orders: the database half of the stock algorithm (DESIGN.md), in one
 * transaction the caller opened. Each step is one function, run in this order:
 *
 *   takeStock          conditional `UPDATE stock ... WHERE available >= n`, products in id order
 *   readProducts       prices, names and caps from the database, never from the client
 *   checkCaps          each buyer's units in live orders under the stock row locks just taken
 *   insertOrders       the orders (a key the user already used makes none: unique index)
 *   untakeRefused      the units of orders refused after step 1 go back (rows still ours)
 *   insertItems        one row per order and product
 *   writeLedger        one `order` entry per order and product
 *   recordKeys         the idempotency record of each keyed order, in the order's transaction
 *
 * Raw `pg` rather than Drizzle here, and only here: these statements run for every order of a
 * sale, as named prepared statements (parsed once per connection) with whole batches passed as
 * arrays (`unnest`), one round trip each; the query builder would rebuild and re-send their text
 * on every call. Everything else in the API goes through Drizzle.
 */
import type { PoolClient } from 'pg';
import {
  DuplicateOrderError,
  InsufficientStockError,
  ProductNotFoundError,
  PurchaseLimitError,
} from '../../lib/errors.ts';
import { LIVE_STATUSES } from './state-machine.ts';
import type { OrderItemRecord, OrderRecord } from './types.ts';

export interface OrderDraft {
  readonly userId: number;
  readonly reservationId: string;
  /** Sorted by product id, one line per product. */
  readonly lines: readonly { productId: number; quantity: number; limit: number | null }[];
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

/** The batch as a whole does not fit the stock; its orders go one by one. */
export class BatchDoesNotFit extends Error {}

/** A lone order the database refused: everything it took so far is rolled back. */
export class Refused extends Error {
  constructor(readonly answer: Error) {
    super(answer.message);
  }
}

interface ProductRow {
  id: number;
  name: string;
  price_cents: number;
  currency: string;
  max_per_user: number | null;
}

/** Each draft's answer: its order, or why it has none. */
type Results = (OrderRecord | Error | undefined)[];

export async function writeBatch(
  client: PoolClient,
  drafts: readonly OrderDraft[],
  options: { paymentTtlSeconds: number; idempotencyTtlSeconds: number },
): Promise<(OrderRecord | Error)[]> {
  const results: Results = drafts.map(() => undefined);
  const productIds = await takeStock(client, drafts);
  const products = await readProducts(client, productIds);
  await checkCaps(client, drafts, products, productIds, results);
  const created = await insertOrders(client, drafts, products, results, options.paymentTtlSeconds);
  await untakeRefused(client, drafts, results);
  if (created.length > 0) {
    await insertItems(client, created);
    await writeLedger(client, created);
    await recordKeys(client, created, options.idempotencyTtlSeconds);
  }
  return results as (OrderRecord | Error)[];
}

/**
 * Every line's units, products in ascending id order (the lock order that rules out deadlock).
 * A product short of units fails the batch (it is retried order by order), or refuses a lone
 * order outright. Returns the products taken, in that order.
 */
async function takeStock(client: PoolClient, drafts: readonly OrderDraft[]): Promise<number[]> {
  const need = new Map<number, number>();
  for (const draft of drafts) {
    for (const line of draft.lines) {
      need.set(line.productId, (need.get(line.productId) ?? 0) + line.quantity);
    }
  }
  const productIds = [...need.keys()].sort((a, b) => a - b);
  for (const productId of productIds) {
    const quantity = need.get(productId)!;
    const taken = await client.query({
      name: 'stock-take',
      text: `UPDATE stock SET available = available - $2, version = version + 1, updated_at = now()
             WHERE product_id = $1 AND available >= $2`,
      values: [productId, quantity],
    });
    if (taken.rowCount !== 0) continue;
    if (drafts.length > 1) throw new BatchDoesNotFit();
    const row = await client.query<{ available: number }>({
      name: 'stock-read',
      text: 'SELECT available FROM stock WHERE product_id = $1',
      values: [productId],
    });
    const available = row.rows[0]?.available;
    // Not a return: the lines taken before this one must not be committed.
    throw new Refused(
      available === undefined
        ? new ProductNotFoundError(productId)
        : new InsufficientStockError(productId, quantity, available),
    );
  }
  return productIds;
}

async function readProducts(
  client: PoolClient,
  productIds: readonly number[],
): Promise<Map<number, ProductRow>> {
  const catalog = await client.query<ProductRow>({
    name: 'order-products',
    text: 'SELECT id, name, price_cents, currency, max_per_user FROM products WHERE id = ANY($1::int[])',
    values: [productIds],
  });
  return new Map(catalog.rows.map((row) => [row.id, row]));
}

/**
 * Per-user caps, counted over live orders under the stock row locks just taken: every other
 * order for these products is committed (visible) or waiting behind this transaction.
 */
async function checkCaps(
  client: PoolClient,
  drafts: readonly OrderDraft[],
  products: ReadonlyMap<number, ProductRow>,
  productIds: readonly number[],
  results: Results,
): Promise<void> {
  for (const productId of productIds) {
    const limit = products.get(productId)?.max_per_user;
    if (limit === undefined || limit === null) continue;
    const buying = drafts.filter((d) => d.lines.some((l) => l.productId === productId));
    const live = await client.query<{ user_id: number; units: number }>({
      name: 'cap-read',
      text: `SELECT o.user_id, SUM(oi.quantity)::int AS units
             FROM orders o JOIN order_items oi ON oi.order_id = o.id
             WHERE o.user_id = ANY($1::int[]) AND oi.product_id = $2
               AND o.status = ANY($3::order_status[])
             GROUP BY o.user_id`,
      values: [[...new Set(buying.map((d) => d.userId))], productId, LIVE_STATUSES],
    });
    const units = new Map(live.rows.map((row) => [row.user_id, row.units]));
    drafts.forEach((draft, i) => {
      const line = draft.lines.find((l) => l.productId === productId);
      if (!line || results[i]) return;
      const had = units.get(draft.userId) ?? 0;
      if (had + line.quantity > limit) {
        results[i] = new PurchaseLimitError(productId, limit, had);
      } else {
        units.set(draft.userId, had + line.quantity);
      }
    });
  }
}

interface Created {
  readonly draft: OrderDraft;
  readonly order: OrderRecord;
}

/** The orders not refused so far, priced from the database. */
async function insertOrders(
  client: PoolClient,
  drafts: readonly OrderDraft[],
  products: ReadonlyMap<number, ProductRow>,
  results: Results,
  paymentTtlSeconds: number,
): Promise<Created[]> {
  const priced = drafts.flatMap((draft, i) => {
    if (results[i]) return [];
    const items: OrderItemRecord[] = draft.lines.map((line) => {
      const product = products.get(line.productId)!;
      return {
        productId: line.productId,
        name: product.name,
        quantity: line.quantity,
        unitPriceCents: product.price_cents,
      };
    });
    const total = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
    const currency = products.get(draft.lines[0]!.productId)!.currency;
    return [{ draft, i, items, total, currency }];
  });
  if (priced.length === 0) return [];
  const inserted = await client.query<{
    id: number;
    reservation_id: string;
    created_at: Date;
    expires_at: Date;
  }>({
    name: 'orders-insert',
    text: `INSERT INTO orders (user_id, total_cents, currency, reservation_id, idempotency_key, expires_at)
           SELECT u.user_id, u.total_cents, u.currency, u.reservation_id, u.idempotency_key,
                  now() + make_interval(secs => $6)
           FROM unnest($1::int[], $2::bigint[], $3::text[], $4::uuid[], $5::text[])
                AS u(user_id, total_cents, currency, reservation_id, idempotency_key)
           ON CONFLICT (user_id, idempotency_key) DO NOTHING
           RETURNING id, reservation_id, created_at, expires_at`,
    values: [
      priced.map((p) => p.draft.userId),
      priced.map((p) => p.total),
      priced.map((p) => p.currency),
      priced.map((p) => p.draft.reservationId),
      priced.map((p) => p.draft.idempotency?.key ?? null),
      paymentTtlSeconds,
    ],
  });
  const rows = new Map(inserted.rows.map((row) => [row.reservation_id, row]));
  const created: Created[] = [];
  for (const p of priced) {
    const row = rows.get(p.draft.reservationId);
    if (!row) {
      results[p.i] = new DuplicateOrderError(p.draft.userId, p.draft.idempotency!.key);
      continue;
    }
    const order: OrderRecord = {
      id: row.id,
      userId: p.draft.userId,
      status: 'pending_payment',
      items: p.items,
      totalCents: p.total,
      currency: p.currency,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      paidAt: null,
      cancelledAt: null,
      expiredAt: null,
    };
    results[p.i] = order;
    created.push({ draft: p.draft, order });
  }
  return created;
}

async function untakeRefused(
  client: PoolClient,
  drafts: readonly OrderDraft[],
  results: Results,
): Promise<void> {
  const untaken = new Map<number, number>();
  drafts.forEach((draft, i) => {
    if (!(results[i] instanceof Error)) return;
    for (const line of draft.lines) {
      untaken.set(line.productId, (untaken.get(line.productId) ?? 0) + line.quantity);
    }
  });
  for (const productId of [...untaken.keys()].sort((a, b) => a - b)) {
    await client.query({
      name: 'stock-untake',
      text: 'UPDATE stock SET available = available + $2 WHERE product_id = $1',
      values: [productId, untaken.get(productId)!],
    });
  }
}

function itemsOf(created: readonly Created[]) {
  return created.flatMap(({ order }) => order.items.map((item) => ({ order, item })));
}

async function insertItems(client: PoolClient, created: readonly Created[]): Promise<void> {
  const items = itemsOf(created);
  await client.query({
    name: 'order-items-insert',
    text: `INSERT INTO order_items (order_id, product_id, name, quantity, unit_price_cents)
           SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::int[], $5::int[])`,
    values: [
      items.map(({ order }) => order.id),
      items.map(({ item }) => item.productId),
      items.map(({ item }) => item.name),
      items.map(({ item }) => item.quantity),
      items.map(({ item }) => item.unitPriceCents),
    ],
  });
}

async function writeLedger(client: PoolClient, created: readonly Created[]): Promise<void> {
  const items = itemsOf(created);
  await client.query({
    name: 'ledger-insert-orders',
    text: `INSERT INTO stock_ledger (product_id, delta, cause, order_id)
           SELECT u.product_id, -u.quantity, 'order', u.order_id
           FROM unnest($1::int[], $2::int[], $3::int[]) AS u(product_id, quantity, order_id)`,
    values: [
      items.map(({ item }) => item.productId),
      items.map(({ item }) => item.quantity),
      items.map(({ order }) => order.id),
    ],
  });
}

/** A replay of a keyed order answers this order again, whatever the gate lost. */
async function recordKeys(
  client: PoolClient,
  created: readonly Created[],
  idempotencyTtlSeconds: number,
): Promise<void> {
  const keyed = created.filter(({ draft }) => draft.idempotency);
  if (keyed.length === 0) return;
  await client.query({
    name: 'idempotency-insert-orders',
    text: `INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, order_id, expires_at)
           SELECT u.user_id, u.key, u.fingerprint, 201, u.order_id, now() + make_interval(secs => $5)
           FROM unnest($1::int[], $2::text[], $3::text[], $4::int[]) AS u(user_id, key, fingerprint, order_id)
           ON CONFLICT (user_id, key) DO UPDATE
             SET fingerprint = EXCLUDED.fingerprint, status_code = 201, response_body = NULL,
                 order_id = EXCLUDED.order_id, expires_at = EXCLUDED.expires_at`,
    values: [
      keyed.map(({ draft }) => draft.userId),
      keyed.map(({ draft }) => draft.idempotency!.key),
      keyed.map(({ draft }) => draft.idempotency!.fingerprint),
      keyed.map(({ order }) => order.id),
      idempotencyTtlSeconds,
    ],
  });
}
