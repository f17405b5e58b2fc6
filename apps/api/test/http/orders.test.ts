import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Order, OrderList, StockLevel } from '@stampede/contract';
import { expireDueOrders } from '../../src/modules/orders/services.ts';
import { createTestProduct, createUser, type TestUser } from '../support/fixtures.ts';
import {
  call,
  databaseState,
  databaseStock,
  expectError,
  expectStatus,
  expectValidation,
  orderBody,
  orderCount,
  placeOrder,
} from '../support/http-helpers.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestRuntime, type GateKind, type TestRuntime } from '../support/runtime.ts';

const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

async function liveStock(app: FastifyInstance, productId: number): Promise<number> {
  const res = await call(app, { method: 'GET', url: `/api/products/${productId}/stock` });
  return StockLevel.parse(res.json()).available;
}

describe.each<GateKind>(['redis', 'memory'])('placing an order (%s gate)', (gate) => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let user: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime({ gate });
    app = await rt.app();
    user = await createUser(rt.ctx);
  });
  afterAll(() => rt.close());

  it('answers 201 with the order, priced by the server, pending payment with a deadline', async () => {
    const a = await createTestProduct(rt.ctx, { price_cents: 1250, stock: 10 });
    const b = await createTestProduct(rt.ctx, { price_cents: 399, stock: 5 });
    const started = Date.now();
    const res = expectStatus(
      await placeOrder(app, user, [
        [b.id, 2],
        [a.id, 3],
      ]),
      201,
    );
    const order = Order.parse(res.json());
    expect(order).toMatchObject({
      status: 'pending_payment',
      total_cents: 3 * 1250 + 2 * 399,
      currency: 'USD',
      paid_at: null,
      cancelled_at: null,
    });
    expect(order.items).toEqual(
      expect.arrayContaining([
        { product_id: a.id, name: a.name, quantity: 3, unit_price_cents: 1250 },
        { product_id: b.id, name: b.name, quantity: 2, unit_price_cents: 399 },
      ]),
    );
    expect(order.items).toHaveLength(2);
    const ttlMs = rt.ctx.config.orderPaymentTtlSeconds * 1000;
    const deadline = Date.parse(order.expires_at) - Date.parse(order.created_at);
    expect(Math.abs(deadline - ttlMs)).toBeLessThan(2000);
    expect(Date.parse(order.created_at)).toBeGreaterThanOrEqual(started - 2000);
    expect(await databaseStock(rt.ctx, a.id)).toBe(7);
    expect(await databaseStock(rt.ctx, b.id)).toBe(3);
    expect(await liveStock(app, a.id)).toBe(7);
  });

  it('refuses a client-sent price (unknown field) with 400 and takes nothing', async () => {
    const p = await createTestProduct(rt.ctx, { stock: 3 });
    const before = await databaseState(rt.ctx);
    expectValidation(
      await call(app, {
        method: 'POST',
        url: '/api/orders',
        as: user,
        payload: { items: [{ product_id: p.id, quantity: 1, unit_price_cents: 1 }] },
      }),
      'body.items.0.unit_price_cents',
    );
    expect(await databaseState(rt.ctx)).toEqual(before);
    expect(await liveStock(app, p.id)).toBe(3);
  });

  describe('1. validation_failed', () => {
    const line = (quantity: unknown = 1, product_id: unknown = 1) => ({ product_id, quantity });
    it.each<[string, unknown, string]>([
      ['no body field items', {}, 'body.items'],
      ['no items', { items: [] }, 'body.items'],
      ['items that are not a list', { items: { product_id: 1, quantity: 1 } }, 'body.items'],
      [
        'more than 20 lines',
        { items: Array.from({ length: 21 }, (_, i) => line(1, i + 1)) },
        'body.items',
      ],
      ['quantity 0', { items: [line(0)] }, 'body.items.0.quantity'],
      ['quantity 101', { items: [line(101)] }, 'body.items.0.quantity'],
      ['quantity -1', { items: [line(-1)] }, 'body.items.0.quantity'],
      ['quantity 1.5', { items: [line(1.5)] }, 'body.items.0.quantity'],
      ['quantity as a string', { items: [line('1')] }, 'body.items.0.quantity'],
      ['quantity null', { items: [line(null)] }, 'body.items.0.quantity'],
      ['a missing quantity', { items: [{ product_id: 1 }] }, 'body.items.0.quantity'],
      ['product_id 0', { items: [line(1, 0)] }, 'body.items.0.product_id'],
      ['product_id as a string', { items: [line(1, '1')] }, 'body.items.0.product_id'],
      ['product_id beyond int32', { items: [line(1, 2 ** 31)] }, 'body.items.0.product_id'],
      ['the same product twice', { items: [line(1, 5), line(2, 5)] }, 'body.items.1.product_id'],
      ['an unknown top-level field', { items: [line()], coupon: 'X' }, 'body.coupon'],
      ['an unknown line field', { items: [{ ...line(), note: 'x' }] }, 'body.items.0.note'],
    ])('refuses %s with 400 and changes nothing', async (_label, payload, path) => {
      const before = await databaseState(rt.ctx);
      expectValidation(
        await call(app, {
          method: 'POST',
          url: '/api/orders',
          as: user,
          payload: payload as object,
        }),
        path,
      );
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('accepts exactly 20 lines and quantity 100', async () => {
      const products = await Promise.all(
        Array.from({ length: 20 }, () => createTestProduct(rt.ctx, { stock: 200, price_cents: 1 })),
      );
      const res = await placeOrder(
        app,
        user,
        products.map((p) => [p.id, 100] as [number, number]),
      );
      expectStatus(res, 201);
      expect(Order.parse(res.json()).total_cents).toBe(2000);
    });

    it.each([
      ['an empty key', ''],
      ['a key of 256 characters', 'k'.repeat(256)],
      ['a key of 300 characters', 'k'.repeat(300)],
      ['a key with a space', 'two words'],
    ])('refuses an Idempotency-Key that is %s with 400', async (_label, key) => {
      const p = await createTestProduct(rt.ctx);
      const before = await databaseState(rt.ctx);
      expectValidation(
        await call(app, {
          method: 'POST',
          url: '/api/orders',
          as: user,
          headers: { 'idempotency-key': key },
          payload: orderBody([p.id, 1]),
        }),
        'headers.idempotency-key',
      );
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('accepts an Idempotency-Key of 255 characters', async () => {
      const p = await createTestProduct(rt.ctx);
      expectStatus(await placeOrder(app, user, [[p.id, 1]], 'k'.repeat(255)), 201);
    });
  });

  describe('3. product_not_found', () => {
    it('for a product that does not exist, taking nothing from the other lines', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 4 });
      const before = await databaseState(rt.ctx);
      const error = expectError(
        await placeOrder(app, user, [
          [p.id, 1],
          [2147483000, 1],
        ]),
        404,
        'product_not_found',
      );
      expect(error.details).toMatchObject({ product_id: 2147483000 });
      expect(await databaseState(rt.ctx)).toEqual(before);
      expect(await liveStock(app, p.id)).toBe(4);
    });

    it('for an inactive product', async () => {
      const p = await createTestProduct(rt.ctx, { is_active: false });
      expectError(await placeOrder(app, user, [[p.id, 1]]), 404, 'product_not_found');
    });
  });

  describe('4. sale window', () => {
    it('409 sale_not_started before the start', async () => {
      const p = await createTestProduct(rt.ctx, {
        sale: { starts_at: inAnHour(), ends_at: null, max_per_user: null },
      });
      const before = await databaseState(rt.ctx);
      const error = expectError(await placeOrder(app, user, [[p.id, 1]]), 409, 'sale_not_started');
      expect(error.details).toMatchObject({ product_id: p.id });
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('409 sale_ended after the end', async () => {
      const p = await createTestProduct(rt.ctx, {
        sale: {
          starts_at: new Date(Date.now() - 7_200_000).toISOString(),
          ends_at: hourAgo(),
          max_per_user: null,
        },
      });
      expectError(await placeOrder(app, user, [[p.id, 1]]), 409, 'sale_ended');
    });

    it('a product without a sale is on sale at any time', async () => {
      const p = await createTestProduct(rt.ctx, { sale: null });
      expectStatus(await placeOrder(app, user, [[p.id, 1]]), 201);
    });
  });

  describe('5. purchase_limit_exceeded', () => {
    it('counts the user’s pending and paid orders, not cancelled ones', async () => {
      const p = await createTestProduct(rt.ctx, {
        stock: 50,
        sale: { starts_at: hourAgo(), ends_at: null, max_per_user: 3 },
      });
      const buyer = await createUser(rt.ctx);
      const first = Order.parse(
        expectStatus(await placeOrder(app, buyer, [[p.id, 2]]), 201).json(),
      );
      expectStatus(
        await call(app, { method: 'POST', url: `/api/orders/${first.id}/pay`, as: buyer }),
        200,
      );
      const second = Order.parse(
        expectStatus(await placeOrder(app, buyer, [[p.id, 1]]), 201).json(),
      );
      const error = expectError(
        await placeOrder(app, buyer, [[p.id, 1]]),
        409,
        'purchase_limit_exceeded',
      );
      expect(error.details).toMatchObject({ product_id: p.id, max_per_user: 3 });
      // A cancelled order gives its units back to the cap.
      expectStatus(
        await call(app, { method: 'POST', url: `/api/orders/${second.id}/cancel`, as: buyer }),
        200,
      );
      expectStatus(await placeOrder(app, buyer, [[p.id, 1]]), 201);
      // Another user has their own cap.
      const other = await createUser(rt.ctx);
      expectStatus(await placeOrder(app, other, [[p.id, 3]]), 201);
    });

    it('one order over the cap is refused whole', async () => {
      const p = await createTestProduct(rt.ctx, {
        stock: 50,
        sale: { starts_at: hourAgo(), ends_at: null, max_per_user: 2 },
      });
      const before = await databaseState(rt.ctx);
      expectError(await placeOrder(app, user, [[p.id, 3]]), 409, 'purchase_limit_exceeded');
      expect(await databaseState(rt.ctx)).toEqual(before);
      expect(await liveStock(app, p.id)).toBe(50);
    });
  });

  describe('6. insufficient_stock', () => {
    it('names the product, what was asked and what is left', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 3 });
      const before = await databaseState(rt.ctx);
      const error = expectError(
        await placeOrder(app, user, [[p.id, 5]]),
        409,
        'insufficient_stock',
      );
      expect(error.details).toEqual({ product_id: p.id, requested: 5, available: 3 });
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('sold out: available 0, and a multi-line order takes nothing at all', async () => {
      const plenty = await createTestProduct(rt.ctx, { stock: 10 });
      const last = await createTestProduct(rt.ctx, { stock: 1 });
      expectStatus(await placeOrder(app, user, [[last.id, 1]]), 201);
      const error = expectError(
        await placeOrder(app, user, [
          [plenty.id, 2],
          [last.id, 1],
        ]),
        409,
        'insufficient_stock',
      );
      expect(error.details).toEqual({ product_id: last.id, requested: 1, available: 0 });
      expect(await liveStock(app, plenty.id)).toBe(10);
      expect(await databaseStock(rt.ctx, plenty.id)).toBe(10);
    });

    it('when the last unit is bought by many at once, exactly one wins', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 1 });
      const buyers = await Promise.all(Array.from({ length: 8 }, () => createUser(rt.ctx)));
      const answers = await Promise.all(buyers.map((buyer) => placeOrder(app, buyer, [[p.id, 1]])));
      const statuses = answers.map((res) => res.statusCode);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      for (const res of answers.filter((r) => r.statusCode !== 201)) {
        expectError(res, 409, 'insufficient_stock');
      }
      expect(await databaseStock(rt.ctx, p.id)).toBe(0);
    });
  });

  describe('idempotency', () => {
    it('a repeat returns the same order with the same status, and places no second order', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 10 });
      const buyer = await createUser(rt.ctx);
      const first = expectStatus(await placeOrder(app, buyer, [[p.id, 2]], 'checkout-1'), 201);
      const again = expectStatus(await placeOrder(app, buyer, [[p.id, 2]], 'checkout-1'), 201);
      expect(again.json()).toEqual(first.json());
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(await orderCount(rt.ctx, buyer.id)).toBe(1);
      expect(await databaseStock(rt.ctx, p.id)).toBe(8);
    });

    it('the same key with a different body gets 422 idempotency_key_reused', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 10 });
      const buyer = await createUser(rt.ctx);
      expectStatus(await placeOrder(app, buyer, [[p.id, 1]], 'checkout-2'), 201);
      const before = await databaseState(rt.ctx);
      expectError(
        await placeOrder(app, buyer, [[p.id, 2]], 'checkout-2'),
        422,
        'idempotency_key_reused',
      );
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('the same lines in another order are the same request', async () => {
      const a = await createTestProduct(rt.ctx);
      const b = await createTestProduct(rt.ctx);
      const buyer = await createUser(rt.ctx);
      const first = await placeOrder(
        app,
        buyer,
        [
          [a.id, 1],
          [b.id, 2],
        ],
        'checkout-3',
      );
      const again = await placeOrder(
        app,
        buyer,
        [
          [b.id, 2],
          [a.id, 1],
        ],
        'checkout-3',
      );
      expect(again.statusCode).toBe(201);
      expect(again.json().id).toBe(first.json().id);
    });

    it('keys are per user: another user with the same key gets their own order', async () => {
      const p = await createTestProduct(rt.ctx);
      const one = await createUser(rt.ctx);
      const two = await createUser(rt.ctx);
      const first = expectStatus(await placeOrder(app, one, [[p.id, 1]], 'shared-key'), 201);
      const second = expectStatus(await placeOrder(app, two, [[p.id, 1]], 'shared-key'), 201);
      expect(second.json().id).not.toBe(first.json().id);
    });

    it('a refusal is answered again too, even after the stock came back', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 1 });
      const buyer = await createUser(rt.ctx);
      const first = expectError(
        await placeOrder(app, buyer, [[p.id, 2]], 'checkout-4'),
        409,
        'insufficient_stock',
      );
      const admin = await createUser(rt.ctx, 'admin');
      expectStatus(
        await call(app, {
          method: 'PUT',
          url: `/api/admin/products/${p.id}/stock`,
          as: admin,
          payload: { quantity: 10 },
        }),
        200,
      );
      const again = expectError(
        await placeOrder(app, buyer, [[p.id, 2]], 'checkout-4'),
        409,
        'insufficient_stock',
      );
      expect(again.details).toEqual(first.details);
      expect(await orderCount(rt.ctx, buyer.id)).toBe(0);
      // A new key is a new attempt.
      expectStatus(await placeOrder(app, buyer, [[p.id, 2]], 'checkout-5'), 201);
    });

    it('concurrent identical requests: exactly one order, the others in flight or replayed', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 100 });
      const buyer = await createUser(rt.ctx);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => placeOrder(app, buyer, [[p.id, 1]], 'double-click')),
      );
      expect(await orderCount(rt.ctx, buyer.id)).toBe(1);
      const created = answers.filter((res) => res.statusCode === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(new Set(created.map((res) => res.json().id)).size).toBe(1);
      const inFlight = answers.filter((res) => res.statusCode !== 201);
      expect(inFlight.length).toBeGreaterThanOrEqual(1);
      for (const res of inFlight) expectError(res, 409, 'idempotency_in_flight');
      expect(await databaseStock(rt.ctx, p.id)).toBe(99);
      // Once the first is done, a repeat is a replay.
      const later = expectStatus(await placeOrder(app, buyer, [[p.id, 1]], 'double-click'), 201);
      expect(later.json().id).toBe(created[0]!.json().id);
    });
  });
});

