import { ERROR_CODES } from '@stampede/contract';
import { describe, expect, it } from 'vitest';
import { ApiError, type ApiErrorInit } from '@/api/api-error';
import { describeCheckoutError } from './describe-checkout-error';

const names = (id: number) => ({ 1: 'Aero Sneaker', 2: 'Night Lamp' })[id];
const apiError = (init: Partial<ApiErrorInit> & Pick<ApiErrorInit, 'code'>) =>
  new ApiError({ message: `server says ${init.code}`, status: 409, ...init });

describe('describeCheckoutError', () => {
  it('insufficient_stock with nothing left: "Sold out", offer to remove, new attempt next', () => {
    const view = describeCheckoutError(
      apiError({
        code: 'insufficient_stock',
        details: { product_id: 1, requested: 2, available: 0 },
      }),
      names,
    );
    expect(view.title).toBe('Sold out');
    expect(view.message).toContain('Aero Sneaker sold out');
    expect(view.fix).toEqual({ kind: 'remove', productId: 1, label: 'Remove it from the cart' });
    expect(view.retry).toBe('none');
    expect(view.keepKey).toBe(false);
  });

  it('insufficient_stock with some left: "Only N left" and offer to take them', () => {
    const view = describeCheckoutError(
      apiError({
        code: 'insufficient_stock',
        details: { product_id: 2, requested: 5, available: 3 },
      }),
      names,
    );
    expect(view.title).toBe('Only 3 left');
    expect(view.message).toContain('Night Lamp has only 3 left and you asked for 5');
    expect(view.fix).toMatchObject({ kind: 'set_quantity', productId: 2, quantity: 3 });
    expect(view.keepKey).toBe(false);
  });

  it('purchase_limit_exceeded names the cap when the server gives it', () => {
    const view = describeCheckoutError(
      apiError({ code: 'purchase_limit_exceeded', details: { product_id: 1, max_per_user: 2 } }),
      names,
    );
    expect(view.title).toBe('Purchase limit reached');
    expect(view.message).toContain('Aero Sneaker is limited to 2 per customer');
    expect(view.keepKey).toBe(false);
    const bare = describeCheckoutError(apiError({ code: 'purchase_limit_exceeded' }), names);
    expect(bare.message).toContain('per-customer limit');
  });

  it('sale_not_started and sale_ended say what happened; neither keeps the key', () => {
    const early = describeCheckoutError(
      apiError({ code: 'sale_not_started', details: { product_id: 1 } }),
      names,
    );
    expect(early.title).toBe('The sale has not started yet');
    expect(early.message).toContain('Aero Sneaker is not on sale yet');
    // A replay of the same key would repeat "not started" even after the start: new key next time.
    expect(early.keepKey).toBe(false);

    const late = describeCheckoutError(
      apiError({ code: 'sale_ended', details: { product_id: 2 } }),
      names,
    );
    expect(late.title).toBe('The sale has ended');
    expect(late.fix).toMatchObject({ kind: 'remove', productId: 2 });
    expect(late.keepKey).toBe(false);
  });

  it('rate_limited waits for Retry-After and keeps the attempt', () => {
    const view = describeCheckoutError(
      apiError({ code: 'rate_limited', status: 429, retryAfterSeconds: 3 }),
      names,
    );
    expect(view.title).toBe('One moment, please');
    expect(view.retry).toBe('wait');
    expect(view.retryAfterSeconds).toBe(3);
    expect(view.message).toContain('3 seconds');
    expect(view.keepKey).toBe(true);
  });

  it('stock_conflict offers a retry of the same attempt', () => {
    const view = describeCheckoutError(apiError({ code: 'stock_conflict' }), names);
    expect(view.retry).toBe('now');
    expect(view.keepKey).toBe(true);
    expect(view.message).toContain('No order was placed');
  });

  it('idempotency_in_flight says the order is still being placed and keeps the key', () => {
    const view = describeCheckoutError(apiError({ code: 'idempotency_in_flight' }), names);
    expect(view.title).toBe('Your order is still being placed');
    expect(view.retry).toBe('wait');
    expect(view.keepKey).toBe(true);
  });

  it('stock_unavailable waits for Retry-After', () => {
    const view = describeCheckoutError(
      apiError({ code: 'stock_unavailable', status: 503, retryAfterSeconds: 5 }),
      names,
    );
    expect(view.title).toBe('Checkout is briefly unavailable');
    expect(view.retry).toBe('wait');
    expect(view.retryAfterSeconds).toBe(5);
    expect(view.keepKey).toBe(true);
  });

  it('validation_failed lists the offending fields', () => {
    const view = describeCheckoutError(
      apiError({
        code: 'validation_failed',
        status: 400,
        details: { fields: [{ path: 'items.0.quantity', message: 'must be at most 100' }] },
      }),
      names,
    );
    expect(view.title).toBe('Something in your cart is not valid');
    expect(view.message).toContain('items.0.quantity: must be at most 100');
    expect(view.keepKey).toBe(false);
  });

  it('product_not_found offers to remove the product', () => {
    const view = describeCheckoutError(
      apiError({ code: 'product_not_found', status: 404, details: { product_id: 2 } }),
      names,
    );
    expect(view.title).toBe('A product is no longer available');
    expect(view.message).toContain('Night Lamp is no longer on sale');
    expect(view.fix).toMatchObject({ kind: 'remove', productId: 2 });
  });

  it('a lost answer may have placed the order: retry with the same key', () => {
    for (const code of ['network_error', 'timeout', 'internal_error'] as const) {
      const view = describeCheckoutError(
        apiError({ code, status: code === 'internal_error' ? 500 : null }),
        names,
      );
      expect(view.title).toBe('We could not confirm your order');
      expect(view.retry).toBe('now');
      expect(view.keepKey).toBe(true);
    }
  });

  it('idempotency_key_reused starts a new attempt', () => {
    const view = describeCheckoutError(
      apiError({ code: 'idempotency_key_reused', status: 422 }),
      names,
    );
    expect(view.keepKey).toBe(false);
    expect(view.title).toBe('Your cart changed');
  });

  it('queue_pass_required says the turn has not come and links to the waiting room', () => {
    const view = describeCheckoutError(
      apiError({ code: 'queue_pass_required', status: 403, details: { product_id: 1 } }),
      names,
    );
    expect(view.title).toBe('Your turn has not come yet');
    expect(view.message).toContain('Aero Sneaker sells through a waiting room');
    expect(view.fix).toEqual({ kind: 'queue', productId: 1, label: 'Go to the waiting room' });
    // Nothing was reserved: the next press (after the turn) is a new attempt.
    expect(view.retry).toBe('none');
    expect(view.keepKey).toBe(false);
    // Without the product it still explains, with nothing to link to.
    const bare = describeCheckoutError(apiError({ code: 'queue_pass_required', status: 403 }));
    expect(bare.message).toContain('This product sells through a waiting room');
    expect(bare.fix).toBeNull();
  });

  it('queue_closed says the waiting room has closed and offers to remove the product', () => {
    const view = describeCheckoutError(
      apiError({ code: 'queue_closed', details: { product_id: 2 } }),
      names,
    );
    expect(view.title).toBe('The waiting room is closed');
    expect(view.message).toContain('The waiting room of Night Lamp has closed');
    expect(view.fix).toMatchObject({ kind: 'remove', productId: 2 });
    expect(view.keepKey).toBe(false);
  });

  it('challenge_failed asks for a new try, with a new attempt', () => {
    const view = describeCheckoutError(apiError({ code: 'challenge_failed', status: 400 }), names);
    expect(view.title).toBe('The browser check did not pass');
    expect(view.message).toContain('puzzle');
    expect(view.retry).toBe('none');
    expect(view.keepKey).toBe(false);
  });

  it('has a human title and message for every code the API can send', () => {
    for (const code of ERROR_CODES) {
      const view = describeCheckoutError(apiError({ code }), names);
      expect(view.code).toBe(code);
      expect(view.title.length).toBeGreaterThan(3);
      expect(view.message.length).toBeGreaterThan(10);
      expect(view.message).not.toMatch(/undefined|null|NaN/);
    }
  });

  it('copes with something that is not an ApiError at all', () => {
    const view = describeCheckoutError(new Error('boom'));
    expect(view.code).toBe('unknown_error');
    expect(view.title).toBe('Your order was not placed');
  });
});
