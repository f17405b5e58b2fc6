import { useId, type ButtonHTMLAttributes, type ReactNode } from 'react';
import { cn } from '@/utils/cn';
import { Spinner } from './spinner';

type Variant = 'primary' | 'secondary' | 'outline' | 'ghost' | 'destructive' | 'success';
type Size = 'sm' | 'md' | 'lg';

const variants: Record<Variant, string> = {
  primary: 'bg-primary text-primary-foreground hover:bg-primary-hover shadow-sm',
  secondary: 'bg-secondary text-secondary-foreground hover:bg-secondary-hover shadow-sm',
  outline: 'border border-input bg-card text-foreground hover:bg-muted',
  ghost: 'text-foreground hover:bg-muted',
  destructive: 'bg-destructive text-destructive-foreground hover:opacity-90 shadow-sm',
  success: 'bg-success text-success-foreground hover:opacity-90 shadow-sm',
};

const sizes: Record<Size, string> = {
  sm: 'h-8 px-3 text-sm gap-1.5',
  md: 'h-10 px-4 text-sm gap-2',
  lg: 'h-12 px-6 text-base gap-2',
};

export type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: Variant;
  size?: Size;
  loading?: boolean;
  block?: boolean;
};

export function buttonClasses({
  variant = 'primary',
  size = 'md',
  block = false,
  className,
}: {
  variant?: Variant;
  size?: Size;
  block?: boolean;
  className?: string;
}) {
  return cn(
    'inline-flex items-center justify-center rounded-lg font-semibold transition-colors',
    'disabled:cursor-not-allowed disabled:opacity-50 select-none whitespace-nowrap',
    variants[variant],
    sizes[size],
    block && 'w-full',
    className,
  );
}

export function Button({
  variant,
  size,
  loading = false,
  block,
  className,
  disabled,
  children,
  type = 'button',
  ...props
}: ButtonProps) {
  return (
    <button
      type={type}
      className={buttonClasses({ variant, size, block, className })}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
      {...props}
    >
      {loading && <Spinner className="size-4" label={null} />}
      {children}
    </button>
  );
}

/**
 * A button that may be unavailable, and says why in visible text linked by aria-describedby, so
 * that nobody has to guess (or hover) to learn why "Buy" does nothing.
 */
export function ReasonButton({
  disabledReason,
  reasonClassName,
  ...props
}: ButtonProps & { disabledReason?: ReactNode; reasonClassName?: string }) {
  const reasonId = useId();
  const blocked = Boolean(disabledReason);
  return (
    <div className={cn('flex flex-col gap-1.5', props.block && 'w-full')}>
      <Button
        {...props}
        disabled={blocked || props.disabled}
        aria-describedby={blocked ? reasonId : props['aria-describedby']}
      />
      {blocked && (
        <p id={reasonId} className={cn('text-xs text-muted-foreground', reasonClassName)}>
          {disabledReason}
        </p>
      )}
    </div>
  );
}
