/**
 * The stock gate: an atomic counter per product in front of PostgreSQL, so the database sees
 * about as many writes as there are units, not as many as there are buyers. Two implementations
 * share this contract and one test suite: Redis (Lua scripts) and in-process (one process only).
 */

export interface GateLine {
  readonly productId: number;
  readonly quantity: number;
  /** The product's `max_per_user`, or null for no cap. */
  readonly limit: number | null;
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

export interface Hold {
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

export type Refusal = Exclude<ReserveResult, { readonly ok: true }>;

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

/** One product's gate as the sweep sees it. */
export interface GateSnapshot {
  /** The counter, or null when the gate has none. */
  readonly counter: number | null;
  /** Units in holds. */
  readonly held: number;
  /** Holds older than the age asked about (abandoned ones count as old). */
  readonly stale: number;
}

export interface StockGate {
  readonly kind: 'redis' | 'memory';
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
  holds(productId: number): Promise<Hold[]>;
  sync(input: SyncInput): Promise<SyncResult>;
  /** The live counters, null where the gate has none. */
  available(productIds: readonly number[]): Promise<(number | null)[]>;
  /** Counter, units held and stale holds of each product, in the order asked. */
  inspect(input: { productIds: readonly number[]; maxHoldAgeMs: number }): Promise<GateSnapshot[]>;
  /**
   * Take a named lease for `ttlMs` if no one holds it (one process of many runs the sweep
   * each round). True when taken.
   */
  lease(name: string, ttlMs: number): Promise<boolean>;

  admit(input: AdmitInput): Promise<AdmitResult>;
  /**
   * Admission and reservation at once (one round trip): replay, rate limit, then every line;
   * a stock or cap refusal is kept as the idempotency key's answer.
   */
  attempt(input: AttemptInput): Promise<AttemptResult>;
  remember(input: RememberInput): Promise<void>;
  rememberMany(inputs: readonly RememberInput[]): Promise<void>;
  /**
   * Drop an in-flight marker, so a retry with the same key is processed afresh. Given a
   * reservation id, only the marker of that reservation is dropped (never a kept answer).
   */
  forget(input: { userId: number; key: string; reservationId?: string }): Promise<void>;

  /** Whether the gate's data is intact (false after a Redis restart or flush). */
  isIntact(): Promise<boolean>;
  markIntact(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The gate cannot be reached (Redis down or not connected): orders pause, nothing is decided. */
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

export class GateUnavailableError extends Error {
  override name = 'GateUnavailableError';
}
