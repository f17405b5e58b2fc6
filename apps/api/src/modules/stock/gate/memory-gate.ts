import {
  attemptInTurn,
  storedRefusalOf,
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

interface ProductGate {
  stock: number;
  holds: Map<string, { quantity: number; userId: number; at: number }>;
  cap: Map<number, number>;
  /** The `stock.version` the last sync read, and the one whose caps it rebuilt (as synced). */
  syncedStock: number;
  syncedCap: number;
}

type IdempotencyEntry =
  | { state: 'in_flight'; fingerprint: string; owner: string; expiresAt: number }
  | { state: 'answered'; fingerprint: string; answer: StoredAnswer; expiresAt: number };

/**
 * The gate in process memory, for the zero-setup single process. JavaScript runs one operation
 * at a time, so each method below is as atomic as a Lua script; the semantics match the Redis
 * gate line for line and the same contract tests run against both. A product's stock buckets
 * (`stock_buckets`) are ignored here: they spread one product over a cluster's shards, and one
 * counter in one process already answers every line exactly as k buckets would (a line is sold
 * while the product has the units, whichever bucket holds them).
 */
export class MemoryGate implements Admission, StockGate {
  readonly kind = 'memory' as const;
  readonly tracksStock = true;
  private readonly products = new Map<number, ProductGate>();
  private readonly rateLimits = new Map<number, number>();
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  private readonly leases = new Map<string, number>();
  private readonly returnedListeners: ((productId: number) => void)[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    // Expired rate-limit and idempotency entries are dropped lazily on read and here.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async reserve(input: {
    reservationId: string;
    userId: number;
    lines: readonly GateLine[];
  }): Promise<ReserveResult> {
    return this.reserveNow(input.reservationId, input.userId, input.lines);
  }

  async attempt(input: AttemptInput, stock: StockGate): Promise<AttemptResult> {
    if (stock !== this) return attemptInTurn(this, stock, input);
    const admitted = this.admitNow(input);
    if (admitted.kind !== 'admitted') return admitted;
    const result = this.reserveNow(input.reservationId, input.userId, input.lines);
    if (result.ok) return { kind: 'reserved' };
    const line = input.lines.find((l) => l.productId === result.productId)!;
    const answer = storedRefusalOf(result, line);
    if (input.idempotency && answer) {
      this.rememberNow({
        userId: input.userId,
        key: input.idempotency.key,
        fingerprint: input.idempotency.fingerprint,
        answer,
        ttlMs: input.answerTtlMs,
      });
    }
    return { kind: 'refused', refusal: result };
  }

  /** All or nothing, every check before the first write (as lib/reserve.lua). */
  private reserveNow(
    reservationId: string,
    userId: number,
    lines: readonly GateLine[],
  ): ReserveResult {
    const gates: ProductGate[] = [];
    for (const line of lines) {
      const gate = this.products.get(line.productId);
      if (!gate) return { ok: false, reason: 'missing', productId: line.productId };
      if (gate.holds.has(reservationId)) {
        return { ok: false, reason: 'duplicate', productId: line.productId };
      }
      gates.push(gate);
    }
    for (const [i, line] of lines.entries()) {
      if (line.limit === null) continue;
      const had = gates[i]!.cap.get(userId) ?? 0;
      if (had + line.quantity > line.limit) {
        return { ok: false, reason: 'limit', productId: line.productId, alreadyOrdered: had };
      }
    }
    for (const [i, line] of lines.entries()) {
      const available = gates[i]!.stock;
      if (available < line.quantity) {
        return { ok: false, reason: 'insufficient', productId: line.productId, available };
      }
    }
    const at = this.now();
    for (const [i, line] of lines.entries()) {
      const gate = gates[i]!;
      gate.stock -= line.quantity;
      gate.holds.set(reservationId, { quantity: line.quantity, userId, at });
      if (line.limit !== null) {
        gate.cap.set(userId, (gate.cap.get(userId) ?? 0) + line.quantity);
      }
    }
    return { ok: true };
  }

  async release(input: { productId: number; reservationIds: readonly string[] }): Promise<void> {
    const gate = this.products.get(input.productId);
    for (const id of input.reservationIds) gate?.holds.delete(id);
  }

  async giveBack(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    let credited = 0;
    for (const productId of input.productIds) {
      const gate = this.products.get(productId);
      const hold = gate?.holds.get(input.reservationId);
      if (!gate || !hold) continue;
      gate.holds.delete(input.reservationId);
      gate.stock += hold.quantity;
      this.announceReturned(productId);
      uncap(gate, hold.userId, hold.quantity);
      credited += hold.quantity;
    }
    return credited;
  }

  async abandon(input: { reservationId: string; productIds: readonly number[] }): Promise<number> {
    let marked = 0;
    for (const productId of input.productIds) {
      const hold = this.products.get(productId)?.holds.get(input.reservationId);
      if (!hold) continue;
      hold.at = 0;
      marked += 1;
    }
    return marked;
  }

  async credit(input: GateCredit): Promise<void> {
    for (const line of input.lines) {
      const gate = this.products.get(line.productId);
      if (!gate) continue;
      // A sync that read the row after the restore committed has counted it already.
      if (line.version > gate.syncedStock) {
        gate.stock += line.quantity;
        this.announceReturned(line.productId);
      }
      if (line.version > gate.syncedCap) uncap(gate, input.userId, line.quantity);
    }
  }

  async holds(productId: number): Promise<HoldRecord[]> {
    const gate = this.products.get(productId);
    if (!gate) return [];
    return [...gate.holds].map(([reservationId, hold]) => ({
      reservationId,
      quantity: hold.quantity,
      userId: hold.userId,
    }));
  }

  async sync(input: SyncInput): Promise<SyncResult> {
    const existing = this.products.get(input.productId);
    const gate: ProductGate = existing ?? {
      stock: 0,
      holds: new Map(),
      cap: new Map(),
      syncedStock: 0,
      syncedCap: 0,
    };
    const committed = new Set(input.committed);
    const now = this.now();
    let held = 0;
    let stale = 0;
    let committedDropped = 0;
    const heldBy = new Map<number, number>();
    for (const [id, hold] of gate.holds) {
      if (committed.has(id)) {
        gate.holds.delete(id);
        committedDropped += 1;
      } else if (now - hold.at > input.maxHoldAgeMs) {
        gate.holds.delete(id);
        stale += 1;
        if (input.caps.mode === 'keep') uncap(gate, hold.userId, hold.quantity);
      } else {
        held += hold.quantity;
        heldBy.set(hold.userId, (heldBy.get(hold.userId) ?? 0) + hold.quantity);
      }
    }
    const previous = existing ? gate.stock : null;
    gate.stock = Math.max(0, input.available - held);
    if (gate.stock > 0 && gate.stock > (previous ?? -1)) this.announceReturned(input.productId);
    gate.syncedStock = input.version;
    if (input.caps.mode !== 'keep') gate.syncedCap = input.version;
    if (input.caps.mode === 'rebuild') {
      gate.cap.clear();
      for (const [userId, units] of input.caps.liveUnitsByUser) {
        const total = units + (heldBy.get(userId) ?? 0);
        heldBy.delete(userId);
        if (total > 0) gate.cap.set(userId, total);
      }
      for (const [userId, units] of heldBy) gate.cap.set(userId, units);
    } else if (input.caps.mode === 'clear') {
      gate.cap.clear();
    }
    this.products.set(input.productId, gate);
    return {
      previous,
      current: gate.stock,
      staleHoldsDropped: stale,
      committedHoldsDropped: committedDropped,
    };
  }

  async available(productIds: readonly number[]): Promise<(number | null)[]> {
    return productIds.map((id) => this.products.get(id)?.stock ?? null);
  }

  async inspect(input: {
    productIds: readonly number[];
    maxHoldAgeMs: number;
  }): Promise<GateSnapshot[]> {
    const now = this.now();
    return input.productIds.map((id) => {
      const gate = this.products.get(id);
      if (!gate) return { counter: null, held: 0, stale: 0 };
      let held = 0;
      let stale = 0;
      for (const hold of gate.holds.values()) {
        held += hold.quantity;
        if (now - hold.at > input.maxHoldAgeMs) stale += 1;
      }
      return { counter: gate.stock, held, stale };
    });
  }

  async lease(name: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    if ((this.leases.get(name) ?? 0) > now) return false;
    this.leases.set(name, now + ttlMs);
    return true;
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    return this.admitNow(input);
  }

  /** Replay, then the rate limit, then the key marked in flight (as admit.lua). */
  private admitNow(input: AdmitInput): AdmitResult {
    const now = this.now();
    const { idempotency } = input;
    const slot = idempotency ? idempotencySlot(input.userId, idempotency.key) : undefined;
    if (idempotency && slot) {
      const entry = this.idempotency.get(slot);
      if (entry && entry.expiresAt > now) {
        if (entry.fingerprint !== idempotency.fingerprint) return { kind: 'key_reused' };
        if (entry.state === 'in_flight') return { kind: 'in_flight' };
        return { kind: 'replay', answer: entry.answer };
      }
    }
    if (input.rateLimitMs > 0) {
      const until = this.rateLimits.get(input.userId);
      if (until !== undefined && until > now)
        return { kind: 'rate_limited', retryAfterMs: until - now };
      this.rateLimits.set(input.userId, now + input.rateLimitMs);
    }
    if (idempotency && slot) {
      this.idempotency.set(slot, {
        state: 'in_flight',
        fingerprint: idempotency.fingerprint,
        owner: input.reservationId ?? '',
        expiresAt: now + idempotency.inFlightTtlMs,
      });
    }
    return { kind: 'admitted' };
  }

  async remember(input: RememberInput): Promise<void> {
    this.rememberNow(input);
  }

  private rememberNow(input: RememberInput): void {
    this.idempotency.set(idempotencySlot(input.userId, input.key), {
      state: 'answered',
      fingerprint: input.fingerprint,
      answer: input.answer,
      expiresAt: this.now() + input.ttlMs,
    });
  }

  async rememberMany(inputs: readonly RememberInput[]): Promise<void> {
    for (const input of inputs) this.rememberNow(input);
  }

  async forget(input: { userId: number; key: string; reservationId?: string }): Promise<void> {
    const slot = idempotencySlot(input.userId, input.key);
    const entry = this.idempotency.get(slot);
    if (input.reservationId === undefined) {
      this.idempotency.delete(slot);
    } else if (entry?.state === 'in_flight' && entry.owner === input.reservationId) {
      this.idempotency.delete(slot);
    }
  }

  async onReturned(listener: (productId: number) => void): Promise<void> {
    this.returnedListeners.push(listener);
  }

  private announceReturned(productId: number): void {
    for (const listener of this.returnedListeners) listener(productId);
  }

  async rememberIfNew(input: RememberInput): Promise<boolean> {
    const entry = this.idempotency.get(idempotencySlot(input.userId, input.key));
    if (entry !== undefined && entry.expiresAt > this.now()) return false;
    this.rememberNow(input);
    return true;
  }

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

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.now();
    for (const [userId, until] of this.rateLimits) if (until <= now) this.rateLimits.delete(userId);
    for (const [slot, entry] of this.idempotency)
      if (entry.expiresAt <= now) this.idempotency.delete(slot);
  }
}

function idempotencySlot(userId: number, key: string): string {
  return `${userId}\u0000${key}`;
}

function uncap(gate: ProductGate, userId: number, quantity: number): void {
  const had = gate.cap.get(userId);
  if (had === undefined) return;
  if (had > quantity) gate.cap.set(userId, had - quantity);
  else gate.cap.delete(userId);
}
