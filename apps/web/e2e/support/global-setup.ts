import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import type { E2eContext } from './context';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '../..');
const repoRoot = resolve(webDir, '../..');

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitForReady(url: string, api: ChildProcess, logs: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (api.exitCode !== null) {
      throw new Error(`The API exited with code ${api.exitCode} before it was ready:\n${logs()}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`The API was not ready after ${timeoutMs} ms (last: ${last}):\n${logs()}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGTERM');
  });
}

export default async function setup(project: TestProject) {
  const started = performance.now();
  const suffix = randomBytes(4).toString('hex');

  // 1. The production build, which the API serves at `/` exactly as in production.
  if (process.env.E2E_SKIP_BUILD !== '1') {
    const buildStarted = performance.now();
    await build({ root: webDir, configFile: resolve(webDir, 'vite.config.ts'), logLevel: 'warn' });
    console.log(`[e2e] web app built in ${elapsed(buildStarted)}`);
  }

  // 2. A database of its own, dropped at the end.
  const databaseName = `stampede_e2e_${suffix}`;
  const maintenance = new pg.Client({ connectionString: DATABASE_URL });
  await maintenance.connect().catch((error: Error) => {
    throw new Error(
      `The end-to-end tests need a PostgreSQL server at DATABASE_URL (${DATABASE_URL}): ${error.message}`,
    );
  });
  await maintenance.query(`CREATE DATABASE "${databaseName}"`);
  await maintenance.end();
  const databaseUrl = new URL(DATABASE_URL);
  databaseUrl.pathname = `/${databaseName}`;

  // 3. The API, on a free port, with a Redis key prefix nobody else uses.
  const port = await freePort();
  const redisPrefix = `e2e${suffix}:`;
  const admin = { email: `admin-${suffix}@stampede.test`, password: `admin-${suffix}-password` };
  const output: string[] = [];
  const api = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/server.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      SEED_DEMO: 'false',
      WEB_DIST_DIR: resolve(webDir, 'dist'),
      // The story shows a product whose image host is allowed but never answers.
      IMAGE_ORIGINS: 'https://images.invalid',
      LOG_LEVEL: 'warn',
      ORDER_RATE_LIMIT_MS: '0',
      // Every shopper of the suite signs up from 127.0.0.1: more than one address may per hour.
      SIGNUP_LIMIT_PER_HOUR: '0',
      WORKERS: '1',
      // A browser or three make little load; a small pool leaves connections for other suites.
      DATABASE_POOL_SIZE: '4',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  api.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  api.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const logs = () => output.join('').slice(-8_000);
  const baseUrl = `http://127.0.0.1:${port}`;

  const teardown = async () => {
    const stopping = performance.now();
    await stopProcess(api);
    const cleanup = new pg.Client({ connectionString: DATABASE_URL });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    await cleanup.end();
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    console.log(
      `[e2e] API stopped, database ${databaseName} dropped, Redis keys removed in ${elapsed(stopping)}`,
    );
  };

  try {
    const apiStarted = performance.now();
    await waitForReady(baseUrl, api, logs, 60_000);
    console.log(
      `[e2e] API ready at ${baseUrl} in ${elapsed(apiStarted)} (setup total ${elapsed(started)})`,
    );
  } catch (error) {
    await teardown();
    throw error;
  }

  const screenshotDir = resolve(repoRoot, 'docs/screenshots');
  mkdirSync(screenshotDir, { recursive: true });
  const context: E2eContext = {
    baseUrl,
    adminEmail: admin.email,
    adminPassword: admin.password,
    screenshotDir,
  };
  project.provide('e2e', context);

  return async () => {
    if (api.exitCode !== null)
      console.error(`[e2e] the API had exited (${api.exitCode}):\n${logs()}`);
    else if (/"level":(50|60)/.test(output.join(''))) console.error(`[e2e] API errors:\n${logs()}`);
    await teardown();
  };
}
