/**
 * The gate in front of PostgreSQL, split by concern. `Admission` answers who may try at all (the
 * per-user rate limit, the answers an Idempotency-Key keeps); `StockGate` holds an atomic counter
 * per product, so that the database sees about as many writes as there are units, not as many as
 * there are buyers. Each is implemented by Redis (Lua scripts) and in process (one process
 * only); the stock also by the database alone (`STOCK_GATE=off`). One contract test suite runs
 * against every implementation.
 */

export interface GateLine {
  readonly productId: number;
  readonly quantity: number;
  /** The product's `max_per_user`, or null for no cap. */
  readonly limit: number | null;
  /** The product's stock buckets (`stock_buckets`), 1 unless said. */
  readonly buckets?: number;
}

export type ReserveResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'insufficient';
      readonly productId: number;
      readonly available: number;
    }
  | {
      readonly ok: false;
      readonly reason: 'limit';
      readonly productId: number;
      readonly alreadyOrdered: number;
    }
  | { readonly ok: false; readonly reason: 'missing'; readonly productId: number }
  | { readonly ok: false; readonly reason: 'duplicate'; readonly productId: number };

export type Refusal = Exclude<ReserveResult, { readonly ok: true }>;

/** A hold as the gate keeps it: units a request took and has not yet written or given back. */
export interface HoldRecord {
  readonly reservationId: string;
  readonly quantity: number;
  readonly userId: number;
}

export type CapMode =
  | { readonly mode: 'keep' }
  /** Units each user has in live (pending or paid) orders, from the database. */
  | { readonly mode: 'rebuild'; readonly liveUnitsByUser: ReadonlyMap<number, number> }
  | { readonly mode: 'clear' };

export interface SyncInput {
  readonly productId: number;
  /** The product's stock buckets (`stock_buckets`): its units are spread over them. */
  readonly buckets?: number;
  /** `stock.available` read under the row lock. */
  readonly available: number;
  /** `stock.version` read with it: credits of restores it already counts are not applied again. */
  readonly version: number;
  /** Reservation ids among the current holds whose orders are committed. */
  readonly committed: readonly string[];
  readonly maxHoldAgeMs: number;
  readonly caps: CapMode;
}

/** What a committed restore gives back to the gate. */
export interface GateCredit {
  readonly userId: number;
  /** Per product: the units, and the `stock.version` the restore's update produced. */
  readonly lines: readonly { productId: number; quantity: number; version: number }[];
}

export interface SyncResult {
  /** The counter before, or null when the gate had none. */
  readonly previous: number | null;
  readonly current: number;
  readonly staleHoldsDropped: number;
  readonly committedHoldsDropped: number;
}

/** One product's gate as the sweep sees it. */
export interface GateSnapshot {
  /** The counter, or null when the gate has none. */
  readonly counter: number | null;
  /** Units in holds. */
  readonly held: number;
  /** Holds older than the age asked about (abandoned ones count as old). */
  readonly stale: number;
}

/** A stock or cap refusal, stored by the gate itself in the attempt's round trip. */
export interface StoredRefusal {
  readonly refusal: 'insufficient' | 'limit';
  readonly product_id: number;
  readonly requested: number;
  /** The line's `max_per_user` (0 = none). */
  readonly limit: number;
  /** Units available ('insufficient') or already ordered ('limit'). */
  readonly value: number;
}

export type StoredAnswer =
  | {
      readonly status: number;
      /** A created order is answered again from the database by id. */
      readonly orderId?: number;
      readonly body?: unknown;
    }
  | StoredRefusal;

export type AdmitResult =
  | { readonly kind: 'admitted' }
  | { readonly kind: 'rate_limited'; readonly retryAfterMs: number }
  | { readonly kind: 'in_flight' }
  | { readonly kind: 'key_reused' }
  | { readonly kind: 'replay'; readonly answer: StoredAnswer };

export interface AdmitInput {
  readonly userId: number;
  readonly rateLimitMs: number;
  /** The reservation that owns the key's in-flight marker (see `forget`). */
  readonly reservationId?: string;
  readonly idempotency?: {
    readonly key: string;
    /** 64 hex characters. */
    readonly fingerprint: string;
    readonly inFlightTtlMs: number;
  };
}

export type AttemptResult =
  | Exclude<AdmitResult, { readonly kind: 'admitted' }>
  | { readonly kind: 'reserved' }
  | { readonly kind: 'refused'; readonly refusal: Refusal };

export interface AttemptInput extends AdmitInput {
  readonly reservationId: string;
  readonly lines: readonly GateLine[];
  /** How long a stock or cap refusal is kept as the idempotency key's answer. */
  readonly answerTtlMs: number;
}

export interface RememberInput {
  readonly userId: number;
  readonly key: string;
  readonly fingerprint: string;
  readonly answer: StoredAnswer;
  readonly ttlMs: number;
}

