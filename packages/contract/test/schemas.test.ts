import { describe, expect, it } from 'vitest';
import {
  CreateProductInput,
  IdempotencyKey,
  IdParams,
  LoginInput,
  Order,
  PageQuery,
  PlaceOrderInput,
  RegisterInput,
  SaleInput,
  UpdateProductInput,
} from '../src/index.ts';

const issuesOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.success ? [] : result.error!.issues.map((issue) => issue.path.join('.'));

describe('the wire schemas', () => {
  it('accept a plain order and refuse unknown fields and wrong types, naming them', () => {
    expect(PlaceOrderInput.parse({ items: [{ product_id: 1, quantity: 2 }] })).toEqual({
      items: [{ product_id: 1, quantity: 2 }],
    });
    expect(
      issuesOf(PlaceOrderInput.safeParse({ items: [{ product_id: 1, quantity: 2 }], coupon: 'x' })),
    ).toEqual(['']);
    expect(
      issuesOf(PlaceOrderInput.safeParse({ items: [{ product_id: '1', quantity: 2 }] })),
    ).toEqual(['items.0.product_id']);
    expect(
      issuesOf(PlaceOrderInput.safeParse({ items: [{ product_id: 1, quantity: 2.5 }] })),
    ).toEqual(['items.0.quantity']);
  });

  it('refuse orders with no lines, more than 20, quantities outside 1..100 or a product twice', () => {
    const line = (product_id: number, quantity = 1) => ({ product_id, quantity });
    expect(PlaceOrderInput.safeParse({ items: [] }).success).toBe(false);
    expect(
      PlaceOrderInput.safeParse({ items: Array.from({ length: 21 }, (_, i) => line(i + 1)) })
        .success,
    ).toBe(false);
    expect(
      PlaceOrderInput.safeParse({ items: Array.from({ length: 20 }, (_, i) => line(i + 1)) })
        .success,
    ).toBe(true);
    expect(PlaceOrderInput.safeParse({ items: [line(1, 0)] }).success).toBe(false);
    expect(PlaceOrderInput.safeParse({ items: [line(1, 101)] }).success).toBe(false);
    expect(issuesOf(PlaceOrderInput.safeParse({ items: [line(1), line(2), line(1)] }))).toEqual([
      'items.2.product_id',
    ]);
  });

  it('take path ids as digits only', () => {
    expect(IdParams.parse({ id: '42' })).toEqual({ id: 42 });
    for (const bad of ['0', '-1', '1e3', '0x10', '01', ' 1', '99999999999', 'abc', '']) {
      expect(IdParams.safeParse({ id: bad }).success, bad).toBe(false);
    }
  });

  it('coerce query numbers, with defaults and bounds', () => {
    expect(PageQuery.parse({})).toEqual({ page: 1, page_size: 20 });
    expect(PageQuery.parse({ page: '3', page_size: '100' })).toEqual({ page: 3, page_size: 100 });
    expect(PageQuery.safeParse({ page_size: '101' }).success).toBe(false);
    expect(PageQuery.safeParse({ page: '0' }).success).toBe(false);
    expect(PageQuery.safeParse({ page: '1.5' }).success).toBe(false);
    expect(PageQuery.safeParse({ sort: 'x' }).success).toBe(false);
  });

  it('bound Idempotency-Key to 1..255 visible characters', () => {
    expect(IdempotencyKey.safeParse('a'.repeat(255)).success).toBe(true);
    expect(IdempotencyKey.safeParse('a'.repeat(256)).success).toBe(false);
    expect(IdempotencyKey.safeParse('').success).toBe(false);
    expect(IdempotencyKey.safeParse('two words').success).toBe(false);
  });

  it('normalise emails and bound passwords to 8..128 characters', () => {
    expect(
      RegisterInput.parse({ email: ' Ann@Example.COM ', password: '12345678', name: 'Ann' }).email,
    ).toBe('ann@example.com');
    expect(
      RegisterInput.safeParse({ email: 'a@b.co', password: '1234567', name: 'A' }).success,
    ).toBe(false);
    expect(
      RegisterInput.safeParse({ email: 'a@b.co', password: 'x'.repeat(129), name: 'A' }).success,
    ).toBe(false);
    expect(LoginInput.safeParse({ email: 'not-an-email', password: 'x' }).success).toBe(false);
  });

  it('check a sale window and never accept stock in a product update', () => {
    const starts_at = '2030-01-01T10:00:00.000Z';
    expect(SaleInput.safeParse({ starts_at, ends_at: '2030-01-01T09:00:00.000Z' }).success).toBe(
      false,
    );
    expect(SaleInput.safeParse({ starts_at, ends_at: null, max_per_user: 2 }).success).toBe(true);
    expect(UpdateProductInput.safeParse({ stock: 5 }).success).toBe(false);
    expect(UpdateProductInput.safeParse({}).success).toBe(false);
    expect(
      CreateProductInput.safeParse({ sku: 'A-1', name: 'A', price_cents: 100, stock: 10_000_001 })
        .success,
    ).toBe(false);
  });

  it('describe an order with its payment deadline', () => {
    const order = {
      id: 1,
      status: 'pending_payment',
      items: [{ product_id: 1, name: 'A', quantity: 1, unit_price_cents: 100 }],
      total_cents: 100,
      currency: 'USD',
      created_at: '2030-01-01T10:00:00.000Z',
      expires_at: '2030-01-01T10:15:00.000Z',
      paid_at: null,
      cancelled_at: null,
      expired_at: null,
    };
    expect(Order.parse(order)).toEqual(order);
    expect(Order.safeParse({ ...order, status: 'shipped' }).success).toBe(false);
  });

  it('take an image on the shop or at an http(s) URL, never one that browsers read as another host', () => {
    const base = { sku: 'IMG-1', name: 'N', price_cents: 1, stock: 1 };
    for (const image_url of ['/images/products/lamp.svg', 'https://cdn.example.com/a.png', null]) {
      expect(CreateProductInput.safeParse({ ...base, image_url }).success, String(image_url)).toBe(
        true,
      );
    }
    for (const image_url of [
      '//evil.example/a.png',
      '/\\evil.example/a.png',
      'https://user:pass@cdn.example.com/a.png',
      'javascript:alert(1)',
      'data:image/png;base64,AAAA',
      '/images/a b.png',
    ]) {
      expect(issuesOf(CreateProductInput.safeParse({ ...base, image_url })), image_url).toEqual([
        'image_url',
      ]);
    }
  });
});
