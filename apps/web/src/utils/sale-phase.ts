import type { Product } from '@stampede/contract';

export type SalePhase = 'upcoming' | 'live' | 'sold_out' | 'ended';

/**
 * Where a product's sale stands at `now` (the server's clock). A product without a sale is on sale
 * while it has stock. An ended sale stays "ended" even if units are left, since orders are refused.
 */
export function getSalePhase(product: Pick<Product, 'sale' | 'available'>, now: number): SalePhase {
  const { sale } = product;
  if (sale?.ends_at && now >= Date.parse(sale.ends_at)) return 'ended';
  if (sale && now < Date.parse(sale.starts_at)) return 'upcoming';
  if (product.available <= 0) return 'sold_out';
  return 'live';
}

/** The moment the next phase begins, for the countdown; null when nothing is scheduled. */
export function getPhaseDeadline(product: Pick<Product, 'sale'>, phase: SalePhase): number | null {
  if (!product.sale) return null;
  if (phase === 'upcoming') return Date.parse(product.sale.starts_at);
  if ((phase === 'live' || phase === 'sold_out') && product.sale.ends_at) {
    return Date.parse(product.sale.ends_at);
  }
  return null;
}

/** The visible reason a buy button is disabled, or null when buying is possible. */
export function purchaseBlockedReason(phase: SalePhase): string | null {
  switch (phase) {
    case 'upcoming':
      return 'The sale has not started yet';
    case 'sold_out':
      return 'Sold out';
    case 'ended':
      return 'This sale has ended';
    case 'live':
      return null;
  }
}
