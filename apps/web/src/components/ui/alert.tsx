import type { ReactNode } from 'react';
import { cn } from '@/utils/cn';

type Tone = 'info' | 'success' | 'warning' | 'destructive';

const tones: Record<Tone, string> = {
  info: 'border-info/30 bg-info-soft text-info',
  success: 'border-success/30 bg-success-soft text-success',
  warning: 'border-warning/30 bg-warning-soft text-warning',
  destructive: 'border-destructive/30 bg-destructive-soft text-destructive',
};

/** A message box. Errors are announced (role="alert"); the others politely (role="status"). */
export function Alert({
  tone = 'info',
  title,
  children,
  actions,
  className,
}: {
  tone?: Tone;
  title: ReactNode;
  children?: ReactNode;
  actions?: ReactNode;
  className?: string;
}) {
  return (
    <div
      role={tone === 'destructive' || tone === 'warning' ? 'alert' : 'status'}
      className={cn('rounded-lg border p-4 text-sm', tones[tone], className)}
    >
      <p className="font-semibold">{title}</p>
      {children && <div className="mt-1 text-foreground/80">{children}</div>}
      {actions && <div className="mt-3 flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}
