import calculateSlot from 'cluster-key-slot';
import type { FaultWindow, History } from './history.ts';
import type { Random } from './random.ts';
import type { FaultShop } from './shop.ts';
import { sleep } from './wait.ts';

/** One fault: inject it, wait, heal it. Resolves once healed, with the process it hit, if one. */
type Fault = (
  shop: FaultShop,
  random: Random,
  productIds: readonly number[],
) => Promise<string | void>;

/**
 * The faults of the suite, one at a time. Each is healed before the next: the checks then ask
 * whether the system came back whole, and how soon it answered again. Those of one Redis node
 * and those of a cluster are run against the shop that has one.
 */
export const FAULTS: Record<string, Fault> = {
  /** kill -9 of one API process in the middle of its requests, then a fresh start. */
  async 'api-killed'(shop, random) {
    const api = random.pick(shop.apis);
    await api.kill('SIGKILL');
    await sleep(random.int(200, 1500));
    await api.restart();
    return api.name;
  },
  /** Redis killed and started again with nothing in it. */
  async 'redis-restarted-empty'(shop, random) {
    await shop.redis.kill();
    await sleep(random.int(100, 1000));
    await shop.redis.restart();
  },
  /** Redis killed and started from a snapshot taken earlier (more stock, older holds and keys). */
  async 'redis-old-snapshot'(shop, random) {
    const snapshot = shop.snapshots.at(0);
    if (!snapshot) return;
    await shop.redis.kill();
    await sleep(random.int(100, 500));
    await shop.redis.restart({ from: snapshot });
  },
  /** Redis stops answering for longer than the API's command timeout (2 s). */
  async 'redis-paused'(shop, random) {
    const ms = random.int(2500, 4000);
    await shop.redis.pause(ms);
    await sleep(ms);
  },
  /** Every process of PostgreSQL stopped (SIGSTOP): connections stay open, nothing answers. */
  async 'postgres-paused'(shop, random) {
    shop.postgres.pause();
    await sleep(random.int(1000, 3000));
    shop.postgres.resume();
  },
  /** pg_terminate_backend of every API connection. */
  async 'backends-terminated'(shop) {
    await shop.postgres.terminateBackends();
  },
  /** PostgreSQL killed (immediate shutdown) and started again: crash recovery. */
  async 'postgres-killed'(shop, random) {
    await shop.postgres.crash();
    await sleep(random.int(200, 1500));
    await shop.postgres.restart();
  },
  /**
   * kill -9 of a cluster master serving one of the sale's products: its replica takes over
   * (node timeout and an election: seconds) with whatever replication had sent it. Healed when
   * every slot has a live master again; the killed node then rejoins as a replica.
   */
  async 'master-killed'(shop, random, productIds) {
    const cluster = shop.cluster!;
    const port = await cluster.masterOf(slotOf(random.pick(productIds)));
    await cluster.kill(port);
    await cluster.waitHealthy(30_000);
    // Back as a replica of the new master, synced: the shard can fail over again.
    await cluster.restart(port);
    await cluster.waitHealthy(30_000);
  },
  /** One master stops answering for longer than the API's command timeout. */
  async 'master-paused'(shop, random, productIds) {
    const cluster = shop.cluster!;
    const port = await cluster.masterOf(slotOf(random.pick(productIds)));
    const ms = random.int(2500, 4000);
    const client = cluster.client(port);
    try {
      await client.call('CLIENT', 'PAUSE', String(ms), 'ALL');
    } finally {
      client.disconnect();
    }
    await sleep(ms);
  },
  /** A product's slot moves to another master, keys and all, while it sells (resharding). */
  async 'slot-moved'(shop, random, productIds) {
    const cluster = shop.cluster!;
    const slot = slotOf(random.pick(productIds));
    const from = await cluster.masterOf(slot);
    const to = random.pick((await cluster.masters()).filter((port) => port !== from));
    await cluster.moveSlot(slot, to);
  },
};

/** Faults for a shop on one Redis node, and for one on a cluster. */
export const SINGLE_NODE_FAULTS = Object.keys(FAULTS).filter(
  (name) => !['master-killed', 'master-paused', 'slot-moved'].includes(name),
);
export const CLUSTER_FAULTS = Object.keys(FAULTS).filter((name) => !name.startsWith('redis-'));

function slotOf(productId: number): number {
  return calculateSlot(`{p:${productId}}`);
}

/** Inject `count` faults drawn from the seed, each followed by a quiet moment. */
export async function runNemesis(options: {
  shop: FaultShop;
  random: Random;
  history: History;
  count: number;
  /** Time between one fault healed and the next injected. */
  gapMs: readonly [number, number];
  names: readonly string[];
  productIds: readonly number[];
}): Promise<void> {
  const { shop, random, history, names } = options;
  // Every fault comes up once, in an order drawn from the seed, before any comes up twice.
  const first = [...names];
  for (let i = first.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [first[i], first[j]] = [first[j]!, first[i]!];
  }
  for (let i = 0; i < options.count; i += 1) {
    await sleep(random.int(...options.gapMs));
    const name = first[i] ?? random.pick(names);
    const window: FaultWindow = { name, startedAt: Date.now(), healedAt: Number.NaN };
    history.faults.push(window);
    const target = await FAULTS[name]!(shop, random, options.productIds);
    if (target) window.target = target;
    window.healedAt = Date.now();
  }
}
