#!/usr/bin/env node
// The Grafana dashboards of Stampede, as code: `node observability/grafana/dashboards.mjs` writes
// provisioning/dashboards/json/*.json (the files Grafana loads); `--check` fails when those files
// differ from what this script builds (apps/api/test/observability runs it). Edit here, not the
// JSON. What each panel means is in its description and in docs/OBSERVABILITY.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';

/** The provisioned Prometheus data source (provisioning/datasources/prometheus.yml). */
const DS = { type: 'prometheus', uid: 'prometheus' };
/** Probes and scrapes: answered by the API, but not customer traffic. */
const OPS = '/metrics|/healthz|/readyz';
const RI = '$__rate_interval';

/**
 * A dashboard from rows of panel specs, laid out left to right on Grafana's 24-column grid; a row
 * with a title gets a row header.
 */
function build({ uid, title, description, tags, rows, links = [] }) {
  let id = 1;
  let y = 0;
  const panels = [];
  for (const row of rows) {
    if (row.title) {
      panels.push({
        type: 'row',
        id: id++,
        title: row.title,
        collapsed: false,
        gridPos: { h: 1, w: 24, x: 0, y },
        panels: [],
      });
      y += 1;
    }
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.w ?? 12;
      const h = p.h ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panel(p, id++, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid,
    title,
    description,
    tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '5s',
    time: { from: 'now-30m', to: 'now' },
    timezone: 'browser',
    timepicker: { refresh_intervals: ['5s', '10s', '30s', '1m', '5m'] },
    templating: { list: [] },
    annotations: { list: [] },
    links,
    panels,
  };
}

/**
 * One Grafana panel from a compact spec: `type` (timeseries, stat, piechart), `unit`, `decimals`,
 * `thresholds` as [value, colour] pairs, `stack`, `w`/`h`, and `targets` as { expr, legend }.
 */
function panel(p, id, gridPos) {
  const targets = p.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    ...(p.type === 'piechart' || (p.type === 'stat' && p.instant)
      ? { instant: true, range: false }
      : { range: true }),
  }));
  const base = {
    id,
    type: p.type ?? 'timeseries',
    title: p.title,
    description: p.description,
    datasource: DS,
    gridPos,
    targets,
  };
  const thresholds = {
    mode: 'absolute',
    steps: [
      { color: 'green', value: null },
      ...(p.thresholds ?? []).map(([value, color]) => ({ color, value })),
    ],
  };
  if (base.type === 'timeseries') {
    return {
      ...base,
      fieldConfig: {
        defaults: {
          unit: p.unit ?? 'short',
          min: 0,
          ...(p.decimals !== undefined ? { decimals: p.decimals } : {}),
          color: { mode: 'palette-classic' },
          thresholds,
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: p.stack ? 60 : 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: p.stack ?? 'none', group: 'A' },
            thresholdsStyle: { mode: p.thresholds ? 'line+area' : 'off' },
          },
        },
        overrides: p.overrides ?? [],
      },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    };
  }
  if (base.type === 'stat') {
    return {
      ...base,
      fieldConfig: {
        defaults: {
          unit: p.unit ?? 'short',
          ...(p.decimals !== undefined ? { decimals: p.decimals } : {}),
          color: { mode: 'thresholds' },
          thresholds,
        },
        overrides: [],
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: p.instant ? 'none' : 'area',
        textMode: 'auto',
        justifyMode: 'auto',
        orientation: 'auto',
      },
    };
  }
  if (base.type === 'piechart') {
    return {
      ...base,
      fieldConfig: {
        defaults: { unit: p.unit ?? 'short', color: { mode: 'palette-classic' } },
        overrides: [],
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        pieType: 'donut',
        displayLabels: ['name', 'percent'],
        legend: {
          displayMode: 'table',
          placement: 'right',
          showLegend: true,
          values: ['value', 'percent'],
        },
        tooltip: { mode: 'single', sort: 'none' },
      },
    };
  }
  throw new Error(base.type);
}

/**
 * The share of `part` in `whole` (two series selectors), over every API process. A healthy shop
 * reads 0, not "No data": no series of `part` (no 5xx yet) counts as 0, and so does no traffic.
 */
const share = (part, whole) =>
  `(sum(rate(${part}[${RI}])) or vector(0)) / (sum(rate(${whole}[${RI}])) > 0) or vector(0)`;

