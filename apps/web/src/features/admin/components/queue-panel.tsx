import type { QueueSettingsInput, QueueView } from '@stampede/contract';
import { useState, type FormEvent } from 'react';
import { Alert } from '@/components/ui/alert';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/input';
import { Spinner } from '@/components/ui/spinner';
import { ErrorState } from '@/components/ui/states';
import { cn } from '@/utils/cn';
import { apiFieldErrors, type FieldErrors } from '@/utils/form-errors';
import { formatDateTime } from '@/utils/format';
import { useProductQueue } from '../api/get-product-queue';
import { useUpdateProductQueue } from '../api/update-product-queue';
import {
  DEFAULT_QUEUE_SETTINGS,
  formatSeconds,
  parseQueueForm,
  settingsOf,
  toQueueFormState,
  type QueueFormState,
} from '../utils/queue-settings-form';

const stateBadges: Record<
  QueueView['state'],
  { tone: 'primary' | 'info' | 'success' | 'warning' | 'dark' | 'neutral'; text: string }
> = {
  off: { tone: 'neutral', text: 'Off' },
  not_open: { tone: 'neutral', text: 'Not open yet' },
  pre_queue: { tone: 'info', text: 'Pre-queue open' },
  admitting: { tone: 'success', text: 'Admitting' },
  paused: { tone: 'warning', text: 'Paused' },
  sold_out: { tone: 'dark', text: 'Sold out' },
  closed: { tone: 'neutral', text: 'Closed' },
};

/**
 * A product's waiting room in the console: its live figures (every two seconds), pause and
 * resume, and its settings. A product that never had a queue answers 404 and starts from the
 * defaults, switched off.
 */
export function QueuePanel({ productId }: { productId: number }) {
  const queue = useProductQueue({ productId });
  const missing = queue.isError && queue.error.status === 404;
  const view = queue.data ?? null;

  if (queue.isPending) {
    return (
      <p className="flex items-center gap-2 text-sm text-muted-foreground">
        <Spinner className="size-4" label={null} /> Loading the waiting room…
      </p>
    );
  }
  if (queue.isError && !missing && !view) {
    return <ErrorState error={queue.error} onRetry={() => void queue.refetch()} />;
  }
  return (
    <div className="flex flex-col gap-6">
      {view && <QueueFigures view={view} stale={queue.isError} />}
      {view?.enabled && <PauseButton productId={productId} view={view} />}
      {/* Starts from the first answer and is never reset by a refresh: an operator's
          half-typed change must not be overwritten every two seconds. */}
      <QueueSettingsForm
        productId={productId}
        initial={view ? settingsOf(view) : DEFAULT_QUEUE_SETTINGS}
        paused={view?.paused ?? false}
      />
    </div>
  );
}

function Figure({
  label,
  value,
  testId,
  urgent = false,
}: {
  label: string;
  value: string;
  testId: string;
  urgent?: boolean;
}) {
  return (
    <div className="rounded-lg bg-muted p-3">
      <dt className="text-xs font-medium text-muted-foreground">{label}</dt>
      <dd
        className={cn('tabular text-xl font-bold', urgent && 'text-destructive')}
        data-testid={testId}
      >
        {value}
      </dd>
    </div>
  );
}

const count = (value: number) => value.toLocaleString('en-US');

export function QueueFigures({ view, stale = false }: { view: QueueView; stale?: boolean }) {
  const badge = stateBadges[view.state];
  return (
    <section aria-label="Waiting room now" className="flex flex-col gap-3">
      <div className="flex flex-wrap items-center gap-2">
        <Badge tone={badge.tone}>
          <span data-testid="queue-admin-state">{badge.text}</span>
        </Badge>
        <span className="text-xs text-muted-foreground">
          {stale ? 'Reconnecting… figures may be old' : 'live, refreshed every 2 s'}
        </span>
      </div>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3">
        <Figure label="Waiting" value={count(view.waiting)} testId="queue-admin-waiting" />
        <Figure label="Holding a pass" value={count(view.active)} testId="queue-admin-active" />
        <Figure
          label="Admitted in all"
          value={count(view.admitted_total)}
          testId="queue-admin-admitted"
        />
        <Figure
          label="Units left"
          value={count(view.units_left)}
          testId="queue-admin-units"
          urgent={view.units_left === 0}
        />
        <Figure
          label="Admitted per minute"
          value={`${view.measured_admit_per_minute.toLocaleString('en-US', { maximumFractionDigits: 1 })} / ${count(view.admit_per_minute)}`}
          testId="queue-admin-rate"
        />
        <Figure
          label="Pass lifetime"
          value={formatSeconds(view.pass_ttl_seconds)}
          testId="queue-admin-ttl"
        />
      </dl>
      {(view.opens_at || view.starts_at) && (
        <p className="text-xs text-muted-foreground">
          {view.opens_at && <>Pre-queue opens {formatDateTime(view.opens_at)}. </>}
          {view.starts_at && (
            <>Draw and first admissions at the start, {formatDateTime(view.starts_at)}.</>
          )}
        </p>
      )}
      {view.enabled && !view.starts_at && (
        <p className="text-xs text-warning">
          This product has no sale window: set one for the pre-queue and the draw to happen.
        </p>
      )}
    </section>
  );
}

