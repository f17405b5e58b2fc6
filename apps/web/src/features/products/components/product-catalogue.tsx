import type { Product } from '@stampede/contract';
import { useEffect, useState } from 'react';
import { Countdown } from '@/components/ui/countdown';
import { Pagination } from '@/components/ui/pagination';
import { EmptyState, ErrorState, Skeleton } from '@/components/ui/states';
import { useServerTime } from '@/hooks/use-server-time';
import { getSalePhase, type SalePhase } from '@/utils/sale-phase';
import { useProducts } from '../api/get-products';
import { ProductCard, type ProductActionRenderer } from './product-card';

const PAGE_SIZE = 24;

const sections: Array<{ id: string; title: string; phases: SalePhase[] }> = [
  { id: 'live', title: 'Live now', phases: ['live'] },
  { id: 'upcoming', title: 'Starting soon', phases: ['upcoming'] },
  { id: 'gone', title: 'Sold out & ended', phases: ['sold_out', 'ended'] },
];

function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

function byStart(a: Product, b: Product) {
  return (
    Date.parse(a.sale?.starts_at ?? a.created_at) - Date.parse(b.sale?.starts_at ?? b.created_at)
  );
}

export function ProductCatalogue({ renderAction }: { renderAction?: ProductActionRenderer }) {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const debouncedSearch = useDebounced(search.trim(), 300);
  const products = useProducts({ search: debouncedSearch, page, pageSize: PAGE_SIZE });
  const items = products.data?.items ?? [];
  // Re-render when a sale changes phase (it moves to another section), not on every tick.
  const phases = useServerTime((now) =>
    items.map((product) => getSalePhase(product, now)).join(','),
  ).split(',') as SalePhase[];
  const phaseOf = (product: Product) => phases[items.indexOf(product)] ?? 'live';
  const nextDrop = items.filter((product) => phaseOf(product) === 'upcoming').sort(byStart)[0];

  return (
    <div className="flex flex-col gap-8">
      <section className="relative overflow-hidden rounded-[var(--radius-card)] bg-secondary px-5 py-6 text-secondary-foreground sm:px-10 sm:py-10">
        <div
          className="absolute -right-16 -top-20 size-72 rounded-full bg-primary/40 blur-3xl"
          aria-hidden
        />
        <div className="relative flex flex-col gap-4 sm:gap-6 md:flex-row md:items-end md:justify-between">
          <div className="max-w-xl">
            <p className="text-sm font-semibold uppercase tracking-widest text-primary">
              Flash sales
            </p>
            <h1 className="mt-2 text-2xl font-extrabold tracking-tight sm:text-4xl">
              Limited drops. Real stock. No oversells.
            </h1>
            <p className="mt-3 hidden text-secondary-foreground/75 sm:block">
              Every unit you see is a unit we have. When the counter hits zero, it is gone.
            </p>
          </div>
          {nextDrop?.sale && (
            <div className="rounded-xl bg-white/10 px-4 py-3 backdrop-blur sm:p-4">
              <p className="text-xs font-semibold uppercase tracking-wide text-secondary-foreground/70">
                Next drop: {nextDrop.name}
              </p>
              <Countdown
                target={Date.parse(nextDrop.sale.starts_at)}
                label={`${nextDrop.name} goes on sale in`}
                size="lg"
                className="text-white"
              />
            </div>
          )}
        </div>
      </section>

      <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
        <h2 className="text-xl font-bold tracking-tight">Today&apos;s sales</h2>
        <div className="relative sm:w-72">
          <label htmlFor="catalogue-search" className="sr-only">
            Search products
          </label>
          <input
            id="catalogue-search"
            type="search"
            placeholder="Search products"
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
              setPage(1);
            }}
            className="h-10 w-full rounded-lg border border-input bg-card px-3 text-sm shadow-xs focus:border-ring focus:outline-none focus:ring-2 focus:ring-ring/20"
          />
        </div>
      </div>

      {products.isPending ? (
        <div
          className="grid grid-cols-2 gap-3 sm:gap-5 lg:grid-cols-3 xl:grid-cols-4"
          aria-busy="true"
        >
          {Array.from({ length: 8 }, (_, index) => (
            <div
              key={index}
              className="flex flex-col gap-3 rounded-[var(--radius-card)] border border-border bg-card p-4"
            >
              <Skeleton className="aspect-[4/3] w-full" />
              <Skeleton className="h-4 w-2/3" />
              <Skeleton className="h-3 w-1/3" />
              <Skeleton className="h-2 w-full" />
              <Skeleton className="h-10 w-full" />
            </div>
          ))}
          <span className="sr-only" role="status">
            Loading products
          </span>
        </div>
      ) : products.isError ? (
        <ErrorState
          title="We couldn't load the sales"
          error={products.error}
          onRetry={() => void products.refetch()}
        />
      ) : items.length === 0 ? (
        <EmptyState
          title={debouncedSearch ? 'No products match your search' : 'No sales right now'}
        >
          {debouncedSearch
            ? 'Try another word, or clear the search to see every sale.'
            : 'New drops are added all the time. Check back soon.'}
        </EmptyState>
      ) : (
        sections.map((section) => {
          const inSection = items
            .filter((product) => section.phases.includes(phaseOf(product)))
            .sort(byStart);
          if (inSection.length === 0) return null;
          return (
            <section
              key={section.id}
              aria-labelledby={`section-${section.id}`}
              className="flex flex-col gap-4"
            >
              <h2 id={`section-${section.id}`} className="text-lg font-semibold">
                {section.title}{' '}
                <span className="text-sm font-normal text-muted-foreground">
                  ({inSection.length})
                </span>
              </h2>
              <div className="grid grid-cols-2 gap-3 sm:gap-5 lg:grid-cols-3 xl:grid-cols-4">
                {inSection.map((product) => (
                  <ProductCard
                    key={product.id}
                    product={product}
                    observedAt={products.dataUpdatedAt}
                    renderAction={renderAction}
                  />
                ))}
              </div>
            </section>
          );
        })
      )}

      <Pagination
        page={page}
        pageSize={PAGE_SIZE}
        total={products.data?.total ?? 0}
        onPageChange={setPage}
      />
    </div>
  );
}
