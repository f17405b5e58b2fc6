import type { QueueChallenge } from '@stampede/contract';
import {
  encodeSolution,
  findSolution,
  type SolveProgress,
  type SolverMessage,
} from './solve-challenge';

const WORKER_UNAVAILABLE = 'worker_unavailable';

function solveInWorker(
  challenge: QueueChallenge,
  onProgress: (progress: SolveProgress) => void,
  signal: AbortSignal | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL('./challenge.worker.ts', import.meta.url), { type: 'module' });
    } catch {
      // Refused outright (a policy, an old browser): the page solves it itself.
      reject(new Error(WORKER_UNAVAILABLE));
      return;
    }
    const stop = () => {
      worker.terminate();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      stop();
      reject(new DOMException('The challenge was abandoned.', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.onmessage = (event: MessageEvent<SolverMessage>) => {
      const message = event.data;
      if (message.type === 'progress') onProgress(message);
      else if (message.type === 'solved') {
        stop();
        resolve(message.number);
      } else {
        stop();
        reject(new Error(message.message));
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      stop();
      reject(new Error(WORKER_UNAVAILABLE));
    };
    worker.postMessage({ challenge });
  });
}

/**
 * Solves a queue challenge and returns the `altcha` value to join with. A worker does the work
 * where the browser has one; where it has none (or refuses to start it), the same search runs on
 * the page in batches that yield between them, so the page never freezes.
 */
export async function solveQueueChallenge({
  challenge,
  onProgress = () => {},
  signal,
}: {
  challenge: QueueChallenge;
  onProgress?: (progress: SolveProgress) => void;
  signal?: AbortSignal;
}): Promise<string> {
  let number: number | null = null;
  if (typeof Worker !== 'undefined') {
    try {
      number = await solveInWorker(challenge, onProgress, signal);
    } catch (error) {
      if (!(error instanceof Error) || error.message !== WORKER_UNAVAILABLE) throw error;
    }
  }
  number ??= await findSolution({ challenge, onProgress, signal, yieldToEventLoop: true });
  return encodeSolution(challenge, number);
}
