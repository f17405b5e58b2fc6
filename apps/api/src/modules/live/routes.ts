import { ErrorBody, IdParams, LiveEvent, SaleReport } from '@stampede/contract';
import { typed, type RoutesPlugin } from '../../http/route-types.ts';
import { AppError } from '../../lib/errors.ts';
import { LONG_LIVED } from '../../observability/http-metrics.ts';
import { buildLiveEvent, LiveFeed } from './feed.ts';
import { getSaleReport } from './selectors.ts';

const security = [{ bearerAuth: [] }];

/** The live view reads PostgreSQL only: when it cannot, 503 with Retry-After, never a 500. */
async function whileDatabaseAnswers<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(
      'service_unavailable',
      'The live view cannot read the database right now; try again shortly.',
      undefined,
      { retryAfterSeconds: 2, cause: error },
    );
  }
}
const denied = { 401: ErrorBody, 403: ErrorBody };

/** The operator's live view of running sales, and the report of a sale. Admin only. */
export const liveRoutes: RoutesPlugin = async (app, { ctx }) => {
  const r = typed(app);
  app.addHook('onRequest', app.requireAdmin);
  const feed = new LiveFeed(ctx);
  // Before the server waits for its connections to end: open streams would hold it forever.
  app.addHook('preClose', (done) => {
    feed.close();
    done();
  });

  r.get(
    '/stream',
    {
      config: LONG_LIVED,
      schema: {
        tags: ['admin'],
        summary: 'The running sales as they happen (server-sent events, beyond API.md)',
        description:
          'text/event-stream. The first event (`snapshot`) carries the last ten minutes of order ' +
          'traffic over every API process, per second (attempts, orders, units, refusals by ' +
          'outcome, p50/p99 answer latency) and each running sale with its units sold and left; ' +
          'then a `tick` every second with the last five seconds again. Each `data:` is a ' +
          'LiveEvent.',
        security,
        response: { 200: LiveEvent, ...denied },
      },
    },
    async (request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // A proxy in front must pass each event on at once, not buffer the stream.
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      await feed.subscribe(reply.raw);
    },
  );

  r.get(
    '/snapshot',
    {
      schema: {
        tags: ['admin'],
        summary: 'What the stream starts with, as one JSON answer (beyond API.md)',
        security,
        response: { 200: LiveEvent, ...denied, 503: ErrorBody },
      },
    },
    async () => whileDatabaseAnswers(buildLiveEvent({ ctx, kind: 'snapshot' })),
  );

  r.get(
    '/sales/:id/report',
    {
      schema: {
        tags: ['admin'],
        summary:
          'How a sale went: sell-out, orders, refusals, peak, latency, returns (beyond API.md)',
        security,
        params: IdParams,
        response: { 200: SaleReport, 400: ErrorBody, ...denied, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) =>
      whileDatabaseAnswers(getSaleReport({ db: ctx.db, productId: request.params.id })),
  );
};
