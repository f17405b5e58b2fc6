import type { Order, OrderLineInput, Product } from '@stampede/contract';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { Alert } from '@/components/ui/alert';
import { Button, ReasonButton, buttonClasses } from '@/components/ui/button';
import { Countdown } from '@/components/ui/countdown';
import { useServerTime } from '@/hooks/use-server-time';
import { getServerNow } from '@/store/server-clock-store';
import { formatMoney } from '@/utils/format';
import { paths } from '@/utils/paths';
import { getSalePhase } from '@/utils/sale-phase';
import { usePlaceOrder } from '../api/place-order';
import { cartFingerprint, useCheckoutAttemptStore } from '../store/checkout-attempt-store';
import { describeCheckoutError, type CartFix } from '../utils/describe-checkout-error';

export type CheckoutLine = { productId: number; quantity: number; product: Product | undefined };

/**
 * Order summary and "Place order". Never optimistic: it shows success only by handing the
 * server's order to `onOrderPlaced`, which happens on the 201 and nothing else.
 */
export function CheckoutPanel({
  lines,
  isSignedIn,
  onOrderPlaced,
  onFix,
}: {
  lines: CheckoutLine[];
  isSignedIn: boolean;
  onOrderPlaced: (order: Order) => void;
  /** Applies a suggested fix (lower a quantity, remove a line) to the cart. */
  onFix: (fix: CartFix) => void;
}) {
  const keyFor = useCheckoutAttemptStore((state) => state.keyFor);
  const closeAttempt = useCheckoutAttemptStore((state) => state.close);
  const placeOrder = usePlaceOrder();
  const [retry, setRetry] = useState<{ at: number; fingerprint: string } | null>(null);

  const items: OrderLineInput[] = useMemo(
    () => lines.map((line) => ({ product_id: line.productId, quantity: line.quantity })),
    [lines],
  );
  const fingerprint = cartFingerprint(items);

  const names = (id: number) => lines.find((line) => line.productId === id)?.product?.name;
  const currency = lines.find((line) => line.product)?.product?.currency ?? 'USD';
  const total = lines.reduce(
    (sum, line) => sum + (line.product ? line.product.price_cents * line.quantity : 0),
    0,
  );
  const count = lines.reduce((sum, line) => sum + line.quantity, 0);

  const notReady = lines.some((line) => !line.product);
  // The first line whose sale is not open, as "index:phase", re-evaluated as the clock turns.
  const blockedKey = useServerTime((now) => {
    const index = lines.findIndex((line) => {
      const phase = line.product ? getSalePhase(line.product, now) : null;
      return phase === 'upcoming' || phase === 'ended';
    });
    return index < 0 ? null : `${index}:${getSalePhase(lines[index]!.product!, now)}`;
  });
  const blocked = blockedKey
    ? { line: lines[Number(blockedKey.split(':')[0])]!, phase: blockedKey.split(':')[1] }
    : undefined;

  const submit = () => {
    const idempotencyKey = keyFor(fingerprint);
    setRetry(null);
    placeOrder.mutate(
      { items, idempotencyKey },
      {
        onSuccess: (order) => {
          closeAttempt();
          onOrderPlaced(order);
        },
        onError: (error) => {
          const view = describeCheckoutError(error, names);
          if (!view.keepKey) closeAttempt();
          if (view.retry === 'wait' && view.retryAfterSeconds !== null) {
            setRetry({ at: getServerNow() + view.retryAfterSeconds * 1000, fingerprint });
          }
        },
      },
    );
  };

  // An answer about another cart is no longer true of this one: show only what concerns this cart.
  const answered =
    placeOrder.variables !== undefined &&
    cartFingerprint(placeOrder.variables.items) === fingerprint;
  const errorView =
    placeOrder.isError && answered ? describeCheckoutError(placeOrder.error, names) : null;
  const retryAt = retry && retry.fingerprint === fingerprint ? retry.at : null;
  const waiting = useServerTime((now) => retryAt !== null && now < retryAt);

  let reason: string | null = null;
  if (lines.length === 0) reason = 'Your cart is empty';
  else if (notReady) reason = 'Loading your cart';
  else if (blocked?.phase === 'upcoming')
    reason = `${blocked.line.product!.name}: the sale has not started yet`;
  else if (blocked?.phase === 'ended') reason = `${blocked.line.product!.name}: the sale has ended`;
  else if (waiting) reason = 'You can try again when the countdown ends';

  return (
    <section
      aria-labelledby="checkout-title"
      className="flex flex-col gap-4 rounded-[var(--radius-card)] border border-border bg-card p-5 shadow-sm"
    >
      <h2 id="checkout-title" className="text-lg font-semibold">
        Order summary
      </h2>
      <dl className="flex flex-col gap-2 text-sm">
        <div className="flex justify-between">
          <dt className="text-muted-foreground">Items</dt>
          <dd className="tabular">{count}</dd>
        </div>
        <div className="flex justify-between">
          <dt className="text-muted-foreground">Shipping</dt>
          <dd>Free</dd>
        </div>
        <div className="flex justify-between border-t border-border pt-2 text-base font-bold">
          <dt>Total</dt>
          <dd className="tabular" data-testid="checkout-total">
            {formatMoney(total, currency)}
          </dd>
        </div>
      </dl>

      {isSignedIn ? (
        <ReasonButton
          size="lg"
          block
          loading={placeOrder.isPending}
          disabledReason={placeOrder.isPending ? null : reason}
          onClick={submit}
        >
          {placeOrder.isPending ? 'Placing your order…' : 'Place order'}
        </ReasonButton>
      ) : (
        <div className="flex flex-col gap-2">
          <Link to={paths.login(paths.cart)} className={buttonClasses({ size: 'lg', block: true })}>
            Sign in to place your order
          </Link>
          <p className="text-center text-xs text-muted-foreground">
            New here?{' '}
            <Link
              to={paths.register(paths.cart)}
              className="font-semibold text-primary hover:underline"
            >
              Create an account
            </Link>
          </p>
        </div>
      )}

      {placeOrder.isPending && (
        <p role="status" className="text-center text-xs text-muted-foreground">
          Waiting for the shop to confirm. Do not close this page.
        </p>
      )}

      {errorView && (
        <Alert
          tone={errorView.tone}
          title={errorView.title}
          actions={
            <>
              {errorView.fix &&
                (errorView.fix.kind === 'set_quantity' || errorView.fix.kind === 'remove') && (
                  <Button
                    size="sm"
                    variant="outline"
                    onClick={() => onFix(errorView.fix as CartFix)}
                  >
                    {errorView.fix.label}
                  </Button>
                )}
              {errorView.fix?.kind === 'queue' && (
                <Link
                  to={paths.queue(errorView.fix.productId)}
                  className={buttonClasses({ size: 'sm', variant: 'primary' })}
                >
                  {errorView.fix.label}
                </Link>
              )}
              {errorView.fix?.kind === 'sign_in' && (
                <Link
                  to={paths.login(paths.cart)}
                  className={buttonClasses({ size: 'sm', variant: 'outline' })}
                >
                  {errorView.fix.label}
                </Link>
              )}
              {(errorView.retry === 'now' || errorView.retry === 'wait') && (
                <Button size="sm" variant="secondary" onClick={submit} disabled={waiting}>
                  Retry
                </Button>
              )}
            </>
          }
        >
          <p data-testid="checkout-error" data-code={errorView.code}>
            {errorView.message}
          </p>
          {waiting && retryAt !== null && (
            <p className="mt-2 flex items-center gap-2 font-medium">
              Try again in
              <Countdown target={retryAt} label="You can try again in" size="sm" />
            </p>
          )}
          {errorView.requestId && (
            <p className="mt-2 font-mono text-xs text-muted-foreground">
              Reference: {errorView.requestId}
            </p>
          )}
        </Alert>
      )}
    </section>
  );
}
