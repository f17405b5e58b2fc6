/// <reference lib="webworker" />
import { findSolution, type SolverMessage, type SolverRequest } from './solve-challenge';

/*
 * Solves a queue challenge off the main thread, so the waiting room keeps its countdowns and
 * progress moving while the hashes run. Loaded from the app's own origin, which the shop's
 * Content-Security-Policy allows (a blob: worker would be refused).
 */
const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: SolverMessage) => scope.postMessage(message);

scope.onmessage = (event: MessageEvent<SolverRequest>) => {
  let last = 0;
  findSolution({
    challenge: event.data.challenge,
    onProgress: ({ tried, total }) => {
      // A message per batch is plenty; every 2% is enough for a progress bar.
      if (tried - last >= total / 50 || tried === total) {
        last = tried;
        post({ type: 'progress', tried, total });
      }
    },
  }).then(
    (number) => post({ type: 'solved', number }),
    (error: unknown) =>
      post({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
  );
};