/** API.md's order of checks, where one order has several problems at once. */
describe('the order of the checks', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { ORDER_RATE_LIMIT_MS: '1000' } });
    app = await rt.app();
  });
  afterAll(() => rt.close());

  it('validation comes before the rate limit and does not use up the attempt', async () => {
    const p = await createTestProduct(rt.ctx);
    const buyer = await createUser(rt.ctx);
    expectValidation(
      await call(app, { method: 'POST', url: '/api/orders', as: buyer, payload: { items: [] } }),
      'body.items',
    );
    expectValidation(
      await call(app, { method: 'POST', url: '/api/orders', as: buyer, payload: { items: [] } }),
      'body.items',
    );
    expectStatus(await placeOrder(app, buyer, [[p.id, 1]]), 201);
  });

  it('2. rate_limited with Retry-After: a second attempt within ORDER_RATE_LIMIT_MS', async () => {
    const p = await createTestProduct(rt.ctx);
    const buyer = await createUser(rt.ctx);
    expectStatus(await placeOrder(app, buyer, [[p.id, 1]]), 201);
    const before = await databaseState(rt.ctx);
    const limited = await placeOrder(app, buyer, [[p.id, 1]]);
    const error = expectError(limited, 429, 'rate_limited');
    expect(limited.headers['retry-after']).toBe('1');
    expect(error.details?.retry_after_ms).toBeGreaterThan(0);
    expect(error.details?.retry_after_ms).toBeLessThanOrEqual(1000);
    expect(await databaseState(rt.ctx)).toEqual(before);
    // Another user is not limited by this one.
    expectStatus(await placeOrder(app, await createUser(rt.ctx), [[p.id, 1]]), 201);
    await sleep(1100);
    expectStatus(await placeOrder(app, buyer, [[p.id, 1]]), 201);
  });

  it('the rate limit comes before the product checks (a refused attempt still counts)', async () => {
    const buyer = await createUser(rt.ctx);
    expectError(await placeOrder(app, buyer, [[2147483000, 1]]), 404, 'product_not_found');
    expectError(await placeOrder(app, buyer, [[2147483000, 1]]), 429, 'rate_limited');
  });

  it('an idempotent replay does not count against the rate limit', async () => {
    const p = await createTestProduct(rt.ctx);
    const buyer = await createUser(rt.ctx);
    const first = expectStatus(await placeOrder(app, buyer, [[p.id, 1]], 'rl-key'), 201);
    // Immediately again: a replay, not a 429.
    const replay = expectStatus(await placeOrder(app, buyer, [[p.id, 1]], 'rl-key'), 201);
    expect(replay.json().id).toBe(first.json().id);
    // A new attempt right away is limited: the first attempt counted.
    expectError(await placeOrder(app, buyer, [[p.id, 1]]), 429, 'rate_limited');
    await sleep(1100);
    // After the gap, a replay leaves the slot free for the next real attempt.
    expectStatus(await placeOrder(app, buyer, [[p.id, 1]], 'rl-key'), 201);
    expectStatus(await placeOrder(app, buyer, [[p.id, 1]]), 201);
    expect(await orderCount(rt.ctx, buyer.id)).toBe(2);
  });

  it('the sale window (4) before the purchase limit (5) and the stock (6)', async () => {
    const ended = await createTestProduct(rt.ctx, {
      sale: {
        starts_at: new Date(Date.now() - 7_200_000).toISOString(),
        ends_at: hourAgo(),
        max_per_user: null,
      },
    });
    const soldOut = await createTestProduct(rt.ctx, { stock: 0 });
    const buyer = await createUser(rt.ctx);
    expectError(
      await placeOrder(app, buyer, [
        [soldOut.id, 1],
        [ended.id, 1],
      ]),
      409,
      'sale_ended',
    );
  });

  it.each(['scarce product first', 'capped product first'])(
    'the purchase limit (5) before the stock (6): %s',
    async (arrangement) => {
      const make = {
        scarce: () => createTestProduct(rt.ctx, { stock: 1 }),
        capped: () =>
          createTestProduct(rt.ctx, {
            stock: 10,
            sale: { starts_at: hourAgo(), ends_at: null, max_per_user: 1 },
          }),
      };
      // Ids follow creation order, and the stock path works in product_id order.
      const scarceFirst = arrangement.startsWith('scarce');
      const first = await (scarceFirst ? make.scarce() : make.capped());
      const second = await (scarceFirst ? make.capped() : make.scarce());
      const buyer = await createUser(rt.ctx);
      const before = await databaseState(rt.ctx);
      expectError(
        await placeOrder(app, buyer, [
          [first.id, 2],
          [second.id, 2],
        ]),
        409,
        'purchase_limit_exceeded',
      );
      expect(await databaseState(rt.ctx)).toEqual(before);
    },
  );
});

