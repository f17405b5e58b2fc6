import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger.ts';

/**
 * Sign-in attempts, limited per email and per client IP, so a password cannot be guessed at
 * speed and one address cannot spray many accounts.
 *
 * - Per email, every attempt takes a slot *before* the password is checked, atomically, so a
 *   burst of parallel guesses at one account cannot slip past the limit between check and
 *   count. A successful sign-in clears the email's counter, so only failures accumulate.
 * - Per IP, only failures count (after the check). Many people can share one address (an
 *   office, a carrier's NAT, a proxy), and their successful sign-ins, however many at once,
 *   must never lock each other out.
 *
 * Windows are fixed: they open at the first counted attempt and close `windowMs` later, which
 * is what `Retry-After` reports. A refused attempt counts for nothing.
 *
 * With Redis (REDIS_URL) the counters are shared by every API process; without it, or while
 * Redis does not answer, they live in this process (a per-process limit, never no limit).
 */
export interface LoginLimitRule {
  readonly scope: 'email' | 'ip';
  readonly limit: number;
  readonly windowMs: number;
  /** `attempts`: counted when admitted, cleared on success. `failures`: counted on failure. */
  readonly counts: 'attempts' | 'failures';
}

export const LOGIN_LIMIT_RULES: readonly LoginLimitRule[] = [
  { scope: 'email', limit: 5, windowMs: 15 * 60_000, counts: 'attempts' },
  { scope: 'ip', limit: 20, windowMs: 15 * 60_000, counts: 'failures' },
];

export interface LoginAttempt {
  readonly email: string;
  readonly ip: string;
}

export type AcquireResult =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export interface LoginLimiter {
  readonly kind: 'redis' | 'memory';
  /** Check every limit and take this attempt's slots, or say how long to wait. */
  acquire(attempt: LoginAttempt): Promise<AcquireResult>;
  /** The password was wrong (or the account unknown). */
  failed(attempt: LoginAttempt): Promise<void>;
  /** The sign-in succeeded: the email's attempts are forgotten. */
  succeeded(attempt: LoginAttempt): Promise<void>;
  close(): Promise<void>;
}

interface CounterKey extends LoginLimitRule {
  readonly key: string;
}

/** Keys carry no email address: a hash of it, so Redis holds no personal data. */
function counterKeys(
  prefix: string,
  rules: readonly LoginLimitRule[],
  attempt: LoginAttempt,
): CounterKey[] {
  return rules.map((rule) => {
    const subject =
      rule.scope === 'email'
        ? createHash('sha256').update(attempt.email.toLowerCase()).digest('base64url')
        : attempt.ip;
    // One hash tag for every login key, so the scripts' keys share a cluster slot.
    return { key: `${prefix}{login}:${rule.scope}:${subject}`, ...rule };
  });
}

