import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readRepoYaml, repoPath } from './support/repo.ts';

/**
 * The Prometheus configuration and alert rules, checked by Prometheus' own tool: the config and
 * the rules load, the unit tests pass, every alert has a case where it fires and one where it
 * must not, and those cases really bite (an alert rewritten to always or never fire fails them).
 */

const DIR = repoPath('observability/prometheus');
const TEST_FILES = readdirSync(join(DIR, 'tests'))
  .filter((name) => name.endsWith('.test.yml'))
  .map((name) => `tests/${name}`);
const MISSING = 'promtool is not installed: apt-get install prometheus (it ships promtool)';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface AlertCase {
  alertname: string;
  exp_alerts?: unknown[] | null;
}
interface RuleTestFile {
  tests: { name?: string; alert_rule_test?: AlertCase[] }[];
}

function promtool(args: string[], cwd = DIR): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(MISSING);
  }
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function promtoolAsync(args: string[], cwd: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { cwd, stdio: 'ignore' });
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(MISSING) : error),
    );
    child.on('close', (status) => resolve(status));
  });
}

const rules = readRepoYaml<RuleFile>('observability/prometheus/alert_rules.yml');
const alerts = rules.groups.flatMap((group) => group.rules).filter((rule) => rule.alert);
const suites = TEST_FILES.map((file) => ({
  file,
  suite: readRepoYaml<RuleTestFile>(`observability/prometheus/${file}`),
}));

describe('Prometheus configuration', () => {
  it('passes promtool check config (scrape config and rule files load)', () => {
    const { status, output } = promtool(['check', 'config', 'prometheus.yml']);
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  it('scrapes the compose service `api` on its metrics port at /metrics, the job the rules name', () => {
    const config = readRepoYaml<{
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        static_configs: { targets: string[] }[];
      }[];
    }>('observability/prometheus/prometheus.yml');
    const job = config.scrape_configs.find((c) => c.job_name === 'stampede-api');
    expect(job).toBeDefined();
    expect(job!.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job!.static_configs.flatMap((c) => c.targets)).toContain('api:9464');
    const jobsNamed = alerts.flatMap((rule) =>
      [...rule.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]),
    );
    expect(jobsNamed.length).toBeGreaterThan(0);
    for (const name of jobsNamed) {
      expect(config.scrape_configs.map((c) => c.job_name)).toContain(name);
    }
  });
});

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', 'alert_rules.yml']);
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  it('have the alerts of the issue, with their severities, summaries and runbooks', () => {
    const severity = Object.fromEntries(alerts.map((rule) => [rule.alert, rule.labels?.severity]));
    expect(severity).toMatchObject({
      OrdersAPIHighErrorRate: 'critical',
      APIHighErrorRate: 'warning',
      OrdersAPIHighLatency: 'warning',
      APIVeryHighLatency: 'critical',
      HighStockConflictRate: 'warning',
    });
    for (const rule of alerts) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook, rule.alert).toBe(
        `docs/OBSERVABILITY.md#${rule.alert!.toLowerCase()}`,
      );
    }
  });

  it('pass their unit tests (promtool test rules)', () => {
    expect(TEST_FILES.length).toBeGreaterThan(0);
    const { status, output } = promtool(['test', 'rules', ...TEST_FILES]);
    expect(status, output).toBe(0);
    expect(output).not.toContain('FAILED');
  });

  it('test every alert with a firing case and a not-firing case', () => {
    const cases = suites.flatMap(({ suite }) =>
      suite.tests.flatMap((test) => test.alert_rule_test ?? []),
    );
    for (const rule of alerts) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${rule.alert} fires somewhere`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${rule.alert} stays quiet somewhere`,
      ).toBe(true);
    }
    // No case names an alert that does not exist (it would pass by finding nothing).
    for (const c of cases) expect(alerts.map((rule) => rule.alert)).toContain(c.alertname);
  });

  describe('the unit tests catch a broken rule', () => {
    // Each alert is rewritten to fire always, then never, and run against the cases naming it.
    const scratch = mkdtempSync(join(tmpdir(), 'stampede-rules-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    async function unitTestsWith(alertName: string, expr: string): Promise<number | null> {
      const dir = mkdtempSync(join(scratch, `${alertName}-`));
      const mutated = structuredClone(rules);
      for (const group of mutated.groups) {
        for (const rule of group.rules) if (rule.alert === alertName) rule.expr = expr;
      }
      writeFileSync(join(dir, 'alert_rules.yml'), stringify(mutated));
      mkdirSync(join(dir, 'tests'));
      for (const { file, suite } of suites) {
        const tests = suite.tests
          .map((test) => ({
            ...test,
            alert_rule_test: (test.alert_rule_test ?? []).filter((c) => c.alertname === alertName),
          }))
          .filter((test) => test.alert_rule_test.length > 0);
        writeFileSync(join(dir, file), stringify({ ...suite, tests }));
      }
      return promtoolAsync(['test', 'rules', ...TEST_FILES], dir);
    }

    it.each(alerts.map((rule) => rule.alert!))(
      '%s: rewritten to always fire, or never, fails its cases',
      async (name) => {
        const [always, never] = await Promise.all([
          unitTestsWith(name, 'vector(1)'),
          unitTestsWith(name, 'vector(1) < 0'),
        ]);
        expect(always, 'always firing').not.toBe(0);
        expect(never, 'never firing').not.toBe(0);
      },
    );

    it('while the same rules, unchanged, pass the same filtered cases', async () => {
      const dir = mkdtempSync(join(scratch, 'unchanged-'));
      writeFileSync(join(dir, 'alert_rules.yml'), stringify(rules));
      mkdirSync(join(dir, 'tests'));
      for (const { file, suite } of suites) writeFileSync(join(dir, file), stringify(suite));
      expect(await promtoolAsync(['test', 'rules', ...TEST_FILES], dir)).toBe(0);
    });
  });
});
