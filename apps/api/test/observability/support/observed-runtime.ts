import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { inject } from 'vitest';
import { buildApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import type { AppContext } from '../../../src/context.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { startRuntime } from '../../../src/runtime.ts';
import { createDatabaseFromTemplate, dropDatabase } from '../../support/databases.ts';

/**
 * A started runtime like `createTestRuntime`'s (own database cloned from the template, own Redis
 * key prefix), with two things the observability tests need on top:
 *
 * - the log lines, captured as parsed JSON from the production logger (`createLogger`, so the
 *   lines have the shape an operator's log pipeline sees);
 * - optionally, Redis reached through a TCP proxy on the loopback that the test can cut, so the
 *   stock cache really stops answering for this runtime only (the Redis server is shared).
 */
export interface ObservedRuntime {
  readonly ctx: AppContext;
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly redisUrl: string;
  readonly logs: CapturedLogs;
  /** Present when started with `redisProxy: true`. */
  readonly redisProxy: FaultyProxy | undefined;
  /** A new app over the same runtime (and so a new error-rate watcher); closed with the runtime. */
  newApp(): Promise<FastifyInstance>;
  /** A plain client on the real Redis server (not through the proxy). */
  redis(): Redis;
  close(): Promise<void>;
}

export interface CapturedLogs {
  lines(): Record<string, unknown>[];
  clear(): void;
}

let counter = 0;

export async function startObservedRuntime(
  options: { env?: Record<string, string>; redisProxy?: boolean; logLevel?: 'warn' | 'info' } = {},
): Promise<ObservedRuntime> {
  const runId = inject('runId');
  counter += 1;
  const name = `stampede_test_${runId}_${process.pid}_obs${counter}`;
  const adminUrl = inject('adminDatabaseUrl');
  const databaseUrl = await createDatabaseFromTemplate(adminUrl, inject('templateDatabase'), name);
  const redisUrl = inject('redisUrl');
  const redisProxy = options.redisProxy ? await startFaultyProxy(redisUrl) : undefined;
  const prefix = `t${runId}:${process.pid}:obs${counter}:`;
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisProxy ? redisProxy.url : redisUrl,
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ORDER_RATE_LIMIT_MS: '0',
    SEED_DEMO: 'false',
    LOG_LEVEL: options.logLevel ?? 'warn',
    REQUEST_LOG: 'false',
    DATABASE_POOL_SIZE: '10',
    DATA_DIR: `/tmp/stampede-test-${runId}`,
    ...options.env,
  });

  const captured: Record<string, unknown>[] = [];
  const logger = createLogger(config);
  // The production logger, its lines diverted from stdout into memory: same fields, same level
  // labels, same message format as in production.
  (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line.trim()) captured.push(JSON.parse(line) as Record<string, unknown>);
      }
    },
  };

  const runtime = await startRuntime(config, logger, { jobs: false });
  const apps: FastifyInstance[] = [];
  const clients: Redis[] = [];
  return {
    ctx: runtime.ctx,
    databaseUrl,
    prefix,
    redisUrl,
    redisProxy,
    logs: {
      lines: () => [...captured],
      clear: () => void captured.splice(0),
    },
    async newApp() {
      const app = await buildApp({ ctx: runtime.ctx });
      apps.push(app);
      return app;
    },
    redis() {
      const client = new Redis(redisUrl);
      clients.push(client);
      return client;
    },
    async close() {
      for (const app of apps) await app.close();
      await runtime.close();
      await redisProxy?.close();
      const cleaner = new Redis(redisUrl);
      const keys = await cleaner.keys(`${prefix}*`);
      if (keys.length > 0) await cleaner.del(...keys);
      cleaner.disconnect();
      for (const client of clients) client.disconnect();
      await dropDatabase(adminUrl, name);
    },
  };
}

/** A loopback TCP proxy in front of a real server, whose link the test can cut and restore. */
export interface FaultyProxy {
  readonly url: string;
  /** Drop every open connection and refuse new ones, as a dead server would. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function startFaultyProxy(upstreamUrl: string): Promise<FaultyProxy> {
  const upstream = new URL(upstreamUrl);
  const sockets = new Set<Socket>();
  let refusing = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (refusing) {
      client.destroy();
      return;
    }
    const server = connect(Number(upstream.port || 6379), upstream.hostname);
    track(server);
    client.pipe(server).pipe(client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    cut() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
