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
  /** Returns heard so far, and the count at each product's last. */
  private returns = 0;
  private readonly lastReturn = new Map<number, number>();

  constructor(private readonly options: { readonly ttlMs: number; readonly now?: () => number }) {}

  /** Whether this process may answer "sold out" for the product without asking the gate. */
  soldOut(productId: number): boolean {
    const until = this.until.get(productId);
    if (until === undefined) return false;
    if (until > (this.options.now ?? Date.now)()) return true;
    this.until.delete(productId);
    return false;
  }

  /** Taken before asking the gate; given to `learn` with its answer. */
  mark(): number {
    return this.returns;
  }

  /**
   * The gate said the product has no unit left, when asked at `mark`. Not learnt when units of
   * it came back since: the gate's answer is older than they are.
   */
  learn(productId: number, mark: number): void {
    if (this.options.ttlMs <= 0) return;
    if ((this.lastReturn.get(productId) ?? -1) > mark) return;
    this.until.set(productId, (this.options.now ?? Date.now)() + this.options.ttlMs);
  }

  /** Units of the product are on sale again. */
  returned(productId: number): void {
    this.returns += 1;
    this.lastReturn.set(productId, this.returns);
    this.until.delete(productId);
  }
}