/** Who may try: the rate limit and the answers idempotency keys keep. */
export interface Admission {
  /** Replay, then the rate limit; an admitted key is marked in flight. */
  admit(input: AdmitInput): Promise<AdmitResult>;
  /**
   * Admission and the reservation of every line, the whole gate step of an order: a stock or
   * cap refusal is kept as the key's answer. Where admission and stock share one Redis node (or
   * one process) this is one atomic step; elsewhere the two follow one another (`attemptInTurn`).
   */
  attempt(input: AttemptInput, stock: StockGate): Promise<AttemptResult>;
  remember(input: RememberInput): Promise<void>;
  rememberMany(inputs: readonly RememberInput[]): Promise<void>;
  /**
   * Drop an in-flight marker, so a retry with the same key is processed afresh. Given a
   * reservation id, only the marker of that reservation is dropped (never a kept answer).
   */
  forget(input: { userId: number; key: string; reservationId?: string }): Promise<void>;
  /**
   * Keep an answer for a key that holds nothing yet (no answer, no request in flight), in one
   * step. False when the key holds something: it is left as it was.
   */
  rememberIfNew(input: RememberInput): Promise<boolean>;
}

/** Shards that may have lost writes: all of them, or the products matching. */
export type ShardChange = 'all' | ((productId: number) => boolean);

/** The units on sale, product by product. */
export interface StockGate {
  readonly kind: 'redis' | 'memory' | 'database';
  /**
   * False for the database alone: nothing is counted in front of PostgreSQL, so there is
   * nothing to sync, sweep or rebuild.
   */
  readonly tracksStock: boolean;
  /** Check and take every line at once, recording a hold under `reservationId`. */
  reserve(input: {
    reservationId: string;
    userId: number;
    lines: readonly GateLine[];
  }): Promise<ReserveResult>;
  /** The holds' orders committed: drop the holds, credit nothing. */
  release(input: { productId: number; reservationIds: readonly string[] }): Promise<void>;
  /** Compensation: drop the hold and credit its units back, at most once. Returns units credited. */
  giveBack(input: { reservationId: string; productIds: readonly number[] }): Promise<number>;
  /**
   * The request gave up without knowing whether its order was written: its holds are marked
   * stale, for the next sync to settle against the database. Returns the holds marked.
   */
  abandon(input: { reservationId: string; productIds: readonly number[] }): Promise<number>;
  /**
   * A restored order's units go back on sale and stop counting against the user's cap, unless
   * a sync that ran after the restore committed has already counted them.
   */
  credit(input: GateCredit): Promise<void>;
  holds(productId: number): Promise<HoldRecord[]>;
  sync(input: SyncInput): Promise<SyncResult>;
  /**
   * The live counters, null where the gate has none. `buckets` (in the order of the ids) is
   * each product's `stock_buckets` where the caller knows it; the gate otherwise reads the
   * split its last sync recorded.
   */
  available(productIds: readonly number[], buckets?: readonly number[]): Promise<(number | null)[]>;
  /** Counter, units held and stale holds of each product, in the order asked. */
  inspect(input: {
    productIds: readonly number[];
    buckets?: readonly number[];
    maxHoldAgeMs: number;
  }): Promise<GateSnapshot[]>;
  /**
   * Take a named lease for `ttlMs` if no one holds it (one process of many runs the sweep
   * each round). True when taken.
   */
  lease(name: string, ttlMs: number): Promise<boolean>;
  /**
   * Be told (in every process sharing the gate) when units of a product go back on sale: a
   * credit, a hold given back, a sync that raised the counter. A process that answers "sold out"
   * from memory (the sold-out edge) listens, to stop at once.
   */
  onReturned(listener: (productId: number) => void): Promise<void>;
  /** Whether the gate's data is intact (false after a Redis restart or flush). */
  isIntact(): Promise<boolean>;
  /**
   * Shards whose data may be stale since the last call (a failover, a restart, an old
   * snapshot loaded), or undefined. The first call only looks.
   */
  changedShards(): Promise<ShardChange | undefined>;
  markIntact(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A stock or cap refusal as an idempotency key keeps it (attempt.lua stores the same shape);
 * undefined for refusals that are no answer ('missing', 'duplicate').
 */
export function storedRefusalOf(refusal: Refusal, line: GateLine): StoredRefusal | undefined {
  const kept = { product_id: line.productId, requested: line.quantity, limit: line.limit ?? 0 };
  switch (refusal.reason) {
    case 'insufficient':
      return { refusal: 'insufficient', ...kept, value: refusal.available };
    case 'limit':
      return { refusal: 'limit', ...kept, value: refusal.alreadyOrdered };
    default:
      return undefined;
  }
}

/**
 * Admission and reservation as two steps, for an admission and a stock that cannot act as one
 * (the database alone; on Redis Cluster, the user's and the product's keys on two slots): the
 * key is marked in flight first, and a stock or cap refusal is then kept as its answer.
 */
export async function attemptInTurn(
  admission: Admission,
  stock: StockGate,
  input: AttemptInput,
): Promise<AttemptResult> {
  // Without a key and without a rate limit there is nothing to admit: one round trip fewer.
  if (input.idempotency || input.rateLimitMs > 0) {
    const admitted = await admission.admit(input);
    if (admitted.kind !== 'admitted') return admitted;
  }
  const reserved = await stock.reserve(input);
  if (reserved.ok) return { kind: 'reserved' };
  const line = input.lines.find((l) => l.productId === reserved.productId)!;
  const answer = storedRefusalOf(reserved, line);
  if (input.idempotency && answer) {
    await admission.remember({
      userId: input.userId,
      key: input.idempotency.key,
      fingerprint: input.idempotency.fingerprint,
      answer,
      ttlMs: input.answerTtlMs,
    });
  }
  return { kind: 'refused', refusal: reserved };
}
