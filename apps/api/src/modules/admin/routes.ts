import {
  AdminOrderList,
  AdminOrderListQuery,
  AdminProductListQuery,
  CreateProductInput,
  ErrorBody,
  IdParams,
  LowStockList,
  LowStockQuery,
  Product,
  ProductList,
  SetStockInput,
  StockSet,
  SyncStockInput,
  SyncStockResult,
  UpdateProductInput,
} from '@stampede/contract';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { typed, type RoutesPlugin } from '../../http/route-types.ts';
import { toAdminOrderResponse } from '../orders/responses.ts';
import { listAllOrders } from '../orders/selectors.ts';
import { ProductNotFoundError, ValidationError } from '../../lib/errors.ts';
import { toProductListResponse, toProductResponse } from '../products/responses.ts';
import { getAllProducts, getLowStockProducts, getProductWithStock } from '../products/selectors.ts';
import { createProduct, updateProduct } from '../products/services.ts';
import { setStock, syncGates } from '../stock/services.ts';

const security = [{ bearerAuth: [] }];

/**
 * Shoppers' browsers fetch a product's image: one on another host must be on the operator's
 * allow-list (IMAGE_ORIGINS), the same list the page's Content-Security-Policy loads from.
 */
function imageUrlAllowed(ctx: AppContext) {
  return async (request: FastifyRequest) => {
    const url = (request.body as { image_url?: string | null } | undefined)?.image_url;
    if (!url || url.startsWith('/')) return;
    if (ctx.config.imageOrigins.includes(new URL(url).origin)) return;
    const allowed = ctx.config.imageOrigins.join(', ') || 'none: images must be on this shop';
    throw new ValidationError([
      { path: 'body.image_url', message: `must be on this shop or an allowed origin (${allowed})` },
    ]);
  };
}
const denied = { 401: ErrorBody, 403: ErrorBody };

/** The operator's endpoints. The admin role is checked in the database on every request. */
export const adminRoutes: RoutesPlugin = async (app, { ctx }) => {
  const r = typed(app);
  app.addHook('onRequest', app.requireAdmin);

  r.post(
    '/products',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create a product with its stock and sale',
        security,
        body: CreateProductInput,
        response: { 201: Product, 400: ErrorBody, ...denied, 409: ErrorBody },
      },
      preHandler: imageUrlAllowed(ctx),
    },
    async (request, reply) =>
      reply.code(201).send(toProductResponse(await createProduct({ ctx, input: request.body }))),
  );

  r.get(
    '/products',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every product, active or not (beyond API.md)',
        security,
        querystring: AdminProductListQuery,
        response: { 200: ProductList, 400: ErrorBody, ...denied },
      },
    },
    async (request) => {
      const { page, page_size, search } = request.query;
      const result = await getAllProducts({
        ctx,
        input: { page, pageSize: page_size, ...(search ? { search } : {}) },
      });
      return toProductListResponse(result, page, page_size);
    },
  );

  r.get(
    '/products/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'One product, active or not (beyond API.md)',
        security,
        params: IdParams,
        response: { 200: Product, 400: ErrorBody, ...denied, 404: ErrorBody },
      },
    },
    async (request) => {
      const product = await getProductWithStock({
        ctx,
        input: { productId: request.params.id, includeInactive: true },
      });
      if (!product) throw new ProductNotFoundError(request.params.id);
      return toProductResponse(product);
    },
  );

  r.patch(
    '/products/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Change any product field but its stock',
        security,
        params: IdParams,
        body: UpdateProductInput,
        response: { 200: Product, 400: ErrorBody, ...denied, 404: ErrorBody, 409: ErrorBody },
      },
      preHandler: imageUrlAllowed(ctx),
    },
    async (request) =>
      toProductResponse(
        await updateProduct({
          ctx,
          input: { productId: request.params.id, changes: request.body },
        }),
      ),
  );

  r.put(
    '/products/:id/stock',
    {
      schema: {
        tags: ['admin'],
        summary: 'Set the units available',
        security,
        params: IdParams,
        body: SetStockInput,
        response: { 200: StockSet, 400: ErrorBody, ...denied, 404: ErrorBody },
      },
    },
    async (request) => {
      const result = await setStock({
        ctx,
        input: { productId: request.params.id, quantity: request.body.quantity },
      });
      return { product_id: result.productId, available: result.available };
    },
  );

  r.get(
    '/products/low-stock',
    {
      schema: {
        tags: ['admin'],
        summary: 'Active products at or below a stock threshold',
        security,
        querystring: LowStockQuery,
        response: { 200: LowStockList, 400: ErrorBody, ...denied },
      },
    },
    async (request) => ({
      items: (
        await getLowStockProducts({ ctx, input: { threshold: request.query.threshold } })
      ).map(toProductResponse),
    }),
  );

  r.post(
    '/stock/sync',
    {
      schema: {
        tags: ['admin'],
        summary: 'Set the stock cache from the database',
        security,
        body: SyncStockInput.nullish(),
        response: { 200: SyncStockResult, 400: ErrorBody, ...denied },
      },
    },
    async (request) => {
      const productIds = request.body?.product_ids;
      return syncGates({
        ctx,
        input: { trigger: 'on_demand', ...(productIds ? { productIds } : {}) },
      });
    },
  );

  r.get(
    '/orders',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every order, newest first',
        security,
        querystring: AdminOrderListQuery,
        response: { 200: AdminOrderList, 400: ErrorBody, ...denied },
      },
    },
    async (request) => {
      const { page, page_size, status } = request.query;
      const { items, total } = await listAllOrders({
        ctx,
        input: { page, pageSize: page_size, ...(status ? { status } : {}) },
      });
      return { items: items.map(toAdminOrderResponse), page, page_size, total };
    },
  );
};
