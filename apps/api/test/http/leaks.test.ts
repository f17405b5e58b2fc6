import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { pino } from 'pino';
import { User } from '@stampede/contract';
import { buildApp } from '../../src/app.ts';
import { typed } from '../../src/http/route-types.ts';
import { createTestProduct, createUser, type TestUser } from '../support/fixtures.ts';
import { call, INTERNAL_FIELDS, keysOf, type Response } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * Answers are serialized through the contract's response schemas: whatever a service returns,
 * only the documented fields leave the server. Nothing internal (hashes, versions, reservation
 * ids, idempotency fingerprints, stack traces) appears in any answer.
 */
describe('nothing internal leaks', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let admin: TestUser;
  const seen: { what: string; res: Response }[] = [];

  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    admin = await createUser(rt.ctx, 'admin');
  });
  afterAll(() => rt.close());

  const record = async (what: string, request: Promise<Response>) => {
    const res = await request;
    seen.push({ what, res });
    return res;
  };

  it('a whole shopping and operating session answers only documented fields', async () => {
    const password = `secret-${randomUUID()}`;
    const email = `leak-${randomUUID().slice(0, 8)}@example.test`;
    const registered = await record(
      'register',
      call(app, {
        method: 'POST',
        url: '/api/auth/register',
        payload: { email, password, name: 'L' },
      }),
    );
    const token = registered.json().access_token as string;
    const me = { token };
    await record(
      'register again',
      call(app, {
        method: 'POST',
        url: '/api/auth/register',
        payload: { email, password, name: 'L' },
      }),
    );
    await record(
      'login',
      call(app, { method: 'POST', url: '/api/auth/login', payload: { email, password } }),
    );
    await record(
      'bad login',
      call(app, { method: 'POST', url: '/api/auth/login', payload: { email, password: 'nope' } }),
    );
    await record('me', call(app, { method: 'GET', url: '/api/auth/me', as: me }));
    const product = await createTestProduct(rt.ctx, { stock: 5 });
    await record('list', call(app, { method: 'GET', url: '/api/products' }));
    await record('product', call(app, { method: 'GET', url: `/api/products/${product.id}` }));
    await record('stock', call(app, { method: 'GET', url: `/api/products/${product.id}/stock` }));
    const placed = await record(
      'order',
      call(app, {
        method: 'POST',
        url: '/api/orders',
        as: me,
        headers: { 'idempotency-key': 'leak-key' },
        payload: { items: [{ product_id: product.id, quantity: 1 }] },
      }),
    );
    expect(placed.statusCode).toBe(201);
    const orderId = placed.json().id as number;
    await record(
      'replay',
      call(app, {
        method: 'POST',
        url: '/api/orders',
        as: me,
        headers: { 'idempotency-key': 'leak-key' },
        payload: { items: [{ product_id: product.id, quantity: 1 }] },
      }),
    );
    await record(
      'reused key',
      call(app, {
        method: 'POST',
        url: '/api/orders',
        as: me,
        headers: { 'idempotency-key': 'leak-key' },
        payload: { items: [{ product_id: product.id, quantity: 2 }] },
      }),
    );
    await record(
      'sold out',
      call(app, {
        method: 'POST',
        url: '/api/orders',
        as: me,
        payload: { items: [{ product_id: product.id, quantity: 99 }] },
      }),
    );
    await record('orders', call(app, { method: 'GET', url: '/api/orders', as: me }));
    await record('get order', call(app, { method: 'GET', url: `/api/orders/${orderId}`, as: me }));
    await record('pay', call(app, { method: 'POST', url: `/api/orders/${orderId}/pay`, as: me }));
    await record(
      'pay again',
      call(app, { method: 'POST', url: `/api/orders/${orderId}/pay`, as: me }),
    );
    await record(
      'cancel',
      call(app, { method: 'POST', url: `/api/orders/${orderId}/cancel`, as: me }),
    );
    await record(
      'create product',
      call(app, {
        method: 'POST',
        url: '/api/admin/products',
        as: admin,
        payload: { sku: `LK-${randomUUID().slice(0, 6)}`, name: 'n', price_cents: 1, stock: 2 },
      }),
    );
    await record(
      'patch product',
      call(app, {
        method: 'PATCH',
        url: `/api/admin/products/${product.id}`,
        as: admin,
        payload: { name: 'renamed' },
      }),
    );
    await record(
      'set stock',
      call(app, {
        method: 'PUT',
        url: `/api/admin/products/${product.id}/stock`,
        as: admin,
        payload: { quantity: 9 },
      }),
    );
    await record(
      'low stock',
      call(app, { method: 'GET', url: '/api/admin/products/low-stock', as: admin }),
    );
    await record('sync', call(app, { method: 'POST', url: '/api/admin/stock/sync', as: admin }));
    await record('admin orders', call(app, { method: 'GET', url: '/api/admin/orders', as: admin }));
    await record(
      'admin products',
      call(app, { method: 'GET', url: '/api/admin/products', as: admin }),
    );
    await record(
      'bad json',
      call(app, {
        method: 'POST',
        url: '/api/orders',
        as: me,
        headers: { 'content-type': 'application/json' },
        payload: '{"items": [',
      }),
    );

    expect(seen.length).toBe(25);
    for (const { what, res } of seen) {
      const keys = keysOf(res.json());
      for (const field of INTERNAL_FIELDS) expect(keys.has(field), `${what}: ${field}`).toBe(false);
      expect(res.body, what).not.toContain(password);
      expect(res.body, what).not.toContain('$argon2');
      expect(res.body, what).not.toMatch(/at .+\.ts:\d+/);
      expect(res.body, what).not.toMatch(/SELECT|INSERT|UPDATE .* SET/);
    }
  });
});

