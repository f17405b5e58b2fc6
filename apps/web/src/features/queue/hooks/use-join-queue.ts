import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { toApiError } from '@/api/api-error';
import { queryKeys } from '@/api/query-keys';
import { getQueueChallenge } from '../api/get-queue-challenge';
import { joinQueue } from '../api/join-queue';
import { solveQueueChallenge } from '../utils/solve-in-background';

export type JoinStep = 'idle' | 'fetching' | 'solving' | 'joining';

/**
 * "Join the queue": fetch a challenge, solve it (off the main thread), join with the solution.
 * The answer becomes the status query's data at once, so the page turns without a poll.
 */
export function useJoinQueue({ productId }: { productId: number }) {
  const queryClient = useQueryClient();
  const [step, setStep] = useState<JoinStep>('idle');
  // Whole percents: the page re-renders a hundred times at most, however many batches run.
  const [percent, setPercent] = useState(0);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const mutation = useMutation({
    mutationFn: async () => {
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      setPercent(0);
      setStep('fetching');
      const challenge = await getQueueChallenge({ productId });
      setStep('solving');
      let altcha: string;
      try {
        altcha = await solveQueueChallenge({
          challenge,
          signal: controller.signal,
          onProgress: ({ tried, total }) => setPercent(Math.floor((tried / total) * 100)),
        });
      } catch (error) {
        throw toApiError(error);
      }
      setStep('joining');
      return joinQueue({ productId, altcha });
    },
    onSuccess: (status) => queryClient.setQueryData(queryKeys.queue.status(productId), status),
    onSettled: () => setStep('idle'),
  });

  return {
    join: () => mutation.mutate(),
    step: mutation.isPending ? step : 'idle',
    percent,
    isPending: mutation.isPending,
    error: mutation.error,
    reset: mutation.reset,
  };
}
