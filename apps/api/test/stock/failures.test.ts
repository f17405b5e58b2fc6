import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { placeOrder } from '../../src/modules/orders/services.ts';
import { withTransaction } from '../../src/db/transaction.ts';
import { creditGate, restoreStock, syncGate } from '../../src/modules/stock/services.ts';
import { createTestProduct, createUser, createUsers, type TestUser } from '../support/fixtures.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { freePort } from '../support/services.ts';
import { databaseAvailable, expectStockInvariants, unitsSold } from './invariants.ts';
import { listen, postOrder, type Answer } from './race.ts';

/** Answers a buyer retries: nothing was decided (the gate was away, or the database was busy). */
const RETRYABLE = new Set(['stock_unavailable', 'stock_conflict']);

/** One buyer who keeps trying until the shop gives a definitive answer. */
async function buyUntilDecided(
  baseUrl: string,
  buyer: TestUser,
  productId: number,
  key: string,
): Promise<Answer> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const answer = await postOrder(
      baseUrl,
      buyer.token,
      [{ product_id: productId, quantity: 1 }],
      key,
    ).catch(() => undefined);
    if (answer && !(answer.code && RETRYABLE.has(answer.code)) && answer.status !== 500)
      return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no definitive answer after 200 attempts');
}

async function metricValue(rt: TestRuntime, name: string): Promise<number> {
  const metric = await rt.ctx.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

describe.each(['redis', 'memory'] as const)(
  'failures after the gate admitted (%s gate)',
  (gate) => {
    let rt: TestRuntime;
    beforeAll(async () => {
      rt = await createTestRuntime({ gate, env: { STOCK_HOLD_MAX_AGE_MS: '1000' } });
    });
    afterAll(() => rt.close());

    it('when the database step fails for good, the hold goes back and the units sell again', async () => {
      const product = await createTestProduct(rt.ctx, { stock: 3 });
      const unlucky = await createUser(rt.ctx);
      // A real failure inside PostgreSQL for this buyer's order insert.
      await rt.ctx.db.execute(
        sql.raw(`
      CREATE OR REPLACE FUNCTION test_fail_insert() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER test_fail_orders BEFORE INSERT ON orders FOR EACH ROW
      WHEN (NEW.user_id = ${unlucky.id}) EXECUTE FUNCTION test_fail_insert();`),
      );
      const app = await rt.app();
      const failed = await app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: { authorization: `Bearer ${unlucky.token}` },
        payload: { items: [{ product_id: product.id, quantity: 2 }] },
      });
      expect(failed.statusCode).toBe(500);
      expect(failed.json()).toEqual({
        error: { code: 'internal_error', message: expect.any(String) },
      });
      expect(JSON.stringify(failed.json())).not.toContain('injected');
      expect(await metricValue(rt, 'stampede_gate_compensations_total')).toBeGreaterThan(0);
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 3 }]);
      await rt.ctx.db.execute(sql`DROP TRIGGER test_fail_orders ON orders`);
      const buyers = await createUsers(rt.ctx, 4);
      const results = await Promise.allSettled(
        buyers.map((buyer) =>
          placeOrder({
            ctx: rt.ctx,
            input: { userId: buyer.id, items: [{ product_id: product.id, quantity: 1 }] },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 3 }]);
    });

    it('when a process dies between the gate and the database, the sync drops its hold and the units sell again', async () => {
      const product = await createTestProduct(rt.ctx, { stock: 5 });
      const ghost = await createUser(rt.ctx);
      // The gate admitted three units; the database never heard of them (the process died).
      await rt.ctx.stock.reserve({
        reservationId: '00000000-0000-4000-8000-000000000001',
        userId: ghost.id,
        lines: [{ productId: product.id, quantity: 3, limit: null }],
      });
      expect(await rt.ctx.stock.available([product.id])).toEqual([2]);
      // While the hold may still be a live request, the sync keeps its units held.
      await syncGate({ ctx: rt.ctx, input: { productId: product.id, trigger: 'timer' } });
      expect(await rt.ctx.stock.available([product.id])).toEqual([2]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const synced = await syncGate({
        ctx: rt.ctx,
        input: { productId: product.id, trigger: 'timer' },
      });
      expect(synced).toMatchObject({ previous: 2, current: 5, staleHoldsDropped: 1 });
      const buyers = await createUsers(rt.ctx, 8);
      const results = await Promise.allSettled(
        buyers.map((buyer) =>
          placeOrder({
            ctx: rt.ctx,
            input: { userId: buyer.id, items: [{ product_id: product.id, quantity: 1 }] },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 5 }]);
    });

    it('when a hold of unknown shape sits in the gate, the sync still works and drops it in time', async () => {
      const product = await createTestProduct(rt.ctx, { stock: 4 });
      const stranger = await createUser(rt.ctx);
      await rt.ctx.stock.reserve({
        reservationId: 'not-a-uuid',
        userId: stranger.id,
        lines: [{ productId: product.id, quantity: 1, limit: null }],
      });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const synced = await syncGate({
        ctx: rt.ctx,
        input: { productId: product.id, trigger: 'on_demand' },
      });
      expect(synced).toMatchObject({ previous: 3, current: 4, staleHoldsDropped: 1 });
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 4 }]);
    });

    it('when the gate believes in units the database does not have, the database refuses and the gate is corrected', async () => {
      const product = await createTestProduct(rt.ctx, { stock: 4 });
      // Someone changed the database behind the gate's back (no sync followed).
      await rt.ctx.db.execute(sql`UPDATE stock SET available = 1 WHERE product_id = ${product.id}`);
      await rt.ctx.db.execute(
        sql`INSERT INTO stock_ledger (product_id, delta, cause) VALUES (${product.id}, -3, 'admin')`,
      );
      const buyers = await createUsers(rt.ctx, 4);
      const results = await Promise.allSettled(
        buyers.map((buyer) =>
          placeOrder({
            ctx: rt.ctx,
            input: { userId: buyer.id, items: [{ product_id: product.id, quantity: 1 }] },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const refused of results.filter((r) => r.status === 'rejected')) {
        expect(refused.reason).toMatchObject({ code: 'insufficient_stock' });
      }
      expect(await unitsSold(rt.ctx, product.id)).toBe(1);
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 1 }]);
    });

    it('when a sync runs between a restore committing and its credit, the units return once', async () => {
      const product = await createTestProduct(rt.ctx, {
        stock: 4,
        sale: {
          starts_at: new Date(Date.now() - 1000).toISOString(),
          ends_at: null,
          max_per_user: 2,
        },
      });
      const buyer = await createUser(rt.ctx);
      const buy = async (quantity: number) =>
        (
          await placeOrder({
            ctx: rt.ctx,
            input: { userId: buyer.id, items: [{ product_id: product.id, quantity }] },
          })
        ).order.id;
      // The cancel's transaction commits; the sync reads the row before the credit arrives.
      const cancelThenSync = async (orderId: number, trigger: 'timer' | 'repair') => {
        const credits = await withTransaction(rt.ctx, async (tx) => {
          await tx.db.execute(sql`UPDATE orders SET status = 'cancelled' WHERE id = ${orderId}`);
          return restoreStock({
            ctx: tx,
            input: { orders: [{ id: orderId, userId: buyer.id }], cause: 'cancel' },
          });
        });
        await syncGate({ ctx: rt.ctx, input: { productId: product.id, trigger } });
        await creditGate({ ctx: rt.ctx, input: { credits, cause: 'cancel' } });
      };
      const tryTwoMore = () =>
        rt.ctx.stock.reserve({
          reservationId: randomUUID(),
          userId: buyer.id,
          lines: [{ productId: product.id, quantity: 2, limit: 2 }],
        });

      // The timer's sync keeps the cap table: the credit frees the cap, but adds no stock twice.
      await cancelThenSync(await buy(2), 'timer');
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 4 }]);
      const again = await buy(1);
      await buy(1);
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 4 }]);

      // A repair sync rebuilds the caps from live orders: the credit must not free them twice.
      await cancelThenSync(again, 'repair');
      await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 4 }]);
      expect(await tryTwoMore()).toMatchObject({ ok: false, reason: 'limit', alreadyOrdered: 1 });
    });
  },
);

