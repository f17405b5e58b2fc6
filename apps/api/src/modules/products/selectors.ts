import { and, asc, count, eq, ilike, lte, or, type SQL } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { products, stock } from '../../db/schema.ts';
import { getStockQuantities, getStockQuantity } from '../stock/selectors.ts';
import { toCatalogProduct, type CatalogProduct } from './catalog.ts';

export type { CatalogProduct };
export type ProductWithStock = CatalogProduct & { readonly available: number };

async function withStock(ctx: AppContext, list: CatalogProduct[]): Promise<ProductWithStock[]> {
  const quantities = await getStockQuantities({
    ctx,
    input: { productIds: list.map((p) => p.id), buckets: list.map((p) => p.stockBuckets) },
  });
  return list.map((product) => ({ ...product, available: quantities.get(product.id) ?? 0 }));
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Active products (optionally matching `search` in name, SKU or description), live stock. */
export function getActiveProducts({
  ctx,
  input: { search, page, pageSize },
}: {
  ctx: AppContext;
  input: { search?: string; page: number; pageSize: number };
}): Promise<{ items: ProductWithStock[]; total: number }> {
  return listProducts(ctx, { search, page, pageSize, activeOnly: true });
}

/** Admin: every product, active or not, in the same order and with the same search. */
export function getAllProducts({
  ctx,
  input: { search, page, pageSize },
}: {
  ctx: AppContext;
  input: { search?: string; page: number; pageSize: number };
}): Promise<{ items: ProductWithStock[]; total: number }> {
  return listProducts(ctx, { search, page, pageSize, activeOnly: false });
}

async function listProducts(
  ctx: AppContext,
  options: { search: string | undefined; page: number; pageSize: number; activeOnly: boolean },
): Promise<{ items: ProductWithStock[]; total: number }> {
  const { search, page, pageSize } = options;
  const conditions: (SQL | undefined)[] = [
    options.activeOnly ? eq(products.isActive, true) : undefined,
  ];
  if (search) {
    const pattern = `%${escapeLike(search)}%`;
    conditions.push(
      or(
        ilike(products.name, pattern),
        ilike(products.sku, pattern),
        ilike(products.description, pattern),
      ),
    );
  }
  const where = and(...conditions);
  const load = async () => {
    const [rows, totals] = await Promise.all([
      ctx.db
        .select()
        .from(products)
        .where(where)
        // Sales first (soonest start first), then the rest by name.
        .orderBy(asc(products.saleStartsAt), asc(products.name), asc(products.id))
        .limit(pageSize)
        .offset((page - 1) * pageSize),
      ctx.db.select({ total: count() }).from(products).where(where),
    ]);
    return { products: rows.map(toCatalogProduct), total: totals[0]?.total ?? 0 };
  };
  const { products: list, total } = options.activeOnly
    ? await ctx.productCache.pages.get(JSON.stringify([search ?? '', page, pageSize]), load)
    : await load();
  return { items: await withStock(ctx, list), total };
}

/** One product with its live stock; inactive ones only when `includeInactive` (admin). */
export async function getProductWithStock({
  ctx,
  input: { productId, includeInactive = false },
}: {
  ctx: AppContext;
  input: { productId: number; includeInactive?: boolean };
}): Promise<ProductWithStock | null> {
  const product = (await ctx.productCache.get([productId])).get(productId);
  if (!product || (!product.isActive && !includeInactive)) return null;
  return (await withStock(ctx, [product]))[0]!;
}

/** Active products whose stock in the database is at or below `threshold`, lowest first. */
export async function getLowStockProducts({
  ctx,
  input: { threshold },
}: {
  ctx: AppContext;
  input: { threshold: number };
}): Promise<ProductWithStock[]> {
  const rows = await ctx.db
    .select({ product: products, available: stock.available })
    .from(products)
    .innerJoin(stock, eq(stock.productId, products.id))
    .where(and(eq(products.isActive, true), lte(stock.available, threshold)))
    .orderBy(asc(stock.available), asc(products.id))
    .limit(500);
  return rows.map((row) => ({ ...toCatalogProduct(row.product), available: row.available }));
}

/**
 * Units on sale of an active product (the polled stock answer), or null when no active
 * product has this id. Cheap: the product comes from the in-memory catalogue, the number from
 * the gate.
 */
export async function getActiveProductStock({
  ctx,
  input: { productId },
}: {
  ctx: AppContext;
  input: { productId: number };
}): Promise<number | null> {
  const product = (await ctx.productCache.get([productId])).get(productId);
  if (!product || !product.isActive) return null;
  const input = { productId, buckets: product.stockBuckets };
  return (await getStockQuantity({ ctx, input })) ?? 0;
}
