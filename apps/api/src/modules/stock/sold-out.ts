/**
 * The sold-out edge: once the gate has said a product is sold out, this process answers further
 * attempts for it from memory, without a round trip to Redis, until units come back. The gate
 * announces every return (a cancel's or an expiry's credit, a hold given back, a sync that
 * raised the counter) to every process, which then forgets the product at once; a
 * product is also forgotten `ttlMs` after it was learnt, in case an announcement was lost (a
 * reconnect), so a process answers "sold out" from memory for at most that long after units
 * came back.
 */
export class SoldOutEdge {
  private readonly until = new Map<number, number>();

  constructor(
    private readonly options: { readonly ttlMs: number; readonly now?: () => number },
  ) {}

  /** Whether this process may answer "sold out" for the product without asking the gate. */
  soldOut(productId: number): boolean {
    const until = this.until.get(productId);
    if (until === undefined) return false;
    if (until > (this.options.now ?? Date.now)()) return true;
    this.until.delete(productId);
    return false;
  }

  /** The gate said the product has no unit left. */
  learn(productId: number): void {
    if (this.options.ttlMs <= 0) return;
    this.until.set(productId, (this.options.now ?? Date.now)() + this.options.ttlMs);
  }

  /** Units of the product are on sale again. */
  returned(productId: number): void {
    this.until.delete(productId);
  }
}
