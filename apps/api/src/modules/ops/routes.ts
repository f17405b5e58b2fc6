import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Health, Readiness } from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import { typed, type RoutesPlugin } from '../../http/route-types.ts';
import { ForbiddenError, UnauthorizedError } from '../../lib/errors.ts';

/** Liveness and readiness (database and stock cache). */
export const opsRoutes: RoutesPlugin = async (app, { ctx }) => {
  const r = typed(app);
  r.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'The process runs', response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  r.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'The database and the stock cache answer',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [database, cache] = await Promise.all([
        ctx.db.execute(sql`SELECT 1`).then(
          () => true,
          () => false,
        ),
        ctx.stock.ping(),
      ]);
      const ok = database && cache;
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'unavailable',
        checks: { database: database ? 'ok' : 'down', stock_cache: cache ? 'ok' : 'down' },
      });
    },
  );
};

/**
 * Prometheus metrics: live sale figures, so not for the public. With METRICS_TOKEN a scrape must
 * present it; without one, on the shop's port only this machine may scrape (the peer address of
 * the connection itself, and no forwarding header: a proxy on this machine would otherwise make
 * the whole internet local); on its own port (METRICS_PORT) whoever reaches it, so bind it
 * where only Prometheus does.
 */
export const metricsRoutes = async (
  app: FastifyInstance,
  { ctx, onOwnPort }: { ctx: AppContext; onOwnPort: boolean },
): Promise<void> => {
  const token = ctx.config.metricsToken;
  const expected = token === undefined ? undefined : digest(token);
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (expected) {
      const match = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '');
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new UnauthorizedError('Metrics need the METRICS_TOKEN bearer token.');
      }
    } else if (!onOwnPort && !isLocalRequest(request)) {
      throw new ForbiddenError(
        'Metrics are served to this machine only; set METRICS_TOKEN or METRICS_PORT.',
      );
    }
  };
  app.get('/metrics', { schema: { hide: true }, onRequest: guard }, async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
};

const digest = (value: string) => createHash('sha256').update(value).digest();

const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

function isLocalRequest(request: FastifyRequest): boolean {
  const peer = request.raw.socket.remoteAddress ?? '';
  const loopback = /^(127\.|::1$|::ffff:127\.)/.test(peer);
  return loopback && FORWARDING_HEADERS.every((name) => request.headers[name] === undefined);
}
