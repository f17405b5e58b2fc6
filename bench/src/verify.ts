import { Redis } from 'ioredis';
import pg from 'pg';
import type { LoadClient } from './load.ts';
import type { BenchRedisCluster } from './redis-cluster.ts';
import { REDIS_URL } from './servers.ts';

/**
 * The correctness verdict of one mode, read from the database after the run: the shop sold
 * exactly what it had, made one order per key, kept its ledger, lost no 201, and its gate agrees
 * with the database once synced. Every failed check is a violation, with numbers.
 */

export interface ProductUnderTest {
  readonly id: number;
  readonly label: string;
  readonly initial: number;
  readonly maxPerUser: number | null;
  /** Order attempts the client sent for it: more than `initial` means it must sell out. */
  readonly attempts: number;
  /** Its `stock_buckets` (the gate's counter is the sum of theirs). */
  readonly buckets?: number;
}

export interface SeenOrder {
  readonly userId: number;
  readonly key: string;
  readonly productId: number;
}

export interface Verdict {
  readonly correct: boolean;
  readonly violations: string[];
  readonly checks: string[];
  readonly products: Record<string, Record<string, number | null>>;
  readonly orders_in_db: number;
  readonly orders_seen_201: number;
  readonly sync: { synced: number; drift: number } | null;
}

