import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LUA_DIR } from '../../../paths.ts';
import { Redis } from 'ioredis';
import { StockUnavailableError, withoutStack } from '../../../lib/errors.ts';
import type { Outage } from '../../../lib/outage.ts';
import type { StockKeys } from '../keys.ts';
import {
  attemptInTurn,
  type Admission,
  type AdmitInput,
  type AdmitResult,
  type AttemptInput,
  type AttemptResult,
  type GateCredit,
  type GateLine,
  type GateSnapshot,
  type HoldRecord,
  type RememberInput,
  type ReserveResult,
  type StockGate,
  type StoredAnswer,
  type SyncInput,
  type SyncResult,
} from './types.ts';

const lua = (name: string) => readFileSync(join(LUA_DIR, `${name}.lua`), 'utf8');
/** Redis scripts cannot include one another: the shared functions are prepended. */
const LIBRARY = { admit: lua('lib/admit'), reserve: lua('lib/reserve'), uncap: lua('lib/uncap') };

type Arg = string | number;

/** The gate scripts, registered once with `defineCommand` (EVALSHA, reloaded on NOSCRIPT). */
interface GateCommands {
  stampedeReserve(numKeys: number, ...args: Arg[]): Promise<RawReserve>;
  stampedeRelease(numKeys: number, ...args: Arg[]): Promise<number>;
  stampedeGiveBack(numKeys: number, ...args: Arg[]): Promise<number>;
  stampedeCredit(numKeys: number, ...args: Arg[]): Promise<number>;
  stampedeSync(numKeys: number, ...args: Arg[]): Promise<[number, number, number, number]>;
  stampedeAdmit(numKeys: number, ...args: Arg[]): Promise<[string, (string | number)?]>;
  stampedeAttempt(numKeys: number, ...args: Arg[]): Promise<RawAttempt>;
  stampedeForget(numKeys: number, ...args: Arg[]): Promise<number>;
  stampedeAbandon(numKeys: number, ...args: Arg[]): Promise<number>;
  stampedeInspect(numKeys: number, ...args: Arg[]): Promise<[number, number, number]>;
}

type RawReserve = [number, string?, number?, number?, number?];
type RawAdmit = [string, (string | number)?];
type RawAttempt = RawReserve | RawAdmit;

const SCRIPTS: Record<keyof GateCommands, string> = {
  stampedeReserve: LIBRARY.reserve + lua('reserve'),
  stampedeRelease: lua('release'),
  stampedeGiveBack: LIBRARY.uncap + lua('give-back'),
  stampedeCredit: LIBRARY.uncap + lua('credit'),
  stampedeSync: LIBRARY.uncap + lua('sync'),
  stampedeAdmit: LIBRARY.admit + lua('admit'),
  stampedeAttempt: LIBRARY.admit + LIBRARY.reserve + lua('attempt'),
  stampedeForget: lua('forget'),
  stampedeAbandon: lua('abandon'),
  stampedeInspect: lua('inspect'),
};

export type GateRedis = Redis & GateCommands;

