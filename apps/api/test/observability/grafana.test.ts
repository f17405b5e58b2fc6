import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { withoutGrafanaVariables } from './support/promql.ts';
import { readRepoFile, readRepoYaml, repoPath } from './support/repo.ts';

/**
 * Grafana's provisioning, checked offline: the data source, the dashboard provider, and the two
 * dashboards (the panels the issue asks for, laid out without overlap, every query valid PromQL
 * against the provisioned data source). That each query names a real metric is checked against
 * the running app in dashboards-use-real-metrics.test.ts.
 */

const PROVISIONING = 'observability/grafana/provisioning';
const DASHBOARD_DIR = `${PROVISIONING}/dashboards/json`;
/** Where docker-compose.yml mounts the provisioning directory in the Grafana container. */
const MOUNTED_AT = '/etc/grafana/provisioning';

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const dashboards = Object.fromEntries(
  readdirSync(repoPath(DASHBOARD_DIR))
    .filter((name) => name.endsWith('.json'))
    .map((name) => [name, JSON.parse(readRepoFile(`${DASHBOARD_DIR}/${name}`)) as Dashboard]),
);
const api = dashboards['stampede-api.json']!;
const sale = dashboards['stampede-flash-sale.json']!;
const panelsOf = (dashboard: Dashboard) => dashboard.panels.filter((p) => p.type !== 'row');
const exprsOf = (panel: Panel) => (panel.targets ?? []).map((t) => t.expr).join('\n');