describe.each(['redis', 'memory'] as const)('lock waits in the database (%s gate)', (gate) => {
  // Holds live as long as by default, so a request may wait out a lock timeout and retry.
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ gate });
  });
  afterAll(() => rt.close());

  it('when a lock times out once, the transaction is retried and the order goes through', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 2 });
    const buyer = await createUser(rt.ctx);
    const blocker = new pg.Client({ connectionString: rt.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM stock WHERE product_id = $1 FOR UPDATE', [product.id]);
    const before = await metricValue(rt, 'stampede_db_retries_total');
    const pending = placeOrder({
      ctx: rt.ctx,
      input: { userId: buyer.id, items: [{ product_id: product.id, quantity: 1 }] },
    });
    // Hold the row past the 2 s lock timeout, then let go: the retry succeeds.
    await new Promise((resolve) => setTimeout(resolve, 2300));
    await blocker.query('COMMIT');
    await blocker.end();
    const { order } = await pending;
    expect(order.status).toBe('pending_payment');
    expect(await metricValue(rt, 'stampede_db_retries_total')).toBeGreaterThan(before);
    await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 2 }]);
  });

  it('when the lock is never granted, the answer is stock_conflict and the hold goes back', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 2 });
    const buyer = await createUser(rt.ctx);
    const blocker = new pg.Client({ connectionString: rt.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM stock WHERE product_id = $1 FOR UPDATE', [product.id]);
    try {
      await expect(
        placeOrder({
          ctx: rt.ctx,
          input: { userId: buyer.id, items: [{ product_id: product.id, quantity: 1 }] },
        }),
      ).rejects.toMatchObject({ code: 'stock_conflict', status: 409 });
      expect(await rt.ctx.stock.holds(product.id)).toEqual([]);
      expect(await rt.ctx.stock.available([product.id])).toEqual([2]);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 2 }]);
  }, 30_000);
});

