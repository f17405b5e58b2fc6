import {
  ErrorBody,
  IdParams,
  Product,
  ProductList,
  ProductListQuery,
  StockLevel,
} from '@stampede/contract';
import { typed, type RoutesPlugin } from '../../http/route-types.ts';
import { ProductNotFoundError } from '../../lib/errors.ts';
import { toProductListResponse, toProductResponse } from './responses.ts';
import { getActiveProducts, getActiveProductStock, getProductWithStock } from './selectors.ts';

/** The public catalogue. Every answer carries `server_now` where a countdown needs it. */
export const productRoutes: RoutesPlugin = async (app, { ctx }) => {
  const r = typed(app);

  r.get(
    '/',
    {
      schema: {
        tags: ['products'],
        summary: 'Active products with live stock',
        querystring: ProductListQuery,
        response: { 200: ProductList, 400: ErrorBody },
      },
    },
    async (request) => {
      const { page, page_size, search } = request.query;
      const result = await getActiveProducts({
        ctx,
        input: { page, pageSize: page_size, ...(search ? { search } : {}) },
      });
      return toProductListResponse(result, page, page_size);
    },
  );

  r.get(
    '/:id',
    {
      schema: {
        tags: ['products'],
        summary: 'One active product',
        params: IdParams,
        response: { 200: Product, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const product = await getProductWithStock({ ctx, input: { productId: request.params.id } });
      if (!product) throw new ProductNotFoundError(request.params.id);
      return toProductResponse(product);
    },
  );

  r.get(
    '/:id/stock',
    {
      schema: {
        tags: ['products'],
        summary: 'Units on sale now (cheap enough to poll)',
        params: IdParams,
        response: { 200: StockLevel, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const productId = request.params.id;
      const available = await getActiveProductStock({ ctx, input: { productId } });
      if (available === null) throw new ProductNotFoundError(productId);
      return { product_id: productId, available, server_now: new Date().toISOString() };
    },
  );
};
