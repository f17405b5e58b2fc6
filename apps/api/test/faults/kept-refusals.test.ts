import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, codeOf, FaultShop, placeOrder } from './support/shop.ts';
import { waitFor } from './support/wait.ts';

async function metric(baseUrl: string, name: string): Promise<number> {
  const answer = await call(baseUrl, { method: 'GET', path: '/metrics' });
  const text = answer.kind === 'ok' ? String(answer.body?.text ?? '') : '';
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

/**
 * A refusal kept as a key's answer is written to PostgreSQL a moment after it is given. When
 * PostgreSQL is down at that moment, the record waits and is written when it is back, so that a
 * later loss of Redis cannot turn the key's kept "sold out" into a new order.
 */
describe('kept refusals and a database outage', () => {
  let shop: FaultShop;
  beforeAll(async () => {
    shop = await FaultShop.start({ processes: 1 });
  });
  afterAll(() => shop?.stop());

  it('when PostgreSQL is down as a refusal is recorded, the key still answers the refusal after Redis loses its data', async () => {
    const api = shop.apis[0]!;
    const product = await shop.createProduct(1);
    const [winner, loser, looker] = await shop.createBuyers(3);
    const line = [{ product_id: product, quantity: 1 }];
    expect(await placeOrder(api, winner!, line, 'win')).toMatchObject({ status: 201 });

    // The refusal comes from the gate alone (the product is in the process's one-second cache),
    // while PostgreSQL is down: its record cannot be written now.
    let refused;
    for (let attempt = 0; ; attempt += 1) {
      expect(await placeOrder(api, looker!, line, `look-${attempt}`)).toMatchObject({
        status: 409,
      });
      await shop.postgres.crash();
      refused = await placeOrder(api, loser!, line, 'kept');
      if (codeOf(refused) === 'insufficient_stock' || attempt === 3) break;
      // The cache had expired first (a slow machine): try again.
      await shop.postgres.restart();
    }
    expect(codeOf(refused)).toBe('insufficient_stock');
    await waitFor(async () => (await metric(api.url, 'stampede_idempotency_records_pending')) > 0, {
      timeoutMs: 3000,
      what: 'the record to wait for the database',
    });

    await shop.postgres.restart();
    await waitFor(
      async () => (await metric(api.url, 'stampede_idempotency_records_pending')) === 0,
      { timeoutMs: 15_000, what: 'the waiting records to be written' },
    );
    expect(await metric(api.url, 'stampede_idempotency_records_dropped_total')).toBe(0);

    // Redis restarts empty; the gate is rebuilt from the database; new units arrive.
    await shop.redis.restart();
    await waitFor(
      () =>
        api.logs.some(
          (l) => l.msg === 'stock gate rebuilt from the database' && l.reason !== 'startup',
        ),
      { timeoutMs: 15_000, what: 'the gate to be rebuilt' },
    );
    await shop.setStock(product, 5);
    // Five units are on sale, yet the key answers what it answered first.
    const again = await placeOrder(api, loser!, line, 'kept');
    expect(again).toMatchObject({
      status: 409,
      body: { error: { code: 'insufficient_stock', details: { available: 0 } } },
    });
    expect(api.unexpectedExits).toEqual([]);
  });
});
