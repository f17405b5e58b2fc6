import type { Logger } from 'pino';
import { StockUnavailableError } from '../../lib/errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { StockGate } from './gate/types.ts';

export type RebuildReason = 'startup' | 'data_lost' | 'reconnect' | 'on_demand';

/**
 * Keeps the gate trustworthy. At start-up, and whenever Redis comes back from a restart, a
 * flush or a lost connection, the gate is rebuilt from the database (every product synced,
 * idempotency answers reloaded) before another order is admitted. It is given, when built,
 * the gate to watch and how to rebuild it.
 */
export class GateKeeper {
  private rebuilding: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      readonly stock: StockGate;
      readonly logger: Logger;
      readonly metrics: Metrics;
      /** Sync every product's gate from the database. */
      readonly syncAll: () => Promise<{ synced: number; drift: number }>;
      /** Sync one product's gate; false when the product does not exist. */
      readonly syncOne: (productId: number) => Promise<boolean>;
      /** Reload what else the gate lost (the idempotency answers). */
      readonly reload: () => Promise<void>;
      readonly checkIntervalMs: number;
      /** How long an order waits for a rebuild before it is answered 503. */
      readonly readyTimeoutMs: number;
    },
  ) {}

  /** First rebuild (warm-up), then watch. Orders are admitted only after this resolves. */
  async start(): Promise<void> {
    await this.rebuild('startup');
    if (this.options.stock.kind !== 'redis') return;
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Resolves when no rebuild is running; an order waits here rather than use a half-built gate. */
  async ready(): Promise<void> {
    const rebuilding = this.rebuilding;
    if (!rebuilding) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StockUnavailableError()), this.options.readyTimeoutMs);
    });
    try {
      await Promise.race([rebuilding, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Redis reconnected: whatever happened while it was away, trust the database. */
  onReconnect(): void {
    void this.rebuild('reconnect').catch(() => undefined);
  }

  /** The gate has no counter for a product: a lost gate is rebuilt whole, a new product alone. */
  async repair(productId: number): Promise<boolean> {
    if (!(await this.options.stock.isIntact())) {
      await this.rebuild('data_lost');
      return true;
    }
    return this.options.syncOne(productId);
  }

  rebuild(reason: RebuildReason): Promise<void> {
    const { stock, logger, metrics } = this.options;
    this.rebuilding ??= (async () => {
      const started = performance.now();
      const { synced, drift } = await this.options.syncAll();
      await this.options.reload();
      await stock.markIntact();
      metrics.gateRebuilds.inc({ reason });
      logger.info(
        { reason, products: synced, drift, ms: Math.round(performance.now() - started) },
        'stock gate rebuilt from the database',
      );
    })().finally(() => {
      this.rebuilding = undefined;
    });
    return this.rebuilding;
  }

  private async check(): Promise<void> {
    try {
      if (!(await this.options.stock.isIntact())) await this.rebuild('data_lost');
    } catch (error) {
      this.options.logger.debug({ err: error }, 'gate check failed');
    }
  }
}
