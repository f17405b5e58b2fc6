import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProduct, createUser, type TestUser } from '../support/fixtures.ts';
import {
  call,
  databaseState,
  expectError,
  expectValidation,
  placeOrder,
  type Response,
} from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * Bad input for every endpoint of API.md: each is refused with a 4xx and API.md's error body,
 * never a 500, and a refused write changes nothing in the database.
 */

type Who = 'anyone' | 'customer' | 'admin';
interface Endpoint {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** `:id` is replaced by a real id of the right kind. */
  readonly url: string;
  readonly who: Who;
  /** A body this endpoint accepts (writes only). */
  readonly good?: () => object;
}

const ENDPOINTS: readonly Endpoint[] = [
  {
    method: 'POST',
    url: '/api/auth/register',
    who: 'anyone',
    good: () => ({
      email: `r${Math.random()}@example.test`,
      password: 'a fine password 1',
      name: 'R',
    }),
  },
  {
    method: 'POST',
    url: '/api/auth/login',
    who: 'anyone',
    good: () => ({ email: 'x@example.test', password: 'whatever' }),
  },
  { method: 'GET', url: '/api/auth/me', who: 'customer' },
  { method: 'GET', url: '/api/products', who: 'anyone' },
  { method: 'GET', url: '/api/products/:product', who: 'anyone' },
  { method: 'GET', url: '/api/products/:product/stock', who: 'anyone' },
  {
    method: 'POST',
    url: '/api/orders',
    who: 'customer',
    good: () => ({ items: [{ product_id: 1, quantity: 1 }] }),
  },
  { method: 'GET', url: '/api/orders', who: 'customer' },
  { method: 'GET', url: '/api/orders/:order', who: 'customer' },
  { method: 'POST', url: '/api/orders/:order/pay', who: 'customer' },
  { method: 'POST', url: '/api/orders/:order/cancel', who: 'customer' },
  {
    method: 'POST',
    url: '/api/admin/products',
    who: 'admin',
    good: () => ({
      sku: `B-${Math.random().toString(36).slice(2, 8)}`,
      name: 'n',
      price_cents: 1,
      stock: 1,
    }),
  },
  {
    method: 'PATCH',
    url: '/api/admin/products/:product',
    who: 'admin',
    good: () => ({ name: 'n' }),
  },
  {
    method: 'PUT',
    url: '/api/admin/products/:product/stock',
    who: 'admin',
    good: () => ({ quantity: 3 }),
  },
  { method: 'GET', url: '/api/admin/products/low-stock', who: 'admin' },
  { method: 'POST', url: '/api/admin/stock/sync', who: 'admin', good: () => ({}) },
  { method: 'GET', url: '/api/admin/orders', who: 'admin' },
];

const WITH_BODY = ENDPOINTS.filter((e) => e.good);
const WITH_ID = ENDPOINTS.filter((e) => e.url.includes('/:'));

