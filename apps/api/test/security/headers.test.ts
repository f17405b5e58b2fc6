import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProduct, createUser, type TestUser } from '../support/fixtures.ts';
import { call, type Response } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { makeWebDist } from './web-dist.ts';

/** Browser security headers on every kind of answer, as a browser receives them. */
const directives = (res: Response) =>
  new Map(
    String(res.headers['content-security-policy'] ?? '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name!, values]),
  );

function expectBrowserHeaders(res: Response, what: string) {
  expect(res.headers['x-content-type-options'], what).toBe('nosniff');
  expect(res.headers['x-frame-options'], what).toBe('DENY');
  expect(res.headers['referrer-policy'], what).toBe('no-referrer');
  const csp = directives(res);
  expect(csp.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(csp.get('object-src'), what).toEqual(["'none'"]);
  expect(csp.get('base-uri'), what).toEqual(["'none'"]);
}

describe('browser security headers', () => {
  const web = makeWebDist();
  let rt: TestRuntime;
  let app: FastifyInstance;
  let user: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { WEB_DIST_DIR: web.dir } });
    app = await rt.app();
    user = await createUser(rt.ctx);
    admin = await createUser(rt.ctx, 'admin');
  });
  afterAll(async () => {
    await rt.close();
    web.remove();
  });

  it('the web app may run only its own scripts and styles, and cannot be framed', async () => {
    const page = await call(app, { method: 'GET', url: '/', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<div id="root">');
    expectBrowserHeaders(page, 'index.html');
    const csp = directives(page);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'"]);
    // A client-side route (a deep link) is the same page with the same policy.
    const deep = await call(app, {
      method: 'GET',
      url: '/products/7',
      headers: { accept: 'text/html' },
    });
    expect(deep.headers['content-security-policy']).toBe(page.headers['content-security-policy']);
  });

  it.each([
    ['a script of the app', '/assets/app.js', 200],
    ['a product image', '/images/products/camera.svg', 200],
    ['the product list', '/api/products', 200],
    ['an unknown API route', '/api/nothing-here', 404],
    ['an undecodable URL (answered before routing)', '/api/products/%E0%A4%A', 400],
    ['a liveness probe', '/healthz', 200],
  ])('%s carries them too', async (what, url, status) => {
    const res = await call(app, { method: 'GET', url });
    expect(res.statusCode).toBe(status);
    expectBrowserHeaders(res, what);
  });

  it('a refused oversized body carries them', async () => {
    const res = await call(app, {
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(70_000) }),
    });
    expect(res.statusCode).toBe(413);
    expectBrowserHeaders(res, '413');
  });

  it('answers carrying tokens or orders are never stored by a cache (Cache-Control: no-store)', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 5 });
    const email = `headers-${Date.now()}@example.test`;
    const answers: [string, Response][] = [
      [
        'register',
        await call(app, {
          method: 'POST',
          url: '/api/auth/register',
          payload: { email, password: 'a sturdy passphrase', name: 'H' },
        }),
      ],
      [
        'login',
        await call(app, {
          method: 'POST',
          url: '/api/auth/login',
          payload: { email, password: 'a sturdy passphrase' },
        }),
      ],
      [
        'a failed login',
        await call(app, {
          method: 'POST',
          url: '/api/auth/login',
          payload: { email, password: 'not it at all' },
        }),
      ],
      ['me', await call(app, { method: 'GET', url: '/api/auth/me', as: user })],
      [
        'an order',
        await call(app, {
          method: 'POST',
          url: '/api/orders',
          as: user,
          payload: { items: [{ product_id: product.id, quantity: 1 }] },
        }),
      ],
      ['the orders', await call(app, { method: 'GET', url: '/api/orders', as: user })],
      ['orders without a token', await call(app, { method: 'GET', url: '/api/orders' })],
      ['all orders', await call(app, { method: 'GET', url: '/api/admin/orders', as: admin })],
    ];
    for (const [what, res] of answers) {
      expect(res.statusCode, what).toBeLessThan(500);
      expect(res.headers['cache-control'], what).toBe('no-store');
      expectBrowserHeaders(res, what);
    }
  });

  it('sends no HSTS unless the operator says TLS is in front', async () => {
    const res = await call(app, { method: 'GET', url: '/api/products' });
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(directives(res).has('upgrade-insecure-requests')).toBe(false);
  });

  it('the API docs run Swagger UI under their own policy, still unframeable', async () => {
    const res = await call(app, { method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    const csp = directives(res);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toContain("'self'");
    expect(csp.get('script-src')).not.toContain("'unsafe-inline'");
    expect(csp.has('upgrade-insecure-requests')).toBe(false);
  });
});

describe('browser security headers with TLS_IN_FRONT=true', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { TLS_IN_FRONT: 'true' } });
  });
  afterAll(() => rt.close());

  it('sends HSTS for a year and upgrades stray http:// subresources', async () => {
    const app = await rt.app();
    for (const url of ['/api/products', '/api/nothing-here', '/healthz']) {
      const res = await call(app, { method: 'GET', url });
      expect(res.headers['strict-transport-security'], url).toBe('max-age=31536000');
      expect(directives(res).has('upgrade-insecure-requests'), url).toBe(true);
    }
    const docs = await call(app, { method: 'GET', url: '/docs' });
    expect(directives(docs).has('upgrade-insecure-requests')).toBe(true);
  });
});
