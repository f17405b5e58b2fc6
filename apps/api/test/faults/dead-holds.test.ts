import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  availableAt,
  codeOf,
  FaultShop,
  placeOrder,
  type Buyer,
  type Outcome,
} from './support/shop.ts';
import type { ApiProcess } from './support/api-process.ts';
import { sleep, waitFor } from './support/wait.ts';

const HOLD_MAX_AGE_MS = 5000;
const SWEEP_INTERVAL_MS = 1000;
/** README's bound: a dead hold is back on sale within the hold's lifetime plus one sweep. */
const BOUND_MS = HOLD_MAX_AGE_MS + SWEEP_INTERVAL_MS;
/** What a test allows beyond the bound: process and poll scheduling on a busy machine. */
const SLACK_MS = 2500;

/** Retry one key as a careful buyer does, until the shop gives an answer that is not "wait". */
async function retryUntilDecided(
  api: ApiProcess,
  buyer: Buyer,
  productId: number,
  key: string,
): Promise<{ answer: Outcome; afterMs: number }> {
  const started = Date.now();
  for (;;) {
    const answer = await placeOrder(api, buyer, [{ product_id: productId, quantity: 1 }], key);
    const code = codeOf(answer);
    const wait =
      answer.kind !== 'ok' ||
      code === 'idempotency_in_flight' ||
      code === 'stock_unavailable' ||
      code === 'service_unavailable';
    if (!wait) return { answer, afterMs: Date.now() - started };
    if (Date.now() - started > BOUND_MS + SLACK_MS)
      return { answer, afterMs: Date.now() - started };
    await sleep(100);
  }
}

/**
 * Holds whose request died half-way (its process killed after the gate admitted it, or Redis
 * answering after the API had given up) go back on sale without an operator, on a product the
 * surviving process never served, and the buyer's Idempotency-Key becomes answerable again.
 */
describe('requests that die half-way', () => {
  let shop: FaultShop;
  beforeAll(async () => {
    shop = await FaultShop.start({
      processes: 2,
      env: {
        STOCK_HOLD_MAX_AGE_MS: String(HOLD_MAX_AGE_MS),
        STOCK_SYNC_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      },
    });
  });
  afterAll(() => shop?.stop());

  const holdsOf = async (productId: number) => {
    const redis = shop.redis.client();
    try {
      return await redis.hlen(`stampede:{p:${productId}}:holds`);
    } finally {
      redis.disconnect();
    }
  };

  it('when a process is killed after the gate admitted its order, the unit is back on sale and the key answerable within the bound', async () => {
    const [a, b] = shop.apis as [ApiProcess, ApiProcess];
    const product = await shop.createProduct(3);
    const [buyer] = await shop.createBuyers(1);
    // The stock row is held, so A's order waits in its transaction, after the gate took a unit.
    const blocker = new pg.Client({
      connectionString: shop.postgres.url,
      application_name: 'fault-blocker',
    });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM stock WHERE product_id = $1 FOR UPDATE', [product]);
    const dying = placeOrder(a, buyer!, [{ product_id: product, quantity: 1 }], 'dies-with-a');
    await waitFor(async () => (await holdsOf(product)) === 1, {
      timeoutMs: 1500,
      what: "A's hold",
      everyMs: 10,
    });
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect((await dying).kind).toBe('unknown');
    expect(await availableAt(b, product)).toBe(2);

    // No operator: B, which never served this product, returns the unit by itself.
    const returned = await waitFor(async () => (await availableAt(b, product)) === 3, {
      timeoutMs: BOUND_MS + SLACK_MS,
      what: 'the dead hold to return to sale',
    });
    expect(Date.now() - killedAt).toBeLessThanOrEqual(BOUND_MS + SLACK_MS);
    expect(await holdsOf(product)).toBe(0);
    // The buyer retrying the same key on B gets a real answer within the same bound.
    const { answer } = await retryUntilDecided(b, buyer!, product, 'dies-with-a');
    expect(answer).toMatchObject({ kind: 'ok', status: 201 });
    expect(Date.now() - killedAt).toBeLessThanOrEqual(BOUND_MS + SLACK_MS + returned);
    const orders = await shop.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders WHERE user_id = $1 AND idempotency_key = 'dies-with-a'`,
      [buyer!.id],
    );
    expect(orders[0]!.n).toBe(1);
    expect(b.unexpectedExits).toEqual([]);
    await a.restart();
  });

  it('when Redis answers only after the API gave up (paused past its timeout), the hold it made is given back and the key is free at once', async () => {
    const [a, b] = shop.apis as [ApiProcess, ApiProcess];
    const product = await shop.createProduct(2);
    const [buyer] = await shop.createBuyers(1);
    // The gate's command timeout is 2 s: the pause outlasts it, and Redis runs the attempt late.
    const pauseMs = 3500;
    await shop.redis.pause(pauseMs);
    const pausedAt = Date.now();
    const first = await placeOrder(a, buyer!, [{ product_id: product, quantity: 1 }], 'late-run');
    expect(first).toMatchObject({ kind: 'ok', status: 503 });
    expect(codeOf(first)).toBe('stock_unavailable');
    await sleep(Math.max(0, pauseMs - (Date.now() - pausedAt)) + 300);

    // Right after the pause: no hold is left, the unit is on sale, the key is not in flight.
    expect(await holdsOf(product)).toBe(0);
    expect(await availableAt(b, product)).toBe(2);
    const retry = await placeOrder(b, buyer!, [{ product_id: product, quantity: 1 }], 'late-run');
    expect(retry).toMatchObject({ kind: 'ok', status: 201 });
    expect(await availableAt(a, product)).toBe(1);
    expect(a.unexpectedExits).toEqual([]);
    expect(b.unexpectedExits).toEqual([]);
  });
});
