import { Alert } from '@/components/ui/alert';
import { ReasonButton } from '@/components/ui/button';
import { useJoinQueue, type JoinStep } from '../hooks/use-join-queue';
import { describeQueueError } from '../utils/describe-queue-error';

const stepText: Record<Exclude<JoinStep, 'idle'>, string> = {
  fetching: 'Getting your check…',
  solving: 'Checking your browser…',
  joining: 'Taking your place…',
};

/**
 * "Join the queue": the browser solves a proof-of-work puzzle first (a few seconds on a phone),
 * with its progress shown, then joins.
 */
export function JoinQueueButton({
  productId,
  label = 'Join the queue',
  disabledReason = null,
}: {
  productId: number;
  label?: string;
  disabledReason?: string | null;
}) {
  const join = useJoinQueue({ productId });
  const failure = join.error && !join.isPending ? describeQueueError(join.error) : null;
  return (
    <div className="flex flex-col gap-3">
      <ReasonButton
        size="lg"
        block
        loading={join.isPending}
        disabledReason={join.isPending ? null : disabledReason}
        onClick={join.join}
      >
        {join.step === 'idle' ? (failure?.canRetry ? 'Try again' : label) : stepText[join.step]}
      </ReasonButton>
      {join.step === 'solving' && (
        <div className="flex flex-col gap-1.5">
          <div
            role="progressbar"
            aria-label="Checking your browser"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={join.percent}
            className="h-1.5 w-full overflow-hidden rounded-full bg-muted"
          >
            <div
              className="h-full rounded-full bg-info transition-[width] duration-200"
              style={{ width: `${join.percent}%` }}
            />
          </div>
          <p className="text-xs text-muted-foreground">
            A small puzzle your browser solves to keep bots out. Usually a few seconds; keep this
            page open.
          </p>
        </div>
      )}
      {failure && (
        <Alert tone={failure.canRetry ? 'warning' : 'destructive'} title={failure.title}>
          <p data-testid="queue-join-error">{failure.message}</p>
        </Alert>
      )}
    </div>
  );
}
