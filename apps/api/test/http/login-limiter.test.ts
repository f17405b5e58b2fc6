import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  createLoginLimiter,
  type LoginLimiter,
  type LoginLimitRule,
} from '../../src/modules/auth/login-limiter.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const logger = pino({ level: 'silent' });
const RULES: readonly LoginLimitRule[] = [
  { scope: 'email', limit: 3, windowMs: 400, counts: 'attempts' },
  { scope: 'ip', limit: 5, windowMs: 400, counts: 'failures' },
];

/** The same behaviour from both limiters; the Redis one on a real server with short windows. */
describe.each(['memory', 'redis'] as const)('the login limiter (%s)', (kind) => {
  let limiter: LoginLimiter;
  let now = 1_000_000;
  const advance = async (ms: number) => {
    now += ms;
    if (kind === 'redis') await sleep(ms);
  };
  beforeAll(() => {
    const prefix = `tlimit:${randomUUID()}:`;
    limiter =
      kind === 'redis'
        ? createLoginLimiter({ redis: new Redis(inject('redisUrl')), prefix, logger, rules: RULES })
        : createLoginLimiter({ prefix, logger, rules: RULES, now: () => now });
  });
  afterAll(() => limiter.close());

  const attempt = (email = `${randomUUID()}@x.test`, ip = randomUUID()) => ({ email, ip });

  it(`is the ${kind} kind`, () => {
    expect(limiter.kind).toBe(kind);
  });

  it('allows `limit` attempts per email, then refuses with the time left in the window', async () => {
    const a = attempt();
    for (let i = 0; i < 3; i += 1) {
      expect(await limiter.acquire({ ...a, ip: randomUUID() })).toEqual({ allowed: true });
    }
    const refused = await limiter.acquire({ ...a, ip: randomUUID() });
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) {
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(400);
    }
  });

  it('the email is case-insensitive', async () => {
    const email = `Case-${randomUUID()}@X.test`;
    for (let i = 0; i < 3; i += 1) await limiter.acquire({ email, ip: randomUUID() });
    expect((await limiter.acquire({ email: email.toLowerCase(), ip: randomUUID() })).allowed).toBe(
      false,
    );
  });

  it('allows `limit` failures per IP across emails', async () => {
    const ip = randomUUID();
    for (let i = 0; i < 5; i += 1) {
      const a = attempt(undefined, ip);
      expect((await limiter.acquire(a)).allowed).toBe(true);
      await limiter.failed(a);
    }
    const refused = await limiter.acquire(attempt(undefined, ip));
    expect(refused.allowed).toBe(false);
  });

  it('successful sign-ins from one address never lock it, however many at once', async () => {
    const ip = randomUUID();
    const attempts = Array.from({ length: 30 }, () => attempt(undefined, ip));
    const admitted = await Promise.all(attempts.map((a) => limiter.acquire(a)));
    expect(admitted.every((r) => r.allowed)).toBe(true);
    await Promise.all(attempts.map((a) => limiter.succeeded(a)));
    expect((await limiter.acquire(attempt(undefined, ip))).allowed).toBe(true);
  });

  it('a refused attempt does not count (the window is not extended by hammering)', async () => {
    const a = attempt();
    for (let i = 0; i < 3; i += 1) await limiter.acquire(a);
    for (let i = 0; i < 10; i += 1) expect((await limiter.acquire(a)).allowed).toBe(false);
    await advance(450);
    expect((await limiter.acquire(a)).allowed).toBe(true);
  });

  it('the window closes: attempts are allowed again after it', async () => {
    const a = attempt();
    for (let i = 0; i < 3; i += 1) await limiter.acquire(a);
    expect((await limiter.acquire(a)).allowed).toBe(false);
    await advance(450);
    for (let i = 0; i < 3; i += 1) expect((await limiter.acquire(a)).allowed).toBe(true);
  });

  it('success clears the email; the address keeps its failures', async () => {
    const ip = randomUUID();
    const a = attempt(undefined, ip);
    for (let i = 0; i < 3; i += 1) {
      await limiter.acquire(a);
      await limiter.failed(a);
    }
    expect((await limiter.acquire(a)).allowed).toBe(false);
    await limiter.succeeded(a);
    // The email starts over.
    for (let i = 0; i < 2; i += 1) expect((await limiter.acquire(a)).allowed).toBe(true);
    // The address has 3 failures of its 5: two more and it is refused.
    for (let i = 0; i < 2; i += 1) await limiter.failed(attempt(undefined, ip));
    expect((await limiter.acquire(attempt(undefined, ip))).allowed).toBe(false);
  });

  it('parallel attempts never pass the limit', async () => {
    const a = attempt();
    const results = await Promise.all(Array.from({ length: 20 }, () => limiter.acquire(a)));
    expect(results.filter((r) => r.allowed)).toHaveLength(3);
  });
});

describe('the Redis login limiter when Redis does not answer', () => {
  it('keeps limiting in process instead of letting guesses through', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const limiter = createLoginLimiter({ redis: dead, prefix: 'dead:', logger, rules: RULES });
    const a = { email: 'x@y.test', ip: '1.2.3.4' };
    for (let i = 0; i < 3; i += 1) expect((await limiter.acquire(a)).allowed).toBe(true);
    expect((await limiter.acquire(a)).allowed).toBe(false);
    await limiter.succeeded(a);
    expect((await limiter.acquire(a)).allowed).toBe(true);
    for (let i = 0; i < 5; i += 1) await limiter.failed({ email: `${i}@y.test`, ip: '1.2.3.4' });
    expect((await limiter.acquire({ email: 'new@y.test', ip: '1.2.3.4' })).allowed).toBe(false);
    await limiter.close();
  });
});
