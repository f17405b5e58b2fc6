import type { OrderStatus } from '@stampede/contract';
import { Badge } from '@/components/ui/badge';

const statuses: Record<
  OrderStatus,
  { tone: 'warning' | 'success' | 'neutral' | 'destructive'; text: string }
> = {
  pending_payment: { tone: 'warning', text: 'Awaiting payment' },
  paid: { tone: 'success', text: 'Paid' },
  cancelled: { tone: 'neutral', text: 'Cancelled' },
  expired: { tone: 'destructive', text: 'Expired' },
};

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  const { tone, text } = statuses[status];
  return (
    <Badge tone={tone} className="text-[0.7rem] uppercase tracking-wide">
      {text}
    </Badge>
  );
}
