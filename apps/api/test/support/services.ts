import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { freePort } from '../../src/lib/net.ts';

export { freePort };

/**
 * The real PostgreSQL and Redis the tests talk to: DATABASE_URL / REDIS_URL when set, else the
 * usual local ports; when those do not answer, started here (embedded PostgreSQL, a
 * `redis-server` from PATH on a free port). Never a silent skip: a missing service is one line
 * saying how to get it.
 */
export interface TestServices {
  /** A connection string to a database where the tests may create and drop databases. */
  readonly adminDatabaseUrl: string;
  readonly redisUrl: string;
  stop(): Promise<void>;
}

export async function ensureServices(env = process.env): Promise<TestServices> {
  const stops: (() => Promise<unknown>)[] = [];
  const adminDatabaseUrl = await ensurePostgres(env.DATABASE_URL, stops);
  const redisUrl = await ensureRedis(env.REDIS_URL, stops);
  return {
    adminDatabaseUrl,
    redisUrl,
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    },
  };
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensurePostgres(
  configured: string | undefined,
  stops: (() => Promise<unknown>)[],
): Promise<string> {
  const url = configured ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (await postgresAnswers(url)) return url;
  if (configured) {
    throw new Error(
      `PostgreSQL at DATABASE_URL (${redact(configured)}) does not answer; start it or unset DATABASE_URL`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'stampede-test-pg-'));
  const embedded = await startEmbeddedPostgres({
    dir,
    logger: pino({ level: 'warn' }),
    persistent: false,
    // Test files run side by side, each with a pool of its own.
    maxConnections: 400,
  });
  stops.push(async () => {
    await embedded.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return embedded.url;
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function ensureRedis(
  configured: string | undefined,
  stops: (() => Promise<unknown>)[],
): Promise<string> {
  const url = configured ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) return url;
  if (configured) {
    throw new Error(
      `Redis at REDIS_URL (${redact(configured)}) does not answer; start it or unset REDIS_URL`,
    );
  }
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      'Redis is not running on 127.0.0.1:6379 and redis-server is not on PATH: install it (apt-get install redis-server) or set REDIS_URL',
    );
  }
  const { port, child } = await startRedisServer();
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  return `redis://127.0.0.1:${port}`;
}

/** A throw-away redis-server on a free port, keeping nothing on disk. */
export async function startRedisServer(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    if (await redisAnswers(url)) return { port, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//<credentials>@');
}