describe('Redis losing its data or going away mid-sale', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let rt: TestRuntime;
  let baseUrl: string;

  const startRedis = async () => {
    redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const probe = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50 });
    probe.on('error', () => undefined);
    for (let i = 0; i < 100; i += 1) {
      if ((await probe.ping().catch(() => '')) === 'PONG') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    probe.disconnect();
  };
  const stopRedis = () =>
    new Promise<void>((resolve) => {
      redis.once('exit', () => resolve());
      redis.kill('SIGKILL');
    });

  beforeAll(async () => {
    redisPort = await freePort();
    await startRedis();
    rt = await createTestRuntime({
      gate: 'redis',
      env: { REDIS_URL: `redis://127.0.0.1:${redisPort}` },
    });
    baseUrl = await listen(await rt.app());
  });
  afterAll(async () => {
    await rt.close();
    await stopRedis();
  });

  it('when its keys are flushed mid-sale, nothing oversells and the sale still sells out exactly', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 100 });
    const buyers = await createUsers(rt.ctx, 300);
    const flusher = new Redis(redisPort, '127.0.0.1');
    const waves = [buyers.slice(0, 100), buyers.slice(100, 200), buyers.slice(200)];
    const answers: Answer[] = [];
    for (const wave of waves) {
      const racing = Promise.all(
        wave.map((buyer, i) =>
          buyUntilDecided(baseUrl, buyer, product.id, `flush-${buyer.id}-${i}`),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 15));
      await flusher.flushall();
      answers.push(...(await racing));
    }
    flusher.disconnect();
    expect(answers.filter((a) => a.status === 201)).toHaveLength(100);
    expect(answers.filter((a) => a.code === 'insufficient_stock')).toHaveLength(200);
    expect(await metricValue(rt, 'stampede_gate_rebuilds_total')).toBeGreaterThan(1);
    // Once this process knows the product is sold out it answers from memory and sends nothing
    // to Redis, so a flush after the sell-out is noticed by the gate keeper's own check (every
    // second), not by a request: the gate comes back within that.
    await vi.waitFor(async () => expect(await rt.ctx.stock.available([product.id])).toEqual([0]), {
      timeout: 3000,
      interval: 100,
    });
    await expectStockInvariants(
      rt.ctx,
      [{ id: product.id, initial: 100 }],
      answers.flatMap((a) => a.orderId ?? []),
    );
  });

  it('when an order is replayed after the cache lost it, the same order comes back', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 1 });
    const buyer = await createUser(rt.ctx);
    const first = await postOrder(
      baseUrl,
      buyer.token,
      [{ product_id: product.id, quantity: 1 }],
      'replay-me',
    );
    expect(first.status).toBe(201);
    await rt.ctx.idempotencyLog.flush();
    const flusher = new Redis(redisPort, '127.0.0.1');
    await flusher.flushall();
    flusher.disconnect();
    await rt.ctx.gateKeeper.rebuild('data_lost');
    const again = await postOrder(
      baseUrl,
      buyer.token,
      [{ product_id: product.id, quantity: 1 }],
      'replay-me',
    );
    expect(again.status).toBe(201);
    expect(again.orderId).toBe(first.orderId);
    expect(await unitsSold(rt.ctx, product.id)).toBe(1);
  });

  it('when Redis restarts mid-sale, orders pause (503), the process stays up and the sale sells out exactly', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 80 });
    const buyers = await createUsers(rt.ctx, 200);
    const racing = Promise.all(
      buyers.map((buyer, i) =>
        buyUntilDecided(baseUrl, buyer, product.id, `restart-${buyer.id}-${i}`),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    await stopRedis();
    const app = await rt.app();
    // While it is down: orders are refused with 503 + Retry-After, reads still answer.
    const [user] = await createUsers(rt.ctx, 1);
    const paused = await app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { authorization: `Bearer ${user!.token}` },
      payload: { items: [{ product_id: product.id, quantity: 1 }] },
    });
    expect(paused.statusCode).toBe(503);
    expect(paused.json()).toMatchObject({ error: { code: 'stock_unavailable' } });
    expect(Number(paused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.inject(`/api/products/${product.id}/stock`)).statusCode).toBe(200);
    expect((await app.inject('/api/products')).statusCode).toBe(200);
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ checks: { database: 'ok', stock_cache: 'down' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await startRedis();
    const answers = await racing;
    expect(answers.filter((a) => a.status === 201)).toHaveLength(80);
    expect(answers.filter((a) => a.code === 'insufficient_stock')).toHaveLength(120);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    await expectStockInvariants(
      rt.ctx,
      [{ id: product.id, initial: 80 }],
      answers.flatMap((a) => a.orderId ?? []),
    );
    expect(await databaseAvailable(rt.ctx, product.id)).toBe(0);
  });
});
