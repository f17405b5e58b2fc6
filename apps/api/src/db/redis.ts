import { Cluster, Redis } from 'ioredis';
import type { RedisTarget } from '../config.ts';
import type { Outage } from '../lib/outage.ts';

/** One Redis node or a Redis Cluster: the same commands, scripts defined on either. */
export type RedisClient = Redis | Cluster;

/**
 * Every Redis connection of the API is opened here (the gate's, the sign-in limiter's), to one
 * node (`REDIS_URL`) or to a cluster (`REDIS_CLUSTER_NODES`), with the same behaviour: while
 * Redis is away, commands fail at once (the caller answers 503) instead of queueing buyers; a
 * dead connection is retried. On one node, commands issued in the same tick travel in one write
 * (auto-pipelining). On a cluster each command goes on its own (still without waiting for the
 * one before): a pipeline that mixes commands is not retried when one of them is redirected,
 * whereas a lone command follows MOVED and ASK and waits out TRYAGAIN and CLUSTERDOWN within its
 * time, as a slot moving or a failover needs. The slot map is refreshed every second (a
 * failover is seen within about that), and only masters are read (a replica may lag).
 */
export function createRedisClient(
  target: RedisTarget,
  options: { commandTimeoutMs: number; outage?: Outage },
): RedisClient {
  const node = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 3000,
  };
  const client: RedisClient =
    target.kind === 'node'
      ? new Redis(target.url, {
          ...node,
          enableAutoPipelining: true,
          lazyConnect: true,
          retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
        })
      : new Cluster([...target.nodes], {
          lazyConnect: true,
          enableAutoPipelining: false,
          enableOfflineQueue: false,
          scaleReads: 'master',
          maxRedirections: 16,
          retryDelayOnMoved: 0,
          retryDelayOnTryAgain: 50,
          retryDelayOnClusterDown: 100,
          retryDelayOnFailover: 100,
          slotsRefreshInterval: 1000,
          slotsRefreshTimeout: 2000,
          clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
          redisOptions: {
            ...node,
            ...(target.password ? { password: target.password } : {}),
          },
        });
  // A dead Redis emits on every reconnect attempt: the outage logs its start and its end.
  client.on('error', (error: Error) => options.outage?.failed(error));
  client.on('ready', () => options.outage?.recovered());
  return client;
}

/** Wait for the first connection, or fail start-up with a clear message. */
export async function connectRedis(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const which = client instanceof Cluster ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
      reject(new Error(`Redis at ${which} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
