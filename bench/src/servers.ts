import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { childrenOf, memoryOf } from './proc.ts';
import { BenchRedisCluster } from './redis-cluster.ts';

/** The ways of running the server under test. */
export type ModeName =
  | 'baseline'
  | 'redis'
  | 'redis-quiet'
  | 'db-only'
  | 'embedded'
  | 'redis-2proc'
  | 'cluster'
  | 'cluster-2proc'
  | 'cluster-buckets';

export interface ModeSpec {
  readonly name: ModeName;
  readonly description: string;
  readonly kind: 'baseline' | 'api';
  readonly database: 'none' | 'external' | 'embedded';
  readonly redis: boolean;
  /** Redis is a 3-master Redis Cluster the mode starts for itself (REDIS_CLUSTER_NODES). */
  readonly cluster?: boolean;
  /** `stock_buckets` of the hot product (default 1). */
  readonly stockBuckets?: number;
  readonly gate: boolean;
  readonly workers: number;
  readonly metrics: boolean;
  readonly requestLog: boolean;
}

export const MODES: readonly ModeSpec[] = [
  {
    name: 'baseline',
    description: 'bare Fastify route answering constant JSON (the HTTP ceiling of this machine)',
    kind: 'baseline',
    database: 'none',
    redis: false,
    gate: false,
    workers: 1,
    metrics: false,
    requestLog: false,
  },
  {
    name: 'redis',
    description: 'PostgreSQL + Redis gate, metrics and request log on (production shape)',
    kind: 'api',
    database: 'external',
    redis: true,
    gate: true,
    workers: 1,
    metrics: true,
    requestLog: true,
  },
  {
    name: 'redis-quiet',
    description: 'as redis, with METRICS=false and REQUEST_LOG=false (cost of observability)',
    kind: 'api',
    database: 'external',
    redis: true,
    gate: true,
    workers: 1,
    metrics: false,
    requestLog: false,
  },
  {
    name: 'db-only',
    description: 'PostgreSQL only, STOCK_GATE=off: every attempt is a transaction (reference)',
    kind: 'api',
    database: 'external',
    redis: true,
    gate: false,
    workers: 1,
    metrics: true,
    requestLog: true,
  },
  {
    name: 'embedded',
    description: 'zero-setup default: embedded PostgreSQL, in-process gate',
    kind: 'api',
    database: 'embedded',
    redis: false,
    gate: true,
    workers: 1,
    metrics: true,
    requestLog: true,
  },
  {
    name: 'redis-2proc',
    description: 'two API worker processes (WORKERS=2) sharing PostgreSQL and Redis',
    kind: 'api',
    database: 'external',
    redis: true,
    gate: true,
    workers: 2,
    metrics: true,
    requestLog: true,
  },
  {
    name: 'cluster',
    description: 'one API process on a 3-master Redis Cluster (3 replicas) and PostgreSQL',
    kind: 'api',
    database: 'external',
    redis: true,
    cluster: true,
    gate: true,
    workers: 1,
    metrics: true,
    requestLog: true,
  },
  {
    name: 'cluster-2proc',
    description: 'two API worker processes (WORKERS=2) on the 3-master Redis Cluster',
    kind: 'api',
    database: 'external',
    redis: true,
    cluster: true,
    gate: true,
    workers: 2,
    metrics: true,
    requestLog: true,
  },
  {
    name: 'cluster-buckets',
    description: 'as cluster, the hot product split over stock_buckets = 3 (one per master)',
    kind: 'api',
    database: 'external',
    redis: true,
    cluster: true,
    stockBuckets: 3,
    gate: true,
    workers: 1,
    metrics: true,
    requestLog: true,
  },
];

/** Servers started and not yet stopped, so an interrupted run can still clean up. */
const running = new Set<RunningServer>();

export async function stopAllServers(): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()));
}

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

export interface ServerOptions {
  readonly repoRoot: string;
  readonly runDir: string;
  readonly runId: string;
  readonly rateLimitMs: number;
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** A label for files and databases; defaults to the mode name. */
  readonly label?: string;
}

