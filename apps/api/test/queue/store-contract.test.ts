import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { connectRedis, createRedisClient } from '../../src/db/redis.ts';
import { queueKeys } from '../../src/modules/queue/keys.ts';
import { MemoryQueueStore } from '../../src/modules/queue/store/memory-store.ts';
import { RedisQueueStore } from '../../src/modules/queue/store/redis-store.ts';
import type { AdmitStep, QueueStore } from '../../src/modules/queue/store/types.ts';
import { isDraw, placeScore } from '../../src/modules/queue/tickets.ts';
import { deleteKeys } from '../support/runtime.ts';

/**
 * One contract, three stores: the waiting room's line, draw, admission and passes on one Redis
 * node, on a Redis Cluster (every key of a queue on one slot, so each script runs there) and in
 * process. Time is passed in, so rates and expiries are checked to the millisecond.
 */
type Kind = 'redis' | 'cluster' | 'memory';
const opened: { close: () => void; target: string; prefix: string }[] = [];

function targetOf(kind: Exclude<Kind, 'memory'>): string {
  return kind === 'redis' ? inject('redisUrl') : inject('redisClusterNodes');
}

async function redisStore(kind: Exclude<Kind, 'memory'>, prefix: string): Promise<QueueStore> {
  const target = targetOf(kind);
  const client = createRedisClient(
    kind === 'redis'
      ? { kind: 'node', url: target }
      : {
          kind: 'cluster',
          nodes: target.split(',').map((seed) => {
            const [host, port] = seed.split(':');
            return { host: host!, port: Number(port) };
          }),
        },
    { commandTimeoutMs: 2000 },
  );
  await connectRedis(client);
  opened.push({ close: () => client.disconnect(), target, prefix });
  return new RedisQueueStore(client, queueKeys(prefix));
}

afterAll(async () => {
  for (const { close, target, prefix } of opened) {
    close();
    await deleteKeys(target, prefix);
  }
});

const P = 7;
const T0 = 1_800_000_000_000;
const step = (overrides: Partial<AdmitStep> = {}): AdmitStep => ({
  now: T0,
  perMinute: 60_000,
  maxActive: 0,
  bound: 1_000_000,
  passTtlMs: 60_000,
  open: true,
  ...overrides,
});

