import { Badge } from '@/components/ui/badge';
import { Countdown } from '@/components/ui/countdown';
import { cn } from '@/utils/cn';
import { formatDateTime } from '@/utils/format';
import type { SalePhase } from '@/utils/sale-phase';

const phaseBadges: Record<
  SalePhase,
  { tone: 'primary' | 'info' | 'dark' | 'neutral'; text: string }
> = {
  live: { tone: 'primary', text: 'Live now' },
  upcoming: { tone: 'info', text: 'Coming soon' },
  sold_out: { tone: 'dark', text: 'Sold out' },
  ended: { tone: 'neutral', text: 'Ended' },
};

export function SalePhaseBadge({ phase, className }: { phase: SalePhase; className?: string }) {
  const badge = phaseBadges[phase];
  return (
    <Badge tone={badge.tone} className={className}>
      {phase === 'live' && (
        <span className="relative flex size-2" aria-hidden>
          <span className="absolute inline-flex size-full animate-ping rounded-full bg-white/80" />
          <span className="relative inline-flex size-2 rounded-full bg-white" />
        </span>
      )}
      {badge.text}
    </Badge>
  );
}

/** "Starts in 04:59" / "Ends in 12:00" / "Ended Nov 3, 5:00 PM", on the server's clock. */
export function SaleTimer({
  phase,
  deadline,
  endsAt,
  size = 'md',
  className,
}: {
  phase: SalePhase;
  deadline: number | null;
  endsAt: string | null | undefined;
  size?: 'sm' | 'md' | 'lg';
  className?: string;
}) {
  const text = size === 'lg' ? 'text-sm' : 'text-xs';
  if (phase === 'ended') {
    return (
      <p className={cn(text, 'text-muted-foreground', className)}>
        {endsAt ? `Ended ${formatDateTime(endsAt)}` : 'Sale ended'}
      </p>
    );
  }
  if (deadline === null) {
    return (
      <p className={cn(text, 'text-muted-foreground', className)}>
        {phase === 'sold_out' ? 'Restocks are announced here' : 'On sale while stock lasts'}
      </p>
    );
  }
  const upcoming = phase === 'upcoming';
  const label = upcoming ? 'Starts in' : 'Ends in';
  return (
    <div className={cn('flex items-center gap-2', className)}>
      <span className={cn(text, 'font-medium uppercase tracking-wide text-muted-foreground')}>
        {label}
      </span>
      <Countdown
        target={deadline}
        label={upcoming ? 'Sale starts in' : 'Sale ends in'}
        size={size}
        className={upcoming ? 'text-info' : 'text-foreground'}
      />
    </div>
  );
}
