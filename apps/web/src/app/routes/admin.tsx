import { NavLink, Outlet, useNavigate, useParams } from 'react-router';
import { EmptyState } from '@/components/ui/states';
import { AdminOrdersView } from '@/features/admin/components/admin-orders-view';
import { LiveSales } from '@/features/admin/components/live-sales';
import { LowStockView } from '@/features/admin/components/low-stock-view';
import { ProductEditor } from '@/features/admin/components/product-editor';
import { ProductForm } from '@/features/admin/components/product-form';
import { ProductTable } from '@/features/admin/components/product-table';
import { SyncStockButton } from '@/features/admin/components/sync-stock-button';
import { LiveSaleCharts } from '@/features/live-sale/components/live-sale-charts';
import { SaleReportView } from '@/features/live-sale/components/sale-report-view';
import { cn } from '@/utils/cn';
import { paths } from '@/utils/paths';
import { parseIdParam } from './parse-id-param';

const tabs = [
  { to: paths.admin.root, label: 'Live sales', end: true },
  { to: paths.admin.products, label: 'Products', end: false },
  { to: paths.admin.lowStock, label: 'Low stock', end: false },
  { to: paths.admin.orders, label: 'Orders', end: false },
];

export function AdminLayout() {
  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div>
          <p className="text-xs font-semibold uppercase tracking-widest text-primary">
            Operator console
          </p>
          <h1 className="text-2xl font-extrabold tracking-tight">Run the sale</h1>
        </div>
        <SyncStockButton />
      </div>
      <nav aria-label="Console" className="-mx-1 flex gap-1 overflow-x-auto border-b border-border">
        {tabs.map((tab) => (
          <NavLink
            key={tab.to}
            to={tab.to}
            end={tab.end}
            className={({ isActive }) =>
              cn(
                'whitespace-nowrap border-b-2 px-3 py-2 text-sm font-medium',
                isActive
                  ? 'border-primary text-foreground'
                  : 'border-transparent text-muted-foreground hover:text-foreground',
              )
            }
          >
            {tab.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </div>
  );
}

export const AdminLiveRoute = () => (
  <div className="flex flex-col gap-8">
    <LiveSaleCharts />
    <LiveSales />
  </div>
);
export const AdminProductsRoute = () => <ProductTable />;
export const AdminLowStockRoute = () => <LowStockView />;
export const AdminOrdersRoute = () => <AdminOrdersView />;

export function AdminNewProductRoute() {
  const navigate = useNavigate();
  return (
    <section
      className="rounded-[var(--radius-card)] border border-border bg-card p-5 shadow-sm"
      aria-labelledby="new-title"
    >
      <h2 id="new-title" className="mb-4 text-lg font-semibold">
        New product
      </h2>
      <ProductForm onSaved={(product) => void navigate(paths.admin.product(product.id))} />
    </section>
  );
}

export function AdminSaleReportRoute() {
  const productId = parseIdParam(useParams().productId);
  if (productId === null) return <EmptyState title="Sale not found" />;
  return <SaleReportView key={productId} productId={productId} />;
}

export function AdminProductRoute() {
  const productId = parseIdParam(useParams().productId);
  if (productId === null) return <EmptyState title="Product not found" />;
  return <ProductEditor key={productId} productId={productId} />;
}
