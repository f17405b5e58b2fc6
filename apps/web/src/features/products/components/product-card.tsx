import type { Product } from '@stampede/contract';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ProductImage } from '@/components/ui/product-image';
import { StockBar } from '@/components/ui/stock-bar';
import { cn } from '@/utils/cn';
import { formatMoney } from '@/utils/format';
import { useLiveSale, type LiveSale } from '../hooks/use-live-sale';
import { SalePhaseBadge, SaleTimer } from './sale-status';

export type ProductActionRenderer = (input: { product: Product; sale: LiveSale }) => ReactNode;

export function ProductCard({
  product,
  observedAt,
  renderAction,
}: {
  product: Product;
  observedAt: number;
  /** The buy control, supplied by whoever composes the page (the cart feature). */
  renderAction?: ProductActionRenderer;
}) {
  const sale = useLiveSale(product, observedAt);
  const dimmed = sale.phase === 'sold_out' || sale.phase === 'ended';
  return (
    <article
      aria-labelledby={`product-${product.id}-name`}
      data-testid="product-card"
      className="group flex flex-col overflow-hidden rounded-[var(--radius-card)] border border-border bg-card shadow-sm transition-shadow hover:shadow-md"
    >
      <Link to={`/products/${product.id}`} className="relative block" tabIndex={-1} aria-hidden>
        <ProductImage
          src={product.image_url}
          alt=""
          className={cn(
            'aspect-[4/3] w-full transition-transform group-hover:scale-[1.02]',
            dimmed && 'opacity-60 grayscale',
          )}
        />
        <SalePhaseBadge phase={sale.phase} className="absolute left-3 top-3 shadow-sm" />
      </Link>
      <div className="flex flex-1 flex-col gap-2.5 p-3 sm:gap-3 sm:p-4">
        <div className="flex flex-col gap-1 sm:flex-row sm:items-start sm:justify-between sm:gap-3">
          <h3
            id={`product-${product.id}-name`}
            className="text-sm font-semibold leading-snug sm:text-base"
          >
            <Link to={`/products/${product.id}`} className="hover:text-primary">
              {product.name}
            </Link>
          </h3>
          <p className="tabular shrink-0 text-sm font-bold sm:text-base">
            {formatMoney(product.price_cents, product.currency)}
          </p>
        </div>
        <SaleTimer
          phase={sale.phase}
          deadline={sale.deadline}
          endsAt={product.sale?.ends_at}
          size="sm"
        />
        <StockBar
          available={sale.available}
          reference={sale.peak}
          ended={sale.phase === 'ended'}
          upcoming={sale.phase === 'upcoming'}
        />
        {product.sale?.max_per_user && (
          <p className="text-xs text-muted-foreground">
            Limit {product.sale.max_per_user} per customer
          </p>
        )}
        {renderAction && <div className="mt-auto pt-1">{renderAction({ product, sale })}</div>}
      </div>
    </article>
  );
}
