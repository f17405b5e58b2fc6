import { sql } from 'drizzle-orm';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Outage } from '../../lib/outage.ts';
import { isDatabaseTimeout, isDatabaseUnavailable } from '../../lib/pg-errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Admission, StoredAnswer } from '../stock/gate/types.ts';

export interface RefusalRecord {
  readonly userId: number;
  readonly key: string;
  readonly fingerprint: string;
  readonly status: number;
  readonly body: unknown;
}

/**
 * Idempotency answers kept in PostgreSQL for 24 hours. A created order's record is written in
 * the order's own transaction. A refusal (sold out, over the cap, ...) is answered from the gate
 * at once and written here in batches a moment later, so a sell-out storm costs the database a
 * handful of inserts, not one per buyer. After the cache loses its data, `warm` reloads them.
 *
 * While PostgreSQL is away the records wait in memory and are written when it is back (up to
 * `maxPending`; beyond that the oldest are dropped and counted). They are lost only if the
 * process dies before they are written; then, and only if Redis loses its data too, such a key
 * is decided afresh (API.md, "Which answers a key keeps").
 */
export class IdempotencyLog {
  private buffer: RefusalRecord[] = [];
  /** The (user, key) pairs in `buffer`. */
  private readonly buffered = new Set<string>();
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: {
      readonly pool: Pool;
      readonly db: Db;
      readonly logger: Logger;
      readonly metrics: Metrics;
      readonly outage: Outage;
      readonly ttlSeconds: number;
      readonly flushIntervalMs: number;
      readonly maxPending: number;
    },
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  record(refusal: RefusalRecord): void {
    // A key replayed again and again is written once (the insert keeps the first anyway).
    const slot = `${refusal.userId}\u0000${refusal.key}`;
    if (this.buffered.has(slot)) return;
    this.buffered.add(slot);
    this.buffer.push(refusal);
    this.options.metrics.idempotencyRecordsPending.set(this.buffer.length);
    if (this.buffer.length >= 500) void this.flush();
  }

  /** Write what is buffered. Safe to call at any time; calls do not overlap. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.flushing = this.write(rows).finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(rows: RefusalRecord[]): Promise<void> {
    const { metrics, maxPending } = this.options;
    try {
      // One JSON document for the whole batch: serialised natively, expanded by PostgreSQL.
      await this.options.pool.query({
        name: 'idempotency-insert-refusals',
        text: `INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response_body, expires_at)
               SELECT u.user_id, u.key, u.fingerprint, u.status, u.body, now() + make_interval(secs => $2)
               FROM jsonb_to_recordset($1::jsonb)
                    AS u(user_id int, key text, fingerprint text, status smallint, body jsonb)
               ON CONFLICT (user_id, key) DO NOTHING`,
        values: [
          JSON.stringify(
            rows.map((r) => ({
              user_id: r.userId,
              key: r.key,
              fingerprint: r.fingerprint,
              status: r.status,
              body: r.body,
            })),
          ),
          this.options.ttlSeconds,
        ],
      });
      metrics.idempotencyRecordsWritten.inc(rows.length);
      this.forget(rows);
    } catch (error) {
      if (!isDatabaseUnavailable(error) && !isDatabaseTimeout(error)) {
        // A batch the database refuses (not one it could not take) would be refused forever.
        // Losing it only means these keys' replays are decided again: never a second order.
        this.options.logger.warn({ err: error, count: rows.length }, 'idempotency records refused');
        metrics.idempotencyRecordsDropped.inc(rows.length);
        this.forget(rows);
        return;
      }
      // Kept for the next flush, the oldest first, while the database is away.
      this.options.outage.failed(error);
      this.buffer = rows.concat(this.buffer);
      const excess = this.buffer.length - maxPending;
      if (excess > 0) {
        this.forget(this.buffer.splice(0, excess));
        metrics.idempotencyRecordsDropped.inc(excess);
      }
    } finally {
      metrics.idempotencyRecordsPending.set(this.buffer.length);
    }
  }

  private forget(rows: readonly RefusalRecord[]): void {
    for (const row of rows) this.buffered.delete(`${row.userId}\u0000${row.key}`);
  }

  /** Reload every unexpired answer into the gate (after it lost its data, or at start-up). */
  async warm(admission: Admission): Promise<number> {
    await this.flush();
    let after = { userId: 0, key: '' };
    let loaded = 0;
    for (;;) {
      const page = await this.options.db.execute<{
        user_id: number;
        key: string;
        fingerprint: string;
        status_code: number;
        response_body: unknown;
        order_id: number | null;
        ttl_ms: number;
      }>(sql`
        SELECT user_id, key, fingerprint, status_code, response_body, order_id,
               (EXTRACT(EPOCH FROM expires_at - now()) * 1000)::bigint AS ttl_ms
        FROM idempotency_keys
        WHERE expires_at > now() AND (user_id, key) > (${after.userId}, ${after.key})
        ORDER BY user_id, key LIMIT 5000`);
      if (page.rows.length === 0) return loaded;
      await admission.rememberMany(
        page.rows.map((row) => {
          const answer: StoredAnswer =
            row.order_id !== null
              ? { status: row.status_code, orderId: row.order_id }
              : { status: row.status_code, body: row.response_body };
          return {
            userId: row.user_id,
            key: row.key,
            fingerprint: row.fingerprint,
            answer,
            ttlMs: Number(row.ttl_ms),
          };
        }),
      );
      loaded += page.rows.length;
      const last = page.rows.at(-1)!;
      after = { userId: last.user_id, key: last.key };
    }
  }

  /** Drop records past their 24 hours. */
  async purgeExpired(): Promise<number> {
    const result = await this.options.db.execute(
      sql`DELETE FROM idempotency_keys WHERE expires_at <= now()`,
    );
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
