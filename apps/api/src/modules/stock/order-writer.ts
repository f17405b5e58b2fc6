import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import {
  InsufficientStockError,
  ProductNotFoundError,
  PurchaseLimitError,
  StockConflictError,
  UnauthorizedError,
} from '../../lib/errors.ts';
import {
  isDatabaseUnavailable,
  isForeignKeyViolation,
  isUniqueViolation,
  RETRY_DELAYS_MS,
  retryCauseOf,
  sleep,
} from '../../lib/pg-errors.ts';
import type { Metrics, WriterBacklog } from '../../observability/metrics.ts';
import type { OrderItemRecord, OrderRecord } from '../orders/types.ts';
import type { StockGate } from './gate/types.ts';

/**
 * The database step of `decreaseStock`: one short transaction that takes the stock with a
 * conditional `UPDATE ... WHERE available >= n` (rows locked in product_id order), checks the
 * per-user caps under that lock, writes the orders, their items, the ledger and the
 * idempotency records.
 *
 * Orders the gate admitted for the same products are written together (group commit): while
 * one transaction runs, the next orders queue and share the next transaction. Each order keeps
 * its own all-or-nothing answer: if the batch as a whole does not fit, each of its orders is
 * retried in a transaction of its own. With the gate off every order has its own transaction,
 * as in the naive design.
 */

export interface OrderDraft {
  readonly userId: number;
  readonly reservationId: string;
  /** Sorted by product id, one line per product. */
  readonly lines: readonly { productId: number; quantity: number; limit: number | null }[];
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

/** The user already has an order under this idempotency key (it is returned instead). */
export class DuplicateOrderError extends Error {
  override name = 'DuplicateOrderError';
  constructor(
    readonly userId: number,
    readonly idempotencyKey: string,
  ) {
    super('an order with this idempotency key exists');
  }
}

/**
 * A retry after a lost connection found this reservation's order already written: the commit
 * had gone through before the connection dropped. The order is answered; nothing is taken twice.
 */
export class OrderAlreadyWrittenError extends Error {
  override name = 'OrderAlreadyWrittenError';
  constructor(readonly reservationId: string) {
    super('the order of this reservation was written before the connection dropped');
  }
}

/** The batch as a whole does not fit the stock; its orders go one by one. */
class BatchDoesNotFit extends Error {}

/** A lone order the database refused: everything it took so far is rolled back. */
class Refused extends Error {
  constructor(readonly answer: Error) {
    super(answer.message);
  }
}

interface Pending {
  readonly draft: OrderDraft;
  /** When the order reached the writer (`performance.now()`). */
  readonly queuedAt: number;
  resolve(order: OrderRecord): void;
  reject(error: unknown): void;
}

export interface OrderWriterOptions {
  readonly pool: Pool;
  readonly gate: StockGate | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly paymentTtlSeconds: number;
  readonly idempotencyTtlSeconds: number;
  /** Orders per transaction; 1 writes every order alone. */
  readonly maxBatch: number;
  readonly maxConcurrentTransactions: number;
  /** Transactions touching one product at once, so a hot row is not mobbed. */
  readonly perProductConcurrency: number;
  /**
   * An order waiting longer than this (queued, or retrying) is answered `stock_conflict`
   * instead of being started: its gate hold must not outlive STOCK_HOLD_MAX_AGE_MS, after which
   * the sync gives it back.
   */
  readonly deadlineMs: number;
}

/** How far down the queue a pump looks for orders whose products have a free slot. */
const LOOKAHEAD = 1024;

export class OrderWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly productLoad = new Map<number, number>();
  /** Batches in a transaction now, each in queue order (for the backlog's oldest order). */
  private readonly writing = new Set<Pending[]>();
  private idle: (() => void)[] = [];

  constructor(private readonly options: OrderWriterOptions) {}

