import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Logger } from '../lib/logger.ts';
import { LATENCY_BUCKETS, type Metrics } from './metrics.ts';

/**
 * The order traffic of one process, as /metrics counts it: attempts by outcome, units ordered,
 * units returned by cause, and the answer latency of POST /api/orders (the histogram's buckets,
 * one count per bucket, the last one past the largest bound). Once a second each process
 * writes what changed to PostgreSQL; every reader sums the processes, so any number of API
 * processes shows one picture, with or without Redis, on one node or a cluster.
 */
export interface TrafficCounts {
  readonly outcomes: Readonly<Record<string, number>>;
  readonly units: number;
  readonly restored: Readonly<Record<string, number>>;
  /** Per latency bucket (LATENCY_BUCKETS, then +Inf), not cumulative. */
  readonly latency: readonly number[];
}

const ORDER_ROUTE = '/api/orders';

/** What the process's counters hold now (cumulative since it started). */
export async function readTrafficCounts(metrics: Metrics): Promise<TrafficCounts> {
  const outcomes: Record<string, number> = {};
  for (const { labels, value } of (await metrics.orderOutcomes.get()).values) {
    outcomes[String(labels.outcome)] = value;
  }
  const restored: Record<string, number> = {};
  for (const { labels, value } of (await metrics.unitsRestored.get()).values) {
    restored[String(labels.cause)] = value;
  }
  const units = (await metrics.unitsOrdered.get()).values[0]?.value ?? 0;
  const cumulative = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  for (const sample of (await metrics.httpRequestDuration.get()).values) {
    const labels = sample.labels as Record<string, string | number | undefined>;
    if (labels.route !== ORDER_ROUTE || labels.method !== 'POST') continue;
    if (!sample.metricName?.endsWith('_bucket')) continue;
    const index =
      labels.le === '+Inf' ? LATENCY_BUCKETS.length : LATENCY_BUCKETS.indexOf(Number(labels.le));
    if (index >= 0) cumulative[index]! += sample.value;
  }
  const latency = cumulative.map((count, i) => count - (i === 0 ? 0 : cumulative[i - 1]!));
  return { outcomes, units, restored, latency };
}

export const EMPTY_COUNTS: TrafficCounts = {
  outcomes: {},
  units: 0,
  restored: {},
  latency: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
};

function combine(a: TrafficCounts, b: TrafficCounts, sign: 1 | -1): TrafficCounts {
  const record = (x: Readonly<Record<string, number>>, y: Readonly<Record<string, number>>) => {
    const out: Record<string, number> = {};
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const value = (x[key] ?? 0) + sign * (y[key] ?? 0);
      if (value !== 0) out[key] = value;
    }
    return out;
  };
  return {
    outcomes: record(a.outcomes, b.outcomes),
    units: a.units + sign * b.units,
    restored: record(a.restored, b.restored),
    latency: EMPTY_COUNTS.latency.map((_, i) => (a.latency[i] ?? 0) + sign * (b.latency[i] ?? 0)),
  };
}

export const addCounts = (a: TrafficCounts, b: TrafficCounts) => combine(a, b, 1);
export const subtractCounts = (a: TrafficCounts, b: TrafficCounts) => combine(a, b, -1);

export function isEmptyCounts(counts: TrafficCounts): boolean {
  return (
    counts.units === 0 &&
    Object.keys(counts.outcomes).length === 0 &&
    Object.keys(counts.restored).length === 0 &&
    counts.latency.every((count) => count === 0)
  );
}

/**
 * A latency quantile from bucket counts, interpolated inside its bucket as Prometheus'
 * `histogram_quantile` does (an answer past the largest bound reads as that bound).
 */
export function latencyQuantile(latency: readonly number[], q: number): number | null {
  const total = latency.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (const [i, count] of latency.entries()) {
    if (below + count >= rank && count > 0) {
      if (i === LATENCY_BUCKETS.length) return LATENCY_BUCKETS.at(-1)!;
      const lower = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!;
      const upper = LATENCY_BUCKETS[i]!;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return LATENCY_BUCKETS.at(-1)!;
}

/**
 * Writes this process's traffic to `live_traffic`, once a second, as the change since its last
 * row. A second without traffic writes nothing. If PostgreSQL does not answer, the change waits
 * in the counters and goes with the next row that succeeds: nothing is lost, nothing crashes.
 */
export class LiveTrafficPublisher {
  /** One name per process start: rows of two processes never collide. */
  readonly process = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private published: TrafficCounts | undefined;
  /** The last second written: a second is written once, so its row is final. */
  private lastSecond = 0;
  private failing = false;

  constructor(
    private readonly options: { db: Db; metrics: Metrics; logger: Logger; now?: () => number },
  ) {}

  private currentSecond(): number {
    return Math.floor((this.options.now?.() ?? Date.now()) / 1000) * 1000;
  }

  /** The first reading is the baseline: what happened before the process started is not news. */
  async start(): Promise<void> {
    this.published = await readTrafficCounts(this.options.metrics);
  }

  /**
   * Write what changed since the last row, as the row of `second` (ms, default: the current
   * one); returns the counts written (undefined: none).
   */
  async publish(second = this.currentSecond()): Promise<TrafficCounts | undefined> {
    const current = await readTrafficCounts(this.options.metrics);
    const delta = subtractCounts(current, this.published ?? EMPTY_COUNTS);
    if (isEmptyCounts(delta)) return undefined;
    // Twice in one second (a slow run, a shutdown): the change goes with the next second.
    if (second <= this.lastSecond) return undefined;
    try {
      const written = await this.options.db.execute(sql`
        INSERT INTO live_traffic (second, process, counts)
        VALUES (to_timestamp(${second / 1000}), ${this.process}, ${JSON.stringify(delta)}::jsonb)
        ON CONFLICT (second, process) DO NOTHING`);
      if (written.rowCount === 0) return undefined;
      this.published = current;
      this.lastSecond = second;
      if (this.failing) this.options.logger.info('live traffic published again');
      this.failing = false;
      return delta;
    } catch (error) {
      if (!this.failing) {
        this.options.logger.warn({ err: error }, 'live traffic not published; it will catch up');
      }
      this.failing = true;
      return undefined;
    }
  }

  /**
   * Publish each second just after it ends (a quarter second past the boundary), the row
   * carrying that second: the counts of a second land in its own row, not one early or late,
   * however the timer drifts. A late run (a busy event loop) skips to the next boundary and the
   * change goes with it.
   */
  startPublishing(): { stop(): Promise<void> } {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> | undefined;
    let stopped = false;
    const schedule = () => {
      if (stopped) return;
      const now = Date.now();
      timer = setTimeout(run, 1000 - (now % 1000) + 250);
      timer.unref();
    };
    const run = () => {
      const second = Math.floor(Date.now() / 1000) * 1000 - 1000;
      running = this.publish(second)
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'live traffic failed'))
        .finally(schedule);
    };
    schedule();
    return {
      async stop() {
        stopped = true;
        clearTimeout(timer);
        await running;
      },
    };
  }

  /** Rows older than the retention go. */
  async purge(retentionDays: number): Promise<number> {
    const result = await this.options.db.execute(sql`
      DELETE FROM live_traffic WHERE second < now() - make_interval(days => ${retentionDays})`);
    return result.rowCount ?? 0;
  }
}