describe('Grafana provisioning', () => {
  const datasources = readRepoYaml<{
    apiVersion: number;
    datasources: { name: string; uid: string; type: string; url: string; isDefault?: boolean }[];
  }>(`${PROVISIONING}/datasources/prometheus.yml`);

  it('provides Prometheus (the compose service, port 9090) as the default data source', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasources.datasources[0]).toMatchObject({
      type: 'prometheus',
      uid: 'prometheus',
      url: 'http://prometheus:9090',
      isDefault: true,
    });
  });

  it('loads the dashboards from the directory they are in once mounted', () => {
    const provider = readRepoYaml<{
      apiVersion: number;
      providers: { type: string; folder: string; options: { path: string } }[];
    }>(`${PROVISIONING}/dashboards/stampede.yml`);
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]!.type).toBe('file');
    expect(provider.providers[0]!.options.path).toBe(
      `${MOUNTED_AT}/${DASHBOARD_DIR.slice(PROVISIONING.length + 1)}`,
    );
    expect(Object.keys(dashboards).sort()).toEqual([
      'stampede-api.json',
      'stampede-flash-sale.json',
    ]);
  });

  it.each(Object.entries(dashboards))(
    '%s: unique ids, every panel queries the provisioned data source, no overlap',
    (_name, dashboard) => {
      const uids = Object.values(dashboards).map((d) => d.uid);
      expect(new Set(uids).size).toBe(uids.length);
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const cells = new Set<string>();
      for (const panel of dashboard.panels) {
        const { x, y, w, h } = panel.gridPos;
        expect(x + w, panel.title).toBeLessThanOrEqual(24);
        for (let dx = 0; dx < w; dx += 1) {
          for (let dy = 0; dy < h; dy += 1) {
            const cell = `${x + dx},${y + dy}`;
            expect(cells.has(cell), `${panel.title} overlaps at ${cell}`).toBe(false);
            cells.add(cell);
          }
        }
        if (panel.type === 'row') continue;
        expect(panel.description, `${panel.title} says what it shows`).toBeTruthy();
        expect(panel.datasource?.uid).toBe(datasources.datasources[0]!.uid);
        expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
        const refIds = panel.targets!.map((t) => t.refId);
        expect(new Set(refIds).size).toBe(refIds.length);
        for (const target of panel.targets!) {
          expect(target.expr.trim(), panel.title).not.toBe('');
          expect(target.datasource?.uid ?? 'prometheus').toBe('prometheus');
        }
      }
    },
  );

  it('the JSON files are what observability/grafana/dashboards.mjs builds', () => {
    const result = spawnSync(
      process.execPath,
      [repoPath('observability/grafana/dashboards.mjs'), '--check'],
      { encoding: 'utf8' },
    );
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('the API dashboard has at least 14 panels covering what an operator watches', () => {
    const panels = panelsOf(api);
    expect(panels.length).toBeGreaterThanOrEqual(14);
    const find = (title: RegExp, metric: RegExp) =>
      panels.filter((p) => title.test(p.title) && metric.test(exprsOf(p)));
    const wanted: [string, RegExp, RegExp][] = [
      ['request rate', /request rate/i, /rate\(http_requests_total/],
      ['error rate', /error rate/i, /status_code=~"5\.\."/],
      ['p50 by route', /p50/i, /histogram_quantile\(0\.5, sum by \(le, route\)/],
      ['p95 by route', /p95/i, /histogram_quantile\(0\.95, sum by \(le, route\)/],
      ['p99 by route', /p99/i, /histogram_quantile\(0\.99, sum by \(le, route\)/],
      ['orders created', /orders created/i, /outcome="created"/],
      ['rejections by reason', /rejections/i, /sum by \(outcome\)/],
      ['409 rate', /409/, /status_code="409"/],
      ['429 rate', /429/, /status_code="429"/],
      ['stock conflicts', /stock conflicts/i, /outcome="stock_conflict"/],
      ['database retries', /database retries/i, /stampede_db_retries_total/],
      ['gate latency', /gate latency/i, /stampede_gate_latency_seconds_bucket/],
      ['sync drift', /drift/i, /stampede_stock_sync_drift_units_total/],
      ['expiry lateness', /expiry lateness/i, /stampede_order_expiry_lateness_seconds_bucket/],
      ['event-loop lag', /event-loop lag/i, /nodejs_eventloop_lag/],
      ['heap', /heap/i, /nodejs_heap_size_used_bytes/],
    ];
    for (const [what, title, metric] of wanted) {
      expect(find(title, metric).length, what).toBeGreaterThan(0);
    }
  });

  it('the flash-sale dashboard shows sold vs remaining, attempts per second and the outcome mix', () => {
    const panels = panelsOf(sale);
    const soldVsRemaining = panels.find((p) => /sold vs remaining/i.test(p.title));
    expect(exprsOf(soldVsRemaining!)).toMatch(/sum\(stampede_units_ordered_total\)/);
    // Every process reports the same shared stock: summing would multiply it.
    expect(exprsOf(soldVsRemaining!)).toMatch(/max\(stampede_live_sale_units_available\)/);
    const attempts = panels.find((p) => /attempts per second/i.test(p.title));
    expect(exprsOf(attempts!)).toMatch(/sum\(rate\(stampede_order_outcomes_total\[/);
    const mix = panels.filter((p) => /outcome mix/i.test(p.title));
    expect(mix.length).toBeGreaterThan(0);
    for (const panel of mix) expect(exprsOf(panel)).toMatch(/sum by \(outcome\)/);
  });

  it('every dashboard query is valid PromQL (promtool)', () => {
    const rules = Object.entries(dashboards).flatMap(([name, dashboard]) =>
      panelsOf(dashboard).flatMap((panel) =>
        (panel.targets ?? []).map((target, i) => ({
          record: `dashboard:${name.replace(/\W/g, '_')}:${panel.id}_${i}`,
          expr: withoutGrafanaVariables(target.expr),
        })),
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), 'stampede-dashboards-'));
    try {
      writeFileSync(
        join(dir, 'queries.yml'),
        stringify({ groups: [{ name: 'dashboards', rules }] }),
      );
      const result = spawnSync('promtool', ['check', 'rules', 'queries.yml'], {
        cwd: dir,
        encoding: 'utf8',
      });
      if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
        throw new Error(
          'promtool is not installed: apt-get install prometheus (it ships promtool)',
        );
      }
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
