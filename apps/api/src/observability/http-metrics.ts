import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.ts';

/** The route label for requests no route matched: one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The status label of a request whose client hung up before it was answered (nginx's code for
 * the same). It is never sent: there is no one left to send it to.
 */
export const CLIENT_GONE_STATUS = 499;

/**
 * Route config of a reply that stays open by design (the live sale stream): it is neither a
 * request in flight nor an answer whose duration means anything, so HTTP metrics leave it out.
 */
export const LONG_LIVED = { longLived: true } as const;

declare module 'fastify' {
  interface FastifyContextConfig {
    longLived?: boolean;
  }
}

/**
 * Request duration and count by method, route template (never the raw URL) and status, and the
 * requests in flight. A request whose client goes away before its answer is counted at that
 * moment with status 499 and the time the client waited: a stall (a locked row, a database that
 * stopped answering) shows in the latency and in its own status instead of nowhere. The timing
 * comes from Fastify's own clock; the cost is a map entry and a listener per request.
 */
export function registerHttpMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  options: { logAbandoned: boolean },
): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.longLived) {
      done();
      return;
    }
    metrics.inFlight.add(request, request.method, request.routeOptions.url ?? UNMATCHED_ROUTE);
    reply.raw.once('close', () => {
      // Answered: the onResponse hook below counted it. Not answered: the client hung up.
      if (reply.raw.writableFinished || !metrics.inFlight.delete(request)) return;
      observeRequest(metrics, request, CLIENT_GONE_STATUS, reply.elapsedTime);
      if (options.logAbandoned) {
        request.log.info(
          {
            method: request.method,
            url: request.url,
            statusCode: CLIENT_GONE_STATUS,
            ms: Math.round(reply.elapsedTime * 10) / 10,
          },
          'request abandoned by the client before its answer',
        );
      }
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (!request.routeOptions.config?.longLived) {
      metrics.inFlight.delete(request);
      observeAnswer(metrics, request, reply);
    }
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
  observeRequest(metrics, request, reply.statusCode, reply.elapsedTime);
}

function observeRequest(
  metrics: Metrics,
  request: FastifyRequest,
  statusCode: number,
  elapsedMs: number,
): void {
  if (!metrics.enabled) return;
  const labels = {
    method: request.method,
    route: request.routeOptions?.url ?? UNMATCHED_ROUTE,
    status_code: String(statusCode),
  };
  metrics.httpRequestDuration.observe(labels, Number.isFinite(elapsedMs) ? elapsedMs / 1000 : 0);
  metrics.httpRequests.inc(labels);
}
