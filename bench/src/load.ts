import { Pool } from 'undici';
import { Histogram } from './histogram.ts';

/**
 * The open-model load client. Arrivals follow a schedule (a rate per segment), not the answers:
 * each request has a scheduled send time, and its latency is measured from that time, so a
 * server (or a client) that falls behind shows it in the latency instead of quietly sending less
 * (no coordinated omission). Requests that cannot even be sent are counted, never hidden.
 */

export type ShotKind = 'order' | 'stock' | 'list';

export interface Shot {
  readonly kind: ShotKind;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Whatever the caller needs back with the answer (buyer, key, product). */
  readonly tag?: unknown;
}

export type AnswerClass = 'success' | 'rejected' | 'read' | 'error';

export interface Answer {
  readonly shot: Shot;
  /** HTTP status, or 0 when no HTTP answer came (timeout, reset, drop). */
  readonly status: number;
  /** `status_counts` key: "201", "409 insufficient_stock", "client_timeout", ... */
  readonly outcome: string;
  readonly cls: AnswerClass;
  /** Parsed JSON body of an order answer (undefined for reads). */
  readonly body: unknown;
  readonly scheduledAt: number;
  readonly doneAt: number;
  readonly latencyUs: number;
}

export interface Segment {
  readonly name: string;
  /** Arrivals per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** Shot number `i` of this segment (0-based). */
  readonly next: (i: number) => Shot;
}

/** Latency and counts of a group of answers. */
export class Tally {
  readonly success = new Histogram();
  readonly rejected = new Histogram();
  readonly read = new Histogram();
  readonly all = new Histogram();
  readonly outcomes: Record<string, number> = {};
  offered = 0;
  errors = 0;

  add(answer: Answer): void {
    this.outcomes[answer.outcome] = (this.outcomes[answer.outcome] ?? 0) + 1;
    if (answer.cls === 'error') {
      this.errors += 1;
      if (answer.status === 0) return;
    }
    this.all.record(answer.latencyUs);
    if (answer.cls === 'success') this.success.record(answer.latencyUs);
    else if (answer.cls === 'rejected') this.rejected.record(answer.latencyUs);
    else if (answer.cls === 'read') this.read.record(answer.latencyUs);
  }

  merge(other: Tally): void {
    this.success.merge(other.success);
    this.rejected.merge(other.rejected);
    this.read.merge(other.read);
    this.all.merge(other.all);
    for (const [key, n] of Object.entries(other.outcomes))
      this.outcomes[key] = (this.outcomes[key] ?? 0) + n;
    this.offered += other.offered;
    this.errors += other.errors;
  }
}

/** Counts per time window (by completion time), for throughput-over-time charts. */
export interface Window {
  offered: number;
  success: number;
  rejected: number;
  read: number;
  errors: number;
  latency: Histogram;
}

export class Timeline {
  readonly windows: Window[] = [];
  constructor(
    readonly origin: number,
    readonly windowMs: number,
  ) {}

  private at(time: number): Window {
    const index = Math.max(0, Math.floor((time - this.origin) / this.windowMs));
    while (this.windows.length <= index) {
      this.windows.push({
        offered: 0,
        success: 0,
        rejected: 0,
        read: 0,
        errors: 0,
        latency: new Histogram(),
      });
    }
    return this.windows[index]!;
  }

  offered(time: number): void {
    this.at(time).offered += 1;
  }

  answered(answer: Answer): void {
    const window = this.at(answer.doneAt);
    window[answer.cls === 'error' ? 'errors' : answer.cls] += 1;
    if (answer.status !== 0 && answer.cls !== 'read') window.latency.record(answer.latencyUs);
  }
}

export interface SegmentResult {
  readonly name: string;
  readonly rate: number;
  readonly startAt: number;
  readonly endAt: number;
  /** Answers to the shots scheduled in this segment. */
  readonly tally: Tally;
  /** Answers of any segment received during this one, per second. */
  readonly answeredPerS: number;
  readonly successPerS: number;
  /** Shots of this segment sent later than 5 ms after their scheduled time (client behind). */
  readonly lateSends: number;
}

export interface LoadClientOptions {
  readonly origin: string;
  readonly connections: number;
  readonly pipelining: number;
  readonly timeoutMs: number;
  /** Beyond this many requests in flight (queued in the client included), arrivals are dropped. */
  readonly maxInFlight: number;
}

export class LoadClient {
  private readonly pool: Pool;
  inFlight = 0;
  private answeredCount = 0;
  private successCount = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(readonly options: LoadClientOptions) {
    this.pool = new Pool(options.origin, {
      connections: options.connections,
      pipelining: options.pipelining,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: 5_000,
    });
  }

  /** Answers so far, all segments (for the progress line). */
  get answered(): number {
    return this.answeredCount;
  }

  get succeeded(): number {
    return this.successCount;
  }

