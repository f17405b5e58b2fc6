import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors.ts';
import {
  cancelOrder,
  expireDueOrders,
  payOrder,
  placeOrder,
} from '../../src/modules/orders/services.ts';
import { syncGate } from '../../src/modules/stock/services.ts';
import { createTestProduct, createUsers, type TestUser } from '../support/fixtures.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { expectStockInvariants } from './invariants.ts';

/**
 * Random programs of orders, payments, cancels, expiries and syncs, run in random concurrent
 * groups (so their steps interleave for real), must end with every invariant intact.
 */
type Command =
  | { kind: 'order'; user: number; lines: { product: number; quantity: number }[] }
  | { kind: 'pay' | 'cancel' | 'expire'; order: number }
  | { kind: 'sync'; product: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      user: fc.nat({ max: 3 }),
      lines: fc.uniqueArray(
        fc.record({ product: fc.nat({ max: 1 }), quantity: fc.integer({ min: 1, max: 3 }) }),
        {
          minLength: 1,
          maxLength: 2,
          selector: (line) => line.product,
        },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('pay' as const), order: fc.nat({ max: 20 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('cancel' as const), order: fc.nat({ max: 20 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('expire' as const), order: fc.nat({ max: 20 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('sync' as const), product: fc.nat({ max: 1 }) }),
  },
);

const program = fc.record({
  stock: fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 })),
  cap: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  // Commands in groups; the commands of one group run at the same time.
  groups: fc.array(fc.array(command, { minLength: 1, maxLength: 6 }), {
    minLength: 1,
    maxLength: 6,
  }),
});

/** Refusals are part of the game; anything else is a failure. */
const EXPECTED = new Set([
  'insufficient_stock',
  'purchase_limit_exceeded',
  'invalid_order_state',
  'order_not_found',
]);

describe.each(['redis', 'memory'] as const)('random interleavings (%s gate)', (gate) => {
  let rt: TestRuntime;
  let users: TestUser[];
  beforeAll(async () => {
    rt = await createTestRuntime({ gate });
    users = await createUsers(rt.ctx, 4);
  });
  afterAll(() => rt.close());

  it('keep every stock invariant', async () => {
    await fc.assert(
      fc.asyncProperty(program, async ({ stock, cap, groups }) => {
        const sale = {
          starts_at: new Date(Date.now() - 1000).toISOString(),
          ends_at: null,
          max_per_user: cap,
        };
        const products = [
          await createTestProduct(rt.ctx, { stock: stock[0], sale }),
          await createTestProduct(rt.ctx, { stock: stock[1], sale }),
        ];
        const orders: { id: number; userId: number }[] = [];
        const run = async (c: Command): Promise<void> => {
          try {
            if (c.kind === 'order') {
              const user = users[c.user]!;
              const { order } = await placeOrder({
                ctx: rt.ctx,
                input: {
                  userId: user.id,
                  items: c.lines.map((l) => ({
                    product_id: products[l.product]!.id,
                    quantity: l.quantity,
                  })),
                },
              });
              orders.push({ id: order.id, userId: user.id });
              return;
            }
            if (c.kind === 'sync') {
              await syncGate({
                ctx: rt.ctx,
                input: { productId: products[c.product]!.id, trigger: 'timer' },
              });
              return;
            }
            const target = orders[c.order % Math.max(1, orders.length)];
            if (!target) return;
            const input = { userId: target.userId, orderId: target.id };
            if (c.kind === 'pay') await payOrder({ ctx: rt.ctx, input });
            else if (c.kind === 'cancel') await cancelOrder({ ctx: rt.ctx, input });
            else {
              await rt.ctx.db.execute(sql`
                UPDATE orders SET expires_at = now() - interval '1 millisecond'
                WHERE id = ${target.id} AND status = 'pending_payment'`);
              await expireDueOrders({ ctx: rt.ctx });
            }
          } catch (error) {
            if (error instanceof AppError && EXPECTED.has(error.code)) return;
            throw error;
          }
        };
        for (const group of groups) await Promise.all(group.map(run));

        await expectStockInvariants(rt.ctx, [
          { id: products[0]!.id, initial: stock[0] },
          { id: products[1]!.id, initial: stock[1] },
        ]);
        const ids = products.map((p) => p.id);
        // Every cancelled or expired order gave its units back exactly once; live ones never.
        const restores = await rt.ctx.db.execute<{
          status: string;
          restores: number;
          lines: number;
        }>(sql`
          SELECT o.status,
            (SELECT count(*)::int FROM stock_ledger l WHERE l.order_id = o.id AND l.cause IN ('cancel', 'expiry')) AS restores,
            (SELECT count(*)::int FROM order_items i WHERE i.order_id = o.id) AS lines
          FROM orders o JOIN order_items oi ON oi.order_id = o.id
          WHERE oi.product_id = ANY(${sql.param(ids)}::int[]) GROUP BY o.id`);
        for (const row of restores.rows) {
          const returned = row.status === 'cancelled' || row.status === 'expired';
          expect(row.restores).toBe(returned ? row.lines : 0);
        }
        // Nobody holds more than the cap in live orders.
        if (cap !== null) {
          const held = await rt.ctx.db.execute<{ units: number }>(sql`
            SELECT SUM(oi.quantity)::int AS units FROM order_items oi JOIN orders o ON o.id = oi.order_id
            WHERE oi.product_id = ANY(${sql.param(ids)}::int[]) AND o.status IN ('pending_payment', 'paid')
            GROUP BY o.user_id, oi.product_id`);
          for (const row of held.rows) expect(row.units).toBeLessThanOrEqual(cap);
        }
      }),
      { numRuns: 30 },
    );
  }, 180_000);
});
