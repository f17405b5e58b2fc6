import { TtlCache } from '../../lib/ttl-cache.ts';

/** A product's waiting-room settings, as stored (`queue_settings`). */
export interface QueueConfig {
  readonly productId: number;
  readonly enabled: boolean;
  readonly opensBeforeSeconds: number;
  readonly admitPerMinute: number;
  readonly maxActive: number | null;
  readonly inventoryFactor: number;
  readonly passTtlSeconds: number;
  readonly paused: boolean;
}

/** What this process last saw of one queue (for the gauges). */
interface Seen {
  readonly waiting: number;
  readonly active: number;
  /** Waiting buyers, when the queue was admitting with room for more passes (else 0). */
  readonly waitingWithRoom: number;
}

/**
 * The waiting rooms as this process knows them, cheaply: the operator's settings kept about a
 * second (an edit in this process drops them at once; other processes see it within the second),
 * the units left of each queued product kept a quarter of a second for status polls (admission
 * reads them fresh),
 * and the signing key of tickets and challenges. A status poll reads everything here from
 * memory and makes one round trip, to the queue's own slot.
 */
export class QueueBoard {
  private readonly settings: TtlCache<QueueConfig | null>;
  private readonly enabledList: TtlCache<QueueConfig[]>;
  private readonly units: TtlCache<number>;
  private readonly seen = new Map<number, Seen>();

  constructor(
    private readonly options: {
      loadSettings: (productId: number) => Promise<QueueConfig | null>;
      loadEnabled: () => Promise<QueueConfig[]>;
      /** Units on sale now (the gate's counter, or the database's where the gate has none). */
      loadUnits: (productId: number, buckets: number) => Promise<number>;
      /** Signs tickets and challenges. */
      secret: string;
      settingsTtlMs?: number;
      unitsTtlMs?: number;
    },
  ) {
    const ttl = options.settingsTtlMs ?? 1000;
    this.settings = new TtlCache(ttl, 10_000);
    this.enabledList = new TtlCache(ttl, 1);
    this.units = new TtlCache(options.unitsTtlMs ?? 250, 10_000);
  }

  get secret(): string {
    return this.options.secret;
  }

  configOf(productId: number): Promise<QueueConfig | null> {
    return this.settings.get(String(productId), () => this.options.loadSettings(productId));
  }

  enabled(): Promise<QueueConfig[]> {
    return this.enabledList.get('all', () => this.options.loadEnabled());
  }

  unitsLeft(productId: number, buckets: number): Promise<number> {
    return this.units.get(`${productId}:${buckets}`, () =>
      this.options.loadUnits(productId, buckets),
    );
  }

  /**
   * Units on sale this moment, read from the gate: what admission bounds its passes by. A count
   * a quarter of a second old would let a buyer in for a unit sold meanwhile.
   */
  unitsNow(productId: number, buckets: number): Promise<number> {
    return this.options.loadUnits(productId, buckets);
  }

  /** The settings changed here: read them again at once. */
  invalidate(): void {
    this.settings.clear();
    this.enabledList.clear();
  }

  /** Units changed (an order, a return): the next read asks the gate. */
  forgetUnits(): void {
    this.units.clear();
  }

  observe(productId: number, seen: Seen): void {
    this.seen.set(productId, seen);
  }

  /** Waiting buyers and live passes over every queue, as this process last saw them. */
  totals(): Seen {
    let waiting = 0;
    let active = 0;
    let waitingWithRoom = 0;
    for (const seen of this.seen.values()) {
      waiting += seen.waiting;
      active += seen.active;
      waitingWithRoom += seen.waitingWithRoom;
    }
    return { waiting, active, waitingWithRoom };
  }

  /** Queues no longer enabled stop counting. */
  retain(productIds: ReadonlySet<number>): void {
    for (const id of this.seen.keys()) if (!productIds.has(id)) this.seen.delete(id);
  }
}
