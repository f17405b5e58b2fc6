import { useState } from 'react';
import { Link } from 'react-router';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { paths } from '@/utils/paths';
import { useLowStock } from '../api/get-low-stock';

export function LowStockView() {
  const [input, setInput] = useState('10');
  const parsed = /^\d{1,8}$/.test(input.trim()) ? Number(input.trim()) : null;
  const [threshold, setThreshold] = useState(10);
  if (parsed !== null && parsed !== threshold) setThreshold(parsed);
  const lowStock = useLowStock({ threshold });

  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-end gap-3">
        <div className="flex flex-col gap-1.5">
          <label htmlFor="low-stock-threshold" className="text-sm font-medium">
            Show products with at most
          </label>
          <div className="flex items-center gap-2">
            <input
              id="low-stock-threshold"
              inputMode="numeric"
              value={input}
              onChange={(event) => setInput(event.target.value)}
              aria-invalid={parsed === null || undefined}
              className="tabular h-10 w-28 rounded-lg border border-input bg-card px-3 text-sm focus:border-ring focus:outline-none focus:ring-2 focus:ring-ring/20"
            />
            <span className="text-sm text-muted-foreground">units left</span>
          </div>
          {parsed === null && <p className="text-xs text-destructive">Enter a whole number.</p>}
        </div>
      </div>
      {lowStock.isPending ? (
        <PageSpinner label="Loading low stock" />
      ) : lowStock.isError ? (
        <ErrorState error={lowStock.error} onRetry={() => void lowStock.refetch()} />
      ) : lowStock.data.items.length === 0 ? (
        <EmptyState title="Nothing is running low">
          No product has {threshold} or fewer units left.
        </EmptyState>
      ) : (
        <ul className="divide-y divide-border rounded-[var(--radius-card)] border border-border bg-card shadow-sm">
          {lowStock.data.items.map((product) => (
            <li key={product.id} className="flex items-center justify-between gap-4 p-4">
              <div>
                <Link
                  to={paths.admin.product(product.id)}
                  className="font-medium hover:text-primary"
                >
                  {product.name}
                </Link>
                <p className="font-mono text-xs text-muted-foreground">
                  {product.sku}
                  {product.is_active ? '' : ' · hidden'}
                </p>
              </div>
              <span
                className={`tabular text-lg font-bold ${product.available === 0 ? 'text-destructive' : 'text-warning'}`}
              >
                {product.available.toLocaleString('en-US')}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
