import { inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { products } from '../../db/schema.ts';
import { TtlCache } from '../../lib/ttl-cache.ts';

/** A product as the order path needs it: what is for sale, when, at what price, how many each. */
export interface CatalogProduct {
  readonly id: number;
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly imageUrl: string | null;
  readonly priceCents: number;
  readonly currency: string;
  readonly isActive: boolean;
  readonly sale: {
    readonly startsAt: Date;
    readonly endsAt: Date | null;
    readonly maxPerUser: number | null;
  } | null;
  /** Pieces of the gate's counter (1 = one counter). */
  readonly stockBuckets: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type ProductRow = typeof products.$inferSelect;

export function toCatalogProduct(row: ProductRow): CatalogProduct {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    imageUrl: row.imageUrl,
    priceCents: row.priceCents,
    currency: row.currency,
    isActive: row.isActive,
    sale: row.saleStartsAt
      ? { startsAt: row.saleStartsAt, endsAt: row.saleEndsAt, maxPerUser: row.maxPerUser }
      : null,
    stockBuckets: row.stockBuckets,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Products by id, kept in memory for a short time: the order path reads the same hot product
 * thousands of times a second. An edit in this process drops the entry at once; other
 * processes see it within `ttlMs`.
 */
export class ProductCache {
  private readonly entries = new Map<number, { product: CatalogProduct | null; until: number }>();
  private loading: Promise<void> | undefined;
  private readonly wanted = new Set<number>();
  /**
   * Pages of the public catalogue (the products, not their stock, which stays live): a browse
   * storm during a sale would otherwise cost two queries a request.
   */
  readonly pages: TtlCache<{ products: CatalogProduct[]; total: number }>;

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.pages = new TtlCache(ttlMs, 1000, now);
  }

  async get(ids: readonly number[]): Promise<Map<number, CatalogProduct | null>> {
    let missing = this.missing(ids);
    while (missing.length > 0) {
      // One query serves every request that asked in the meantime (no stampede on expiry).
      for (const id of missing) this.wanted.add(id);
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      await this.loading;
      missing = this.missing(ids);
    }
    return new Map(ids.map((id) => [id, this.entries.get(id)!.product]));
  }

  invalidate(id?: number): void {
    if (id === undefined) this.entries.clear();
    else this.entries.delete(id);
    this.pages.clear();
  }

  private missing(ids: readonly number[]): number[] {
    const now = this.now();
    return ids.filter((id) => (this.entries.get(id)?.until ?? 0) <= now);
  }

  private async load(): Promise<void> {
    await Promise.resolve();
    const ids = [...this.wanted];
    this.wanted.clear();
    if (ids.length === 0) return;
    const rows = await this.db.select().from(products).where(inArray(products.id, ids));
    const now = this.now();
    if (this.entries.size > 10_000) {
      for (const [id, entry] of this.entries) if (entry.until <= now) this.entries.delete(id);
    }
    const until = now + this.ttlMs;
    const found = new Map(rows.map((row) => [row.id, toCatalogProduct(row)]));
    for (const id of ids) this.entries.set(id, { product: found.get(id) ?? null, until });
  }
}
