import { OrderStatus } from '@stampede/contract';
import { useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { SelectField } from '@/components/ui/input';
import { Pagination } from '@/components/ui/pagination';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { formatDateTime, formatMoney } from '@/utils/format';
import { useAdminOrders } from '../api/get-admin-orders';

const PAGE_SIZE = 25;
const tones = {
  pending_payment: 'warning',
  paid: 'success',
  cancelled: 'neutral',
  expired: 'destructive',
} as const;

export function AdminOrdersView() {
  const [status, setStatus] = useState<OrderStatus | undefined>(undefined);
  const [page, setPage] = useState(1);
  const orders = useAdminOrders({ status, page, pageSize: PAGE_SIZE });

  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-end justify-between gap-3">
        <SelectField
          label="Status"
          className="w-56"
          value={status ?? ''}
          onChange={(event) => {
            const parsed = OrderStatus.safeParse(event.target.value);
            setStatus(parsed.success ? parsed.data : undefined);
            setPage(1);
          }}
        >
          <option value="">All orders</option>
          <option value="pending_payment">Awaiting payment</option>
          <option value="paid">Paid</option>
          <option value="cancelled">Cancelled</option>
          <option value="expired">Expired</option>
        </SelectField>
        {orders.data && (
          <p className="text-sm text-muted-foreground">
            {orders.data.total.toLocaleString('en-US')} order{orders.data.total === 1 ? '' : 's'}
          </p>
        )}
      </div>
      {orders.isPending ? (
        <PageSpinner label="Loading orders" />
      ) : orders.isError ? (
        <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />
      ) : orders.data.items.length === 0 ? (
        <EmptyState title="No orders here">No order matches this filter yet.</EmptyState>
      ) : (
        <div
          className={`overflow-x-auto rounded-[var(--radius-card)] border border-border bg-card shadow-sm transition-opacity ${orders.isPlaceholderData ? 'opacity-60' : ''}`}
          aria-busy={orders.isPlaceholderData || undefined}
        >
          <table className="w-full min-w-[44rem] text-left text-sm" aria-label="Orders">
            <thead className="border-b border-border bg-muted/60 text-xs uppercase tracking-wide text-muted-foreground">
              <tr>
                <th scope="col" className="px-4 py-3">
                  Order
                </th>
                <th scope="col" className="px-4 py-3">
                  Customer
                </th>
                <th scope="col" className="px-4 py-3">
                  Items
                </th>
                <th scope="col" className="px-4 py-3 text-right">
                  Total
                </th>
                <th scope="col" className="px-4 py-3">
                  Status
                </th>
                <th scope="col" className="px-4 py-3">
                  Placed
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-border">
              {orders.data.items.map((order) => (
                <tr key={order.id} data-testid="admin-order-row">
                  <td className="px-4 py-3 font-semibold">#{order.id}</td>
                  <td className="px-4 py-3 text-muted-foreground">user #{order.user_id}</td>
                  <td className="px-4 py-3">
                    {order.items.map((item) => `${item.quantity}× ${item.name}`).join(', ')}
                  </td>
                  <td className="tabular px-4 py-3 text-right">
                    {formatMoney(order.total_cents, order.currency)}
                  </td>
                  <td className="px-4 py-3">
                    <Badge tone={tones[order.status]}>{order.status.replace('_', ' ')}</Badge>
                  </td>
                  <td className="px-4 py-3 text-xs text-muted-foreground">
                    {formatDateTime(order.created_at)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination
        page={page}
        pageSize={PAGE_SIZE}
        total={orders.data?.total ?? 0}
        onPageChange={setPage}
      />
    </div>
  );
}
