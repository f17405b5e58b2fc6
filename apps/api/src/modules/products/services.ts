import { eq, sql } from 'drizzle-orm';
import type { CreateProductInput, SaleInput, UpdateProductInput } from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import { products, stock, stockLedger } from '../../db/schema.ts';
import { withTransaction } from '../../db/transaction.ts';
import { AppError, ProductNotFoundError } from '../../lib/errors.ts';
import { isUniqueViolation } from '../../lib/pg-errors.ts';
import { syncAfterAdminChange } from '../stock/services.ts';
import { getProductWithStock, type ProductWithStock } from './selectors.ts';

/** Drizzle wraps the driver's error (with its SQLSTATE) as `cause`. */
const causeOf = (error: unknown) => (error as { cause?: unknown } | null)?.cause;

function saleColumns(sale: SaleInput | null | undefined) {
  if (sale === undefined) return {};
  return {
    saleStartsAt: sale ? new Date(sale.starts_at) : null,
    saleEndsAt: sale?.ends_at ? new Date(sale.ends_at) : null,
    maxPerUser: sale?.max_per_user ?? null,
  };
}

function skuTaken(sku: string): AppError {
  return new AppError('sku_taken', `SKU ${sku} is already used by another product.`, { sku });
}

/** Admin: a new product with its opening stock (in the ledger), then the gate follows. */
export async function createProduct({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: CreateProductInput;
}): Promise<ProductWithStock> {
  let productId: number;
  try {
    productId = await withTransaction(ctx, async ({ db: tx }) => {
      const [row] = await tx
        .insert(products)
        .values({
          sku: input.sku,
          name: input.name,
          description: input.description ?? '',
          imageUrl: input.image_url ?? null,
          priceCents: input.price_cents,
          currency: input.currency ?? 'USD',
          isActive: input.is_active ?? true,
          ...saleColumns(input.sale),
          ...(input.stock_buckets !== undefined && { stockBuckets: input.stock_buckets }),
        })
        .returning({ id: products.id });
      const id = row!.id;
      await tx.insert(stock).values({ productId: id, available: input.stock });
      if (input.stock > 0) {
        await tx.insert(stockLedger).values({ productId: id, delta: input.stock, cause: 'admin' });
      }
      return id;
    });
  } catch (error) {
    if (
      isUniqueViolation(error, 'products_sku_key') ||
      isUniqueViolation(causeOf(error), 'products_sku_key')
    )
      throw skuTaken(input.sku);
    throw error;
  }
  await syncAfterAdminChange({ ctx, input: { productId } });
  return (await getProductWithStock({ ctx, input: { productId, includeInactive: true } }))!;
}

/** Admin: change any product field but its stock (that is `setStock`). */
export async function updateProduct({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { productId: number; changes: UpdateProductInput };
}): Promise<ProductWithStock> {
  const { changes } = input;
  const values = {
    ...(changes.sku !== undefined && { sku: changes.sku }),
    ...(changes.name !== undefined && { name: changes.name }),
    ...(changes.description !== undefined && { description: changes.description }),
    ...(changes.image_url !== undefined && { imageUrl: changes.image_url }),
    ...(changes.price_cents !== undefined && { priceCents: changes.price_cents }),
    ...(changes.currency !== undefined && { currency: changes.currency }),
    ...(changes.is_active !== undefined && { isActive: changes.is_active }),
    ...saleColumns(changes.sale),
    ...(changes.stock_buckets !== undefined && { stockBuckets: changes.stock_buckets }),
    updatedAt: sql`now()`,
  };
  let updated: { id: number }[];
  try {
    updated = await ctx.db
      .update(products)
      .set(values)
      .where(eq(products.id, input.productId))
      .returning({ id: products.id });
  } catch (error) {
    if (
      isUniqueViolation(error, 'products_sku_key') ||
      isUniqueViolation(causeOf(error), 'products_sku_key')
    )
      throw skuTaken(changes.sku ?? '');
    throw error;
  }
  if (updated.length === 0) throw new ProductNotFoundError(input.productId);
  // A new cap or window changes what the gate must enforce: it follows from the database.
  await syncAfterAdminChange({ ctx, input: { productId: input.productId } });
  return (await getProductWithStock({
    ctx,
    input: { productId: input.productId, includeInactive: true },
  }))!;
}
