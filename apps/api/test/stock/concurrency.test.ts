import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelOrder, expireDueOrders, placeOrder } from '../../src/modules/orders/services.ts';
import { syncGates } from '../../src/modules/stock/services.ts';
import { AppError } from '../../src/lib/errors.ts';
import { createTestProduct, createUsers } from '../support/fixtures.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { databaseAvailable, expectStockInvariants, unitsSold } from './invariants.ts';
import { listen, postOrder, shuffle, tally, type Answer } from './race.ts';

/**
 * The guarantees of DESIGN.md under real concurrency, against real PostgreSQL and Redis: the
 * Redis gate on one node and on a Redis Cluster (every product in one counter, and every
 * product split over three stock buckets on three masters), the in-process gate, and no gate
 * at all (every attempt on PostgreSQL, which must be right on its own).
 */
const MODES = [
  { name: 'Redis gate', gate: 'redis', env: {}, buckets: 1 },
  { name: 'Redis Cluster gate', gate: 'cluster', env: {}, buckets: 1 },
  { name: 'Redis Cluster gate, 3 stock buckets', gate: 'cluster', env: {}, buckets: 3 },
  { name: 'in-process gate', gate: 'memory', env: {}, buckets: 1 },
  { name: 'database alone (gate off)', gate: 'redis', env: { STOCK_GATE: 'off' }, buckets: 1 },
] as const;

/** A service call's answer, in the shape of an HTTP answer. */
async function attempt(run: () => Promise<{ order: { id: number } }>): Promise<Answer> {
  try {
    const { order } = await run();
    return { status: 201, orderId: order.id, body: order };
  } catch (error) {
    if (error instanceof AppError)
      return { status: error.status, code: error.code, body: error.details };
    throw error;
  }
}

