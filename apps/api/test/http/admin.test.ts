import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminOrderList,
  LowStockList,
  Order,
  Product,
  ProductList,
  StockSet,
  SyncStockResult,
} from '@stampede/contract';
import { stockKeys } from '../../src/modules/stock/keys.ts';
import { createTestProduct, createUser, type TestUser } from '../support/fixtures.ts';
import {
  call,
  databaseState,
  databaseStock,
  expectError,
  expectStatus,
  expectValidation,
  placeOrder,
} from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

const sku = () => `ADM-${randomUUID().slice(0, 8)}`;
const startsIn = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('the admin endpoints', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let admin: TestUser;
  let customer: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { IMAGE_ORIGINS: 'https://cdn.example.test' } });
    app = await rt.app();
    admin = await createUser(rt.ctx, 'admin');
    customer = await createUser(rt.ctx);
  });
  afterAll(() => rt.close());

  const create = (payload: object, as: TestUser = admin) =>
    call(app, { method: 'POST', url: '/api/admin/products', as, payload });
  const patch = (id: number, payload: object) =>
    call(app, { method: 'PATCH', url: `/api/admin/products/${id}`, as: admin, payload });
  const putStock = (id: number, payload: object) =>
    call(app, { method: 'PUT', url: `/api/admin/products/${id}/stock`, as: admin, payload });
  const publicProduct = (id: number) => call(app, { method: 'GET', url: `/api/products/${id}` });

  describe('POST /api/admin/products', () => {
    it('creates a product with its sale and stock: 201, on sale at once', async () => {
      const code = sku();
      const starts = startsIn(-1000);
      const ends = startsIn(3_600_000);
      const res = expectStatus(
        await create({
          sku: code,
          name: 'Flash Sneakers',
          description: 'Limited run',
          image_url: 'https://cdn.example.test/sneakers.png',
          price_cents: 8900,
          currency: 'EUR',
          is_active: true,
          stock: 25,
          sale: { starts_at: starts, ends_at: ends, max_per_user: 2 },
        }),
        201,
      );
      const product = Product.parse(res.json());
      expect(product).toMatchObject({
        sku: code,
        name: 'Flash Sneakers',
        description: 'Limited run',
        image_url: 'https://cdn.example.test/sneakers.png',
        price_cents: 8900,
        currency: 'EUR',
        is_active: true,
        available: 25,
        sale: { max_per_user: 2 },
      });
      expect(Date.parse(product.sale!.starts_at)).toBe(Date.parse(starts));
      expect(Date.parse(product.sale!.ends_at!)).toBe(Date.parse(ends));
      // Public at once, with its stock in the gate: an order can take the units.
      expect(Product.parse((await publicProduct(product.id)).json()).available).toBe(25);
      expectStatus(await placeOrder(app, customer, [[product.id, 2]]), 201);
      expect(await databaseStock(rt.ctx, product.id)).toBe(23);
      // The opening stock is in the ledger.
      const ledger = await rt.ctx.db.execute<{ delta: number; cause: string }>(
        sql`SELECT delta, cause FROM stock_ledger WHERE product_id = ${product.id} ORDER BY id LIMIT 1`,
      );
      expect(ledger.rows[0]).toEqual({ delta: 25, cause: 'admin' });
    });

    it('fills the optional fields with their defaults', async () => {
      const product = Product.parse(
        expectStatus(
          await create({ sku: sku(), name: 'Plain', price_cents: 100, stock: 0 }),
          201,
        ).json(),
      );
      expect(product).toMatchObject({
        description: '',
        image_url: null,
        currency: 'USD',
        is_active: true,
        available: 0,
        sale: null,
        stock_buckets: 1,
      });
    });

    it('a sale with only a start has no end and no cap', async () => {
      const product = Product.parse(
        expectStatus(
          await create({
            sku: sku(),
            name: 'Open-ended',
            price_cents: 100,
            stock: 1,
            sale: { starts_at: startsIn(60_000) },
          }),
          201,
        ).json(),
      );
      expect(product.sale).toEqual({
        starts_at: expect.any(String),
        ends_at: null,
        max_per_user: null,
      });
    });

    it('409 sku_taken for a SKU already used, and nothing is created', async () => {
      const code = sku();
      expectStatus(await create({ sku: code, name: 'First', price_cents: 1, stock: 1 }), 201);
      const before = await databaseState(rt.ctx);
      const error = expectError(
        await create({ sku: code, name: 'Second', price_cents: 1, stock: 1 }),
        409,
        'sku_taken',
      );
      expect(error.details).toEqual({ sku: code });
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['no sku', { sku: undefined }, 'body.sku'],
      ['a sku with spaces', { sku: 'A B' }, 'body.sku'],
      ['a sku of 65 characters', { sku: 'S'.repeat(65) }, 'body.sku'],
      ['an empty name', { name: '' }, 'body.name'],
      ['a negative price', { price_cents: -1 }, 'body.price_cents'],
      ['a fractional price', { price_cents: 9.99 }, 'body.price_cents'],
      ['a price as a string', { price_cents: '100' }, 'body.price_cents'],
      ['a lower-case currency', { currency: 'usd' }, 'body.currency'],
      ['no stock', { stock: undefined }, 'body.stock'],
      ['a negative stock', { stock: -1 }, 'body.stock'],
      ['a stock over 10,000,000', { stock: 10_000_001 }, 'body.stock'],
      ['is_active as a string', { is_active: 'yes' }, 'body.is_active'],
      ['an image_url that is not a URL', { image_url: 'javascript:alert(1)' }, 'body.image_url'],
      ['a sale without a start', { sale: { ends_at: startsIn(1000) } }, 'body.sale.starts_at'],
      [
        'a sale start that is not a time',
        { sale: { starts_at: 'tomorrow' } },
        'body.sale.starts_at',
      ],
      [
        'a sale start without a zone',
        { sale: { starts_at: '2030-01-01T10:00:00' } },
        'body.sale.starts_at',
      ],
      [
        'a sale start in year 0',
        { sale: { starts_at: '0000-01-01T00:00:00Z' } },
        'body.sale.starts_at',
      ],
      [
        'a sale ending before it starts',
        { sale: { starts_at: startsIn(60_000), ends_at: startsIn(0) } },
        'body.sale.ends_at',
      ],
      [
        'max_per_user 0',
        { sale: { starts_at: startsIn(0), max_per_user: 0 } },
        'body.sale.max_per_user',
      ],
      ['an unknown sale field', { sale: { starts_at: startsIn(0), price: 1 } }, 'body.sale.price'],
      ['an unknown field', { available: 3 }, 'body.available'],
      ['an id', { id: 1 }, 'body.id'],
      ['a NUL in the description', { description: 'a\u0000b' }, 'body.description'],
    ])('refuses %s with 400 and creates nothing', async (_label, change, path) => {
      const before = await databaseState(rt.ctx);
      const payload = { sku: sku(), name: 'Valid', price_cents: 100, stock: 1, ...change };
      expectValidation(await create(payload), path);
      expect(await databaseState(rt.ctx)).toEqual(before);
    });
  });

  describe('PATCH /api/admin/products/:id', () => {
    it('changes any field but stock and answers the product', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 4 });
      const newSku = sku();
      const res = expectStatus(
        await patch(p.id, {
          sku: newSku,
          name: 'Renamed',
          description: 'New words',
          image_url: null,
          price_cents: 4321,
          currency: 'GBP',
          sale: { starts_at: startsIn(-1000), ends_at: null, max_per_user: 1 },
        }),
        200,
      );
      expect(Product.parse(res.json())).toMatchObject({
        id: p.id,
        sku: newSku,
        name: 'Renamed',
        description: 'New words',
        image_url: null,
        price_cents: 4321,
        currency: 'GBP',
        available: 4,
        sale: { ends_at: null, max_per_user: 1 },
      });
      // Orders take the new price and the new cap at once.
      const order = Order.parse(
        expectStatus(await placeOrder(app, customer, [[p.id, 1]]), 201).json(),
      );
      expect(order).toMatchObject({ total_cents: 4321, currency: 'GBP' });
      expectError(await placeOrder(app, customer, [[p.id, 1]]), 409, 'purchase_limit_exceeded');
    });

    it('splits the stock over buckets and re-splits it, keeping every unit; 1 to 16 only', async () => {
      const created = Product.parse(
        expectStatus(
          await create({ sku: sku(), name: 'Split', price_cents: 100, stock: 9, stock_buckets: 3 }),
          201,
        ).json(),
      );
      expect(created).toMatchObject({ stock_buckets: 3, available: 9 });
      expectStatus(await placeOrder(app, customer, [[created.id, 2]]), 201);
      const resplit = Product.parse(
        expectStatus(await patch(created.id, { stock_buckets: 2 }), 200).json(),
      );
      expect(resplit).toMatchObject({ stock_buckets: 2, available: 7 });
      expect(await databaseStock(rt.ctx, created.id)).toBe(7);
      expectStatus(await placeOrder(app, admin, [[created.id, 7]]), 201);
      expectError(await placeOrder(app, customer, [[created.id, 1]]), 409, 'insufficient_stock');
      for (const stock_buckets of [0, 17, 1.5, '2']) {
        expectValidation(await patch(created.id, { stock_buckets }), 'body.stock_buckets');
      }
      expect(Product.parse((await publicProduct(created.id)).json())).toMatchObject({
        stock_buckets: 2,
        available: 0,
      });
    });

    it('a partial change leaves the other fields as they were', async () => {
      const p = await createTestProduct(rt.ctx, { description: 'keep me', price_cents: 777 });
      const product = Product.parse(
        expectStatus(await patch(p.id, { name: 'Only the name' }), 200).json(),
      );
      expect(product).toMatchObject({
        name: 'Only the name',
        description: 'keep me',
        price_cents: 777,
      });
      expect(product.sale).not.toBeNull();
    });

    it('sale: null ends the flash sale; the product stays on sale without a window', async () => {
      const p = await createTestProduct(rt.ctx, {
        sale: { starts_at: startsIn(3_600_000), ends_at: null, max_per_user: null },
      });
      expectError(await placeOrder(app, customer, [[p.id, 1]]), 409, 'sale_not_started');
      expect(Product.parse((await patch(p.id, { sale: null })).json()).sale).toBeNull();
      expectStatus(await placeOrder(app, customer, [[p.id, 1]]), 201);
    });

    it('is_active false hides the product from the public and from orders', async () => {
      const p = await createTestProduct(rt.ctx);
      expectStatus(await patch(p.id, { is_active: false }), 200);
      expectError(await publicProduct(p.id), 404, 'product_not_found');
      expectError(await placeOrder(app, customer, [[p.id, 1]]), 404, 'product_not_found');
      // The admin still sees it.
      const seen = await call(app, {
        method: 'GET',
        url: `/api/admin/products/${p.id}`,
        as: admin,
      });
      expect(Product.parse(expectStatus(seen, 200).json()).is_active).toBe(false);
      expectStatus(await patch(p.id, { is_active: true }), 200);
      expectStatus(await publicProduct(p.id), 200);
    });

    it('stock in a PATCH is 400 (stock changes go through PUT .../stock)', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 5 });
      const before = await databaseState(rt.ctx);
      expectValidation(await patch(p.id, { stock: 50 }), 'body.stock');
      expectValidation(await patch(p.id, { name: 'x', available: 50 }), 'body.available');
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('an empty change is 400', async () => {
      const p = await createTestProduct(rt.ctx);
      expectError(await patch(p.id, {}), 400, 'validation_failed');
    });

    it('409 sku_taken when the new SKU belongs to another product', async () => {
      const one = await createTestProduct(rt.ctx);
      const two = await createTestProduct(rt.ctx);
      const before = await databaseState(rt.ctx);
      expectError(await patch(two.id, { sku: one.sku }), 409, 'sku_taken');
      expect(await databaseState(rt.ctx)).toEqual(before);
      // Its own SKU again is no conflict.
      expectStatus(await patch(two.id, { sku: two.sku }), 200);
    });

    it('404 product_not_found for an unknown product', async () => {
      expectError(await patch(2147483000, { name: 'Ghost' }), 404, 'product_not_found');
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['a negative price', { price_cents: -5 }, 'body.price_cents'],
      ['a null name', { name: null }, 'body.name'],
      ['a bad currency', { currency: 'EURO' }, 'body.currency'],
      [
        'a sale ending before it starts',
        { sale: { starts_at: startsIn(10_000), ends_at: startsIn(0) } },
        'body.sale.ends_at',
      ],
    ])('refuses %s with 400', async (_label, payload, path) => {
      const p = await createTestProduct(rt.ctx);
      const before = await databaseState(rt.ctx);
      expectValidation(await patch(p.id, payload), path);
      expect(await databaseState(rt.ctx)).toEqual(before);
    });
  });

  describe('PUT /api/admin/products/:id/stock', () => {
    it('sets the units available, in the database, the ledger and the gate', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 3 });
      const res = expectStatus(await putStock(p.id, { quantity: 40 }), 200);
      expect(StockSet.parse(res.json())).toEqual({ product_id: p.id, available: 40 });
      expect(await databaseStock(rt.ctx, p.id)).toBe(40);
      expect(Product.parse((await publicProduct(p.id)).json()).available).toBe(40);
      const ledger = await rt.ctx.db.execute<{ total: number }>(
        sql`SELECT sum(delta)::int AS total FROM stock_ledger WHERE product_id = ${p.id}`,
      );
      expect(ledger.rows[0]!.total).toBe(40);
      // The gate follows: 40 can be bought, not 41.
      expectError(await placeOrder(app, customer, [[p.id, 41]]), 409, 'insufficient_stock');
      const buyers = await Promise.all([1, 2].map(() => createUser(rt.ctx)));
      expectStatus(await placeOrder(app, buyers[0]!, [[p.id, 40]]), 201);
      expectError(await placeOrder(app, buyers[1]!, [[p.id, 1]]), 409, 'insufficient_stock');
    });

    it('quantity 0 takes the product off sale (sold out), 10,000,000 is the most', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 3 });
      expectStatus(await putStock(p.id, { quantity: 0 }), 200);
      expectError(await placeOrder(app, customer, [[p.id, 1]]), 409, 'insufficient_stock');
      expect(
        StockSet.parse((await putStock(p.id, { quantity: 10_000_000 })).json()).available,
      ).toBe(10_000_000);
    });

    it('404 for an unknown product', async () => {
      expectError(await putStock(2147483000, { quantity: 1 }), 404, 'product_not_found');
    });

    it.each<[string, unknown, string]>([
      ['a negative quantity', { quantity: -1 }, 'body.quantity'],
      ['a quantity over 10,000,000', { quantity: 10_000_001 }, 'body.quantity'],
      ['a fractional quantity', { quantity: 1.5 }, 'body.quantity'],
      ['a quantity as a string', { quantity: '5' }, 'body.quantity'],
      ['no quantity', {}, 'body.quantity'],
      ['a delta instead', { delta: 5 }, 'body.delta'],
    ])('refuses %s with 400 and changes nothing', async (_label, payload, path) => {
      const p = await createTestProduct(rt.ctx, { stock: 6 });
      const before = await databaseState(rt.ctx);
      expectValidation(await putStock(p.id, payload as object), path);
      expect(await databaseState(rt.ctx)).toEqual(before);
    });
  });

  describe('GET /api/admin/products/low-stock', () => {
    it('lists active products at or below the threshold (default 10), lowest first', async () => {
      const tag = randomUUID().slice(0, 6);
      const low = await createTestProduct(rt.ctx, { name: `low ${tag}`, stock: 2 });
      const edge = await createTestProduct(rt.ctx, { name: `edge ${tag}`, stock: 10 });
      const high = await createTestProduct(rt.ctx, { name: `high ${tag}`, stock: 11 });
      const hidden = await createTestProduct(rt.ctx, { stock: 0, is_active: false });
      const list = async (query = '') =>
        LowStockList.parse(
          expectStatus(
            await call(app, {
              method: 'GET',
              url: `/api/admin/products/low-stock${query}`,
              as: admin,
            }),
            200,
          ).json(),
        ).items;
      const byDefault = (await list()).map((p) => p.id);
      expect(byDefault).toEqual(expect.arrayContaining([low.id, edge.id]));
      expect(byDefault).not.toContain(high.id);
      expect(byDefault).not.toContain(hidden.id);
      const items = await list();
      const availables = items.map((p) => p.available);
      expect(availables).toEqual([...availables].sort((a, b) => a - b));
      expect(items.every((p) => p.available <= 10)).toBe(true);
      const strict = (await list('?threshold=2')).map((p) => p.id);
      expect(strict).toContain(low.id);
      expect(strict).not.toContain(edge.id);
      const wide = (await list('?threshold=11')).map((p) => p.id);
      expect(wide).toContain(high.id);
    });

    it.each(['threshold=-1', 'threshold=abc', 'threshold=1.5', 'threshold=10000001', 'limit=5'])(
      '?%s is 400',
      async (query) => {
        expectError(
          await call(app, {
            method: 'GET',
            url: `/api/admin/products/low-stock?${query}`,
            as: admin,
          }),
          400,
          'validation_failed',
        );
      },
    );
  });

  describe('POST /api/admin/stock/sync', () => {
    it('syncs every active product without a body', async () => {
      const res = expectStatus(
        await call(app, { method: 'POST', url: '/api/admin/stock/sync', as: admin }),
        200,
      );
      const result = SyncStockResult.parse(res.json());
      const active = await rt.ctx.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM products WHERE is_active`,
      );
      expect(result.synced).toBe(active.rows[0]!.n);
    });

    it('syncs the named products, repairing a gate that drifted', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 12 });
      const other = await createTestProduct(rt.ctx, { stock: 5 });
      // The gate's counter goes wrong behind the API's back.
      await rt.redis().set(stockKeys(rt.prefix).stock(p.id), '3');
      expect(Product.parse((await publicProduct(p.id)).json()).available).toBe(3);
      const res = expectStatus(
        await call(app, {
          method: 'POST',
          url: '/api/admin/stock/sync',
          as: admin,
          payload: { product_ids: [p.id, other.id] },
        }),
        200,
      );
      expect(SyncStockResult.parse(res.json())).toEqual({ synced: 2, drift: 9 });
      expect(Product.parse((await publicProduct(p.id)).json()).available).toBe(12);
    });

    it('an empty JSON body is the same as no body', async () => {
      expectStatus(
        await call(app, {
          method: 'POST',
          url: '/api/admin/stock/sync',
          as: admin,
          headers: { 'content-type': 'application/json' },
          payload: '',
        }),
        200,
      );
    });

    it('unknown product ids are skipped, not synced', async () => {
      const res = await call(app, {
        method: 'POST',
        url: '/api/admin/stock/sync',
        as: admin,
        payload: { product_ids: [2147483000] },
      });
      expect(SyncStockResult.parse(expectStatus(res, 200).json()).synced).toBe(0);
    });

    it.each<[string, unknown, string]>([
      ['an empty list', { product_ids: [] }, 'body.product_ids'],
      ['id 0', { product_ids: [0] }, 'body.product_ids.0'],
      ['ids as strings', { product_ids: ['1'] }, 'body.product_ids.0'],
      ['not a list', { product_ids: 5 }, 'body.product_ids'],
      ['an unknown field', { all: true }, 'body.all'],
      ['a list body', [1, 2], 'body'],
    ])('refuses %s with 400', async (_label, payload, path) => {
      expectValidation(
        await call(app, {
          method: 'POST',
          url: '/api/admin/stock/sync',
          as: admin,
          payload: payload as object,
        }),
        path,
      );
    });
  });

  describe('GET /api/admin/orders', () => {
    it('lists every user’s orders, newest first, with user_id, status filter and paging', async () => {
      const p = await createTestProduct(rt.ctx, { stock: 100 });
      const buyers = await Promise.all([1, 2].map(() => createUser(rt.ctx)));
      const placed: Order[] = [];
      for (const [i, buyer] of [...buyers, ...buyers].entries()) {
        placed.push(Order.parse((await placeOrder(app, buyer, [[p.id, i + 1]])).json()));
      }
      await call(app, { method: 'POST', url: `/api/orders/${placed[1]!.id}/pay`, as: buyers[1]! });
      await call(app, {
        method: 'POST',
        url: `/api/orders/${placed[2]!.id}/cancel`,
        as: buyers[0]!,
      });

      const list = async (query: string) =>
        AdminOrderList.parse(
          expectStatus(
            await call(app, { method: 'GET', url: `/api/admin/orders?${query}`, as: admin }),
            200,
          ).json(),
        );
      const all = await list('page_size=100');
      const ours = all.items.filter((o) => placed.some((x) => x.id === o.id));
      expect(ours.map((o) => o.id)).toEqual(placed.map((o) => o.id).reverse());
      expect(ours.find((o) => o.id === placed[0]!.id)!.user_id).toBe(buyers[0]!.id);
      expect(ours.find((o) => o.id === placed[1]!.id)!.user_id).toBe(buyers[1]!.id);
      const ids = all.items.map((o) => o.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));

      const paid = await list('status=paid&page_size=100');
      expect(paid.items.every((o) => o.status === 'paid')).toBe(true);
      expect(paid.items.map((o) => o.id)).toContain(placed[1]!.id);
      const cancelled = await list('status=cancelled&page_size=100');
      expect(cancelled.items.map((o) => o.id)).toContain(placed[2]!.id);
      expect(cancelled.items.map((o) => o.id)).not.toContain(placed[1]!.id);

      const firstPage = await list('page=1&page_size=2');
      const secondPage = await list('page=2&page_size=2');
      expect(firstPage).toMatchObject({ page: 1, page_size: 2, total: all.total });
      expect(firstPage.items).toHaveLength(2);
      expect(secondPage.items[0]!.id).toBeLessThan(firstPage.items[1]!.id);
    });

    it.each(['status=shipped', 'status=', 'page=0', 'page_size=1000', 'user_id=1'])(
      '?%s is 400',
      async (query) => {
        expectError(
          await call(app, { method: 'GET', url: `/api/admin/orders?${query}`, as: admin }),
          400,
          'validation_failed',
        );
      },
    );
  });

  describe('GET /api/admin/products (every product, beyond API.md)', () => {
    it('lists active and inactive products with search and paging', async () => {
      const tag = `adm${randomUUID().slice(0, 6)}`;
      const on = await createTestProduct(rt.ctx, { name: `On ${tag}` });
      const off = await createTestProduct(rt.ctx, { name: `Off ${tag}`, is_active: false });
      const res = await call(app, {
        method: 'GET',
        url: `/api/admin/products?search=${tag}`,
        as: admin,
      });
      const list = ProductList.parse(expectStatus(res, 200).json());
      expect(list.total).toBe(2);
      expect(list.items.map((p) => p.id).sort()).toEqual([on.id, off.id].sort());
    });

    it('answers 404 for an unknown product id', async () => {
      expectError(
        await call(app, { method: 'GET', url: '/api/admin/products/2147483000', as: admin }),
        404,
        'product_not_found',
      );
    });
  });

  describe('access', () => {
    const routes: [string, string, object?][] = [
      ['GET', '/api/admin/products'],
      ['GET', '/api/admin/products/1'],
      ['POST', '/api/admin/products', { sku: 'X-1', name: 'x', price_cents: 1, stock: 1 }],
      ['PATCH', '/api/admin/products/1', { name: 'x' }],
      ['PUT', '/api/admin/products/1/stock', { quantity: 1 }],
      ['GET', '/api/admin/products/low-stock'],
      ['POST', '/api/admin/stock/sync'],
      ['GET', '/api/admin/orders'],
    ];

    it.each(routes)(
      '%s %s without a token is 401 and changes nothing',
      async (method, url, payload) => {
        const before = await databaseState(rt.ctx);
        expectError(
          await call(app, { method: method as 'GET', url, ...(payload ? { payload } : {}) }),
          401,
          'unauthorized',
        );
        expect(await databaseState(rt.ctx)).toEqual(before);
      },
    );

    it.each(routes)(
      '%s %s as a customer is 403 and changes nothing',
      async (method, url, payload) => {
        const before = await databaseState(rt.ctx);
        expectError(
          await call(app, {
            method: method as 'GET',
            url,
            as: customer,
            ...(payload ? { payload } : {}),
          }),
          403,
          'forbidden',
        );
        expect(await databaseState(rt.ctx)).toEqual(before);
      },
    );

    it('a customer learns nothing from validation: a bad body as a customer is still 403', async () => {
      expectError(
        await call(app, {
          method: 'POST',
          url: '/api/admin/products',
          as: customer,
          payload: { nonsense: true },
        }),
        403,
        'forbidden',
      );
    });
  });
});
