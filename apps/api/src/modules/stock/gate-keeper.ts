import type { AppContext } from '../../context.ts';
import { StockUnavailableError } from '../../lib/errors.ts';
import { bulkSyncStockToRedis, syncStockToRedis } from './services.ts';

export type RebuildReason = 'startup' | 'data_lost' | 'reconnect' | 'on_demand';

/**
 * Keeps the gate trustworthy. At start-up, and whenever Redis comes back from a restart, a
 * flush or a lost connection, the gate is rebuilt from the database (every product synced,
 * idempotency answers reloaded) before another order is admitted.
 */
export class GateKeeper {
  private rebuilding: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ctx: AppContext | undefined;

  constructor(
    private readonly options: {
      readonly checkIntervalMs: number;
      /** How long an order waits for a rebuild before it is answered 503. */
      readonly readyTimeoutMs: number;
      /** Reload what else the cache lost (the idempotency answers). */
      readonly afterRebuild?: (ctx: AppContext) => Promise<void>;
    },
  ) {}

  /** First rebuild (warm-up), then watch. Orders are admitted only after this resolves. */
  async start(ctx: AppContext): Promise<void> {
    this.ctx = ctx;
    await this.rebuild('startup');
    if (ctx.gate.kind !== 'redis') return;
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
    if (this.ctx) void this.rebuild('reconnect').catch(() => undefined);
  }

  /** The gate has no counter for a product: a lost gate is rebuilt whole, a new product alone. */
  async repair(productId: number): Promise<boolean> {
    const ctx = this.required();
    if (!(await ctx.gate.isIntact())) {
      await this.rebuild('data_lost');
      return true;
    }
    return (await syncStockToRedis({ ctx, productId, trigger: 'repair' })) !== null;
  }

  rebuild(reason: RebuildReason): Promise<void> {
    const ctx = this.required();
    this.rebuilding ??= (async () => {
      const started = performance.now();
      const { synced, drift } = await bulkSyncStockToRedis({ ctx, trigger: 'rebuild' });
      await this.options.afterRebuild?.(ctx);
      await ctx.gate.markIntact();
      ctx.metrics.gateRebuilds.inc({ reason });
      ctx.logger.info(
        { reason, products: synced, drift, ms: Math.round(performance.now() - started) },
        'stock gate rebuilt from the database',
      );
    })().finally(() => {
      this.rebuilding = undefined;
    });
    return this.rebuilding;
  }

  private async check(): Promise<void> {
    const ctx = this.required();
    try {
      if (!(await ctx.gate.isIntact())) await this.rebuild('data_lost');
    } catch (error) {
      ctx.logger.debug({ err: error }, 'gate check failed');
    }
  }

  private required(): AppContext {
    if (!this.ctx) throw new Error('the gate keeper has not started');
    return this.ctx;
  }
}
