import type {
  GateCredit,
  GateSnapshot,
  HoldRecord,
  ReserveResult,
  StockGate,
  SyncInput,
  SyncResult,
} from './types.ts';

/**
 * No gate (`STOCK_GATE=off`, the benchmark's naive reference): every attempt goes to PostgreSQL,
 * whose conditional UPDATE alone decides. Nothing is counted in front of it, so a reservation
 * always passes, holds are nothing to release or give back, and reads go to the database.
 */
export class DatabaseStock implements StockGate {
  readonly kind = 'database' as const;
  readonly tracksStock = false;

  async reserve(): Promise<ReserveResult> {
    return { ok: true };
  }

  async release(): Promise<void> {}

  async giveBack(): Promise<number> {
    return 0;
  }

  async abandon(): Promise<number> {
    return 0;
  }

  async credit(_input: GateCredit): Promise<void> {}

  async holds(): Promise<HoldRecord[]> {
    return [];
  }

  async sync(input: SyncInput): Promise<SyncResult> {
    return {
      previous: null,
      current: input.available,
      staleHoldsDropped: 0,
      committedHoldsDropped: 0,
    };
  }

  async available(productIds: readonly number[]): Promise<(number | null)[]> {
    return productIds.map(() => null);
  }

  async inspect(input: { productIds: readonly number[] }): Promise<GateSnapshot[]> {
    return input.productIds.map(() => ({ counter: null, held: 0, stale: 0 }));
  }

  async lease(): Promise<boolean> {
    return false;
  }

  /** Nothing is counted in front of the database, so nothing is ever sold out in memory. */
  async onReturned(): Promise<void> {}

  async isIntact(): Promise<boolean> {
    return true;
  }

  async markIntact(): Promise<void> {}

  async changedShards(): Promise<undefined> {
    return undefined;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
