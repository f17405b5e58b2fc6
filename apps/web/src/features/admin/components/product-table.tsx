import { useState } from 'react';
import { Link } from 'react-router';
import { buttonClasses } from '@/components/ui/button';
import { Pagination } from '@/components/ui/pagination';
import { ProductImage } from '@/components/ui/product-image';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { useServerTime } from '@/hooks/use-server-time';
import { formatDateTime, formatMoney } from '@/utils/format';
import { paths } from '@/utils/paths';
import { getSalePhase, type SalePhase } from '@/utils/sale-phase';
import { ADMIN_PAGE_SIZE, useAdminProducts } from '../api/get-admin-products';
import { Badge } from '@/components/ui/badge';

const phaseTone: Record<SalePhase, 'primary' | 'info' | 'dark' | 'neutral'> = {
  live: 'primary',
  upcoming: 'info',
  sold_out: 'dark',
  ended: 'neutral',
};

export function ProductTable() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const products = useAdminProducts({ search: search.trim(), page });
  const items = products.data?.items ?? [];
  const phases = useServerTime((now) =>
    items.map((product) => getSalePhase(product, now)).join(','),
  ).split(',') as SalePhase[];

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
        <div className="sm:w-72">
          <label htmlFor="admin-search" className="sr-only">
            Search products
          </label>
          <input
            id="admin-search"
            type="search"
            placeholder="Search by name or SKU"
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
              setPage(1);
            }}
            className="h-10 w-full rounded-lg border border-input bg-card px-3 text-sm focus:border-ring focus:outline-none focus:ring-2 focus:ring-ring/20"
          />
        </div>
        <Link to={paths.admin.newProduct} className={buttonClasses({})}>
          New product
        </Link>
      </div>
      {products.isPending ? (
        <PageSpinner label="Loading products" />
      ) : products.isError ? (
        <ErrorState error={products.error} onRetry={() => void products.refetch()} />
      ) : products.data.items.length === 0 ? (
        <EmptyState
          title="No products yet"
          action={
            <Link to={paths.admin.newProduct} className={buttonClasses({})}>
              Create the first one
            </Link>
          }
        />
      ) : (
        <div className="overflow-x-auto rounded-[var(--radius-card)] border border-border bg-card shadow-sm">
          <table className="w-full min-w-[48rem] text-left text-sm">
            <thead className="border-b border-border bg-muted/60 text-xs uppercase tracking-wide text-muted-foreground">
              <tr>
                <th scope="col" className="px-4 py-3">
                  Product
                </th>
                <th scope="col" className="px-4 py-3">
                  Price
                </th>
                <th scope="col" className="px-4 py-3">
                  Sale window
                </th>
                <th scope="col" className="px-4 py-3 text-right">
                  Limit
                </th>
                <th scope="col" className="px-4 py-3 text-right">
                  Stock
                </th>
                <th scope="col" className="px-4 py-3">
                  State
                </th>
                <th scope="col" className="px-4 py-3">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-border">
              {products.data.items.map((product, index) => {
                const phase = phases[index] ?? 'live';
                return (
                  <tr key={product.id}>
                    <td className="px-4 py-3">
                      <div className="flex items-center gap-3">
                        <ProductImage
                          src={product.image_url}
                          alt=""
                          className="size-10 shrink-0 rounded-md"
                        />
                        <div>
                          <p className="font-medium">{product.name}</p>
                          <p className="font-mono text-xs text-muted-foreground">{product.sku}</p>
                        </div>
                      </div>
                    </td>
                    <td className="tabular px-4 py-3">
                      {formatMoney(product.price_cents, product.currency)}
                    </td>
                    <td className="px-4 py-3 text-xs">
                      {product.sale ? (
                        <>
                          {formatDateTime(product.sale.starts_at)}
                          <br />
                          <span className="text-muted-foreground">
                            {product.sale.ends_at
                              ? `to ${formatDateTime(product.sale.ends_at)}`
                              : 'no end'}
                          </span>
                        </>
                      ) : (
                        <span className="text-muted-foreground">Always on sale</span>
                      )}
                    </td>
                    <td className="tabular px-4 py-3 text-right">
                      {product.sale?.max_per_user ?? '—'}
                    </td>
                    <td className="tabular px-4 py-3 text-right font-semibold">
                      {product.available.toLocaleString('en-US')}
                    </td>
                    <td className="px-4 py-3">
                      <Badge tone={phaseTone[phase]}>{phase.replace('_', ' ')}</Badge>
                    </td>
                    <td className="px-4 py-3 text-right">
                      <Link
                        to={paths.admin.product(product.id)}
                        className="font-semibold text-primary hover:underline"
                      >
                        Edit<span className="sr-only"> {product.name}</span>
                      </Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Pagination
        page={page}
        pageSize={ADMIN_PAGE_SIZE}
        total={products.data?.total ?? 0}
        onPageChange={setPage}
      />
    </div>
  );
}
