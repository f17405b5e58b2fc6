/**
 * The randomized fault run: two API processes (as two machines) on their own PostgreSQL and
 * Redis, a crowd of careful buyers keeping a client-side history, and a nemesis injecting one
 * fault at a time (a process killed mid-request, Redis restarted empty or from an old snapshot,
 * Redis paused past the client's timeout, PostgreSQL paused, every backend terminated,
 * PostgreSQL killed). Then everything heals, fresh buyers buy until the sale is sold out, and
 * the checks run: no oversell, no undersell, every acknowledged order, cancel and payment in the
 * database, one order per key and the same answer on every re-send, nobody over the cap,
 * gate == database, no 500, no process exit, an answer soon after every fault.
 *
 *   npm run test:faults -- --seed 7 [--faults 10] [--workers 24] [--cluster]
 *
 * With --cluster the gate runs on a Redis Cluster of its own (3 masters, 3 replicas), and the
 * Redis faults are a cluster's: a master killed (its replica takes over), a master paused, a
 * product's slot moved to another master mid-sale.
 *
 * The same seed draws the same faults, in the same order, with the same timings; exit 1 on any
 * violation. The history of the run is written to a JSON file for a closer look.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Checker, type ProductUnderTest } from './support/checks.ts';
import { Crowd } from './support/crowd.ts';
import { History } from './support/history.ts';
import { CLUSTER_FAULTS, runNemesis, SINGLE_NODE_FAULTS } from './support/nemesis.ts';
import { Random } from './support/random.ts';
import { call, FaultShop, type Buyer } from './support/shop.ts';
import { sleep, waitFor } from './support/wait.ts';

const HOLD_MAX_AGE_MS = 5000;
const SWEEP_INTERVAL_MS = 1000;
/** README's bound on the first decided answer after a fault is healed. */
const RECOVERY_BOUND_MS = 10_000;

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    /** The gate on a Redis Cluster (3 masters, 3 replicas) instead of one node. */
    cluster: { type: 'boolean', default: false },
    faults: { type: 'string', default: '10' },
    workers: { type: 'string', default: '24' },
  },
});
const seed = Number(values.seed);
const random = new Random(seed);
const onCluster = values.cluster;
const log = (message: string) =>
  process.stdout.write(`[faults seed ${seed}${onCluster ? ' cluster' : ''}] ${message}\n`);

async function main(): Promise<number> {
  const started = Date.now();
  const shop = await FaultShop.start({
    processes: 2,
    cluster: onCluster,
    env: {
      STOCK_HOLD_MAX_AGE_MS: String(HOLD_MAX_AGE_MS),
      STOCK_SYNC_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      EXPIRY_SWEEP_INTERVAL_MS: '500',
    },
  });
  try {
    const products: ProductUnderTest[] = [];
    for (const [initial, maxPerUser] of [
      [40, null],
      [30, 2],
      [20, 3],
    ] as const) {
      products.push({ id: await shop.createProduct(initial, maxPerUser), initial, maxPerUser });
    }
    const buyers = await shop.createBuyers(60);
    const everyone = new Map<number, Buyer>(buyers.map((b) => [b.id, b]));
    const history = new History();
    const crowd = new Crowd({
      apis: shop.apis,
      buyers,
      productIds: products.map((p) => p.id),
      workers: Number(values.workers),
      random,
      history,
    });
    log(
      `shop up in ${Date.now() - started} ms; ${products.length} products, ${buyers.length} buyers`,
    );

    crowd.start();
    await sleep(1500);
    // An early snapshot: Redis restarted from it later holds more stock and older holds and keys.
    if (!onCluster) await shop.takeSnapshot();
    await runNemesis({
      shop,
      random,
      history,
      count: Number(values.faults),
      gapMs: [1500, 3000],
      names: onCluster ? CLUSTER_FAULTS : SINGLE_NODE_FAULTS,
      productIds: products.map((p) => p.id),
    });
    await sleep(2000);
    await crowd.stop();
    log(`${history.faults.length} faults: ${history.faults.map((f) => f.name).join(', ')}`);

    // Healed: both processes answer, and dead holds have had their time to come back.
    for (const api of shop.apis) {
      await waitFor(
        async () => {
          const ready = await call(api.url, { method: 'GET', path: '/readyz' });
          return ready.kind === 'ok' && ready.status === 200;
        },
        { timeoutMs: 30_000, what: `${api.name} to be ready` },
      );
    }
    await sleep(HOLD_MAX_AGE_MS + 2 * SWEEP_INTERVAL_MS);

    // The drain: fresh buyers buy one unit at a time until every product is sold out.
    const drainers = await shop.createBuyers(40);
    for (const b of drainers) everyone.set(b.id, b);
    for (const product of products) {
      for (let i = 0, soldOut = 0; soldOut < 2; i += 1) {
        const buyer = drainers[i % drainers.length]!;
        const op = await crowd.order(buyer, [{ product_id: product.id, quantity: 1 }], {
          kind: 'drain',
        });
        soldOut = op?.code === 'insufficient_stock' ? soldOut + 1 : 0;
        if (i > 5000) throw new Error(`product ${product.id} does not sell out`);
      }
    }
    await sleep(1000);

    const checker = new Checker(shop, history, products);
    await checker.stock();
    await checker.acknowledged();
    await checker.keys();
    await checker.caps();
    const resent = await checker.resend(everyone);
    checker.answers(shop.apis);
    const recovery = checker.recovery(RECOVERY_BOUND_MS);

    const file = join(tmpdir(), `stampede-faults-${seed}${onCluster ? '-cluster' : ''}.json`);
    await writeFile(
      file,
      JSON.stringify({ seed, faults: history.faults, operations: history.operations }),
    );
    const ops = history.operations;
    log(
      `${ops.length} requests (${ops.filter((o) => o.outcome === 'unknown').length} unknown, ` +
        `${ops.filter((o) => o.status === 503).length} 503), ${ops.filter((o) => o.status === 201).length} orders made, ` +
        `${resent} keys re-sent`,
    );
    log(
      `first decided answer after each fault (ms): ${recovery
        .map((r) => `${r.fault} ${r.firstGoodAnswerMs}`)
        .join(', ')}`,
    );
    log(`history in ${file}; ${Math.round((Date.now() - started) / 1000)} s in all`);
    if (checker.violations.length === 0) {
      log('every check holds');
      return 0;
    }
    for (const violation of checker.violations)
      log(`VIOLATION ${violation.check}: ${violation.detail}`);
    return 1;
  } finally {
    await shop.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[faults seed ${seed}] the run failed: ${String(error)}\n`);
    process.exit(2);
  },
);
