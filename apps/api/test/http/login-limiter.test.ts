import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  createLoginLimiter,
  type Admission,
  type Admitted,
  type LoginAttempt,
  type LoginLimiter,
  type LoginLimits,
  type LoginOutcome,
} from '../../src/modules/auth/login-limiter.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const logger = pino({ level: 'silent' });
/** The production shape with small numbers: 3 free per pair, 5 per account and per address. */
const LIMITS: LoginLimits = {
  pair: { free: 3, baseDelayMs: 150, maxDelayMs: 600, keepMs: 5000 },
  account: { free: 5, baseDelayMs: 150, maxDelayMs: 300, keepMs: 5000 },
  address: { free: 5, baseDelayMs: 150, maxDelayMs: 300, keepMs: 5000 },
  trustedForMs: 10_000,
};

/** The same behaviour from both limiters; the Redis one on a real server, on its clock. */
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
        ? createLoginLimiter({
            redis: new Redis(inject('redisUrl')),
            prefix,
            logger,
            limits: LIMITS,
          })
        : createLoginLimiter({ prefix, logger, limits: LIMITS, now: () => now });
  });
  afterAll(() => limiter.close());

  const email = () => `${randomUUID()}@x.test`;
  const ip = () => `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 250)).join('.')}`;
  /** One attempt, settled with `outcome` when admitted; the admission is returned. */
  const tryOnce = async (attempt: LoginAttempt, outcome: LoginOutcome = 'failed') => {
    const admission = await limiter.acquire(attempt);
    if (admission.allowed) await limiter.settle(attempt, admission, outcome);
    return admission;
  };
  const waitOf = (admission: Admission) => (admission.allowed ? 0 : admission.retryAfterMs);

  it(`is the ${kind} kind`, () => {
    expect(limiter.kind).toBe(kind);
  });

  it('an address gets the free attempts at an account, then waits twice as long each time', async () => {
    const a = { email: email(), ip: ip() };
    for (let i = 0; i < 3; i += 1) expect((await tryOnce(a)).allowed).toBe(true);
    const first = waitOf(await tryOnce(a));
    expect(first).toBeGreaterThan(100);
    expect(first).toBeLessThanOrEqual(150);
    await advance(first + 20);
    expect((await tryOnce(a)).allowed).toBe(true);
    const second = waitOf(await tryOnce(a));
    expect(second).toBeGreaterThan(250);
    expect(second).toBeLessThanOrEqual(300);
    await advance(second + 20);
    expect((await tryOnce(a)).allowed).toBe(true);
    await advance(620);
    expect((await tryOnce(a)).allowed).toBe(true);
    // Never longer than the longest delay.
    expect(waitOf(await tryOnce(a))).toBeLessThanOrEqual(600);
  });

  it('the email is case-insensitive', async () => {
    const a = { email: `Case-${randomUUID()}@X.test`, ip: ip() };
    for (let i = 0; i < 3; i += 1) await tryOnce(a);
    expect((await tryOnce({ ...a, email: a.email.toLowerCase() })).allowed).toBe(false);
  });

  it('a stranger at another address never slows the owner at an address they signed in from', async () => {
    const owner = { email: email(), ip: ip() };
    expect((await tryOnce(owner, 'succeeded')).allowed).toBe(true);
    // Guesses from many addresses: the account as a whole is saturated for new addresses...
    for (let i = 0; i < 8; i += 1) await tryOnce({ email: owner.email, ip: ip() });
    expect((await tryOnce({ email: owner.email, ip: ip() })).allowed).toBe(false);
    // ...and from one address: that pair is slowed.
    const stranger = { email: owner.email, ip: ip() };
    for (let i = 0; i < 5; i += 1) await tryOnce(stranger);
    expect((await tryOnce(stranger)).allowed).toBe(false);
    // The owner, at home, is not.
    const home = await tryOnce(owner, 'succeeded');
    expect(home).toMatchObject({ allowed: true, trusted: true });
  });

  it('an account is slowed for new addresses once the free attempts were spent from anywhere', async () => {
    const account = email();
    for (let i = 0; i < 5; i += 1)
      expect((await tryOnce({ email: account, ip: ip() })).allowed).toBe(true);
    const refused = await tryOnce({ email: account, ip: ip() });
    expect(waitOf(refused)).toBeGreaterThan(0);
    expect(waitOf(refused)).toBeLessThanOrEqual(300);
  });

  it('an address is slowed across accounts after the free attempts (credential stuffing)', async () => {
    const from = ip();
    const regular = { email: email(), ip: from };
    await tryOnce(regular, 'succeeded');
    for (let i = 0; i < 5; i += 1)
      expect((await tryOnce({ email: email(), ip: from })).allowed).toBe(true);
    expect((await tryOnce({ email: email(), ip: from })).allowed).toBe(false);
    // Someone who signed in from there before is not held up by the others' failures.
    expect((await tryOnce(regular, 'succeeded')).allowed).toBe(true);
  });

  it('a success gives back its slot: successes from one address never add up', async () => {
    const from = ip();
    for (let i = 0; i < 20; i += 1) {
      expect((await tryOnce({ email: email(), ip: from }, 'succeeded')).allowed).toBe(true);
    }
  });

  it('an abandoned attempt (an error, nothing decided) gives every slot back', async () => {
    const a = { email: email(), ip: ip() };
    for (let i = 0; i < 10; i += 1) expect((await tryOnce(a, 'abandoned')).allowed).toBe(true);
  });

  it('a success forgets the pair’s failures', async () => {
    const a = { email: email(), ip: ip() };
    for (let i = 0; i < 2; i += 1) await tryOnce(a);
    await tryOnce(a, 'succeeded');
    for (let i = 0; i < 3; i += 1) expect((await tryOnce(a)).allowed).toBe(true);
    expect((await tryOnce(a)).allowed).toBe(false);
  });

  it('parallel attempts are counted before they are checked: none slips past a limit', async () => {
    const pair = { email: email(), ip: ip() };
    const atPair = await Promise.all(Array.from({ length: 20 }, () => limiter.acquire(pair)));
    expect(atPair.filter((a) => a.allowed)).toHaveLength(3);
    const from = ip();
    const atAddress = await Promise.all(
      Array.from({ length: 20 }, () => limiter.acquire({ email: email(), ip: from })),
    );
    expect(atAddress.filter((a) => a.allowed)).toHaveLength(5);
  });

  it('a refused attempt counts for nothing (hammering does not extend the wait)', async () => {
    const a = { email: email(), ip: ip() };
    for (let i = 0; i < 3; i += 1) await tryOnce(a);
    for (let i = 0; i < 10; i += 1) expect((await tryOnce(a)).allowed).toBe(false);
    await advance(170);
    expect((await tryOnce(a)).allowed).toBe(true);
  });

  it('IPv6 addresses count by /64; IPv4-mapped ones as their IPv4 address', async () => {
    const net = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    for (let i = 1; i <= 5; i += 1) await tryOnce({ email: email(), ip: `${net}::${i}` });
    expect((await tryOnce({ email: email(), ip: `${net}:ffff:ffff:ffff:ffff` })).allowed).toBe(
      false,
    );
    expect((await tryOnce({ email: email(), ip: `${net.replace(/:7$/, ':8')}::1` })).allowed).toBe(
      true,
    );
    const v4 = ip();
    for (let i = 0; i < 5; i += 1) await tryOnce({ email: email(), ip: `::ffff:${v4}` });
    expect((await tryOnce({ email: email(), ip: v4 })).allowed).toBe(false);
  });

  it('state is forgotten once its scope has been quiet for its keep time', async () => {
    const a = { email: email(), ip: ip() };
    for (let i = 0; i < 3; i += 1) await tryOnce(a);
    if (kind === 'redis') {
      const inspector = new Redis(inject('redisUrl'));
      const keys = await inspector.keys('tlimit:*{login}:pair:*');
      expect(keys.length).toBeGreaterThan(0);
      expect(await inspector.pttl(keys[0]!)).toBeGreaterThan(0);
      inspector.disconnect();
      return; // the keys carry their TTL; waiting five seconds proves nothing more
    }
    await advance(5001);
    for (let i = 0; i < 3; i += 1) expect((await tryOnce(a)).allowed).toBe(true);
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
    const limiter = createLoginLimiter({ redis: dead, prefix: 'dead:', logger, limits: LIMITS });
    const a = { email: 'x@y.test', ip: '1.2.3.4' };
    const admitted: Admitted[] = [];
    for (let i = 0; i < 3; i += 1) {
      const admission = await limiter.acquire(a);
      expect(admission).toMatchObject({ allowed: true, store: 'memory' });
      admitted.push(admission as Admitted);
    }
    expect((await limiter.acquire(a)).allowed).toBe(false);
    await limiter.settle(a, admitted[0]!, 'succeeded');
    expect((await limiter.acquire(a)).allowed).toBe(true);
    await limiter.close();
  });
});
