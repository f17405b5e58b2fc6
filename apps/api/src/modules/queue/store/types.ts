/**
 * The waiting rooms' state, apart from the operator's settings (PostgreSQL). Implemented on
 * Redis (Lua scripts, every key of a queue on one slot) and in process (one process only, for
 * the zero-setup mode); one contract test suite runs against both.
 */

/** Where a buyer stands, as the store knows it. */
export type BuyerRecord =
  | { readonly joined: false }
  | {
      readonly joined: true;
      readonly score: number;
      readonly joinedAt: number;
      /** 0-based among the waiting, or null when not waiting (admitted, or not yet restored). */
      readonly rank: number | null;
      /** The pass's expiry (ms), or null when none was handed out. */
      readonly passExpiresAt: number | null;
      readonly waiting: number;
      /** Passes handed out in the last minute (the measured rate). */
      readonly admittedLastMinute: number;
      /** True when this call put the buyer back from their ticket. */
      readonly restored: boolean;
    };

export interface JoinResult {
  /** False when the buyer had joined already: their first ticket is answered. */
  readonly added: boolean;
  readonly score: number;
  readonly joinedAt: number;
}

export interface AdmitStep {
  readonly now: number;
  readonly perMinute: number;
  /** 0: no cap but the stock's. */
  readonly maxActive: number;
  /** Live passes at most this (units left × factor, rounded up). */
  readonly bound: number;
  readonly passTtlMs: number;
  /** False while paused or outside the sale: passes expire, none are handed out. */
  readonly open: boolean;
}

export interface AdmitOutcome {
  readonly admitted: number;
  readonly active: number;
  readonly waiting: number;
  readonly expired: number;
}

export interface QueueFigures {
  readonly waiting: number;
  readonly active: number;
  readonly admittedTotal: number;
  readonly admittedLastMinute: number;
  readonly expiredTotal: number;
}

export interface QueueStore {
  readonly kind: 'redis' | 'memory';
  /** Add the buyer at `score`, or answer the ticket they already have. */
  join(input: {
    productId: number;
    userId: number;
    score: number;
    joinedAt: number;
  }): Promise<JoinResult>;
  /** The buyer's record; a verified ticket given puts a buyer the store lost back first. */
  status(input: {
    productId: number;
    userId: number;
    now: number;
    ticket?: { score: number; joinedAt: number };
  }): Promise<BuyerRecord>;
  admit(productId: number, step: AdmitStep): Promise<AdmitOutcome>;
  figures(productId: number, now: number): Promise<QueueFigures>;
  /** The expiry of the buyer's pass, or null (none handed out, or lost). */
  passOf(productId: number, userId: number): Promise<number | null>;
  /** The buyer ordered: the pass stops counting as active (it stays valid until it expires). */
  spend(productId: number, userId: number): Promise<void>;
  /** Remember a solved challenge until `ttlMs`; false when it was used already. */
  spendChallenge(signature: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}