describe('the error mapper and the response schemas', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  const logLines: string[] = [];
  beforeAll(async () => {
    rt = await createTestRuntime();
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    app = await buildApp({ ctx: { ...rt.ctx, logger } });
    // Two routes that misbehave on purpose, to see what the client would get.
    const r = typed(app);
    r.get('/test/crash', async () => {
      throw new Error(
        'connection to 10.0.0.5:5432 failed for user stampede_admin (SELECT * FROM users)',
      );
    });
    r.get('/test/query-failed', async () => {
      const driverError = Object.assign(
        new Error('duplicate key value violates unique constraint "users_email_key"'),
        {
          code: '23505',
          constraint: 'users_email_key',
          table: 'users',
          detail: 'Key (lower(email))=(victim@example.test) already exists.',
        },
      );
      throw new DrizzleQueryError(
        'insert into "users" ("email", "password_hash") values ($1, $2)',
        ['victim@example.test', '$argon2id$v=19$secret-hash'],
        driverError,
      );
    });
    r.get(
      '/test/oversharing',
      { schema: { response: { 200: z.object({ user: User }) } } },
      async () =>
        ({
          user: {
            id: 1,
            email: 'a@b.test',
            name: 'A',
            role: 'customer',
            password_hash: '$argon2id$x',
            version: 7,
          },
          reservation_id: 'c0ffee',
        }) as never,
    );
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rt.close();
  });

  it('a 500 hides its internals and still carries the request id', async () => {
    const res = await app.inject('/test/crash');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side.' },
    });
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.body).not.toContain('10.0.0.5');
  });

  it('a failed query is logged with its SQLSTATE and text, never its parameters', async () => {
    logLines.length = 0;
    const res = await app.inject('/test/query-failed');
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('victim');
    const logged = logLines.join('\n');
    expect(logged).toContain('request failed');
    expect(logged).toContain('23505');
    expect(logged).toContain('users_email_key');
    expect(logged).toContain('insert into');
    expect(logged).not.toContain('victim@example.test');
    expect(logged).not.toContain('$argon2id');
  });

  it('fields a handler returns beyond the response schema are dropped', async () => {
    const res = await app.inject('/test/oversharing');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: { id: 1, email: 'a@b.test', name: 'A', role: 'customer' } });
  });
});
