import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

describe('operations endpoints', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime();
  });
  afterAll(() => rt.close());

  it('answers /healthz and /readyz while database and cache answer', async () => {
    const app = await rt.app();
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', stock_cache: 'ok' } });
  });

  it('answers an unknown route with the error body and a request id', async () => {
    const app = await rt.app();
    const res = await app.inject('/api/no-such-thing');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'not_found', message: expect.any(String) },
    });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a caller-supplied x-request-id and replaces an unsafe one', async () => {
    const app = await rt.app();
    const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'lb-1234.abc' } });
    expect(kept.headers['x-request-id']).toBe('lb-1234.abc');
    const replaced = await app.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'a b\nforged' },
    });
    expect(replaced.headers['x-request-id']).not.toContain('forged');
  });

  it('exports Prometheus metrics', async () => {
    const app = await rt.app();
    await app.inject('/healthz');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('http_request_duration_seconds_bucket');
    expect(res.body).toContain('route="/healthz"');
  });
});
