import type { QueueChallenge } from '@stampede/contract';

/** ALTCHA's default search space when a challenge does not say how far to look. */
export const DEFAULT_MAX_NUMBER = 1_000_000;

/** Digests started together: one await per hash would spend most of the time waking up. */
const BATCH = 500;

export type SolveProgress = { tried: number; total: number };

export class ChallengeUnsolvedError extends Error {
  constructor() {
    super('No number in the challenge range gives its hash.');
    this.name = 'ChallengeUnsolvedError';
  }
}

const toHex = (buffer: ArrayBuffer) =>
  Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');

const abortError = () => new DOMException('The challenge was abandoned.', 'AbortError');

/**
 * Finds the number n in 0..maxnumber whose `algorithm(salt + n)`, in hex, is the challenge: the
 * proof of work the queue asks for before a join. Runs in batches of parallel WebCrypto digests
 * and calls `onProgress` after each; `yieldToEventLoop` hands the thread back between batches (on the
 * main thread, so that the page keeps painting and answering input).
 */
export async function findSolution({
  challenge,
  onProgress,
  signal,
  yieldToEventLoop = false,
}: {
  challenge: QueueChallenge;
  onProgress?: (progress: SolveProgress) => void;
  signal?: AbortSignal;
  yieldToEventLoop?: boolean;
}): Promise<number> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('This browser cannot compute the check (no WebCrypto).');
  const max = challenge.maxnumber ?? DEFAULT_MAX_NUMBER;
  const target = challenge.challenge.toLowerCase();
  const encoder = new TextEncoder();
  const total = max + 1;
  for (let start = 0; start <= max; start += BATCH) {
    if (signal?.aborted) throw abortError();
    const end = Math.min(max, start + BATCH - 1);
    const digests: Array<Promise<ArrayBuffer>> = [];
    for (let n = start; n <= end; n += 1) {
      digests.push(subtle.digest(challenge.algorithm, encoder.encode(challenge.salt + n)));
    }
    const hashes = await Promise.all(digests);
    const found = hashes.findIndex((hash) => toHex(hash) === target);
    if (found >= 0) {
      onProgress?.({ tried: total, total });
      return start + found;
    }
    onProgress?.({ tried: end + 1, total });
    if (yieldToEventLoop) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new ChallengeUnsolvedError();
}

/** What `POST /queues/:id/join` takes as `altcha`: base64 of the ALTCHA payload JSON. */
export function encodeSolution(challenge: QueueChallenge, number: number): string {
  const json = JSON.stringify({
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    number,
    salt: challenge.salt,
    signature: challenge.signature,
  });
  const bytes = new TextEncoder().encode(json);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Messages between the page and the solving worker. */
export type SolverRequest = { challenge: QueueChallenge };
export type SolverMessage =
  | { type: 'progress'; tried: number; total: number }
  | { type: 'solved'; number: number }
  | { type: 'failed'; message: string };
