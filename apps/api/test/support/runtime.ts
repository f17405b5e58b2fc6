import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { startRuntime } from '../../src/runtime.ts';
import { createDatabaseFromTemplate, dropDatabase } from './databases.ts';

export type GateKind = 'redis' | 'memory';

export interface TestRuntime {
  readonly ctx: AppContext;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** The Redis key prefix of this runtime (its keys only). */
  readonly prefix: string;
  app(): Promise<FastifyInstance>;
  /** A plain Redis client on the same server (to flush, inspect, break things). */
  redis(): Redis;
  close(): Promise<void>;
}

let counter = 0;

/**
 * A started runtime over its own fresh database (cloned from the migrated template) and its own
 * Redis key prefix, so test files cannot disturb each other. Background jobs are off unless
 * asked for; tests drive them directly.
 */
export async function createTestRuntime(
  options: { gate?: GateKind; env?: Record<string, string>; jobs?: boolean } = {},
): Promise<TestRuntime> {
  const runId = inject('runId');
  const name = `stampede_test_${runId}_${process.pid}_${(counter += 1)}`;
  const databaseUrl = await createDatabaseFromTemplate(
    inject('adminDatabaseUrl'),
    inject('templateDatabase'),
    name,
  );
  const redisUrl = inject('redisUrl');
  const prefix = `t${runId}:${process.pid}:${counter}:`;
  const gate = options.gate ?? 'redis';
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    ...(gate === 'redis' ? { REDIS_URL: redisUrl } : {}),
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ORDER_RATE_LIMIT_MS: '0',
    SEED_DEMO: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_POOL_SIZE: '10',
    DATA_DIR: `/tmp/stampede-test-${runId}`,
    ...options.env,
  });
  const logger = pino({ level: config.logLevel });
  const runtime = await startRuntime(config, logger, { jobs: options.jobs ?? false });
  let app: FastifyInstance | undefined;
  const clients: Redis[] = [];
  return {
    ctx: runtime.ctx,
    databaseUrl,
    redisUrl,
    prefix,
    async app() {
      app ??= await buildApp({ ctx: runtime.ctx });
      return app;
    },
    redis() {
      const client = new Redis(redisUrl);
      clients.push(client);
      return client;
    },
    async close() {
      await app?.close();
      await runtime.close();
      const cleaner = new Redis(redisUrl);
      const keys = await cleaner.keys(`${prefix}*`);
      if (keys.length > 0) await cleaner.del(...keys);
      cleaner.disconnect();
      for (const client of clients) client.disconnect();
      await dropDatabase(inject('adminDatabaseUrl'), name);
    },
  };
}
