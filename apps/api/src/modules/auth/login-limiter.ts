import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { addressGroup } from '../../http/client-address.ts';
import type { Logger } from '../../lib/logger.ts';
import { AUTH_LUA_DIR } from '../../paths.ts';

/**
 * Sign-in attempts are slowed, never locked: a stranger who knows an email cannot keep its
 * owner out. What it guarantees:
 *
 * - Per (account, address) pair, 5 attempts are free; after that each attempt waits twice as
 *   long as the one before (1 s, 2 s, 4 s, ... at most 15 minutes). Guesses from one address
 *   at one account: about 100 a day.
 * - An account's owner at an address where they signed in within the last 30 days is slowed
 *   only by failures from that same address (that pair), whatever is tried from anywhere else.
 * - From an address that has not signed in to the account before, the account as a whole and
 *   the address as a whole also count: 20 attempts free, then growing delays up to one minute.
 *   That bounds guessing at one account from many addresses (a botnet) and at many accounts
 *   from one address (credential stuffing). An owner on a new address may wait up to a minute
 *   while such an attack runs; never 15 minutes, and never at a known address.
 * - Every attempt is counted before its password is checked, atomically, so parallel guesses
 *   cannot slip past a limit. A success gives back the slot it took from the account and the
 *   address (many people signing in behind one address never add up) and forgets the pair's
 *   failures. IPv6 addresses count by /64.
 *
 * With Redis (REDIS_URL) the counters are shared by every API process (two Lua scripts, every
 * key under the `{login}` hash tag: one slot on a cluster); without it, or while Redis does not
 * answer, they live in this process (a per-process limit, never no limit).
 */
export interface GuessRule {
  /** Attempts before any delay. */
  readonly free: number;
  /** The wait after the last free attempt; it doubles with every further attempt. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** State is forgotten this long after the last attempt counted. */
  readonly keepMs: number;
}

export interface LoginLimits {
  readonly pair: GuessRule;
  readonly account: GuessRule;
  readonly address: GuessRule;
  /** How long a pair that signed in stays trusted. */
  readonly trustedForMs: number;
}

const MINUTE = 60_000;
export const LOGIN_LIMITS: LoginLimits = {
  pair: { free: 5, baseDelayMs: 1000, maxDelayMs: 15 * MINUTE, keepMs: 24 * 60 * MINUTE },
  account: { free: 20, baseDelayMs: 1000, maxDelayMs: MINUTE, keepMs: 60 * MINUTE },
  address: { free: 20, baseDelayMs: 1000, maxDelayMs: MINUTE, keepMs: 60 * MINUTE },
  trustedForMs: 30 * 24 * 60 * MINUTE,
};

export interface LoginAttempt {
  readonly email: string;
  readonly ip: string;
}

/** An admitted attempt: where it was counted, and whether its pair was trusted. */
export interface Admitted {
  readonly allowed: true;
  readonly trusted: boolean;
  readonly store: 'redis' | 'memory';
}
export type Admission = Admitted | { readonly allowed: false; readonly retryAfterMs: number };

export type LoginOutcome = 'succeeded' | 'failed' | 'abandoned';

export interface LoginLimiter {
  readonly kind: 'redis' | 'memory';
  /** Count this attempt in every scope that applies, or say how long to wait. */
  acquire(attempt: LoginAttempt): Promise<Admission>;
  /** How the admitted attempt ended (`abandoned`: an error, nothing was decided). */
  settle(attempt: LoginAttempt, admitted: Admitted, outcome: LoginOutcome): Promise<void>;
  close(): Promise<void>;
}

interface LoginKeys {
  readonly pair: string;
  readonly trusted: string;
  readonly account: string;
  readonly address: string;
}

/** Keys carry no email address (a hash of it). One hash tag, so each script is one slot. */
function loginKeys(prefix: string, attempt: LoginAttempt): LoginKeys {
  const account = createHash('sha256').update(attempt.email.toLowerCase()).digest('base64url');
  const address = addressGroup(attempt.ip);
  const base = `${prefix}{login}`;
  return {
    pair: `${base}:pair:${account}:${address}`,
    trusted: `${base}:known:${account}:${address}`,
    account: `${base}:account:${account}`,
    address: `${base}:address:${address}`,
  };
}

/** The wait after the last of `count` attempts under `rule`. */
export function delayAfter(rule: GuessRule, count: number): number {
  if (count < rule.free) return 0;
  return Math.min(rule.baseDelayMs * 2 ** Math.min(count - rule.free, 40), rule.maxDelayMs);
}

/** The same rules in this process: correct for one process; the Redis one is shared. */
export class MemoryLoginCounters {
  private readonly scopes = new Map<string, { n: number; t: number; until: number }>();
  private readonly trusted = new Map<string, number>();

