import { MAX_ORDER_LINES } from '@stampede/contract';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CART_STORAGE_KEY, clampQuantity, lineLimit, useCartStore } from './cart-store';

const cart = () => useCartStore.getState();

describe('cart store', () => {
  beforeEach(() => {
    localStorage.clear();
    useCartStore.setState({ lines: [] });
  });

  it('adds a product and adds to its quantity on a second add', () => {
    cart().add({ productId: 1 });
    cart().add({ productId: 1, quantity: 2 });
    expect(cart().lines).toEqual([{ productId: 1, quantity: 3 }]);
  });

  it('never goes past the sale cap (max_per_user) and says so', () => {
    expect(cart().add({ productId: 1, quantity: 5, maxPerUser: 2 })).toEqual({
      ok: true,
      quantity: 2,
      clamped: true,
    });
    expect(cart().add({ productId: 1, maxPerUser: 2 })).toEqual({
      ok: false,
      reason: 'limit_reached',
      limit: 2,
    });
    expect(cart().lines).toEqual([{ productId: 1, quantity: 2 }]);
  });

  it('caps a line at 100 when the sale has no cap, and at 100 when the cap is higher', () => {
    cart().add({ productId: 1, quantity: 250 });
    cart().add({ productId: 2, quantity: 250, maxPerUser: 1_000 });
    expect(cart().lines.map((line) => line.quantity)).toEqual([100, 100]);
  });

  it('keeps quantities at 1 or more when set', () => {
    cart().add({ productId: 1, quantity: 3 });
    cart().setQuantity({ productId: 1, quantity: 0 });
    expect(cart().lines[0]?.quantity).toBe(1);
    cart().setQuantity({ productId: 1, quantity: -7 });
    expect(cart().lines[0]?.quantity).toBe(1);
    cart().setQuantity({ productId: 1, quantity: Number.NaN });
    expect(cart().lines[0]?.quantity).toBe(1);
    cart().setQuantity({ productId: 1, quantity: 4.8, maxPerUser: 3 });
    expect(cart().lines[0]?.quantity).toBe(3);
  });

  it(`refuses a ${MAX_ORDER_LINES + 1}th product, since an order holds ${MAX_ORDER_LINES} lines`, () => {
    for (let id = 1; id <= MAX_ORDER_LINES; id += 1) cart().add({ productId: id });
    expect(cart().add({ productId: 999 })).toEqual({
      ok: false,
      reason: 'too_many_lines',
      limit: MAX_ORDER_LINES,
    });
    expect(cart().lines).toHaveLength(MAX_ORDER_LINES);
  });

  it('removes and clears', () => {
    cart().add({ productId: 1 });
    cart().add({ productId: 2 });
    cart().remove(1);
    expect(cart().lines).toEqual([{ productId: 2, quantity: 1 }]);
    cart().clear();
    expect(cart().lines).toEqual([]);
  });

  it('persists to localStorage (not sessionStorage) and comes back after a reload', async () => {
    cart().add({ productId: 4, quantity: 2 });
    const stored = JSON.parse(localStorage.getItem(CART_STORAGE_KEY) ?? 'null');
    expect(stored.state.lines).toEqual([{ productId: 4, quantity: 2 }]);
    expect(sessionStorage.getItem(CART_STORAGE_KEY)).toBeNull();

    // A reload: a fresh copy of the module builds its store from what localStorage holds.
    vi.resetModules();
    const reloaded = await import('./cart-store');
    expect(reloaded.useCartStore.getState().lines).toEqual([{ productId: 4, quantity: 2 }]);
  });

  it('repairs a tampered or outdated stored cart instead of trusting it', async () => {
    localStorage.setItem(
      CART_STORAGE_KEY,
      JSON.stringify({
        version: 1,
        state: {
          lines: [
            { productId: 1, quantity: 1_000 },
            { productId: 1, quantity: 2 },
            { productId: 2, quantity: 0 },
          ],
        },
      }),
    );
    await useCartStore.persist.rehydrate();
    expect(cart().lines).toEqual([
      { productId: 1, quantity: 100 },
      { productId: 2, quantity: 1 },
    ]);

    localStorage.setItem(
      CART_STORAGE_KEY,
      JSON.stringify({ version: 1, state: { lines: 'nope' } }),
    );
    await useCartStore.persist.rehydrate();
    expect(cart().lines).toEqual([]);
  });

  it('bounds helpers', () => {
    expect(lineLimit(null)).toBe(100);
    expect(lineLimit(3)).toBe(3);
    expect(lineLimit(500)).toBe(100);
    expect(clampQuantity(0)).toBe(1);
    expect(clampQuantity(101)).toBe(100);
    expect(clampQuantity(7, 5)).toBe(5);
  });
});
