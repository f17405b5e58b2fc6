import { createHash } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { ErrorBody } from '@stampede/contract';
import type { AppContext } from '../../src/context.ts';
import type { TestUser } from './fixtures.ts';

export type Response = LightMyRequestResponse;

/** One request through `app.inject`, with an optional user's bearer token. */
export function call(
  app: FastifyInstance,
  options: InjectOptions & { as?: { token: string } },
): Promise<Response> {
  const { as, headers, ...rest } = options;
  return app.inject({
    ...rest,
    headers: { ...(as ? { authorization: `Bearer ${as.token}` } : {}), ...headers },
  }) as Promise<Response>;
}

/**
 * Assert API.md's error body with this status and code, the `x-request-id` header, and that
 * the body parses through the contract's `ErrorBody`. Returns the error for further checks.
 */
export function expectError(res: Response, status: number, code: string) {
  expect(
    { status: res.statusCode, body: res.body.slice(0, 500) },
    `expected ${status} ${code}`,
  ).toMatchObject({ status });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['x-request-id']).toBeTruthy();
  const body = ErrorBody.parse(res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/** A 400 validation_failed naming (at least) these field paths in `details.fields`. */
export function expectValidation(res: Response, ...paths: string[]) {
  const error = expectError(res, 400, 'validation_failed');
  const fields = (error.details?.fields ?? []) as { path: string; message: string }[];
  expect(Array.isArray(fields)).toBe(true);
  expect(fields.length).toBeGreaterThan(0);
  const named = fields.map((field) => field.path);
  for (const path of paths) expect(named, `fields ${JSON.stringify(fields)}`).toContain(path);
  return fields;
}

export function expectStatus(res: Response, status: number) {
  expect({ status: res.statusCode, body: res.body.slice(0, 800) }).toMatchObject({ status });
  return res;
}

/**
 * A fingerprint of every table a refused write could touch: row counts and a hash of the
 * contents. Equal before and after a refused request means nothing changed.
 */
export async function databaseState(ctx: AppContext): Promise<Record<string, string>> {
  const tables = {
    users: sql`SELECT id, email, name, password_hash, role, updated_at FROM users ORDER BY id`,
    products: sql`SELECT * FROM products ORDER BY id`,
    stock: sql`SELECT * FROM stock ORDER BY product_id`,
    stock_ledger: sql`SELECT count(*)::int AS n, coalesce(sum(delta), 0)::int AS s FROM stock_ledger`,
    orders: sql`SELECT * FROM orders ORDER BY id`,
    order_items: sql`SELECT * FROM order_items ORDER BY order_id, product_id`,
  };
  const state: Record<string, string> = {};
  for (const [name, query] of Object.entries(tables)) {
    const result = await ctx.db.execute(query);
    state[name] = `${result.rows.length}:${createHash('sha256')
      .update(JSON.stringify(result.rows))
      .digest('hex')
      .slice(0, 16)}`;
  }
  return state;
}

export async function orderCount(ctx: AppContext, userId?: number): Promise<number> {
  const result = await ctx.db.execute<{ n: number }>(
    userId === undefined
      ? sql`SELECT count(*)::int AS n FROM orders`
      : sql`SELECT count(*)::int AS n FROM orders WHERE user_id = ${userId}`,
  );
  return result.rows[0]!.n;
}

/** `stock.available` in the database (the truth), as opposed to the gate's live counter. */
export async function databaseStock(ctx: AppContext, productId: number): Promise<number> {
  const result = await ctx.db.execute<{ available: number }>(
    sql`SELECT available FROM stock WHERE product_id = ${productId}`,
  );
  return result.rows[0]!.available;
}

export const orderBody = (...lines: [productId: number, quantity: number][]) => ({
  items: lines.map(([product_id, quantity]) => ({ product_id, quantity })),
});

/** Place an order over HTTP and return the response (201 expected by most callers). */
export function placeOrder(
  app: FastifyInstance,
  user: TestUser,
  lines: [productId: number, quantity: number][],
  idempotencyKey?: string,
): Promise<Response> {
  return call(app, {
    method: 'POST',
    url: '/api/orders',
    as: user,
    payload: orderBody(...lines),
    ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
  });
}

/** Field names that must never appear in an answer (internals of the database or the gate). */
export const INTERNAL_FIELDS = [
  'password',
  'password_hash',
  'passwordHash',
  'hash',
  'version',
  'reservation_id',
  'reservationId',
  'idempotency_key',
  'idempotencyKey',
  'fingerprint',
  'stack',
  'sql',
];

/** Every key of a JSON value, at any depth. */
export function keysOf(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysOf(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      into.add(key);
      keysOf(child, into);
    }
  }
  return into;
}
