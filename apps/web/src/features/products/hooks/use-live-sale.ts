import type { Product } from '@stampede/contract';
import { useState } from 'react';
import { useServerTime } from '@/hooks/use-server-time';
import { getServerNow } from '@/store/server-clock-store';
import { getPhaseDeadline, getSalePhase, type SalePhase } from '@/utils/sale-phase';
import { STOCK_POLL_MS, useProductStock } from '../api/get-product-stock';

/** How often to ask for stock, given where the sale stands: fast while it matters, never after. */
export function stockPollInterval(product: Pick<Product, 'sale'>, available: number, now: number) {
  const phase = getSalePhase({ sale: product.sale, available }, now);
  if (phase === 'ended') return false;
  if (phase === 'live') return STOCK_POLL_MS;
  // Sold out can come back: a cancelled or expired order returns its units.
  if (phase === 'sold_out') return 2 * STOCK_POLL_MS;
  const startsIn = Date.parse(product.sale?.starts_at ?? '') - now;
  return startsIn <= 15_000 ? STOCK_POLL_MS : 10_000;
}

export type LiveSale = {
  phase: SalePhase;
  available: number;
  /** The most units this page has seen on sale: what the stock bar is measured against. */
  peak: number;
  /** When the current phase ends (sale start or end), on the server's clock. */
  deadline: number | null;
  isRefreshing: boolean;
};

/**
 * A product's sale, live: the server clock ticks the phase, the stock poll feeds `available`.
 * `observedAt` is when `product` was fetched, so its stock counts as fresh for the first poll.
 */
export function useLiveSale(product: Product, observedAt: number): LiveSale {
  const stock = useProductStock({
    productId: product.id,
    queryConfig: {
      initialData: {
        product_id: product.id,
        available: product.available,
        server_now: new Date(observedAt).toISOString(),
      },
      initialDataUpdatedAt: observedAt,
      refetchInterval: (query) =>
        stockPollInterval(
          product,
          query.state.data?.available ?? product.available,
          getServerNow(),
        ),
      refetchIntervalInBackground: false,
    },
  });
  const available = stock.data?.available ?? product.available;
  const [peak, setPeak] = useState(available);
  // Adjusting state while rendering (React's documented pattern) keeps the peak in step.
  if (available > peak) setPeak(available);
  const phase = useServerTime((now) => getSalePhase({ sale: product.sale, available }, now));
  return {
    phase,
    available,
    peak: Math.max(peak, available),
    deadline: getPhaseDeadline(product, phase),
    isRefreshing: stock.isFetching,
  };
}
