import { useLocation, useParams } from 'react-router';
import { EmptyState } from '@/components/ui/states';
import { OrderDetails } from '@/features/orders/components/order-details';
import { OrdersList } from '@/features/orders/components/orders-list';
import { parseIdParam } from './parse-id-param';

export function OrdersRoute() {
  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-extrabold tracking-tight">My orders</h1>
        <p className="text-sm text-muted-foreground">
          Unpaid orders hold their units until the timer runs out.
        </p>
      </div>
      <OrdersList />
    </div>
  );
}

export function OrderRoute() {
  const orderId = parseIdParam(useParams().orderId);
  const location = useLocation();
  const justPlaced = Boolean((location.state as { justPlaced?: boolean } | null)?.justPlaced);
  if (orderId === null) return <EmptyState title="Order not found" />;
  return <OrderDetails orderId={orderId} justPlaced={justPlaced} />;
}
