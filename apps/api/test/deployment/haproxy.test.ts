import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { hashPassword } from '../../src/modules/auth/passwords.ts';
import { createTokenService } from '../../src/modules/auth/tokens.ts';
import { ApiProcess } from '../faults/support/api-process.ts';
import { RETRYABLE_CODES } from '../faults/support/history.ts';
import { call, codeOf, type Buyer, type Outcome } from '../faults/support/shop.ts';
import { sleep, waitFor } from '../faults/support/wait.ts';
import { readRepoFile } from '../observability/support/repo.ts';
import { createDatabaseFromTemplate, dropDatabase } from '../support/databases.ts';
import { RealHaproxy } from './support/haproxy.ts';

/**
 * The load-balanced deployment for real, without Docker: HAProxy run from the repository's
 * deploy/haproxy/haproxy.cfg (its DNS line replaced by two servers) in front of two API processes
 * (`src/server.ts`, as two replicas) that share one PostgreSQL database and the test Redis
 * Cluster, each started with the settings the compose file gives every replica (TRUST_PROXY,
 * KEEP_ALIVE_TIMEOUT_MS). Every request of these tests goes through HAProxy.
 */
const compose = parse(readRepoFile('docker-compose.cluster.yml'), { merge: true }) as {
  services: { api: { environment: Record<string, string> } };
};
const replicaEnv = compose.services.api.environment;
const ADMIN = { email: 'ops@deploy.test', password: 'deployment-suite-operator' };
const HOLD_MAX_AGE_MS = 3000;