/** Counters in this process. Correct for one process; the Redis one is shared. */
export class MemoryLoginCounters {
  private readonly counters = new Map<string, { count: number; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  acquire(keys: readonly CounterKey[]): AcquireResult {
    const now = this.now();
    let wait = 0;
    for (const { key, limit } of keys) {
      const entry = this.live(key, now);
      if (entry && entry.count >= limit) wait = Math.max(wait, entry.until - now);
    }
    if (wait > 0) return { allowed: false, retryAfterMs: wait };
    this.increment(
      keys.filter((k) => k.counts === 'attempts'),
      now,
    );
    return { allowed: true };
  }

  failed(keys: readonly CounterKey[]): void {
    this.increment(
      keys.filter((k) => k.counts === 'failures'),
      this.now(),
    );
  }

  succeeded(keys: readonly CounterKey[]): void {
    for (const { key } of keys.filter((k) => k.counts === 'attempts')) this.counters.delete(key);
  }

  private increment(keys: readonly CounterKey[], now: number): void {
    for (const { key, windowMs } of keys) {
      const entry = this.live(key, now);
      if (entry) entry.count += 1;
      else this.counters.set(key, { count: 1, until: now + windowMs });
    }
    this.prune(now);
  }

  private live(key: string, now: number) {
    const entry = this.counters.get(key);
    if (entry && entry.until <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Bound the memory an address-spraying client can make us hold. */
  private prune(now: number): void {
    if (this.counters.size < 50_000) return;
    for (const [key, entry] of this.counters) if (entry.until <= now) this.counters.delete(key);
  }
}

// KEYS: every counter of the attempt. ARGV: per key, in KEYS order: limit, window (ms), and 1
// to count this attempt now (0 to only check it). Returns 0 when admitted (the marked counters
// incremented), else the ms to wait (nothing incremented).
const ACQUIRE_LUA = `
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i * 3 - 2]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 1 then ttl = 1 end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if ARGV[i * 3] == '1' and redis.call('INCR', key) == 1 then
    redis.call('PEXPIRE', key, ARGV[i * 3 - 1])
  end
end
return 0
`;

// KEYS: counters to increment. ARGV: their windows (ms), in KEYS order.
const COUNT_LUA = `
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
end
return 0
`;

type LimiterRedis = Redis & {
  stampedeLoginAcquire(numKeys: number, ...args: (string | number)[]): Promise<number>;
  stampedeLoginCount(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

export function createLoginLimiter(options: {
  /** A Redis client of its own (the limiter defines its scripts on it and closes it). */
  redis?: Redis;
  prefix: string;
  logger: Logger;
  rules?: readonly LoginLimitRule[];
  now?: () => number;
}): LoginLimiter {
  const rules = options.rules ?? LOGIN_LIMIT_RULES;
  const memory = new MemoryLoginCounters(options.now);
  const keysOf = (attempt: LoginAttempt) => counterKeys(options.prefix, rules, attempt);

  const redis = options.redis as LimiterRedis | undefined;
  if (!redis) {
    return {
      kind: 'memory',
      acquire: async (attempt) => memory.acquire(keysOf(attempt)),
      failed: async (attempt) => memory.failed(keysOf(attempt)),
      succeeded: async (attempt) => memory.succeeded(keysOf(attempt)),
      close: async () => undefined,
    };
  }

  redis.defineCommand('stampedeLoginAcquire', { lua: ACQUIRE_LUA });
  redis.defineCommand('stampedeLoginCount', { lua: COUNT_LUA });
  let lastWarned = 0;
  const degraded = (error: unknown) => {
    if (Date.now() - lastWarned > 5000) {
      lastWarned = Date.now();
      options.logger.warn(
        { err: error },
        'login limiter: Redis did not answer; counting in process',
      );
    }
  };
  return {
    kind: 'redis',
    async acquire(attempt) {
      const keys = keysOf(attempt);
      try {
        const wait = await redis.stampedeLoginAcquire(
          keys.length,
          ...keys.map((k) => k.key),
          ...keys.flatMap((k) => [k.limit, k.windowMs, k.counts === 'attempts' ? 1 : 0]),
        );
        return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
      } catch (error) {
        // Redis away: still limit, per process, rather than let guesses through unlimited.
        degraded(error);
        return memory.acquire(keys);
      }
    },
    async failed(attempt) {
      const keys = keysOf(attempt).filter((k) => k.counts === 'failures');
      try {
        await redis.stampedeLoginCount(
          keys.length,
          ...keys.map((k) => k.key),
          ...keys.map((k) => k.windowMs),
        );
      } catch (error) {
        degraded(error);
        memory.failed(keys);
      }
    },
    async succeeded(attempt) {
      const keys = keysOf(attempt);
      memory.succeeded(keys);
      const attempts = keys.filter((k) => k.counts === 'attempts').map((k) => k.key);
      try {
        await redis.del(...attempts);
      } catch (error) {
        // The slots age out with their window; a missed clear only makes the limit stricter.
        degraded(error);
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The limiter the app uses: on its own Redis connection when REDIS_URL is set (the gate's
 * connection is the order path's and stays so), else in process. A Redis that does not answer
 * at start-up does not stop the API: the limiter counts in process until it does.
 */
export async function createAppLoginLimiter(options: {
  redisUrl: string | undefined;
  prefix: string;
  logger: Logger;
}): Promise<LoginLimiter> {
  if (!options.redisUrl)
    return createLoginLimiter({ prefix: options.prefix, logger: options.logger });
  const { Redis } = await import('ioredis');
  const redis = new Redis(options.redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    connectTimeout: 3000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastLogged = 0;
  redis.on('error', (error: Error) => {
    if (Date.now() - lastLogged > 5000) {
      lastLogged = Date.now();
      options.logger.warn({ err: error }, 'login limiter: redis connection error');
    }
  });
  await redis.connect().catch((error: unknown) => {
    options.logger.warn({ err: error }, 'login limiter: Redis not reachable; counting in process');
  });
  return createLoginLimiter({ redis, prefix: options.prefix, logger: options.logger });
}
