import { cn } from '@/utils/cn';

/** At or below this many units the bar turns urgent. */
const LOW_UNITS = 5;

/**
 * How much is left, as a bar and as words. `reference` is what the bar is measured against (the
 * most this page has seen on sale), since the API does not publish a product's starting stock.
 */
export function StockBar({
  available,
  reference,
  ended = false,
  upcoming = false,
  className,
}: {
  available: number;
  reference: number;
  ended?: boolean;
  /** Before the sale: the units that will go on sale, not a countdown of what is left. */
  upcoming?: boolean;
  className?: string;
}) {
  const max = Math.max(reference, available, 1);
  const left = Math.max(0, available);
  const ratio = left / max;
  const soldOut = left === 0;
  const low = !soldOut && (left <= LOW_UNITS || ratio <= 0.1);
  const text = ended
    ? 'Sale ended'
    : upcoming && !soldOut
      ? `${left.toLocaleString('en-US')} unit${left === 1 ? '' : 's'} at launch`
      : soldOut
        ? 'Sold out'
        : low
          ? `Only ${left} left`
          : `${left.toLocaleString('en-US')} left`;
  return (
    <div className={cn('flex flex-col gap-1.5', className)}>
      <div
        role="meter"
        aria-label="Stock left"
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={left}
        aria-valuetext={text}
        className="h-2 w-full overflow-hidden rounded-full bg-muted"
      >
        <div
          data-testid="stock-bar-fill"
          className={cn(
            'h-full rounded-full transition-[width] duration-500 ease-out',
            soldOut || ended
              ? 'bg-muted-foreground/40'
              : upcoming
                ? 'bg-info'
                : low
                  ? 'bg-destructive'
                  : 'bg-primary',
          )}
          style={{ width: `${Math.round(ratio * 100)}%` }}
        />
      </div>
      <p
        className={cn(
          'text-xs font-semibold',
          soldOut || ended
            ? 'text-muted-foreground'
            : low
              ? 'text-destructive'
              : 'text-foreground/80',
        )}
      >
        {text}
      </p>
    </div>
  );
}
