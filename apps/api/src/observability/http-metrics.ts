import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.ts';

/** The route label for requests no route matched: one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Request duration and count by method, route template (never the raw URL) and status. The
 * timing comes from Fastify's own clock; the cost is two label lookups per answer.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    observeAnswer(metrics, request, reply);
    done();
  });
}

/**
 * Count one answer. The hook above calls it for every routed request; an answer Fastify gives
 * before routing (its `frameworkErrors` handler: an undecodable URL) runs no hook, so that
 * handler calls it itself, and the answer is counted under `unmatched`.
 */
export function observeAnswer(
  metrics: Metrics,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (!metrics.enabled) return;
  const labels = {
    method: request.method,
    route: request.routeOptions?.url ?? UNMATCHED_ROUTE,
    status_code: String(reply.statusCode),
  };
  const elapsedMs = reply.elapsedTime;
  metrics.httpRequestDuration.observe(labels, Number.isFinite(elapsedMs) ? elapsedMs / 1000 : 0);
  metrics.httpRequests.inc(labels);
}