describe('HAProxy in front of two API processes on a Redis Cluster', () => {
  const runId = inject('runId');
  const adminUrl = inject('adminDatabaseUrl');
  const database = `stampede_test_${runId}_${process.pid}_deploy`;
  let databaseUrl: string;
  let dataDir: string;
  let a: ApiProcess;
  let b: ApiProcess;
  let haproxy: RealHaproxy;
  let adminToken: string;
  let issue: (userId: number) => string;

  beforeAll(async () => {
    databaseUrl = await createDatabaseFromTemplate(adminUrl, inject('templateDatabase'), database);
    dataDir = await mkdtemp(join(tmpdir(), 'stampede-deploy-'));
    const secret = randomBytes(32).toString('hex');
    const env = {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '6',
      REDIS_CLUSTER_NODES: inject('redisClusterNodes'),
      REDIS_KEY_PREFIX: `t${runId}:${process.pid}:deploy:`,
      JWT_SECRET: secret,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SEED_DEMO: 'false',
      DATA_DIR: dataDir,
      ORDER_RATE_LIMIT_MS: '0',
      STOCK_HOLD_MAX_AGE_MS: String(HOLD_MAX_AGE_MS),
      STOCK_SYNC_INTERVAL_MS: '500',
      REQUEST_LOG: 'true',
      // As every compose replica runs.
      TRUST_PROXY: replicaEnv.TRUST_PROXY!,
      KEEP_ALIVE_TIMEOUT_MS: replicaEnv.KEEP_ALIVE_TIMEOUT_MS!,
    };
    // One at a time: the first migrates, the second finds the database ready.
    a = await ApiProcess.start('A', env);
    b = await ApiProcess.start('B', env);
    haproxy = await RealHaproxy.start([
      { name: 'api1', address: `127.0.0.1:${a.port}` },
      { name: 'api2', address: `127.0.0.1:${b.port}` },
    ]);
    const config = loadConfig(env);
    const tokens = createTokenService({
      secret,
      ttlSeconds: config.jwtTtlSeconds,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
    });
    issue = (userId) => tokens.issue({ userId, role: 'customer' });
    const login = await call(haproxy.url, { method: 'POST', path: '/api/auth/login', body: ADMIN });
    if (login.kind !== 'ok' || login.status !== 200) throw new Error('operator cannot sign in');
    adminToken = String(login.body!.access_token);
  }, 180_000);

  afterAll(async () => {
    await haproxy?.stop();
    await a?.kill('SIGTERM');
    await b?.kill('SIGTERM');
    await dropDatabase(adminUrl, database);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async function createProduct(units: number): Promise<number> {
    const created = await call(haproxy.url, {
      method: 'POST',
      path: '/api/admin/products',
      token: adminToken,
      body: {
        sku: `D-${randomUUID().slice(0, 8)}`,
        name: 'Deployment suite product',
        price_cents: 500,
        stock: units,
        sale: {
          starts_at: new Date(Date.now() - 60_000).toISOString(),
          ends_at: null,
          max_per_user: 1,
        },
      },
    });
    if (created.kind !== 'ok' || created.status !== 201) {
      throw new Error(`cannot create a product: ${JSON.stringify(created)}`);
    }
    return Number(created.body!.id);
  }

  async function createBuyers(count: number): Promise<Buyer[]> {
    const hash = await hashPassword('deployment suite shopper');
    const rows = await query<{ id: number }>(
      `INSERT INTO users (email, name, password_hash, role)
       SELECT 'buyer-' || gen_random_uuid() || '@deploy.test', 'Buyer', $1, 'customer'
       FROM generate_series(1, $2) RETURNING id`,
      [hash, count],
    );
    return rows.map(({ id }) => ({ id, token: issue(id) }));
  }

  /** Every request a buyer's client sent, as it saw it. */
  interface Sent {
    readonly startedAt: number;
    readonly outcome: Outcome;
  }

  /**
   * One unit, one Idempotency-Key, re-sent through HAProxy while the answer says "try again"
   * (no answer, 5xx, a retryable refusal): a careful client. Returns the deciding answer.
   */
  async function buyOne(buyer: Buyer, productId: number, sent: Sent[]): Promise<Outcome> {
    const key = randomUUID();
    for (let attempt = 0; ; attempt += 1) {
      const startedAt = Date.now();
      const outcome = await call(haproxy.url, {
        method: 'POST',
        path: '/api/orders',
        token: buyer.token,
        body: { items: [{ product_id: productId, quantity: 1 }] },
        idempotencyKey: key,
        timeoutMs: 8000,
      });
      sent.push({ startedAt, outcome });
      const retry =
        outcome.kind !== 'ok' ||
        outcome.status >= 500 ||
        RETRYABLE_CODES.has(codeOf(outcome) ?? '');
      if (!retry) return outcome;
      if (attempt > 200) throw new Error(`buyer ${buyer.id}: no decided answer`);
      await sleep(100);
    }
  }

  /** `buyers` buy one unit each, `workers` at a time, pausing `pauseMs` between buyers. */
  async function crowd(
    buyers: Buyer[],
    productId: number,
    options: { workers: number; pauseMs?: number; sent: Sent[] },
  ): Promise<Outcome[]> {
    const decided: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.workers }, async () => {
        while (next < buyers.length) {
          const buyer = buyers[(next += 1) - 1]!;
          decided.push(await buyOne(buyer, productId, options.sent));
          if (options.pauseMs) await sleep(options.pauseMs);
        }
      }),
    );
    return decided;
  }

  /** Units sold in the database, what is left, the ledger, and the orders made. */
  async function inDatabase(productId: number) {
    const [row] = await query<{ available: number; sold: number; ledger: number }>(
      `SELECT s.available,
         (SELECT COALESCE(SUM(oi.quantity), 0)::int FROM order_items oi JOIN orders o ON o.id = oi.order_id
           WHERE oi.product_id = s.product_id AND o.status IN ('pending_payment', 'paid')) AS sold,
         (SELECT COALESCE(SUM(delta), 0)::int FROM stock_ledger l WHERE l.product_id = s.product_id) AS ledger
       FROM stock s WHERE s.product_id = $1`,
      [productId],
    );
    const orders = await query<{ id: number }>(
      'SELECT DISTINCT order_id AS id FROM order_items WHERE product_id = $1',
      [productId],
    );
    return { ...row!, orderIds: new Set(orders.map((o) => Number(o.id))) };
  }

  const createdIds = (outcomes: Outcome[]) =>
    outcomes.flatMap((o) => (o.kind === 'ok' && o.status === 201 ? [Number(o.body!.id)] : []));

  /** Order attempts each process answered (its request log). */
  const ordersAnswered = (api: ApiProcess) =>
    api.logs.filter(
      (line) =>
        line.msg === 'request answered' && line.method === 'POST' && line.url === '/api/orders',
    ).length;

  it('a crowd racing one sale through HAProxy buys exactly the stock, served by both processes', async () => {
    const units = 30;
    const product = await createProduct(units);
    const buyers = await createBuyers(60);
    const before = { a: ordersAnswered(a), b: ordersAnswered(b) };
    const sent: Sent[] = [];
    const decided = await crowd(buyers, product, { workers: 20, sent });

    const ids = createdIds(decided);
    expect(ids).toHaveLength(units);
    expect(new Set(ids).size).toBe(units);
    expect(decided.filter((o) => codeOf(o) === 'insufficient_stock')).toHaveLength(
      buyers.length - units,
    );
    expect(sent.filter((s) => s.outcome.kind !== 'ok' || s.outcome.status >= 500)).toEqual([]);
    const stored = await inDatabase(product);
    expect(stored).toMatchObject({ available: 0, sold: units, ledger: 0 });
    expect([...stored.orderIds].sort()).toEqual([...ids].sort());

    // Both replicas took part: their own logs, and HAProxy's count per server.
    expect(ordersAnswered(a) - before.a).toBeGreaterThan(5);
    expect(ordersAnswered(b) - before.b).toBeGreaterThan(5);
    const servers = await haproxy.servers();
    expect(servers.map((s) => s.name).sort()).toEqual(['api1', 'api2']);
    for (const server of servers) expect(server.responses['2xx']).toBeGreaterThan(5);
  }, 60_000);

  /** A sign-in through HAProxy from a local address of the client's choosing. */
  function signIn(
    localAddress: string,
    email: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; retryAfter: string | undefined }> {
    const body = JSON.stringify({ email, password: 'not the password 1' });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: haproxy.port,
          localAddress,
          method: 'POST',
          path: '/api/auth/login',
          headers: { 'content-type': 'application/json', ...headers },
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              retryAfter: res.headers['retry-after'] as string | undefined,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('the sign-in limit counts the client HAProxy saw (X-Forwarded-For), not HAProxy, and a forged header buys nothing', async () => {
    const email = `someone-${randomUUID()}@deploy.test`;
    // Client 127.0.0.2 uses up the free attempts of (account, address) and is slowed...
    for (let i = 0; i < 5; i += 1) expect((await signIn('127.0.0.2', email)).status).toBe(401);
    const slowed = await signIn('127.0.0.2', email);
    expect(slowed.status).toBe(429);
    expect(Number(slowed.retryAfter)).toBeGreaterThan(0);
    // ... and stays slowed when it claims to be someone else: HAProxy appends the address it
    // saw, and the API trusts that one hop only.
    expect((await signIn('127.0.0.2', email, { 'x-forwarded-for': '198.51.100.23' })).status).toBe(
      429,
    );
    // Another client, through the same HAProxy, is not: it is counted as itself.
    expect((await signIn('127.0.0.3', email)).status).toBe(401);
    expect((await signIn('127.0.0.3', email)).status).toBe(401);
  }, 60_000);

  /** The live stream read through `proxy` for `ms`: when each tick came, and whether it ended. */
  async function watchStream(proxy: RealHaproxy, ms: number) {
    const controller = new AbortController();
    const response = await fetch(`${proxy.url}/api/admin/live/stream`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const ticks: number[] = [];
    let text = '';
    let ended = false;
    const started = Date.now();
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          ended = true;
          return;
        }
        text += decoder.decode(value, { stream: true });
        const found = text.split('event: tick').length - 1;
        while (ticks.length < found) ticks.push(Date.now() - started);
      }
    })().catch(() => undefined);
    await sleep(ms);
    controller.abort();
    await reading;
    return { snapshot: text.includes('event: snapshot'), ticks, ended };
  }

  it("the console's live stream passes through HAProxy as it happens and is not cut by its timeouts", async () => {
    // The file as it is, and a copy whose inactivity timeouts are 2 s: the stream outlives them
    // both (6.5 s, past the request and keep-alive timeouts too), kept alive by its events.
    const short = await RealHaproxy.start(
      [
        { name: 'api1', address: `127.0.0.1:${a.port}` },
        { name: 'api2', address: `127.0.0.1:${b.port}` },
      ],
      { server: '2s', client: '2s' },
    );
    try {
      const watched = await Promise.all([watchStream(haproxy, 6500), watchStream(short, 6500)]);
      for (const { snapshot, ticks, ended } of watched) {
        expect(snapshot).toBe(true);
        expect(ended).toBe(false);
        // A tick every second, passed on as it is sent, not buffered: early, and still at the end.
        expect(ticks.length).toBeGreaterThanOrEqual(4);
        expect(ticks.some((t) => t < 2500)).toBe(true);
        expect(ticks.some((t) => t > 5500)).toBe(true);
      }
    } finally {
      await short.stop();
    }
  }, 30_000);

  it('kill -9 of one process mid-sale: HAProxy marks it down, the other answers everything after, and the orders are exactly the stock', async () => {
    const units = 40;
    const product = await createProduct(units);
    const buyers = await createBuyers(100);
    const sent: Sent[] = [];
    // Browsing goes on all the while: every answer recorded with when it was asked.
    const browsing: Sent[] = [];
    let browse = true;
    const browser = (async () => {
      while (browse) {
        const startedAt = Date.now();
        const outcome = await call(haproxy.url, {
          method: 'GET',
          path: `/api/products/${product}/stock`,
          timeoutMs: 5000,
        });
        browsing.push({ startedAt, outcome });
        await sleep(20);
      }
    })();
    const buying = crowd(buyers, product, { workers: 4, pauseMs: 100, sent });

    await waitFor(() => createdIds(sent.map((s) => s.outcome)).length >= 8, {
      timeoutMs: 20_000,
      what: 'the sale to be under way',
    });
    expect(ordersAnswered(b)).toBeGreaterThan(0);
    const killedAt = Date.now();
    await b.kill('SIGKILL');
    await waitFor(
      async () => (await haproxy.servers()).find((s) => s.name === 'api2')?.status === 'DOWN',
      { timeoutMs: 10_000, what: 'HAProxy to mark the killed process down', everyMs: 100 },
    );
    const downAt = Date.now();
    // Two failed checks a second apart (inter 1s, fall 2), and the check's own timeout.
    expect(downAt - killedAt).toBeLessThan(5000);

    // After the mark: a burst of fresh buyers for a second sale, all through HAProxy.
    const second = await createProduct(15);
    const secondBuyers = await createBuyers(30);
    const aBeforeAt = Date.now();
    const aBefore = ordersAnswered(a);
    const secondDecided = await crowd(secondBuyers, second, { workers: 10, sent });
    const decided = await buying;
    await sleep(1000);
    browse = false;
    await browser;

    const failed = (s: Sent) => s.outcome.kind !== 'ok' || s.outcome.status >= 500;
    const after = [...sent, ...browsing].filter((s) => s.startedAt > downAt);
    expect(after.length).toBeGreaterThan(60);
    expect(after.filter(failed)).toEqual([]);
    // Every order attempt after the mark was answered by the survivor (its own request log).
    expect(ordersAnswered(a) - aBefore).toBeGreaterThanOrEqual(
      sent.filter((s) => s.startedAt >= aBeforeAt && s.outcome.kind === 'ok').length,
    );

    // Exactly the stock, in both sales: every 201 a client saw is in the database, no more.
    for (const [id, stock, outcomes] of [
      [product, units, decided],
      [second, 15, secondDecided],
    ] as const) {
      const ids = createdIds(outcomes);
      expect(new Set(ids).size).toBe(stock);
      const stored = await inDatabase(id);
      expect(stored).toMatchObject({ available: 0, sold: stock, ledger: 0 });
      expect([...stored.orderIds].sort()).toEqual([...new Set(ids)].sort());
    }
    expect(b.unexpectedExits).toEqual([]);
    expect(a.unexpectedExits).toEqual([]);
    expect(a.errors()).toEqual([]);
    const failedDuringKill = [...sent, ...browsing].filter(failed).length;
    console.info(
      `kill -9: marked down after ${downAt - killedAt} ms; ${failedDuringKill} requests failed before the mark (retried by their clients); ${after.length} answered after it, none failed`,
    );
  }, 90_000);
});
