import type { Order } from '@stampede/contract';
import { act, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useServerClockStore } from '@/store/server-clock-store';
import { makeOrder, makeProduct } from '@/testing/fixtures';
import { errorReply, mockApi, type MockReply } from '@/testing/mock-api';
import { renderWithProviders } from '@/testing/render';
import { useCheckoutAttemptStore } from '../store/checkout-attempt-store';
import { CheckoutPanel, type CheckoutLine } from './checkout-panel';

const live = makeProduct({
  id: 1,
  sale: { starts_at: '2020-01-01T00:00:00.000Z', ends_at: null, max_per_user: 5 },
});
const lamp = makeProduct({ id: 2, name: 'Night Lamp', price_cents: 1500, sale: null });

function setup(
  replies: Array<MockReply | Promise<MockReply>>,
  lines: CheckoutLine[] = [{ productId: 1, quantity: 2, product: live }],
) {
  const requests = mockApi(({ url }) => {
    if (url !== '/orders')
      return { status: 200, data: { items: [], page: 1, page_size: 20, total: 0 } };
    const next = replies.shift();
    if (!next) throw new Error('no more replies');
    return next;
  });
  const orders = requests.filter.bind(requests);
  const onOrderPlaced = vi.fn<(order: Order) => void>();
  const onFix = vi.fn();
  const view = renderWithProviders(
    <CheckoutPanel lines={lines} isSignedIn onOrderPlaced={onOrderPlaced} onFix={onFix} />,
  );
  const rerender = (next: CheckoutLine[]) =>
    view.rerender(
      <CheckoutPanel lines={next} isSignedIn onOrderPlaced={onOrderPlaced} onFix={onFix} />,
    );
  const keys = () =>
    orders((request) => request.url === '/orders').map((request) =>
      request.headers.get('Idempotency-Key'),
    );
  return { requests, onOrderPlaced, onFix, keys, rerender };
}

const placeOrder = () => fireEvent.click(screen.getByRole('button', { name: 'Place order' }));
const flush = () => act(() => vi.advanceTimersByTimeAsync(0));

