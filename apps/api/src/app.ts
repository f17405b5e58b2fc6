import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppContext } from './context.ts';
import { registerErrorHandling, sendError, sendNotFound } from './http/error-handler.ts';
import { registerOpenApi } from './http/openapi.ts';
import { loggableUrl } from './http/loggable-url.ts';
import { requestIdOf } from './http/request-id.ts';
import { securityHeaders } from './http/security-headers.ts';
import { registerWeb } from './http/web.ts';
import { DEFAULT_WEB_DIST } from './paths.ts';
import type { LoginLimiter } from './modules/auth/login-limiter.ts';
import { authPlugin } from './modules/auth/plugin.ts';
import { authRoutes } from './modules/auth/routes.ts';
import { adminRoutes } from './modules/admin/routes.ts';
import { liveRoutes } from './modules/live/routes.ts';
import { metricsRoutes, opsRoutes } from './modules/ops/routes.ts';
import { orderRoutes } from './modules/orders/routes.ts';
import { productRoutes } from './modules/products/routes.ts';
import { queueAdminRoutes, queueRoutes } from './modules/queue/routes.ts';
import { observeAnswer, registerHttpMetrics } from './observability/http-metrics.ts';
import { registerErrorRateWatcher } from './observability/error-rate-watcher.ts';

export const BODY_LIMIT_BYTES = 64 * 1024;

/** The whole HTTP application over a started runtime. Never listens: `server.ts` does. */
export async function buildApp({
  ctx,
  loginLimiter,
}: {
  ctx: AppContext;
  /** Sign-in attempt limits; by default the runtime's (shared through Redis when there is one). */
  loginLimiter?: LoginLimiter;
}): Promise<FastifyInstance> {
  const headerOptions = {
    tlsInFront: ctx.config.tlsInFront,
    imageOrigins: ctx.config.imageOrigins,
  };
  const setSecurityHeaders = securityHeaders(headerOptions);

  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // One line per answered request is logged below (when REQUEST_LOG is on), not two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    genReqId: requestIdOf,
    bodyLimit: BODY_LIMIT_BYTES,
    // Bodies carrying __proto__ or constructor.prototype are refused, not cleaned.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // A URL that cannot be decoded (or a path segment over 100 characters) never reaches a
    // route: answer it with API.md's error body like any other bad input.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      setSecurityHeaders(reply, request.url);
      sendError(reply, 400, {
        error: {
          code: 'validation_failed',
          message: 'The request URL is not valid.',
          details: { fields: [{ path: 'url', message: error.message }] },
        },
      });
      // No hook runs for an answer given before routing: it is counted here.
      if (ctx.config.metrics) observeAnswer(ctx.metrics, request, reply);
    },
    // A client trickling its headers or body, or idling on a kept-alive connection, holds a
    // socket and its memory: each gets a deadline (checked twice a second).
    requestTimeout: ctx.config.timeouts.requestMs,
    keepAliveTimeout: ctx.config.timeouts.keepAliveMs,
    http: {
      headersTimeout: ctx.config.timeouts.headersMs,
      connectionsCheckingInterval: 500,
    },
    return503OnClosing: true,
    trustProxy: ctx.config.trustProxy,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app, ctx.database.outage);
  registerBodyParsers(app);

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    setSecurityHeaders(reply, request.url);
    done();
  });
  if (ctx.config.requestLog) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          method: request.method,
          url: loggableUrl(request.url),
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request answered',
      );
      done();
    });
  }
  if (ctx.config.metrics || ctx.config.requestLog) {
    registerHttpMetrics(app, ctx.metrics, { logAbandoned: ctx.config.requestLog });
  }
  registerErrorRateWatcher(app, ctx);

  if (ctx.config.apiDocs) await registerOpenApi(app, headerOptions);

  await app.register(authPlugin, { ctx });
  await app.register(opsRoutes, { ctx });
  if (!ctx.config.metricsListener) await app.register(metricsRoutes, { ctx, onOwnPort: false });
  // A limiter given here is the app's to close; the runtime's is the runtime's.
  if (loginLimiter) app.addHook('onClose', () => loginLimiter.close());
  await app.register(authRoutes, {
    ctx,
    loginLimiter: loginLimiter ?? ctx.loginLimiter,
    prefix: '/api/auth',
  });
  await app.register(productRoutes, { ctx, prefix: '/api/products' });
  await app.register(orderRoutes, { ctx, prefix: '/api/orders' });
  await app.register(queueRoutes, { ctx, prefix: '/api/queues' });
  await app.register(adminRoutes, { ctx, prefix: '/api/admin' });
  await app.register(queueAdminRoutes, { ctx, prefix: '/api/admin/products' });
  await app.register(liveRoutes, { ctx, prefix: '/api/admin/live' });

  const pageFallback = await registerWeb(app, {
    webDistDir: ctx.config.webDistDir ?? DEFAULT_WEB_DIST,
    sourceMaps: ctx.config.webSourceMaps,
  });
  app.setNotFoundHandler(
    (request, reply) => pageFallback?.(request, reply) ?? sendNotFound(request, reply),
  );
  return app;
}

/**
 * The metrics listener of METRICS_PORT: /metrics alone, answered as on the shop's port (the
 * same error bodies), and nothing else. Never listens: `server.ts` does.
 */
export async function buildMetricsApp({ ctx }: { ctx: AppContext }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  registerErrorHandling(app);
  await app.register(metricsRoutes, { ctx, onOwnPort: true });
  app.setNotFoundHandler(sendNotFound);
  return app;
}

/**
 * Bodies are JSON or nothing. The JSON parser refuses `__proto__` and `constructor.prototype`
 * keys (400) and reads an empty body as no body, so `POST /api/orders/1/pay` with a JSON content
 * type and nothing to send works as it would without the header; a route that needs a body
 * still answers 400 for it. Plain text is not parsed at all: it gets 415, like any other type.
 */
function registerBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    // Callback style: it answers through `done`; whatever it returns is not the answer.
    void parseJson(request, text, done);
  });
  app.removeContentTypeParser('text/plain');
}