export async function verifyRun(input: {
  databaseUrl: string;
  products: readonly ProductUnderTest[];
  seen: ReadonlyMap<number, SeenOrder>;
  /** Order attempts with no HTTP answer (timeouts, resets): they may or may not have landed. */
  unanswered: number;
  /** 5xx answers other than 503 stock_unavailable. */
  serverErrors: number;
  client: LoadClient;
  adminToken: string;
  redisPrefix: string | undefined;
  /** Set in the cluster modes: the gate is read from it instead of REDIS_URL. */
  redisCluster?: BenchRedisCluster | undefined;
  gateOn: boolean;
}): Promise<Verdict> {
  const violations: string[] = [];
  const checks: string[] = [];
  const products: Verdict['products'] = {};
  const db = new pg.Client({ connectionString: input.databaseUrl });
  await db.connect();
  let sync: Verdict['sync'] = null;
  let ordersInDb: number;
  try {
    const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

    checks.push('no_server_errors');
    if (input.serverErrors > 0) violations.push(`${input.serverErrors} answers were 5xx errors`);

    for (const product of input.products) {
      const { rows } = await db.query(
        `SELECT
           (SELECT available FROM stock WHERE product_id = $1) AS available,
           (SELECT COALESCE(sum(delta), 0) FROM stock_ledger WHERE product_id = $1) AS ledger_sum,
           (SELECT COALESCE(sum(-delta), 0) FROM stock_ledger
              WHERE product_id = $1 AND cause = 'order') AS ledger_ordered,
           (SELECT COALESCE(sum(oi.quantity), 0) FROM order_items oi
              JOIN orders o ON o.id = oi.order_id
              WHERE oi.product_id = $1 AND o.status IN ('pending_payment', 'paid')) AS live_units,
           (SELECT COALESCE(sum(quantity), 0) FROM order_items WHERE product_id = $1) AS all_units`,
        [product.id],
      );
      const row = rows[0] as Record<string, unknown>;
      const available = num(row.available);
      const ledgerSum = num(row.ledger_sum);
      const ledgerOrdered = num(row.ledger_ordered);
      const live = num(row.live_units) ?? 0;
      const all = num(row.all_units) ?? 0;
      const detail: Record<string, number | null> = {
        initial: product.initial,
        available,
        sold: live,
        ledger_sum: ledgerSum,
        ledger_ordered: ledgerOrdered,
        attempts: product.attempts,
      };
      products[product.label] = detail;
      const name = `${product.label} (product ${product.id})`;
      if (live > product.initial) {
        violations.push(`${name}: oversold, ${live} units sold of ${product.initial}`);
      } else if (product.attempts > product.initial && live < product.initial) {
        violations.push(
          `${name}: undersold, ${live} of ${product.initial} units sold after ${product.attempts} attempts`,
        );
      }
      if (available === null || available < 0) {
        violations.push(`${name}: stock row missing or negative (${available})`);
      }
      if (ledgerSum !== available) {
        violations.push(`${name}: ledger sum ${ledgerSum} != stock.available ${available}`);
      }
      if (available !== null && available + live !== product.initial) {
        violations.push(
          `${name}: initial ${product.initial} != available ${available} + units in live orders ${live}`,
        );
      }
      if (ledgerOrdered !== all) {
        violations.push(`${name}: ledger 'order' deltas ${ledgerOrdered} != units ordered ${all}`);
      }
    }
    checks.push('sold_equals_stock', 'ledger_consistent');

    checks.push('one_order_per_idempotency_key');
    const duplicates = await db.query(
      `SELECT user_id, idempotency_key, count(*)::int AS n FROM orders
       WHERE idempotency_key IS NOT NULL
       GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5`,
    );
    if (duplicates.rowCount) {
      violations.push(
        `orders sharing an idempotency key: ${JSON.stringify(duplicates.rows)} (first 5)`,
      );
    }
    const unkeyed = await db.query(
      `SELECT count(*)::int AS n FROM orders WHERE idempotency_key IS NULL`,
    );
    if ((unkeyed.rows[0] as { n: number }).n > 0) {
      violations.push(
        `${(unkeyed.rows[0] as { n: number }).n} orders without the key the client sent`,
      );
    }

    checks.push('orders_well_formed');
    const empty = await db.query(
      `SELECT count(*)::int AS n FROM orders o
       WHERE NOT EXISTS (SELECT 1 FROM order_items oi WHERE oi.order_id = o.id)`,
    );
    if ((empty.rows[0] as { n: number }).n > 0) {
      violations.push(`${(empty.rows[0] as { n: number }).n} orders have no items`);
    }

    checks.push('purchase_limit_respected');
    for (const product of input.products) {
      if (product.maxPerUser === null) continue;
      const over = await db.query(
        `SELECT o.user_id, sum(oi.quantity)::int AS units FROM orders o
         JOIN order_items oi ON oi.order_id = o.id
         WHERE oi.product_id = $1 AND o.status IN ('pending_payment', 'paid')
         GROUP BY o.user_id HAVING sum(oi.quantity) > $2 LIMIT 5`,
        [product.id, product.maxPerUser],
      );
      if (over.rowCount) {
        violations.push(
          `${product.label}: buyers over max_per_user ${product.maxPerUser}: ${JSON.stringify(over.rows)}`,
        );
      }
    }

    checks.push('every_201_is_an_order');
    const orders = await db.query<{
      id: number;
      user_id: number;
      idempotency_key: string | null;
      product_id: number;
    }>(
      `SELECT o.id, o.user_id, o.idempotency_key, oi.product_id FROM orders o
       JOIN order_items oi ON oi.order_id = o.id`,
    );
    const inDb = new Map(orders.rows.map((row) => [row.id, row]));
    ordersInDb = inDb.size;
    let missing = 0;
    let mismatched = 0;
    for (const [orderId, seen] of input.seen) {
      const row = inDb.get(orderId);
      if (!row) missing += 1;
      else if (
        row.user_id !== seen.userId ||
        row.idempotency_key !== seen.key ||
        row.product_id !== seen.productId
      )
        mismatched += 1;
    }
    if (missing > 0) violations.push(`${missing} orders answered 201 are not in the database`);
    if (mismatched > 0) {
      violations.push(
        `${mismatched} orders answered 201 differ in the database (user/key/product)`,
      );
    }
    const unseen = [...inDb.keys()].filter((id) => !input.seen.has(id)).length;
    if (unseen > input.unanswered) {
      violations.push(
        `${unseen} orders in the database were never answered 201 (only ${input.unanswered} attempts went unanswered)`,
      );
    }

    checks.push('gate_equals_database_after_sync');
    const ids = input.products.map((p) => p.id);
    const synced = await input.client.call('POST', '/api/admin/stock/sync', {
      token: input.adminToken,
      json: { product_ids: ids },
    });
    if (synced.status !== 200) {
      violations.push(`stock sync answered ${synced.status}: ${JSON.stringify(synced.body)}`);
    } else {
      sync = synced.body as { synced: number; drift: number };
    }
    const redis =
      input.redisPrefix && !input.redisCluster
        ? new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 })
        : undefined;
    await redis?.connect();
    try {
      for (const product of input.products) {
        const dbAvailable = products[product.label]!.available;
        const shown = await input.client.call('GET', `/api/products/${product.id}/stock`);
        const apiAvailable = (shown.body as { available?: number }).available;
        products[product.label]!.api_available = apiAvailable ?? null;
        if (apiAvailable !== dbAvailable) {
          violations.push(
            `${product.label}: GET stock says ${apiAvailable} after sync, database ${dbAvailable}`,
          );
        }
        if (input.redisCluster && input.redisPrefix && input.gateOn) {
          const [counter, holds, masters] = await clusterGate(
            input.redisCluster,
            input.redisPrefix,
            product.id,
          );
          products[product.label]!.gate = counter;
          products[product.label]!.gate_holds = holds;
          products[product.label]!.gate_masters = masters;
          if (counter !== dbAvailable) {
            violations.push(
              `${product.label}: Redis Cluster gate ${counter} (sum of ${product.buckets ?? 1} bucket(s)) after sync, database ${dbAvailable}`,
            );
          }
          if (holds > 0)
            violations.push(`${product.label}: ${holds} gate holds left after the run`);
        } else if (redis && input.gateOn) {
          const tag = `${input.redisPrefix}{p:${product.id}}`;
          const [counter, holds] = await Promise.all([
            redis.get(`${tag}:stock`),
            redis.hlen(`${tag}:holds`),
          ]);
          products[product.label]!.gate = num(counter);
          products[product.label]!.gate_holds = holds;
          if (num(counter) !== dbAvailable) {
            violations.push(
              `${product.label}: Redis gate ${counter} after sync, database ${dbAvailable}`,
            );
          }
          if (holds > 0)
            violations.push(`${product.label}: ${holds} gate holds left after the run`);
        }
      }
    } finally {
      redis?.disconnect();
    }
  } finally {
    await db.end();
  }
  return {
    correct: violations.length === 0,
    violations,
    checks,
    products,
    orders_in_db: ordersInDb,
    orders_seen_201: input.seen.size,
    sync,
  };
}

