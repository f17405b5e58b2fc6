import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, createTestProduct, createUsers, type TestUser } from '../support/fixtures.ts';
import { parseExposition } from './support/exposition.ts';
import { installOrderWriteFault, type OrderWriteFault } from './support/faults.ts';
import { startObservedRuntime, type ObservedRuntime } from './support/observed-runtime.ts';

/**
 * The error-rate watcher, driven end to end: real order requests through `app.inject`, real
 * failures from a failing dependency (PostgreSQL refusing to write orders, or Redis cut off), and
 * the warning read back from the production logger's JSON lines. Every test builds its own app,
 * and so starts with a fresh watcher, over a shared runtime.
 */

const ALERT = 'ERROR_RATE_EXCEEDED';

function alertLines(rt: ObservedRuntime) {
  return rt.logs.lines().filter((line) => line.alert_type === ALERT);
}

async function alertsCounted(app: FastifyInstance): Promise<number> {
  const { samples } = parseExposition((await app.inject('/metrics')).body);
  return (
    samples.find(
      (s) => s.name === 'stampede_error_rate_alerts_total' && s.labels.endpoint === '/api/orders',
    )?.value ?? 0
  );
}

describe('error-rate watcher, database refusing orders', () => {
  let rt: ObservedRuntime;
  let fault: { set(fault: OrderWriteFault): Promise<void> };
  let user: TestUser;
  let productId: number;
  let soldOutId: number;

  beforeAll(async () => {
    rt = await startObservedRuntime();
    fault = await installOrderWriteFault(rt.ctx.database.pool);
    [user] = (await createUsers(rt.ctx, 1)) as [TestUser];
    productId = (await createTestProduct(rt.ctx, { stock: 100_000 })).id;
    soldOutId = (await createTestProduct(rt.ctx, { stock: 0 })).id;
  });
  afterEach(async () => {
    vi.useRealTimers();
    await fault.set('none');
    rt.logs.clear();
  });
  afterAll(() => rt.close());

  /** Sends `count` order attempts one after the other; returns their statuses. */
  async function order(
    app: FastifyInstance,
    count: number,
    options: { fault?: OrderWriteFault; product?: number } = {},
  ): Promise<number[]> {
    await fault.set(options.fault ?? 'none');
    const statuses: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: bearer(user),
        payload: { items: [{ product_id: options.product ?? productId, quantity: 1 }] },
      });
      statuses.push(res.statusCode);
    }
    return statuses;
  }

  it('logs one JSON warning with the exact fields when 2 of 25 answers are 5xx (8%)', async () => {
    const app = await rt.newApp();
    const before = await alertsCounted(app);

    expect(await order(app, 23)).toEqual(Array(23).fill(201));
    expect(await order(app, 2, { fault: 'internal' })).toEqual([500, 500]);

    const alerts = alertLines(rt);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      level: 'WARN',
      service: 'stampede-api',
      alert_type: 'ERROR_RATE_EXCEEDED',
      endpoint: '/api/orders',
      error_rate: 0.08,
      threshold: 0.05,
      msg: 'ERROR_RATE_EXCEEDED: /api/orders error rate is 8.0% (threshold: 5%)',
    });
    // The warning is a single line, and nothing else claims to be one.
    expect(rt.logs.lines().filter((line) => String(line.msg).startsWith(ALERT))).toHaveLength(1);
    expect((await alertsCounted(app)) - before).toBe(1);
  });

  it('waits for 20 answers: 4 failures in 19 answers stay quiet, a 5th failure as the 20th alerts', async () => {
    const app = await rt.newApp();
    await order(app, 15);
    expect(await order(app, 4, { fault: 'internal' })).toEqual([500, 500, 500, 500]);
    expect(alertLines(rt)).toEqual([]);

    await order(app, 1, { fault: 'internal' });
    const alerts = alertLines(rt);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ error_rate: 0.25, threshold: 0.05 });
    expect(alerts[0]!.msg).toBe(
      'ERROR_RATE_EXCEEDED: /api/orders error rate is 25.0% (threshold: 5%)',
    );
  });

  it('stays quiet at exactly 5% (2 of 40): the share must pass the threshold', async () => {
    const app = await rt.newApp();
    await order(app, 38);
    expect(await order(app, 2, { fault: 'internal' })).toEqual([500, 500]);
    expect(alertLines(rt)).toEqual([]);
  });

  it('counts refusals (409 sold out) as answers, not as errors', async () => {
    const app = await rt.newApp();
    expect(await order(app, 23, { product: soldOutId })).toEqual(Array(23).fill(409));
    await order(app, 2, { fault: 'internal' });
    const alerts = alertLines(rt);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.msg).toBe(
      'ERROR_RATE_EXCEEDED: /api/orders error rate is 8.0% (threshold: 5%)',
    );
  });

  it('watches only the order endpoints: other answers do not make up the sample', async () => {
    const app = await rt.newApp();
    for (let i = 0; i < 30; i += 1) {
      expect((await app.inject(`/api/products/${productId}`)).statusCode).toBe(200);
    }
    await order(app, 3, { fault: 'internal' });
    expect(alertLines(rt)).toEqual([]);
  });

  it('warns at most once per window, and again once the window has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const app = await rt.newApp();
    const before = await alertsCounted(app);

    await order(app, 20);
    await order(app, 5, { fault: 'internal' });
    expect(alertLines(rt)).toHaveLength(1);

    // Still failing, within the minute after the warning: no second warning.
    await order(app, 10, { fault: 'internal' });
    vi.setSystemTime(Date.now() + 59_000);
    await order(app, 20, { fault: 'internal' });
    expect(alertLines(rt)).toHaveLength(1);

    // Two minutes on, every earlier answer has left the sliding window: 1 failure in 21 fresh
    // answers is under the threshold, a 2nd (2 in 22, 9.1%) warns again.
    vi.setSystemTime(Date.now() + 62_000);
    await order(app, 20);
    await order(app, 1, { fault: 'internal' });
    expect(alertLines(rt)).toHaveLength(1);
    await order(app, 1, { fault: 'internal' });
    const alerts = alertLines(rt);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.msg).toBe(
      'ERROR_RATE_EXCEEDED: /api/orders error rate is 9.1% (threshold: 5%)',
    );
    expect((await alertsCounted(app)) - before).toBe(2);
  });
});

