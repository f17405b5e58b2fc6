/**
 * Every Redis key of the waiting rooms. All keys of one product's queue share the hash tag
 * `{q:<id>}`, so each queue script touches a single cluster slot; a spent challenge is a key of
 * its own (one command, any slot).
 */
export interface QueueKeys {
  /** Waiting buyers: user id -> place score (pre-queue draws below every later arrival's). */
  line(productId: number): string;
  /** Everyone who joined: user id -> "score,joinedAt" (idempotent joins, loss detection). */
  tickets(productId: number): string;
  /** Passes handed out: user id -> expiry (ms). Checked by the order path. */
  passes(productId: number): string;
  /** Passes counting as active (live, not yet spent on an order): user id -> expiry (ms). */
  live(productId: number): string;
  /** Admissions of the last minute: user id -> when (ms), for the measured rate. */
  admitted(productId: number): string;
  /** The shared token bucket and counters: tokens, last, expired. */
  bucket(productId: number): string;
  /** A solved challenge, remembered until it expires so it is used once. */
  spentChallenge(signature: string): string;
}

export function queueKeys(prefix: string): QueueKeys {
  const tag = (productId: number) => `${prefix}{q:${productId}}`;
  return {
    line: (id) => `${tag(id)}:line`,
    tickets: (id) => `${tag(id)}:tickets`,
    passes: (id) => `${tag(id)}:passes`,
    live: (id) => `${tag(id)}:live`,
    admitted: (id) => `${tag(id)}:admitted`,
    bucket: (id) => `${tag(id)}:bucket`,
    spentChallenge: (signature) => `${prefix}altcha:${signature}`,
  };
}