export interface RunningServer {
  readonly spec: ModeSpec;
  readonly origin: string;
  readonly pid: number;
  readonly logFile: string;
  /** Where the benchmark reaches the database (set for API modes). */
  readonly databaseUrl: string | undefined;
  readonly redisPrefix: string | undefined;
  /** The mode's own Redis Cluster (cluster modes). */
  readonly redisCluster: BenchRedisCluster | undefined;
  readonly jwtSecret: string;
  readonly admin: { readonly email: string; readonly password: string };
  readonly startupMs: number;
  /** API processes: the server itself, or the workers of a cluster. */
  apiPids(): number[];
  /** Peak RSS (VmHWM) per API process so far, MB. */
  peakRss(): Record<string, number>;
  stop(): Promise<{ exitCode: number | null }>;
}

/** Any environment variable the API reads is set by us alone. */
const API_VARIABLES = new Set([
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_CLUSTER_PASSWORD',
  'REDIS_KEY_PREFIX',
  'DATA_DIR',
  'JWT_SECRET',
  'JWT_TTL_S',
  'ADMIN_EMAIL',
  'ADMIN_PASSWORD',
  'ORDER_RATE_LIMIT_MS',
  'ORDER_PAYMENT_TTL_S',
  'LOG_LEVEL',
  'REQUEST_LOG',
  'METRICS',
  'STOCK_GATE',
  'STOCK_SYNC_INTERVAL_MS',
  'STOCK_HOLD_MAX_AGE_MS',
  'EXPIRY_SWEEP_INTERVAL_MS',
  'SEED_DEMO',
  'WORKERS',
  'WEB_DIST_DIR',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'METRICS_PORT',
  'METRICS_HOST',
  'METRICS_TOKEN',
  'API_DOCS',
  'REQUEST_TIMEOUT_MS',
  'HEADERS_TIMEOUT_MS',
  'KEEP_ALIVE_TIMEOUT_MS',
  'PASSWORD_HASH_CONCURRENCY',
  'PASSWORD_HASH_QUEUE',
  'TLS_IN_FRONT',
  'IMAGE_ORIGINS',
  'WEB_SOURCE_MAPS',
]);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        address && typeof address === 'object'
          ? resolve(address.port)
          : reject(new Error('no free port')),
      );
    });
  });
}

export async function withPgAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Remove every Redis key under a prefix (the keys of one mode's run). */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(
  origin: string,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(`server exited (code ${exited}) before it was ready:\n${tail(logFile)}`);
    }
    try {
      const response = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`server not ready after ${timeoutMs} ms:\n${tail(logFile)}`);
}

/**
 * Start one mode's server on a fresh database (created here for external PostgreSQL, a fresh
 * data directory for the embedded one) and a fresh Redis key prefix. `stop()` undoes it all.
 */
