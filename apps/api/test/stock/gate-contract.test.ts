import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { MemoryGate } from '../../src/modules/stock/gate/memory-gate.ts';
import {
  createGateRedis,
  RedisGate,
  type GateRedis,
} from '../../src/modules/stock/gate/redis-gate.ts';
import type { Admission, StockGate } from '../../src/modules/stock/gate/types.ts';
import { stockKeys } from '../../src/modules/stock/keys.ts';

/**
 * One contract, two gates: every behaviour the stock path relies on, checked against the Redis
 * gate (Lua scripts on a real Redis) and the in-process gate alike.
 */
const redisClients: GateRedis[] = [];
/** Each gate is both: admission and stock on one Redis, or both in process. */
type Gate = Admission & StockGate;
const gates: Record<'redis' | 'memory', () => Promise<Gate>> = {
  async redis() {
    const redis = createGateRedis(inject('redisUrl'));
    await redis.connect();
    redisClients.push(redis);
    return new RedisGate(redis, stockKeys(`contract:${randomUUID()}:`));
  },
  async memory() {
    return new MemoryGate();
  },
};

afterAll(async () => {
  for (const redis of redisClients) {
    const keys = await redis.keys('contract:*');
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
});

const line = (productId: number, quantity: number, limit: number | null = null) => ({
  productId,
  quantity,
  limit,
});

describe.each(['redis', 'memory'] as const)('the %s gate', (kind) => {
  let gate: Gate;
  const P = 1;
  const Q = 2;

  const setStock = (productId: number, available: number) =>
    gate.sync({
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
    expect(await gate.reserve({ reservationId: 'a', userId: 7, lines: [line(P, 2, 3)] })).toEqual({
      ok: true,
    });
    expect(await gate.reserve({ reservationId: 'b', userId: 7, lines: [line(P, 2, 3)] })).toEqual({
      ok: false,
      reason: 'limit',
      productId: P,
      alreadyOrdered: 2,
    });
    expect(await gate.reserve({ reservationId: 'c', userId: 8, lines: [line(P, 3, 3)] })).toEqual({
      ok: true,
    });
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
    expect(credits.sort()).toEqual([0, 0, 4]);
    expect(await gate.available([P, Q])).toEqual([4, 4]);
    // The cap no longer counts the given-back units: user 1 may take all 5 again.
    expect(await gate.reserve({ reservationId: 'r2', userId: 1, lines: [line(P, 4, 5)] })).toEqual({
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
    expect(await gate.reserve({ reservationId: 'r3', userId: 1, lines: [line(P, 2, 2)] })).toEqual({
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
    const sync = (version: number, caps: Parameters<StockGate['sync']>[0]['caps']) =>
      gate.sync({ productId: P, available: 3, version, committed: [], maxHoldAgeMs: 60_000, caps });
    await sync(6, { mode: 'keep' });
    await gate.credit({ userId: 1, lines: [{ productId: P, quantity: 1, version: 5 }] });
    expect(await gate.available([P])).toEqual([3]);
    // The kept cap table still counted b: the credit freed it.
    expect(await gate.reserve({ reservationId: 'c', userId: 1, lines: [line(P, 1, 2)] })).toEqual({
      ok: true,
    });
    await gate.release({ productId: P, reservationIds: ['c'] });
    // Order c is cancelled at version 8; a sync at version 9 rebuilds the caps from live orders
    // (a alone): the late credit must free neither stock nor cap.
    await sync(9, { mode: 'rebuild', liveUnitsByUser: new Map([[1, 1]]) });
    await gate.credit({ userId: 1, lines: [{ productId: P, quantity: 1, version: 8 }] });
    expect(await gate.available([P])).toEqual([3]);
    expect(
      await gate.reserve({ reservationId: 'd', userId: 1, lines: [line(P, 2, 2)] }),
    ).toMatchObject({ ok: false, reason: 'limit', alreadyOrdered: 1 });
    // A restore committed after the last sync (version 10) is credited in full.
    await gate.credit({ userId: 1, lines: [{ productId: P, quantity: 1, version: 10 }] });
    expect(await gate.available([P])).toEqual([4]);
    expect(await gate.reserve({ reservationId: 'e', userId: 1, lines: [line(P, 2, 2)] })).toEqual({
      ok: true,
    });
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
    const result = await gate.sync({
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
    const result = await gate.sync({
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
    await gate.sync({
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
    await gate.sync({
      productId: P,
      available: 10,
      version: 1,
      committed: [],
      maxHoldAgeMs: 60_000,
      caps: { mode: 'clear' },
    });
    expect(await gate.reserve({ reservationId: 'z', userId: 2, lines: [line(P, 3, 3)] })).toEqual({
      ok: true,
    });
  });

  it('never sets a negative counter when holds exceed the database stock', async () => {
    await setStock(P, 5);
    await gate.reserve({ reservationId: 'r', userId: 1, lines: [line(P, 5)] });
    const result = await gate.sync({
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
});
