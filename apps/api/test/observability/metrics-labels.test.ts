import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { METHODS } from 'node:http';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestProduct, createUsers, type TestUser } from '../support/fixtures.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { parseExposition, type Sample } from './support/exposition.ts';

/**
 * `/metrics` stays bounded whatever the traffic: labels hold route templates and enumerated
 * reasons, never a user, order, product, IP or raw URL. Driven with real requests, many of them
 * to random URLs, then read back from the scrape.
 */

const HTTP_FAMILIES = /^http_request(s_total|_duration_seconds_(bucket|sum|count))$/;

describe('/metrics labels', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let users: TestUser[];
  let productId: number;
  /** Every value a label must never carry: ids, emails, tokens, IPs, random path segments. */
  const secrets = new Set<string>();

  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    users = await createUsers(rt.ctx, 3);
    productId = (await createTestProduct(rt.ctx, { stock: 1000 })).id;
    for (const user of users) {
      secrets.add(user.email);
      secrets.add(user.token);
    }
  });
  afterAll(() => rt.close());

  /** One round of real traffic: known routes with real and random ids, and unknown URLs. */
  async function driveTraffic(rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i += 1) {
      const user = users[i % users.length]!;
      const ip = `203.0.113.${randomInt(1, 255)}`;
      const segment = randomBytes(6).toString('hex');
      const uuid = randomUUID();
      const id = randomInt(100_000, 10_000_000);
      secrets.add(ip);
      secrets.add(segment);
      secrets.add(uuid);
      const from = { remoteAddress: ip, headers: { 'x-forwarded-for': ip } };
      const requests: InjectOptions[] = [
        {
          method: 'POST',
          url: '/api/orders',
          headers: { ...bearer(user), 'idempotency-key': uuid },
          payload: { items: [{ product_id: productId, quantity: 1 }] },
        },
        { url: `/api/products/${productId}` },
        { url: `/api/products/${id}` },
        { url: `/api/products/${segment}` },
        { url: `/api/products/${id}/stock` },
        { url: `/api/orders/${id}`, headers: bearer(user) },
        { method: 'POST', url: `/api/orders/${id}/cancel`, headers: bearer(user) },
        { url: `/api/${segment}/${uuid}` },
        { url: `/${segment}?email=${encodeURIComponent(user.email)}&id=${id}` },
        { url: `/images/products/${segment}.svg` },
        { url: `/${user.email}/${uuid}` },
        { method: 'DELETE', url: `/api/orders/${id}`, headers: bearer(user) },
        { method: 'PUT', url: `/api/${segment}`, payload: { id } },
        { method: 'PROPFIND', url: `/${segment}` },
        { url: `/api/products/${'9'.repeat(200 + (i % 50))}` },
      ];
      for (const request of requests) {
        const res = await app.inject({
          ...from,
          ...request,
          headers: { ...from.headers, ...request.headers },
        });
        if (request.method === 'POST' && request.url === '/api/orders') {
          expect(res.statusCode).toBe(201);
          const orderId = String(res.json().id);
          secrets.add(`/api/orders/${orderId}`);
        }
      }
    }
  }

  async function scrape(): Promise<{ body: string; samples: readonly Sample[] }> {
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    return { body: res.body, samples: parseExposition(res.body).samples };
  }

  it('labels requests by route template, or "unmatched", never by raw URL', async () => {
    await driveTraffic(20);
    const { samples } = await scrape();
    const http = samples.filter((s) => HTTP_FAMILIES.test(s.name));
    expect(http.length).toBeGreaterThan(0);

    const routes = new Set(http.map((s) => s.labels.route!));
    for (const s of http) {
      const { method, route, status_code } = s.labels;
      expect(METHODS).toContain(method);
      expect(status_code).toMatch(/^[1-5]\d\d$/);
      // Templates carry no digits: an id in a route label would be a raw URL.
      expect(route).not.toMatch(/\d/);
      if (route !== 'unmatched') {
        expect(app.hasRoute({ method: method as 'GET', url: route! }), `${method} ${route}`).toBe(
          true,
        );
      }
    }
    // The routes driven above, by their templates; everything unknown is one label.
    expect([...routes]).toEqual(
      expect.arrayContaining([
        '/api/orders',
        '/api/products/:id',
        '/api/products/:id/stock',
        '/api/orders/:id',
        '/api/orders/:id/cancel',
        'unmatched',
      ]),
    );
  });

  it('never puts a user, token, IP, id or random path into any label of any metric', async () => {
    await driveTraffic(5);
    const { samples } = await scrape();
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) {
        for (const secret of secrets) {
          expect(value.includes(secret), `${sample.name} label "${value}"`).toBe(false);
        }
      }
    }
  });

  it('does not grow with traffic: new random URLs add no series', async () => {
    await driveTraffic(10);
    const before = await scrape();
    await driveTraffic(40);
    const after = await scrape();
    // The app's own series; Node's defaults vary by themselves (a first major GC adds its
    // `kind`), within fixed enumerations.
    const seriesOf = (samples: readonly Sample[]) =>
      samples
        .filter((s) => HTTP_FAMILIES.test(s.name) || s.name.startsWith('stampede_'))
        .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
        .sort();
    expect(seriesOf(before.samples).length).toBeGreaterThan(50);
    expect(seriesOf(after.samples)).toEqual(seriesOf(before.samples));
    // The scrape itself stays small: a few hundred series, not one per request.
    expect(after.samples.length).toBeLessThan(2000);
  });
});

describe('/metrics with METRICS=false', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { METRICS: 'false' } });
  });
  afterAll(() => rt.close());

  it('drops the per-request metrics and the Node defaults, keeps the business counters', async () => {
    const app = await rt.app();
    const [user] = (await createUsers(rt.ctx, 1)) as [TestUser];
    const product = await createTestProduct(rt.ctx, { stock: 5 });
    const res = await app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: bearer(user),
      payload: { items: [{ product_id: product.id, quantity: 1 }] },
    });
    expect(res.statusCode).toBe(201);
    const { samples } = parseExposition((await app.inject('/metrics')).body);
    const names = new Set(samples.map((s) => s.name));
    expect([...names].filter((name) => HTTP_FAMILIES.test(name))).toEqual([]);
    expect(names.has('process_cpu_user_seconds_total')).toBe(false);
    expect(names.has('nodejs_heap_size_used_bytes')).toBe(false);
    expect(
      samples.find(
        (s) => s.name === 'stampede_order_outcomes_total' && s.labels.outcome === 'created',
      )?.value,
    ).toBe(1);
  });
});
