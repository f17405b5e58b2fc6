import { cn } from '@/utils/cn';

export function Spinner({
  className,
  label = 'Loading',
}: {
  className?: string;
  /** null when the spinner sits inside something that already says it is busy. */
  label?: string | null;
}) {
  return (
    <svg
      className={cn('animate-spin text-current', className ?? 'size-5')}
      viewBox="0 0 24 24"
      fill="none"
      role={label ? 'img' : undefined}
      aria-label={label ?? undefined}
      aria-hidden={label ? undefined : true}
    >
      <circle className="opacity-25" cx="12" cy="12" r="10" stroke="currentColor" strokeWidth="4" />
      <path className="opacity-90" fill="currentColor" d="M4 12a8 8 0 0 1 8-8v4a4 4 0 0 0-4 4H4z" />
    </svg>
  );
}

export function PageSpinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div
      className="flex min-h-[40vh] items-center justify-center text-muted-foreground"
      role="status"
    >
      <Spinner className="size-8" label={null} />
      <span className="sr-only">{label}</span>
    </div>
  );
}
