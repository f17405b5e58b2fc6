import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError, expectStatus } from '../support/http-helpers.ts';
import { createTestRuntime, type GateKind, type TestRuntime } from '../support/runtime.ts';

/** The probe of issue 14 (25 accounts from one address in 351 ms), from outside, over HTTP. */
describe.each<GateKind>(['redis', 'memory'])('sign-ups per address (%s)', (gate) => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  beforeAll(async () => {
    rt = await createTestRuntime({
      gate,
      env: { SIGNUP_LIMIT_PER_HOUR: '3', TRUST_PROXY: 'true' },
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
});