describe('error-rate watcher, stock cache unreachable', () => {
  let rt: ObservedRuntime;
  afterAll(() => rt?.close());

  it('counts 503 stock_unavailable answers as errors and warns once', async () => {
    rt = await startObservedRuntime({ redisProxy: true });
    const proxy = rt.redisProxy!;
    const [user] = (await createUsers(rt.ctx, 1)) as [TestUser];
    const product = await createTestProduct(rt.ctx, { stock: 1000 });
    const app = await rt.newApp();
    const place = () =>
      app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: bearer(user),
        payload: { items: [{ product_id: product.id, quantity: 1 }] },
      });

    for (let i = 0; i < 20; i += 1) expect((await place()).statusCode).toBe(201);
    proxy.cut();
    // Wait until the API itself sees Redis gone, as it would after a real outage.
    await expect
      .poll(async () => (await app.inject('/readyz')).statusCode, { timeout: 10_000 })
      .toBe(503);
    // The 2nd failure makes 2 in 22 answers (9.1%); the 3rd is inside the same window.
    for (let i = 0; i < 3; i += 1) {
      const res = await place();
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('stock_unavailable');
    }
    const alerts = alertLines(rt);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      level: 'WARN',
      endpoint: '/api/orders',
      error_rate: 0.091,
      threshold: 0.05,
      msg: 'ERROR_RATE_EXCEEDED: /api/orders error rate is 9.1% (threshold: 5%)',
    });

    // Redis back: the gate reconnects and orders go through again.
    proxy.restore();
    await expect
      .poll(async () => (await app.inject('/readyz')).statusCode, { timeout: 15_000 })
      .toBe(200);
    await expect.poll(async () => (await place()).statusCode, { timeout: 15_000 }).toBe(201);
  });
});