/** A latency quantile per `by` label, from a histogram's buckets. */
const quantiles = (q, selector, by = 'route') => ({
  expr: `histogram_quantile(${q}, sum by (le, ${by}) (rate(${selector}[${RI}])))`,
  legend: `{{${by}}}`,
});

const api = build({
  uid: 'stampede-api',
  title: 'Stampede API',
  description:
    'Traffic, errors, latency and the stock path of the Stampede API (docs/OBSERVABILITY.md).',
  tags: ['stampede'],
  links: [{ title: 'Flash sale', type: 'link', url: '/d/stampede-flash-sale', icon: 'dashboard' }],
  rows: [
    {
      panels: [
        {
          type: 'stat',
          w: 6,
          h: 4,
          title: 'Requests per second',
          unit: 'reqps',
          description:
            'Answers per second over all API routes (probes and scrapes left out), summed over every API process.',
          targets: [
            {
              expr: `sum(rate(http_requests_total{job="stampede-api", route!~"${OPS}"}[${RI}]))`,
              legend: 'requests/s',
            },
          ],
        },
        {
          type: 'stat',
          w: 6,
          h: 4,
          title: '5xx share',
          unit: 'percentunit',
          decimals: 1,
          thresholds: [
            [0.05, 'orange'],
            [0.1, 'red'],
          ],
          description:
            'Share of answers that are server errors (5xx). Refusals such as sold out (409) or rate limited (429) are not errors.',
          targets: [
            {
              expr: share(
                `http_requests_total{job="stampede-api", route!~"${OPS}", status_code=~"5.."}`,
                `http_requests_total{job="stampede-api", route!~"${OPS}"}`,
              ),
              legend: '5xx share',
            },
          ],
        },
        {
          type: 'stat',
          w: 6,
          h: 4,
          title: 'Orders p95 latency',
          unit: 's',
          thresholds: [
            [0.5, 'orange'],
            [2, 'red'],
          ],
          description:
            '95th percentile of the time to answer /api/orders requests. OrdersAPIHighLatency fires above 500 ms.',
          targets: [
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="stampede-api", route=~"/api/orders.*"}[${RI}])))`,
              legend: 'p95',
            },
          ],
        },
        {
          type: 'stat',
          w: 6,
          h: 4,
          title: 'Orders created per second',
          unit: 'short',
          decimals: 1,
          description: 'Orders written to PostgreSQL per second (outcome "created").',
          targets: [
            {
              expr: `sum(rate(stampede_order_outcomes_total{outcome="created"}[${RI}]))`,
              legend: 'orders/s',
            },
          ],
        },
      ],
    },
    {
      title: 'Traffic and errors',
      panels: [
        {
          title: 'Request rate by route',
          unit: 'reqps',
          description:
            'Answers per second by route template. "unmatched" is every URL no route knows (scanners, typos); it is one series whatever the URL.',
          targets: [
            {
              expr: `sum by (route) (rate(http_requests_total{job="stampede-api"}[${RI}]))`,
              legend: '{{route}}',
            },
          ],
        },
        {
          title: 'Error rate (5xx share)',
          unit: 'percentunit',
          thresholds: [
            [0.05, 'orange'],
            [0.1, 'red'],
          ],
          description:
            'Share of 5xx answers: /api/orders (OrdersAPIHighErrorRate above 5%) and all routes (APIHighErrorRate above 10%).',
          targets: [
            {
              expr: share(
                'http_requests_total{job="stampede-api", route=~"/api/orders.*", status_code=~"5.."}',
                'http_requests_total{job="stampede-api", route=~"/api/orders.*"}',
              ),
              legend: '/api/orders',
            },
            {
              expr: share(
                `http_requests_total{job="stampede-api", route!~"${OPS}", status_code=~"5.."}`,
                `http_requests_total{job="stampede-api", route!~"${OPS}"}`,
              ),
              legend: 'all routes',
            },
          ],
        },
        {
          title: '409 answers by route',
          unit: 'reqps',
          description:
            'Conflicts per second: sold out, purchase limit, sale not started or ended, stock conflict, invalid order state. During a sale most of these are "sold out", which is normal.',
          targets: [
            {
              expr: `sum by (route) (rate(http_requests_total{job="stampede-api", status_code="409"}[${RI}]))`,
              legend: '{{route}}',
            },
          ],
        },
        {
          title: '429 answers by route',
          unit: 'reqps',
          description:
            'Requests refused by a rate limit per second: order attempts faster than ORDER_RATE_LIMIT_MS, repeated failed sign-ins.',
          targets: [
            {
              expr: `sum by (route) (rate(http_requests_total{job="stampede-api", status_code="429"}[${RI}]))`,
              legend: '{{route}}',
            },
          ],
        },
      ],
    },
    {
      title: 'In flight (stalls)',
      panels: [
        {
          w: 8,
          title: 'Oldest request waiting',
          unit: 's',
          thresholds: [[5, 'red']],
          description:
            'Age of the oldest request not answered yet, by route, and of the oldest order in the order writer (queued or in a transaction not answered yet). A stall (a locked stock row, a database that stopped answering) shows here while no answer, and so no latency, is recorded yet. OrdersStalled fires above 5 s.',
          targets: [
            {
              expr: `max by (method, route) (http_request_oldest_in_flight_seconds{job="stampede-api", route!~"${OPS}"})`,
              legend: '{{method}} {{route}}',
            },
            {
              expr: 'max(stampede_order_writer_oldest_order_seconds{job="stampede-api"})',
              legend: 'order writer',
            },
          ],
        },
        {
          w: 8,
          title: 'Requests in flight and orders queued',
          unit: 'short',
          description:
            'Requests received and not answered yet, by route; orders admitted by the gate that wait for a database transaction; order-writing transactions running.',
          targets: [
            {
              expr: `sum by (method, route) (http_requests_in_flight{job="stampede-api", route!~"${OPS}"})`,
              legend: '{{method}} {{route}}',
            },
            {
              expr: 'sum(stampede_order_writer_queued_orders{job="stampede-api"})',
              legend: 'orders queued',
            },
            {
              expr: 'sum(stampede_order_writer_transactions_in_flight{job="stampede-api"})',
              legend: 'transactions',
            },
          ],
        },
        {
          w: 8,
          title: 'Clients gone before their answer (499)',
          unit: 'reqps',
          description:
            'Requests whose client hung up (timed out, closed the tab) before the answer, per second, by route. A few are normal; a wave of them on /api/orders is buyers giving up on a stall.',
          targets: [
            {
              expr: `sum by (route) (rate(http_requests_total{job="stampede-api", status_code="499"}[${RI}])) or vector(0)`,
              legend: '{{route}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        {
          w: 8,
          title: 'p50 latency by route',
          unit: 's',
          description: 'Median time to answer, by route template.',
          targets: [
            quantiles(
              0.5,
              `http_request_duration_seconds_bucket{job="stampede-api", route!~"${OPS}"}`,
            ),
          ],
        },
        {
          w: 8,
          title: 'p95 latency by route',
          unit: 's',
          thresholds: [[0.5, 'orange']],
          description:
            '95th percentile by route. For /api/orders, OrdersAPIHighLatency fires above 500 ms.',
          targets: [
            quantiles(
              0.95,
              `http_request_duration_seconds_bucket{job="stampede-api", route!~"${OPS}"}`,
            ),
          ],
        },
        {
          w: 8,
          title: 'p99 latency by route',
          unit: 's',
          thresholds: [[2, 'red']],
          description:
            '99th percentile by route. APIVeryHighLatency fires when the p99 over all routes passes 2 s.',
          targets: [
            quantiles(
              0.99,
              `http_request_duration_seconds_bucket{job="stampede-api", route!~"${OPS}"}`,
            ),
          ],
        },
      ],
    },
    {
      title: 'Orders and stock',
      panels: [
        {
          title: 'Orders created',
          unit: 'short',
          description: 'Orders created and units ordered per second.',
          targets: [
            {
              expr: `sum(rate(stampede_order_outcomes_total{outcome="created"}[${RI}]))`,
              legend: 'orders/s',
            },
            { expr: `sum(rate(stampede_units_ordered_total[${RI}]))`, legend: 'units/s' },
          ],
        },
        {
          title: 'Rejections by reason',
          unit: 'short',
          stack: 'normal',
          description:
            'Order attempts that did not make an order, per second, by outcome: sold_out, purchase_limit, rate_limited, sale_closed, not_found, invalid, idempotency_conflict (refusals, normal in a sale) and stock_conflict, stock_unavailable, error (failures).',
          targets: [
            {
              expr: `sum by (outcome) (rate(stampede_order_outcomes_total{outcome!~"created|replayed"}[${RI}]))`,
              legend: '{{outcome}}',
            },
          ],
        },
        {
          title: 'Stock conflicts',
          unit: 'percentunit',
          thresholds: [[0.2, 'orange']],
          description:
            'Share of order attempts that ended in stock_conflict: the database refused the stock transaction after three retries. HighStockConflictRate fires above 20%. Sold-out answers are not conflicts.',
          targets: [
            {
              expr: share(
                'stampede_order_outcomes_total{outcome="stock_conflict"}',
                'stampede_order_outcomes_total',
              ),
              legend: 'stock_conflict share',
            },
          ],
        },
        {
          title: 'Database retries by cause',
          unit: 'short',
          description:
            'Stock transactions retried per second, by the PostgreSQL error: deadlock (40P01), serialization (40001), lock_timeout (55P03). A few are expected on a hot product; a steady stream means contention.',
          targets: [
            {
              expr: `sum by (cause) (rate(stampede_db_retries_total[${RI}]))`,
              legend: '{{cause}}',
            },
          ],
        },
        {
          title: 'Order commit duration',
          unit: 's',
          description:
            'Time of one order-writing database transaction (p50 and p95). Orders admitted by the gate are committed in batches.',
          targets: [
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(stampede_order_commit_duration_seconds_bucket[${RI}])))`,
              legend: 'p50',
            },
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(stampede_order_commit_duration_seconds_bucket[${RI}])))`,
              legend: 'p95',
            },
          ],
        },
        {
          title: 'Sold out, answered from memory',
          unit: 'short',
          description:
            'Order attempts per second answered sold out by the process itself (the sold-out edge: the gate said so a moment ago), next to those the gate answered sold out. After a sell-out most refusals should move to the first line.',
          targets: [
            {
              expr: `sum(rate(stampede_sold_out_edge_answers_total[${RI}]))`,
              legend: 'from memory',
            },
            {
              expr: `sum(rate(stampede_order_outcomes_total{outcome="sold_out"}[${RI}])) - sum(rate(stampede_sold_out_edge_answers_total[${RI}]))`,
              legend: 'from the gate',
            },
          ],
        },
        {
          title: 'Kept refusals waiting for the database',
          unit: 'short',
          description:
            'Refusals kept as an Idempotency-Key answer that wait in memory to be written to PostgreSQL (they wait while it is away), written per second, and dropped (only past 200,000 waiting).',
          targets: [
            { expr: 'sum(stampede_idempotency_records_pending)', legend: 'waiting' },
            {
              expr: `sum(rate(stampede_idempotency_records_written_total[${RI}]))`,
              legend: 'written/s',
            },
            {
              expr: `sum(increase(stampede_idempotency_records_dropped_total[${RI}]))`,
              legend: 'dropped',
            },
          ],
        },
        {
          title: 'Orders per commit',
          unit: 'short',
          decimals: 1,
          description:
            'Average number of orders written together in one transaction (group commit). Higher under load is the design working.',
          targets: [
            {
              expr: `sum(rate(stampede_order_batch_size_sum[${RI}])) / sum(rate(stampede_order_batch_size_count[${RI}]))`,
              legend: 'orders per commit',
            },
          ],
        },
      ],
    },
    {
      title: 'Stock gate (Redis)',
      panels: [
        {
          title: 'Gate latency p99 by operation',
          unit: 's',
          description:
            '99th percentile of one stock gate operation (one Lua script in Redis): attempt for every order attempt that reserves (admission and reservation in one round trip), sync for every sync, release, give_back and credit after the database step. Compare with "Order commit duration" to tell a slow Redis from a slow database.',
          targets: [quantiles(0.99, 'stampede_gate_latency_seconds_bucket', 'operation')],
        },
        {
          title: 'Gate compensations by reason',
          unit: 'short',
          description:
            'Gate holds given back per second because the database step failed after the gate said yes: database_failed, database_refused, purchase_limit, duplicate.',
          targets: [
            {
              expr: `sum by (reason) (rate(stampede_gate_compensations_total[${RI}]))`,
              legend: '{{reason}}',
            },
          ],
        },
        {
          title: 'Sync drift corrected',
          unit: 'short',
          description:
            'Units of difference between the gate and PostgreSQL that a sync found and corrected, by trigger. Spikes on rebuild (Redis restarted) and admin (stock edited) are expected; steady drift on timer means the gate leaks (StockSyncDriftNotHealing).',
          targets: [
            {
              expr: `sum by (trigger) (increase(stampede_stock_sync_drift_units_total[${RI}]))`,
              legend: '{{trigger}}',
            },
          ],
        },
        {
          title: 'Stock syncs and gate rebuilds',
          unit: 'short',
          description:
            'Syncs of the gate from the database per second, by trigger, and full rebuilds of the gate (Redis restarted, flushed or reconnected) in each interval.',
          targets: [
            {
              expr: `sum by (trigger) (rate(stampede_stock_syncs_total[${RI}]))`,
              legend: 'sync {{trigger}}',
            },
            {
              expr: `sum by (reason) (increase(stampede_gate_rebuilds_total[${RI}]))`,
              legend: 'rebuild {{reason}}',
            },
          ],
        },
        {
          title: 'Units back on sale',
          unit: 'short',
          description:
            'Units restored per second by cause (cancel, expiry), and the orders they came from.',
          targets: [
            {
              expr: `sum by (cause) (rate(stampede_units_restored_total[${RI}]))`,
              legend: 'units {{cause}}',
            },
            {
              expr: `sum by (cause) (rate(stampede_stock_restores_total[${RI}]))`,
              legend: 'orders {{cause}}',
            },
          ],
        },
        {
          title: 'Expiry lateness',
          unit: 's',
          thresholds: [[10, 'orange']],
          description:
            'How long after its payment deadline an unpaid order was expired and its stock returned (p50, p95). The sweeper runs every second; OrderExpiryLate fires when the p95 passes 10 s.',
          targets: [
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(stampede_order_expiry_lateness_seconds_bucket[${RI}])))`,
              legend: 'p50',
            },
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(stampede_order_expiry_lateness_seconds_bucket[${RI}])))`,
              legend: 'p95',
            },
            { expr: `sum(rate(stampede_orders_expired_total[${RI}]))`, legend: 'expired/s' },
          ],
          overrides: [
            {
              matcher: { id: 'byName', options: 'expired/s' },
              properties: [
                { id: 'unit', value: 'short' },
                { id: 'custom.axisPlacement', value: 'right' },
              ],
            },
          ],
        },
      ],
    },
    {
      title: 'Process',
      panels: [
        {
          w: 6,
          title: 'Event-loop lag',
          unit: 's',
          thresholds: [[0.1, 'orange']],
          description:
            'How late the Node.js event loop runs its callbacks (p99 and mean, per process). Above ~100 ms every request waits: the process is CPU-bound.',
          targets: [
            {
              expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds{job="stampede-api"})',
              legend: 'p99 {{instance}}',
            },
            {
              expr: 'max by (instance) (nodejs_eventloop_lag_mean_seconds{job="stampede-api"})',
              legend: 'mean {{instance}}',
            },
          ],
        },
        {
          w: 6,
          title: 'Heap',
          unit: 'bytes',
          description: 'V8 heap used and allocated, per process. A heap that only grows is a leak.',
          targets: [
            {
              expr: 'sum by (instance) (nodejs_heap_size_used_bytes{job="stampede-api"})',
              legend: 'used {{instance}}',
            },
            {
              expr: 'sum by (instance) (nodejs_heap_size_total_bytes{job="stampede-api"})',
              legend: 'total {{instance}}',
            },
          ],
        },
        {
          w: 6,
          title: 'CPU',
          unit: 'percentunit',
          description: 'CPU time per second of wall time, per process (1 = one core busy).',
          targets: [
            {
              expr: `sum by (instance) (rate(process_cpu_seconds_total{job="stampede-api"}[${RI}]))`,
              legend: '{{instance}}',
            },
          ],
        },
        {
          w: 6,
          title: 'Error-rate watcher warnings',
          unit: 'short',
          description:
            'ERROR_RATE_EXCEEDED warnings logged by the in-process watcher (more than 5% of 5xx over the last minute of /api/orders, at least 20 answers).',
          targets: [
            {
              expr: `sum by (endpoint) (increase(stampede_error_rate_alerts_total[${RI}]))`,
              legend: '{{endpoint}}',
            },
          ],
        },
      ],
    },
  ],
});

const sale = build({
  uid: 'stampede-flash-sale',
  title: 'Stampede flash sale',
  description:
    'A sale as it happens: units sold and left, attempts, and how they end (docs/OBSERVABILITY.md).',
  tags: ['stampede'],
  links: [{ title: 'API', type: 'link', url: '/d/stampede-api', icon: 'dashboard' }],
  rows: [
    {
      panels: [
        {
          type: 'stat',
          w: 6,
          h: 5,
          title: 'Units left on sale',
          unit: 'short',
          thresholds: [],
          description:
            'Units still on sale, summed over the sales running now. Every API process reports the same shared stock, so the panel takes the max, not the sum.',
          targets: [{ expr: 'max(stampede_live_sale_units_available)', legend: 'units left' }],
        },
        {
          type: 'stat',
          w: 6,
          h: 5,
          instant: true,
          title: 'Units ordered in this time range',
          unit: 'short',
          description:
            'Units in orders created during the dashboard time range, over every API process.',
          targets: [
            {
              expr: 'sum(increase(stampede_units_ordered_total[$__range]))',
              legend: 'units ordered',
            },
          ],
        },
        {
          type: 'stat',
          w: 6,
          h: 5,
          title: 'Order attempts per second',
          unit: 'short',
          decimals: 0,
          description:
            'Every POST /api/orders that reached the order service, whatever its outcome.',
          targets: [
            { expr: `sum(rate(stampede_order_outcomes_total[${RI}]))`, legend: 'attempts/s' },
          ],
        },
        {
          type: 'stat',
          w: 6,
          h: 5,
          title: 'Orders 5xx share',
          unit: 'percentunit',
          decimals: 1,
          thresholds: [[0.05, 'red']],
          description:
            'Server errors among /api/orders answers. A sell-out does not move this; a broken database or Redis does.',
          targets: [
            {
              expr: share(
                'http_requests_total{job="stampede-api", route=~"/api/orders.*", status_code=~"5.."}',
                'http_requests_total{job="stampede-api", route=~"/api/orders.*"}',
              ),
              legend: '5xx share',
            },
          ],
        },
      ],
    },
    {
      title: 'Sale',
      panels: [
        {
          w: 12,
          h: 9,
          title: 'Sold vs remaining',
          unit: 'short',
          description:
            'Units ordered (cumulative since each API process started, summed) against units left on sale. The lines cross the way the sale goes; "back on sale" counts units returned by cancels and expiries.',
          targets: [
            { expr: 'sum(stampede_units_ordered_total)', legend: 'units ordered' },
            { expr: 'max(stampede_live_sale_units_available)', legend: 'units left' },
            { expr: 'sum(stampede_units_restored_total)', legend: 'back on sale' },
          ],
        },
        {
          w: 12,
          h: 9,
          title: 'Attempts per second',
          unit: 'short',
          description: 'Order attempts per second, and how many became orders.',
          targets: [
            { expr: `sum(rate(stampede_order_outcomes_total[${RI}]))`, legend: 'attempts' },
            {
              expr: `sum(rate(stampede_order_outcomes_total{outcome="created"}[${RI}]))`,
              legend: 'created',
            },
            { expr: `sum(rate(stampede_units_ordered_total[${RI}]))`, legend: 'units ordered' },
          ],
        },
        {
          type: 'piechart',
          w: 8,
          h: 9,
          title: 'Outcome mix (time range)',
          description:
            'How the order attempts of the time range ended: created, sold_out, purchase_limit, rate_limited, sale_closed, stock_conflict, ...',
          targets: [
            {
              expr: 'sum by (outcome) (increase(stampede_order_outcomes_total[$__range]))',
              legend: '{{outcome}}',
            },
          ],
        },
        {
          w: 16,
          h: 9,
          title: 'Outcome mix over time',
          unit: 'short',
          stack: 'normal',
          description:
            'Order attempts per second by outcome, stacked. After the sell-out, sold_out takes over: that is the sale ending, not an incident.',
          targets: [
            {
              expr: `sum by (outcome) (rate(stampede_order_outcomes_total[${RI}]))`,
              legend: '{{outcome}}',
            },
          ],
        },
        {
          w: 12,
          title: 'POST /api/orders latency',
          unit: 's',
          thresholds: [[0.5, 'orange']],
          description: 'Time to answer an order attempt (p50, p95, p99), whatever the answer.',
          targets: [
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{job="stampede-api", method="POST", route="/api/orders"}[${RI}])))`,
              legend: 'p50',
            },
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="stampede-api", method="POST", route="/api/orders"}[${RI}])))`,
              legend: 'p95',
            },
            {
              expr: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="stampede-api", method="POST", route="/api/orders"}[${RI}])))`,
              legend: 'p99',
            },
          ],
        },
        {
          w: 12,
          title: 'Oldest order waiting',
          unit: 's',
          thresholds: [[5, 'red']],
          description:
            'How long the oldest order attempt not answered yet has waited (in the API, and in the order writer: queued or in a transaction). Milliseconds in a healthy sale; OrdersStalled fires above 5 s.',
          targets: [
            {
              expr: 'max(http_request_oldest_in_flight_seconds{job="stampede-api", method="POST", route="/api/orders"})',
              legend: 'oldest request',
            },
            {
              expr: 'max(stampede_order_writer_oldest_order_seconds{job="stampede-api"})',
              legend: 'oldest order in the writer',
            },
          ],
        },
        {
          w: 12,
          title: 'Units back on sale by cause',
          unit: 'short',
          description:
            'Units returned per second by cancels and by the expiry of unpaid orders; each one can be bought again.',
          targets: [
            {
              expr: `sum by (cause) (rate(stampede_units_restored_total[${RI}]))`,
              legend: '{{cause}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Waiting room',
      panels: [
        {
          w: 8,
          title: 'Waiting room: waiting and admitted',
          unit: 'short',
          description:
            'Buyers waiting in the waiting rooms, live passes not yet spent on an order, and buyers waiting in queues with room for more passes (QueueAdmissionStalled), over every queue. Every API process sees the same shared queues, so the panel takes the max, not the sum.',
          targets: [
            { expr: 'max(stampede_queue_waiting)', legend: 'waiting' },
            { expr: 'max(stampede_queue_active_passes)', legend: 'active passes' },
            { expr: 'max(stampede_queue_waiting_with_room)', legend: 'waiting with room' },
          ],
        },
        {
          w: 8,
          title: 'Waiting room: passes per minute',
          unit: 'short',
          description:
            'Passes handed out per minute (the measured admission rate) and passes that ran out before their buyer ordered. Each is counted once, by the process whose admission step saw it: the panel sums them.',
          targets: [
            {
              expr: `sum(rate(stampede_queue_passes_issued_total[${RI}])) * 60`,
              legend: 'issued',
            },
            {
              expr: `sum(rate(stampede_queue_passes_expired_total[${RI}])) * 60`,
              legend: 'expired unused',
            },
          ],
        },
        {
          w: 8,
          title: 'Waiting room: joins and refused orders',
          unit: 'short',
          description:
            'Joins per second by outcome (joined, already_joined, closed, challenge_failed), and orders refused for want of a pass (403 queue_pass_required).',
          targets: [
            {
              expr: `sum by (outcome) (rate(stampede_queue_joins_total[${RI}]))`,
              legend: '{{outcome}}',
            },
            {
              expr: `sum(rate(stampede_order_outcomes_total{outcome="no_pass"}[${RI}]))`,
              legend: 'orders without a pass',
            },
          ],
        },
      ],
    },
  ],
});

const OUT = fileURLToPath(new URL('./provisioning/dashboards/json/', import.meta.url));
const dashboards = { 'stampede-api.json': api, 'stampede-flash-sale.json': sale };

let stale = 0;
for (const [file, dashboard] of Object.entries(dashboards)) {
  const path = `${OUT}${file}`;
  if (process.argv.includes('--check')) {
    let current;
    try {
      current = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      current = undefined;
    }
    if (JSON.stringify(current) !== JSON.stringify(dashboard)) {
      console.error(
        `${file} is not what dashboards.mjs builds: run node observability/grafana/dashboards.mjs`,
      );
      stale += 1;
    }
    continue;
  }
  const options = { ...(await prettier.resolveConfig(path)), filepath: path };
  writeFileSync(path, await prettier.format(JSON.stringify(dashboard), options));
  console.log(`wrote ${file}: ${dashboard.panels.filter((p) => p.type !== 'row').length} panels`);
}
process.exit(stale === 0 ? 0 : 1);
