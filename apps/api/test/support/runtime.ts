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

/** One Redis node, a Redis Cluster, or the gate in process. */
export type GateKind = 'redis' | 'cluster' | 'memory';

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

/** Every key under `prefix`, on one node or on every master of a cluster. */
export async function deleteKeys(target: string, prefix: string): Promise<void> {
  const nodes = target.startsWith('redis')
    ? [new Redis(target)]
    : target.split(',').map((seed) => {
        const [host, port] = seed.split(':');
        return new Redis(Number(port), host!);
      });
  try {
    for (const node of nodes) {
      // A replica refuses writes; its master has the same keys.
      if ((await node.role())[0] !== 'master') continue;
      const keys = await node.keys(`${prefix}*`);
      // One DEL per key (sent together): on a cluster the keys of one node span slots.
      const pipeline = node.pipeline();
      for (const key of keys) pipeline.del(key);
      await pipeline.exec();
    }
  } finally {
    for (const node of nodes) node.disconnect();
  }
}

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
  const clusterNodes = inject('redisClusterNodes');
  const prefix = `t${runId}:${process.pid}:${counter}:`;
  const gate = options.gate ?? 'redis';
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    ...(gate === 'redis' ? { REDIS_URL: redisUrl } : {}),
    ...(gate === 'cluster' ? { REDIS_CLUSTER_NODES: clusterNodes } : {}),
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ORDER_RATE_LIMIT_MS: '0',
    SEED_DEMO: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_POOL_SIZE: '10',
    DATA_DIR: `/tmp/stampede-test-${runId}`,
    // Tests sign many accounts up from one address; the limit's own test sets it.
    SIGNUP_LIMIT_PER_HOUR: '0',
    QUEUE_JOIN_LIMIT_PER_MINUTE: '0',
    // A proof of work a test solves in a few milliseconds.
    QUEUE_CHALLENGE_MAXNUMBER: '1000',
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
      await deleteKeys(gate === 'cluster' ? clusterNodes : redisUrl, prefix);
      for (const client of clients) client.disconnect();
      await dropDatabase(inject('adminDatabaseUrl'), name);
    },
  };
}
