import { createChallenge, extractParams, verifySolution } from 'altcha-lib/v1';
import type { QueueChallenge } from '@stampede/contract';

/**
 * The proof of work a buyer solves before joining (ALTCHA, SHA-256): bound to the user and the
 * sale through the salt's parameters, signed, expiring, and usable once (the caller remembers
 * its signature until it expires).
 */
export async function issueChallenge(input: {
  secret: string;
  userId: number;
  productId: number;
  maxNumber: number;
  ttlSeconds: number;
  now: number;
}): Promise<QueueChallenge> {
  const challenge = await createChallenge({
    hmacKey: input.secret,
    maxnumber: input.maxNumber,
    expires: new Date(input.now + input.ttlSeconds * 1000),
    params: { u: String(input.userId), p: String(input.productId) },
  });
  return {
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    maxnumber: challenge.maxnumber ?? input.maxNumber,
    salt: challenge.salt,
    signature: challenge.signature,
  };
}

/**
 * The solution's signature when it is a valid, unexpired solution of a challenge this server
 * issued to this user for this sale; undefined otherwise. Whether it was used before is the
 * caller's to check.
 */
export async function checkSolution(input: {
  secret: string;
  payload: string;
  userId: number;
  productId: number;
}): Promise<{ signature: string; expiresAt: number } | undefined> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(input.payload, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null) return undefined;
  const payload = decoded as Record<string, unknown>;
  if (
    typeof payload.algorithm !== 'string' ||
    typeof payload.challenge !== 'string' ||
    typeof payload.salt !== 'string' ||
    typeof payload.signature !== 'string' ||
    typeof payload.number !== 'number'
  ) {
    return undefined;
  }
  const solution = {
    algorithm: payload.algorithm as 'SHA-256',
    challenge: payload.challenge,
    number: payload.number,
    salt: payload.salt,
    signature: payload.signature,
  };
  const valid = await verifySolution(solution, input.secret, true).catch(() => false);
  if (!valid) return undefined;
  const params = extractParams(solution);
  if (params.u !== String(input.userId) || params.p !== String(input.productId)) return undefined;
  const expires = Number(params.expires);
  if (!Number.isFinite(expires)) return undefined;
  return { signature: solution.signature, expiresAt: expires * 1000 };
}
