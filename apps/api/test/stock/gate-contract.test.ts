import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/db/redis.ts';
import { MemoryGate } from '../../src/modules/stock/gate/memory-gate.ts';
import { RedisGate } from '../../src/modules/stock/gate/redis-gate.ts';
import type { Admission, StockGate, SyncInput } from '../../src/modules/stock/gate/types.ts';
import { stockKeys } from '../../src/modules/stock/keys.ts';
import { deleteKeys } from '../support/runtime.ts';

/**
 * One contract, three gates: every behaviour the stock path relies on, checked against the Redis
 * gate on one node and on a Redis Cluster (Lua scripts on real Redis: on the cluster admission
 * and reservation are two steps, and an order's lines on several slots several) and the
 * in-process gate alike, each with a product's stock in one counter and split over three stock
 * buckets (on the cluster, three slots on three masters; a line then takes from them in turn).
 */
const opened: { client: RedisClient; target: string; prefix: string }[] = [];
/** Each gate is both: admission and stock on Redis, or both in process. */
type Gate = Admission & StockGate;
async function redisGate(target: string): Promise<Gate> {
  const client = createRedisClient(
    target.startsWith('redis')
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
  const prefix = `contract:${randomUUID()}:`;
  opened.push({ client, target, prefix });
  return new RedisGate(client, stockKeys(prefix));
}
const gates: Record<'redis' | 'cluster' | 'memory', () => Promise<Gate>> = {
  redis: () => redisGate(inject('redisUrl')),
  cluster: () => redisGate(inject('redisClusterNodes')),
  async memory() {
    return new MemoryGate();
  },
};

afterAll(async () => {
  for (const { client, target, prefix } of opened) {
    client.disconnect();
    await deleteKeys(target, prefix);
  }
});

const KINDS = ['redis', 'cluster', 'memory'] as const;
describe.each(KINDS.flatMap((kind) => [1, 3].map((buckets) => [kind, buckets] as const)))(
  'the %s gate, %i stock buckets',
  (kind, buckets) => {
    let gate: Gate;
    const P = 1;
    const Q = 2;
    const line = (productId: number, quantity: number, limit: number | null = null) => ({
      productId,
      quantity,
      limit,
      buckets,
    });
    const sync = (input: Omit<SyncInput, 'buckets'>) => gate.sync({ ...input, buckets });

    const setStock = (productId: number, available: number) =>
      sync({
        productId,
        available,
        version: 1,
        committed: [],
        maxHoldAgeMs: 60_000,
        caps: { mode: 'clear' },
      });

    beforeEach(async () => {
      gate = await gates[kind]();
    });

    it('knows no counter for a product it was never given', async () => {
      expect(await gate.available([P])).toEqual([null]);
      const result = await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 1)] });
      expect(result).toEqual({ ok: false, reason: 'missing', productId: P });
    });

    it('takes units and records a hold, and refuses what is not there without going below zero', async () => {
      await setStock(P, 3);
      expect(await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 2)] })).toEqual({
        ok: true,
      });
      expect(await gate.available([P])).toEqual([1]);
      expect(await gate.holds(P)).toEqual([{ reservationId: 'r1', quantity: 2, userId: 1 }]);
      expect(await gate.reserve({ reservationId: 'r2', userId: 2, lines: [line(P, 2)] })).toEqual({
        ok: false,
        reason: 'insufficient',
        productId: P,
        available: 1,
      });
      expect(await gate.available([P])).toEqual([1]);
      expect(await gate.reserve({ reservationId: 'r3', userId: 3, lines: [line(P, 1)] })).toEqual({
        ok: true,
      });
      expect(await gate.available([P])).toEqual([0]);
    });

    it('reserves a multi-line order all or nothing: a refused line leaves every line untouched', async () => {
      await setStock(P, 5);
      await setStock(Q, 1);
      const refused = await gate.reserve({
        reservationId: 'r1',
        userId: 1,
        lines: [line(P, 3), line(Q, 2)],
      });
      expect(refused).toMatchObject({ ok: false, reason: 'insufficient', productId: Q });
      expect(await gate.available([P, Q])).toEqual([5, 1]);
      expect(await gate.holds(P)).toEqual([]);
      expect(
        await gate.reserve({ reservationId: 'r2', userId: 1, lines: [line(P, 3), line(Q, 1)] }),
      ).toEqual({
        ok: true,
      });
      expect(await gate.available([P, Q])).toEqual([2, 0]);
    });

    it('sells a line while the product has the units, whichever bucket holds them', async () => {
      await setStock(P, 3);
      // Users 3, 6, 9 and 12 all start at the same bucket of three.
      for (const userId of [3, 6, 9]) {
        const reservationId = `r${userId}`;
        expect(await gate.reserve({ reservationId, userId, lines: [line(P, 1)] })).toEqual({
          ok: true,
        });
      }
      expect(await gate.reserve({ reservationId: 'r12', userId: 12, lines: [line(P, 1)] })).toEqual(
        { ok: false, reason: 'insufficient', productId: P, available: 0 },
      );
      await setStock(Q, 3);
      // One line of three units, one unit in each of three buckets.
      expect(
        await gate.reserve({ reservationId: 'all', userId: 1, lines: [line(Q, 3, 3)] }),
      ).toEqual({ ok: true });
      expect(await gate.available([Q])).toEqual([0]);
      expect(await gate.holds(Q)).toEqual([{ reservationId: 'all', quantity: 3, userId: 1 }]);
    });

    it('sells the last unit wherever it sits, to a buyer who lands elsewhere', async () => {
      await setStock(P, 3);
      // Users 1 and 2 empty two of three buckets; the last unit sits in the third.
      for (const userId of [1, 2]) {
        expect(
          await gate.reserve({ reservationId: `r${userId}`, userId, lines: [line(P, 1)] }),
        ).toEqual({ ok: true });
      }
      expect(await gate.available([P])).toEqual([1]);
      // Users 4 and 5 start at the emptied buckets: the first gets the unit, the second hears
      // the product is sold out.
      expect(await gate.reserve({ reservationId: 'r4', userId: 4, lines: [line(P, 1)] })).toEqual({
        ok: true,
      });
      expect(await gate.reserve({ reservationId: 'r5', userId: 5, lines: [line(P, 1)] })).toEqual({
        ok: false,
        reason: 'insufficient',
        productId: P,
        available: 0,
      });
    });

    it('holds the per-user cap across buckets', async () => {
      await setStock(P, 3);
      // One unit in each of three buckets: each attempt of user 1 empties another bucket.
      const take = (reservationId: string) =>
        gate.reserve({ reservationId, userId: 1, lines: [line(P, 1, 2)] });
      expect(await take('a')).toEqual({ ok: true });
      expect(await take('b')).toEqual({ ok: true });
      expect(await take('c')).toEqual({
        ok: false,
        reason: 'limit',
        productId: P,
        alreadyOrdered: 2,
      });
      expect(await gate.available([P])).toEqual([1]);
    });

    it('keeps every unit and every hold while the split changes', async () => {
      await setStock(P, 9);
      await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 2, 5)] });
      const resplit = (to: number) =>
        gate.sync({
          productId: P,
          buckets: to,
          available: 9,
          version: 1,
          committed: [],
          maxHoldAgeMs: 60_000,
          caps: { mode: 'keep' },
        });
      expect(await resplit(2)).toMatchObject({ previous: 7, current: 7 });
      expect(await gate.available([P])).toEqual([7]);
      expect(await gate.holds(P)).toEqual([{ reservationId: 'r1', quantity: 2, userId: 1 }]);
      // Units go back where they were taken; a split left is drained by the next sync (the
      // sweep's, which finds its units missing from the split in use).
      expect(await gate.giveBack({ reservationId: 'r1', productIds: [P] })).toBe(2);
      expect(await resplit(2)).toMatchObject({ previous: 9, current: 9 });
      expect(await gate.available([P])).toEqual([9]);
      expect(await resplit(1)).toMatchObject({ previous: 9, current: 9 });
      // The cap no longer counts r1; every unit is in the one counter again.
      expect(
        await gate.reserve({
          reservationId: 'r2',
          userId: 1,
          lines: [{ productId: P, quantity: 5, limit: 5, buckets: 1 }],
        }),
      ).toEqual({ ok: true });
      expect(
        await gate.reserve({
          reservationId: 'r3',
          userId: 2,
          lines: [{ productId: P, quantity: 4, limit: null, buckets: 1 }],
        }),
      ).toEqual({ ok: true });
      expect(await gate.available([P])).toEqual([0]);
    });

    it('refuses a reservation id that already holds units', async () => {
      await setStock(P, 5);
      await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 1)] });
      expect(
        await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 1)] }),
      ).toMatchObject({
        ok: false,
        reason: 'duplicate',
      });
      expect(await gate.available([P])).toEqual([4]);
    });

    it('counts held and ordered units against the per-user cap, before looking at stock', async () => {
      await setStock(P, 10);
      expect(await gate.reserve({ reservationId: 'a', userId: 7, lines: [line(P, 2, 3)] })).toEqual(
        {
          ok: true,
        },
      );
      expect(await gate.reserve({ reservationId: 'b', userId: 7, lines: [line(P, 2, 3)] })).toEqual(
        {
          ok: false,
          reason: 'limit',
          productId: P,
          alreadyOrdered: 2,
        },
      );
      expect(await gate.reserve({ reservationId: 'c', userId: 8, lines: [line(P, 3, 3)] })).toEqual(
        {
          ok: true,
        },
      );
      // Sold out now for user 9's three, but user 7 hears about the cap first.
      await gate.reserve({ reservationId: 'd', userId: 9, lines: [line(P, 5)] });
      expect(await gate.available([P])).toEqual([0]);
      expect(
        await gate.reserve({ reservationId: 'e', userId: 7, lines: [line(P, 2, 3)] }),
      ).toMatchObject({
        reason: 'limit',
      });
    });

    it('releases committed holds without crediting their units', async () => {
      await setStock(P, 4);
      await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 3)] });
      await gate.release({ productId: P, reservationIds: ['r1'] });
      expect(await gate.holds(P)).toEqual([]);
      expect(await gate.available([P])).toEqual([1]);
    });

    it('gives a hold back exactly once, however often it is asked', async () => {
      await setStock(P, 4);
      await setStock(Q, 4);
      await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 3, 5), line(Q, 1, 5)] });
      const credits = await Promise.all([
        gate.giveBack({ reservationId: 'r1', productIds: [P, Q] }),
        gate.giveBack({ reservationId: 'r1', productIds: [P, Q] }),
        gate.giveBack({ reservationId: 'r1', productIds: [P, Q] }),
      ]);
      // However the calls share the work (a split line's buckets are given back one by one).
      expect(credits.reduce((sum, units) => sum + units, 0)).toBe(4);
      expect(await gate.giveBack({ reservationId: 'r1', productIds: [P, Q] })).toBe(0);
      expect(await gate.available([P, Q])).toEqual([4, 4]);
      // The cap no longer counts the given-back units: user 1 may take all 5 again.
      expect(
        await gate.reserve({ reservationId: 'r2', userId: 1, lines: [line(P, 4, 5)] }),
      ).toEqual({
        ok: true,
      });
    });

    it('credits restored units and frees them from the cap', async () => {
      await setStock(P, 2);
      await gate.reserve({ reservationId: 'r1', userId: 1, lines: [line(P, 2, 2)] });
      await gate.release({ productId: P, reservationIds: ['r1'] });
      expect(
        await gate.reserve({ reservationId: 'r2', userId: 1, lines: [line(P, 1, 2)] }),
      ).toMatchObject({
        reason: 'limit',
      });
      await gate.credit({ userId: 1, lines: [{ productId: P, quantity: 2, version: 2 }] });
      expect(await gate.available([P])).toEqual([2]);
      expect(
        await gate.reserve({ reservationId: 'r3', userId: 1, lines: [line(P, 2, 2)] }),
      ).toEqual({
        ok: true,
      });
    });

    it('does not credit again what a later sync has counted, in stock or in the cap', async () => {
      await setStock(P, 4);
      await gate.reserve({ reservationId: 'a', userId: 1, lines: [line(P, 1, 2)] });
      await gate.reserve({ reservationId: 'b', userId: 1, lines: [line(P, 1, 2)] });
      await gate.release({ productId: P, reservationIds: ['a', 'b'] });
      // Order b is cancelled and committed at version 5; a sync reads the row at version 6
      // (keeping the cap table), before the credit of version 5 arrives.
      const syncAt = (version: number, caps: SyncInput['caps']) =>
        sync({ productId: P, available: 3, version, committed: [], maxHoldAgeMs: 60_000, caps });
      await syncAt(6, { mode: 'keep' });
      await gate.credit({ userId: 1, lines: [{ productId: P, quantity: 1, version: 5 }] });
      expect(await gate.available([P])).toEqual([3]);
      // The kept cap table still counted b: the credit freed it.
      expect(await gate.reserve({ reservationId: 'c', userId: 1, lines: [line(P, 1, 2)] })).toEqual(
        {
          ok: true,
        },
      );
      await gate.release({ productId: P, reservationIds: ['c'] });
      // Order c is cancelled at version 8; a sync at version 9 rebuilds the caps from live orders
      // (a alone): the late credit must free neither stock nor cap.
      await syncAt(9, { mode: 'rebuild', liveUnitsByUser: new Map([[1, 1]]) });
      await gate.credit({ userId: 1, lines: [{ productId: P, quantity: 1, version: 8 }] });
      expect(await gate.available([P])).toEqual([3]);
      expect(
        await gate.reserve({ reservationId: 'd', userId: 1, lines: [line(P, 2, 2)] }),
      ).toMatchObject({ ok: false, reason: 'limit', alreadyOrdered: 1 });
      // A restore committed after the last sync (version 10) is credited in full.
      await gate.credit({ userId: 1, lines: [{ productId: P, quantity: 1, version: 10 }] });
      expect(await gate.available([P])).toEqual([4]);
      expect(await gate.reserve({ reservationId: 'e', userId: 1, lines: [line(P, 2, 2)] })).toEqual(
        {
          ok: true,
        },
      );
    });

    it('does not invent a counter when crediting a product it has none for', async () => {
      await gate.credit({ userId: 1, lines: [{ productId: 99, quantity: 5, version: 2 }] });
      expect(await gate.available([99])).toEqual([null]);
    });

    it('syncs to database stock minus the holds still in flight, dropping committed ones', async () => {
      await setStock(P, 10);
      await gate.reserve({ reservationId: 'in-flight', userId: 1, lines: [line(P, 2)] });
      await gate.reserve({ reservationId: 'committed', userId: 2, lines: [line(P, 3)] });
      // The database has committed the second order (10 - 3 = 7) but its hold was not released.
      const result = await sync({
        productId: P,
        available: 7,
        version: 1,
        committed: ['committed'],
        maxHoldAgeMs: 60_000,
        caps: { mode: 'keep' },
      });
      expect(result).toEqual({
        previous: 5,
        current: 5,
        staleHoldsDropped: 0,
        committedHoldsDropped: 1,
      });
      expect((await gate.holds(P)).map((h) => h.reservationId)).toEqual(['in-flight']);
    });

    it('drops holds older than the maximum age, so units of a dead request sell again', async () => {
      await setStock(P, 10);
      await gate.reserve({ reservationId: 'dead', userId: 1, lines: [line(P, 4, 5)] });
      await new Promise((resolve) => setTimeout(resolve, 30));
      const result = await sync({
        productId: P,
        available: 10,
        version: 1,
        committed: [],
        maxHoldAgeMs: 10,
        caps: { mode: 'keep' },
      });
      expect(result).toMatchObject({ previous: 6, current: 10, staleHoldsDropped: 1 });
      expect(await gate.holds(P)).toEqual([]);
      expect(
        await gate.reserve({ reservationId: 'again', userId: 1, lines: [line(P, 5, 5)] }),
      ).toEqual({ ok: true });
    });

    it('rebuilds the cap table from live orders plus holds, or clears it', async () => {
      await setStock(P, 10);
      await gate.reserve({ reservationId: 'h', userId: 1, lines: [line(P, 1, 3)] });
      await sync({
        productId: P,
        available: 10,
        version: 1,
        committed: [],
        maxHoldAgeMs: 60_000,
        caps: {
          mode: 'rebuild',
          liveUnitsByUser: new Map([
            [1, 2],
            [2, 3],
          ]),
        },
      });
      expect(
        await gate.reserve({ reservationId: 'x', userId: 1, lines: [line(P, 1, 3)] }),
      ).toMatchObject({
        reason: 'limit',
        alreadyOrdered: 3,
      });
      expect(
        await gate.reserve({ reservationId: 'y', userId: 2, lines: [line(P, 1, 3)] }),
      ).toMatchObject({
        reason: 'limit',
      });
      await sync({
        productId: P,
        available: 10,
        version: 1,
        committed: [],
        maxHoldAgeMs: 60_000,
        caps: { mode: 'clear' },
      });
      expect(await gate.reserve({ reservationId: 'z', userId: 2, lines: [line(P, 3, 3)] })).toEqual(
        {
          ok: true,
        },
      );
    });

    it('never sets a negative counter when holds exceed the database stock', async () => {
      await setStock(P, 5);
      await gate.reserve({ reservationId: 'r', userId: 1, lines: [line(P, 5)] });
      const result = await sync({
        productId: P,
        available: 2,
        version: 1,
        committed: [],
        maxHoldAgeMs: 60_000,
        caps: { mode: 'keep' },
      });
      expect(result.current).toBe(0);
    });

    it('rate limits attempts per user and says how long to wait', async () => {
      expect(await gate.admit({ userId: 1, rateLimitMs: 500 })).toEqual({ kind: 'admitted' });
      const limited = await gate.admit({ userId: 1, rateLimitMs: 500 });
      expect(limited.kind).toBe('rate_limited');
      expect(limited.kind === 'rate_limited' && limited.retryAfterMs).toBeGreaterThan(0);
      expect(limited.kind === 'rate_limited' && limited.retryAfterMs).toBeLessThanOrEqual(500);
      expect(await gate.admit({ userId: 2, rateLimitMs: 500 })).toEqual({ kind: 'admitted' });
      expect(await gate.admit({ userId: 1, rateLimitMs: 0 })).toEqual({ kind: 'admitted' });
    });

    it('attempts in one step: admission, then every line, a stock or cap refusal kept as the answer', async () => {
      await setStock(P, 2);
      const idem = (key: string, fingerprint = 'c'.repeat(64)) => ({
        key,
        fingerprint,
        inFlightTtlMs: 5000,
      });
      const attempt = (userId: number, key: string, quantity: number, rateLimitMs = 0) =>
        gate.attempt(
          {
            userId,
            rateLimitMs,
            idempotency: idem(key),
            reservationId: `r-${key}`,
            lines: [line(P, quantity, 3)],
            answerTtlMs: 5000,
          },
          gate,
        );
      expect(await attempt(1, 'a', 2)).toEqual({ kind: 'reserved' });
      expect(await gate.available([P])).toEqual([2 - 2]);
      // The winner's key stays in flight until its order's fate is known.
      expect(await attempt(1, 'a', 2)).toEqual({ kind: 'in_flight' });
      const refused = await attempt(2, 'b', 1);
      expect(refused).toEqual({
        kind: 'refused',
        refusal: { ok: false, reason: 'insufficient', productId: P, available: 0 },
      });
      // The refusal is the key's answer now, replayed without touching stock or the rate limit.
      expect(await attempt(2, 'b', 1, 60_000)).toEqual({
        kind: 'replay',
        answer: { refusal: 'insufficient', product_id: P, requested: 1, limit: 3, value: 0 },
      });
      // So is a refusal over the cap (the winner holds 2 of 3), with what the user already has.
      expect(await attempt(1, 'c', 2)).toEqual({
        kind: 'refused',
        refusal: { ok: false, reason: 'limit', productId: P, alreadyOrdered: 2 },
      });
      expect(await attempt(1, 'c', 2)).toEqual({
        kind: 'replay',
        answer: { refusal: 'limit', product_id: P, requested: 2, limit: 3, value: 2 },
      });
      expect(
        await gate.attempt(
          {
            userId: 2,
            rateLimitMs: 0,
            idempotency: idem('b', 'd'.repeat(64)),
            reservationId: 'r-b2',
            lines: [line(P, 1)],
            answerTtlMs: 5000,
          },
          gate,
        ),
      ).toEqual({ kind: 'key_reused' });
      // Rate limited before anything is reserved.
      await setStock(Q, 5);
      const first = await gate.attempt(
        {
          userId: 3,
          rateLimitMs: 60_000,
          reservationId: 'x1',
          lines: [line(Q, 1)],
          answerTtlMs: 0,
        },
        gate,
      );
      expect(first).toEqual({ kind: 'reserved' });
      const second = await gate.attempt(
        {
          userId: 3,
          rateLimitMs: 60_000,
          reservationId: 'x2',
          lines: [line(Q, 1)],
          answerTtlMs: 0,
        },
        gate,
      );
      expect(second.kind).toBe('rate_limited');
      expect(await gate.available([Q])).toEqual([4]);
      // A product the gate has no counter for is reported, the key left in flight.
      expect(await attempt(4, 'm', 1).then((r) => r.kind)).toBe('refused');
      expect(
        await gate.attempt(
          {
            userId: 4,
            rateLimitMs: 0,
            idempotency: idem('n'),
            reservationId: 'r-n',
            lines: [line(99, 1)],
            answerTtlMs: 5000,
          },
          gate,
        ),
      ).toEqual({ kind: 'refused', refusal: { ok: false, reason: 'missing', productId: 99 } });
      expect(await attempt(4, 'n', 1)).toEqual({ kind: 'in_flight' });
    });

    it('answers idempotency keys: in flight, reused with another body, replayed, forgotten', async () => {
      const fp = 'a'.repeat(64);
      const other = 'b'.repeat(64);
      const idem = (fingerprint: string) => ({ key: 'k1', fingerprint, inFlightTtlMs: 5000 });
      expect(await gate.admit({ userId: 1, rateLimitMs: 0, idempotency: idem(fp) })).toEqual({
        kind: 'admitted',
      });
      expect(await gate.admit({ userId: 1, rateLimitMs: 0, idempotency: idem(fp) })).toEqual({
        kind: 'in_flight',
      });
      expect(await gate.admit({ userId: 1, rateLimitMs: 0, idempotency: idem(other) })).toEqual({
        kind: 'key_reused',
      });
      // The same key of another user is another key.
      expect(await gate.admit({ userId: 2, rateLimitMs: 0, idempotency: idem(other) })).toEqual({
        kind: 'admitted',
      });
      await gate.remember({
        userId: 1,
        key: 'k1',
        fingerprint: fp,
        answer: { status: 201, orderId: 42 },
        ttlMs: 5000,
      });
      expect(await gate.admit({ userId: 1, rateLimitMs: 1000, idempotency: idem(fp) })).toEqual({
        kind: 'replay',
        answer: { status: 201, orderId: 42 },
      });
      // A replay does not count against the rate limit.
      expect(await gate.admit({ userId: 1, rateLimitMs: 1000 })).toEqual({ kind: 'admitted' });
      await gate.forget({ userId: 1, key: 'k1' });
      expect(await gate.admit({ userId: 1, rateLimitMs: 0, idempotency: idem(fp) })).toEqual({
        kind: 'admitted',
      });
    });
  },
);
