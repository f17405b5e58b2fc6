import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import {
  OrderAlreadyWrittenError,
  StockConflictError,
  UnauthorizedError,
} from '../../lib/errors.ts';
import {
  isDatabaseUnavailable,
  isForeignKeyViolation,
  isUniqueViolation,
  RETRY_DELAYS_MS,
  retryCauseOf,
} from '../../lib/pg-errors.ts';
import type { Metrics, WriterBacklog } from '../../observability/metrics.ts';
import type { OrderRecord } from './types.ts';
import { BatchDoesNotFit, Refused, writeBatch, type OrderDraft } from './write-batch.ts';

/**
 * Orders the gate admitted, written to PostgreSQL (the SQL of one batch is `write-batch.ts`).
 * Orders for the same products are written together (group commit): while one transaction
 * runs, the next orders queue and share the next transaction. Each order keeps its own
 * all-or-nothing answer: if the batch as a whole does not fit, each of its orders is retried in
 * a transaction of its own. Transactions touching one product at once are bounded, so a hot row
 * is not mobbed. With the gate off every order has its own transaction, as in the naive design.
 */

export type { OrderDraft };

interface Pending {
  readonly draft: OrderDraft;
  /** When the order reached the writer (`performance.now()`). */
  readonly queuedAt: number;
  resolve(order: OrderRecord): void;
  reject(error: unknown): void;
}

export interface OrderWriterOptions {
  readonly pool: Pool;
  readonly metrics: Metrics;
  readonly paymentTtlSeconds: number;
  readonly idempotencyTtlSeconds: number;
  /** Orders per transaction; 1 writes every order alone. */
  readonly maxBatch: number;
  readonly maxConcurrentTransactions: number;
  /**
   * Transactions touching one product at once, in all API processes together, so a hot row is
   * not mobbed: this process's share is set by `shareWith`.
   */
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

  private perProductShare: number;

  constructor(private readonly options: OrderWriterOptions) {
    this.perProductShare = options.perProductConcurrency;
  }

  /**
   * `processes` API processes write orders now: each takes its share of the per-product bound
   * (at least one transaction), so that together they keep to it, and each one's queue, not the
   * row lock, is where orders wait and are batched (group commit).
   */
  shareWith(processes: number): void {
    this.perProductShare = Math.max(
      1,
      Math.floor(this.options.perProductConcurrency / Math.max(1, processes)),
    );
    this.pump();
  }

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
    const { maxBatch, maxConcurrentTransactions } = this.options;
    const perProductConcurrency = this.perProductShare;
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
      const results = await writeBatch(client, drafts, this.options);
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
}

function settle(pending: Pending, result: OrderRecord | Error): void {
  if (result instanceof Error) pending.reject(result);
  else pending.resolve(result);
}
