import { secondsUntil, useServerTime } from '@/hooks/use-server-time';
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
  className,
  size = 'md',
}: {
  /** Epoch milliseconds on the server's clock. */
  target: number;
  /** What is counted down to, as a phrase: "Sale starts in". */
  label: string;
  className?: string;
  size?: 'sm' | 'md' | 'lg';
}) {
  const seconds = useServerTime((now) => secondsUntil(target, now));
  const remaining = seconds * 1000;
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
