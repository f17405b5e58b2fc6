import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LUA_DIR } from '../../../paths.ts';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../../db/redis.ts';
import { StockUnavailableError, withoutStack } from '../../../lib/errors.ts';
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
  type ShardChange,
  type StockGate,
  type StoredAnswer,
  type SyncInput,
  type SyncResult,
} from './types.ts';

const lua = (name: string) => readFileSync(join(LUA_DIR, `${name}.lua`), 'utf8');
/** Redis scripts cannot include one another: the shared functions are prepended. */
const LIBRARY = { admit: lua('lib/admit'), reserve: lua('lib/reserve'), uncap: lua('lib/uncap') };

type Arg = string | number;

/** What each gate script answers. */
interface ScriptResults {
  stampedeReserve: RawReserve;
  stampedeRelease: number;
  stampedeGiveBack: number;
  stampedeCredit: number;
  stampedeSync: [number, number, number, number];
  stampedeAdmit: RawAdmit;
  stampedeAttempt: RawAttempt;
  stampedeForget: number;
  stampedeAbandon: number;
  stampedeInspect: [number, number, number];
}

type RawReserve = [number, string?, number?, number?, number?];
type RawAdmit = [string, (string | number)?];
type RawAttempt = RawReserve | RawAdmit;

const SCRIPTS: Record<keyof ScriptResults, string> = {
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

/**
 * Admission and stock in Redis. Every script touches one hash slot: a user's keys share
 * `{u:<id>}`, a product's keys `{p:<id>}` (keys.ts). On one node an order's whole gate step
 * (admission and the reservation of every line) is one script, one round trip. On a cluster the
 * user's and the product's keys live on different slots: admission and reservation are two
 * steps (`attemptInTurn`), and the lines of an order on several slots are reserved slot by slot,
 * what was taken given back if a later slot refuses (all or nothing still).
 */
export class RedisGate implements Admission, StockGate {
  readonly kind = 'redis' as const;
  readonly tracksStock = true;
  /** A Redis Cluster: one script per slot. */
  readonly clustered: boolean;

  /** The connection (its events: a cluster's nodes joining and leaving). */
  get client(): RedisClient {
    return this.redis;
  }
  /** Who serves each slot, as last seen (see `changedShards`). */
  private shards: SlotOwners | undefined;
  /** The connection that listens for units returned (see `onReturned`). */
  private subscriber: RedisClient | undefined;
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StockKeys,
  ) {
    this.clustered = redis instanceof Cluster;
    // Defined up front: a pipeline already open copies the commands defined when it opened.
    for (const [script, keyCounts] of Object.entries(KEY_COUNTS)) {
      for (const count of keyCounts) {
        redis.defineCommand(`${script}${count}`, {
          lua: SCRIPTS[script as keyof ScriptResults],
          numberOfKeys: count,
        });
      }
    }
  }

  /**
   * Run a gate script (EVALSHA; the body is sent once per connection, and again on NOSCRIPT).
   * Each script is defined once per number of keys, with that number fixed: the first argument
   * is then a key, which is how commands issued together are pipelined to the node that serves
   * them on a cluster.
   */
  private run<K extends keyof ScriptResults>(
    script: K,
    keys: readonly string[],
    args: readonly Arg[],
  ): Promise<ScriptResults[K]> {
    const command = `${script}${keys.length}`;
    const commands = this.redis as unknown as Record<
      string,
      (...a: Arg[]) => Promise<ScriptResults[K]>
    >;
    return commands[command]!(...keys, ...args);
  }

  async reserve(input: {
    reservationId: string;
    userId: number;
    lines: readonly GateLine[];
  }): Promise<ReserveResult> {
    const groups = this.bySlot(input.lines, (line) => line.productId);
    const taken: number[] = [];
    for (const lines of groups) {
      const keys = this.lineKeys(lines);
      const args = [input.reservationId, input.userId, ...lineArgs(lines)];
      const result = toReserveResult(
        await this.call(() => this.run('stampedeReserve', keys, args)),
      );
      if (!result.ok) {
        // A later slot refused: what the earlier ones took goes back (all or nothing).
        if (taken.length > 0) {
          await this.giveBack({ reservationId: input.reservationId, productIds: taken });
        }
        return result;
      }
      taken.push(...lines.map((line) => line.productId));
    }
    return { ok: true };
  }

  async attempt(input: AttemptInput, stock: StockGate): Promise<AttemptResult> {
    if (stock !== this || this.clustered) return attemptInTurn(this, stock, input);
    const { keys, args } = this.admission(input);
    keys.push(...this.lineKeys(input.lines));
    args.push(
      input.answerTtlMs,
      input.reservationId,
      input.userId,
      input.idempotency ? 1 : 0,
      ...lineArgs(input.lines),
    );
    const raw = await this.call(() => this.run('stampedeAttempt', keys, args));
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
      this.run('stampedeRelease', [this.keys.holds(input.productId)], input.reservationIds),
    );
  }

  async giveBack(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    let credited = 0;
    for (const productIds of this.bySlot(input.productIds, (id) => id)) {
      const keys = productIds.flatMap((id) => [
        this.keys.stock(id),
        this.keys.holds(id),
        this.keys.cap(id),
      ]);
      const units = await this.call(() =>
        this.run('stampedeGiveBack', keys, [input.reservationId]),
      );
      if (units > 0) this.announceReturned(productIds);
      credited += units;
    }
    return credited;
  }

  async abandon(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    let marked = 0;
    for (const productIds of this.bySlot(input.productIds, (id) => id)) {
      const keys = productIds.map((id) => this.keys.holds(id));
      marked += await this.call(() => this.run('stampedeAbandon', keys, [input.reservationId]));
    }
    return marked;
  }

  async credit(input: GateCredit): Promise<void> {
    for (const lines of this.bySlot(input.lines, (line) => line.productId)) {
      const keys = lines.flatMap((line) => [
        this.keys.stock(line.productId),
        this.keys.cap(line.productId),
        this.keys.synced(line.productId),
      ]);
      const args = lines.flatMap((line) => [line.quantity, line.version]);
      await this.call(() => this.run('stampedeCredit', keys, [input.userId, ...args]));
      this.announceReturned(lines.map((line) => line.productId));
    }
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
    const [previous, current, stale, committed] = await this.call(() =>
      this.run('stampedeSync', keys, args),
    );
    if (current > 0 && current > previous) this.announceReturned([input.productId]);
    return {
      previous: previous < 0 ? null : previous,
      current,
      staleHoldsDropped: stale,
      committedHoldsDropped: committed,
    };
  }

  async available(productIds: readonly number[]): Promise<(number | null)[]> {
    if (productIds.length === 0) return [];
    const keys = productIds.map((id) => this.keys.stock(id));
    // One MGET on one node; on a cluster one GET per product (they travel together per node).
    const values = await this.call(() =>
      this.clustered ? Promise.all(keys.map((key) => this.redis.get(key))) : this.redis.mget(keys),
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
          this.run(
            'stampedeInspect',
            [this.keys.stock(id), this.keys.holds(id)],
            [input.maxHoldAgeMs],
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
    return toAdmitResult(await this.call(() => this.run('stampedeAdmit', keys, args)));
  }

  async remember(input: RememberInput): Promise<void> {
    await this.rememberMany([input]);
  }

  async rememberMany(inputs: readonly RememberInput[]): Promise<void> {
    if (inputs.length === 0) return;
    // Commands issued together travel together (auto-pipelining), per node on a cluster.
    await this.call(() =>
      Promise.all(
        inputs.map((input) =>
          this.redis.set(
            this.keys.idempotency(input.userId, input.key),
            `A:${input.fingerprint}${JSON.stringify(input.answer)}`,
            'PX',
            Math.max(1, Math.round(input.ttlMs)),
          ),
        ),
      ),
    );
  }

  async forget(input: { userId: number; key: string; reservationId?: string }): Promise<void> {
    const key = this.keys.idempotency(input.userId, input.key);
    await this.call(() => this.run('stampedeForget', [key], [input.reservationId ?? '']));
  }

  async isIntact(): Promise<boolean> {
    return (await this.call(() => this.redis.exists(this.keys.epoch()))) === 1;
  }

  async markIntact(): Promise<void> {
    await this.call(() => this.redis.set(this.keys.epoch(), new Date().toISOString()));
  }

  /**
   * Whether a shard may have lost writes since last asked: its master restarted (a new run id:
   * a crash, a restart from an old snapshot) or another node serves its slots (a failover; a
   * slot moved). Replication is asynchronous: a promoted replica can lack the last decrements,
   * holds, caps and kept answers, so the products on those slots are rebuilt from PostgreSQL.
   */
  async changedShards(): Promise<ShardChange | undefined> {
    let now: SlotOwners;
    try {
      now = await this.slotOwners();
    } catch {
      return undefined;
    }
    const before = this.shards;
    this.shards = now;
    if (!before) return undefined;
    if (!this.clustered) return before.owner(0) === now.owner(0) ? undefined : 'all';
    const changed = new Set<number>();
    for (let slot = 0; slot < SLOTS; slot += 1) {
      if (before.owner(slot) !== now.owner(slot)) changed.add(slot);
    }
    if (changed.size === 0) return undefined;
    if (changed.size === SLOTS) return 'all';
    return (productId) => changed.has(calculateSlot(this.keys.stock(productId)));
  }

  /** Each slot's master and its run id (one entry for one node). */
  private async slotOwners(): Promise<SlotOwners> {
    const runIdOf = async (node: { info(section: string): Promise<string> }) =>
      /run_id:(\w+)/.exec(await node.info('server'))?.[1] ?? '?';
    const cluster = this.redis;
    if (!(cluster instanceof Cluster)) {
      const id = await this.call(() => runIdOf(cluster));
      return { owner: () => id };
    }
    const masters = cluster.nodes('master');
    const runIds = new Map(
      await Promise.all(
        masters.map(
          async (node) =>
            [`${node.options.host}:${node.options.port}`, await runIdOf(node)] as const,
        ),
      ),
    );
    const ranges = await cluster.cluster('SLOTS');
    const owners: string[] = new Array<string>(SLOTS).fill('');
    for (const [start, end, master] of ranges) {
      if (!master) continue;
      const [host, port, id] = master;
      const owner = `${id}/${runIds.get(`${host}:${port}`) ?? '?'}`;
      for (let slot = start; slot <= end; slot += 1) owners[slot] = owner;
    }
    return { owner: (slot) => owners[slot]! };
  }

  /**
   * Items grouped by their product's slot, in the order the items come (one group on one
   * node): each group is one script.
   */
  private bySlot<T>(items: readonly T[], productIdOf: (item: T) => number): T[][] {
    if (!this.clustered) return items.length === 0 ? [] : [[...items]];
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const slot = calculateSlot(this.keys.stock(productIdOf(item)));
      const group = groups.get(slot);
      if (group) group.push(item);
      else groups.set(slot, [item]);
    }
    return [...groups.values()];
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /**
   * Units back on sale, told to every process: one message per product on a channel of this
   * shop's prefix (on a cluster a message reaches every node). Not waited for: a message lost
   * is covered by the sold-out edge's own expiry.
   */
  private announceReturned(productIds: readonly number[]): void {
    for (const productId of productIds) {
      this.redis.publish(this.keys.returnedChannel(), String(productId)).catch(() => undefined);
    }
  }

  async onReturned(listener: (productId: number) => void): Promise<void> {
    // A connection that subscribes can do nothing else: a second one, opened like the first.
    this.subscriber ??= this.redis.duplicate();
    const subscriber = this.subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.keys.returnedChannel()) listener(Number(message));
    });
    if (subscriber.status === 'wait') await subscriber.connect();
    await subscriber.subscribe(this.keys.returnedChannel());
  }

  async holdsKey(input: { userId: number; key: string }): Promise<boolean> {
    const key = this.keys.idempotency(input.userId, input.key);
    return (await this.call(() => this.redis.exists(key))) === 1;
  }

  async close(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
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

const SLOTS = 16384;

/** An order has at most 20 lines (the contract's PlaceOrder). */
const MAX_LINES = 20;
const upTo = (n: number, perLine: number, extra = 0) =>
  Array.from({ length: n }, (_, i) => (i + 1) * perLine + extra);

/** The numbers of keys each script is called with: one command is defined for each. */
const KEY_COUNTS: Record<keyof ScriptResults, readonly number[]> = {
  stampedeReserve: upTo(MAX_LINES, 3),
  // The rate-limit key, the idempotency key when there is one, three keys per line.
  stampedeAttempt: [...upTo(MAX_LINES, 3, 1), ...upTo(MAX_LINES, 3, 2)],
  stampedeRelease: [1],
  stampedeGiveBack: upTo(MAX_LINES, 3),
  stampedeAbandon: upTo(MAX_LINES, 1),
  stampedeCredit: upTo(MAX_LINES, 3),
  stampedeSync: [4],
  stampedeAdmit: [1, 2],
  stampedeForget: [1],
  stampedeInspect: [2],
};

interface SlotOwners {
  owner(slot: number): string;
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
