import type { Product } from '@stampede/contract';
import { Link } from 'react-router';
import { Countdown } from '@/components/ui/countdown';
import { ProductImage } from '@/components/ui/product-image';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { useServerTime } from '@/hooks/use-server-time';
import { cn } from '@/utils/cn';
import { formatMoney } from '@/utils/format';
import { paths } from '@/utils/paths';
import { getSalePhase } from '@/utils/sale-phase';
import { useAdminProducts } from '../api/get-admin-products';
import { useLiveStock } from '../api/get-live-stock';
import { useProductQueue } from '../api/get-product-queue';
import { useSoldUnits, type SoldUnits } from '../api/get-sold-units';

/** Running sales with their live numbers: units sold (held by orders) and units left. */
export function LiveSales() {
  const products = useAdminProducts({ queryConfig: { refetchInterval: 15_000 } });
  const items = products.data?.items ?? [];
  const phases = useServerTime((now) =>
    items.map((product) => getSalePhase(product, now)).join(','),
  ).split(',');
  const withSale = items.map((product, index) => ({ product, phase: phases[index] }));
  const running = withSale
    .filter(({ product, phase }) => product.sale && (phase === 'live' || phase === 'sold_out'))
    .map(({ product }) => product);
  const upcoming = withSale
    .filter(({ product, phase }) => product.sale && phase === 'upcoming')
    .map(({ product }) => product);
  const sold = useSoldUnits({ productIds: running.map((product) => product.id) });

  if (products.isPending) return <PageSpinner label="Loading sales" />;
  if (products.isError) {
    return <ErrorState error={products.error} onRetry={() => void products.refetch()} />;
  }
  return (
    <div className="flex flex-col gap-8">
      <section aria-labelledby="running-title" className="flex flex-col gap-3">
        <h2 id="running-title" className="text-lg font-semibold">
          Running sales{' '}
          <span className="text-sm font-normal text-muted-foreground">
            (live, refreshed every 2–3 s)
          </span>
        </h2>
        {running.length === 0 ? (
          <EmptyState title="No sale is running">
            Create a product with a sale window, or wait for the next one to start.
          </EmptyState>
        ) : (
          <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
            {running.map((product) => (
              <LiveSaleCard key={product.id} product={product} sold={sold.data} />
            ))}
          </div>
        )}
        {sold.data?.truncated && (
          <p className="text-xs text-muted-foreground">
            Sold counts read the latest 1,000 orders per status; totals are at least this.
          </p>
        )}
      </section>
      <section aria-labelledby="upcoming-title" className="flex flex-col gap-3">
        <h2 id="upcoming-title" className="text-lg font-semibold">
          Scheduled
        </h2>
        {upcoming.length === 0 ? (
          <p className="text-sm text-muted-foreground">Nothing scheduled.</p>
        ) : (
          <ul className="divide-y divide-border rounded-[var(--radius-card)] border border-border bg-card">
            {upcoming.map((product) => (
              <li key={product.id} className="flex items-center justify-between gap-4 p-4">
                <Link
                  to={paths.admin.product(product.id)}
                  className="font-medium hover:text-primary"
                >
                  {product.name}
                </Link>
                <span className="flex items-center gap-2 text-sm text-muted-foreground">
                  {product.available.toLocaleString('en-US')} units · starts in
                  <Countdown
                    target={Date.parse(product.sale!.starts_at)}
                    label={`${product.name} starts in`}
                    size="sm"
                    className="text-info"
                  />
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function LiveSaleCard({ product, sold }: { product: Product; sold: SoldUnits | undefined }) {
  const stock = useLiveStock({ productId: product.id });
  const left = stock.data?.available ?? product.available;
  const soldUnits = sold?.byProduct[product.id];
  const total = soldUnits !== undefined ? soldUnits + left : null;
  const ratio = total ? (soldUnits ?? 0) / total : 0;
  const endsAt = product.sale?.ends_at ? Date.parse(product.sale.ends_at) : null;
  return (
    <article
      className="flex flex-col gap-4 rounded-[var(--radius-card)] border border-border bg-card p-4 shadow-sm"
      data-testid="live-sale"
      aria-label={`${product.name} live numbers`}
    >
      <div className="flex items-center gap-3">
        <ProductImage src={product.image_url} alt="" className="size-12 rounded-lg" />
        <div className="min-w-0 flex-1">
          <Link
            to={paths.admin.product(product.id)}
            className="block truncate font-semibold hover:text-primary"
          >
            {product.name}
          </Link>
          <p className="text-xs text-muted-foreground">
            {formatMoney(product.price_cents, product.currency)}
            {endsAt ? (
              <>
                {' '}
                · ends in <Countdown target={endsAt} label="Sale ends in" size="sm" />
              </>
            ) : (
              ' · no end'
            )}
          </p>
        </div>
      </div>
      <dl className="grid grid-cols-2 gap-3">
        <div className="rounded-lg bg-muted p-3">
          <dt className="text-xs font-medium text-muted-foreground">Sold</dt>
          <dd className="tabular text-2xl font-bold" data-testid="live-sold">
            {soldUnits === undefined ? '…' : soldUnits.toLocaleString('en-US')}
          </dd>
        </div>
        <div className="rounded-lg bg-muted p-3">
          <dt className="text-xs font-medium text-muted-foreground">Remaining</dt>
          <dd
            className={cn('tabular text-2xl font-bold', left === 0 && 'text-destructive')}
            data-testid="live-remaining"
          >
            {left.toLocaleString('en-US')}
          </dd>
        </div>
      </dl>
      <div className="h-2 overflow-hidden rounded-full bg-muted" aria-hidden>
        <div
          className="h-full rounded-full bg-primary transition-[width] duration-500"
          style={{ width: `${Math.round(ratio * 100)}%` }}
        />
      </div>
      <QueueLine productId={product.id} />
    </article>
  );
}

/** A running sale's waiting room in one line, when it has one; its controls are on the product. */
function QueueLine({ productId }: { productId: number }) {
  const queue = useProductQueue({ productId });
  if (!queue.data?.enabled) return null;
  const view = queue.data;
  const state = view.paused ? 'paused' : view.state.replace('_', ' ');
  return (
    <p className="text-xs text-muted-foreground" data-testid="live-queue">
      <Link
        to={paths.admin.product(productId)}
        className="font-semibold text-foreground hover:text-primary"
      >
        Waiting room
      </Link>
      : {state} · {view.waiting.toLocaleString('en-US')} waiting ·{' '}
      {view.active.toLocaleString('en-US')} with a pass ·{' '}
      {view.measured_admit_per_minute.toLocaleString('en-US', { maximumFractionDigits: 1 })}/min
    </p>
  );
}