export function createGateRedis(url: string, outage?: Outage): GateRedis {
  const redis = new Redis(url, {
    lazyConnect: true,
    // Commands issued in the same tick travel in one write: thousands of buyers, few syscalls.
    enableAutoPipelining: true,
    // While Redis is away, fail at once (orders answer 503) instead of queueing buyers.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    connectTimeout: 3000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  for (const [command, script] of Object.entries(SCRIPTS)) {
    redis.defineCommand(command, { lua: script });
  }
  // A dead Redis emits on every reconnect attempt: the outage logs its start and its end.
  redis.on('error', (error: Error) => outage?.failed(error));
  redis.on('ready', () => outage?.recovered());
  return redis as GateRedis;
}

/** Wait for the first connection, or fail start-up with a clear message. */
export async function connectGateRedis(redis: GateRedis, timeoutMs = 10_000): Promise<void> {
  const timer = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`Redis at REDIS_URL did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    ).unref(),
  );
  await Promise.race([redis.connect(), timer]);
}

/**
 * Admission and stock on one Redis node, over one connection: an order's whole gate step
 * (admission and the reservation of every line) is one script, one round trip.
 */
export class RedisGate implements Admission, StockGate {
  readonly kind = 'redis' as const;
  readonly tracksStock = true;

  constructor(
    private readonly redis: GateRedis,
    private readonly keys: StockKeys,
  ) {}

  async reserve(input: {
    reservationId: string;
    userId: number;
    lines: readonly GateLine[];
  }): Promise<ReserveResult> {
    const keys = this.lineKeys(input.lines);
    const args = [input.reservationId, input.userId, ...lineArgs(input.lines)];
    return toReserveResult(
      await this.call(() => this.redis.stampedeReserve(keys.length, ...keys, ...args)),
    );
  }

  async attempt(input: AttemptInput, stock: StockGate): Promise<AttemptResult> {
    if (stock !== this) return attemptInTurn(this, stock, input);
    const { keys, args } = this.admission(input);
    keys.push(...this.lineKeys(input.lines));
    args.push(
      input.answerTtlMs,
      input.reservationId,
      input.userId,
      input.idempotency ? 1 : 0,
      ...lineArgs(input.lines),
    );
    const raw = await this.call(() => this.redis.stampedeAttempt(keys.length, ...keys, ...args));
    if (typeof raw[0] === 'string') {
      const admitted = toAdmitResult(raw as RawAdmit);
      if (admitted.kind === 'admitted') throw new Error('unexpected attempt answer');
      return admitted;
    }
    const reserved = toReserveResult(raw as RawReserve);
    return reserved.ok ? { kind: 'reserved' } : { kind: 'refused', refusal: reserved };
  }

  /** Keys and arguments of admit.lua, which attempt.lua starts with. */
  private admission(input: AdmitInput): { keys: string[]; args: Arg[] } {
    const { idempotency } = input;
    const keys = [this.keys.rateLimit(input.userId)];
    if (idempotency) keys.push(this.keys.idempotency(input.userId, idempotency.key));
    const args: Arg[] = [
      input.rateLimitMs,
      idempotency?.fingerprint ?? '',
      idempotency?.inFlightTtlMs ?? 0,
    ];
    return { keys, args };
  }

  /** admit.lua also takes the marker's owner; attempt.lua has it among its own arguments. */
  private admitArgs(input: AdmitInput): { keys: string[]; args: Arg[] } {
    const admission = this.admission(input);
    admission.args.push(input.reservationId ?? '');
    return admission;
  }

  private lineKeys(lines: readonly GateLine[]): string[] {
    return lines.flatMap((line) => [
      this.keys.stock(line.productId),
      this.keys.holds(line.productId),
      this.keys.cap(line.productId),
    ]);
  }

  async release(input: { productId: number; reservationIds: readonly string[] }): Promise<void> {
    if (input.reservationIds.length === 0) return;
    await this.call(() =>
      this.redis.stampedeRelease(1, this.keys.holds(input.productId), ...input.reservationIds),
    );
  }

  giveBack(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    const keys = input.productIds.flatMap((id) => [
      this.keys.stock(id),
      this.keys.holds(id),
      this.keys.cap(id),
    ]);
    return this.call(() => this.redis.stampedeGiveBack(keys.length, ...keys, input.reservationId));
  }

  abandon(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    const keys = input.productIds.map((id) => this.keys.holds(id));
    return this.call(() => this.redis.stampedeAbandon(keys.length, ...keys, input.reservationId));
  }

  async credit(input: GateCredit): Promise<void> {
    const keys = input.lines.flatMap((line) => [
      this.keys.stock(line.productId),
      this.keys.cap(line.productId),
      this.keys.synced(line.productId),
    ]);
    const args = input.lines.flatMap((line) => [line.quantity, line.version]);
    await this.call(() => this.redis.stampedeCredit(keys.length, ...keys, input.userId, ...args));
  }

  async holds(productId: number): Promise<HoldRecord[]> {
    const raw = await this.call(() => this.redis.hgetall(this.keys.holds(productId)));
    return Object.entries(raw).map(([reservationId, value]) => {
      const [quantity, userId] = value.split(':');
      return { reservationId, quantity: Number(quantity), userId: Number(userId) };
    });
  }

  async sync(input: SyncInput): Promise<SyncResult> {
    const keys = [
      this.keys.stock(input.productId),
      this.keys.holds(input.productId),
      this.keys.cap(input.productId),
      this.keys.synced(input.productId),
    ];
    const capMode = { keep: '0', rebuild: '1', clear: '2' }[input.caps.mode];
    const args: Arg[] = [
      input.available,
      input.version,
      input.maxHoldAgeMs,
      capMode,
      input.committed.length,
      ...input.committed,
    ];
    if (input.caps.mode === 'rebuild') {
      for (const [userId, units] of input.caps.liveUnitsByUser) args.push(userId, units);
    }
    const [previous, current, stale, late] = await this.call(() =>
      this.redis.stampedeSync(keys.length, ...keys, ...args),
    );
    return {
      previous: previous < 0 ? null : previous,
      current,
      staleHoldsDropped: stale,
      committedHoldsDropped: late,
    };
  }

  async available(productIds: readonly number[]): Promise<(number | null)[]> {
    if (productIds.length === 0) return [];
    const values = await this.call(() =>
      this.redis.mget(productIds.map((id) => this.keys.stock(id))),
    );
    return values.map((value) => (value === null ? null : Number(value)));
  }

  async inspect(input: {
    productIds: readonly number[];
    maxHoldAgeMs: number;
  }): Promise<GateSnapshot[]> {
    // One script per product (each on its product's slot), sent together.
    const raw = await this.call(() =>
      Promise.all(
        input.productIds.map((id) =>
          this.redis.stampedeInspect(
            2,
            this.keys.stock(id),
            this.keys.holds(id),
            input.maxHoldAgeMs,
          ),
        ),
      ),
    );
    return raw.map(([counter, held, stale]) => ({
      counter: counter < 0 ? null : counter,
      held,
      stale,
    }));
  }

  async lease(name: string, ttlMs: number): Promise<boolean> {
    const taken = await this.call(() =>
      this.redis.set(this.keys.lease(name), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX'),
    );
    return taken === 'OK';
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    const { keys, args } = this.admitArgs(input);
    return toAdmitResult(
      await this.call(() => this.redis.stampedeAdmit(keys.length, ...keys, ...args)),
    );
  }

  async remember(input: RememberInput): Promise<void> {
    await this.rememberMany([input]);
  }

  async rememberMany(inputs: readonly RememberInput[]): Promise<void> {
    if (inputs.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const input of inputs) {
      pipeline.set(
        this.keys.idempotency(input.userId, input.key),
        `A:${input.fingerprint}${JSON.stringify(input.answer)}`,
        'PX',
        Math.max(1, Math.round(input.ttlMs)),
      );
    }
    await this.call(() => pipeline.exec());
  }

  async forget(input: { userId: number; key: string; reservationId?: string }): Promise<void> {
    const key = this.keys.idempotency(input.userId, input.key);
    await this.call(() => this.redis.stampedeForget(1, key, input.reservationId ?? ''));
  }

  async isIntact(): Promise<boolean> {
    return (await this.call(() => this.redis.exists(this.keys.epoch()))) === 1;
  }

  async markIntact(): Promise<void> {
    await this.call(() => this.redis.set(this.keys.epoch(), new Date().toISOString()));
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /**
   * Connection failures become `StockUnavailableError` (503, nothing decided); script errors
   * stay what they are.
   */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') {
      throw withoutStack(() => new StockUnavailableError(`redis is ${this.redis.status}`));
    }
    try {
      return await operation();
    } catch (error) {
      if (isConnectionError(error)) throw withoutStack(() => new StockUnavailableError(error));
      throw error;
    }
  }
}

function lineArgs(lines: readonly GateLine[]): Arg[] {
  return lines.flatMap((line) => [line.quantity, line.limit ?? 0, line.productId]);
}

function toReserveResult([ok, reason, , value, productId]: RawReserve): ReserveResult {
  if (ok === 1) return { ok: true };
  const id = Number(productId);
  switch (reason) {
    case 'insufficient':
      return { ok: false, reason, productId: id, available: Number(value) };
    case 'limit':
      return { ok: false, reason, productId: id, alreadyOrdered: Number(value) };
    case 'missing':
    case 'duplicate':
      return { ok: false, reason, productId: id };
    default:
      throw new Error(`unexpected reserve answer ${String(reason)}`);
  }
}

function toAdmitResult([kind, value]: RawAdmit): AdmitResult {
  switch (kind) {
    case 'ok':
      return { kind: 'admitted' };
    case 'limited':
      return { kind: 'rate_limited', retryAfterMs: Math.max(1, Number(value)) };
    case 'in_flight':
      return { kind: 'in_flight' };
    case 'reused':
      return { kind: 'key_reused' };
    case 'replay':
      return { kind: 'replay', answer: JSON.parse(String(value)) as StoredAnswer };
    default:
      throw new Error(`unexpected admit answer ${String(kind)}`);
  }
}

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return false;
  return true;
}
