import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DB_RETRY_CAUSES,
  GATE_COMPENSATION_REASONS,
  GATE_OPERATIONS,
  GATE_REBUILD_REASONS,
  ORDER_OUTCOMES,
  RESTORE_CAUSES,
  SYNC_TRIGGERS,
} from '../../src/observability/metrics.ts';
import { createTestProduct, createUsers } from '../support/fixtures.ts';
import { placeOrder } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { parseExposition, type Exposition } from './support/exposition.ts';
import { readRepoYaml } from './support/repo.ts';

/**
 * Prometheus sees a counter's first increase only from a sample taken before it: a series that
 * appears at 1 hides its first event. So every series whose labels are known in advance is in
 * `/metrics` at 0 from the start, and the alert rules' unit tests feed only series the app
 * really exports, the way it exports them.
 */

/** Labels that a scrape adds, not the app. */
const TARGET_LABELS = new Set(['job', 'instance']);
/** Written by Prometheus itself. */
const MADE_BY_PROMETHEUS = new Set(['up']);
/** Created by the app at their first answer (labels: method, route template, status). */
const PER_ANSWER = new Set(['http_requests_total', 'http_request_duration_seconds_bucket']);

interface RuleTests {
  tests: { name: string; input_series: { series: string; values: string }[] }[];
}

function parseSeries(text: string): { name: string; labels: Record<string, string> } {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$/.exec(text);
  if (!match) return { name: text, labels: {} };
  const labels: Record<string, string> = {};
  for (const pair of match[2]!.matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
  return { name: match[1]!, labels };
}

const appLabels = (labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).filter(([key]) => !TARGET_LABELS.has(key)));

describe('series known in advance', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let boot: Exposition;

  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    // The first scrape, before any request or event: what Prometheus sees at the start.
    boot = parseExposition((await app.inject('/metrics')).body);
  });
  afterAll(() => rt.close());

  const valueAtBoot = (name: string, labels: Record<string, string>) =>
    boot.samples.find(
      (s) => s.name === name && JSON.stringify(appLabels(s.labels)) === JSON.stringify(labels),
    )?.value;

  it('every outcome, cause, reason, trigger and gate operation is exported at 0 from the start', () => {
    const expected: [string, string, readonly string[]][] = [
      ['stampede_order_outcomes_total', 'outcome', ORDER_OUTCOMES],
      ['stampede_db_retries_total', 'cause', DB_RETRY_CAUSES],
      ['stampede_gate_compensations_total', 'reason', GATE_COMPENSATION_REASONS],
      ['stampede_stock_restores_total', 'cause', RESTORE_CAUSES],
      ['stampede_units_restored_total', 'cause', RESTORE_CAUSES],
      ['stampede_stock_syncs_total', 'trigger', SYNC_TRIGGERS],
      ['stampede_stock_sync_drift_units_total', 'trigger', SYNC_TRIGGERS],
      ['stampede_gate_latency_seconds_count', 'operation', GATE_OPERATIONS],
      ['stampede_error_rate_alerts_total', 'endpoint', ['/api/orders']],
    ];
    for (const [name, label, values] of expected) {
      for (const value of values) {
        expect(valueAtBoot(name, { [label]: value }), `${name}{${label}="${value}"}`).toBe(0);
      }
    }
    // The start-up rebuild happened; the others are there at 0, ready to show their first.
    expect(valueAtBoot('stampede_gate_rebuilds_total', { reason: 'startup' })).toBe(1);
    for (const reason of GATE_REBUILD_REASONS.filter((r) => r !== 'startup')) {
      expect(valueAtBoot('stampede_gate_rebuilds_total', { reason }), reason).toBe(0);
    }
    expect(valueAtBoot('stampede_order_writer_oldest_order_seconds', {})).toBe(0);
    expect(valueAtBoot('stampede_order_writer_queued_orders', {})).toBe(0);
    expect(
      valueAtBoot('http_request_oldest_in_flight_seconds', {
        method: 'POST',
        route: '/api/orders',
      }),
    ).toBe(0);
  });

  it('the alert rules unit tests feed only series the app exports, as it exports them', () => {
    const suite = readRepoYaml<RuleTests>('observability/prometheus/tests/alert_rules.test.yml');
    const checked = new Set<string>();
    for (const test of suite.tests) {
      for (const input of test.input_series) {
        const { name, labels } = parseSeries(input.series);
        const where = `"${test.name}": ${input.series}`;
        if (MADE_BY_PROMETHEUS.has(name)) continue;
        checked.add(name);
        const own = appLabels(labels);
        const first = input.values.trim().split(/\s+/)[0]!;
        if (PER_ANSWER.has(name)) {
          // Born at the first answer of their route and status: absent before it.
          expect(first, `${where} starts before its first answer`).toMatch(/^_/);
          const { le, ...answer } = own;
          expect(Object.keys(answer).sort(), where).toEqual(['method', 'route', 'status_code']);
          expect(
            app.hasRoute({ method: answer.method as 'GET', url: answer.route! }),
            `${where}: no such route`,
          ).toBe(true);
          if (le !== undefined) {
            expect(
              boot.samples.some(
                (s) =>
                  s.name === 'stampede_order_commit_duration_seconds_bucket' && s.labels.le === le,
              ),
              `${where}: le="${le}" is not one of the latency buckets`,
            ).toBe(true);
          }
          continue;
        }
        if (name === 'http_request_oldest_in_flight_seconds' && own.route !== '/api/orders') {
          // Other routes appear while one of their requests is in flight.
          expect(app.hasRoute({ method: own.method as 'GET', url: own.route! }), where).toBe(true);
          continue;
        }
        // Everything else is in the first scrape; a series fed from 0 must be there at 0.
        const atBoot = valueAtBoot(name, own);
        expect(atBoot, `${where} is not exported by the app at start`).toBeDefined();
        if (first !== '_' && !first.startsWith('_')) {
          const startsAt = Number(/^-?[\d.]+/.exec(first)?.[0]);
          if (name.endsWith('_total') || name.endsWith('_bucket')) {
            expect(startsAt, `${where}: the app starts this counter at ${atBoot}`).toBe(atBoot);
          }
        }
      }
    }
    expect([...checked]).toEqual(
      expect.arrayContaining([
        'http_requests_total',
        'stampede_gate_rebuilds_total',
        'stampede_order_outcomes_total',
        'stampede_order_writer_oldest_order_seconds',
      ]),
    );
  });

  it("the order path's gate call is timed (attempt), so Redis latency is seen on every order", async () => {
    const [user] = await createUsers(rt.ctx, 1);
    const product = await createTestProduct(rt.ctx, { stock: 5 });
    const count = async () =>
      parseExposition((await app.inject('/metrics')).body).samples.find(
        (s) => s.name === 'stampede_gate_latency_seconds_count' && s.labels.operation === 'attempt',
      )?.value ?? 0;
    const before = await count();
    expect((await placeOrder(app, user!, [[product.id, 1]])).statusCode).toBe(201);
    expect((await placeOrder(app, user!, [[product.id, 9]])).statusCode).toBe(409);
    expect(await count()).toBe(before + 2);
  });
});
