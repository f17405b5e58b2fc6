import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../../db/redis.ts';
import { addressGroup } from '../../http/client-address.ts';
import type { Logger } from '../../lib/logger.ts';
import { AUTH_LUA_DIR } from '../../paths.ts';

/**
 * Accounts created per address (IPv6 by /64) in a fixed hour: a script signing up thirty
 * accounts from one address to take thirty carts' worth of a sale gets the first few and then
 * 429 with Retry-After. Shared by every process through Redis (one key per address); counted in
 * process without Redis, or while Redis does not answer (a per-process limit, never no limit).
 */
export interface SignupLimiter {
  /** Count this sign-up; the wait (ms) when the address is over its limit. */
  acquire(ip: string): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
  close(): Promise<void>;
}

type SignupRedis = RedisClient & {
  stampedeSignupCount(key: string, windowMs: number): Promise<[number, number]>;
};

export function createSignupLimiter(options: {
  /** The sign-in limiter's connection (the limiter defines its script on it, never closes it). */
  redis?: RedisClient;
  prefix: string;
  /** Per address per hour; 0: no limit. */
  perHour: number;
  logger: Logger;
  now?: () => number;
}): SignupLimiter {
  return createAddressLimiter({
    ...options,
    name: 'signup',
    limit: options.perHour,
    windowMs: 3600_000,
  });
}

/**
 * The same fixed-window count per address for any action (`name` keeps the counters apart):
 * the waiting room's joins use it too.
 */
export function createAddressLimiter(options: {
  redis?: RedisClient;
  prefix: string;
  name: string;
  /** Per address per window; 0: no limit. */
  limit: number;
  windowMs: number;
  logger: Logger;
  now?: () => number;
}): SignupLimiter {
  const WINDOW_MS = options.windowMs;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { n: number; until: number }>();
  const inMemory = (group: string) => {
    const at = now();
    if (windows.size > 50_000) {
      for (const [key, window] of windows) if (window.until <= at) windows.delete(key);
    }
    let window = windows.get(group);
    if (!window || window.until <= at) {
      window = { n: 0, until: at + WINDOW_MS };
      windows.set(group, window);
    }
    window.n += 1;
    return { n: window.n, ttl: window.until - at };
  };
  const answer = ({ n, ttl }: { n: number; ttl: number }) =>
    n <= options.limit
      ? ({ allowed: true } as const)
      : ({ allowed: false, retryAfterMs: Math.max(1, ttl) } as const);

  const redis = options.redis as SignupRedis | undefined;
  // Defined again by each limiter on a shared connection: the same script, the same name.
  redis?.defineCommand('stampedeSignupCount', {
    numberOfKeys: 1,
    lua: readFileSync(join(AUTH_LUA_DIR, 'signup-count.lua'), 'utf8'),
  });
  let lastWarned = 0;
  return {
    async acquire(ip) {
      if (options.limit === 0) return { allowed: true };
      const group = addressGroup(ip);
      if (!redis) return answer(inMemory(group));
      try {
        const [n, ttl] = await redis.stampedeSignupCount(
          `${options.prefix}{${options.name}}:${group}`,
          WINDOW_MS,
        );
        return answer({ n, ttl });
      } catch (error) {
        if (now() - lastWarned > 5000) {
          lastWarned = now();
          options.logger.warn(
            { err: error, limit: options.name },
            'address limiter: Redis did not answer; counting in process',
          );
        }
        return answer(inMemory(group));
      }
    },
    async close() {
      windows.clear();
    },
  };
}
