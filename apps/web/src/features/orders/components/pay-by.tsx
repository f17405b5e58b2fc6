import type { Order } from '@stampede/contract';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { queryKeys } from '@/api/query-keys';
import { Countdown } from '@/components/ui/countdown';
import { useServerTime } from '@/hooks/use-server-time';
import { formatDateTime } from '@/utils/format';

/** "Pay within 14:59": the order's payment window on the server's clock. */
export function PayBy({ order }: { order: Order }) {
  const queryClient = useQueryClient();
  const deadline = Date.parse(order.expires_at);
  const overdue = useServerTime((now) => now >= deadline);
  const urgent = useServerTime((now) => deadline - now < 60_000);

  // The server expires the order on its own; once the deadline passes, go and read what it says.
  useEffect(() => {
    if (!overdue) return;
    const timer = setTimeout(
      () => void queryClient.invalidateQueries({ queryKey: queryKeys.orders.all }),
      1500,
    );
    return () => clearTimeout(timer);
  }, [overdue, queryClient]);

  if (order.status !== 'pending_payment') return null;
  if (overdue) {
    return <p className="text-sm font-medium text-destructive">Payment window closed. Updating…</p>;
  }
  return (
    <p className="flex flex-wrap items-center gap-x-2 text-sm">
      <span className="text-muted-foreground">Pay within</span>
      <Countdown
        target={deadline}
        label="Time left to pay:"
        size="sm"
        className={urgent ? 'text-destructive' : 'text-warning'}
      />
      <span className="text-xs text-muted-foreground">(by {formatDateTime(order.expires_at)})</span>
    </p>
  );
}
