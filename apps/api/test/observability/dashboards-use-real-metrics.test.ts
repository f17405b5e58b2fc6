import { readdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireDueOrders } from '../../src/modules/orders/services.ts';
import { stockKeys } from '../../src/modules/stock/keys.ts';
import { syncGates } from '../../src/modules/stock/services.ts';
import { bearer, createTestProduct, createUsers, type TestUser } from '../support/fixtures.ts';
import { familyOf, parseExposition, type Exposition, type Sample } from './support/exposition.ts';
import { installOrderWriteFault } from './support/faults.ts';
import { holdStockRow, orderGivingUp } from './support/stall.ts';
import { startObservedRuntime, type ObservedRuntime } from './support/observed-runtime.ts';
import { selectorsOf, type Selector } from './support/promql.ts';
import { readRepoFile, readRepoYaml, repoPath } from './support/repo.ts';

/**
 * Every metric that a Grafana panel or a Prometheus rule names is exported by the running app,
 * with the labels and label values the query filters on. The app is driven first through the
 * real runtime (an order, a 429, a sold-out, a cancel, an expiry, a stock conflict, 5xx answers, a buyer giving up on a stall,
 * drift found by a timed sync, a gate rebuild) so that the series exist, as they would in a sale.
 */

/** Series Prometheus makes itself, not the app: `up` is written by every scrape. */
const MADE_BY_PROMETHEUS = new Set(['up']);
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = new Set(['job', 'instance']);

interface Query {
  readonly where: string;
  readonly expr: string;
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

function dashboardQueries(): Query[] {
  const dir = 'observability/grafana/provisioning/dashboards/json';
  const queries: Query[] = [];
  for (const file of readdirSync(repoPath(dir)).filter((name) => name.endsWith('.json'))) {
    const dashboard = JSON.parse(readRepoFile(`${dir}/${file}`)) as { panels: Panel[] };
    const visit = (panel: Panel) => {
      for (const target of panel.targets ?? []) {
        queries.push({ where: `${file}: ${panel.title}`, expr: target.expr });
      }
      for (const inner of panel.panels ?? []) visit(inner);
    };
    dashboard.panels.forEach(visit);
  }
  return queries;
}

function ruleQueries(): Query[] {
  const file = readRepoYaml<{
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  }>('observability/prometheus/alert_rules.yml');
  return file.groups.flatMap((group) =>
    group.rules.map((rule) => ({
      where: `alert_rules.yml: ${rule.alert ?? rule.record}`,
      expr: rule.expr,
    })),
  );
}

describe('the PromQL reader used below', () => {
  it('finds metric names and matchers, not functions, keywords, grouping labels or durations', () => {
    expect(
      selectorsOf(
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route=~"/api/orders.*", x!="y"}[$__rate_interval]))) ' +
          '/ on() group_left sum without (instance) (b_total offset 5m) > bool 0.5 and max(c) or vector(1)',
      ),
    ).toEqual([
      {
        metric: 'a_bucket',
        matchers: [
          { label: 'route', op: '=~', value: '/api/orders.*' },
          { label: 'x', op: '!=', value: 'y' },
        ],
      },
      { metric: 'b_total', matchers: [] },
      { metric: 'c', matchers: [] },
    ]);
  });
});

