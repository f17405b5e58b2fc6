import { Link } from 'react-router';
import { Alert } from '@/components/ui/alert';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { paths } from '@/utils/paths';
import { useOrder } from '../api/get-order';
import { OrderCard } from './order-card';

export function OrderDetails({
  orderId,
  justPlaced = false,
}: {
  orderId: number;
  justPlaced?: boolean;
}) {
  const order = useOrder({
    orderId,
    queryConfig: {
      refetchInterval: (query) => (query.state.data?.status === 'pending_payment' ? 10_000 : false),
    },
  });
  if (order.isPending) return <PageSpinner label="Loading order" />;
  if (order.isError) {
    if (order.error.code === 'order_not_found') {
      return (
        <EmptyState
          title="Order not found"
          action={
            <Link to={paths.orders} className="text-sm font-semibold text-primary hover:underline">
              See your orders
            </Link>
          }
        />
      );
    }
    return <ErrorState error={order.error} onRetry={() => void order.refetch()} />;
  }
  return (
    <div className="mx-auto flex max-w-2xl flex-col gap-4">
      {justPlaced && order.data.status === 'pending_payment' && (
        <Alert tone="success" title={`Order #${order.data.id} is yours`}>
          The units are reserved for you. Pay before the timer runs out or they go back on sale.
        </Alert>
      )}
      <OrderCard order={order.data} headingLevel="h1" />
      <Link to={paths.orders} className="text-sm font-semibold text-primary hover:underline">
        ← All my orders
      </Link>
    </div>
  );
}