  /**
   * Run segments back to back on one schedule. `after(result)` runs at each segment boundary
   * and may stop the run (return false). Resolves when every answer is in (or timed out).
   */
  async run(
    segments: Iterable<Segment> | Iterator<Segment, void, SegmentResult | undefined>,
    hooks: {
      onAnswer: (answer: Answer) => void;
      timeline?: Timeline;
      after?: (result: SegmentResult) => boolean;
    },
  ): Promise<SegmentResult[]> {
    const iterator: Iterator<Segment, void, SegmentResult | undefined> =
      Symbol.iterator in (segments as object)
        ? (segments as Iterable<Segment>)[Symbol.iterator]()
        : (segments as Iterator<Segment, void, SegmentResult | undefined>);
    const results: SegmentResult[] = [];
    const pending: Promise<void>[] = [];

    type Live = {
      segment: Segment;
      startAt: number;
      sent: number;
      tally: Tally;
      answeredAtStart: number;
      successAtStart: number;
      late: number;
    };
    const begin = (segment: Segment, startAt: number): Live => ({
      segment,
      startAt,
      sent: 0,
      tally: new Tally(),
      answeredAtStart: this.answeredCount,
      successAtStart: this.successCount,
      late: 0,
    });

    let first = iterator.next(undefined);
    if (first.done) return results;
    let live = begin(first.value, performance.now());
    const finished = new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        for (;;) {
          const { segment } = live;
          const interval = 1000 / segment.rate;
          const endAt = live.startAt + segment.durationMs;
          const scheduledAt = live.startAt + live.sent * interval;
          if (scheduledAt >= endAt) {
            if (endAt > now) break;
            const seconds = segment.durationMs / 1000;
            const result: SegmentResult = {
              name: segment.name,
              rate: segment.rate,
              startAt: live.startAt,
              endAt,
              tally: live.tally,
              answeredPerS: (this.answeredCount - live.answeredAtStart) / seconds,
              successPerS: (this.successCount - live.successAtStart) / seconds,
              lateSends: live.late,
            };
            results.push(result);
            const keepGoing = hooks.after ? hooks.after(result) : true;
            first = keepGoing ? iterator.next(result) : { done: true, value: undefined };
            if (first.done) {
              resolve();
              return;
            }
            live = begin(first.value, endAt);
            continue;
          }
          if (scheduledAt > now) break;
          const shot = segment.next(live.sent);
          live.sent += 1;
          live.tally.offered += 1;
          if (now - scheduledAt > 5) live.late += 1;
          hooks.timeline?.offered(scheduledAt);
          pending.push(this.fire(shot, scheduledAt, live.tally, hooks));
        }
        setTimeout(tick, 1);
      };
      tick();
    });
    await finished;
    await Promise.all(pending);
    return results;
  }

  private async fire(
    shot: Shot,
    scheduledAt: number,
    tally: Tally,
    hooks: { onAnswer: (answer: Answer) => void; timeline?: Timeline },
  ): Promise<void> {
    const settle = (status: number, outcome: string, cls: AnswerClass, body: unknown) => {
      const doneAt = performance.now();
      const answer: Answer = {
        shot,
        status,
        outcome,
        cls,
        body,
        scheduledAt,
        doneAt,
        latencyUs: (doneAt - scheduledAt) * 1000,
      };
      if (status !== 0) this.answeredCount += 1;
      if (cls === 'success') this.successCount += 1;
      tally.add(answer);
      hooks.timeline?.answered(answer);
      hooks.onAnswer(answer);
    };
    if (this.inFlight >= this.options.maxInFlight) {
      settle(
        0,
        shot.kind === 'order' ? 'client_dropped' : `${shot.kind} client_dropped`,
        'error',
        undefined,
      );
      return;
    }
    this.inFlight += 1;
    try {
      const response = await this.pool.request({
        method: shot.method,
        path: shot.path,
        headers: shot.headers,
        body: shot.body,
      });
      const text = await response.body.text();
      const status = response.statusCode;
      if (shot.kind !== 'order') {
        const ok = status === 200;
        settle(status, `${shot.kind} ${status}`, ok ? 'read' : 'error', undefined);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const code = (body as { error?: { code?: string } } | undefined)?.error?.code;
      const outcome = code ? `${status} ${code}` : String(status);
      const cls: AnswerClass =
        status === 201
          ? 'success'
          : (status >= 400 && status < 500) || status === 503
            ? 'rejected'
            : 'error';
      settle(status, outcome, cls, body);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unknown';
      const outcome =
        code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
          ? 'client_timeout'
          : `client_error ${code}`;
      settle(0, shot.kind === 'order' ? outcome : `${shot.kind} ${outcome}`, 'error', undefined);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves once nothing is in flight (or after `timeoutMs`). */
  idle(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One request outside any schedule (setup, checks). */
  async call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    options: { token?: string; json?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const response = await this.pool.request({
      method,
      path,
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
    });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.statusCode, body };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
