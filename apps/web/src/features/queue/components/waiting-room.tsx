import type { QueueStatus } from '@stampede/contract';
import { useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { Badge } from '@/components/ui/badge';
import { Countdown } from '@/components/ui/countdown';
import { PageSpinner } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { useServerTime } from '@/hooks/use-server-time';
import { cn } from '@/utils/cn';
import { formatDateTime } from '@/utils/format';
import { paths } from '@/utils/paths';
import { useQueueStatus } from '../api/get-queue-status';
import { formatWait, placeForSpeech } from '../utils/queue-words';
import { JoinQueueButton } from './join-queue-button';

export type WaitingRoomProps = {
  productId: number;
  /** The product's name, when the page knows it. */
  productName?: string;
  /** The buy control an admitted buyer gets (composed by the route: cart and checkout). */
  renderBuy?: () => ReactNode;
};

/** The waiting room of one sale: join, the draw, the line, the turn, and every ending. */
export function WaitingRoom({ productId, productName, renderBuy }: WaitingRoomProps) {
  const status = useQueueStatus({ productId });
  if (status.isPending) return <PageSpinner label="Finding your place" />;
  if (status.isError && !status.data) {
    if (status.error.code === 'product_not_found' || status.error.code === 'not_found') {
      return (
        <EmptyState
          title="This sale has no waiting room"
          action={
            <Link to={paths.home} className="text-sm font-semibold text-primary hover:underline">
              Back to the sales
            </Link>
          }
        >
          The product does not exist, or the link is wrong.
        </EmptyState>
      );
    }
    return (
      <ErrorState
        title="We couldn't load the waiting room"
        error={status.error}
        onRetry={() => void status.refetch()}
      />
    );
  }
  return (
    <WaitingRoomView
      productId={productId}
      productName={productName}
      status={status.data}
      renderBuy={renderBuy}
      stale={status.isError}
    />
  );
}

const stateBadges: Record<
  QueueStatus['state'],
  { tone: 'primary' | 'info' | 'success' | 'warning' | 'dark' | 'neutral'; text: string }
> = {
  not_joined: { tone: 'neutral', text: 'Not in line yet' },
  pre_queue: { tone: 'info', text: 'In the pre-queue' },
  waiting: { tone: 'primary', text: 'In line' },
  admitted: { tone: 'success', text: 'Your turn' },
  pass_expired: { tone: 'warning', text: 'Pass expired' },
  sold_out: { tone: 'dark', text: 'Sold out' },
  closed: { tone: 'neutral', text: 'Closed' },
};

/**
 * The tab's title tells a buyer waiting in another tab that their turn came, or their place.
 */
function useQueueTitle(status: QueueStatus) {
  const title =
    status.state === 'admitted'
      ? 'Your turn! · Stampede'
      : status.state === 'waiting' && status.place !== null
        ? `#${status.place.toLocaleString('en-US')} in line · Stampede`
        : null;
  useEffect(() => {
    if (!title) return;
    const previous = document.title;
    document.title = title;
    return () => {
      document.title = previous;
    };
  }, [title]);
}

/** What the polite live region says: it changes only when something worth hearing did. */
function announcementFor(status: QueueStatus): string {
  switch (status.state) {
    case 'not_joined':
      return '';
    case 'pre_queue':
      return 'You are in the waiting room. Places are drawn at random when the sale starts.';
    case 'waiting':
      return status.place !== null
        ? placeForSpeech(status.place, status.ahead)
        : 'You are in line. Your place is being worked out.';
    case 'admitted':
      return status.pass_expires_at
        ? `It is your turn. Check out before ${formatDateTime(status.pass_expires_at)}.`
        : 'It is your turn. Check out now.';
    case 'pass_expired':
      return 'Your pass has expired.';
    case 'sold_out':
      return 'Sold out: nothing to wait for.';
    case 'closed':
      return 'The sale is over. The waiting room has closed.';
  }
}

export function WaitingRoomView({
  productId,
  productName,
  status,
  renderBuy,
  stale = false,
}: WaitingRoomProps & { status: QueueStatus; stale?: boolean }) {
  const badge = stateBadges[status.state];
  const inLine = ['pre_queue', 'waiting', 'sold_out'].includes(status.state);
  useQueueTitle(status);
  return (
    <section
      aria-labelledby="queue-title"
      data-testid="queue-state"
      data-state={status.state}
      className="mx-auto flex w-full max-w-2xl flex-col gap-5 rounded-[var(--radius-card)] border border-border bg-card p-4 shadow-sm sm:p-8"
    >
      <header className="flex flex-col gap-2">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <p className="text-xs font-semibold uppercase tracking-widest text-primary">
            Waiting room
          </p>
          <Badge tone={badge.tone}>{badge.text}</Badge>
        </div>
        <h1 id="queue-title" className="text-2xl font-extrabold tracking-tight sm:text-3xl">
          {productName ?? 'This drop'}
        </h1>
      </header>

      <StateBody productId={productId} status={status} renderBuy={renderBuy} />

      {stale && (
        <p className="text-xs text-warning" role="status">
          Reconnecting… what you see may be a few seconds old. Your place is kept.
        </p>
      )}
      <p className="sr-only" role="status" aria-live="polite" aria-atomic="true">
        {announcementFor(status)}
      </p>
      <p className="text-xs text-muted-foreground">
        <Link to={paths.product(productId)} className="font-medium hover:text-foreground">
          Back to the product
        </Link>
        {inLine && ' · You can leave and come back: your place is kept with your account.'}
      </p>
    </section>
  );
}

function StateBody({ productId, status, renderBuy }: WaitingRoomProps & { status: QueueStatus }) {
  const startsAt = status.starts_at ? Date.parse(status.starts_at) : null;
  switch (status.state) {
    case 'not_joined':
      return <NotJoined productId={productId} status={status} renderBuy={renderBuy} />;
    case 'pre_queue':
      return (
        <div className="flex flex-col gap-4">
          <p className="text-base font-semibold">You are in. The draw is at the start.</p>
          {startsAt !== null && (
            <div className="flex flex-col items-start gap-1 rounded-lg bg-info-soft p-4">
              <span className="text-xs font-semibold uppercase tracking-wide text-info">
                Draw in
              </span>
              <Countdown target={startsAt} label="The draw is in" size="lg" className="text-info" />
            </div>
          )}
          <p className="text-sm text-foreground/80">
            Everyone here gets a random place at the start: arriving early or late in the pre-queue
            does not matter. Keep this page open, or come back before the start.
          </p>
        </div>
      );
    case 'waiting':
      return <Waiting status={status} />;
    case 'admitted':
      return <Admitted productId={productId} status={status} renderBuy={renderBuy} />;
    case 'pass_expired':
      // One place per account and sale: a join now would answer this same, spent place.
      return (
        <div className="flex flex-col gap-3">
          <p className="text-xl font-bold">Your pass has expired</p>
          <p className="text-sm text-foreground/80">
            Your turn came, but the time to check out ran out, so the units went back to the buyers
            still waiting. Each account gets one turn per sale.
          </p>
          <Link to={paths.home} className="text-sm font-semibold text-primary hover:underline">
            See the other sales
          </Link>
        </div>
      );
    case 'sold_out':
      return (
        <div className="flex flex-col gap-3">
          <p className="text-xl font-bold">Sold out: nothing to wait for</p>
          <p className="text-sm text-foreground/80">
            Every unit has been sold, so nobody is let in. If units come back (an order cancelled or
            not paid in time), admission resumes by itself and this page shows your place again: you
            keep it.
          </p>
        </div>
      );
    case 'closed':
      return (
        <div className="flex flex-col gap-3">
          <p className="text-xl font-bold">The sale is over</p>
          <p className="text-sm text-foreground/80">
            The waiting room has closed and no more passes are handed out.
          </p>
          <Link to={paths.home} className="text-sm font-semibold text-primary hover:underline">
            See the other sales
          </Link>
        </div>
      );
  }
}

function NotJoined({
  productId,
  status,
  renderBuy,
}: {
  productId: number;
  status: QueueStatus;
  renderBuy?: () => ReactNode;
}) {
  const startsAt = status.starts_at ? Date.parse(status.starts_at) : null;
  if (status.queue_state === 'off') {
    return (
      <div className="flex flex-col gap-4">
        <p className="text-sm text-foreground/80">
          This sale has no waiting room: you can buy straight away.
        </p>
        {renderBuy?.() ?? (
          <Link
            to={paths.product(productId)}
            className="text-sm font-semibold text-primary hover:underline"
          >
            Go to the product
          </Link>
        )}
      </div>
    );
  }
  if (status.queue_state === 'closed') {
    return (
      <div className="flex flex-col gap-3">
        <p className="text-xl font-bold">The sale is over</p>
        <p className="text-sm text-foreground/80">The waiting room has closed.</p>
      </div>
    );
  }
  const notOpen = status.queue_state === 'not_open';
  const preQueue = status.queue_state === 'pre_queue';
  return (
    <div className="flex flex-col gap-4">
      <p className="text-sm text-foreground/80">
        This drop sells through a waiting room, so that speed and scripts buy nothing. When it is
        your turn you get a pass: a few minutes to check out, with the units kept for the buyers let
        in.
      </p>
      <ul className="flex list-disc flex-col gap-1 pl-5 text-sm text-foreground/80">
        <li>
          Join before the sale starts and you take part in the draw: everyone in the pre-queue gets
          a random place at the start.
        </li>
        <li>Join after the start and you line up behind, in the order you arrive.</li>
        <li>If the stock runs out, you are told at once: nobody waits for nothing.</li>
      </ul>
      {startsAt !== null && (notOpen || preQueue) && (
        <p className="flex flex-wrap items-center gap-2 text-sm">
          <span className="text-muted-foreground">Sale starts in</span>
          <Countdown target={startsAt} label="The sale starts in" size="md" className="text-info" />
        </p>
      )}
      <JoinQueueButton
        productId={productId}
        disabledReason={
          notOpen
            ? 'The waiting room is not open yet. It opens before the sale starts; come back then.'
            : null
        }
      />
    </div>
  );
}

function Waiting({ status }: { status: QueueStatus }) {
  const ahead = status.ahead ?? (status.place !== null ? Math.max(0, status.place - 1) : null);
  // The most people this page has seen ahead: the line's progress is measured against it.
  const [peak, setPeak] = useState(ahead ?? 0);
  if (ahead !== null && ahead > peak) setPeak(ahead);
  const reference = Math.max(peak, ahead ?? 0);
  const percent = reference > 0 && ahead !== null ? Math.round((1 - ahead / reference) * 100) : 100;
  const paused = status.queue_state === 'paused';
  return (
    <div className="flex flex-col gap-5">
      <dl className="grid grid-cols-2 gap-3">
        <div className="col-span-2 rounded-lg bg-muted p-4 sm:col-span-1">
          <dt className="text-xs font-medium text-muted-foreground">Your place</dt>
          <dd className="tabular text-4xl font-extrabold" data-testid="queue-place">
            {status.place !== null ? status.place.toLocaleString('en-US') : '…'}
          </dd>
        </div>
        <div className="rounded-lg bg-muted p-4">
          <dt className="text-xs font-medium text-muted-foreground">People ahead</dt>
          <dd className="tabular text-2xl font-bold" data-testid="queue-ahead">
            {ahead !== null ? ahead.toLocaleString('en-US') : '…'}
          </dd>
        </div>
        <div className="rounded-lg bg-muted p-4">
          <dt className="text-xs font-medium text-muted-foreground">Estimated wait</dt>
          <dd className="text-base font-bold" data-testid="queue-wait">
            {status.estimated_wait_seconds !== null
              ? formatWait(status.estimated_wait_seconds)
              : paused
                ? 'Paused'
                : 'Estimating…'}
          </dd>
        </div>
      </dl>
      <div className="flex flex-col gap-1.5">
        <div
          role="progressbar"
          aria-label="Your way through the line"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          aria-valuetext={
            ahead !== null ? `${ahead.toLocaleString('en-US')} people ahead` : 'Unknown'
          }
          className="h-2.5 w-full overflow-hidden rounded-full bg-muted"
        >
          <div
            className={cn(
              'h-full rounded-full transition-[width] duration-700 ease-out',
              paused ? 'bg-muted-foreground/50' : 'bg-primary',
            )}
            style={{ width: `${Math.max(2, percent)}%` }}
          />
        </div>
      </div>
      <p className="text-sm text-foreground/80">
        {paused
          ? 'The shop has paused admission for a moment. Nobody is let in meanwhile and your place is kept.'
          : 'Buyers are let in at a steady pace, never more than the units left can serve. Keep this page open: it turns when it is your turn.'}
      </p>
    </div>
  );
}

function Admitted({
  productId,
  status,
  renderBuy,
}: {
  productId: number;
  status: QueueStatus;
  renderBuy?: () => ReactNode;
}) {
  const expiresAt = status.pass_expires_at ? Date.parse(status.pass_expires_at) : null;
  const minutesLeft = useServerTime((now) =>
    expiresAt === null ? null : Math.max(0, Math.ceil((expiresAt - now) / 60_000)),
  );
  const ranOut = useServerTime((now) => expiresAt !== null && now >= expiresAt);
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-col gap-2 rounded-lg border border-success/30 bg-success-soft p-4">
        <p className="text-xl font-bold text-success">
          Your turn
          {minutesLeft !== null &&
            `: ${minutesLeft} minute${minutesLeft === 1 ? '' : 's'} to check out`}
        </p>
        {expiresAt !== null && (
          <p className="flex flex-wrap items-center gap-2 text-sm">
            <span className="text-foreground/80">Your pass expires in</span>
            <Countdown target={expiresAt} label="Your pass expires in" size="md" />
          </p>
        )}
        <p className="text-xs text-foreground/70">
          The pass is yours alone (your account, this sale). The per-customer limit still applies.
        </p>
      </div>
      {ranOut ? (
        <p className="text-sm text-muted-foreground" role="status">
          Your time is up; checking with the shop…
        </p>
      ) : (
        (renderBuy?.() ?? (
          <Link
            to={paths.product(productId)}
            className="text-sm font-semibold text-primary hover:underline"
          >
            Go to the product to buy
          </Link>
        ))
      )}
    </div>
  );
}
