import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.ts';
import { readRepoFile, readRepoYaml, repoPath } from './support/repo.ts';

/**
 * docs/OBSERVABILITY.md keeps up with what it documents: a section for every alert (the rules'
 * runbook links point at it), every dashboard panel explained, every business metric listed.
 */

const doc = readRepoFile('docs/OBSERVABILITY.md');

describe('docs/OBSERVABILITY.md', () => {
  it('has a section for every alert, where its runbook link points', () => {
    const rules = readRepoYaml<{
      groups: { rules: { alert?: string; annotations?: { runbook?: string } }[] }[];
    }>('observability/prometheus/alert_rules.yml');
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThan(4);
    const headings = [...doc.matchAll(/^### (\S+)$/gm)].map((m) => m[1]!.toLowerCase());
    for (const alert of alerts) {
      const anchor = alert.annotations!.runbook!.split('#')[1];
      expect(headings, alert.alert).toContain(anchor);
    }
  });

  it('explains every dashboard panel', () => {
    const dir = 'observability/grafana/provisioning/dashboards/json';
    for (const file of readdirSync(repoPath(dir))) {
      const dashboard = JSON.parse(readRepoFile(`${dir}/${file}`)) as {
        panels: { type: string; title: string }[];
      };
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        expect(doc, `${file}: ${panel.title}`).toContain(`**${panel.title}**`);
      }
    }
  });

  it('lists every metric the app defines', async () => {
    const metrics = createMetrics({ enabled: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });
});
