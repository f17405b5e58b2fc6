import { useState } from 'react';
import { Link } from 'react-router';
import { buttonClasses } from '@/components/ui/button';
import { Pagination } from '@/components/ui/pagination';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { paths } from '@/utils/paths';
import { useOrders } from '../api/get-orders';
import { OrderCard } from './order-card';

const PAGE_SIZE = 10;

export function OrdersList() {
  const [page, setPage] = useState(1);
  const orders = useOrders({
    page,
    pageSize: PAGE_SIZE,
    queryConfig: {
      // Unpaid orders change on their own (expiry): look again now and then while any is open.
      refetchInterval: (query) =>
        query.state.data?.items.some((order) => order.status === 'pending_payment')
          ? 10_000
          : false,
    },
  });
  if (orders.isPending) return <PageSpinner label="Loading your orders" />;
  if (orders.isError) {
    return (
      <ErrorState
        title="We couldn't load your orders"
        error={orders.error}
        onRetry={() => void orders.refetch()}
      />
    );
  }
  if (orders.data.items.length === 0) {
    return (
      <EmptyState
        title="No orders yet"
        action={
          <Link to={paths.home} className={buttonClasses({})}>
            See what&apos;s on sale
          </Link>
        }
      >
        When you grab something, it shows up here with its payment deadline.
      </EmptyState>
    );
  }
  return (
    <div className="flex flex-col gap-4">
      <div className="grid gap-4 lg:grid-cols-2">
        {orders.data.items.map((order) => (
          <OrderCard key={order.id} order={order} />
        ))}
      </div>
      <Pagination
        page={page}
        pageSize={PAGE_SIZE}
        total={orders.data.total}
        onPageChange={setPage}
      />
    </div>
  );
}
