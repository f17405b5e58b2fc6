import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveEvent, SaleReport } from '@stampede/contract';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/runtime.ts';
import { bearer, createTestProduct, createUsers, type TestUser } from '../support/fixtures.ts';
import { placeOrder } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { parseExposition } from './support/exposition.ts';

/**
 * The console's live view: order traffic counted by each API process (the counters of
 * /metrics), written to PostgreSQL once a second and summed over the processes, so two API
 * processes on one database show one picture; units from the stock ledger; a report after the
 * sale. Driven with real orders through two real runtimes on one database and one Redis.
 */
describe('the live sale view', () => {
  let rt: TestRuntime;
  let second: Runtime;
  let appA: FastifyInstance;
  let appB: FastifyInstance;
  let admin: TestUser;
  let buyers: TestUser[];

  beforeAll(async () => {
    rt = await createTestRuntime();
    // A second API process on the same PostgreSQL and Redis, as another machine would be.
    const config = loadConfig({
      DATABASE_URL: rt.databaseUrl,
      REDIS_URL: rt.redisUrl,
      REDIS_KEY_PREFIX: rt.prefix,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ORDER_RATE_LIMIT_MS: '0',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
      DATABASE_POOL_SIZE: '5',
    });
    second = await startRuntime(config, pino({ level: 'silent' }), { jobs: false });
    appA = await rt.app();
    appB = await buildApp({ ctx: second.ctx });
    admin = (await createUsers(rt.ctx, 1, 'admin'))[0]!;
    buyers = await createUsers(rt.ctx, 6);
  });
  afterAll(async () => {
    await appB?.close();
    await second?.close();
    await rt?.close();
  });

  const tokenOn = (runtime: Runtime | TestRuntime, user: TestUser) => ({
    ...user,
    token: runtime.ctx.tokens.issue({ userId: user.id, role: 'customer' }),
  });
  const publishBoth = () =>
    Promise.all([rt.ctx.liveTraffic.publish(), second.ctx.liveTraffic.publish()]);

  async function snapshot(): Promise<LiveEvent> {
    const answer = await appA.inject({ url: '/api/admin/live/snapshot', headers: bearer(admin) });
    expect(answer.statusCode, answer.body).toBe(200);
    return LiveEvent.parse(answer.json());
  }

  it('sums the traffic of two processes, and reports the sale after it', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 3, name: 'Live drop' });
    // The stock is loaded, then the sale opens (as an operator schedules it).
    await sleep(1100);
    await rt.ctx.db.execute(
      sql`UPDATE products SET sale_starts_at = now() WHERE id = ${product.id}`,
    );
    rt.ctx.productCache.invalidate(product.id);
    const before = await snapshot();
    const counted = (event: LiveEvent) =>
      event.traffic.reduce(
        (sum, p) => ({
          attempts: sum.attempts + p.attempts,
          created: sum.created + p.created,
          soldOut: sum.soldOut + (p.refusals.sold_out ?? 0),
        }),
        { attempts: 0, created: 0, soldOut: 0 },
      );
    const base = counted(before);

    // Five buyers for three units, over both processes.
    const answers = await Promise.all(
      buyers
        .slice(0, 5)
        .map((buyer, i) =>
          i % 2 === 0
            ? placeOrder(appA, buyer, [[product.id, 1]])
            : placeOrder(appB, tokenOn(second, buyer), [[product.id, 1]]),
        ),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 201, 201, 409, 409]);
    const [a, b] = await publishBoth();
    expect(a?.outcomes && b?.outcomes, 'both processes published').toBeTruthy();

    const after = await snapshot();
    const now = counted(after);
    expect(now.attempts - base.attempts).toBe(5);
    expect(now.created - base.created).toBe(3);
    expect(now.soldOut - base.soldOut).toBe(2);
    const latest = after.traffic.at(-1)!;
    expect(latest.p50).toBeGreaterThan(0);
    expect(latest.p99).toBeGreaterThanOrEqual(latest.p50!);
    const live = after.sales.find((sale) => sale.product_id === product.id)!;
    expect(live).toMatchObject({ name: 'Live drop', sold: 3, left: 0 });
    expect(live.sold_out_at).not.toBeNull();
    expect(live.units!.at(0)).toMatchObject({ sold: 0, left: 3 });
    expect(live.units!.at(-1)).toMatchObject({ sold: 3, left: 0 });

    // Published once: a publish with nothing new writes nothing, counts nothing twice.
    await sleep(1000);
    expect(await publishBoth()).toEqual([undefined, undefined]);

    // One buyer cancels: the unit returns and the report says so.
    const created = answers.find((answer) => answer.statusCode === 201)!;
    const owner = buyers[answers.indexOf(created)]!;
    const cancel = await appA.inject({
      method: 'POST',
      url: `/api/orders/${created.json().id}/cancel`,
      headers: bearer(owner),
    });
    expect(cancel.statusCode).toBe(200);
    const reportAnswer = await appB.inject({
      url: `/api/admin/live/sales/${product.id}/report`,
      headers: bearer(tokenOn(second, { ...admin })),
    });
    expect(reportAnswer.statusCode, reportAnswer.body).toBe(200);
    const report = SaleReport.parse(reportAnswer.json());
    expect(report).toMatchObject({
      product_id: product.id,
      running: true,
      stock_at_start: 3,
      orders: 3,
      units_sold: 2,
      units_returned: { cancel: 1, expiry: 0 },
    });
    expect(report.sold_out_at).not.toBeNull();
    expect(report.sell_out_seconds).toBeGreaterThanOrEqual(0);
    expect(report.sell_out_seconds).toBeLessThan(10);
    expect(report.traffic.attempts).toBeGreaterThanOrEqual(5);
    expect(report.traffic.refusals.sold_out).toBeGreaterThanOrEqual(2);
    expect(report.traffic.peak_attempts_per_second).toBeGreaterThanOrEqual(3);
    expect(report.traffic.p99).toBeGreaterThan(0);
  });

  it('streams a snapshot, then a tick a second, over real HTTP; the stream is not an HTTP metric', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 10 });
    const baseUrl = await appA.listen({ port: 0, host: '127.0.0.1' });
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/api/admin/live/stream`, {
      headers: bearer(admin),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    const nextEvent = async (): Promise<LiveEvent> => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data) return LiveEvent.parse(JSON.parse(data.slice(6)));
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += value;
      }
    };
    const first = await nextEvent();
    expect(first.kind).toBe('snapshot');
    expect(first.window_seconds).toBe(600);
    expect(first.sales.some((sale) => sale.product_id === product.id)).toBe(true);

    expect((await placeOrder(appA, buyers[5]!, [[product.id, 2]])).statusCode).toBe(201);
    await rt.ctx.liveTraffic.publish();
    let tick: LiveEvent;
    do tick = await nextEvent();
    while (!tick.sales.some((sale) => sale.product_id === product.id && sale.sold === 2));
    expect(tick.kind).toBe('tick');
    expect(tick.traffic.length).toBeLessThanOrEqual(6);
    expect(tick.traffic.some((point) => point.created >= 1)).toBe(true);
    controller.abort();

    const metrics = parseExposition((await appA.inject('/metrics')).body).samples;
    expect(metrics.some((s) => s.labels.route === '/api/admin/live/stream')).toBe(false);
  });

  it('is for operators only', async () => {
    const anonymous = await appA.inject({ url: '/api/admin/live/stream' });
    expect(anonymous.statusCode).toBe(401);
    const customer = await appA.inject({
      url: '/api/admin/live/snapshot',
      headers: bearer(buyers[0]!),
    });
    expect(customer.statusCode).toBe(403);
    const missing = await appA.inject({
      url: '/api/admin/live/sales/999999/report',
      headers: bearer(admin),
    });
    expect(missing.statusCode).toBe(404);
  });

  it('keeps the traffic while PostgreSQL refuses it, and publishes it all once it can', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 10 });
    await rt.ctx.liveTraffic.publish();
    await rt.ctx.db.execute('ALTER TABLE live_traffic RENAME TO live_traffic_away' as never);
    try {
      expect((await placeOrder(appA, buyers[1]!, [[product.id, 1]])).statusCode).toBe(201);
      expect(await rt.ctx.liveTraffic.publish()).toBeUndefined();
      expect((await placeOrder(appA, buyers[2]!, [[product.id, 1]])).statusCode).toBe(201);
      // The view's reads fail too: 503 with Retry-After, not a 500, not a crash.
      const during = await appA.inject({ url: '/api/admin/live/snapshot', headers: bearer(admin) });
      expect(during.statusCode).toBe(503);
      expect(during.headers['retry-after']).toBe('2');
    } finally {
      await rt.ctx.db.execute('ALTER TABLE live_traffic_away RENAME TO live_traffic' as never);
    }
    // A second is written once: the catch-up goes with the next one.
    await sleep(1000);
    const caughtUp = await rt.ctx.liveTraffic.publish();
    expect(caughtUp?.outcomes.created).toBe(2);
    expect(caughtUp?.units).toBe(2);
  });
});

describe('the live sale view without Redis (one process, in-process gate)', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ gate: 'memory' });
  });
  afterAll(() => rt?.close());

  it('shows the same picture', async () => {
    const app = await rt.app();
    const [admin] = await createUsers(rt.ctx, 1, 'admin');
    const [buyer] = await createUsers(rt.ctx, 1);
    const product = await createTestProduct(rt.ctx, { stock: 1 });
    expect((await placeOrder(app, buyer!, [[product.id, 1]])).statusCode).toBe(201);
    await rt.ctx.liveTraffic.publish();
    const event = LiveEvent.parse(
      (await app.inject({ url: '/api/admin/live/snapshot', headers: bearer(admin!) })).json(),
    );
    expect(event.traffic.reduce((sum, p) => sum + p.created, 0)).toBe(1);
    expect(event.sales.find((s) => s.product_id === product.id)).toMatchObject({
      sold: 1,
      left: 0,
    });
    // The product was created while its sale was already open: its stock is the sale's start.
    const report = SaleReport.parse(
      (
        await app.inject({
          url: `/api/admin/live/sales/${product.id}/report`,
          headers: bearer(admin!),
        })
      ).json(),
    );
    expect(report).toMatchObject({ stock_at_start: 1, units_sold: 1, orders: 1 });
    expect(report.sold_out_at).not.toBeNull();
  });
});
