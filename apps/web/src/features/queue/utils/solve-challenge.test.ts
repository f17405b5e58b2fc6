import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { QueueChallenge } from '@stampede/contract';
import { describe, expect, it, vi } from 'vitest';
import { ChallengeUnsolvedError, encodeSolution, findSolution } from './solve-challenge';
import { solveQueueChallenge } from './solve-in-background';

/** A challenge made the way the server makes one: the hash of salt + a secret number. */
function makeChallenge(number: number, maxnumber: number): QueueChallenge {
  const salt = `${randomBytes(12).toString('hex')}?expires=1893456000`;
  const challenge = createHash('sha256').update(`${salt}${number}`).digest('hex');
  const signature = createHmac('sha256', 'test-key').update(challenge).digest('hex');
  return { algorithm: 'SHA-256', challenge, maxnumber, salt, signature };
}

const decode = (payload: string) => JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));

describe('the queue challenge', () => {
  it('finds the number whose SHA-256 with the salt is the challenge', async () => {
    const challenge = makeChallenge(1_234, 5_000);
    const seen: number[] = [];
    const number = await findSolution({
      challenge,
      onProgress: ({ tried, total }) => {
        expect(total).toBe(5_001);
        seen.push(tried);
      },
    });
    expect(number).toBe(1_234);
    // Progress only grows, and ends full.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(5_001);
  });

  it('finds the ends of the range too: 0 and maxnumber', async () => {
    expect(await findSolution({ challenge: makeChallenge(0, 700) })).toBe(0);
    expect(await findSolution({ challenge: makeChallenge(700, 700) })).toBe(700);
  });

  it('encodes the ALTCHA payload: base64 of the JSON with the number', async () => {
    const challenge = makeChallenge(42, 1_000);
    const payload = await solveQueueChallenge({ challenge });
    expect(decode(payload)).toEqual({
      algorithm: 'SHA-256',
      challenge: challenge.challenge,
      number: 42,
      salt: challenge.salt,
      signature: challenge.signature,
    });
    expect(payload).toBe(encodeSolution(challenge, 42));
  });

  it('without a worker (here, jsdom) it solves on the page, yielding between batches', async () => {
    expect(typeof Worker).toBe('undefined');
    const challenge = makeChallenge(2_600, 3_000);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 0);
    const payload = await solveQueueChallenge({ challenge });
    clearInterval(timer);
    expect(decode(payload).number).toBe(2_600);
    // Other work ran meanwhile: the page was not frozen for the whole search.
    expect(ticks).toBeGreaterThan(0);
  });

  it('without WebCrypto (plain http, not localhost) it still solves a SHA-256 challenge', async () => {
    vi.stubGlobal('crypto', { getRandomValues: crypto.getRandomValues.bind(crypto) });
    try {
      expect(globalThis.crypto.subtle).toBeUndefined();
      expect(await findSolution({ challenge: makeChallenge(777, 1_000) })).toBe(777);
      await expect(
        findSolution({ challenge: { ...makeChallenge(1, 10), algorithm: 'SHA-512' } }),
      ).rejects.toThrow(/needs WebCrypto/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('uses a worker where there is one, and relays its progress', async () => {
    const challenge = makeChallenge(321, 1_000);
    const posted: unknown[] = [];
    class FakeWorker {
      onmessage: ((event: { data: unknown }) => void) | null = null;
      onerror: ((event: { preventDefault: () => void }) => void) | null = null;
      terminated = false;
      postMessage(message: unknown) {
        posted.push(message);
        queueMicrotask(() => {
          this.onmessage?.({ data: { type: 'progress', tried: 500, total: 1_001 } });
          this.onmessage?.({ data: { type: 'solved', number: 321 } });
        });
      }
      terminate() {
        this.terminated = true;
      }
    }
    vi.stubGlobal('Worker', FakeWorker);
    try {
      const progress: number[] = [];
      const payload = await solveQueueChallenge({
        challenge,
        onProgress: ({ tried }) => progress.push(tried),
      });
      expect(decode(payload).number).toBe(321);
      expect(posted).toEqual([{ challenge }]);
      expect(progress).toEqual([500]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('falls back to the page when the worker cannot start or fails to load', async () => {
    const challenge = makeChallenge(55, 500);
    vi.stubGlobal(
      'Worker',
      class {
        constructor() {
          throw new DOMException('refused', 'SecurityError');
        }
      },
    );
    try {
      expect(decode(await solveQueueChallenge({ challenge })).number).toBe(55);
    } finally {
      vi.unstubAllGlobals();
    }
    vi.stubGlobal(
      'Worker',
      class {
        onerror: ((event: { preventDefault: () => void }) => void) | null = null;
        postMessage() {
          queueMicrotask(() => this.onerror?.({ preventDefault: () => {} }));
        }
        terminate() {}
      },
    );
    try {
      expect(decode(await solveQueueChallenge({ challenge })).number).toBe(55);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('says so when no number in the range fits, and stops when abandoned', async () => {
    const outOfRange = makeChallenge(900, 300);
    await expect(findSolution({ challenge: { ...outOfRange } })).rejects.toBeInstanceOf(
      ChallengeUnsolvedError,
    );
    const controller = new AbortController();
    controller.abort();
    await expect(
      solveQueueChallenge({ challenge: makeChallenge(10, 100), signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
