import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';

export const WATCHED_ENDPOINT = '/api/orders';

export interface ErrorRateWatcherOptions {
  readonly windowMs: number;
  readonly threshold: number;
  readonly minimumSample: number;
  readonly now: () => number;
}

export const DEFAULT_WATCHER: ErrorRateWatcherOptions = {
  windowMs: 60_000,
  threshold: 0.05,
  minimumSample: 20,
  // Read through `Date` at each call (not a saved reference), so a test clock applies.
  now: () => Date.now(),
};

/**
 * A sliding window of one-second buckets over the answers of the order endpoints. When the share
 * of 5xx in the window passes the threshold (with a minimum sample), one JSON warning is logged,
 * at most once per window: the in-process early warning beside Prometheus' alert.
 */
export class ErrorRateWatcher {
  private readonly buckets: { second: number; total: number; errors: number }[];
  private lastAlertAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly onAlert: (alert: {
      alert_type: 'ERROR_RATE_EXCEEDED';
      endpoint: string;
      error_rate: number;
      threshold: number;
    }) => void,
    private readonly options: ErrorRateWatcherOptions = DEFAULT_WATCHER,
  ) {
    const slots = Math.ceil(options.windowMs / 1000);
    this.buckets = Array.from({ length: slots }, () => ({ second: -1, total: 0, errors: 0 }));
  }

  observe(statusCode: number): void {
    const now = this.options.now();
    const second = Math.floor(now / 1000);
    const bucket = this.buckets[second % this.buckets.length]!;
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.total = 0;
      bucket.errors = 0;
    }
    bucket.total += 1;
    if (statusCode >= 500) bucket.errors += 1;
    if (statusCode >= 500) this.check(now, second);
  }

  private check(now: number, second: number): void {
    if (now - this.lastAlertAt < this.options.windowMs) return;
    let total = 0;
    let errors = 0;
    const oldest = second - this.buckets.length + 1;
    for (const bucket of this.buckets) {
      if (bucket.second < oldest) continue;
      total += bucket.total;
      errors += bucket.errors;
    }
    if (total < this.options.minimumSample) return;
    const rate = errors / total;
    if (rate <= this.options.threshold) return;
    this.lastAlertAt = now;
    this.onAlert({
      alert_type: 'ERROR_RATE_EXCEEDED',
      endpoint: WATCHED_ENDPOINT,
      error_rate: Math.round(rate * 1000) / 1000,
      threshold: this.options.threshold,
    });
  }
}

export function registerErrorRateWatcher(app: FastifyInstance, ctx: AppContext): ErrorRateWatcher {
  const watcher = new ErrorRateWatcher((alert) => {
    ctx.metrics.errorRateAlerts.inc({ endpoint: alert.endpoint });
    ctx.logger.warn(
      alert,
      `ERROR_RATE_EXCEEDED: ${alert.endpoint} error rate is ${(alert.error_rate * 100).toFixed(1)}% ` +
        `(threshold: ${Math.round(alert.threshold * 100)}%)`,
    );
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.routeOptions.url?.startsWith(WATCHED_ENDPOINT)) watcher.observe(reply.statusCode);
    done();
  });
  return watcher;
}
