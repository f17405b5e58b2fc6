import type { Product, QueueStatus } from '@stampede/contract';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { buttonClasses } from '@/components/ui/button';
import { Countdown } from '@/components/ui/countdown';
import { Skeleton } from '@/components/ui/states';
import { useIsSignedIn } from '@/store/session-store';
import { paths } from '@/utils/paths';
import { useQueueStatus } from '../api/get-queue-status';

type Variant = 'card' | 'page';

/**
 * Stands in front of a product's buy control. When the product's sale runs a waiting room, the
 * buyer is sent there instead of straight to buying, unless they hold a live pass. Without a
 * queue, or when the status cannot be read, the buy control shows as usual: the server refuses
 * an order without a pass (403 queue_pass_required) and checkout explains it.
 *
 * The status needs a signed-in buyer; a visitor sees the buy control and meets the waiting room
 * after signing in.
 */
export function QueueGate({
  product,
  variant = 'card',
  ended = false,
  children,
}: {
  product: Pick<Product, 'id' | 'sale'>;
  variant?: Variant;
  /** The sale is over: nothing to queue for, and no status worth asking. */
  ended?: boolean;
  children: ReactNode;
}) {
  const isSignedIn = useIsSignedIn();
  if (!product.sale || !isSignedIn || ended) return children;
  return (
    <QueuedProduct productId={product.id} variant={variant}>
      {children}
    </QueuedProduct>
  );
}

function QueuedProduct({
  productId,
  variant,
  children,
}: {
  productId: number;
  variant: Variant;
  children: ReactNode;
}) {
  // The product page follows the turn live; a catalogue card reads it once and keeps it a while.
  const status = useQueueStatus({ productId, poll: variant === 'page' });
  if (status.isPending) {
    return <Skeleton className={variant === 'page' ? 'h-12 w-full' : 'h-10 w-full'} />;
  }
  if (!status.data) return children;
  const data = status.data;
  if (data.queue_state === 'off' || data.queue_state === 'closed') return children;
  if (data.state === 'admitted') {
    return (
      <div className="flex flex-col gap-2">
        <PassBanner status={data} compact={variant === 'card'} />
        {children}
      </div>
    );
  }
  return <WaitingRoomLink productId={productId} status={data} variant={variant} />;
}

function PassBanner({ status, compact }: { status: QueueStatus; compact: boolean }) {
  const expiresAt = status.pass_expires_at ? Date.parse(status.pass_expires_at) : null;
  return (
    <p
      className={
        compact
          ? 'flex flex-wrap items-center gap-1 text-xs font-semibold text-success'
          : 'flex flex-wrap items-center gap-2 rounded-lg bg-success-soft px-3 py-2 text-sm font-semibold text-success'
      }
      data-testid="queue-pass"
    >
      Your turn: check out within
      {expiresAt !== null ? (
        <Countdown target={expiresAt} label="Your pass expires in" size="sm" />
      ) : (
        ' your pass'
      )}
    </p>
  );
}

const linkLabels: Record<Exclude<QueueStatus['state'], 'admitted'>, string> = {
  not_joined: 'Join the waiting room',
  pre_queue: 'Your place in the waiting room',
  waiting: 'Your place in line',
  pass_expired: 'Go to the waiting room',
  sold_out: 'Sold out · waiting room',
  closed: 'Waiting room closed',
};

function WaitingRoomLink({
  productId,
  status,
  variant,
}: {
  productId: number;
  status: QueueStatus;
  variant: Variant;
}) {
  const label = linkLabels[status.state as Exclude<QueueStatus['state'], 'admitted'>];
  const link = (
    <Link
      to={paths.queue(productId)}
      className={buttonClasses({
        size: variant === 'page' ? 'lg' : 'md',
        block: true,
        variant: status.state === 'sold_out' ? 'outline' : 'primary',
      })}
      data-testid="queue-link"
    >
      {label}
    </Link>
  );
  if (variant === 'card') return link;
  return (
    <div className="flex flex-col gap-3 rounded-lg border border-info/30 bg-info-soft p-4">
      <p className="text-sm font-semibold text-info">This drop sells through a waiting room</p>
      <p className="text-sm text-foreground/80">
        {status.state === 'waiting' && status.place !== null
          ? `You are number ${status.place.toLocaleString('en-US')} in line. You can buy when it is your turn.`
          : status.state === 'pre_queue'
            ? 'You are in the pre-queue: places are drawn at random when the sale starts.'
            : status.state === 'sold_out'
              ? 'Sold out for now: you keep your place if units come back.'
              : 'Buyers are let in turn by turn, so that speed and scripts buy nothing. Join to get your place.'}
      </p>
      {link}
    </div>
  );
}
