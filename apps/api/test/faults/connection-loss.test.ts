import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, codeOf, createdId, FaultShop, placeOrder, type Outcome } from './support/shop.ts';
import { sleep, waitFor } from './support/wait.ts';

/**
 * PostgreSQL dropping or refusing connections while real API processes use them: the process
 * lives, every answer is the truth or a 503 with Retry-After (never a 500), and the log tells the
 * outage in one line when it starts and one when it ends.
 */
describe('PostgreSQL connections lost under requests', () => {
  let shop: FaultShop;
  beforeAll(async () => {
    shop = await FaultShop.start({ processes: 1 });
  });
  afterAll(() => shop?.stop());

  const logsSince = (from: number) => shop.apis[0]!.logs.slice(from);

  it('when every backend is terminated while requests sit inside their transactions, the process lives and nothing answers 500', async () => {
    const api = shop.apis[0]!;
    const product = await shop.createProduct(5);
    const [buyer, canceller] = await shop.createBuyers(2);
    const toCancel = await placeOrder(api, canceller!, [{ product_id: product, quantity: 1 }]);
    expect(toCancel).toMatchObject({ kind: 'ok', status: 201 });
    const orderId = createdId(toCancel)!;
    const from = api.logs.length;

    // Rows the requests need are held, so that each one waits inside its transaction (the order
    // writer's, a cancel's, a sync's) when its connection is cut.
    const blocker = new pg.Client({
      connectionString: shop.postgres.url,
      application_name: 'fault-blocker',
    });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM stock WHERE product_id = $1 FOR UPDATE', [product]);
    await blocker.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
    const answers: Promise<Outcome>[] = [
      placeOrder(api, buyer!, [{ product_id: product, quantity: 1 }], 'terminated-1'),
      call(api.url, {
        method: 'POST',
        path: `/api/orders/${orderId}/cancel`,
        token: canceller!.token,
      }),
      shop.adminCall('POST', '/api/admin/stock/sync', { product_ids: [product] }),
    ];
    await waitFor(
      async () => {
        const waiting = await shop.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE application_name = 'stampede-api' AND wait_event_type = 'Lock'`,
        );
        return waiting[0]!.n >= 3;
      },
      { timeoutMs: 1500, what: 'three requests waiting on locks', everyMs: 20 },
    );
    expect(await shop.postgres.terminateBackends()).toBeGreaterThanOrEqual(3);
    await blocker.query('ROLLBACK');
    await blocker.end();

    for (const answer of await Promise.all(answers)) {
      expect(answer.kind, JSON.stringify(answer)).toBe('ok');
      expect(answer.kind === 'ok' && answer.status, JSON.stringify(answer)).not.toBe(500);
      if (answer.kind === 'ok' && answer.status === 503) {
        expect(codeOf(answer)).toBe('service_unavailable');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(api.running).toBe(true);
    expect(api.unexpectedExits).toEqual([]);

    // Still serving: a new order goes through, and the cut connections were not logged as errors.
    const [fresh] = await shop.createBuyers(1);
    expect(await placeOrder(api, fresh!, [{ product_id: product, quantity: 1 }])).toMatchObject({
      kind: 'ok',
      status: 201,
    });
    expect(logsSince(from).filter((line) => line.level === 'ERROR')).toEqual([]);
  });

  it('while PostgreSQL is down, every endpoint that needs it answers 503 service_unavailable with Retry-After, and the log tells it once', async () => {
    const api = shop.apis[0]!;
    const product = await shop.createProduct(3);
    const [buyer] = await shop.createBuyers(1);
    const placed = await placeOrder(api, buyer!, [{ product_id: product, quantity: 1 }]);
    const orderId = createdId(placed)!;
    const from = api.logs.length;

    await shop.postgres.crash();
    // Past the product cache's second, so that every read goes to the database.
    await sleep(1200);
    const asBuyer = { token: buyer!.token };
    const requests: [string, Parameters<typeof call>[1]][] = [
      ['catalogue', { method: 'GET', path: '/api/products' }],
      ['product', { method: 'GET', path: `/api/products/${product}` }],
      [
        'sign-in',
        {
          method: 'POST',
          path: '/api/auth/login',
          body: { email: 'a@b.test', password: 'whatever1' },
        },
      ],
      [
        'sign-up',
        {
          method: 'POST',
          path: '/api/auth/register',
          body: { email: 'new@b.test', password: 'a long password', name: 'New' },
        },
      ],
      ['me', { method: 'GET', path: '/api/auth/me', ...asBuyer }],
      ['my orders', { method: 'GET', path: '/api/orders', ...asBuyer }],
      ['one order', { method: 'GET', path: `/api/orders/${orderId}`, ...asBuyer }],
      [
        'order',
        {
          method: 'POST',
          path: '/api/orders',
          body: { items: [{ product_id: product, quantity: 1 }] },
          ...asBuyer,
        },
      ],
      ['pay', { method: 'POST', path: `/api/orders/${orderId}/pay`, ...asBuyer }],
      ['cancel', { method: 'POST', path: `/api/orders/${orderId}/cancel`, ...asBuyer }],
    ];
    for (const [name, request] of requests) {
      const answer = await call(api.url, request);
      expect(answer.kind === 'ok' && answer.status, `${name}: ${JSON.stringify(answer)}`).toBe(503);
      expect(codeOf(answer), name).toBe('service_unavailable');
      expect(
        answer.kind === 'ok' && Number(answer.headers.get('retry-after')),
        name,
      ).toBeGreaterThan(0);
    }
    for (const path of ['/api/admin/orders', '/api/admin/products/low-stock']) {
      const answer = await shop.adminCall('GET', path);
      expect(answer.kind === 'ok' && answer.status, path).toBe(503);
      expect(codeOf(answer), path).toBe('service_unavailable');
    }
    const ready = await call(api.url, { method: 'GET', path: '/readyz' });
    expect(ready).toMatchObject({ kind: 'ok', status: 503 });

    await shop.postgres.restart();
    await waitFor(
      async () => {
        const answer = await call(api.url, { method: 'GET', path: '/api/orders', ...asBuyer });
        return answer.kind === 'ok' && answer.status === 200;
      },
      { timeoutMs: 20_000, what: 'orders to answer again' },
    );
    await waitFor(() => logsSince(from).some((line) => line.msg === 'database available again'), {
      timeoutMs: 5000,
      what: 'the outage to end in the log',
    });

    const lines = logsSince(from);
    expect(lines.filter((line) => line.msg === 'database unavailable')).toHaveLength(1);
    const back = lines.filter((line) => line.msg === 'database available again');
    expect(back).toHaveLength(1);
    expect(Number(back[0]!.failures)).toBeGreaterThanOrEqual(requests.length);
    expect(lines.filter((line) => line.level === 'ERROR')).toEqual([]);
    expect(api.unexpectedExits).toEqual([]);
  });
});
