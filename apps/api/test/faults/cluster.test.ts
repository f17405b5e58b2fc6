import calculateSlot from 'cluster-key-slot';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checker, type ProductUnderTest } from './support/checks.ts';
import { Crowd } from './support/crowd.ts';
import { History } from './support/history.ts';
import { Random } from './support/random.ts';
import { FaultShop, type Buyer } from './support/shop.ts';

const HOLD_MAX_AGE_MS = 5000;
const SWEEP_INTERVAL_MS = 1000;

/**
 * Two API processes (as two machines) on a Redis Cluster of their own (3 masters, 3 replicas)
 * and a PostgreSQL of their own. A crowd buys a sale out while a master is killed, or the sale
 * product's slot moves to another master, or nothing happens but both processes racing; then
 * fresh buyers drain what is left, and the usual invariants hold: sold == units, the ledger,
 * gate == database, one order per key and the same answer on every re-send, nobody over the
 * cap, every 201 in the database, no 500, no process exit.
 */
describe('a sale on a Redis Cluster, two API processes', () => {
  let shop: FaultShop;
  beforeAll(async () => {
    shop = await FaultShop.start({
      processes: 2,
      cluster: true,
      env: {
        STOCK_HOLD_MAX_AGE_MS: String(HOLD_MAX_AGE_MS),
        STOCK_SYNC_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      },
    });
  });
  afterAll(() => shop?.stop());

  /** Sell `products` out with `buyers`, running `during` once the crowd is under way. */
  async function sellOut(
    seed: number,
    products: ProductUnderTest[],
    during: () => Promise<void>,
  ): Promise<Checker> {
    const random = new Random(seed);
    const history = new History();
    const buyers = await shop.createBuyers(80);
    const crowd = new Crowd({
      apis: shop.apis,
      buyers,
      productIds: products.map((p) => p.id),
      workers: 24,
      random,
      history,
    });
    crowd.start();
    await sleep(300);
    await during();
    await sleep(500);
    await crowd.stop();
    // Dead holds come back within the hold's lifetime and one sweep; then the drain.
    await sleep(HOLD_MAX_AGE_MS + 2 * SWEEP_INTERVAL_MS);
    const drainers = await shop.createBuyers(30);
    for (const product of products) {
      for (let i = 0, soldOut = 0; soldOut < 2; i += 1) {
        const op = await crowd.order(
          drainers[i % drainers.length]!,
          [{ product_id: product.id, quantity: 1 }],
          { kind: 'drain' },
        );
        soldOut = op?.code === 'insufficient_stock' ? soldOut + 1 : 0;
        if (i > 2000) throw new Error(`product ${product.id} does not sell out`);
      }
    }
    await sleep(500);
    const checker = new Checker(shop, history, products);
    await checker.stock();
    await checker.acknowledged();
    await checker.keys();
    await checker.caps();
    const everyone = new Map<number, Buyer>([...buyers, ...drainers].map((b) => [b.id, b]));
    await checker.resend(everyone);
    checker.answers(shop.apis);
    expect(history.operations.filter((op) => op.status === 201).length).toBeGreaterThan(0);
    return checker;
  }

  const productsOf = async (units: number[]) =>
    Promise.all(
      units.map(async (initial, i) => {
        const maxPerUser = i === 0 ? 2 : null;
        return { id: await shop.createProduct(initial, maxPerUser), initial, maxPerUser };
      }),
    );

  it('when the master serving the sale is killed mid-sale, its replica takes over and nothing is lost or oversold', async () => {
    const products = await productsOf([60, 40]);
    const cluster = shop.cluster!;
    const checker = await sellOut(1, products, async () => {
      const port = await cluster.masterOf(calculateSlot(`{p:${products[0]!.id}}`));
      await cluster.kill(port);
      await cluster.waitHealthy(30_000);
      await cluster.restart(port);
      await cluster.waitHealthy(30_000);
    });
    expect(checker.violations).toEqual([]);
  }, 180_000);

  it("when the sale product's slot moves to another master mid-sale, every redirection is followed and nothing is lost", async () => {
    const products = await productsOf([60, 40]);
    const cluster = shop.cluster!;
    const checker = await sellOut(2, products, async () => {
      const slot = calculateSlot(`{p:${products[0]!.id}}`);
      const from = await cluster.masterOf(slot);
      const to = (await cluster.masters()).find((port) => port !== from)!;
      await cluster.moveSlot(slot, to);
      expect(await cluster.masterOf(slot)).toBe(to);
    });
    expect(checker.violations).toEqual([]);
  }, 180_000);

  it('when both processes race one sale (the same keys sent to both at times), it sells exactly out', async () => {
    const products = await productsOf([50, 30, 20]);
    const checker = await sellOut(3, products, async () => undefined);
    expect(checker.violations).toEqual([]);
  }, 180_000);
});
