import type { ReactNode } from 'react';
import type { ApiError } from '@/api/api-error';
import { cn } from '@/utils/cn';
import { Button } from './button';

export function EmptyState({
  title,
  children,
  action,
  icon,
  className,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  icon?: ReactNode;
  className?: string;
}) {
  return (
    <div
      className={cn(
        'flex flex-col items-center justify-center gap-3 rounded-[var(--radius-card)] border border-dashed border-border bg-card px-6 py-14 text-center',
        className,
      )}
    >
      {icon ?? (
        <svg
          viewBox="0 0 24 24"
          className="size-10 text-muted-foreground/60"
          fill="none"
          aria-hidden
        >
          <path
            d="M3 7h18l-2 13H5L3 7Zm5 0V5a4 4 0 0 1 8 0v2"
            stroke="currentColor"
            strokeWidth="1.5"
            strokeLinejoin="round"
          />
        </svg>
      )}
      <h2 className="text-base font-semibold">{title}</h2>
      {children && <div className="max-w-md text-sm text-muted-foreground">{children}</div>}
      {action}
    </div>
  );
}

export function ErrorState({
  title = 'Something went wrong',
  error,
  onRetry,
  className,
}: {
  title?: string;
  error?: ApiError | Error | null;
  onRetry?: () => void;
  className?: string;
}) {
  const requestId = error && 'requestId' in error ? error.requestId : null;
  return (
    <div
      role="alert"
      className={cn(
        'flex flex-col items-center gap-3 rounded-[var(--radius-card)] border border-destructive/30 bg-destructive-soft px-6 py-10 text-center',
        className,
      )}
    >
      <h2 className="text-base font-semibold text-destructive">{title}</h2>
      {error?.message && <p className="max-w-md text-sm text-foreground/80">{error.message}</p>}
      {requestId && (
        <p className="font-mono text-xs text-muted-foreground">Reference: {requestId}</p>
      )}
      {onRetry && (
        <Button variant="outline" size="sm" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function Skeleton({ className }: { className?: string }) {
  return <div className={cn('animate-pulse rounded-md bg-muted', className)} aria-hidden />;
}
