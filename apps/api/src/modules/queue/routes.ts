import { z } from 'zod';
import {
  ErrorBody,
  IdParams,
  JoinQueueInput,
  QueueChallenge,
  QueueSettingsInput,
  QueueStatus,
  QueueView,
} from '@stampede/contract';
import { principalOf } from '../../http/principal.ts';
import { typed, type RoutesPlugin } from '../../http/route-types.ts';
import { getQueueStatus, getQueueView } from './selectors.ts';
import { issueQueueChallenge, joinQueue, updateQueueSettings } from './services.ts';

const security = [{ bearerAuth: [] }];
const StatusHeaders = z.object({ 'x-queue-ticket': z.string().max(512).optional() });

/** A buyer's side of a sale's waiting room: `/api/queues/:id` where `:id` is the product's. */
export const queueRoutes: RoutesPlugin = async (app, { ctx }) => {
  const r = typed(app);
  app.addHook('onRequest', app.authenticate);

  r.get(
    '/:id/challenge',
    {
      schema: {
        tags: ['queue'],
        summary: 'A proof-of-work challenge for joining the queue (ALTCHA)',
        description:
          'Signed, bound to the caller and the sale, valid for QUEUE_CHALLENGE_TTL_S and usable ' +
          'once. 404 product_not_found; 409 queue_closed when the sale has no queue or it ended.',
        security,
        params: IdParams,
        response: {
          200: QueueChallenge,
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request) =>
      issueQueueChallenge({
        ctx,
        input: { productId: request.params.id, userId: principalOf(request).userId },
      }),
  );

  r.post(
    '/:id/join',
    {
      schema: {
        tags: ['queue'],
        summary: 'Join the queue with a solved challenge',
        description:
          'Checks, in this order: 400 validation_failed; 429 rate_limited (with Retry-After: ' +
          'more than QUEUE_JOIN_LIMIT_PER_MINUTE joins from the address); 404 product_not_found; 409 queue_closed ' +
          '(no queue, not open yet, sale ended); 400 challenge_failed (wrong, expired, another ' +
          'buyer’s or sale’s, or used before). 201 with the new place; 200 with the same place ' +
          'when the caller had joined already (one place per account and sale).',
        security,
        params: IdParams,
        body: JoinQueueInput,
        response: {
          200: QueueStatus,
          201: QueueStatus,
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { status, created } = await joinQueue({
        ctx,
        input: {
          productId: request.params.id,
          userId: principalOf(request).userId,
          altcha: request.body.altcha,
          ip: request.ip,
        },
      });
      return reply.code(created ? 201 : 200).send(status);
    },
  );

  r.get(
    '/:id/status',
    {
      schema: {
        tags: ['queue'],
        summary: 'The caller’s place in the queue (cheap to poll)',
        description:
          'Send the ticket of the last answer as X-Queue-Ticket: after the queue was lost (a ' +
          'Redis failover) it puts the caller back at the same place. Poll again after ' +
          'poll_after_ms. 404 product_not_found.',
        security,
        params: IdParams,
        headers: StatusHeaders,
        response: {
          200: QueueStatus,
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request) => {
      const ticket = request.headers['x-queue-ticket'];
      return getQueueStatus({
        ctx,
        input: {
          productId: request.params.id,
          userId: principalOf(request).userId,
          ...(ticket ? { ticket } : {}),
        },
      });
    },
  );
};

/** The operator's side: `/api/admin/products/:id/queue`. */
export const queueAdminRoutes: RoutesPlugin = async (app, { ctx }) => {
  const r = typed(app);
  app.addHook('onRequest', app.requireAdmin);
  const denied = { 401: ErrorBody, 403: ErrorBody };

  r.get(
    '/:id/queue',
    {
      schema: {
        tags: ['admin'],
        summary: 'A product’s waiting room: settings and figures now',
        security,
        params: IdParams,
        response: { 200: QueueView, 400: ErrorBody, ...denied, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => getQueueView({ ctx, input: { productId: request.params.id } }),
  );

  r.put(
    '/:id/queue',
    {
      schema: {
        tags: ['admin'],
        summary: 'Set a product’s waiting room (switch on/off, rate, caps, pause)',
        description:
          'Every process applies the change within a second. Switching a queue on makes orders ' +
          'for the product need a pass from the sale’s start.',
        security,
        params: IdParams,
        body: QueueSettingsInput,
        response: { 200: QueueView, 400: ErrorBody, ...denied, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) =>
      updateQueueSettings({
        ctx,
        input: { productId: request.params.id, settings: request.body },
      }),
  );
};
