import { z } from 'zod';
import {
  Currency,
  Id,
  InputTimestamp,
  PageQuery,
  Timestamp,
  pageOf,
  queryInt,
  text,
} from './common.ts';

export const Sale = z
  .object({
    starts_at: Timestamp,
    ends_at: Timestamp.nullable(),
    max_per_user: z.int().nullable(),
  })
  .meta({ id: 'Sale' });
export type Sale = z.infer<typeof Sale>;

export const Product = z
  .object({
    id: z.int(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    image_url: z.string().nullable(),
    price_cents: z.int(),
    currency: z.string(),
    is_active: z.boolean(),
    /** Units on sale right now (during a sale, the gate's live counter). */
    available: z.int(),
    sale: Sale.nullable(),
    /**
     * How many pieces the gate's counter is split into, each on its own Redis Cluster slot
     * (1 = one counter). More lets one hot product use more than one shard.
     */
    stock_buckets: z.int(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Product' });
export type Product = z.infer<typeof Product>;

export const ProductListQuery = PageQuery.extend({
  search: text().trim().max(100).optional(),
});
export type ProductListQuery = z.infer<typeof ProductListQuery>;

/** Admin product listing: every product, active or not, with the catalogue's search. */
export const AdminProductListQuery = ProductListQuery;
export type AdminProductListQuery = z.infer<typeof AdminProductListQuery>;

export const ProductList = pageOf(Product)
  .extend({ server_now: Timestamp })
  .meta({ id: 'ProductList' });
export type ProductList = z.infer<typeof ProductList>;

export const StockLevel = z
  .object({
    product_id: z.int(),
    available: z.int(),
    server_now: Timestamp,
  })
  .meta({ id: 'StockLevel' });
export type StockLevel = z.infer<typeof StockLevel>;

// ---- admin ----

export const SaleInput = z
  .strictObject({
    starts_at: InputTimestamp,
    ends_at: InputTimestamp.nullable().optional(),
    max_per_user: z.int().min(1).max(1_000_000).nullable().optional(),
  })
  .refine((sale) => !sale.ends_at || Date.parse(sale.ends_at) > Date.parse(sale.starts_at), {
    message: 'ends_at must be after starts_at',
    path: ['ends_at'],
  });
export type SaleInput = z.infer<typeof SaleInput>;

export const Sku = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore only');

/**
 * Where a product image may live: a path on the shop itself, or an http(s) URL without
 * credentials. `//host/x` and `/\\host/x` look like paths but browsers read both as another
 * host, so a path is one slash and no backslash. Which other hosts are allowed is the server's
 * setting (IMAGE_ORIGINS), checked there.
 */
export function isImageUrl(value: string): boolean {
  if (/[\s\\]/.test(value)) return false;
  if (value.startsWith('/')) return !value.startsWith('//');
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
    );
  } catch {
    return false;
  }
}

export const StockQuantity = z.int().min(0).max(10_000_000);

/** How many pieces a product's gate counter is split into (see DESIGN.md). */
export const StockBuckets = z.int().min(1).max(16);

const productFields = {
  sku: Sku,
  name: text().trim().min(1).max(200),
  description: text().max(5000),
  image_url: text()
    .max(2048)
    .refine(isImageUrl, 'must be a path on this shop (/images/...) or an http(s) URL')
    .nullable(),
  price_cents: z.int().min(0).max(100_000_000),
  currency: Currency,
  is_active: z.boolean(),
  sale: SaleInput.nullable(),
  stock_buckets: StockBuckets,
};

export const CreateProductInput = z
  .strictObject({
    sku: productFields.sku,
    name: productFields.name,
    description: productFields.description.optional(),
    image_url: productFields.image_url.optional(),
    price_cents: productFields.price_cents,
    currency: productFields.currency.optional(),
    is_active: productFields.is_active.optional(),
    stock: StockQuantity,
    sale: productFields.sale.optional(),
    stock_buckets: productFields.stock_buckets.optional(),
  })
  .meta({ id: 'CreateProduct' });
export type CreateProductInput = z.infer<typeof CreateProductInput>;

export const UpdateProductInput = z
  .strictObject({
    sku: productFields.sku.optional(),
    name: productFields.name.optional(),
    description: productFields.description.optional(),
    image_url: productFields.image_url.optional(),
    price_cents: productFields.price_cents.optional(),
    currency: productFields.currency.optional(),
    is_active: productFields.is_active.optional(),
    sale: productFields.sale.optional(),
    stock_buckets: productFields.stock_buckets.optional(),
  })
  .refine((input) => Object.keys(input).length > 0, { message: 'at least one field to change' })
  .meta({ id: 'UpdateProduct' });
export type UpdateProductInput = z.infer<typeof UpdateProductInput>;

export const SetStockInput = z.strictObject({ quantity: StockQuantity }).meta({ id: 'SetStock' });
export type SetStockInput = z.infer<typeof SetStockInput>;

export const StockSet = z
  .object({ product_id: z.int(), available: z.int() })
  .meta({ id: 'StockSet' });
export type StockSet = z.infer<typeof StockSet>;

export const LowStockQuery = z.strictObject({
  threshold: queryInt(0, 10_000_000).default(10),
});
export type LowStockQuery = z.infer<typeof LowStockQuery>;

export const LowStockList = z.object({ items: z.array(Product) }).meta({ id: 'LowStockList' });
export type LowStockList = z.infer<typeof LowStockList>;

export const SyncStockInput = z
  .strictObject({
    product_ids: z.array(Id).min(1).max(1000).optional(),
  })
  .meta({ id: 'SyncStock' });
export type SyncStockInput = z.infer<typeof SyncStockInput>;

export const SyncStockResult = z
  .object({
    /** Products whose gate was set from the database. */
    synced: z.int(),
    /** Units of difference the sync found and corrected, summed over products. */
    drift: z.int(),
  })
  .meta({ id: 'SyncStockResult' });
export type SyncStockResult = z.infer<typeof SyncStockResult>;
