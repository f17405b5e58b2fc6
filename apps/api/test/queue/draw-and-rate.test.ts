import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueueView } from '@stampede/contract';
import { loadConfig } from '../../src/config.ts';
import { admitFromQueues } from '../../src/modules/queue/services.ts';
import { startRuntime, type Runtime } from '../../src/runtime.ts';
import { createTestProduct, createUser, createUsers } from '../support/fixtures.ts';
import { call, expectStatus } from '../support/http-helpers.ts';
import { createTestRuntime, type GateKind, type TestRuntime } from '../support/runtime.ts';
import { join, setQueue, status } from './support.ts';

describe.each<GateKind>(['redis', 'cluster', 'memory'])('the draw at the start (%s)', (gate) => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  beforeAll(async () => {
    rt = await createTestRuntime({ gate });
    app = await rt.app();
  });
  afterAll(() => rt.close());

  it('pre-queue joiners get a random place at the start; later ones queue behind in order', async () => {
    const admin = await createUser(rt.ctx, 'admin');
    const startsAt = Date.now() + 4000;
    const product = await createTestProduct(rt.ctx, {
      stock: 1000,
      sale: { starts_at: new Date(startsAt).toISOString(), ends_at: null, max_per_user: null },
    });
    await setQueue(app, admin, product.id, { opens_before_seconds: 600, paused: true });
    const n = 40;
    const early = await createUsers(rt.ctx, n);
    for (const buyer of early) {
      const joined = await join(app, buyer, product.id);
      // Before the draw nobody has a place: arriving first buys nothing.
      expect(joined).toMatchObject({ state: 'pre_queue', queue_state: 'pre_queue', place: null });
      expect(joined.starts_at).toBe(new Date(startsAt).toISOString());
    }
    await sleep(Math.max(0, startsAt - Date.now() + 50));
    const late = await createUsers(rt.ctx, 5);
    for (const buyer of late) await join(app, buyer, product.id);

    const places: number[] = [];
    for (const buyer of early) places.push((await status(app, buyer, product.id)).place!);
    // A permutation of 1..n: nobody lost, nobody doubled.
    expect([...places].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    // Unrelated to arrival order (Spearman's rho of a random permutation of 40 has a standard
    // deviation of 0.16; |rho| above 0.7 would be a one-in-ten-million draw).
    const d2 = places.reduce((sum, place, i) => sum + (place - (i + 1)) ** 2, 0);
    const rho = 1 - (6 * d2) / (n * (n * n - 1));
    expect(Math.abs(rho)).toBeLessThan(0.7);
    // Later arrivals: behind everyone, in the order they came.
    const latePlaces: number[] = [];
    for (const buyer of late) latePlaces.push((await status(app, buyer, product.id)).place!);
    expect(latePlaces).toEqual([n + 1, n + 2, n + 3, n + 4, n + 5]);
  });
});

describe('two API processes admit at the rate together, not twice it', () => {
  let rt: TestRuntime;
  const processes: Runtime[] = [];
  const secret = randomBytes(32).toString('hex');
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { JWT_SECRET: secret } });
    for (let i = 0; i < 2; i += 1) {
      const config = loadConfig({
        DATABASE_URL: rt.databaseUrl,
        REDIS_URL: inject('redisUrl'),
        REDIS_KEY_PREFIX: rt.prefix,
        JWT_SECRET: secret,
        SEED_DEMO: 'false',
        LOG_LEVEL: 'silent',
        DATABASE_POOL_SIZE: '4',
      });
      processes.push(await startRuntime(config, pino({ level: 'silent' }), { jobs: false }));
    }
  });
  afterAll(async () => {
    for (const process of processes) await process.close();
    await rt.close();
  });

  it('at 600 a minute for about 3 s, each process ticking 4 times a second', async () => {
    const app = await rt.app();
    const admin = await createUser(rt.ctx, 'admin');
    const product = await createTestProduct(rt.ctx, { stock: 10_000 });
    await setQueue(app, admin, product.id, { paused: true, admit_per_minute: 600 });
    const buyers = await createUsers(rt.ctx, 100);
    for (const buyer of buyers) await join(app, buyer, product.id);
    await setQueue(app, admin, product.id, { paused: false, admit_per_minute: 600 });
    for (const process of processes) process.ctx.queueBoard.invalidate();
    const started = Date.now();
    const tickers = processes.map((process) =>
      setInterval(() => void admitFromQueues({ ctx: process.ctx }).catch(() => undefined), 250),
    );
    await sleep(3000);
    for (const ticker of tickers) clearInterval(ticker);
    await sleep(100);
    const elapsed = (Date.now() - started) / 1000;
    const figures = QueueView.parse(
      expectStatus(
        await call(app, {
          method: 'GET',
          url: `/api/admin/products/${product.id}/queue`,
          as: admin,
        }),
        200,
      ).json(),
    );
    // 10 a second, plus the one second's worth the bucket starts with; twice the rate would be
    // about 70 here.
    expect(figures.admitted_total).toBeLessThanOrEqual(10 + Math.ceil(10 * elapsed) + 1);
    // At least half the rate, however busy the machine (the bound that matters is the upper one).
    expect(figures.admitted_total).toBeGreaterThanOrEqual(15);
    expect(figures.measured_admit_per_minute).toBe(figures.admitted_total);
  });
});
