import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * A buyer's ticket: who, which sale, when they joined, and their place score, signed with the
 * queue key. The client keeps it and sends it back on every poll; after Redis lost a queue, the
 * poll puts the buyer back at the same score, so the queue rebuilds itself from its buyers.
 */
export interface Ticket {
  readonly userId: number;
  readonly productId: number;
  readonly joinedAt: number;
  readonly score: number;
}

/** Draws lie below 2^40; every later arrival's score is above (its join time × 1024, and more). */
const DRAW_RANGE = 2 ** 40;

/**
 * The place score of a buyer joining at `joinedAt`: during the pre-queue a uniform random draw
 * (arriving early or late in it changes nothing); after the start, arrival order (milliseconds,
 * ties broken at random), always behind every pre-queue joiner.
 */
export function placeScore(joinedAt: number, startsAt: number | null): number {
  if (startsAt !== null && joinedAt < startsAt) return randomInt(0, DRAW_RANGE);
  return joinedAt * 1024 + randomInt(0, 1024);
}

/** Whether a score is a pre-queue draw. */
export const isDraw = (score: number) => score < DRAW_RANGE;

const mac = (secret: string, body: string) =>
  createHmac('sha256', secret).update(`ticket.${body}`).digest('base64url');

export function signTicket(secret: string, ticket: Ticket): string {
  const body = Buffer.from(
    JSON.stringify([1, ticket.userId, ticket.productId, ticket.joinedAt, ticket.score]),
  ).toString('base64url');
  return `${body}.${mac(secret, body)}`;
}

/** The ticket if it is well signed and names this user and sale; undefined otherwise. */
export function verifyTicket(
  secret: string,
  token: string,
  expected: { userId: number; productId: number },
): Ticket | undefined {
  if (token.length > 512) return undefined;
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return undefined;
  const want = Buffer.from(mac(secret, body));
  const got = Buffer.from(signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(fields) || fields.length !== 5 || fields[0] !== 1) return undefined;
  const [, userId, productId, joinedAt, score] = fields as number[];
  if (userId !== expected.userId || productId !== expected.productId) return undefined;
  if (![joinedAt, score].every((n) => Number.isSafeInteger(n) && n! >= 0)) return undefined;
  return { userId, productId, joinedAt: joinedAt!, score: score! };
}
