import type { ReactNode } from 'react';
import { cn } from '@/utils/cn';

type Tone = 'neutral' | 'primary' | 'success' | 'warning' | 'destructive' | 'info' | 'dark';

const tones: Record<Tone, string> = {
  neutral: 'bg-muted text-muted-foreground',
  primary: 'bg-primary text-primary-foreground',
  success: 'bg-success-soft text-success ring-1 ring-success/20',
  warning: 'bg-warning-soft text-warning ring-1 ring-warning/20',
  destructive: 'bg-destructive-soft text-destructive ring-1 ring-destructive/20',
  info: 'bg-info-soft text-info ring-1 ring-info/20',
  dark: 'bg-secondary text-secondary-foreground',
};

export function Badge({
  tone = 'neutral',
  className,
  children,
}: {
  tone?: Tone;
  className?: string;
  children: ReactNode;
}) {
  return (
    <span
      className={cn(
        'inline-flex items-center gap-1 rounded-full px-2.5 py-0.5 text-xs font-semibold',
        tones[tone],
        className,
      )}
    >
      {children}
    </span>
  );
}
