import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { freePort, startRealServer } from './real-server.ts';

const TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';

describe('/metrics on the shop’s port, no token set', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
  });
  afterAll(() => rt.close());

  it('answers this machine', async () => {
    const res = await call(app, { method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('stampede_live_sale_units_available');
  });

  it.each([
    ['another machine', { remoteAddress: '203.0.113.7' }],
    ['another machine over IPv6', { remoteAddress: '2001:db8::7' }],
    [
      'a proxy on this machine forwarding an outsider',
      { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' } },
    ],
    [
      'a proxy using the Forwarded header',
      { remoteAddress: '127.0.0.1', headers: { forwarded: 'for=203.0.113.7' } },
    ],
  ])('refuses %s with 403, and shows no figure', async (_what, options) => {
    const res = await call(app, { method: 'GET', url: '/metrics', ...options });
    expectError(res, 403, 'forbidden');
    expect(res.body).not.toContain('stampede_');
  });

  it('reads the database at most once for many scrapes (the figures are cached)', async () => {
    let queries = 0;
    const count = () => (queries += 1);
    rt.ctx.database.pool.on('acquire', count);
    try {
      await call(app, { method: 'GET', url: '/metrics' });
      const before = queries;
      for (let i = 0; i < 20; i += 1) await call(app, { method: 'GET', url: '/metrics' });
      await Promise.all(
        Array.from({ length: 30 }, () => call(app, { method: 'GET', url: '/metrics' })),
      );
      expect(queries - before).toBe(0);
    } finally {
      rt.ctx.database.pool.off('acquire', count);
    }
  });
});

describe('/metrics behind METRICS_TOKEN', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { METRICS_TOKEN: TOKEN } });
    app = await rt.app();
  });
  afterAll(() => rt.close());

  it('refuses a scrape without the token, or with another one, even from this machine', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`]) {
      const res = await call(app, {
        method: 'GET',
        url: '/metrics',
        ...(authorization ? { headers: { authorization } } : {}),
      });
      expectError(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('answers the token from anywhere', async () => {
    const res = await call(app, {
      method: 'GET',
      url: '/metrics',
      remoteAddress: '203.0.113.9',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('http_request_duration_seconds');
  });
});

describe('/metrics on METRICS_PORT, a real server', () => {
  it('serves the figures on their own port only, never on the shop’s', async () => {
    const metricsPort = await freePort();
    const server = await startRealServer({ METRICS_PORT: String(metricsPort) });
    try {
      const shop = await fetch(`${server.url}/metrics`);
      expect(shop.status).toBe(404);
      expect(((await shop.json()) as { error: { code: string } }).error.code).toBe('not_found');
      const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('stampede_live_sale_units_available');
      // Nothing else is served there.
      expect((await fetch(`http://127.0.0.1:${metricsPort}/api/products`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});

describe('API_DOCS=false', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { API_DOCS: 'false' } });
  });
  afterAll(() => rt.close());

  it.each(['/docs', '/docs/static/index.html', '/docs/json', '/openapi.json'])(
    '%s is not served',
    async (url) => {
      const app = await rt.app();
      expectError(await call(app, { method: 'GET', url }), 404, 'not_found');
    },
  );
});