describe('CheckoutPanel', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse('2030-01-01T12:00:00.000Z'));
    useServerClockStore.getState().reset();
    useCheckoutAttemptStore.setState({ attempt: null });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows success only when the 201 arrives, and sends the cart with an Idempotency-Key', async () => {
    let answer!: (reply: MockReply) => void;
    const pending = new Promise<MockReply>((resolve) => (answer = resolve));
    const { requests, onOrderPlaced, keys } = setup([pending]);
    placeOrder();
    await flush();
    expect(screen.getByRole('button', { name: /placing your order/i })).toBeDisabled();
    expect(onOrderPlaced).not.toHaveBeenCalled();
    expect(requests[0]?.body).toEqual({ items: [{ product_id: 1, quantity: 2 }] });
    expect(keys()[0]).toMatch(/^[0-9a-f-]{36}$/);

    await act(async () => answer({ status: 201, data: makeOrder({ id: 42 }) }));
    await flush();
    expect(onOrderPlaced).toHaveBeenCalledWith(expect.objectContaining({ id: 42 }));
    // The attempt is over: the next order is a new attempt.
    expect(useCheckoutAttemptStore.getState().attempt).toBeNull();
  });

  it('a stock_conflict offers Retry, and the retry reuses the same key', async () => {
    const { onOrderPlaced, keys } = setup([
      errorReply(409, 'stock_conflict'),
      { status: 201, data: makeOrder() },
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('So many buyers at once');
    expect(onOrderPlaced).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await flush();
    expect(keys()).toHaveLength(2);
    expect(keys()[1]).toBe(keys()[0]);
    expect(onOrderPlaced).toHaveBeenCalledTimes(1);
  });

  it('a lost answer keeps the key, so pressing again cannot order twice', async () => {
    const { keys } = setup([
      { status: 502, data: 'bad gateway' },
      { status: 201, data: makeOrder() },
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('We could not confirm your order');
    placeOrder();
    await flush();
    expect(keys()[1]).toBe(keys()[0]);
  });

  it('rate_limited counts down from Retry-After before Retry is possible', async () => {
    const { keys, onOrderPlaced } = setup([
      errorReply(429, 'rate_limited', {}, { 'retry-after': '3' }),
      { status: 201, data: makeOrder() },
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('One moment, please');
    expect(screen.getByRole('timer')).toHaveTextContent('00:03');
    const retry = screen.getByRole('button', { name: 'Retry' });
    expect(retry).toBeDisabled();
    expect(screen.getByText('You can try again when the countdown ends')).toBeVisible();

    await act(() => vi.advanceTimersByTimeAsync(1_100));
    expect(screen.getByRole('timer')).toHaveTextContent('00:02');
    await act(() => vi.advanceTimersByTimeAsync(2_100));
    expect(screen.getByRole('button', { name: 'Retry' })).toBeEnabled();
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await flush();
    expect(keys()[1]).toBe(keys()[0]);
    expect(onOrderPlaced).toHaveBeenCalled();
  });

  it('after a definitive refusal (sale not started) the next press is a new attempt', async () => {
    const { keys } = setup([
      errorReply(409, 'sale_not_started', { product_id: 1 }),
      errorReply(409, 'stock_conflict'),
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('The sale has not started yet');
    expect(screen.getByRole('alert')).toHaveTextContent('Aero Sneaker is not on sale yet');
    placeOrder();
    await flush();
    expect(keys()[1]).not.toBe(keys()[0]);
  });

  it('a changed cart gets a new key, and the old answer disappears', async () => {
    const { keys, rerender } = setup([
      errorReply(409, 'stock_conflict'),
      errorReply(409, 'stock_conflict'),
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toBeInTheDocument();
    rerender([
      { productId: 1, quantity: 1, product: live },
      { productId: 2, quantity: 1, product: lamp },
    ]);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    placeOrder();
    await flush();
    expect(keys()[1]).not.toBe(keys()[0]);
  });

  it('insufficient_stock says how many are left and offers to take them', async () => {
    const { onFix } = setup([
      errorReply(409, 'insufficient_stock', { product_id: 1, requested: 2, available: 1 }),
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('Only 1 left');
    fireEvent.click(screen.getByRole('button', { name: 'Take the 1 left' }));
    expect(onFix).toHaveBeenCalledWith(
      expect.objectContaining({ kind: 'set_quantity', productId: 1, quantity: 1 }),
    );
  });

  it('sold out says so and offers to remove the product', async () => {
    const { onFix } = setup([
      errorReply(409, 'insufficient_stock', { product_id: 1, requested: 2, available: 0 }),
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('Sold out');
    fireEvent.click(screen.getByRole('button', { name: 'Remove it from the cart' }));
    expect(onFix).toHaveBeenCalledWith(expect.objectContaining({ kind: 'remove', productId: 1 }));
  });

  it('a 403 queue_pass_required links to the waiting room and starts a new attempt next', async () => {
    const { keys, onFix } = setup([
      errorReply(403, 'queue_pass_required', { product_id: 1 }),
      errorReply(409, 'stock_conflict'),
    ]);
    placeOrder();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('Your turn has not come yet');
    expect(screen.getByRole('alert')).toHaveTextContent(
      'Aero Sneaker sells through a waiting room',
    );
    expect(screen.getByRole('link', { name: 'Go to the waiting room' })).toHaveAttribute(
      'href',
      '/queue/1',
    );
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
    expect(onFix).not.toHaveBeenCalled();
    placeOrder();
    await flush();
    expect(keys()[1]).not.toBe(keys()[0]);
  });

  it('will not send a cart whose sale has not started, and says why', () => {
    const later = makeProduct({
      sale: { starts_at: '2031-01-01T00:00:00.000Z', ends_at: null, max_per_user: null },
    });
    const { requests } = setup([], [{ productId: 1, quantity: 1, product: later }]);
    const button = screen.getByRole('button', { name: 'Place order' });
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription('Aero Sneaker: the sale has not started yet');
    expect(requests).toHaveLength(0);
  });
});
