import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { admitFromQueues } from '../../src/modules/queue/services.ts';
import { startRuntime } from '../../src/runtime.ts';
import { createTestProduct, createUser, createUsers, type TestUser } from '../support/fixtures.ts';
import { call, expectError } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { startRedisServer } from '../support/services.ts';
import { join, setQueue, status } from './support.ts';

/**
 * A buyer's place survives what takes the queue's state away: Redis losing its data (a flush, a
 * restart without persistence, a failover to a replica that had not caught up), and API
 * processes restarting. Redis here is a server of this file's own, so flushing it disturbs
 * nobody else.
 */
describe('places survive', () => {
  let redis: { port: number; child: ChildProcess };
  let base: TestRuntime;
  const secret = randomBytes(32).toString('hex');
  const started: { close: () => Promise<void> }[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    base = await createTestRuntime({
      env: { REDIS_URL: `redis://127.0.0.1:${redis.port}`, JWT_SECRET: secret },
    });
  });
  afterAll(async () => {
    for (const process of started.reverse()) await process.close();
    await base.close();
    redis.child.kill('SIGTERM');
  });

  /** Another API process on the same database (and Redis, unless `memory`), with its own app. */
  async function apiProcess(kind: 'redis' | 'memory'): Promise<{
    ctx: AppContext;
    app: FastifyInstance;
    close: () => Promise<void>;
  }> {
    const config = loadConfig({
      DATABASE_URL: base.databaseUrl,
      ...(kind === 'redis' ? { REDIS_URL: `redis://127.0.0.1:${redis.port}` } : {}),
      REDIS_KEY_PREFIX: base.prefix,
      JWT_SECRET: secret,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
      DATABASE_POOL_SIZE: '4',
      SIGNUP_LIMIT_PER_HOUR: '0',
      QUEUE_CHALLENGE_MAXNUMBER: '1000',
    });
    const runtime = await startRuntime(config, pino({ level: 'silent' }), { jobs: false });
    const app = await buildApp({ ctx: runtime.ctx });
    let closed = false;
    const handle = {
      ctx: runtime.ctx,
      app,
      close: async () => {
        if (closed) return;
        closed = true;
        await app.close();
        await runtime.close();
      },
    };
    started.push(handle);
    return handle;
  }

  async function placesOf(
    app: FastifyInstance,
    buyers: TestUser[],
    productId: number,
    tickets?: Map<number, string>,
  ) {
    const places = new Map<number, number | null>();
    for (const buyer of buyers) {
      places.set(buyer.id, (await status(app, buyer, productId, tickets?.get(buyer.id))).place);
    }
    return places;
  }

  it('a Redis that lost everything: polls with their tickets put every buyer back in place', async () => {
    const app = await base.app();
    const admin = await createUser(base.ctx, 'admin');
    const product = await createTestProduct(base.ctx, { stock: 100 });
    await setQueue(app, admin, product.id, { max_active: 1 });
    const buyers = await createUsers(base.ctx, 8);
    const tickets = new Map<number, string>();
    for (const buyer of buyers) tickets.set(buyer.id, (await join(app, buyer, product.id)).ticket!);
    await admitFromQueues({ ctx: base.ctx });
    const waiting = buyers.slice(1);
    const before = await placesOf(app, waiting, product.id);
    expect([...before.values()].sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const flusher = new Redis(redis.port, '127.0.0.1');
    await flusher.flushall();
    flusher.disconnect();
    // Without its ticket a buyer is unknown now: the flush really took the queue.
    expect((await status(app, waiting[0]!, product.id)).state).toBe('not_joined');

    // Each buyer polls with their ticket, in the reverse order of their places.
    const reversed = [...waiting].sort((a, b) => before.get(b.id)! - before.get(a.id)!);
    for (const buyer of reversed) {
      expect((await status(app, buyer, product.id, tickets.get(buyer.id))).state).toBe('waiting');
    }
    expect(await placesOf(app, waiting, product.id)).toEqual(before);
  });

  it('an API process restart keeps places (Redis), and so do tickets with the queue in process', async () => {
    const app = await base.app();
    const admin = await createUser(base.ctx, 'admin');
    for (const kind of ['redis', 'memory'] as const) {
      const product = await createTestProduct(base.ctx, { stock: 100 });
      await setQueue(app, admin, product.id, { paused: true });
      const buyers = await createUsers(base.ctx, 6);
      const first = await apiProcess(kind);
      const tickets = new Map<number, string>();
      for (const buyer of buyers) {
        tickets.set(buyer.id, (await join(first.app, buyer, product.id)).ticket!);
      }
      const before = await placesOf(first.app, buyers, product.id);
      await first.close();
      const second = await apiProcess(kind);
      // With Redis the queue is where it was; in process, the tickets rebuild it.
      const sent = kind === 'memory' ? tickets : undefined;
      await placesOf(second.app, buyers, product.id, sent);
      expect(await placesOf(second.app, buyers, product.id), kind).toEqual(before);
      await second.close();
    }
  });

  it('a forged or foreign ticket puts nobody anywhere', async () => {
    const app = await base.app();
    const admin = await createUser(base.ctx, 'admin');
    const product = await createTestProduct(base.ctx, { stock: 100 });
    await setQueue(app, admin, product.id, { paused: true });
    const [a, b] = await createUsers(base.ctx, 2);
    const ticket = (await join(app, a!, product.id)).ticket!;
    // b sends a's ticket: b is not joined, and a's place is untouched.
    expect(await status(app, b!, product.id, ticket)).toMatchObject({ state: 'not_joined' });
    const [body] = ticket.split('.');
    const forged = `${body}.${'A'.repeat(43)}`;
    const flusher = new Redis(redis.port, '127.0.0.1');
    await flusher.flushall();
    flusher.disconnect();
    await sleep(10);
    expect(await status(app, a!, product.id, forged)).toMatchObject({ state: 'not_joined' });
    expect(await status(app, a!, product.id, ticket)).toMatchObject({ state: 'waiting', place: 1 });
  });

  // Last: it stops this file's Redis.
  it('while Redis does not answer, a poll and a join are 503 with Retry-After, never 500', async () => {
    const app = await base.app();
    const admin = await createUser(base.ctx, 'admin');
    const product = await createTestProduct(base.ctx, { stock: 100 });
    await setQueue(app, admin, product.id, { paused: true });
    const buyer = await createUser(base.ctx);
    const ticket = (await join(app, buyer, product.id)).ticket!;
    const exited = new Promise((resolve) => redis.child.once('exit', resolve));
    redis.child.kill('SIGKILL');
    await exited;
    const poll = await call(app, {
      method: 'GET',
      url: `/api/queues/${product.id}/status`,
      as: buyer,
      headers: { 'x-queue-ticket': ticket },
    });
    expectError(poll, 503, 'service_unavailable');
    expect(Number(poll.headers['retry-after'])).toBeGreaterThan(0);
    const other = await createUser(base.ctx);
    const challenge = await call(app, {
      method: 'GET',
      url: `/api/queues/${product.id}/challenge`,
      as: other,
    });
    // The challenge needs no Redis; the join that spends it does.
    expect(challenge.statusCode).toBe(200);
    const order = await call(app, {
      method: 'POST',
      url: '/api/orders',
      as: buyer,
      payload: { items: [{ product_id: product.id, quantity: 1 }] },
    });
    expect(order.statusCode).toBe(503);
    expect(Number(order.headers['retry-after'])).toBeGreaterThan(0);
  });
});
