import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestProduct, createUser } from '../support/fixtures.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

describe('order path regressions', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime();
  });
  afterAll(() => rt.close());

  const order = async (token: string, items: { product_id: number; quantity: number }[]) =>
    (await rt.app()).inject({
      method: 'POST',
      url: '/api/orders',
      headers: { authorization: `Bearer ${token}` },
      payload: { items },
    });

  it('answers product_not_found before sale_not_started, whatever the line order (API.md checks 3, 4)', async () => {
    const upcoming = await createTestProduct(rt.ctx, {
      sale: {
        starts_at: new Date(Date.now() + 3_600_000).toISOString(),
        ends_at: null,
        max_per_user: null,
      },
    });
    const buyer = await createUser(rt.ctx);
    const res = await order(buyer.token, [
      { product_id: upcoming.id, quantity: 1 },
      { product_id: 2_147_483_000, quantity: 1 },
    ]);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'product_not_found' } });
  });

  it('answers 401, not 500, to a valid token of an account that no longer exists', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 3 });
    const ghost = rt.ctx.tokens.issue({ userId: 2_147_483_000, role: 'customer' });
    const res = await order(ghost, [{ product_id: product.id, quantity: 1 }]);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
    // The units it held at the gate went back.
    expect(await rt.ctx.stock.available([product.id])).toEqual([3]);
    expect(await rt.ctx.stock.holds(product.id)).toEqual([]);
    const buyer = await createUser(rt.ctx);
    const ok = await (
      await rt.app()
    ).inject({
      method: 'POST',
      url: '/api/orders',
      headers: bearer(buyer),
      payload: { items: [{ product_id: product.id, quantity: 3 }] },
    });
    expect(ok.statusCode).toBe(201);
  });

  it("keeps a refusal as the key's answer in PostgreSQL too, for a rebuild after the cache is lost", async () => {
    const product = await createTestProduct(rt.ctx, { stock: 0 });
    const buyer = await createUser(rt.ctx);
    const res = await (
      await rt.app()
    ).inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...bearer(buyer), 'idempotency-key': 'sold-out-once' },
      payload: { items: [{ product_id: product.id, quantity: 1 }] },
    });
    expect(res.statusCode).toBe(409);
    await rt.ctx.idempotencyLog.flush();
    const { rows } = await rt.ctx.db.execute<{ status_code: number; response_body: unknown }>(sql`
      SELECT status_code, response_body FROM idempotency_keys
      WHERE user_id = ${buyer.id} AND key = 'sold-out-once'`);
    expect(rows).toEqual([
      {
        status_code: 409,
        response_body: { error: expect.objectContaining({ code: 'insufficient_stock' }) },
      },
    ]);
  });
});
