import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError, expectStatus } from '../support/http-helpers.ts';
import { createTestProduct, createUser, createUsers } from '../support/fixtures.ts';
import { createTestRuntime, type GateKind, type TestRuntime } from '../support/runtime.ts';
import { setQueue, solvedChallenge } from './support.ts';

/** The probe of issue 14 (25 accounts from one address in 351 ms), from outside, over HTTP. */
describe.each<GateKind>(['redis', 'memory'])('sign-ups per address (%s)', (gate) => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  beforeAll(async () => {
    rt = await createTestRuntime({
      gate,
      env: { SIGNUP_LIMIT_PER_HOUR: '3', QUEUE_JOIN_LIMIT_PER_MINUTE: '2', TRUST_PROXY: 'true' },
    });
    app = await rt.app();
  });
  afterAll(() => rt.close());

  let n = 0;
  const register = (ip: string) =>
    call(app, {
      method: 'POST',
      url: '/api/auth/register',
      headers: { 'x-forwarded-for': ip },
      payload: {
        email: `signup-${gate}-${(n += 1)}-${Date.now()}@example.test`,
        password: 'a long unusual passphrase 42',
        name: 'Sign Up',
      },
    });

  it('allows the limit from one address, then 429 with Retry-After; other addresses go on', async () => {
    for (let i = 0; i < 3; i += 1) expectStatus(await register('203.0.113.7'), 201);
    const refused = await register('203.0.113.7');
    const error = expectError(refused, 429, 'rate_limited');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(error.details).toHaveProperty('retry_after_ms');
    expectStatus(await register('203.0.113.8'), 201);
  });

  it('counts an IPv6 /64 as one address', async () => {
    for (let i = 1; i <= 3; i += 1) expectStatus(await register(`2001:db8:1:2::${i}`), 201);
    expectError(await register('2001:db8:1:2:ffff:1:2:3'), 429, 'rate_limited');
    expectStatus(await register('2001:db8:1:3::1'), 201);
  });

  it('limits waiting-room joins per address a minute (429 with Retry-After), not per buyer', async () => {
    const admin = await createUser(rt.ctx, 'admin');
    const product = await createTestProduct(rt.ctx);
    await setQueue(app, admin, product.id);
    const buyers = await createUsers(rt.ctx, 4);
    const joinFrom = async (buyer: (typeof buyers)[number], ip: string) =>
      call(app, {
        method: 'POST',
        url: `/api/queues/${product.id}/join`,
        as: buyer,
        headers: { 'x-forwarded-for': ip },
        payload: { altcha: await solvedChallenge(app, buyer, product.id) },
      });
    expectStatus(await joinFrom(buyers[0]!, '198.51.100.9'), 201);
    expectStatus(await joinFrom(buyers[1]!, '198.51.100.9'), 201);
    const refused = await joinFrom(buyers[2]!, '198.51.100.9');
    expectError(refused, 429, 'rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expectStatus(await joinFrom(buyers[3]!, '198.51.100.10'), 201);
  });
});
