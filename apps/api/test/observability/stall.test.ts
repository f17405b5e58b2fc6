import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProduct, createUsers, type TestUser } from '../support/fixtures.ts';
import { parseExposition, type Sample } from './support/exposition.ts';
import { startObservedRuntime, type ObservedRuntime } from './support/observed-runtime.ts';
import { holdStockRow, orderGivingUp } from './support/stall.ts';

/**
 * A stall is visible: while a stock row is held by another session, order requests wait
 * without an answer. What waits is in /metrics at once (requests in flight and the oldest's
 * age, the order writer's queue and its oldest entry), and a request whose client gives up is
 * counted and logged with status 499 and the time its client waited.
 */
/** How long a buyer waits before giving up (under the 8 s a locked row takes to refuse). */
const GIVE_UP_MS = 6000;

describe('a stalled order path', () => {
  let rt: ObservedRuntime;
  let app: FastifyInstance;
  let baseUrl: string;
  let users: TestUser[];

  beforeAll(async () => {
    // The writer's own deadline (a third of a hold's life) kept well past this test's waits.
    rt = await startObservedRuntime({
      env: { REQUEST_LOG: 'true', STOCK_HOLD_MAX_AGE_MS: '60000' },
      logLevel: 'info',
    });
    app = await rt.newApp();
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    users = await createUsers(rt.ctx, 4);
  });
  afterAll(() => rt?.close());

  const scrape = async () => parseExposition((await app.inject('/metrics')).body).samples;
  const value = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  const ORDERS = { method: 'POST', route: '/api/orders' };

  it('shows what waits, then counts and logs the buyers who gave up as 499', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 10 });
    const lock = await holdStockRow(rt.databaseUrl, product.id);
    try {
      rt.logs.clear();
      const started = performance.now();
      const answers = Promise.all(
        users.map((user) =>
          orderGivingUp({
            baseUrl,
            token: user.token,
            productId: product.id,
            timeoutMs: GIVE_UP_MS,
          }),
        ),
      );

      // While they wait: four orders in flight, two transactions stuck on the row (the
      // per-product bound), two orders queued behind them, all of it getting older.
      let during: readonly Sample[] = [];
      for (
        const deadline = Date.now() + GIVE_UP_MS - 500;
        Date.now() < deadline;
        await sleep(100)
      ) {
        during = await scrape();
        // The writer gets its orders a moment after the HTTP layer does: wait for both.
        if (
          value(during, 'http_request_oldest_in_flight_seconds', ORDERS) > 1 &&
          value(during, 'stampede_order_writer_oldest_order_seconds') > 1
        ) {
          break;
        }
      }
      expect(value(during, 'http_requests_in_flight', ORDERS)).toBe(4);
      expect(value(during, 'http_request_oldest_in_flight_seconds', ORDERS)).toBeGreaterThan(1);
      expect(value(during, 'stampede_order_writer_transactions_in_flight')).toBe(2);
      expect(value(during, 'stampede_order_writer_queued_orders')).toBe(2);
      expect(value(during, 'stampede_order_writer_oldest_order_seconds')).toBeGreaterThan(1);
      expect(value(during, 'http_requests_total', { ...ORDERS, status_code: '499' })).toBe(0);

      // The buyers give up: each is counted at that moment, with the time it waited.
      expect(await answers).toEqual(['gave up', 'gave up', 'gave up', 'gave up']);
      await sleep(100);
      const after = await scrape();
      const gone = { ...ORDERS, status_code: '499' };
      expect(value(after, 'http_requests_total', gone)).toBe(4);
      expect(value(after, 'http_request_duration_seconds_count', gone)).toBe(4);
      const waited = value(after, 'http_request_duration_seconds_sum', gone);
      expect(waited).toBeGreaterThan((4 * (GIVE_UP_MS - 100)) / 1000);
      expect(waited).toBeLessThan(((performance.now() - started) / 1000) * 4);
      expect(value(after, 'http_request_duration_seconds_bucket', { ...gone, le: '2' })).toBe(0);
      expect(value(after, 'http_request_duration_seconds_bucket', { ...gone, le: '10' })).toBe(4);
      // The clients are gone; the work is not: the writer still holds them.
      expect(value(after, 'http_requests_in_flight', ORDERS)).toBe(0);
      expect(value(after, 'stampede_order_writer_oldest_order_seconds')).toBeGreaterThan(
        (GIVE_UP_MS - 100) / 1000,
      );
      const abandoned = rt.logs
        .lines()
        .filter((line) => line.msg === 'request abandoned by the client before its answer');
      expect(abandoned).toHaveLength(4);
      expect(abandoned[0]).toMatchObject({ method: 'POST', url: '/api/orders', statusCode: 499 });
      expect(abandoned[0]!.ms).toBeGreaterThan(GIVE_UP_MS - 100);
    } finally {
      await lock.release();
    }

    // The row is let go: the orders commit (PostgreSQL has them), nothing is counted twice.
    await rt.ctx.writer.drain();
    const done = await scrape();
    expect(value(done, 'stampede_order_writer_queued_orders')).toBe(0);
    expect(value(done, 'stampede_order_writer_oldest_order_seconds')).toBe(0);
    expect(value(done, 'http_requests_total', ORDERS)).toBe(4);
    expect(value(done, 'stampede_order_outcomes_total', { outcome: 'created' })).toBe(4);
  });

  it('an answered request is counted once, with its own status, and leaves nothing in flight', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 10 });
    const before = await scrape();
    const status = await orderGivingUp({
      baseUrl,
      token: users[0]!.token,
      productId: product.id,
      timeoutMs: 5000,
    });
    // The same buyer had a pending order for another product only: a plain 201.
    expect(status).toBe(201);
    await sleep(50);
    const after = await scrape();
    const created = { ...ORDERS, status_code: '201' };
    expect(
      value(after, 'http_requests_total', created) - value(before, 'http_requests_total', created),
    ).toBe(1);
    expect(value(after, 'http_requests_total', { ...ORDERS, status_code: '499' })).toBe(
      value(before, 'http_requests_total', { ...ORDERS, status_code: '499' }),
    );
    expect(value(after, 'http_requests_in_flight', ORDERS)).toBe(0);
  });
});
