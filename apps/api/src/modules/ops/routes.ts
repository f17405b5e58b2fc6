import { sql } from 'drizzle-orm';
import { Health, Readiness } from '@stampede/contract';
import { typed, type RoutesPlugin } from '../../http/route-types.ts';

/** Liveness, readiness (database and stock cache) and Prometheus metrics. */
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

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
};
