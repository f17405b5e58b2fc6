import type { QueueState } from '@stampede/contract';
import type { CatalogProduct } from '../products/selectors.ts';
import type { QueueConfig } from './board.ts';

/** The defaults of a queue the operator never set (what GET answers, what PUT starts from). */
export const DEFAULT_QUEUE: Omit<QueueConfig, 'productId'> = {
  enabled: false,
  opensBeforeSeconds: 900,
  admitPerMinute: 60,
  maxActive: null,
  inventoryFactor: 1,
  passTtlSeconds: 600,
  paused: false,
};

/** When the pre-queue opens and when the draw is (the sale's start); null without a sale. */
export function queueTimes(
  config: Pick<QueueConfig, 'opensBeforeSeconds'>,
  product: CatalogProduct,
): { opensAt: number | null; startsAt: number | null; endsAt: number | null } {
  const sale = product.sale;
  if (!sale) return { opensAt: null, startsAt: null, endsAt: null };
  const startsAt = sale.startsAt.getTime();
  return {
    opensAt: startsAt - config.opensBeforeSeconds * 1000,
    startsAt,
    endsAt: sale.endsAt?.getTime() ?? null,
  };
}

/**
 * The queue's state now. A product without a sale window is on sale all the time: its queue
 * admits from the moment it is switched on. Sold out wins over paused: nobody should wait for
 * units that are gone, whatever the operator does.
 */
export function queueStateOf(
  config: QueueConfig | null,
  product: CatalogProduct,
  now: number,
  unitsLeft: number,
): QueueState {
  if (!config?.enabled) return 'off';
  const { opensAt, startsAt, endsAt } = queueTimes(config, product);
  if (opensAt !== null && now < opensAt) return 'not_open';
  if (startsAt !== null && now < startsAt) return 'pre_queue';
  if (endsAt !== null && now >= endsAt) return 'closed';
  if (unitsLeft <= 0) return 'sold_out';
  if (config.paused) return 'paused';
  return 'admitting';
}

/** Whether an order for the product needs a pass now (the sale has started under a queue). */
export function passRequired(config: QueueConfig | null, product: CatalogProduct, now: number) {
  if (!config?.enabled) return false;
  return !product.sale || now >= product.sale.startsAt.getTime();
}
