import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Product, ProductList, StockLevel } from '@stampede/contract';
import { bearer, createTestProduct, createUser } from '../support/fixtures.ts';
import { call, expectError, expectStatus, expectValidation } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

describe('the public catalogue', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  /** A word only this file's products carry, so searches see exactly them. */
  const tag = `zq${randomUUID().slice(0, 6)}`;
  let onSale: Awaited<ReturnType<typeof createTestProduct>>;
  let inactive: Awaited<ReturnType<typeof createTestProduct>>;

  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    onSale = await createTestProduct(rt.ctx, {
      name: `Lamp ${tag}`,
      description: 'A warm desk lamp',
      price_cents: 2599,
      currency: 'EUR',
      image_url: '/images/products/lamp.svg',
      stock: 7,
      sale: {
        starts_at: new Date(Date.now() - 60_000).toISOString(),
        ends_at: new Date(Date.now() + 3_600_000).toISOString(),
        max_per_user: 2,
      },
    });
    for (let i = 0; i < 4; i += 1) {
      await createTestProduct(rt.ctx, { name: `Mug ${i} ${tag}`, sale: null, stock: i });
    }
    inactive = await createTestProduct(rt.ctx, { name: `Hidden ${tag}`, is_active: false });
  });
  afterAll(() => rt.close());

  const list = (query: string) => call(app, { method: 'GET', url: `/api/products?${query}` });

  describe('GET /api/products', () => {
    it('lists active products with live stock, paging fields and server_now', async () => {
      const before = Date.now();
      const res = expectStatus(await list(`search=${tag}`), 200);
      const body = ProductList.parse(res.json());
      expect(body.page).toBe(1);
      expect(body.page_size).toBe(20);
      expect(body.total).toBe(5);
      expect(body.items).toHaveLength(5);
      expect(body.items.map((p) => p.id)).not.toContain(inactive.id);
      expect(Date.parse(body.server_now)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(body.server_now)).toBeLessThanOrEqual(Date.now() + 1000);
      const lamp = body.items.find((p) => p.id === onSale.id)!;
      expect(lamp).toEqual({
        id: onSale.id,
        sku: onSale.sku,
        name: `Lamp ${tag}`,
        description: 'A warm desk lamp',
        image_url: '/images/products/lamp.svg',
        price_cents: 2599,
        currency: 'EUR',
        is_active: true,
        available: 7,
        sale: {
          starts_at: expect.any(String),
          ends_at: expect.any(String),
          max_per_user: 2,
        },
        stock_buckets: 1,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const mug = body.items.find((p) => p.name === `Mug 2 ${tag}`)!;
      expect(mug.sale).toBeNull();
      expect(mug.available).toBe(2);
    });

    it('pages through the results without overlap', async () => {
      const first = ProductList.parse((await list(`search=${tag}&page=1&page_size=2`)).json());
      const second = ProductList.parse((await list(`search=${tag}&page=2&page_size=2`)).json());
      const third = ProductList.parse((await list(`search=${tag}&page=3&page_size=2`)).json());
      const beyond = ProductList.parse((await list(`search=${tag}&page=9&page_size=2`)).json());
      expect([first.total, second.total, third.total]).toEqual([5, 5, 5]);
      expect([first.items.length, second.items.length, third.items.length]).toEqual([2, 2, 1]);
      const ids = [...first.items, ...second.items, ...third.items].map((p) => p.id);
      expect(new Set(ids).size).toBe(5);
      expect(beyond.items).toEqual([]);
      expect(beyond).toMatchObject({ page: 9, page_size: 2, total: 5 });
    });

    it('searches name, SKU and description, case-insensitively', async () => {
      const byName = ProductList.parse((await list(`search=MUG 3 ${tag.toUpperCase()}`)).json());
      expect(byName.items.map((p) => p.name)).toEqual([`Mug 3 ${tag}`]);
      const bySku = ProductList.parse((await list(`search=${onSale.sku.toLowerCase()}`)).json());
      expect(bySku.items.map((p) => p.id)).toEqual([onSale.id]);
      const byDescription = ProductList.parse(
        (await list(`search=warm desk&page_size=100`)).json(),
      );
      expect(byDescription.items.map((p) => p.id)).toContain(onSale.id);
    });

    it('treats LIKE wildcards in the search as plain characters', async () => {
      const percent = ProductList.parse((await list(`search=${encodeURIComponent('%')}`)).json());
      expect(percent.items).toEqual([]);
      const underscore = ProductList.parse((await list(`search=_`)).json());
      expect(underscore.items).toEqual([]);
    });

    it('an empty search lists everything active', async () => {
      const all = ProductList.parse((await list('search=&page_size=100')).json());
      expect(all.total).toBeGreaterThanOrEqual(5);
    });

    it.each([
      ['page=0', 'querystring.page'],
      ['page=-1', 'querystring.page'],
      ['page=abc', 'querystring.page'],
      ['page=1.5', 'querystring.page'],
      ['page=1&page=2', 'querystring.page'],
      ['page_size=0', 'querystring.page_size'],
      ['page_size=101', 'querystring.page_size'],
      ['page_size=', 'querystring.page_size'],
      [`search=${'s'.repeat(101)}`, 'querystring.search'],
      ['search=%00', 'querystring.search'],
      ['sort=price', 'querystring.sort'],
      ['__proto__=1', 'querystring.__proto__'],
    ])('refuses ?%s with 400 naming %s', async (query, path) => {
      expectValidation(await list(query), path);
    });

    it('coerces numbers in the query string', async () => {
      const res = ProductList.parse((await list(`search=${tag}&page=2&page_size=3`)).json());
      expect(res).toMatchObject({ page: 2, page_size: 3 });
    });
  });

  describe('GET /api/products/:id', () => {
    it('answers the product with its stock', async () => {
      const res = expectStatus(
        await call(app, { method: 'GET', url: `/api/products/${onSale.id}` }),
        200,
      );
      const product = Product.parse(res.json());
      expect(product).toMatchObject({ id: onSale.id, sku: onSale.sku, available: 7 });
    });

    it('answers 404 product_not_found for an unknown id', async () => {
      const error = expectError(
        await call(app, { method: 'GET', url: '/api/products/2147483647' }),
        404,
        'product_not_found',
      );
      expect(error.details).toEqual({ product_id: 2147483647 });
    });

    it('answers 404 for an inactive product, exactly like an unknown one', async () => {
      expectError(
        await call(app, { method: 'GET', url: `/api/products/${inactive.id}` }),
        404,
        'product_not_found',
      );
    });

    it('answers 404 for an inactive product even to its admin (the public view)', async () => {
      const admin = await createUser(rt.ctx, 'admin');
      expectError(
        await call(app, {
          method: 'GET',
          url: `/api/products/${inactive.id}`,
          headers: bearer(admin),
        }),
        404,
        'product_not_found',
      );
    });
  });

  describe('GET /api/products/:id/stock', () => {
    it('answers {product_id, available, server_now}', async () => {
      const res = expectStatus(
        await call(app, { method: 'GET', url: `/api/products/${onSale.id}/stock` }),
        200,
      );
      const body = StockLevel.parse(res.json());
      expect(body).toEqual({ product_id: onSale.id, available: 7, server_now: expect.any(String) });
      expect(Math.abs(Date.parse(body.server_now) - Date.now())).toBeLessThan(5000);
    });

    it('answers 404 for unknown and inactive products', async () => {
      for (const id of [2147483000, inactive.id]) {
        expectError(
          await call(app, { method: 'GET', url: `/api/products/${id}/stock` }),
          404,
          'product_not_found',
        );
      }
    });
  });

  describe.each([
    ['/api/products/%s', 'product'],
    ['/api/products/%s/stock', 'stock'],
  ])('bad ids in %s', (template) => {
    it.each(['abc', '0', '-1', '1e3', '1.5', '01', '99999999999', '2147483648', '%20', '1%00'])(
      'refuses %s with 400',
      async (id) => {
        expectValidation(
          await call(app, { method: 'GET', url: template.replace('%s', id) }),
          'params.id',
        );
      },
    );
  });
});
