import type { Order } from '@stampede/contract';
import { Link } from 'react-router';
import { formatDateTime, formatMoney } from '@/utils/format';
import { paths } from '@/utils/paths';
import { OrderActions } from './order-actions';
import { OrderStatusBadge } from './order-status-badge';
import { PayBy } from './pay-by';

export function OrderCard({
  order,
  headingLevel = 'h2',
}: {
  order: Order;
  headingLevel?: 'h1' | 'h2';
}) {
  const Heading = headingLevel;
  return (
    <article
      className="flex flex-col gap-4 rounded-[var(--radius-card)] border border-border bg-card p-5 shadow-sm"
      aria-labelledby={`order-${order.id}-title`}
      data-testid="order-card"
      data-status={order.status}
    >
      <header className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <Heading id={`order-${order.id}-title`} className="text-base font-semibold">
            <Link to={paths.order(order.id)} className="hover:text-primary">
              Order #{order.id}
            </Link>
          </Heading>
          <p className="text-xs text-muted-foreground">Placed {formatDateTime(order.created_at)}</p>
        </div>
        <OrderStatusBadge status={order.status} />
      </header>
      <ul className="flex flex-col gap-1.5 text-sm">
        {order.items.map((item) => (
          <li key={item.product_id} className="flex justify-between gap-4">
            <span>
              <span className="tabular font-semibold">{item.quantity}×</span>{' '}
              <Link to={paths.product(item.product_id)} className="hover:text-primary">
                {item.name}
              </Link>
            </span>
            <span className="tabular text-muted-foreground">
              {formatMoney(item.unit_price_cents * item.quantity, order.currency)}
            </span>
          </li>
        ))}
      </ul>
      <div className="flex items-center justify-between border-t border-border pt-3">
        <span className="text-sm text-muted-foreground">Total</span>
        <span className="tabular text-lg font-bold">
          {formatMoney(order.total_cents, order.currency)}
        </span>
      </div>
      <PayBy order={order} />
      {order.status === 'paid' && order.paid_at && (
        <p className="text-sm text-success">Paid {formatDateTime(order.paid_at)}. Thank you!</p>
      )}
      {order.status === 'cancelled' && order.cancelled_at && (
        <p className="text-sm text-muted-foreground">
          Cancelled {formatDateTime(order.cancelled_at)}. The units went back on sale.
        </p>
      )}
      {order.status === 'expired' && (
        <p className="text-sm text-muted-foreground">
          Not paid in time{order.expired_at ? ` (expired ${formatDateTime(order.expired_at)})` : ''}
          . The units went back on sale.
        </p>
      )}
      <OrderActions order={order} />
    </article>
  );
}
