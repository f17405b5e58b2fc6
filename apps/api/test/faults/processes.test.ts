import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiProcess } from './support/api-process.ts';
import { call, codeOf, createdId, FaultShop, placeOrder } from './support/shop.ts';
import { waitFor } from './support/wait.ts';

/**
 * Several API processes on one PostgreSQL and one Redis, as several machines (or WORKERS on
 * one) run them: the bound on transactions one hot product may have open at once is the whole
 * deployment's, shared among the processes, so a second process does not double the mob on the
 * hot row.
 */
describe('several API processes sharing one sale', () => {
  let shop: FaultShop;
  beforeAll(async () => {
    shop = await FaultShop.start({ processes: 2 });
  });
  afterAll(() => shop?.stop());

  it('when both processes write orders for one product, no more than the bound (2) of their transactions wait on its row at once', async () => {
    const [a, b] = shop.apis as [ApiProcess, ApiProcess];
    for (const api of [a, b]) {
      await waitFor(
        () =>
          api.logs.some(
            (line) => line.msg === 'order writers sharing the database' && line.processes === 2,
          ),
        { timeoutMs: 5000, what: `${api.name} to count two processes` },
      );
    }
    const product = await shop.createProduct(40);
    const buyers = await shop.createBuyers(40);
    // The row is held: every transaction that reaches it waits, and can be counted waiting.
    const blocker = new pg.Client({
      connectionString: shop.postgres.url,
      application_name: 'fault-blocker',
    });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM stock WHERE product_id = $1 FOR UPDATE', [product]);
    const answers = Promise.all(
      buyers.map((buyer, i) =>
        placeOrder(i % 2 ? a : b, buyer, [{ product_id: product, quantity: 1 }]),
      ),
    );
    let most = 0;
    const started = Date.now();
    while (Date.now() - started < 1500) {
      const [row] = await shop.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = 'stampede-api' AND wait_event_type = 'Lock'`,
      );
      most = Math.max(most, row!.n);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await blocker.query('ROLLBACK');
    await blocker.end();
    const results = await answers;
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    expect(results.filter((r) => r.kind === 'ok' && r.status === 201)).toHaveLength(40);
  });
});

describe('WORKERS=2: two processes on one port', () => {
  it('when one API runs two workers, both count each other, and a race over the shared port sells exactly out', async () => {
    const shop = await FaultShop.start({ processes: 1, env: { WORKERS: '2' } });
    try {
      const api = shop.apis[0]!;
      await waitFor(
        () => api.logs.filter((line) => line.msg === 'Stampede is ready').length === 2,
        { timeoutMs: 30_000, what: 'both workers to be ready' },
      );
      await waitFor(
        () =>
          api.logs.filter(
            (line) => line.msg === 'order writers sharing the database' && line.processes === 2,
          ).length >= 2,
        { timeoutMs: 5000, what: 'both workers to count two processes' },
      );
      const product = await shop.createProduct(30);
      const buyers = await shop.createBuyers(90);
      const results = await Promise.all(
        buyers.map((buyer) => placeOrder(api, buyer, [{ product_id: product, quantity: 1 }])),
      );
      const statuses = results.map((r) => (r.kind === 'ok' ? r.status : r.kind));
      expect(statuses.filter((s) => s === 201)).toHaveLength(30);
      expect(statuses.filter((s) => s === 409)).toHaveLength(60);
      const [row] = await shop.query<{ available: number }>(
        'SELECT available FROM stock WHERE product_id = $1',
        [product],
      );
      expect(row!.available).toBe(0);
      expect(api.unexpectedExits).toEqual([]);
    } finally {
      await shop.stop();
    }
  });
});

describe('the sold-out edge across processes', () => {
  let shop: FaultShop;
  beforeAll(async () => {
    // Its expiry is far: only the announcement of returned units can end it within the test.
    shop = await FaultShop.start({ processes: 2, env: { SOLD_OUT_EDGE_MS: '60000' } });
  });
  afterAll(() => shop?.stop());

  const edgeAnswers = async (api: ApiProcess) => {
    const answer = await call(api.url, { method: 'GET', path: '/metrics' });
    const text = answer.kind === 'ok' ? String(answer.body?.text ?? '') : '';
    const line = text.split('\n').find((l) => l.startsWith('stampede_sold_out_edge_answers_total'));
    return Number(line?.split(' ')[1] ?? Number.NaN);
  };

  it('when a sold-out product gets a unit back from a cancel, every process sells it again within the bound; a key answered from the edge keeps its answer', async () => {
    const [a, b] = shop.apis as [ApiProcess, ApiProcess];
    const product = await shop.createProduct(1);
    const [winner, ...others] = await shop.createBuyers(8);
    const line = [{ product_id: product, quantity: 1 }];
    const won = await placeOrder(a, winner!, line);
    expect(won).toMatchObject({ kind: 'ok', status: 201 });
    // Both processes hear "sold out" from the gate once, then answer from memory.
    for (const [i, api] of [a, b, a, b].entries()) {
      expect(codeOf(await placeOrder(api, others[i]!, line))).toBe('insufficient_stock');
    }
    expect(await edgeAnswers(a)).toBeGreaterThanOrEqual(1);
    expect(await edgeAnswers(b)).toBeGreaterThanOrEqual(1);
    // With an Idempotency-Key the edge's refusal is the key's answer, as the gate's would be.
    const before = await edgeAnswers(b);
    const keyed = others[5]!;
    expect(codeOf(await placeOrder(b, keyed, line, 'edge-key'))).toBe('insufficient_stock');
    expect(await edgeAnswers(b)).toBe(before + 1);

    const cancelled = await call(a.url, {
      method: 'POST',
      path: `/api/orders/${createdId(won)}/cancel`,
      token: winner!.token,
    });
    expect(cancelled).toMatchObject({ kind: 'ok', status: 200 });
    const cancelledAt = Date.now();
    // The unit is back (A returned it itself): the key still answers what it answered.
    expect(codeOf(await placeOrder(a, keyed, line, 'edge-key'))).toBe('insufficient_stock');
    // B never saw the cancel: the announcement tells it, in milliseconds.
    const took = await waitFor(
      async () => {
        const answer = await placeOrder(b, others[4]!, line);
        return answer.kind === 'ok' && answer.status === 201;
      },
      { timeoutMs: EDGE_BOUND_MS, what: 'B to sell the returned unit', everyMs: 20 },
    );
    expect(Date.now() - cancelledAt).toBeLessThan(EDGE_BOUND_MS);
    expect(took).toBeLessThan(EDGE_BOUND_MS);
    const [row] = await shop.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders WHERE user_id = $1 AND status = 'pending_payment'`,
      [others[4]!.id],
    );
    expect(row!.n).toBe(1);
  });
});

/** The bound README states for a returned unit to be on sale again at every process. */
const EDGE_BOUND_MS = 500;
