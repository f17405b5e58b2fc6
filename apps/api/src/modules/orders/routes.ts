import { z } from 'zod';
import {
  ErrorBody,
  IdempotencyKey,
  IdParams,
  Order,
  OrderList,
  OrderListQuery,
  PlaceOrderInput,
} from '@stampede/contract';
import { sendAppError } from '../../http/error-handler.ts';
import { typed, type RoutesPlugin } from '../../http/route-types.ts';
import { AppError, OrderNotFoundError } from '../../lib/errors.ts';
import { principalOf } from '../../http/principal.ts';
import { toOrderResponse } from './responses.ts';
import { listOrdersForUser, getOrderForUser } from './selectors.ts';
import { cancelOrder, payOrder, placeOrder } from './services.ts';

// Only the header the route reads is validated (Fastify keeps the result beside the raw headers).
const PlaceOrderHeaders = z.object({ 'idempotency-key': IdempotencyKey.optional() });
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const security = [{ bearerAuth: [] }];

/** The caller's orders. Someone else's order is answered 404, for every verb. */
export const orderRoutes: RoutesPlugin = async (app, { ctx }) => {
  const r = typed(app);
  // Authentication comes first, before the body is even read: an anonymous caller learns
  // nothing about validation.
  app.addHook('onRequest', app.authenticate);

  r.post(
    '/',
    {
      schema: {
        tags: ['orders'],
        summary: 'Place an order',
        description:
          'Checks, in this order: 400 validation_failed; 429 rate_limited (with Retry-After); ' +
          '404 product_not_found; 409 sale_not_started / sale_ended; 403 queue_pass_required ' +
          '(details: product_id) for a sale run through a waiting room without a live pass; ' +
          '409 purchase_limit_exceeded; ' +
          '409 insufficient_stock (details: product_id, requested, available); 409 stock_conflict ' +
          '(safe to retry). With an Idempotency-Key, a repeat of the same request answers the first ' +
          'answer again (header `idempotent-replayed: true`), a different body with the same key is ' +
          '422 idempotency_key_reused, and a repeat while the first runs is 409 ' +
          'idempotency_in_flight. Prices come from the server.',
        security,
        headers: PlaceOrderHeaders,
        body: PlaceOrderInput,
        response: {
          201: Order,
          ...errors,
          403: ErrorBody,
          422: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const key = request.headers['idempotency-key'];
      let result;
      try {
        result = await placeOrder({
          ctx,
          input: { userId, items: request.body.items, ...(key ? { idempotencyKey: key } : {}) },
        });
      } catch (error) {
        // Refusals are most answers of a sale: sent here, not through Fastify's error path.
        if (error instanceof AppError) return sendAppError(reply, error);
        throw error;
      }
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(toOrderResponse(result.order));
    },
  );

  r.get(
    '/',
    {
      schema: {
        tags: ['orders'],
        summary: "The caller's orders, newest first",
        security,
        querystring: OrderListQuery,
        response: { 200: OrderList, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      const { page, page_size } = request.query;
      const { items, total } = await listOrdersForUser({
        ctx,
        input: { userId: principalOf(request).userId, page, pageSize: page_size },
      });
      return { items: items.map(toOrderResponse), page, page_size, total };
    },
  );

  r.get(
    '/:id',
    {
      schema: {
        tags: ['orders'],
        summary: 'One of the caller’s orders',
        security,
        params: IdParams,
        response: { 200: Order, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const order = await getOrderForUser({
        ctx,
        input: { orderId: request.params.id, userId: principalOf(request).userId },
      });
      if (!order) throw new OrderNotFoundError(request.params.id);
      return toOrderResponse(order);
    },
  );

  r.post(
    '/:id/pay',
    {
      schema: {
        tags: ['orders'],
        summary: 'Pay an order before its deadline',
        security,
        params: IdParams,
        response: { 200: Order, ...errors },
      },
    },
    async (request) =>
      toOrderResponse(
        await payOrder({
          ctx,
          input: { userId: principalOf(request).userId, orderId: request.params.id },
        }),
      ),
  );

  r.post(
    '/:id/cancel',
    {
      schema: {
        tags: ['orders'],
        summary: 'Cancel an order; its stock goes back on sale',
        security,
        params: IdParams,
        response: { 200: Order, ...errors },
      },
    },
    async (request) =>
      toOrderResponse(
        await cancelOrder({
          ctx,
          input: { userId: principalOf(request).userId, orderId: request.params.id },
        }),
      ),
  );
};
