import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { stockKeys } from '../../src/modules/stock/keys.ts';

/** The master of a slot on a cluster of `masters` made by `redis-cli --cluster create`. */
function masterOf(slot: number, masters: number): number {
  const per = 16384 / masters;
  for (let m = 0; m < masters; m += 1) {
    if (slot <= Math.round((m + 1) * per) - 1) return m;
  }
  return masters - 1;
}

const tagOf = (key: string) => key.slice(key.indexOf('{') + 1, key.indexOf('}'));

describe('stock bucket keys', () => {
  const keys = stockKeys('test:');

  it.each([2, 3, 4, 6])(
    'k = %i buckets of a product land on k different masters of a k-master cluster',
    (k) => {
      for (let productId = 1; productId <= 300; productId += 1) {
        const masters = new Set(
          Array.from({ length: k }, (_, b) =>
            masterOf(calculateSlot(tagOf(keys.bucketStock(productId, b, k))), k),
          ),
        );
        expect(masters.size, `product ${productId}`).toBe(k);
      }
    },
  );

  it("keeps each bucket's counter and holds on one slot, bucket 0 on the product's own", () => {
    for (let b = 0; b < 3; b += 1) {
      expect(calculateSlot(tagOf(keys.bucketHolds(7, b, 3)))).toBe(
        calculateSlot(tagOf(keys.bucketStock(7, b, 3))),
      );
    }
    expect(keys.bucketStock(7, 0, 3)).toBe(keys.stock(7));
  });
});