  constructor(
    private readonly limits: LoginLimits,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(keys: LoginKeys): { wait: number; trusted: boolean } {
    const now = this.now();
    const trusted = (this.trusted.get(keys.trusted) ?? 0) > now;
    const counted = this.counted(keys, trusted);
    let wait = 0;
    for (const [key, rule] of counted) {
      const state = this.live(key, now);
      if (state) wait = Math.max(wait, state.t + delayAfter(rule, state.n) - now);
    }
    if (wait > 0) return { wait: Math.ceil(wait), trusted };
    for (const [key, rule] of counted) {
      const state = this.live(key, now);
      this.scopes.set(key, { n: (state?.n ?? 0) + 1, t: now, until: now + rule.keepMs });
    }
    this.prune(now);
    return { wait: 0, trusted };
  }

  settle(keys: LoginKeys, trusted: boolean, outcome: LoginOutcome): void {
    if (outcome === 'failed') return;
    const now = this.now();
    if (outcome === 'succeeded') {
      this.scopes.delete(keys.pair);
      this.trusted.set(keys.trusted, now + this.limits.trustedForMs);
    } else {
      this.giveBack(keys.pair, now);
    }
    if (!trusted) {
      this.giveBack(keys.account, now);
      this.giveBack(keys.address, now);
    }
  }

  private counted(keys: LoginKeys, trusted: boolean): [string, GuessRule][] {
    const { pair, account, address } = this.limits;
    return trusted
      ? [[keys.pair, pair]]
      : [
          [keys.pair, pair],
          [keys.account, account],
          [keys.address, address],
        ];
  }

  private giveBack(key: string, now: number): void {
    const state = this.live(key, now);
    if (state && state.n > 0) state.n -= 1;
  }

  private live(key: string, now: number) {
    const state = this.scopes.get(key);
    if (state && state.until <= now) {
      this.scopes.delete(key);
      return undefined;
    }
    return state;
  }

  /** Bound the memory an address-spraying client can make us hold. */
  private prune(now: number): void {
    if (this.scopes.size >= 50_000) {
      for (const [key, state] of this.scopes) if (state.until <= now) this.scopes.delete(key);
    }
    if (this.trusted.size >= 50_000) {
      for (const [key, until] of this.trusted) if (until <= now) this.trusted.delete(key);
    }
  }
}

const lua = (name: string) => readFileSync(join(AUTH_LUA_DIR, `${name}.lua`), 'utf8');

type LimiterRedis = Redis & {
  stampedeLoginAcquire(...args: (string | number)[]): Promise<[number, number]>;
  stampedeLoginSettle(...args: (string | number)[]): Promise<number>;
};

const ruleArgs = (rule: GuessRule) => [rule.free, rule.baseDelayMs, rule.maxDelayMs, rule.keepMs];

export function createLoginLimiter(options: {
  /** A Redis client of its own (the limiter defines its scripts on it and closes it). */
  redis?: Redis;
  prefix: string;
  logger: Logger;
  limits?: LoginLimits;
  now?: () => number;
}): LoginLimiter {
  const limits = options.limits ?? LOGIN_LIMITS;
  const memory = new MemoryLoginCounters(limits, options.now);
  const keysOf = (attempt: LoginAttempt) => loginKeys(options.prefix, attempt);
  const inMemory = (keys: LoginKeys): Admission => {
    const { wait, trusted } = memory.acquire(keys);
    return wait > 0
      ? { allowed: false, retryAfterMs: wait }
      : { allowed: true, trusted, store: 'memory' };
  };

  const redis = options.redis as LimiterRedis | undefined;
  if (!redis) {
    return {
      kind: 'memory',
      acquire: async (attempt) => inMemory(keysOf(attempt)),
      settle: async (attempt, admitted, outcome) =>
        memory.settle(keysOf(attempt), admitted.trusted, outcome),
      close: async () => undefined,
    };
  }

  redis.defineCommand('stampedeLoginAcquire', { numberOfKeys: 4, lua: lua('login-acquire') });
  redis.defineCommand('stampedeLoginSettle', { numberOfKeys: 4, lua: lua('login-settle') });
  const keyArgs = (keys: LoginKeys) => [keys.pair, keys.trusted, keys.account, keys.address];
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
        const [wait, trusted] = await redis.stampedeLoginAcquire(
          ...keyArgs(keys),
          ...ruleArgs(limits.pair),
          ...ruleArgs(limits.account),
          ...ruleArgs(limits.address),
        );
        return wait > 0
          ? { allowed: false, retryAfterMs: wait }
          : { allowed: true, trusted: trusted === 1, store: 'redis' };
      } catch (error) {
        // Redis away: still limit, per process, rather than let guesses through unlimited.
        degraded(error);
        return inMemory(keys);
      }
    },
    async settle(attempt, admitted, outcome) {
      // A failure was counted when it was admitted: nothing to send.
      if (outcome === 'failed') return;
      const keys = keysOf(attempt);
      if (admitted.store === 'memory') {
        memory.settle(keys, admitted.trusted, outcome);
        return;
      }
      try {
        await redis.stampedeLoginSettle(
          ...keyArgs(keys),
          outcome,
          admitted.trusted ? 1 : 0,
          limits.trustedForMs,
        );
      } catch (error) {
        // The slots age out with their scopes; a missed give-back only makes the limit stricter.
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