describe('bad input, for every endpoint', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let customer: TestUser;
  let admin: TestUser;
  let productId: number;
  let orderId: number;

  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    customer = await createUser(rt.ctx);
    admin = await createUser(rt.ctx, 'admin');
    productId = (await createTestProduct(rt.ctx, { stock: 50 })).id;
    orderId = (await placeOrder(app, customer, [[productId, 1]])).json().id;
  });
  afterAll(() => rt.close());

  const urlOf = (e: Endpoint, id?: string) =>
    e.url.replace(':product', id ?? String(productId)).replace(':order', id ?? String(orderId));
  const as = (e: Endpoint) =>
    e.who === 'admin' ? admin : e.who === 'customer' ? customer : undefined;
  const send = (
    e: Endpoint,
    options: { payload?: string | object; headers?: Record<string, string>; url?: string } = {},
  ): Promise<Response> => {
    const user = as(e);
    return call(app, {
      method: e.method,
      url: options.url ?? urlOf(e),
      ...(user ? { as: user } : {}),
      ...(options.payload !== undefined ? { payload: options.payload } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
  };

  /** Run `request`, expect `status` and `code`, and that the database did not change. */
  const refused = async (request: () => Promise<Response>, status: number, code: string) => {
    const before = await databaseState(rt.ctx);
    const res = await request();
    expectError(res, status, code);
    expect(await databaseState(rt.ctx)).toEqual(before);
    return res;
  };
  const json = { 'content-type': 'application/json' };

  describe.each(WITH_BODY)('$method $url', (endpoint) => {
    it('malformed JSON is 400 validation_failed', async () => {
      await refused(
        () => send(endpoint, { payload: '{"a": ', headers: json }),
        400,
        'validation_failed',
      );
      await refused(
        () => send(endpoint, { payload: "{'single': 'quotes'}", headers: json }),
        400,
        'validation_failed',
      );
      await refused(
        () => send(endpoint, { payload: '{"a":1}garbage', headers: json }),
        400,
        'validation_failed',
      );
    });

    it('a __proto__ key is 400, refused before any handler', async () => {
      const body = JSON.stringify(endpoint.good!()).replace(
        /^\{/,
        '{"__proto__":{"role":"admin"},',
      );
      await refused(
        () => send(endpoint, { payload: body, headers: json }),
        400,
        'validation_failed',
      );
      const nested = JSON.stringify({ ...endpoint.good!(), x: { __proto__: { a: 1 } } }).replace(
        '"x":{}',
        '"x":{"__proto__":{"a":1}}',
      );
      await refused(
        () => send(endpoint, { payload: nested, headers: json }),
        400,
        'validation_failed',
      );
    });

    it('a constructor.prototype key is 400', async () => {
      const body = JSON.stringify({
        ...endpoint.good!(),
        constructor: { prototype: { admin: true } },
      });
      await refused(
        () => send(endpoint, { payload: body, headers: json }),
        400,
        'validation_failed',
      );
    });

    it('a body over 64 KiB is 413 payload_too_large', async () => {
      const body = JSON.stringify({ ...endpoint.good!(), padding: 'x'.repeat(70 * 1024) });
      await refused(
        () => send(endpoint, { payload: body, headers: json }),
        413,
        'payload_too_large',
      );
    });

    it.each([
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ])('a %s body is 415 unsupported_media_type', async (type) => {
      await refused(
        () => send(endpoint, { payload: 'a=1', headers: { 'content-type': type } }),
        415,
        'unsupported_media_type',
      );
    });

    it.each<[string, string]>([
      ['an array', '[]'],
      ['a string', '"hello"'],
      ['a number', '42'],
      ['true', 'true'],
      ['null', 'null'],
    ])('a JSON %s instead of an object is 400', async (_kind, body) => {
      if (endpoint.url === '/api/admin/stock/sync' && body === 'null') {
        // Its body is optional: null is "no body", which syncs everything. Not a refusal.
        return;
      }
      await refused(
        () => send(endpoint, { payload: body, headers: json }),
        400,
        'validation_failed',
      );
    });

    it('an unknown field is 400 naming it', async () => {
      const before = await databaseState(rt.ctx);
      expectValidation(
        await send(endpoint, { payload: { ...endpoint.good!(), surprise: 1 } }),
        'body.surprise',
      );
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('deeply nested JSON is 400, not a crash', async () => {
      const depth = 5000;
      const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const res = await send(endpoint, { payload: deep, headers: json });
      expect(res.statusCode).toBeLessThan(500);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
    });

    it('random JSON bodies never make a 500 and never change anything when refused', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue({ maxDepth: 4 }),
            fc.record({
              ...Object.fromEntries(
                Object.keys(endpoint.good!()).map((k) => [k, fc.jsonValue({ maxDepth: 3 })]),
              ),
            }),
          ),
          async (body) => {
            const before = await databaseState(rt.ctx);
            const res = await send(endpoint, { payload: JSON.stringify(body), headers: json });
            expect(res.statusCode, res.body).toBeLessThan(500);
            if (res.statusCode >= 400) {
              expect(res.json().error.code).toEqual(expect.any(String));
              expect(await databaseState(rt.ctx)).toEqual(before);
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe.each(WITH_ID)('$method $url with a bad id', (endpoint) => {
    it.each([
      'abc',
      '0',
      '-1',
      '1e3',
      '1.5',
      '0x10',
      '99999999999',
      '2147483648',
      '%20',
      '%00',
      'null',
    ])('%s is 400 validation_failed naming params.id', async (id) => {
      const before = await databaseState(rt.ctx);
      const good = endpoint.good?.();
      expectValidation(
        await send(endpoint, { url: urlOf(endpoint, id), ...(good ? { payload: good } : {}) }),
        'params.id',
      );
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('a well-formed id of nothing is 404', async () => {
      const good = endpoint.good?.();
      const res = await send(endpoint, {
        url: urlOf(endpoint, '2147483647'),
        ...(good ? { payload: good } : {}),
      });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toMatch(/^(product|order)_not_found$/);
    });
  });

  describe.each(ENDPOINTS.filter((e) => e.method === 'GET' && !e.url.includes(':')))(
    '$method $url with a bad query',
    (endpoint) => {
      it.each(['page=0', 'page_size=1000', 'page=x', 'threshold=-1', 'nope=1', 'page=1&page=2'])(
        '?%s is 400 (or ignored where the endpoint takes no query)',
        async (query) => {
          const res = await send(endpoint, { url: `${urlOf(endpoint)}?${query}` });
          if (endpoint.url === '/api/auth/me') {
            // No query schema: a query string on /me is ignored.
            expect(res.statusCode).toBe(200);
            return;
          }
          expectError(res, 400, 'validation_failed');
        },
      );
    },
  );

  describe('headers', () => {
    it('a 300-character Idempotency-Key is 400 and places nothing', async () => {
      const endpoint = ENDPOINTS.find((e) => e.url === '/api/orders' && e.method === 'POST')!;
      await refused(
        () =>
          send(endpoint, {
            payload: { items: [{ product_id: productId, quantity: 1 }] },
            headers: { 'idempotency-key': 'k'.repeat(300) },
          }),
        400,
        'validation_failed',
      );
    });

    it('an Authorization header of 10 KB is 401, not a crash', async () => {
      const res = await call(app, {
        method: 'GET',
        url: '/api/orders',
        headers: { authorization: `Bearer ${'a'.repeat(10_000)}.b.c` },
      });
      expectError(res, 401, 'unauthorized');
    });

    it('an unsafe x-request-id is replaced; errors still carry one', async () => {
      const res = await call(app, {
        method: 'GET',
        url: '/api/products/0',
        headers: { 'x-request-id': '<script>' },
      });
      expectError(res, 400, 'validation_failed');
      expect(res.headers['x-request-id']).not.toBe('<script>');
    });
  });

  describe('urls and methods', () => {
    it.each([
      ['GET', '/api/products/%E0%A4%A'],
      ['GET', '/api/orders/%'],
      ['GET', '/api/products/1/stock/extra'],
      ['DELETE', '/api/orders/1'],
      ['PUT', '/api/products'],
      ['GET', '/api/nothing-here'],
      ['POST', '/api/auth/me'],
      ['GET', `/api/${'x'.repeat(5000)}`],
      ['GET', `/api/orders/${'1'.repeat(150)}`],
    ])('%s %s is a 4xx with the error body', async (method, url) => {
      const res = await call(app, { method: method as 'GET', url, as: customer });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().error.code).toEqual(expect.any(String));
    });

    it('an undecodable URL is answered before routing, and still counted in /metrics', async () => {
      const res = await call(app, { method: 'GET', url: '/api/products/%E0%A4%A' });
      expectError(res, 400, 'validation_failed');
      const metrics = (await call(app, { method: 'GET', url: '/metrics' })).body;
      const counted = metrics
        .split('\n')
        .filter((line) => line.startsWith('http_requests_total{'))
        .some((line) => line.includes('route="unmatched"') && line.includes('status_code="400"'));
      expect(counted).toBe(true);
    });

    it('an unknown route is 404 not_found', async () => {
      expectError(
        await call(app, { method: 'GET', url: '/api/orders/1/refund' }),
        404,
        'not_found',
      );
    });
  });
});