  write(draft: OrderDraft): Promise<OrderRecord> {
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, queuedAt: performance.now(), resolve, reject });
      this.pump();
    });
  }

  /** What waits for the database now (read by /metrics). Queue and batches keep arrival order. */
  get backlog(): WriterBacklog {
    let oldestAt = this.queue[0]?.queuedAt;
    for (const batch of this.writing) {
      const at = batch[0]!.queuedAt;
      if (oldestAt === undefined || at < oldestAt) oldestAt = at;
    }
    return { queued: this.queue.length, transactions: this.inFlight, oldestAt };
  }

  /** Resolves once every queued order has its answer. */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    const { maxBatch, maxConcurrentTransactions, perProductConcurrency } = this.options;
    while (this.inFlight < maxConcurrentTransactions && this.queue.length > 0) {
      const batch: Pending[] = [];
      const batchProducts = new Set<number>();
      const rest: Pending[] = [];
      for (const [index, pending] of this.queue.entries()) {
        const fits =
          batch.length < maxBatch &&
          index < LOOKAHEAD &&
          pending.draft.lines.every(
            (line) =>
              batchProducts.has(line.productId) ||
              (this.productLoad.get(line.productId) ?? 0) < perProductConcurrency,
          );
        if (fits) {
          batch.push(pending);
          for (const line of pending.draft.lines) batchProducts.add(line.productId);
        } else {
          rest.push(pending);
        }
      }
      if (batch.length === 0) return;
      this.queue = rest;
      for (const id of batchProducts) this.productLoad.set(id, (this.productLoad.get(id) ?? 0) + 1);
      this.inFlight += 1;
      this.writing.add(batch);
      void this.run(batch).finally(() => {
        for (const id of batchProducts) {
          const load = (this.productLoad.get(id) ?? 1) - 1;
          if (load === 0) this.productLoad.delete(id);
          else this.productLoad.set(id, load);
        }
        this.inFlight -= 1;
        this.writing.delete(batch);
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          for (const resolve of this.idle.splice(0)) resolve();
        }
      });
    }
  }

  private async run(all: Pending[]): Promise<void> {
    const batch = all.filter((pending) => {
      if (!this.late(pending)) return true;
      pending.reject(new StockConflictError());
      return false;
    });
    if (batch.length === 0) return;
    try {
      const results = await this.commitWithRetries(batch);
      batch.forEach((pending, i) => settle(pending, results[i]!));
      await this.releaseHolds(batch.filter((_, i) => !(results[i] instanceof Error)));
    } catch (error) {
      if (batch.length > 1 && !isDatabaseUnavailable(error)) {
        // Isolate: every order gets the answer it would have had alone.
        for (const pending of batch) await this.run([pending]);
        return;
      }
      // With the database away, every order of the batch is answered at once (503).
      for (const pending of batch) pending.reject(error);
    }
  }

  private async releaseHolds(committed: Pending[]): Promise<void> {
    const { gate } = this.options;
    if (!gate || committed.length === 0) return;
    const byProduct = new Map<number, string[]>();
    for (const { draft } of committed) {
      for (const line of draft.lines) {
        const ids = byProduct.get(line.productId) ?? [];
        ids.push(draft.reservationId);
        byProduct.set(line.productId, ids);
      }
    }
    // A release that fails leaves a hold whose order exists; the sync recognises and drops it.
    await Promise.all(
      [...byProduct].map(([productId, reservationIds]) =>
        gate.release({ productId, reservationIds }).catch((error: unknown) => {
          this.options.logger.debug({ err: error }, 'releasing committed holds failed');
        }),
      ),
    );
  }

  private late(pending: Pending): boolean {
    return performance.now() - pending.queuedAt > this.options.deadlineMs;
  }

  private async commitWithRetries(batch: Pending[]): Promise<(OrderRecord | Error)[]> {
    const drafts = batch.map((pending) => pending.draft);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.commit(drafts);
      } catch (error) {
        if (drafts.length === 1 && isForeignKeyViolation(error, 'orders_user_id_users_id_fk')) {
          // A valid token of an account that is gone (say, after a database reset).
          return [new UnauthorizedError('This account no longer exists.')];
        }
        if (drafts.length === 1 && isUniqueViolation(error, 'orders_reservation_id_key')) {
          // Reservation ids are new for every attempt: only this order's own earlier commit,
          // whose answer the lost connection swallowed, can hold it.
          return [new OrderAlreadyWrittenError(drafts[0]!.reservationId)];
        }
        const unavailable = isDatabaseUnavailable(error);
        const cause = unavailable ? 'connection' : retryCauseOf(error);
        if (error instanceof BatchDoesNotFit || cause === undefined) throw error;
        this.options.metrics.dbRetries.inc({ cause });
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined || batch.some((pending) => this.late(pending))) {
          if (drafts.length > 1 || unavailable) throw error;
          return [new StockConflictError(error)];
        }
        await sleep(delay);
      }
    }
  }

  private async commit(drafts: OrderDraft[]): Promise<(OrderRecord | Error)[]> {
    const started = performance.now();
    const client = await this.options.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const results = await this.writeOrders(client, drafts);
      await client.query('COMMIT');
      this.options.metrics.orderBatchSize.observe(drafts.length);
      this.options.metrics.orderCommitDuration.observe((performance.now() - started) / 1000);
      return results;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      if (error instanceof Refused) return [error.answer];
      throw error;
    } finally {
      // A connection that could not even roll back is thrown away, not reused.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  private async writeOrders(
    client: PoolClient,
    drafts: OrderDraft[],
  ): Promise<(OrderRecord | Error)[]> {
    const results: (OrderRecord | Error | undefined)[] = drafts.map(() => undefined);

    // 1. Take the stock, products in ascending id order (the lock order that rules out deadlock).
    const need = new Map<number, number>();
    for (const draft of drafts) {
      for (const line of draft.lines)
        need.set(line.productId, (need.get(line.productId) ?? 0) + line.quantity);
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
      if (taken.rowCount === 0) {
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
    }

    // 2. Prices, names and caps come from the database, never from the client.
    const catalog = await client.query<{
      id: number;
      name: string;
      price_cents: number;
      currency: string;
      max_per_user: number | null;
    }>({
      name: 'order-products',
      text: 'SELECT id, name, price_cents, currency, max_per_user FROM products WHERE id = ANY($1::int[])',
      values: [productIds],
    });
    const products = new Map(catalog.rows.map((row) => [row.id, row]));

    // 3. Per-user caps, counted over live orders under the stock row lock just taken: every
    //    other order for these products is committed (visible) or waiting behind us.
    for (const productId of productIds) {
      const limit = products.get(productId)?.max_per_user;
      if (limit === undefined || limit === null) continue;
      const buying = drafts.filter((d) => d.lines.some((l) => l.productId === productId));
      const live = await client.query<{ user_id: number; units: number }>({
        name: 'cap-read',
        text: `SELECT o.user_id, SUM(oi.quantity)::int AS units
               FROM orders o JOIN order_items oi ON oi.order_id = o.id
               WHERE o.user_id = ANY($1::int[]) AND oi.product_id = $2
                 AND o.status IN ('pending_payment', 'paid')
               GROUP BY o.user_id`,
        values: [[...new Set(buying.map((d) => d.userId))], productId],
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

    // 4. The orders. A key the user already used makes no second order (unique index).
    const writable = drafts.flatMap((draft, i) => (results[i] ? [] : [{ draft, i }]));
    const priced = writable.map(({ draft, i }) => {
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
      return { draft, i, items, total, currency };
    });
    const inserted = priced.length
      ? await client.query<{
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
            this.options.paymentTtlSeconds,
          ],
        })
      : { rows: [] };
    const rows = new Map(inserted.rows.map((row) => [row.reservation_id, row]));

    const created: { draft: OrderDraft; order: OrderRecord }[] = [];
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

    // 5. Units taken in step 1 for orders that were refused after it go back (rows still ours).
    const untaken = new Map<number, number>();
    drafts.forEach((draft, i) => {
      if (results[i] instanceof Error) {
        for (const line of draft.lines)
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

    if (created.length > 0) {
      const items = created.flatMap(({ order }) => order.items.map((item) => ({ order, item })));
      // 6. Items and the ledger: one row per order and product, cause 'order'.
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
      // 7. The idempotency record of each keyed order: a replay answers this order again.
      const keyed = created.filter(({ draft }) => draft.idempotency);
      if (keyed.length > 0) {
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
            this.options.idempotencyTtlSeconds,
          ],
        });
      }
    }
    return results as (OrderRecord | Error)[];
  }
}

function settle(pending: Pending, result: OrderRecord | Error): void {
  if (result instanceof Error) pending.reject(result);
  else pending.resolve(result);
}
