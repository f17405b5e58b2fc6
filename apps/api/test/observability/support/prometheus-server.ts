import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../support/services.ts';
import { readRepoYaml } from './repo.ts';

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  [key: string]: unknown;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** `5m` divided by `factor`, in whole seconds (at least one). */
export function scaleDuration(duration: string, factor: number): string {
  const match = /^(\d+)([smh])$/.exec(duration);
  if (!match) throw new Error(`unexpected duration ${duration}`);
  return `${Math.max(1, Math.round((Number(match[1]) * UNIT_SECONDS[match[2]!]!) / factor))}s`;
}

/**
 * The repository's alert rules with every `for:` and range window divided by `factor`, the
 * expressions and thresholds otherwise unchanged: the same rules, on a clock fast enough to
 * watch them fire in a test.
 */
export function scaledRules(factor: number): RuleFile {
  const rules = readRepoYaml<RuleFile>('observability/prometheus/alert_rules.yml');
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      if (rule.for) rule.for = scaleDuration(rule.for, factor);
      rule.expr = rule.expr.replace(
        /\[(\d+[smh])\]/g,
        (_, d: string) => `[${scaleDuration(d, factor)}]`,
      );
    }
  }
  return rules;
}

export interface PrometheusServer {
  readonly url: string;
  /** An instant query; the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** The alerts Prometheus holds now, with their state. */
  alerts(): Promise<{ labels: Record<string, string>; state: 'pending' | 'firing' }[]>;
  stop(): Promise<void>;
}

/**
 * Debian's `prometheus` (the real server), scraping one API target every second and evaluating
 * the scaled rules every second, on a free port with its own data directory.
 */
export async function startPrometheus(options: {
  target: string;
  factor: number;
}): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'stampede-prometheus-'));
  writeFileSync(join(dir, 'alert_rules.yml'), stringify(scaledRules(options.factor)));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: ['alert_rules.yml'],
      scrape_configs: [
        { job_name: 'stampede-api', static_configs: [{ targets: [options.target] }] },
      ],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) =>
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('prometheus is not installed: apt-get install prometheus')
          : error,
      ),
    ),
  );
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  const ready = (async () => {
    for (let i = 0; i < 200; i += 1) {
      const ok = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`prometheus did not start: ${output.slice(-2000)}`);
  })();
  await Promise.race([ready, failed]);
  return {
    url,
    query: async (expr) =>
      (
        await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    alerts: async () =>
      (
        await api<{ alerts: { labels: Record<string, string>; state: 'pending' | 'firing' }[] }>(
          '/api/v1/alerts',
        )
      ).alerts,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
