import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';

/** The route label for requests no route matched: one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Request duration and count by method, route template (never the raw URL) and status. The
 * timing comes from Fastify's own clock; the cost is two label lookups per answer.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode),
    };
    metrics.httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
    metrics.httpRequests.inc(labels);
    done();
  });
}
