import type { OrderStatus } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { queryKeys } from '@/api/query-keys';
import { getAdminOrders } from './get-admin-orders';

/** Pages read per status at most; past that the count is shown as a lower bound. */
const MAX_PAGES = 10;
const PAGE_SIZE = 100;
/** Orders holding units: unpaid ones still count as sold until they expire or are cancelled. */
const HOLDING: OrderStatus[] = ['pending_payment', 'paid'];

export type SoldUnits = { byProduct: Record<number, number>; truncated: boolean };

/**
 * Units sold per product, summed from the orders that hold them. The API has no sold counter, so
 * the console adds up the admin order list (bounded: a lower bound past MAX_PAGES pages).
 */
export const getSoldUnits = async ({
  productIds,
}: {
  productIds: readonly number[];
}): Promise<SoldUnits> => {
  const wanted = new Set(productIds);
  const byProduct: Record<number, number> = {};
  for (const id of wanted) byProduct[id] = 0;
  let truncated = false;
  for (const status of HOLDING) {
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const list = await getAdminOrders({ status, page, pageSize: PAGE_SIZE });
      for (const order of list.items) {
        for (const item of order.items) {
          if (wanted.has(item.product_id))
            byProduct[item.product_id] = (byProduct[item.product_id] ?? 0) + item.quantity;
        }
      }
      if (page * PAGE_SIZE >= list.total) break;
      if (page === MAX_PAGES) truncated = true;
    }
  }
  return { byProduct, truncated };
};

export const getSoldUnitsQueryOptions = (productIds: readonly number[]) =>
  queryOptions({
    queryKey: queryKeys.admin.sold(productIds),
    queryFn: () => getSoldUnits({ productIds }),
    staleTime: 2_000,
    refetchInterval: 3_000,
    enabled: productIds.length > 0,
  });

export const useSoldUnits = ({ productIds }: { productIds: readonly number[] }) =>
  useQuery(getSoldUnitsQueryOptions(productIds));
