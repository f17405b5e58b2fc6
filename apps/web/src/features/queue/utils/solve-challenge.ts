import type { QueueChallenge } from '@stampede/contract';
import { sha256Hex } from './sha256';

/** ALTCHA's default search space when a challenge does not say how far to look. */
export const DEFAULT_MAX_NUMBER = 1_000_000;

/** Hashes per batch, between two progress reports (and, on the main thread, two yields). */
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

type BatchHasher = (salt: string, from: number, to: number) => Promise<string[]>;

/**
 * Hex digests of salt + n for n in from..to. WebCrypto where the page has it (a secure context:
 * https or localhost), started together, since one await per hash would spend most of the time
 * waking up; without it, SHA-256 in plain JavaScript.
 */
function batchHasher(algorithm: string): BatchHasher {
  const subtle = globalThis.crypto?.subtle;
  const encoder = new TextEncoder();
  if (subtle) {
    return async (salt, from, to) => {
      const digests: Array<Promise<ArrayBuffer>> = [];
      for (let n = from; n <= to; n += 1)
        digests.push(subtle.digest(algorithm, encoder.encode(salt + n)));
      return (await Promise.all(digests)).map(toHex);
    };
  }
  if (algorithm.toUpperCase() !== 'SHA-256') {
    throw new Error(`This browser cannot compute the check (${algorithm} needs WebCrypto).`);
  }
  return async (salt, from, to) => {
    const hashes: string[] = [];
    for (let n = from; n <= to; n += 1) hashes.push(sha256Hex(salt + n));
    return hashes;
  };
}

/**
 * Finds the number n in 0..maxnumber whose `algorithm(salt + n)`, in hex, is the challenge: the
 * proof of work the queue asks for before a join. Runs in batches and calls `onProgress` after
 * each; `yieldToEventLoop` hands the thread back between batches (on the
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
  const hashBatch = batchHasher(challenge.algorithm);
  const max = challenge.maxnumber ?? DEFAULT_MAX_NUMBER;
  const target = challenge.challenge.toLowerCase();
  const total = max + 1;
  for (let start = 0; start <= max; start += BATCH) {
    if (signal?.aborted) throw abortError();
    const end = Math.min(max, start + BATCH - 1);
    const hashes = await hashBatch(challenge.salt, start, end);
    const found = hashes.indexOf(target);
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