describe('an order’s life: pay, cancel, list, get', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let buyer: TestUser;
  let stranger: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    buyer = await createUser(rt.ctx);
    stranger = await createUser(rt.ctx);
  });
  afterAll(() => rt.close());

  const act = (orderId: number, verb: 'pay' | 'cancel', as: TestUser = buyer) =>
    call(app, { method: 'POST', url: `/api/orders/${orderId}/${verb}`, as });
  const get = (orderId: number, as: TestUser = buyer) =>
    call(app, { method: 'GET', url: `/api/orders/${orderId}`, as });
  const newOrder = async (quantity = 1, stock = 10) => {
    const p = await createTestProduct(rt.ctx, { stock });
    const order = Order.parse(
      expectStatus(await placeOrder(app, buyer, [[p.id, quantity]]), 201).json(),
    );
    return { product: p, order };
  };

  it('GET answers the caller’s order', async () => {
    const { order } = await newOrder();
    const res = expectStatus(await get(order.id), 200);
    expect(Order.parse(res.json())).toEqual(order);
  });

  it('pay: 200, now paid with paid_at; the stock stays sold', async () => {
    const { product, order } = await newOrder(2);
    const paid = Order.parse(expectStatus(await act(order.id, 'pay'), 200).json());
    expect(paid).toMatchObject({ id: order.id, status: 'paid', cancelled_at: null });
    expect(Date.parse(paid.paid_at!)).toBeGreaterThan(Date.now() - 10_000);
    expect(await databaseStock(rt.ctx, product.id)).toBe(8);
    expect(Order.parse((await get(order.id)).json()).status).toBe('paid');
  });

  it('cancel: 200, now cancelled with cancelled_at; its stock is back on sale', async () => {
    const { product, order } = await newOrder(3);
    expect(await liveStock(app, product.id)).toBe(7);
    const cancelled = Order.parse(expectStatus(await act(order.id, 'cancel'), 200).json());
    expect(cancelled).toMatchObject({ status: 'cancelled', paid_at: null });
    expect(cancelled.cancelled_at).not.toBeNull();
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
    expect(await liveStock(app, product.id)).toBe(10);
  });

  it('pay twice: the second is 409 invalid_order_state', async () => {
    const { order } = await newOrder();
    expectStatus(await act(order.id, 'pay'), 200);
    const error = expectError(await act(order.id, 'pay'), 409, 'invalid_order_state');
    expect(error.details).toMatchObject({ order_id: order.id, status: 'paid' });
  });

  it('cancel twice: the second is 409, and the stock returned once', async () => {
    const { product, order } = await newOrder(4);
    expectStatus(await act(order.id, 'cancel'), 200);
    const error = expectError(await act(order.id, 'cancel'), 409, 'invalid_order_state');
    expect(error.details).toMatchObject({ status: 'cancelled' });
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
  });

  it('pay after cancel is 409 and the order stays cancelled', async () => {
    const { product, order } = await newOrder(1);
    expectStatus(await act(order.id, 'cancel'), 200);
    expectError(await act(order.id, 'pay'), 409, 'invalid_order_state');
    expect(Order.parse((await get(order.id)).json()).status).toBe('cancelled');
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
  });

  it('cancel after pay is allowed: the order is cancelled and its stock returns', async () => {
    const { product, order } = await newOrder(2);
    expectStatus(await act(order.id, 'pay'), 200);
    const cancelled = Order.parse(expectStatus(await act(order.id, 'cancel'), 200).json());
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.paid_at).not.toBeNull();
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
    expect(await liveStock(app, product.id)).toBe(10);
  });

  it('pay and cancel racing on one order: the stock is right whichever wins', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { product, order } = await newOrder(2);
      const [pay, cancel] = await Promise.all([act(order.id, 'pay'), act(order.id, 'cancel')]);
      const final = Order.parse((await get(order.id)).json());
      expect(final.status).toBe('cancelled');
      expect(cancel.statusCode).toBe(200);
      expect([200, 409]).toContain(pay.statusCode);
      expect(await databaseStock(rt.ctx, product.id)).toBe(10);
    }
  });

  it('many cancels racing: one 200, the rest 409, the stock returns once', async () => {
    const { product, order } = await newOrder(5);
    const answers = await Promise.all(Array.from({ length: 6 }, () => act(order.id, 'cancel')));
    expect(answers.filter((res) => res.statusCode === 200)).toHaveLength(1);
    for (const res of answers.filter((r) => r.statusCode !== 200)) {
      expectError(res, 409, 'invalid_order_state');
    }
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
    expect(await liveStock(app, product.id)).toBe(10);
  });

  it('someone else’s order is 404 order_not_found for GET, pay and cancel, and is untouched', async () => {
    const { product, order } = await newOrder(1);
    const before = await databaseState(rt.ctx);
    expectError(await get(order.id, stranger), 404, 'order_not_found');
    expectError(await act(order.id, 'pay', stranger), 404, 'order_not_found');
    expectError(await act(order.id, 'cancel', stranger), 404, 'order_not_found');
    expect(await databaseState(rt.ctx)).toEqual(before);
    expect(Order.parse((await get(order.id)).json()).status).toBe('pending_payment');
    expect(await databaseStock(rt.ctx, product.id)).toBe(9);
    // ... and answers exactly like an order that does not exist.
    const missing = expectError(await get(2147483000, stranger), 404, 'order_not_found');
    const theirs = expectError(await get(order.id, stranger), 404, 'order_not_found');
    expect(Object.keys(theirs)).toEqual(Object.keys(missing));
  });

  it('an unknown order is 404 for every verb', async () => {
    expectError(await get(2147483000), 404, 'order_not_found');
    expectError(await act(2147483000, 'pay'), 404, 'order_not_found');
    expectError(await act(2147483000, 'cancel'), 404, 'order_not_found');
  });

  it('pay and cancel accept an empty JSON body, and no body at all', async () => {
    const { order } = await newOrder();
    expectStatus(
      await call(app, {
        method: 'POST',
        url: `/api/orders/${order.id}/pay`,
        as: buyer,
        headers: { 'content-type': 'application/json' },
        payload: '',
      }),
      200,
    );
    expectStatus(await act(order.id, 'cancel'), 200);
  });

  it('lists the caller’s orders only, newest first, with paging', async () => {
    const lister = await createUser(rt.ctx);
    const p = await createTestProduct(rt.ctx, { stock: 100 });
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(Order.parse((await placeOrder(app, lister, [[p.id, i + 1]])).json()).id);
    }
    await placeOrder(app, stranger, [[p.id, 1]]);
    const page = async (query: string) =>
      OrderList.parse(
        expectStatus(
          await call(app, { method: 'GET', url: `/api/orders?${query}`, as: lister }),
          200,
        ).json(),
      );
    const all = await page('');
    expect(all).toMatchObject({ page: 1, page_size: 20, total: 5 });
    expect(all.items.map((o) => o.id)).toEqual([...ids].reverse());
    const first = await page('page=1&page_size=2');
    const second = await page('page=2&page_size=2');
    const third = await page('page=3&page_size=2');
    expect([...first.items, ...second.items, ...third.items].map((o) => o.id)).toEqual(
      [...ids].reverse(),
    );
    expect(third.items).toHaveLength(1);
    expect((await page('page=4&page_size=2')).items).toEqual([]);
  });

  it('a user without orders gets an empty list', async () => {
    const fresh = await createUser(rt.ctx);
    const list = OrderList.parse(
      (await call(app, { method: 'GET', url: '/api/orders', as: fresh })).json(),
    );
    expect(list).toEqual({ items: [], page: 1, page_size: 20, total: 0 });
  });

  it.each(['page=0', 'page_size=101', 'page=x', 'status=paid', 'user_id=1'])(
    'GET /api/orders?%s is 400',
    async (query) => {
      expectError(
        await call(app, { method: 'GET', url: `/api/orders?${query}`, as: buyer }),
        400,
        'validation_failed',
      );
    },
  );
});