/**
 * A product's gate on the cluster: the sum of its bucket counters (bucket 0 is `{p:<id>}:stock`,
 * bucket b of k `{p:<id>:b/k:n}:stock`) and of every holds table it has, read from whichever
 * master holds each key (found by SCAN, so the check does not depend on how the API hashes);
 * and on how many masters its counters lie.
 */
async function clusterGate(
  cluster: BenchRedisCluster,
  prefix: string,
  productId: number,
): Promise<[number | null, number, number]> {
  const base = `${prefix}{p:${productId}}`;
  const split = `${prefix}{p:${productId}:*}`;
  const found = [...(await cluster.keys(`${base}:*`)), ...(await cluster.keys(`${split}:*`))];
  let counter: number | null = null;
  let holds = 0;
  const masters = new Set<number>();
  const byPort = new Map<number, ReturnType<BenchRedisCluster['client']>>();
  try {
    for (const { port, key } of found) {
      let client = byPort.get(port);
      if (!client) {
        client = cluster.client(port);
        byPort.set(port, client);
      }
      if (key.endsWith(':stock')) {
        masters.add(port);
        counter = (counter ?? 0) + Number(await client.get(key));
      } else if (/:holds(:split)?$/.test(key) && (await client.type(key)) === 'hash') {
        holds += await client.hlen(key);
      }
    }
  } finally {
    for (const client of byPort.values()) client.disconnect();
  }
  return [counter, holds, masters.size];
}
