import type { Product, ProductList } from '@stampede/contract';
import type { ProductWithStock } from './selectors.ts';

export function toProductResponse(product: ProductWithStock): Product {
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    image_url: product.imageUrl,
    price_cents: product.priceCents,
    currency: product.currency,
    is_active: product.isActive,
    available: product.available,
    sale: product.sale
      ? {
          starts_at: product.sale.startsAt.toISOString(),
          ends_at: product.sale.endsAt ? product.sale.endsAt.toISOString() : null,
          max_per_user: product.sale.maxPerUser,
        }
      : null,
    stock_buckets: product.stockBuckets,
    created_at: product.createdAt.toISOString(),
    updated_at: product.updatedAt.toISOString(),
  };
}

/** A page of products, with the server's clock for the countdowns. */
export function toProductListResponse(
  result: { items: ProductWithStock[]; total: number },
  page: number,
  pageSize: number,
): ProductList {
  return {
    items: result.items.map(toProductResponse),
    page,
    page_size: pageSize,
    total: result.total,
    server_now: new Date().toISOString(),
  };
}
