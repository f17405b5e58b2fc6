/**
 * What a waiting-room status poll costs the server, against a bare route in the same run.
 *
 *   DATABASE_URL=postgres://... REDIS_URL=redis://... npx tsx scripts/measure-queue-poll.ts
 *
 * Starts one API process (src/server.ts) on a database of its own, creates a queued sale and a
 * waiting buyer, then sends the same number of requests to each route in turn (several rounds,
 * interleaved, so drift hits every route alike) and reads the server's own CPU time
 * (`process_cpu_seconds_total` on /metrics) before and after each batch. Prints CPU per answer
 * and answers per second for each route, and the status poll's ratio to `GET /healthz`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { solveChallenge } from 'altcha-lib/v1';
import pg from 'pg';
import { freePort } from '../src/lib/net.ts';

const REQUESTS = Number(process.env.POLL_REQUESTS ?? 4000);
const CONCURRENCY = Number(process.env.POLL_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.POLL_ROUNDS ?? 3);

const adminUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
if (!adminUrl || !redisUrl) {
  process.stderr.write(
    'set DATABASE_URL (a server where a database may be created) and REDIS_URL\n',
  );
  process.exit(2);
}

const dbName = `stampede_poll_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const adminPassword = `poll-${randomBytes(12).toString('hex')}`;
const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  cwd: new URL('..', import.meta.url).pathname,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: url.toString(),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `poll:${Date.now().toString(36)}:`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_EMAIL: 'poll-admin@example.test',
    ADMIN_PASSWORD: adminPassword,
    SEED_DEMO: 'false',
    REQUEST_LOG: 'false',
    LOG_LEVEL: 'warn',
    QUEUE_CHALLENGE_MAXNUMBER: '1000',
  },
});

async function api(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function cpuSeconds(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_cpu_seconds_total'));
  return Number(line!.split(' ')[1]);
}

async function batch(path: string, headers: Record<string, string>) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      next += 1;
      const res = await fetch(`${base}${path}`, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) failed += 1;
    }
  };
  const cpuBefore = await cpuSeconds();
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wall = (performance.now() - started) / 1000;
  const cpu = (await cpuSeconds()) - cpuBefore;
  return { cpu, wall, failed };
}

try {
  for (let i = 0; ; i += 1) {
    if (i > 300) throw new Error('the API did not start');
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  const login = await api('POST', '/api/auth/login', undefined, {
    email: 'poll-admin@example.test',
    password: adminPassword,
  });
  const product = await api('POST', '/api/admin/products', login.access_token, {
    sku: `POLL-${Date.now()}`,
    name: 'Polled product',
    price_cents: 1000,
    stock: 100,
    sale: {
      starts_at: new Date(Date.now() - 60_000).toISOString(),
      ends_at: null,
      max_per_user: null,
    },
  });
  await api('PUT', `/api/admin/products/${product.id}/queue`, login.access_token, {
    enabled: true,
    opens_before_seconds: 600,
    admit_per_minute: 60,
    max_active: null,
    inventory_factor: 1,
    pass_ttl_seconds: 600,
    paused: true,
  });
  const buyer = await api('POST', '/api/auth/register', undefined, {
    email: `poll-buyer-${Date.now()}@example.test`,
    password: 'a long unusual passphrase 42',
    name: 'Poller',
  });
  const challenge = await api('GET', `/api/queues/${product.id}/challenge`, buyer.access_token);
  const solution = await solveChallenge(
    challenge.challenge,
    challenge.salt,
    challenge.algorithm,
    challenge.maxnumber,
  ).promise;
  const altcha = Buffer.from(
    JSON.stringify({ ...challenge, number: solution!.number, maxnumber: undefined }),
  ).toString('base64');
  const joined = await api('POST', `/api/queues/${product.id}/join`, buyer.access_token, {
    altcha,
  });
  const auth = { authorization: `Bearer ${buyer.access_token}` };
  const routes: [string, string, Record<string, string>][] = [
    ['GET /healthz', '/healthz', {}],
    ['GET /api/products/:id/stock', `/api/products/${product.id}/stock`, {}],
    [
      'GET /api/queues/:id/status',
      `/api/queues/${product.id}/status`,
      { ...auth, 'x-queue-ticket': joined.ticket },
    ],
  ];
  // Warm-up: JIT, connections, caches.
  for (const [, path, headers] of routes) await batch(path, headers);
  const totals = new Map<string, { cpu: number; wall: number; failed: number }>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, path, headers] of routes) {
      const result = await batch(path, headers);
      const sum = totals.get(name) ?? { cpu: 0, wall: 0, failed: 0 };
      totals.set(name, {
        cpu: sum.cpu + result.cpu,
        wall: sum.wall + result.wall,
        failed: sum.failed + result.failed,
      });
    }
  }
  const n = REQUESTS * ROUNDS;
  const bare = totals.get('GET /healthz')!;
  console.log(`${n} requests per route, concurrency ${CONCURRENCY}, one API process`);
  for (const [name, t] of totals) {
    console.log(
      `${name.padEnd(30)} ${((t.cpu / n) * 1e6).toFixed(1).padStart(7)} µs CPU/answer  ` +
        `${(n / t.wall).toFixed(0).padStart(6)} answers/s  ` +
        `CPU ×${(t.cpu / bare.cpu).toFixed(2)} of /healthz  failed ${t.failed}`,
    );
  }
} finally {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