export async function startServer(spec: ModeSpec, options: ServerOptions): Promise<RunningServer> {
  const label = options.label ?? spec.name;
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const logFile = join(options.runDir, `${label}.log`);
  const jwtSecret = randomBytes(36).toString('base64url'); // 48 characters
  const admin = {
    email: `bench-admin-${options.runId}@bench.local`,
    password: randomBytes(12).toString('base64url'),
  };
  const suffix = `${options.runId}_${label.replace(/[^a-z0-9]/g, '_')}`;
  const dbName = `bench_${suffix}`;
  const redisPrefix = spec.redis ? `bench${suffix.replace(/_/g, '')}:` : undefined;
  let databaseUrl: string | undefined;
  let dataDir: string | undefined;
  let redisCluster: BenchRedisCluster | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !API_VARIABLES.has(key)) env[key] = value;
  }
  Object.assign(env, { PORT: String(port), HOST: '127.0.0.1' });

  let entry: string[];
  if (spec.kind === 'baseline') {
    entry = ['--import', 'tsx', 'bench/src/baseline-server.ts'];
  } else {
    // The API as `npm start` runs it: the bundle (built by the bench script first).
    entry = ['--enable-source-maps', 'apps/api/dist/server.js'];
    Object.assign(env, {
      LOG_LEVEL: 'info',
      REQUEST_LOG: String(spec.requestLog),
      METRICS: String(spec.metrics),
      JWT_SECRET: jwtSecret,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      SEED_DEMO: 'false',
      ORDER_RATE_LIMIT_MS: String(options.rateLimitMs),
      STOCK_GATE: spec.gate ? 'on' : 'off',
      WORKERS: String(spec.workers),
    });
    if (spec.database === 'external') {
      await withPgAdmin((client) => client.query(`CREATE DATABASE ${dbName}`));
      cleanups.push(() =>
        withPgAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)),
      );
      databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
      env.DATABASE_URL = databaseUrl;
    } else {
      dataDir = mkdtempSync(join(tmpdir(), `stampede-bench-${label}-`));
      // As root the embedded server runs as `postgres`, which must be able to enter the dir.
      chmodSync(dataDir, 0o755);
      const dir = dataDir;
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      env.DATA_DIR = dataDir;
    }
    if (spec.redis && spec.cluster) {
      const started = await BenchRedisCluster.start(
        join(options.runDir, `${label}-redis-cluster`),
      ).catch(async (error: unknown) => {
        for (const step of cleanups.reverse()) await step().catch(() => undefined);
        throw error;
      });
      redisCluster = started;
      cleanups.push(() => started.stop());
      env.REDIS_CLUSTER_NODES = started.seedList;
      env.REDIS_KEY_PREFIX = redisPrefix!;
    } else if (spec.redis) {
      env.REDIS_URL = REDIS_URL;
      env.REDIS_KEY_PREFIX = redisPrefix!;
      const prefix = redisPrefix!;
      cleanups.push(() => deleteRedisPrefix(prefix));
    }
  }

  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) =>
        process.stderr.write(`\ncleanup of ${label} failed: ${String(error)}\n`),
      );
    }
  };

  const fd = openSync(logFile, 'w');
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
    cwd: options.repoRoot,
    env,
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pid = child.pid!;

  const kill = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const code = await Promise.race([
      exit,
      sleep(25_000, undefined, { ref: false }).then(() => 'timeout' as const),
    ]);
    if (code !== 'timeout') return code;
    try {
      process.kill(-pid, 'SIGKILL'); // our own process group: the server and its children
    } catch {
      // already gone
    }
    return exit;
  };

  try {
    await waitReady(origin, child, logFile, spec.database === 'embedded' ? 120_000 : 60_000);
    if (spec.database === 'embedded') {
      const line = readFileSync(logFile, 'utf8')
        .split('\n')
        .find((l) => l.includes('embedded PostgreSQL is up'));
      const pgPort = line ? (JSON.parse(line) as { port?: number }).port : undefined;
      if (!pgPort) throw new Error('embedded PostgreSQL port not found in the log');
      const password = readFileSync(join(dataDir!, 'pg-password'), 'utf8').trim();
      databaseUrl = `postgres://stampede:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/stampede`;
    }
  } catch (error) {
    await kill();
    await cleanup();
    throw error;
  }
  const startupMs = Math.round(performance.now() - started);

  let workers: number[] = [];
  if (spec.workers > 1) {
    const deadline = Date.now() + 10_000;
    while (workers.length < spec.workers && Date.now() < deadline) {
      workers = childrenOf(pid);
      if (workers.length < spec.workers) await sleep(100);
    }
  }
  const apiPids = () => (spec.workers > 1 ? workers : [pid]);
  const peaks = new Map<string, number>();
  const samplePeaks = () => {
    const pids = spec.workers > 1 ? [pid, ...workers] : [pid];
    for (const p of pids) {
      const memory = memoryOf(p);
      if (!memory) continue;
      const key = p === pid ? (spec.workers > 1 ? `primary ${p}` : `api ${p}`) : `worker ${p}`;
      peaks.set(key, Math.max(peaks.get(key) ?? 0, memory.hwmMb));
    }
  };
  const sampler = setInterval(samplePeaks, 250);
  sampler.unref();

  const server: RunningServer = {
    spec,
    origin,
    pid,
    logFile,
    databaseUrl,
    redisPrefix,
    redisCluster,
    jwtSecret,
    admin,
    startupMs,
    apiPids,
    peakRss() {
      samplePeaks();
      return Object.fromEntries([...peaks].map(([k, v]) => [k, Math.round(v * 10) / 10]));
    },
    async stop() {
      running.delete(server);
      samplePeaks();
      clearInterval(sampler);
      const exitCode = await kill();
      await cleanup();
      return { exitCode };
    },
  };
  running.add(server);
  return server;
}
