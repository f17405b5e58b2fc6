import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createBuyers, createSaleProduct, loginAdmin, signToken } from './fixtures.ts';
import { LoadClient } from './load.ts';
import { MODES, REDIS_URL, startServer } from './servers.ts';
import { verifyRun, type SeenOrder } from './verify.ts';

/**
 * The verifier must catch what it claims to catch: a sale on a real server (redis mode), then
 * the database is tampered with in the ways a broken shop would be, and each must be reported.
 *
 *   npm run selftest -w @stampede/bench
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const runDir = mkdtempSync(join(tmpdir(), 'stampede-bench-selftest-'));
const runId = randomBytes(3).toString('hex');
let failures = 0;

/**
 * One sale on `modeName`'s server, then each tampering in turn. On the cluster (the hot product
 * over 3 stock buckets) the gate is read from the masters, bucket by bucket.
 */
async function selfTest(modeName: 'redis' | 'cluster-buckets'): Promise<void> {
  const spec = MODES.find((m) => m.name === modeName)!;
  const server = await startServer(spec, {
    repoRoot,
    runDir,
    runId,
    rateLimitMs: 0,
    label: `selftest-${modeName}`,
  });
  console.log(`-- ${modeName}`);
  try {
    const client = new LoadClient({
      origin: server.origin,
      connections: 8,
      pipelining: 1,
      timeoutMs: 10_000,
      maxInFlight: 100,
    });
    const admin = await loginAdmin(client, server.admin);
    const units = 5;
    const productId = await createSaleProduct(client, admin, {
      sku: `SELFTEST-${runId}-${modeName}`,
      name: 'Self-test',
      stock: units,
      maxPerUser: 1,
      ...(spec.stockBuckets !== undefined && { stockBuckets: spec.stockBuckets }),
    });
    const buyers = await createBuyers(server.databaseUrl!, 8, `${runId}${modeName}`);
    const seen = new Map<number, SeenOrder>();
    for (const userId of buyers) {
      await client.call('POST', '/api/orders', {
        token: signToken(server.jwtSecret, userId),
        json: { items: [{ product_id: productId, quantity: 1 }] },
      });
    }
    const db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    // These orders were placed without a key; give them one so that the clean state verifies.
    const { rows } = await db.query<{ id: number; user_id: number }>(
      'SELECT id, user_id FROM orders ORDER BY id',
    );
    for (const row of rows) {
      await db.query('UPDATE orders SET idempotency_key = $1 WHERE id = $2', [
        `k${row.id}`,
        row.id,
      ]);
      seen.set(row.id, { userId: row.user_id, key: `k${row.id}`, productId });
    }
    const verify = () =>
      verifyRun({
        databaseUrl: server.databaseUrl!,
        products: [
          {
            id: productId,
            label: 'hot',
            initial: units,
            maxPerUser: 1,
            attempts: 8,
            buckets: spec.stockBuckets ?? 1,
          },
        ],
        seen,
        unanswered: 0,
        serverErrors: 0,
        client,
        adminToken: admin,
        redisPrefix: server.redisPrefix,
        redisCluster: server.redisCluster,
        gateOn: true,
      });
    const expect = async (what: string, pattern: RegExp | null) => {
      const verdict = await verify();
      const ok =
        pattern === null
          ? verdict.correct
          : !verdict.correct && verdict.violations.some((v) => pattern.test(v));
      if (!ok) failures += 1;
      console.log(
        `${ok ? 'ok  ' : 'FAIL'} ${what}: ${verdict.violations.join(' | ') || 'correct'}`,
      );
    };

    await expect('a clean sale verifies', null);

    await db.query('UPDATE stock SET available = available + 1 WHERE product_id = $1', [productId]);
    await expect('stock changed outside the ledger', /ledger sum/);
    await db.query('UPDATE stock SET available = available - 1 WHERE product_id = $1', [productId]);

    const [first] = rows;
    seen.set(999_999, { userId: first!.user_id, key: 'lost', productId });
    await expect('a 201 whose order is missing', /not in the database/);
    seen.delete(999_999);

    seen.delete(first!.id);
    await expect('an order nobody was answered 201 for', /never answered 201/);
    seen.set(first!.id, { userId: first!.user_id, key: `k${first!.id}`, productId });

    await db.query('UPDATE orders SET status = $1 WHERE id = $2', ['cancelled', first!.id]);
    await expect('a unit neither sold nor back on sale (undersold)', /undersold|initial/);
    await db.query('UPDATE orders SET status = $1 WHERE id = $2', ['pending_payment', first!.id]);

    // A hold that never settles: the sync keeps its unit out of the gate, which then disagrees.
    const rid = randomUUID();
    const hold = `1:${first!.user_id}:${Date.now()}`;
    const cluster = server.redisCluster;
    if (cluster) {
      // Where the API put the buckets is its own affair; the verifier must find them all.
      const verdict = await verify();
      const spread = verdict.products.hot?.gate_masters ?? 0;
      if (spread === 0) failures += 1;
      console.log(
        `${spread > 0 ? 'ok  ' : 'FAIL'} the product's bucket counters found on ${spread} master(s)`,
      );
      // (A counter off by one is no test here: the verifier's sync repairs a counter's drift.)
      const keys = await cluster.keys(`${server.redisPrefix}{p:${productId}:*}:stock`);
      const bucket = keys[0];
      if (!bucket) {
        failures += 1;
        console.log('FAIL no bucket counter found on the cluster');
      } else {
        const node = cluster.client(bucket.port);
        const holds = bucket.key.replace(/:stock$/, ':holds');
        await node.hset(holds, rid, hold);
        await expect('a hold left behind in a bucket', /holds left/);
        await node.hdel(holds, rid);
        node.disconnect();
      }
    } else {
      const redis = new Redis(REDIS_URL);
      const holds = `${server.redisPrefix}{p:${productId}}:holds`;
      await redis.hset(holds, rid, hold);
      await expect('a gate hold left behind', /holds left/);
      await redis.hdel(holds, rid);
      redis.disconnect();
    }

    await expect('clean again', null);
    await db.end();
    await client.close();
  } finally {
    await server.stop();
  }
}

try {
  await selfTest('redis');
  await selfTest('cluster-buckets');
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(`${failures} self-test checks failed`);
  process.exit(1);
}
console.log('verifier self-test passed');
