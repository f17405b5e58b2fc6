import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueView } from '@stampede/contract';
import { admitFromQueues } from '../../src/modules/queue/services.ts';
import { queueKeys } from '../../src/modules/queue/keys.ts';
import { createTestProduct, createUser, createUsers, type TestUser } from '../support/fixtures.ts';
import {
  call,
  expectError,
  expectStatus,
  orderCount,
  placeOrder,
} from '../support/http-helpers.ts';
import { createTestRuntime, type GateKind, type TestRuntime } from '../support/runtime.ts';
import { join, joinWith, setQueue, solvedChallenge, status } from './support.ts';

/** Waits out the units cache (a quarter of a second) of the status poll and the ticker. */
const unitsSettle = () => sleep(300);

describe.each<GateKind>(['redis', 'memory'])('the waiting room (%s gate)', (gate) => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let admin: TestUser;
  beforeAll(async () => {
    rt = await createTestRuntime({ gate });
    app = await rt.app();
    admin = await createUser(rt.ctx, 'admin');
  });
  afterAll(() => rt.close());

  const admit = () => admitFromQueues({ ctx: rt.ctx });
  const view = async (productId: number) =>
    QueueView.parse(
      expectStatus(
        await call(app, {
          method: 'GET',
          url: `/api/admin/products/${productId}/queue`,
          as: admin,
        }),
        200,
      ).json(),
    );

  it('the operator reads defaults, switches a queue on, and reads it back', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 5 });
    expect(await view(product.id)).toMatchObject({ enabled: false, state: 'off', waiting: 0 });
    const set = QueueView.parse(await setQueue(app, admin, product.id, { admit_per_minute: 30 }));
    expect(set).toMatchObject({
      enabled: true,
      admit_per_minute: 30,
      state: 'admitting',
      units_left: 5,
    });
    const customer = await createUser(rt.ctx);
    expectError(
      await call(app, {
        method: 'GET',
        url: `/api/admin/products/${product.id}/queue`,
        as: customer,
      }),
      403,
      'forbidden',
    );
    expectError(
      await call(app, {
        method: 'PUT',
        url: `/api/admin/products/${product.id}/queue`,
        as: admin,
        payload: { enabled: true },
      }),
      400,
      'validation_failed',
    );
    expectError(
      await call(app, { method: 'GET', url: '/api/admin/products/999999/queue', as: admin }),
      404,
      'product_not_found',
    );
  });

  it('joining: 201 with a ticket, again 200 with the same place; 404; 409 when closed', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 5 });
    await setQueue(app, admin, product.id);
    const [a, b] = await createUsers(rt.ctx, 2);
    const first = await joinWith(app, a!, product.id, await solvedChallenge(app, a!, product.id));
    expectStatus(first, 201);
    await join(app, b!, product.id);
    const again = await joinWith(app, a!, product.id, await solvedChallenge(app, a!, product.id));
    expectStatus(again, 200);
    expect(again.json()).toMatchObject({ state: 'waiting', place: 1, ahead: 0 });
    expect(again.json().ticket).toBe(first.json().ticket);
    expect(await status(app, b!, product.id)).toMatchObject({
      state: 'waiting',
      place: 2,
      ahead: 1,
    });

    expectError(
      await call(app, { method: 'GET', url: '/api/queues/999999/challenge', as: a! }),
      404,
      'product_not_found',
    );
    const open = await createTestProduct(rt.ctx);
    expectError(
      await call(app, { method: 'GET', url: `/api/queues/${open.id}/challenge`, as: a! }),
      409,
      'queue_closed',
    );
    // Not open yet: the pre-queue opens an hour before a sale in two hours.
    const later = await createTestProduct(rt.ctx, {
      sale: {
        starts_at: new Date(Date.now() + 7_200_000).toISOString(),
        ends_at: null,
        max_per_user: null,
      },
    });
    await setQueue(app, admin, later.id);
    const altcha = await solvedChallenge(app, a!, later.id);
    const closed = expectError(await joinWith(app, a!, later.id, altcha), 409, 'queue_closed');
    expect(closed.details).toMatchObject({ queue_state: 'not_open' });
  });

  it('a challenge is used once; a wrong, foreign or forged one is refused with 400', async () => {
    const product = await createTestProduct(rt.ctx);
    const other = await createTestProduct(rt.ctx);
    await setQueue(app, admin, product.id);
    await setQueue(app, admin, other.id);
    const [a, b] = await createUsers(rt.ctx, 2);
    const altcha = await solvedChallenge(app, a!, product.id);
    expectStatus(await joinWith(app, a!, product.id, altcha), 201);
    const replay = expectError(
      await joinWith(app, a!, product.id, altcha),
      400,
      'challenge_failed',
    );
    expect(replay.details).toMatchObject({ reason: 'used' });
    // Another buyer's solution, or one for another sale.
    expectError(
      await joinWith(app, b!, product.id, await solvedChallenge(app, a!, product.id)),
      400,
      'challenge_failed',
    );
    expectError(
      await joinWith(app, b!, product.id, await solvedChallenge(app, b!, other.id)),
      400,
      'challenge_failed',
    );
    // A wrong number, garbage, and a forged signature.
    const payload = JSON.parse(
      Buffer.from(await solvedChallenge(app, b!, product.id), 'base64').toString(),
    );
    const forge = (change: object) =>
      Buffer.from(JSON.stringify({ ...payload, ...change })).toString('base64');
    expectError(
      await joinWith(app, b!, product.id, forge({ number: payload.number + 1 })),
      400,
      'challenge_failed',
    );
    expectError(await joinWith(app, b!, product.id, 'bm90IGpzb24='), 400, 'challenge_failed');
    expectError(
      await joinWith(app, b!, product.id, forge({ signature: 'ab'.repeat(32) })),
      400,
      'challenge_failed',
    );
    expect(await status(app, b!, product.id)).toMatchObject({ state: 'not_joined', ticket: null });
  });

  it('an order needs a live pass: 403 queue_pass_required, then 201 once admitted', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 10 });
    await setQueue(app, admin, product.id);
    const buyer = await createUser(rt.ctx);
    const refused = expectError(
      await placeOrder(app, buyer, [[product.id, 1]], 'key-before-pass'),
      403,
      'queue_pass_required',
    );
    expect(refused.details).toEqual({ product_id: product.id });
    await join(app, buyer, product.id);
    expectError(await placeOrder(app, buyer, [[product.id, 1]]), 403, 'queue_pass_required');
    expect(await orderCount(rt.ctx, buyer.id)).toBe(0);
    await admit();
    const admitted = await status(app, buyer, product.id);
    expect(admitted.state).toBe('admitted');
    expect(Date.parse(admitted.pass_expires_at!)).toBeGreaterThan(Date.now() + 590_000);
    // The refusal was not kept as the key's answer: the same request with the same key now buys.
    const order = expectStatus(
      await placeOrder(app, buyer, [[product.id, 1]], 'key-before-pass'),
      201,
    );
    // A keyed retry is answered its first answer (the replay comes before the pass check).
    const replay = await placeOrder(app, buyer, [[product.id, 1]], 'key-before-pass');
    expectStatus(replay, 201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(order.json().id);
    // The order spent the pass: it no longer counts as active.
    await sleep(50);
    expect((await view(product.id)).active).toBe(0);
  });

  it('a pass never bypasses the cap', async () => {
    const product = await createTestProduct(rt.ctx, {
      stock: 10,
      sale: {
        starts_at: new Date(Date.now() - 60_000).toISOString(),
        ends_at: null,
        max_per_user: 2,
      },
    });
    await setQueue(app, admin, product.id);
    const buyer = await createUser(rt.ctx);
    await join(app, buyer, product.id);
    await admit();
    expectError(await placeOrder(app, buyer, [[product.id, 3]]), 409, 'purchase_limit_exceeded');
    expectStatus(await placeOrder(app, buyer, [[product.id, 2]]), 201);
    expectError(await placeOrder(app, buyer, [[product.id, 1]]), 409, 'purchase_limit_exceeded');
  });

  it('never more live passes than the units left times the factor', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 3 });
    await setQueue(app, admin, product.id, { inventory_factor: 1 });
    const buyers = await createUsers(rt.ctx, 12);
    for (const buyer of buyers) await join(app, buyer, product.id);
    for (let i = 0; i < 3; i += 1) await admit();
    expect(await view(product.id)).toMatchObject({ active: 3, waiting: 9, units_left: 3 });
    await setQueue(app, admin, product.id, { inventory_factor: 1.5 });
    await admit();
    // ceil(3 × 1.5) = 5
    expect(await view(product.id)).toMatchObject({ active: 5, waiting: 7 });
    // max_active caps below the stock's bound: nobody more until passes go.
    await setQueue(app, admin, product.id, { inventory_factor: 10, max_active: 5 });
    await admit();
    expect((await view(product.id)).active).toBe(5);
  });

  it('pause stops admission live; places are kept; resume goes on', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 50 });
    await setQueue(app, admin, product.id, { paused: true });
    const buyers = await createUsers(rt.ctx, 3);
    for (const buyer of buyers) await join(app, buyer, product.id);
    await admit();
    const paused = await status(app, buyers[2]!, product.id);
    expect(paused).toMatchObject({
      state: 'waiting',
      queue_state: 'paused',
      place: 3,
      estimated_wait_seconds: null,
    });
    expect((await view(product.id)).active).toBe(0);
    await setQueue(app, admin, product.id, { paused: false, admit_per_minute: 60 });
    await admit();
    // One a second: the bucket starts with one second's worth.
    const after = await view(product.id);
    expect(after).toMatchObject({ active: 1, waiting: 2, state: 'admitting' });
    const waiting = await status(app, buyers[2]!, product.id);
    expect(waiting).toMatchObject({ state: 'waiting', place: 2, ahead: 1 });
    // Estimated from the measured rate: one pass in the last minute, two to go = 120 s.
    expect(waiting.estimated_wait_seconds).toBe(120);
  });

  it('sold out tells every waiting buyer at once, and admission resumes when units return', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 2 });
    await setQueue(app, admin, product.id);
    const buyers = await createUsers(rt.ctx, 6);
    for (const buyer of buyers) await join(app, buyer, product.id);
    await admit();
    const admitted: TestUser[] = [];
    for (const buyer of buyers) {
      if ((await status(app, buyer, product.id)).state === 'admitted') admitted.push(buyer);
    }
    expect(admitted).toHaveLength(2);
    const orders: { id: number }[] = [];
    for (const buyer of admitted) {
      orders.push(expectStatus(await placeOrder(app, buyer, [[product.id, 1]]), 201).json());
    }
    await unitsSettle();
    const waiting = buyers.filter((b) => !admitted.includes(b));
    for (const buyer of waiting) {
      expect(await status(app, buyer, product.id)).toMatchObject({
        state: 'sold_out',
        queue_state: 'sold_out',
        estimated_wait_seconds: null,
      });
    }
    await admit();
    expect((await view(product.id)).active).toBe(0);
    // A cancel puts a unit back: the queue admits again by itself.
    expectStatus(
      await call(app, {
        method: 'POST',
        url: `/api/orders/${orders[0]!.id}/cancel`,
        as: admitted[0]!,
      }),
      200,
    );
    await unitsSettle();
    expect((await status(app, waiting[0]!, product.id)).state).not.toBe('sold_out');
    await admit();
    expect(await view(product.id)).toMatchObject({ active: 1, units_left: 1, state: 'admitting' });
  });

  // Declared for the Redis gate only (where the test moves the pass's expiry in Redis); the
  // store contract checks expiry on every store.
  if (gate === 'redis')
    it('an expired pass is refused', async () => {
      const product = await createTestProduct(rt.ctx, { stock: 5 });
      await setQueue(app, admin, product.id);
      const buyer = await createUser(rt.ctx);
      await join(app, buyer, product.id);
      await admit();
      expect((await status(app, buyer, product.id)).state).toBe('admitted');
      // The pass's lifetime runs out (at least 30 s in the settings: moved, not waited for).
      const keys = queueKeys(rt.prefix);
      const redis = rt.redis();
      await redis.hset(keys.passes(product.id), String(buyer.id), String(Date.now() - 1));
      expect((await status(app, buyer, product.id)).state).toBe('pass_expired');
      expectError(await placeOrder(app, buyer, [[product.id, 1]]), 403, 'queue_pass_required');
    });

  it('a sale without its queue switched on needs no pass', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 5 });
    await setQueue(app, admin, product.id, { enabled: false });
    const buyer = await createUser(rt.ctx);
    expectStatus(await placeOrder(app, buyer, [[product.id, 1]]), 201);
  });
});
