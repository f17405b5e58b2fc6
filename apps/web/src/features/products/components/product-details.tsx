import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { PageSpinner } from '@/components/ui/spinner';
import { ErrorState, EmptyState } from '@/components/ui/states';
import { ProductImage } from '@/components/ui/product-image';
import { StockBar } from '@/components/ui/stock-bar';
import { formatDateTime, formatMoney } from '@/utils/format';
import { useProduct } from '../api/get-product';
import { useLiveSale } from '../hooks/use-live-sale';
import type { ProductActionRenderer } from './product-card';
import { SalePhaseBadge, SaleTimer } from './sale-status';
import type { Product } from '@stampede/contract';

export function ProductDetails({
  productId,
  renderAction,
}: {
  productId: number;
  renderAction?: ProductActionRenderer;
}) {
  const product = useProduct({ productId });
  if (product.isPending) return <PageSpinner label="Loading product" />;
  if (product.isError) {
    if (product.error.code === 'product_not_found') {
      return (
        <EmptyState
          title="This product is not on sale"
          action={
            <Link to="/" className="text-sm font-semibold text-primary hover:underline">
              Back to the sales
            </Link>
          }
        >
          It may have been removed, or the link is wrong.
        </EmptyState>
      );
    }
    return (
      <ErrorState
        title="We couldn't load this product"
        error={product.error}
        onRetry={() => void product.refetch()}
      />
    );
  }
  return (
    <LiveProduct
      product={product.data}
      observedAt={product.dataUpdatedAt}
      renderAction={renderAction}
    />
  );
}

function LiveProduct({
  product,
  observedAt,
  renderAction,
}: {
  product: Product;
  observedAt: number;
  renderAction?: ProductActionRenderer;
}) {
  const sale = useLiveSale(product, observedAt);
  let announcement: ReactNode = null;
  if (sale.phase === 'live') announcement = `${product.name} is on sale now.`;
  if (sale.phase === 'sold_out') announcement = `${product.name} is sold out.`;
  if (sale.phase === 'ended') announcement = `The sale of ${product.name} has ended.`;
  return (
    <article className="grid gap-8 lg:grid-cols-2" aria-labelledby="product-name">
      <div className="relative self-start overflow-hidden rounded-[var(--radius-card)] border border-border bg-card">
        <ProductImage src={product.image_url} alt={product.name} className="aspect-square w-full" />
        <SalePhaseBadge phase={sale.phase} className="absolute left-4 top-4 text-sm shadow" />
      </div>
      <div className="flex flex-col gap-6">
        <div>
          <nav aria-label="Breadcrumb" className="text-sm text-muted-foreground">
            <Link to="/" className="hover:text-foreground">
              Sales
            </Link>{' '}
            / <span className="font-mono text-xs">{product.sku}</span>
          </nav>
          <h1 id="product-name" className="mt-2 text-3xl font-extrabold tracking-tight">
            {product.name}
          </h1>
          <p className="tabular mt-3 text-2xl font-bold text-primary">
            {formatMoney(product.price_cents, product.currency)}
          </p>
        </div>

        <div className="flex flex-col gap-4 rounded-[var(--radius-card)] border border-border bg-card p-5 shadow-sm">
          <SaleTimer
            phase={sale.phase}
            deadline={sale.deadline}
            endsAt={product.sale?.ends_at}
            size="lg"
          />
          <StockBar
            available={sale.available}
            reference={sale.peak}
            ended={sale.phase === 'ended'}
            upcoming={sale.phase === 'upcoming'}
          />
          <dl className="grid grid-cols-2 gap-3 text-sm">
            {product.sale && (
              <div>
                <dt className="text-muted-foreground">Sale starts</dt>
                <dd className="font-medium">{formatDateTime(product.sale.starts_at)}</dd>
              </div>
            )}
            {product.sale?.ends_at && (
              <div>
                <dt className="text-muted-foreground">Sale ends</dt>
                <dd className="font-medium">{formatDateTime(product.sale.ends_at)}</dd>
              </div>
            )}
            <div>
              <dt className="text-muted-foreground">Limit</dt>
              <dd className="font-medium">
                {product.sale?.max_per_user ? `${product.sale.max_per_user} per customer` : 'None'}
              </dd>
            </div>
          </dl>
          {renderAction?.({ product, sale })}
          {/* Phase changes are announced once, politely; the timer itself stays quiet. */}
          <p className="sr-only" role="status" aria-live="polite">
            {announcement}
          </p>
        </div>

        {product.description && (
          <section aria-labelledby="product-description">
            <h2 id="product-description" className="text-base font-semibold">
              About this product
            </h2>
            <p className="mt-2 whitespace-pre-line text-sm leading-relaxed text-foreground/80">
              {product.description}
            </p>
          </section>
        )}
      </div>
    </article>
  );
}