describe.each<Kind>(['redis', 'cluster', 'memory'])('the %s queue store', (kind) => {
  let store: QueueStore;
  let prefix: string;
  beforeEach(async () => {
    prefix = `qc:${randomUUID()}:`;
    store = kind === 'memory' ? new MemoryQueueStore() : await redisStore(kind, prefix);
  });

  const join = (userId: number, joinedAt: number, startsAt: number) =>
    store.join({ productId: P, userId, score: placeScore(joinedAt, startsAt), joinedAt });

  /** Admit everyone, one at a time, and give the order passes were handed out in. */
  async function admissionOrder(count: number): Promise<number[]> {
    const order: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const now = T0 + i;
      const admitted = await store.admit(P, step({ now, bound: i + 1 }));
      expect(admitted.admitted, `admission ${i}`).toBe(1);
      for (let user = 1; user <= count; user += 1) {
        if (order.includes(user)) continue;
        const pass = await store.passOf(P, user);
        if (pass !== null) order.push(user);
      }
    }
    return order;
  }

  it('joining twice keeps the first place (one ticket per account and sale)', async () => {
    const first = await join(1, T0 - 5000, T0);
    const again = await join(1, T0 - 1000, T0);
    expect(first.added).toBe(true);
    expect(again).toEqual({ added: false, score: first.score, joinedAt: first.joinedAt });
    const status = await store.status({ productId: P, userId: 1, now: T0 });
    expect(status).toMatchObject({ joined: true, rank: 0, waiting: 1, score: first.score });
  });

  it('the draw: pre-queue joiners are admitted in an order unrelated to when they came', async () => {
    const n = 60;
    for (let user = 1; user <= n; user += 1) await join(user, T0 - 60_000 + user * 100, T0);
    const order = await admissionOrder(n);
    // A permutation: everyone once, nobody lost or doubled.
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    // Not arrival order: Spearman's rank correlation between arrival and admission stays far
    // from 1 (for a random permutation of 60 its deviation is about 0.13; |rho| > 0.6 would be
    // odds of about one in a billion).
    const d2 = order.reduce((sum, user, place) => sum + (user - (place + 1)) ** 2, 0);
    const rho = 1 - (6 * d2) / (n * (n * n - 1));
    expect(Math.abs(rho)).toBeLessThan(0.6);
  });

  it('later arrivals wait behind every pre-queue joiner, in arrival order', async () => {
    for (let user = 1; user <= 5; user += 1) await join(user, T0 - 10_000, T0);
    for (let user = 6; user <= 15; user += 1) await join(user, T0 + user * 10, T0);
    const order = await admissionOrder(15);
    expect(order.slice(0, 5).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(order.slice(5)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(isDraw(placeScore(T0 - 1, T0))).toBe(true);
    expect(isDraw(placeScore(T0, T0))).toBe(false);
  });

  it('admits at the rate: a shared token bucket, at most one second of burst', async () => {
    for (let user = 1; user <= 500; user += 1) await join(user, T0 + user, 0);
    // 120 a minute = 2 a second, for 30 simulated seconds at 4 steps a second.
    let admitted = 0;
    for (let tick = 0; tick <= 120; tick += 1) {
      admitted += (await store.admit(P, step({ now: T0 + tick * 250, perMinute: 120 }))).admitted;
    }
    // 30 s × 2/s plus the one-second bucket it starts with.
    expect(admitted).toBeGreaterThanOrEqual(60);
    expect(admitted).toBeLessThanOrEqual(62);
  });

  it('never more live passes than the cap on active buyers nor the inventory bound', async () => {
    for (let user = 1; user <= 50; user += 1) await join(user, T0 + user, 0);
    let outcome = await store.admit(P, step({ bound: 7 }));
    expect(outcome).toMatchObject({ admitted: 7, active: 7, waiting: 43 });
    outcome = await store.admit(P, step({ now: T0 + 1000, bound: 7 }));
    expect(outcome.admitted).toBe(0);
    outcome = await store.admit(P, step({ now: T0 + 2000, bound: 20, maxActive: 10 }));
    expect(outcome).toMatchObject({ admitted: 3, active: 10 });
    // Zero units: zero new passes, the line waits.
    outcome = await store.admit(P, step({ now: T0 + 3000, bound: 0 }));
    expect(outcome).toMatchObject({ admitted: 0, waiting: 40 });
    // A spent pass (its buyer ordered) frees its slot; the pass itself stays valid.
    await store.spend(P, 1);
    outcome = await store.admit(P, step({ now: T0 + 4000, bound: 20, maxActive: 10 }));
    expect(outcome).toMatchObject({ admitted: 1, active: 10 });
    expect(await store.passOf(P, 1)).toBe(T0 + 60_000);
  });

  it('passes expire: they stop counting, are counted once as expired, and the next go in', async () => {
    for (let user = 1; user <= 4; user += 1) await join(user, T0 + user, 0);
    await store.admit(P, step({ bound: 2, passTtlMs: 30_000 }));
    const before = await store.status({ productId: P, userId: 1, now: T0 + 29_999 });
    expect(before).toMatchObject({ passExpiresAt: T0 + 30_000, rank: null });
    const after = await store.admit(P, step({ now: T0 + 30_000, bound: 2, passTtlMs: 30_000 }));
    expect(after).toMatchObject({ expired: 2, admitted: 2, active: 2, waiting: 0 });
    const figures = await store.figures(P, T0 + 30_000);
    expect(figures).toMatchObject({ expiredTotal: 2, admittedTotal: 4, active: 2 });
  });

  it('paused: nothing is handed out, places are kept', async () => {
    for (let user = 1; user <= 3; user += 1) await join(user, T0 + user, 0);
    expect((await store.admit(P, step({ open: false }))).admitted).toBe(0);
    expect(await store.status({ productId: P, userId: 3, now: T0 })).toMatchObject({ rank: 2 });
    expect((await store.admit(P, step({ now: T0 + 1000 }))).admitted).toBe(3);
  });

  it('a solved challenge is taken once', async () => {
    const signature = randomUUID();
    expect(await store.spendChallenge(signature, 60_000)).toBe(true);
    expect(await store.spendChallenge(signature, 60_000)).toBe(false);
    expect(await store.spendChallenge(randomUUID(), 60_000)).toBe(true);
  });

  it('a buyer the store lost is put back at their ticket’s place', async () => {
    const a = await join(1, T0 - 3000, T0);
    const b = await join(2, T0 - 2000, T0);
    const fresh =
      kind === 'memory' ? new MemoryQueueStore() : await redisStore(kind, `qc:${randomUUID()}:`);
    // The new store has lost everything: polls with tickets rebuild the line.
    for (const [userId, ticket] of [
      [2, b],
      [1, a],
    ] as const) {
      const back = await fresh.status({
        productId: P,
        userId,
        now: T0,
        ticket: { score: ticket.score, joinedAt: ticket.joinedAt },
      });
      expect(back).toMatchObject({ joined: true, restored: true, score: ticket.score });
    }
    const ranks = await Promise.all(
      [1, 2].map(async (userId) => {
        const s = await fresh.status({ productId: P, userId, now: T0 });
        return s.joined ? s.rank : undefined;
      }),
    );
    expect(ranks).toEqual(a.score < b.score ? [0, 1] : [1, 0]);
    expect(await fresh.status({ productId: P, userId: 3, now: T0 })).toEqual({ joined: false });
  });
});

describe('two processes on one Redis share the rate', () => {
  it('two stores admitting on their own tickers hand out the rate, not twice it', async () => {
    const prefix = `qc:${randomUUID()}:`;
    const [a, b] = [await redisStore('redis', prefix), await redisStore('redis', prefix)];
    for (let user = 1; user <= 500; user += 1) {
      await a.join({ productId: P, userId: user, score: user, joinedAt: T0 });
    }
    let admitted = 0;
    // 60 a minute, 20 simulated seconds, each process stepping 4 times a second, out of phase.
    for (let tick = 0; tick < 80; tick += 1) {
      admitted += (await a.admit(P, step({ now: T0 + tick * 250, perMinute: 60 }))).admitted;
      admitted += (await b.admit(P, step({ now: T0 + tick * 250 + 120, perMinute: 60 }))).admitted;
    }
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(21);
  });
});