describe.each(MODES)('stock under concurrency: $name', ({ gate, env, buckets }) => {
  let rt: TestRuntime;
  let baseUrl: string;
  const newProduct = (ctx: TestRuntime['ctx'], input: Parameters<typeof createTestProduct>[1]) =>
    createTestProduct(ctx, { ...input, stock_buckets: buckets });
  beforeAll(async () => {
    rt = await createTestRuntime({ gate, env });
    baseUrl = await listen(await rt.app());
  });
  afterAll(() => rt.close());

  it('when 500 buyers race for 50 units over HTTP, exactly 50 win and nothing is left', async () => {
    const product = await newProduct(rt.ctx, { stock: 50 });
    const buyers = await createUsers(rt.ctx, 500);
    const answers = await Promise.all(
      buyers.map((buyer) =>
        postOrder(baseUrl, buyer.token, [{ product_id: product.id, quantity: 1 }]),
      ),
    );
    expect(tally(answers)).toEqual({ created: 50, insufficient_stock: 450 });
    for (const refused of answers.filter((a) => a.status === 409)) {
      expect(refused.body).toMatchObject({
        error: { details: { product_id: product.id, requested: 1, available: 0 } },
      });
    }
    expect(await databaseAvailable(rt.ctx, product.id)).toBe(0);
    if (rt.ctx.stock.tracksStock) expect(await rt.ctx.stock.available([product.id])).toEqual([0]);
    const { rows } = await rt.ctx.db.execute<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM stock_ledger WHERE product_id = ${product.id} AND cause = 'order'`);
    expect(rows[0]!.n).toBe(50);
    await expectStockInvariants(
      rt.ctx,
      [{ id: product.id, initial: 50 }],
      answers.flatMap((a) => a.orderId ?? []),
    );
  });

  it('when mixed quantities and multi-line orders in opposite product order race, none deadlocks, oversells or strands', async () => {
    const a = await newProduct(rt.ctx, { stock: 60 });
    const b = await newProduct(rt.ctx, { stock: 45 });
    const buyers = await createUsers(rt.ctx, 240);
    const baskets = buyers.map((_, i) => {
      switch (i % 4) {
        case 0:
          return [
            { product_id: a.id, quantity: 2 },
            { product_id: b.id, quantity: 1 },
          ];
        case 1:
          return [
            { product_id: b.id, quantity: 2 },
            { product_id: a.id, quantity: 1 },
          ];
        case 2:
          return [{ product_id: a.id, quantity: 3 }];
        default:
          return [{ product_id: b.id, quantity: 1 }];
      }
    });
    const answers = await Promise.all(
      shuffle(buyers.map((buyer, i) => [buyer, baskets[i]!] as const)).map(([buyer, items]) =>
        postOrder(baseUrl, buyer.token, items),
      ),
    );
    const counts = tally(answers);
    expect(Object.keys(counts).sort()).toEqual(['created', 'insufficient_stock']);
    await expectStockInvariants(
      rt.ctx,
      [
        { id: a.id, initial: 60 },
        { id: b.id, initial: 45 },
      ],
      answers.flatMap((x) => x.orderId ?? []),
    );
    // Whatever is left is really on sale: it can be bought, to the last unit.
    for (const product of [a, b]) {
      const left = await databaseAvailable(rt.ctx, product.id);
      if (left === 0) continue;
      const [late] = await createUsers(rt.ctx, 1);
      const answer = await postOrder(baseUrl, late!.token, [
        { product_id: product.id, quantity: left },
      ]);
      expect(answer.status).toBe(201);
    }
    expect(await databaseAvailable(rt.ctx, a.id)).toBe(0);
    expect(await databaseAvailable(rt.ctx, b.id)).toBe(0);
  });

  it('when a multi-line order is refused on one line, no line is taken', async () => {
    const plenty = await newProduct(rt.ctx, { stock: 5 });
    const none = await newProduct(rt.ctx, { stock: 0 });
    const [buyer] = await createUsers(rt.ctx, 1);
    for (const items of [
      [
        { product_id: plenty.id, quantity: 2 },
        { product_id: none.id, quantity: 1 },
      ],
      [
        { product_id: none.id, quantity: 1 },
        { product_id: plenty.id, quantity: 2 },
      ],
    ]) {
      const answer = await postOrder(baseUrl, buyer!.token, items);
      expect(answer).toMatchObject({ status: 409, code: 'insufficient_stock' });
    }
    expect(await databaseAvailable(rt.ctx, plenty.id)).toBe(5);
    await expectStockInvariants(rt.ctx, [
      { id: plenty.id, initial: 5 },
      { id: none.id, initial: 0 },
    ]);
  });

  it('when one user fires 20 orders at once, the per-user cap holds', async () => {
    const product = await newProduct(rt.ctx, {
      stock: 100,
      sale: {
        starts_at: new Date(Date.now() - 1000).toISOString(),
        ends_at: null,
        max_per_user: 3,
      },
    });
    const [user] = await createUsers(rt.ctx, 1);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        postOrder(baseUrl, user!.token, [{ product_id: product.id, quantity: 1 }]),
      ),
    );
    expect(tally(answers)).toEqual({ created: 3, purchase_limit_exceeded: 17 });
    expect(await unitsSold(rt.ctx, product.id)).toBe(3);
    await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 100 }]);
  });

  it('when 50 cancels of one order race, its stock returns once', async () => {
    const product = await newProduct(rt.ctx, { stock: 5 });
    const [user] = await createUsers(rt.ctx, 1);
    const { order } = await placeOrder({
      ctx: rt.ctx,
      input: { userId: user!.id, items: [{ product_id: product.id, quantity: 2 }] },
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        attempt(() =>
          cancelOrder({ ctx: rt.ctx, input: { userId: user!.id, orderId: order.id } }).then(
            (o) => ({
              order: o,
            }),
          ),
        ),
      ),
    );
    expect(tally(answers)).toEqual({ created: 1, invalid_order_state: 49 });
    const { rows } = await rt.ctx.db.execute<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM stock_ledger WHERE order_id = ${order.id} AND cause = 'cancel'`);
    expect(rows[0]!.n).toBe(1);
    expect(await databaseAvailable(rt.ctx, product.id)).toBe(5);
    await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 5 }]);
  });

  it('when cancels race the expiry of the same orders, each order restores once', async () => {
    const product = await newProduct(rt.ctx, { stock: 40 });
    const users = await createUsers(rt.ctx, 20);
    const orders = await Promise.all(
      users.map((user) =>
        placeOrder({
          ctx: rt.ctx,
          input: { userId: user.id, items: [{ product_id: product.id, quantity: 2 }] },
        }).then((result) => ({ user, order: result.order })),
      ),
    );
    // Every order is now past its payment deadline.
    await rt.ctx.db.execute(sql`
      UPDATE orders SET expires_at = now() - interval '1 second'
      WHERE id = ANY(${sql.param(orders.map((o) => o.order.id))}::int[])`);
    const cancels = orders.map(({ user, order }) =>
      attempt(() =>
        cancelOrder({ ctx: rt.ctx, input: { userId: user.id, orderId: order.id } }).then((o) => ({
          order: o,
        })),
      ),
    );
    const sweeps = Array.from({ length: 4 }, () => expireDueOrders({ ctx: rt.ctx }));
    const [cancelled, expired] = await Promise.all([Promise.all(cancels), Promise.all(sweeps)]);
    const cancelledCount = cancelled.filter((a) => a.status === 201).length;
    const expiredCount = expired.reduce((sum, n) => sum + n, 0);
    expect(cancelledCount + expiredCount).toBe(20);
    const { rows } = await rt.ctx.db.execute<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM stock_ledger
      WHERE product_id = ${product.id} AND cause IN ('cancel', 'expiry')`);
    expect(rows[0]!.n).toBe(20);
    expect(await databaseAvailable(rt.ctx, product.id)).toBe(40);
    await expectStockInvariants(rt.ctx, [{ id: product.id, initial: 40 }]);
  });

  it('when the sync loops during a live race, it neither re-opens sold units nor strands any', async () => {
    const product = await newProduct(rt.ctx, { stock: 120 });
    const buyers = await createUsers(rt.ctx, 400);
    let racing = true;
    const syncing = (async () => {
      let runs = 0;
      while (racing) {
        await syncGates({ ctx: rt.ctx, input: { trigger: 'on_demand', productIds: [product.id] } });
        runs += 1;
        // Let the buyers' I/O in between two syncs.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return runs;
    })();
    const answers = await Promise.all(
      buyers.map((buyer) =>
        postOrder(baseUrl, buyer.token, [{ product_id: product.id, quantity: 1 }]),
      ),
    );
    racing = false;
    const runs = await syncing;
    expect(runs, 'the sync ran while the buyers raced').toBeGreaterThan(0);
    expect(tally(answers)).toEqual({ created: 120, insufficient_stock: 280 });
    await expectStockInvariants(
      rt.ctx,
      [{ id: product.id, initial: 120 }],
      answers.flatMap((a) => a.orderId ?? []),
    );
  });
});
