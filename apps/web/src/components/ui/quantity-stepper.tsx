import { useId } from 'react';
import { cn } from '@/utils/cn';

/** − [n] + with the bounds enforced; typing is allowed and clamped by the caller's onChange. */
export function QuantityStepper({
  value,
  max,
  onChange,
  label,
  disabled = false,
  className,
}: {
  value: number;
  max: number;
  onChange: (next: number) => void;
  label: string;
  disabled?: boolean;
  className?: string;
}) {
  const id = useId();
  const button =
    'flex size-9 items-center justify-center text-lg font-semibold text-foreground hover:bg-muted disabled:opacity-40 disabled:hover:bg-transparent';
  return (
    <div
      className={cn('inline-flex items-center rounded-lg border border-input bg-card', className)}
    >
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <button
        type="button"
        className={cn(button, 'rounded-l-lg')}
        onClick={() => onChange(value - 1)}
        disabled={disabled || value <= 1}
        aria-label={`Decrease ${label.toLowerCase()}`}
      >
        −
      </button>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={1}
        max={max}
        value={value}
        disabled={disabled}
        onChange={(event) => {
          const next = Number.parseInt(event.target.value, 10);
          if (!Number.isNaN(next)) onChange(next);
        }}
        className="tabular h-9 w-12 border-x border-input bg-transparent text-center text-sm font-semibold [appearance:textfield] focus:outline-none [&::-webkit-inner-spin-button]:appearance-none"
      />
      <button
        type="button"
        className={cn(button, 'rounded-r-lg')}
        onClick={() => onChange(value + 1)}
        disabled={disabled || value >= max}
        aria-label={`Increase ${label.toLowerCase()}`}
      >
        +
      </button>
    </div>
  );
}
