import { act, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useServerClockStore } from '@/store/server-clock-store';
import { makeProduct } from '@/testing/fixtures';
import { mockApi } from '@/testing/mock-api';
import { renderWithProviders } from '@/testing/render';
import { ProductCard } from './product-card';

const DEVICE_NOW = Date.parse('2030-01-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('ProductCard live sale', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(DEVICE_NOW);
    useServerClockStore.getState().reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls the stock every two seconds while live and shows each new level', async () => {
    const levels = [40, 12, 0];
    const requests = mockApi(({ url }) => {
      expect(url).toBe('/products/1/stock');
      return {
        status: 200,
        data: { product_id: 1, available: levels.shift() ?? 0, server_now: iso(Date.now()) },
      };
    });
    const product = makeProduct({
      available: 50,
      sale: { starts_at: iso(DEVICE_NOW - 60_000), ends_at: null, max_per_user: 2 },
    });
    renderWithProviders(<ProductCard product={product} observedAt={DEVICE_NOW} />);

    expect(screen.getByText('50 left')).toBeVisible();
    expect(requests).toHaveLength(0);

    await act(() => vi.advanceTimersByTimeAsync(2_100));
    expect(requests).toHaveLength(1);
    expect(screen.getByText('40 left')).toBeVisible();
    expect(screen.getByRole('meter')).toHaveAttribute('aria-valuemax', '50');

    await act(() => vi.advanceTimersByTimeAsync(2_000));
    expect(screen.getByText('12 left')).toBeVisible();

    await act(() => vi.advanceTimersByTimeAsync(2_000));
    expect(screen.getAllByText('Sold out').length).toBeGreaterThan(0);
    expect(requests).toHaveLength(3);
  });

  it('goes live when the server clock reaches the start, not when the device clock does', async () => {
    mockApi(() => ({
      status: 200,
      data: { product_id: 1, available: 50, server_now: iso(Date.now() + 10_000) },
    }));
    // The server is 10 s ahead of this device; the sale starts 5 s from the server's now.
    useServerClockStore
      .getState()
      .observe({ serverNow: iso(DEVICE_NOW + 10_000), sentAt: DEVICE_NOW, receivedAt: DEVICE_NOW });
    const product = makeProduct({
      sale: { starts_at: iso(DEVICE_NOW + 15_000), ends_at: null, max_per_user: null },
    });
    renderWithProviders(
      <ProductCard
        product={product}
        observedAt={DEVICE_NOW}
        renderAction={({ sale }) => <p>phase: {sale.phase}</p>}
      />,
    );
    expect(screen.getByText('phase: upcoming')).toBeVisible();
    expect(screen.getByRole('timer')).toHaveTextContent('00:05');

    await act(() => vi.advanceTimersByTimeAsync(5_100));
    // 5 s later on the device (still 10 s before the start by its own clock) the server says live.
    expect(screen.getByText('phase: live')).toBeVisible();
    expect(screen.getByText('Live now')).toBeVisible();
  });

  it('stops polling once the sale has ended', async () => {
    const requests = mockApi(() => ({
      status: 200,
      data: { product_id: 1, available: 5, server_now: iso(Date.now()) },
    }));
    const product = makeProduct({
      available: 5,
      sale: {
        starts_at: iso(DEVICE_NOW - 120_000),
        ends_at: iso(DEVICE_NOW - 60_000),
        max_per_user: null,
      },
    });
    renderWithProviders(<ProductCard product={product} observedAt={DEVICE_NOW} />);
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(requests).toHaveLength(0);
    expect(screen.getAllByText('Sale ended').length).toBeGreaterThan(0);
  });
});