function PauseButton({ productId, view }: { productId: number; view: QueueView }) {
  const update = useUpdateProductQueue();
  return (
    <div className="flex flex-col gap-2">
      <Button
        variant={view.paused ? 'success' : 'outline'}
        loading={update.isPending}
        onClick={() =>
          update.mutate({ productId, input: { ...settingsOf(view), paused: !view.paused } })
        }
      >
        {view.paused ? 'Resume admission' : 'Pause admission'}
      </Button>
      <p className="text-xs text-muted-foreground">
        {view.paused
          ? 'Paused: no passes are handed out; waiting buyers keep their places.'
          : 'Pausing stops handing out passes at once; passes already out keep running.'}
      </p>
      {update.isError && <Alert tone="destructive" title={update.error.message} />}
    </div>
  );
}

export function QueueSettingsForm({
  productId,
  initial,
  paused,
  onSaved,
}: {
  productId: number;
  initial: QueueSettingsInput;
  /** The live pause, sent back as it is: the form never pauses or resumes. */
  paused: boolean;
  onSaved?: (view: QueueView) => void;
}) {
  const [state, setState] = useState<QueueFormState>(() => toQueueFormState(initial));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState(false);
  const update = useUpdateProductQueue({
    mutationConfig: {
      onSuccess: (view) => {
        setSaved(true);
        onSaved?.(view);
      },
      onError: (error) => setErrors(apiFieldErrors(error)),
    },
  });
  const set = <K extends keyof QueueFormState>(key: K, value: QueueFormState[K]) => {
    setSaved(false);
    setState((current) => ({ ...current, [key]: value }));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = parseQueueForm(state, paused);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    update.mutate({ productId, input: result.input });
  };

  const secondsHint = (text: string, what: string) => {
    const value = Number(text);
    return /^\d+$/.test(text.trim()) ? `${what} (${formatSeconds(value) || '0 s'}).` : `${what}.`;
  };

  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label="Waiting room settings"
      className="flex flex-col gap-4"
    >
      {saved && <Alert tone="success" title="Waiting room saved." />}
      {update.isError && update.error.code !== 'validation_failed' && (
        <Alert tone="destructive" title={update.error.message} />
      )}
      <label className="flex items-center gap-2 text-sm font-medium">
        <input
          type="checkbox"
          className="size-4 accent-primary"
          checked={state.enabled}
          onChange={(e) => set('enabled', e.target.checked)}
        />
        Run a waiting room for this sale
      </label>
      <p className="-mt-2 text-xs text-muted-foreground">
        On: an order needs a pass, handed out in the queue&apos;s order. Off: anyone may order.
      </p>
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Pre-queue opens (seconds before the start)"
          inputMode="numeric"
          value={state.opensBeforeSeconds}
          onChange={(e) => set('opensBeforeSeconds', e.target.value)}
          error={errors.opens_before_seconds}
          hint={secondsHint(
            state.opensBeforeSeconds,
            'Everyone in it is drawn at random at the start',
          )}
        />
        <TextField
          label="Admit per minute"
          inputMode="numeric"
          value={state.admitPerMinute}
          onChange={(e) => set('admitPerMinute', e.target.value)}
          error={errors.admit_per_minute}
          hint="Buyers handed a pass each minute. Changes apply at once."
        />
        <TextField
          label="Most buyers holding a pass at once"
          inputMode="numeric"
          value={state.maxActive}
          onChange={(e) => set('maxActive', e.target.value)}
          error={errors.max_active}
          hint="Optional: leave empty for no cap but the stock's."
        />
        <TextField
          label="Inventory factor"
          inputMode="decimal"
          value={state.inventoryFactor}
          onChange={(e) => set('inventoryFactor', e.target.value)}
          error={errors.inventory_factor}
          hint="Live passes at most units left × this. 1 = one buyer per unit left."
        />
        <TextField
          label="Pass lifetime (seconds)"
          inputMode="numeric"
          value={state.passTtlSeconds}
          onChange={(e) => set('passTtlSeconds', e.target.value)}
          error={errors.pass_ttl_seconds}
          hint={secondsHint(state.passTtlSeconds, 'How long an admitted buyer has to check out')}
        />
      </div>
      {errors.form && <Alert tone="destructive" title={errors.form} />}
      <div className="flex justify-end">
        <Button type="submit" variant="secondary" loading={update.isPending}>
          Save waiting room
        </Button>
      </div>
    </form>
  );
}
