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
const LIBRARY = {
  admit: lua('lib/admit'),
  reserve: lua('lib/reserve'),
  uncap: lua('lib/uncap'),
  now: lua('lib/now'),
  capTable: lua('lib/cap-table'),
};

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
  stampedeCapTake: [number, string?, number?];
  stampedeCapGiveBack: number;
  stampedeBucketTake: [number, number];
  stampedeBucketGiveBack: number;
  stampedeBucketSettle: [number, number, string[], string[]];
  stampedeBucketAdjust: number;
  stampedeBaseSync: [number, string[], string[]];
}

type RawReserve = [number, string?, number?, number?, number?];
type RawAdmit = [string, (string | number)?];
type RawAttempt = RawReserve | RawAdmit;

const SCRIPTS: Record<keyof ScriptResults, string> = {
  stampedeReserve: LIBRARY.now + LIBRARY.reserve + lua('reserve'),
  stampedeRelease: lua('release'),
  stampedeGiveBack: LIBRARY.uncap + lua('give-back'),
  stampedeCredit: LIBRARY.uncap + lua('credit'),
  stampedeSync: LIBRARY.now + LIBRARY.uncap + LIBRARY.capTable + lua('sync'),
  stampedeAdmit: LIBRARY.admit + lua('admit'),
  stampedeAttempt: LIBRARY.now + LIBRARY.admit + LIBRARY.reserve + lua('attempt'),
  stampedeForget: lua('forget'),
  stampedeAbandon: lua('abandon'),
  stampedeInspect: LIBRARY.now + lua('inspect'),
  stampedeCapTake: LIBRARY.now + lua('buckets/cap-take'),
  stampedeCapGiveBack: LIBRARY.uncap + lua('buckets/cap-give-back'),
  stampedeBucketTake: LIBRARY.now + lua('buckets/take'),
  stampedeBucketGiveBack: lua('buckets/give-back'),
  stampedeBucketSettle: LIBRARY.now + lua('buckets/settle'),
  stampedeBucketAdjust: lua('buckets/adjust'),
  stampedeBaseSync: LIBRARY.now + LIBRARY.uncap + LIBRARY.capTable + lua('buckets/base-sync'),
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
  /** Who hears of units returned, in this process (see `onReturned`). */
  private readonly returnedListeners: ((productId: number) => void)[] = [];
  /** The connection that listens for units returned (see `onReturned`). */
  private subscriber: RedisClient | undefined;
  /** Each product's number of stock buckets, as its lines and syncs say (1 unless told). */
  private readonly layout = new Map<number, number>();
  /** Where each reservation of a bucketed product took its units, in this process. */
  private readonly allocations = new Map<string, Allocation>();
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StockKeys,
  ) {
    this.clustered = redis instanceof Cluster;
    // Defined up front: a pipeline already open copies the commands defined when it opened.
    // One command a script, its number of keys given with each call: every pipeline copies
    // every defined command, so one per script and key count (135 of them) made each
    // pipeline cost more than the commands in it.
    for (const [script, lua] of Object.entries(SCRIPTS)) redis.defineCommand(script, { lua });
  }

  /**
   * Run a gate script (EVALSHA; the body is sent once per connection, and again on NOSCRIPT).
   * On a cluster the node is chosen from the keys the call names (a cluster connection does
   * not auto-pipeline, see db/redis.ts, so commands are never grouped by a first argument).
   */
  private run<K extends keyof ScriptResults>(
    script: K,
    keys: readonly string[],
    args: readonly Arg[],
  ): Promise<ScriptResults[K]> {
    const commands = this.redis as unknown as Record<
      string,
      (...a: Arg[]) => Promise<ScriptResults[K]>
    >;
    return commands[script]!(keys.length, ...keys, ...args);
  }

  async reserve(input: {
    reservationId: string;
    userId: number;
    lines: readonly GateLine[];
  }): Promise<ReserveResult> {
    for (const line of input.lines) this.learnBuckets(line.productId, line.buckets);
    const whole = input.lines.filter((line) => this.bucketsOf(line.productId) === 1);
    const split = input.lines.filter((line) => this.bucketsOf(line.productId) > 1);
    const taken: number[] = [];
    // A later slot refused: what the earlier ones took goes back (all or nothing).
    const refuse = async (result: ReserveResult) => {
      if (taken.length > 0) {
        await this.giveBack({ reservationId: input.reservationId, productIds: taken });
      }
      return result;
    };
    for (const lines of this.bySlot(whole, (line) => line.productId)) {
      const keys = this.lineKeys(lines);
      const args = [input.reservationId, input.userId, ...lineArgs(lines)];
      const result = toReserveResult(
        await this.call(() => this.run('stampedeReserve', keys, args)),
      );
      if (!result.ok) return refuse(result);
      taken.push(...lines.map((line) => line.productId));
    }
    for (const line of split) {
      const result = await this.reserveAcrossBuckets(input.reservationId, input.userId, line);
      if (!result.ok) return refuse(result);
      taken.push(line.productId);
    }
    return { ok: true };
  }

  /**
   * One line of a product split over k buckets: its cap on the base slot first, then its units
   * from the buckets in turn, starting at the user's (so that buyers spread over the shards),
   * taking what each has until the line is whole; short of that, everything taken goes back
   * and the line is refused with the units the buckets had. A line is refused as sold out only
   * when the product's buckets together have too few units, never because one bucket ran dry.
   */
  private async reserveAcrossBuckets(
    reservationId: string,
    userId: number,
    line: GateLine,
  ): Promise<ReserveResult> {
    const { productId, quantity, limit } = line;
    const buckets = this.bucketsOf(productId);
    const capped = limit !== null && limit > 0;
    if (capped) {
      const [ok, reason, had] = await this.call(() =>
        this.run(
          'stampedeCapTake',
          [this.keys.cap(productId), this.keys.capHolds(productId)],
          [reservationId, userId, quantity, limit],
        ),
      );
      if (ok !== 1) {
        return reason === 'limit'
          ? { ok: false, reason: 'limit', productId, alreadyOrdered: Number(had) }
          : { ok: false, reason: 'duplicate', productId };
      }
    }
    let needed = quantity;
    let seen = 0;
    const from: number[] = [];
    const undo = () => this.giveBackBuckets(reservationId, productId, { buckets, from }, capped);
    for (let i = 0; i < buckets && needed > 0; i += 1) {
      const bucket = (userId + i) % buckets;
      const [took, before] = await this.call(() =>
        this.run(
          'stampedeBucketTake',
          [
            this.keys.bucketStock(productId, bucket, buckets),
            this.keys.bucketHolds(productId, bucket, buckets),
          ],
          [reservationId, userId, needed],
        ),
      );
      if (took < 0) {
        await undo();
        return { ok: false, reason: took === -1 ? 'missing' : 'duplicate', productId };
      }
      seen += before;
      if (took > 0) {
        needed -= took;
        from.push(bucket);
      }
    }
    if (needed > 0) {
      await undo();
      return { ok: false, reason: 'insufficient', productId, available: seen };
    }
    this.allocations.set(allocationKey(reservationId, productId), { buckets, from });
    return { ok: true };
  }

  /**
   * How a reservation took its units of a product: over the buckets (and from which, when this
   * process took them) or whole. Forgotten as it is asked: each caller settles the hold. Where
   * this process does not know, both are settled: each settles once, and the two never
   * overlap (a whole line's hold lies in `holds`, a split one's in the buckets' holds).
   */
  private takenAs(
    reservationId: string,
    productId: number,
  ): { whole: boolean; split?: Allocation } {
    const key = allocationKey(reservationId, productId);
    const taken = this.allocations.get(key);
    this.allocations.delete(key);
    if (taken) return { whole: false, split: taken };
    const buckets = this.bucketsOf(productId);
    if (buckets === 1) return { whole: true };
    return { whole: true, split: { buckets, from: [...Array(buckets).keys()] } };
  }

  /** A bucketed line's units go back to the buckets they came from, and its cap, once. */
  private async giveBackBuckets(
    reservationId: string,
    productId: number,
    { buckets: k, from }: Allocation,
    capped: boolean,
  ): Promise<number> {
    let credited = 0;
    for (const bucket of from) {
      credited += await this.call(() =>
        this.run(
          'stampedeBucketGiveBack',
          [
            this.keys.bucketStock(productId, bucket, k),
            this.keys.bucketHolds(productId, bucket, k),
          ],
          [reservationId],
        ),
      );
    }
    if (capped) {
      await this.call(() =>
        this.run(
          'stampedeCapGiveBack',
          [this.keys.cap(productId), this.keys.capHolds(productId)],
          [reservationId],
        ),
      );
    }
    if (credited > 0) this.announceReturned([productId]);
    return credited;
  }

  private bucketsOf(productId: number): number {
    return this.layout.get(productId) ?? 1;
  }

  private learnBuckets(productId: number, buckets: number | undefined): void {
    if (buckets !== undefined) this.layout.set(productId, buckets);
  }

  /**
   * Learn the split of products this process was not told about from what each one's last sync
   * recorded (a product never synced has no counter to read yet, and stays unknown).
   */
  private async learnLayouts(
    productIds: readonly number[],
    buckets: readonly number[] | undefined,
  ): Promise<void> {
    productIds.forEach((id, i) => this.learnBuckets(id, buckets?.[i]));
    const unknown = productIds.filter((id) => !this.layout.has(id));
    if (unknown.length === 0) return;
    const recorded = await this.call(() =>
      Promise.all(unknown.map((id) => this.redis.hget(this.keys.synced(id), 'buckets'))),
    );
    unknown.forEach((id, i) => {
      if (recorded[i] !== null) this.layout.set(id, Number(recorded[i]));
    });
  }

  async attempt(input: AttemptInput, stock: StockGate): Promise<AttemptResult> {
    for (const line of input.lines) this.learnBuckets(line.productId, line.buckets);
    const split = input.lines.some((line) => this.bucketsOf(line.productId) > 1);
    if (stock !== this || this.clustered || split) return attemptInTurn(this, stock, input);
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
    const { productId, reservationIds } = input;
    const byKey = new Map<string, string[]>();
    const add = (key: string, id: string) => byKey.set(key, [...(byKey.get(key) ?? []), id]);
    for (const id of reservationIds) {
      const { whole, split } = this.takenAs(id, productId);
      if (whole) add(this.keys.holds(productId), id);
      if (!split) continue;
      for (const bucket of split.from)
        add(this.keys.bucketHolds(productId, bucket, split.buckets), id);
      add(this.keys.capHolds(productId), id);
    }
    await Promise.all(
      [...byKey].map(([key, ids]) => this.call(() => this.run('stampedeRelease', [key], ids))),
    );
  }

  async giveBack(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    const { reservationId } = input;
    const ways = input.productIds.map((productId) => ({
      productId,
      ...this.takenAs(reservationId, productId),
    }));
    let credited = 0;
    const whole = ways.filter((way) => way.whole).map((way) => way.productId);
    for (const productIds of this.bySlot(whole, (id) => id)) {
      const keys = productIds.flatMap((id) => [
        this.keys.stock(id),
        this.keys.holds(id),
        this.keys.cap(id),
      ]);
      const units = await this.call(() => this.run('stampedeGiveBack', keys, [reservationId]));
      if (units > 0) this.announceReturned(productIds);
      credited += units;
    }
    for (const { productId, split } of ways) {
      if (split) credited += await this.giveBackBuckets(reservationId, productId, split, true);
    }
    return credited;
  }

  async abandon(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    const holdKeys = input.productIds.flatMap((productId) => {
      const { whole, split } = this.takenAs(input.reservationId, productId);
      return [
        ...(whole ? [this.keys.holds(productId)] : []),
        ...(split
          ? [
              ...split.from.map((bucket) =>
                this.keys.bucketHolds(productId, bucket, split.buckets),
              ),
              this.keys.capHolds(productId),
            ]
          : []),
      ];
    });
    let marked = 0;
    for (const keys of this.bySlotOfKeys(holdKeys)) {
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
    // The split in use, and those being left: a hold may be in any while the split changes.
    const split = await this.recordedSplit(productId);
    const layouts = [this.bucketsOf(productId), split.buckets ?? 1, ...split.retired];
    const keys = new Set([
      this.keys.holds(productId),
      ...layouts
        .filter((k) => k > 1)
        .flatMap((k) =>
          [...Array(k).keys()].map((bucket) => this.keys.bucketHolds(productId, bucket, k)),
        ),
    ]);
    const hashes = await this.call(() =>
      Promise.all([...keys].map((key) => this.redis.hgetall(key))),
    );
    const held = new Map<string, HoldRecord>();
    for (const raw of hashes) {
      for (const [reservationId, value] of Object.entries(raw)) {
        const [quantity, userId] = value.split(':');
        const before = held.get(reservationId)?.quantity ?? 0;
        held.set(reservationId, {
          reservationId,
          quantity: before + Number(quantity),
          userId: Number(userId),
        });
      }
    }
    return [...held.values()];
  }

  async sync(input: SyncInput): Promise<SyncResult> {
    const { productId } = input;
    this.learnBuckets(productId, input.buckets);
    const k = this.bucketsOf(productId);
    const split = await this.recordedSplit(productId);
    // The splits being left: the one the last sync used, and earlier ones whose buckets still
    // held units (a hold taken in a split, given back later, returns its units there).
    const leaving = [split.buckets ?? 1, ...split.retired]
      .filter((layout) => layout !== k)
      .filter((layout, i, all) => all.indexOf(layout) === i);
    const { result, retired } =
      k === 1 && leaving.length === 0
        ? { result: await this.syncWhole(input), retired: [] }
        : await this.syncAcrossBuckets(input, k, leaving);
    // Recorded for the processes that read a product's split from its gate (`learnLayouts`),
    // with the splits left whose buckets must still be drained.
    if (split.buckets !== k || split.retired.join() !== retired.join()) {
      await this.call(() =>
        this.redis.hset(this.keys.synced(productId), { buckets: k, retired: retired.join() }),
      );
    }
    if (result.current > 0 && result.current > (result.previous ?? -1)) {
      this.announceReturned([input.productId]);
    }
    return result;
  }

  /** The split a product's last sync used, and the splits left that still held units. */
  private async recordedSplit(productId: number): Promise<RecordedSplit> {
    const [buckets, retired] = await this.call(() =>
      this.redis.hmget(this.keys.synced(productId), 'buckets', 'retired'),
    );
    return {
      buckets: buckets ? Number(buckets) : null,
      retired: retired ? retired.split(',').map(Number) : [],
    };
  }

  private async syncWhole(input: SyncInput): Promise<SyncResult> {
    const keys = [
      this.keys.stock(input.productId),
      this.keys.holds(input.productId),
      this.keys.cap(input.productId),
      this.keys.synced(input.productId),
    ];
    const args: Arg[] = [
      input.available,
      input.version,
      input.maxHoldAgeMs,
      CAP_MODES[input.caps.mode],
      input.committed.length,
      ...input.committed,
      ...livePairs(input),
    ];
    const [previous, current, stale, committed] = await this.call(() =>
      this.run('stampedeSync', keys, args),
    );
    return {
      previous: previous < 0 ? null : previous,
      current,
      staleHoldsDropped: stale,
      committedHoldsDropped: committed,
    };
  }

  /**
   * The sync of a product over k buckets (or leaving the splits `leaving`): the base slot's cap
   * holds, caps and versions first; then every bucket's holds settled (those of the splits
   * being left too: their holds still count, their units move to the k buckets); then the
   * units the database has, less those held, spread evenly over the k buckets. Units are taken
   * from a bucket only as far as it has them, and what is added is what the buckets lack of
   * the total, so buyers taking units meanwhile (a take moves a unit from a bucket's counter to
   * its holds) leave the gate's total, counters plus holds, at the database's. The caller holds
   * the stock row exclusively: no order commits and no other sync runs meanwhile.
   */
  private async syncAcrossBuckets(
    input: SyncInput,
    k: number,
    leaving: readonly number[],
  ): Promise<{ result: SyncResult; retired: number[] }> {
    const { productId } = input;
    // The cap holds, and the holds of lines taken whole (with their units).
    const [wholeHeld, ...baseDropped] = await this.call(() =>
      this.run(
        'stampedeBaseSync',
        [
          this.keys.cap(productId),
          this.keys.capHolds(productId),
          this.keys.synced(productId),
          this.keys.holds(productId),
        ],
        [
          input.version,
          input.maxHoldAgeMs,
          CAP_MODES[input.caps.mode],
          input.committed.length,
          ...input.committed,
          ...livePairs(input),
        ],
      ),
    );
    const settle = (stock: string, holds: string) =>
      this.call(() =>
        this.run('stampedeBucketSettle', [stock, holds], [input.maxHoldAgeMs, ...input.committed]),
      );
    const buckets = await Promise.all(
      [...Array(k).keys()].map((b) =>
        settle(this.keys.bucketStock(productId, b, k), this.keys.bucketHolds(productId, b, k)),
      ),
    );
    // The buckets of a split being left (bucket 0, the base, is every split's).
    const retired = leaving.flatMap((layout) =>
      [...Array(layout).keys()].slice(1).map((b) => ({
        layout,
        stock: this.keys.bucketStock(productId, b, layout),
        holds: this.keys.bucketHolds(productId, b, layout),
      })),
    );
    const left = await Promise.all(retired.map((bucket) => settle(bucket.stock, bucket.holds)));
    for (const [i, [counter]] of left.entries()) {
      if (counter > 0) {
        await this.call(() => this.run('stampedeBucketAdjust', [retired[i]!.stock], [-counter]));
      }
    }
    const held = [...buckets, ...left].reduce((sum, [, h]) => sum + h, wholeHeld);
    const target = Math.max(0, input.available - held);
    const missing = buckets.every(([counter]) => counter < 0);
    const counters = buckets.map(([counter]) => Math.max(0, counter));
    const previous = missing
      ? null
      : [...counters, ...left.map(([counter]) => Math.max(0, counter))].reduce((a, c) => a + c, 0);
    const shares = counters.map((_, b) => Math.floor(target / k) + (b < target % k ? 1 : 0));
    const adjust = async (bucket: number, delta: number) => {
      const stock = this.keys.bucketStock(productId, bucket, k);
      const moved = await this.call(() => this.run('stampedeBucketAdjust', [stock], [delta]));
      counters[bucket] = counters[bucket]! + moved;
    };
    // Too many in a bucket: taken down to its share (as far as it still has them).
    for (const [b, counter] of counters.entries()) {
      if (counter > shares[b]!) await adjust(b, shares[b]! - counter);
    }
    // Still too many in all (buyers held units the take-down could not reach): any bucket.
    for (const [b] of counters.entries()) {
      const excess = counters.reduce((sum, c) => sum + c, 0) - target;
      if (excess > 0 && counters[b]! > 0) await adjust(b, -Math.min(excess, counters[b]!));
    }
    // Too few: the buckets below their share get what is lacking, up to the total.
    for (const [b, counter] of counters.entries()) {
      const lacking = target - counters.reduce((sum, c) => sum + c, 0);
      if (lacking > 0 && counter < shares[b]!) {
        await adjust(b, Math.min(lacking, shares[b]! - counter));
      }
    }
    const rest = target - counters.reduce((sum, c) => sum + c, 0);
    if (rest > 0) await adjust(0, rest);
    // Every bucket exists from now on (a missing one would read as a product never synced).
    for (const [b, [counter]] of buckets.entries()) {
      if (counter < 0 && counters[b] === 0) await adjust(b, 0);
    }
    // A reservation's holds in several buckets are one hold dropped.
    const dropped = (i: 2 | 3) =>
      new Set([...buckets, ...left].flatMap((entry) => entry[i]).concat(baseDropped[i - 2]!)).size;
    return {
      result: {
        previous,
        current: counters.reduce((sum, c) => sum + c, 0),
        staleHoldsDropped: dropped(2),
        committedHoldsDropped: dropped(3),
      },
      // A split left is forgotten once its buckets hold nothing more.
      retired: leaving.filter((layout) =>
        left.some(([, held], i) => held > 0 && retired[i]!.layout === layout),
      ),
    };
  }

  async available(
    productIds: readonly number[],
    buckets?: readonly number[],
  ): Promise<(number | null)[]> {
    if (productIds.length === 0) return [];
    await this.learnLayouts(productIds, buckets);
    if (productIds.every((id) => this.bucketsOf(id) === 1)) {
      const keys = productIds.map((id) => this.keys.stock(id));
      // One MGET on one node; on a cluster one GET per product (they travel together per node).
      const values = await this.call(() =>
        this.clustered
          ? Promise.all(keys.map((key) => this.redis.get(key)))
          : this.redis.mget(keys),
      );
      return values.map((value) => (value === null ? null : Number(value)));
    }
    return this.call(() =>
      Promise.all(
        productIds.map(async (id) => {
          const k = this.bucketsOf(id);
          const values = await Promise.all(
            [...Array(k).keys()].map((b) => this.redis.get(this.keys.bucketStock(id, b, k))),
          );
          if (values.every((value) => value === null)) return null;
          return values.reduce((sum, value) => sum + Number(value ?? 0), 0);
        }),
      ),
    );
  }

  async inspect(input: {
    productIds: readonly number[];
    buckets?: readonly number[];
    maxHoldAgeMs: number;
  }): Promise<GateSnapshot[]> {
    await this.learnLayouts(input.productIds, input.buckets);
    const look = (stock: string, holds: string) =>
      this.run('stampedeInspect', [stock, holds], [input.maxHoldAgeMs]);
    // One script for each bucket of each product (each on its own slot), sent together; the
    // holds of lines taken whole are looked at with the base counter.
    return this.call(() =>
      Promise.all(
        input.productIds.map(async (id) => {
          const k = this.bucketsOf(id);
          const [[base, ...wholeHolds], ...buckets] = await Promise.all([
            look(this.keys.stock(id), this.keys.holds(id)),
            ...(k === 1
              ? []
              : [...Array(k).keys()].map((b) =>
                  look(this.keys.bucketStock(id, b, k), this.keys.bucketHolds(id, b, k)),
                )),
          ]);
          const counters = k === 1 ? [base] : buckets.map(([counter]) => counter);
          const all = [wholeHolds, ...buckets.map(([, ...holds]) => holds)];
          return {
            counter: counters.some((counter) => counter < 0)
              ? null
              : counters.reduce((sum, counter) => sum + counter, 0),
            held: all.reduce((sum, [held]) => sum + held!, 0),
            stale: all.reduce((sum, [, stale]) => sum + stale!, 0),
          };
        }),
      ),
    );
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
            storedAnswer(input),
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

  /** Keys grouped by slot (one group on one node): each group is one script. */
  private bySlotOfKeys(keys: readonly string[]): string[][] {
    if (!this.clustered) return keys.length === 0 ? [] : [[...keys]];
    const groups = new Map<number, string[]>();
    for (const key of keys) {
      const slot = calculateSlot(key);
      groups.set(slot, [...(groups.get(slot) ?? []), key]);
    }
    return [...groups.values()];
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
   * is covered by the sold-out edge's own expiry. This process hears at once, before the
   * answer of the request that returned them.
   */
  private announceReturned(productIds: readonly number[]): void {
    for (const productId of productIds) {
      for (const listener of this.returnedListeners) listener(productId);
      this.redis.publish(this.keys.returnedChannel(), String(productId)).catch(() => undefined);
    }
  }

  async onReturned(listener: (productId: number) => void): Promise<void> {
    this.returnedListeners.push(listener);
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

  async rememberIfNew(input: RememberInput): Promise<boolean> {
    const stored = await this.call(() =>
      this.redis.set(
        this.keys.idempotency(input.userId, input.key),
        storedAnswer(input),
        'PX',
        Math.max(1, Math.round(input.ttlMs)),
        'NX',
      ),
    );
    return stored === 'OK';
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

const CAP_MODES = { keep: '0', rebuild: '1', clear: '2' } as const;

/** Pairs of user id and units in live orders, when the caps are rebuilt. */
function livePairs(input: SyncInput): Arg[] {
  if (input.caps.mode !== 'rebuild') return [];
  return [...input.caps.liveUnitsByUser].flatMap(([userId, units]) => [userId, units]);
}

/** A product's split as its gate records it (null: never recorded), and splits left. */
interface RecordedSplit {
  readonly buckets: number | null;
  readonly retired: readonly number[];
}

/** The buckets a reservation took units from, in the split of `buckets` it took them in. */
interface Allocation {
  readonly buckets: number;
  readonly from: readonly number[];
}

/** A key's kept answer as admit.lua reads it: `A:`, the request's fingerprint, the answer. */
function storedAnswer(input: RememberInput): string {
  return `A:${input.fingerprint}${JSON.stringify(input.answer)}`;
}

function allocationKey(reservationId: string, productId: number): string {
  return `${reservationId}:${productId}`;
}

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
