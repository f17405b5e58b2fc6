import { useServerNow } from '@/hooks/use-server-now';
import { cn } from '@/utils/cn';
import { formatClock, formatDurationForSpeech } from '@/utils/format';

/**
 * Time left until `target` on the server's clock.
 *
 * The digits change every second but are hidden from assistive technology; the timer's accessible
 * name is a coarse phrase ("Sale starts in 5 minutes") that changes at most once a minute, and
 * aria-live is off, so a screen reader hears it when it reaches it, not on every tick.
 */
export function Countdown({
  target,
  label,
  now,
  className,
  size = 'md',
}: {
  /** Epoch milliseconds on the server's clock. */
  target: number;
  /** What is counted down to, as a phrase: "Sale starts in". */
  label: string;
  /** The current server time, when the caller already ticks; otherwise the shared ticker. */
  now?: number;
  className?: string;
  size?: 'sm' | 'md' | 'lg';
}) {
  const ticked = useServerNow();
  const current = now ?? ticked;
  const remaining = Math.max(0, target - current);
  return (
    <span
      role="timer"
      aria-live="off"
      aria-atomic="true"
      aria-label={`${label} ${formatDurationForSpeech(remaining)}`}
      className={cn(
        'tabular inline-flex items-center font-mono font-bold tracking-tight',
        size === 'sm' && 'text-sm',
        size === 'md' && 'text-base',
        size === 'lg' && 'text-3xl',
        className,
      )}
    >
      <span aria-hidden="true">{formatClock(remaining)}</span>
    </span>
  );
}
