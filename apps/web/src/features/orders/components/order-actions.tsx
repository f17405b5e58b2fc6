import type { Order } from '@stampede/contract';
import { useState } from 'react';
import type { ApiError } from '@/api/api-error';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { useCancelOrder } from '../api/cancel-order';
import { usePayOrder } from '../api/pay-order';

function actionErrorMessage(error: ApiError): string {
  switch (error.code) {
    case 'invalid_order_state':
      return 'This order can no longer be changed: it was paid, cancelled or expired meanwhile.';
    case 'order_not_found':
      return 'This order was not found.';
    case 'network_error':
    case 'timeout':
      return 'No answer from the shop. Check the order status before trying again.';
    default:
      return error.message;
  }
}

/** Pay and cancel. Cancelling asks for a second press, since the units go back on sale at once. */
export function OrderActions({ order }: { order: Order }) {
  const [confirming, setConfirming] = useState(false);
  const pay = usePayOrder();
  const cancel = useCancelOrder({ mutationConfig: { onSettled: () => setConfirming(false) } });
  const canPay = order.status === 'pending_payment';
  const canCancel = order.status === 'pending_payment' || order.status === 'paid';
  if (!canPay && !canCancel) return null;
  const busy = pay.isPending || cancel.isPending;
  const error = pay.error ?? cancel.error;

  return (
    <div className="flex flex-col gap-3">
      {confirming ? (
        <div
          role="group"
          aria-label="Confirm cancellation"
          className="flex flex-col gap-3 rounded-lg border border-destructive/30 bg-destructive-soft p-3 sm:flex-row sm:items-center sm:justify-between"
        >
          <p className="text-sm font-medium text-destructive">
            Cancel order #{order.id}? Its units go back on sale immediately.
          </p>
          <div className="flex gap-2">
            <Button
              size="sm"
              variant="outline"
              onClick={() => setConfirming(false)}
              disabled={busy}
            >
              Keep order
            </Button>
            <Button
              size="sm"
              variant="destructive"
              loading={cancel.isPending}
              onClick={() => cancel.mutate({ orderId: order.id })}
            >
              Yes, cancel it
            </Button>
          </div>
        </div>
      ) : (
        <div className="flex flex-wrap gap-2">
          {canPay && (
            <Button
              variant="success"
              loading={pay.isPending}
              disabled={busy}
              onClick={() => pay.mutate({ orderId: order.id })}
            >
              Pay now
            </Button>
          )}
          {canCancel && (
            <Button variant="outline" disabled={busy} onClick={() => setConfirming(true)}>
              Cancel order
            </Button>
          )}
        </div>
      )}
      {error && <Alert tone="destructive" title={actionErrorMessage(error)} />}
    </div>
  );
}
