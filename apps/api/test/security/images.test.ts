import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProduct, createUser, type TestUser } from '../support/fixtures.ts';
import { call, databaseState, expectStatus, expectValidation } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

let sku = 0;
const product = (image_url: string | null) => ({
  sku: `IMG-${Date.now()}-${(sku += 1)}`,
  name: 'Pictured',
  image_url,
  price_cents: 100,
  stock: 1,
});

/** Product images an admin sets are fetched by every shopper's browser: where may they live? */
describe('image_url without IMAGE_ORIGINS: images on this shop only', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let admin: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    admin = await createUser(rt.ctx, 'admin');
  });
  afterAll(() => rt.close());

  const create = (payload: object) =>
    call(app, { method: 'POST', url: '/api/admin/products', as: admin, payload });

  it.each([
    ['another host', 'https://tracker.example/pixel.png'],
    ['another host over http', 'http://tracker.example/pixel.png'],
    ['a protocol-relative URL (another host)', '//tracker.example/pixel.png'],
    ['a backslash path (another host to a browser)', '/\\tracker.example/pixel.png'],
    ['credentials in the URL', 'https://user:secret@tracker.example/pixel.png'],
    ['a data: URL', 'data:image/svg+xml,<svg onload=alert(1)>'],
    ['a javascript: URL', 'javascript:alert(1)'],
  ])('refuses %s with 400 naming image_url, and creates nothing', async (_what, url) => {
    const before = await databaseState(rt.ctx);
    expectValidation(await create(product(url)), 'body.image_url');
    expect(await databaseState(rt.ctx)).toEqual(before);
  });

  it('accepts a path on this shop, and no image at all', async () => {
    expectStatus(await create(product('/images/products/lamp.svg')), 201);
    expectStatus(await create(product(null)), 201);
  });

  it('refuses the same when a product is changed, and leaves it as it was', async () => {
    const existing = await createTestProduct(rt.ctx, { image_url: '/images/products/lamp.svg' });
    const before = await databaseState(rt.ctx);
    expectValidation(
      await call(app, {
        method: 'PATCH',
        url: `/api/admin/products/${existing.id}`,
        as: admin,
        payload: { image_url: 'https://tracker.example/pixel.png' },
      }),
      'body.image_url',
    );
    expect(await databaseState(rt.ctx)).toEqual(before);
  });

  it('the page policy loads images from this shop only', async () => {
    const res = await call(app, { method: 'GET', url: '/api/products' });
    expect(res.headers['content-security-policy']).toMatch(/img-src 'self'(;|$)/);
  });
});

describe('image_url with IMAGE_ORIGINS=https://cdn.example.test', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let admin: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { IMAGE_ORIGINS: 'https://cdn.example.test' } });
    app = await rt.app();
    admin = await createUser(rt.ctx, 'admin');
  });
  afterAll(() => rt.close());

  const create = (payload: object) =>
    call(app, { method: 'POST', url: '/api/admin/products', as: admin, payload });

  it('accepts an image on the allowed origin', async () => {
    const res = expectStatus(await create(product('https://cdn.example.test/shoe.webp')), 201);
    expect(res.json().image_url).toBe('https://cdn.example.test/shoe.webp');
  });

  it.each([
    ['another port', 'https://cdn.example.test:8443/shoe.webp'],
    ['http instead of https', 'http://cdn.example.test/shoe.webp'],
    ['a look-alike host', 'https://cdn.example.test.tracker.example/shoe.webp'],
  ])('refuses %s', async (_what, url) => {
    expectValidation(await create(product(url)), 'body.image_url');
  });

  it('the page policy loads images from this shop and that origin', async () => {
    const res = await call(app, { method: 'GET', url: '/api/products' });
    expect(res.headers['content-security-policy']).toMatch(
      /img-src 'self' https:\/\/cdn\.example\.test(;|$)/,
    );
  });
});