describe('the payment deadline', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let buyer: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { ORDER_PAYMENT_TTL_S: '1' } });
    app = await rt.app();
    buyer = await createUser(rt.ctx);
  });
  afterAll(() => rt.close());

  const act = (orderId: number, verb: 'pay' | 'cancel') =>
    call(app, { method: 'POST', url: `/api/orders/${orderId}/${verb}`, as: buyer });
  const get = async (orderId: number) =>
    Order.parse(
      (await call(app, { method: 'GET', url: `/api/orders/${orderId}`, as: buyer })).json(),
    );
  const newOrder = async (quantity: number) => {
    const p = await createTestProduct(rt.ctx, { stock: 10 });
    const order = Order.parse(
      expectStatus(await placeOrder(app, buyer, [[p.id, quantity]]), 201).json(),
    );
    return { product: p, order };
  };

  it('expires_at is ORDER_PAYMENT_TTL_S after created_at', async () => {
    const { order } = await newOrder(1);
    const ttl = Date.parse(order.expires_at) - Date.parse(order.created_at);
    expect(ttl).toBeGreaterThanOrEqual(900);
    expect(ttl).toBeLessThanOrEqual(1100);
  });

  it('paying after the deadline is 409, and the order becomes expired with its stock back', async () => {
    const { product, order } = await newOrder(3);
    await sleep(1200);
    const error = expectError(await act(order.id, 'pay'), 409, 'invalid_order_state');
    expect(error.details).toMatchObject({ status: 'expired' });
    const now = await get(order.id);
    expect(now.status).toBe('expired');
    expect(now.paid_at).toBeNull();
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
    expect(await liveStock(app, product.id)).toBe(10);
  });

  it('the sweeper expires due orders and returns their stock exactly once', async () => {
    const { product, order } = await newOrder(4);
    const { product: other, order: paidOrder } = await newOrder(2);
    expectStatus(await act(paidOrder.id, 'pay'), 200);
    await sleep(1200);
    expect(await expireDueOrders({ ctx: rt.ctx })).toBeGreaterThanOrEqual(1);
    const expired = await get(order.id);
    expect(expired.status).toBe('expired');
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
    expect(await liveStock(app, product.id)).toBe(10);
    // Paid orders never expire.
    expect((await get(paidOrder.id)).status).toBe('paid');
    expect(await databaseStock(rt.ctx, other.id)).toBe(8);
    // Again: nothing more to do, nothing returned twice.
    await expireDueOrders({ ctx: rt.ctx });
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
    expectError(await act(order.id, 'cancel'), 409, 'invalid_order_state');
    expectError(await act(order.id, 'pay'), 409, 'invalid_order_state');
    expect(await databaseStock(rt.ctx, product.id)).toBe(10);
  });

  it('an order is not expired before its deadline', async () => {
    const { order } = await newOrder(1);
    await expireDueOrders({ ctx: rt.ctx });
    expect((await get(order.id)).status).toBe('pending_payment');
  });

  it('cancel, pay and sweepers racing at the deadline: the stock returns exactly once', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { product, order } = await newOrder(3);
      await sleep(1100);
      const [cancel, pay] = await Promise.all([
        act(order.id, 'cancel'),
        act(order.id, 'pay'),
        expireDueOrders({ ctx: rt.ctx }),
        expireDueOrders({ ctx: rt.ctx }),
      ]);
      const final = await get(order.id);
      expect(['cancelled', 'expired']).toContain(final.status);
      expect(pay.statusCode).toBe(409);
      expect([200, 409]).toContain(cancel.statusCode);
      expect(await databaseStock(rt.ctx, product.id)).toBe(10);
      expect(await liveStock(app, product.id)).toBe(10);
    }
  });
});