describe('dashboards and alert rules name only metrics the app exports', () => {
  let rt: ObservedRuntime;
  let app: FastifyInstance;
  let exposition: Exposition;
  const queries = [...dashboardQueries(), ...ruleQueries()];

  beforeAll(async () => {
    rt = await startObservedRuntime({ env: { ORDER_RATE_LIMIT_MS: '60000' } });
    const { ctx } = rt;
    const fault = await installOrderWriteFault(ctx.database.pool);
    app = await rt.newApp();
    const users = await createUsers(ctx, 8);
    const [admin] = await createUsers(ctx, 1, 'admin');
    const product = await createTestProduct(ctx, { stock: 100 });
    const soldOut = await createTestProduct(ctx, { stock: 0 });
    const order = async (user: TestUser, productId = product.id) =>
      app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: bearer(user),
        payload: { items: [{ product_id: productId, quantity: 1 }] },
      });
    const expectStatus = async (answer: Promise<{ statusCode: number }>, status: number) =>
      expect((await answer).statusCode).toBe(status);

    // An order, then the same buyer again at once (429), and a sold-out product (409).
    const created = await order(users[0]!);
    expect(created.statusCode).toBe(201);
    await expectStatus(order(users[0]!), 429);
    await expectStatus(order(users[1]!, soldOut.id), 409);

    // A cancel: its units go back on sale.
    await expectStatus(
      app.inject({
        method: 'POST',
        url: `/api/orders/${created.json().id}/cancel`,
        headers: bearer(users[0]!),
      }),
      200,
    );

    // An expiry, three seconds late.
    const unpaid = await order(users[2]!);
    expect(unpaid.statusCode).toBe(201);
    await ctx.db.execute(
      sql`UPDATE orders SET expires_at = now() - interval '3 seconds' WHERE id = ${unpaid.json().id}`,
    );
    expect(await expireDueOrders({ ctx })).toBe(1);

    // A stall: a buyer gives up on an order held behind a locked stock row (499).
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const lock = await holdStockRow(rt.databaseUrl, product.id);
    expect(
      await orderGivingUp({
        baseUrl,
        token: users[7]!.token,
        productId: product.id,
        timeoutMs: 300,
      }),
    ).toBe('gave up');
    await lock.release();
    await ctx.writer.drain();

    // The database keeps failing with serialization errors: retried, then 409 stock_conflict.
    await fault.set('serialization');
    await expectStatus(order(users[3]!), 409);

    // 5xx answers among 20 other order answers: the watcher's warning is counted too.
    for (let i = 0; i < 20; i += 1) {
      await expectStatus(app.inject({ url: '/api/orders', headers: bearer(users[4]!) }), 200);
    }
    await fault.set('internal');
    await expectStatus(order(users[5]!), 500);
    await expectStatus(order(users[6]!), 500);
    await fault.set('none');

    // The gate drifts from the database; the timed sync and an admin sync correct it.
    await rt.redis().set(stockKeys(rt.prefix).stock(product.id), 999);
    await syncGates({ ctx, input: { trigger: 'timer', productIds: [product.id] } });
    await expectStatus(
      app.inject({
        method: 'POST',
        url: '/api/admin/stock/sync',
        headers: bearer(admin!),
        payload: {},
      }),
      200,
    );

    // Redis loses the gate's data: the keeper notices and rebuilds it from the database.
    await rt.redis().del(stockKeys(rt.prefix).epoch());
    const rebuilt = async () =>
      parseExposition((await app.inject('/metrics')).body).samples.some(
        (s) => s.name === 'stampede_gate_rebuilds_total' && s.labels.reason === 'data_lost',
      );
    for (const deadline = Date.now() + 10_000; !(await rebuilt());) {
      if (Date.now() > deadline) throw new Error('the gate was not rebuilt after losing its data');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const scrape = await app.inject('/metrics');
    expect(scrape.statusCode).toBe(200);
    exposition = parseExposition(scrape.body);
  });
  afterAll(() => rt?.close());

  function samplesOf(metric: string): Sample[] {
    return exposition.samples.filter((sample) => sample.name === metric);
  }

  function check(selector: Selector, where: string): void {
    const context = `${where}: ${selector.metric}`;
    const samples = samplesOf(selector.metric);
    expect(samples.length, `${context} has no series in /metrics`).toBeGreaterThan(0);
    for (const { label, op, value } of selector.matchers) {
      if (TARGET_LABELS.has(label)) continue;
      const values = new Set(samples.flatMap((s) => (label in s.labels ? [s.labels[label]!] : [])));
      expect(values.size, `${context} has no label "${label}"`).toBeGreaterThan(0);
      if (op === '=') {
        expect([...values], `${context}{${label}="${value}"}`).toContain(value);
      } else if (op === '=~') {
        const pattern = new RegExp(`^(?:${value})$`);
        expect(
          [...values].some((v) => pattern.test(v)),
          `${context}{${label}=~"${value}"} matches none of ${[...values].join(', ')}`,
        ).toBe(true);
      }
    }
  }

  it('reads queries from both dashboards and every rule', () => {
    expect(queries.filter((q) => q.where.includes('stampede-api.json')).length).toBeGreaterThan(14);
    expect(
      queries.filter((q) => q.where.includes('stampede-flash-sale.json')).length,
    ).toBeGreaterThan(3);
    expect(queries.filter((q) => q.where.startsWith('alert_rules.yml')).length).toBeGreaterThan(4);
  });

  it('every metric, label and label value a query filters on exists in /metrics', () => {
    const seen = new Set<string>();
    for (const query of queries) {
      for (const selector of selectorsOf(query.expr)) {
        seen.add(selector.metric);
        if (MADE_BY_PROMETHEUS.has(selector.metric)) continue;
        check(selector, query.where);
      }
    }
    // The reader found the metrics of the stock path, not an empty list.
    expect([...seen]).toEqual(
      expect.arrayContaining([
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'stampede_order_outcomes_total',
        'stampede_db_retries_total',
        'stampede_gate_latency_seconds_bucket',
        'stampede_stock_sync_drift_units_total',
        'stampede_order_expiry_lateness_seconds_bucket',
        'stampede_live_sale_units_available',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_heap_size_used_bytes',
      ]),
    );
  });

  it('every business metric of the app is on a dashboard', () => {
    const onDashboards = new Set(
      dashboardQueries().flatMap((query) =>
        selectorsOf(query.expr).map((s) => familyOf(s.metric, exposition.types)),
      ),
    );
    const business = [...exposition.types.keys()].filter((name) => name.startsWith('stampede_'));
    expect(business.length).toBeGreaterThan(15);
    expect(business.filter((name) => !onDashboards.has(name))).toEqual([]);
  });
});
