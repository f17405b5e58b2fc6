import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProduct, createUsers, type TestUser } from '../support/fixtures.ts';
import { startRedisServer } from '../support/services.ts';
import { startObservedRuntime, type ObservedRuntime } from './support/observed-runtime.ts';
import { startPrometheus, type PrometheusServer } from './support/prometheus-server.ts';
import { readRepoFile, repoPath } from './support/repo.ts';
import { holdStockRow, orderGivingUp } from './support/stall.ts';

/**
 * A real Prometheus (Debian's `prometheus`) scraping a running API over HTTP every second, with
 * the repository's alert rules on a clock ten times faster (every `for:` and range window
 * divided by ten, thresholds unchanged). Buyers order over real HTTP. A sell-out fires
 * nothing and every dashboard query has data; then a held stock row fires OrdersStalled, a
 * Redis that dies fires OrdersAPIHighErrorRate, and a stopped API fires StampedeAPIDown.
 */
const FACTOR = 10;

describe('alerts on a live API, evaluated by a real Prometheus', () => {
  let redis: { port: number; child: ChildProcess };
  let rt: ObservedRuntime;
  let app: FastifyInstance;
  let baseUrl: string;
  let prometheus: PrometheusServer;
  let buyers: TestUser[];
  let next = 0;

  beforeAll(async () => {
    // A Redis of this test's own, so that killing it harms no one else.
    redis = await startRedisServer();
    rt = await startObservedRuntime({
      env: { REDIS_URL: `redis://127.0.0.1:${redis.port}`, ORDER_RATE_LIMIT_MS: '1000' },
    });
    app = await rt.newApp();
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    buyers = await createUsers(rt.ctx, 120);
    prometheus = await startPrometheus({ target: new URL(baseUrl).host, factor: FACTOR });
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
    await rt?.close();
    redis?.child.kill('SIGKILL');
  });

  const buyer = () => buyers[(next += 1) % buyers.length]!;

  /** Buyers ordering at `perSecond` for `ms`, each giving up after `timeoutMs`. */
  async function drive(options: {
    productId: number;
    ms: number;
    perSecond: number;
    timeoutMs?: number;
    until?: () => Promise<boolean>;
  }): Promise<(number | 'gave up')[]> {
    const answers: Promise<number | 'gave up'>[] = [];
    const end = Date.now() + options.ms;
    while (Date.now() < end) {
      answers.push(
        orderGivingUp({
          baseUrl,
          token: buyer().token,
          productId: options.productId,
          timeoutMs: options.timeoutMs ?? 10_000,
        }).catch(() => 'gave up' as const),
      );
      await sleep(1000 / options.perSecond);
      if (options.until && answers.length % options.perSecond === 0 && (await options.until())) {
        break;
      }
    }
    return Promise.all(answers);
  }

  const firing = async () =>
    (await prometheus.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);

  async function waitForAlert(name: string, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if ((await firing()).includes(name)) return Date.now() - started;
      await sleep(500);
    }
    throw new Error(`${name} did not fire within ${timeoutMs} ms; firing: ${await firing()}`);
  }

  it('a sell-out pages nobody, and every dashboard query returns data', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 40 });
    // A double click: the same buyer twice at once, one of them rate limited (429).
    const twice = buyer();
    await Promise.all(
      [0, 1].map(() =>
        orderGivingUp({ baseUrl, token: twice.token, productId: product.id, timeoutMs: 5000 }),
      ),
    );
    // Forty units, then the crowd keeps coming for 40 s: a sell-out and its 409s.
    const answers = await drive({ productId: product.id, ms: 40_000, perSecond: 12 });
    expect(answers.filter((a) => a === 201).length).toBeGreaterThanOrEqual(38);
    expect(answers.filter((a) => a === 409).length).toBeGreaterThan(300);
    expect(answers.filter((a) => typeof a !== 'number' || a >= 500)).toEqual([]);
    await sleep(2000);
    expect(await firing()).toEqual([]);

    const dir = 'observability/grafana/provisioning/dashboards/json';
    const empty: string[] = [];
    let queries = 0;
    for (const file of readdirSync(repoPath(dir)).filter((name) => name.endsWith('.json'))) {
      const dashboard = JSON.parse(readRepoFile(`${dir}/${file}`)) as {
        panels: { title: string; targets?: { expr: string }[] }[];
      };
      for (const panel of dashboard.panels) {
        for (const target of panel.targets ?? []) {
          queries += 1;
          const expr = target.expr
            .replaceAll('$__rate_interval', '20s')
            .replaceAll('$__range', '60s');
          if ((await prometheus.query(expr)).length === 0)
            empty.push(`${file} ${panel.title}: ${expr}`);
        }
      }
    }
    expect(queries).toBeGreaterThan(40);
    expect(empty, 'panels with no data on a healthy shop').toEqual([]);
    // A healthy shop's error share is 0, not missing.
    const share = await prometheus.query(
      '(sum(rate(http_requests_total{job="stampede-api", route=~"/api/orders.*", status_code=~"5.."}[20s])) or vector(0)) / (sum(rate(http_requests_total{job="stampede-api", route=~"/api/orders.*"}[20s])) > 0) or vector(0)',
    );
    expect(Number(share[0]!.value[1])).toBe(0);
  }, 120_000);

  it('a stock row held by another session fires OrdersStalled', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 1000 });
    const lock = await holdStockRow(rt.databaseUrl, product.id);
    let firedAfter: number | undefined;
    try {
      const watching = waitForAlert('OrdersStalled', 60_000).then((ms) => (firedAfter = ms));
      const answers = await drive({
        productId: product.id,
        ms: 60_000,
        perSecond: 4,
        timeoutMs: 4000,
        until: async () => firedAfter !== undefined,
      });
      await watching;
      expect(answers.filter((a) => a === 'gave up').length).toBeGreaterThan(10);
    } finally {
      await lock.release();
    }
    // 5 s of waiting plus the scaled `for:` (6 s), plus scrapes and evaluations.
    expect(firedAfter).toBeLessThan(50_000);
    const gone = await prometheus.query(
      'sum(http_requests_total{job="stampede-api", route="/api/orders", status_code="499"})',
    );
    expect(Number(gone[0]!.value[1])).toBeGreaterThan(10);
  }, 120_000);

  it('a Redis that dies mid-sale fires OrdersAPIHighErrorRate', async () => {
    const product = await createTestProduct(rt.ctx, { stock: 1000 });
    redis.child.kill('SIGKILL');
    let firedAfter: number | undefined;
    const watching = waitForAlert('OrdersAPIHighErrorRate', 70_000).then((ms) => (firedAfter = ms));
    const answers = await drive({
      productId: product.id,
      ms: 70_000,
      perSecond: 6,
      until: async () => firedAfter !== undefined,
    });
    await watching;
    // Every order while Redis is away is a 503 with Retry-After, never a 500.
    expect(answers.filter((a) => a === 503).length).toBeGreaterThan(20);
    expect(answers.filter((a) => a === 500)).toEqual([]);
    expect(firedAfter).toBeLessThan(60_000);
  }, 120_000);

  it('a stopped API fires StampedeAPIDown', async () => {
    await app.close();
    const firedAfter = await waitForAlert('StampedeAPIDown', 40_000);
    expect(firedAfter).toBeLessThan(30_000);
  }, 60_000);
});
