import { Link, useNavigate } from 'react-router';
import { Alert } from '@/components/ui/alert';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { paths } from '@/utils/paths';
import { useAdminProduct } from '../api/get-admin-product';
import { ProductForm } from './product-form';
import { QueuePanel } from './queue-panel';
import { SetStockForm } from './set-stock-form';
import { useState } from 'react';

export function ProductEditor({ productId }: { productId: number }) {
  const product = useAdminProduct({ productId });
  const navigate = useNavigate();
  const [saved, setSaved] = useState(false);
  if (product.isPending) return <PageSpinner label="Loading product" />;
  if (product.isError) {
    if (product.error.code === 'product_not_found') {
      return (
        <EmptyState
          title="Product not found"
          action={
            <Link to={paths.admin.products} className="text-sm font-semibold text-primary">
              Back to products
            </Link>
          }
        >
          It does not exist, or it is hidden from the shop (the API only shows active products).
        </EmptyState>
      );
    }
    return <ErrorState error={product.error} onRetry={() => void product.refetch()} />;
  }
  return (
    <div className="flex flex-col gap-6">
      {/* The sticky stock card is held inside this grid, so it never slides over the panel below. */}
      <div className="grid items-start gap-6 lg:grid-cols-[1fr_20rem]">
        <section
          className="rounded-[var(--radius-card)] border border-border bg-card p-5 shadow-sm"
          aria-labelledby="edit-title"
        >
          <h2 id="edit-title" className="mb-4 text-lg font-semibold">
            {product.data.name}
          </h2>
          {saved && <Alert tone="success" title="Changes saved." className="mb-4" />}
          <ProductForm
            key={product.data.updated_at}
            product={product.data}
            onSaved={(updated) => {
              setSaved(true);
              if (!updated.is_active) void navigate(paths.admin.products);
            }}
          />
        </section>
        <section
          className="rounded-[var(--radius-card)] border border-border bg-card p-5 shadow-sm lg:sticky lg:top-24"
          aria-labelledby="stock-title"
        >
          <h2 id="stock-title" className="mb-4 text-lg font-semibold">
            Stock
          </h2>
          <SetStockForm productId={productId} />
        </section>
      </div>
      <section
        className="rounded-[var(--radius-card)] border border-border bg-card p-5 shadow-sm"
        aria-labelledby="queue-title"
      >
        <h2 id="queue-title" className="mb-4 text-lg font-semibold">
          Waiting room
        </h2>
        <QueuePanel productId={productId} />
      </section>
    </div>
  );
}
