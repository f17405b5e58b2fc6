import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { machineInfo, othersBusy } from './proc.ts';
import { runProfile, type ProfileSummary } from './profile-run.ts';
import { Progress } from './progress.ts';
import { toJson, writeReport, type BenchOutput } from './report.ts';
import { runMode, type ModeResult } from './run-mode.ts';
import { writeScaling } from './scaling.ts';
import { redisClusterAvailable } from './redis-cluster.ts';
import { FULL, QUICK, SCENARIOS, type Scenario } from './scenario.ts';
import {
  MODES,
  REDIS_URL,
  startServer,
  stopAllServers,
  withPgAdmin,
  type ModeName,
  type RunningServer,
} from './servers.ts';

/**
 * `npm run bench` / `npm run bench:quick`: every mode, one after the other, on this machine,
 * each on a fresh database; then the JSON result, the Markdown report and its chart.
 *
 *   --quick            the scaled-down scenario (under a minute)
 *   --scenario <name>  full (default), quick, or big-rush (10,000 units, 20,000 buyers, 8,000/s rush)
 *   --modes a,b        only these modes (default: all)
 *   --profile          also profile the redis mode (default: on for full, off for quick)
 *   --no-profile       skip it
 *   --out <file>       result JSON (default bench/results/latest.json or quick-latest.json)
 *   --prestart         start every server before measuring (default: on except for full)
 *   --no-prestart      start each just before its mode, waiting for a quiet machine before each
 *   --wait-quiet <s>   wait up to this long for other processes to calm down, before each mode
 *                      (full, default 120) or once before all (quick, default 5): 2 cores only
 *   --quiet-cores <n>  what counts as quiet: others using under n cores (default 0.25)
 *   --report <json>    only rewrite the report and chart of an existing result file
 *   --ignore-pids a,b  processes not counted as "others" when waiting (their CPU is still recorded)
 */
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    modes: { type: 'string' },
    profile: { type: 'boolean' },
    'no-profile': { type: 'boolean', default: false },
    'wait-quiet': { type: 'string' },
    'quiet-cores': { type: 'string' },
    'ignore-pids': { type: 'string' },
    report: { type: 'string' },
    prestart: { type: 'boolean' },
    'no-prestart': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

if (values.scenario && !(values.scenario in SCENARIOS)) {
  console.error(
    `unknown scenario ${values.scenario}; scenarios: ${Object.keys(SCENARIOS).join(', ')}`,
  );
  process.exit(2);
}
const scenario: Scenario = values.scenario
  ? SCENARIOS[values.scenario as Scenario['name']]
  : values.quick
    ? QUICK
    : FULL;
const wanted = values.modes ? values.modes.split(',').map((m) => m.trim()) : undefined;
for (const name of wanted ?? []) {
  if (!MODES.some((m) => m.name === name)) {
    console.error(`unknown mode ${name}; modes: ${MODES.map((m) => m.name).join(', ')}`);
    process.exit(2);
  }
}
const waitQuietMs = 1000 * Number(values['wait-quiet'] ?? (scenario.name === 'full' ? 120 : 5));
/** Others' CPU use (cores) below which the machine counts as quiet. */
const quietCores = Number(values['quiet-cores'] ?? 0.25);
/** Processes left out of "is the machine quiet" (say, stuck ones nobody can stop); still recorded. */
const ignorePids = new Set(
  (values['ignore-pids'] ?? '')
    .split(',')
    .filter(Boolean)
    .map((pid) => Number(pid)),
);
const prestart = values['no-prestart'] ? false : (values.prestart ?? scenario.name !== 'full');
const profile = values['no-profile'] ? false : (values.profile ?? scenario.name === 'full');
const resultsDir = join(repoRoot, 'bench/results');
const outFile = resolve(
  values.out ??
    join(resultsDir, scenario.name === 'full' ? 'latest.json' : `${scenario.name}-latest.json`),
);

async function available(): Promise<{
  postgres: string | null;
  redis: string | null;
  cluster: string | null;
}> {
  let postgres: string | null;
  let redis: string | null;
  try {
    postgres = await withPgAdmin(
      async (c) => (await c.query('SHOW server_version')).rows[0]?.server_version,
    );
  } catch {
    postgres = null;
  }
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    redis = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    redis = null;
  } finally {
    client.disconnect();
  }
  return { postgres, redis, cluster: redisClusterAvailable() };
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'packages'], {
      cwd: repoRoot,
    })
      .toString()
      .trim();
    return dirty ? `${commit}+dirty` : commit;
  } catch {
    return 'unknown';
  }
}

function versionOf(pkg: string): string {
  try {
    const file = join(repoRoot, 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** PostgreSQL connections still free (a mode needs up to 2 x DATABASE_POOL_SIZE = 40). */
async function freePgConnections(): Promise<number> {
  try {
    return await withPgAdmin(async (c) => {
      const { rows } = await c.query<{ free: number }>(
        `SELECT current_setting('max_connections')::int
                - current_setting('superuser_reserved_connections')::int
                - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
                AS free`,
      );
      return rows[0]?.free ?? 0;
    });
  } catch {
    return 0;
  }
}

/**
 * Wait (up to `maxMs`) until processes other than ours use less than `quietCores` and
 * PostgreSQL has connections to spare: the machine and the database are shared.
 */
async function waitQuiet(
  progress: Progress,
  maxMs: number,
  needPg: number,
): Promise<{ cores: number; top: string[]; pg_free_connections: number | null }> {
  const deadline = Date.now() + maxMs;
  let busy = await othersBusy(maxMs > 0 ? 1000 : 200, ignorePids);
  let free = needPg > 0 ? await freePgConnections() : null;
  let said = false;
  while ((busy.cores > quietCores || (free !== null && free < needPg)) && Date.now() < deadline) {
    if (!said) {
      progress.line(
        `  waiting for a quieter machine: others use ${busy.cores} cores (${busy.top.join(', ')}), ` +
          `${free ?? '-'} PostgreSQL connections free`,
      );
      said = true;
    }
    busy = await othersBusy(2000, ignorePids);
    if (needPg > 0) free = await freePgConnections();
  }
  return { ...busy, pg_free_connections: free };
}

async function main(): Promise<void> {
  const services = await available();
  const modes = MODES.filter((m) => !wanted || wanted.includes(m.name));
  const runId = randomBytes(3).toString('hex');
  const runDir = mkdtempSync(join(tmpdir(), `stampede-bench-${runId}-`));
  const busy = await othersBusy(1000, ignorePids);
  const progress = new Progress();
  progress.line(
    `Stampede benchmark (${scenario.name}): S=${scenario.units} units, B=${scenario.buyers} buyers, ` +
      `${modes.length} modes; server logs in ${runDir}`,
  );
  if (busy.cores > 0.3) {
    progress.line(
      `warning: other processes are using ${busy.cores} cores (${busy.top.join(', ')}); results will be noisy`,
    );
  }

  const skipReason = (spec: (typeof modes)[number]): string | null => {
    if (spec.database === 'external' && !services.postgres) {
      return 'PostgreSQL not reachable at 127.0.0.1:5432';
    }
    if (spec.redis && spec.cluster) return services.cluster;
    if (spec.redis && !services.redis) return 'Redis not reachable at 127.0.0.1:6379';
    return null;
  };
  const results: Partial<
    Record<ModeName, ModeResult & { other_load_before: unknown; wall_s: number }>
  > = {};
  const skipped: Record<string, string> = {};
  const options = { repoRoot, runDir, runId, rateLimitMs: scenario.rateLimitMs };
  const started = performance.now();
  // The quick run starts every server at once, before measuring anything, to stay under a
  // minute; idle servers cost next to nothing. The full run starts each one on its own.
  const runnable = modes.filter((spec) => skipReason(spec) === null);
  const prestarted = new Map<string, Promise<RunningServer>>();
  if (prestart) {
    await waitQuiet(progress, waitQuietMs, 50);
    progress.line(`starting ${runnable.length} servers`);
    for (const spec of runnable) {
      const promise = startServer(spec, options);
      promise.catch(() => undefined);
      prestarted.set(spec.name, promise);
    }
    await Promise.allSettled(prestarted.values());
    progress.line(`servers up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  for (const [index, spec] of modes.entries()) {
    progress.startMode(spec.name, index, modes.length + (profile ? 1 : 0));
    const reason = skipReason(spec);
    if (reason) {
      skipped[spec.name] = reason;
      continue;
    }
    try {
      const needPg = spec.database === 'external' && !prestart ? 22 * spec.workers : 0;
      // The quick run waits once, before it starts its servers; the full run before each mode.
      const before = await waitQuiet(progress, prestart ? 0 : waitQuietMs, needPg);
      const server = prestarted.get(spec.name);
      const modeStarted = performance.now();
      const result = await runMode(spec, scenario, options, progress, server ? { server } : {});
      const wallS = Math.round((performance.now() - modeStarted) / 100) / 10;
      results[spec.name] = { ...result, other_load_before: before, wall_s: wallS };
      progress.line(
        `  ${spec.name} (${wallS} s): ${result.attempts_per_s} attempts/s at saturation, ` +
          `orders ${result.orders_per_s ?? '-'}/s, sell-out ${result.sellout_ms ?? '-'} ms, ` +
          `rejected p99 ${result.latency_ms.rejected.p99 ?? '-'} ms, RSS ${result.peak_rss_mb} MB, ` +
          `${result.correct ? 'correct' : `VIOLATIONS: ${result.violations.join('; ')}`}`,
      );
    } catch (error) {
      skipped[spec.name] = `failed: ${error instanceof Error ? error.message : String(error)}`;
      progress.line(`  ${spec.name}: ${skipped[spec.name]}`);
    }
  }

  let profileSummary: ProfileSummary | undefined;
  if (profile && services.postgres && services.redis) {
    progress.startMode('redis (profiled)', modes.length, modes.length + 1);
    try {
      await waitQuiet(progress, waitQuietMs, 22);
      profileSummary = await runProfile({
        scenario,
        options: { ...options, label: 'redis-profile' },
        progress,
        outDir: resultsDir,
      });
      progress.line(`  profile: ${profileSummary.file}`);
    } catch (error) {
      progress.line(`  profile failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  progress.finish();

  const output = {
    commit: gitCommit(),
    machine: machineInfo(),
    scenario: {
      name: scenario.name,
      units: scenario.units,
      buyers: scenario.buyers,
      max_per_user: 1,
      order_rate_limit_ms: scenario.rateLimitMs,
      rush: { rate_per_s: scenario.rush.rate, duration_ms: scenario.rush.durationMs },
      ramp: {
        start_per_s: scenario.ramp.startRate,
        factor: scenario.ramp.factor,
        step_ms: scenario.ramp.stepMs,
        saturated_below: scenario.ramp.saturatedBelow,
      },
      steady: {
        share_of_saturation: scenario.steady.share,
        duration_ms: scenario.steady.durationMs,
      },
      storm: {
        duration_ms: scenario.storm.durationMs,
        units: scenario.storm.units,
        order_attempts: scenario.storm.units * scenario.storm.orderAttemptsPerUnit,
        reads_share_of_saturation: scenario.storm.readShare,
        list_share_of_reads: scenario.storm.listShare,
      },
      warmup: scenario.warmup,
      client: { library: `undici ${versionOf('undici')}`, ...scenario.client },
      latency_from: 'scheduled send time (open model, no coordinated omission)',
      headline_latency: {
        success: 'order 201s of the rush phase',
        rejected: 'refusals of the steady phase (80% of the saturating rate)',
      },
    },
    versions: {
      node: process.version,
      postgres: services.postgres,
      redis: services.redis,
      fastify: versionOf('fastify'),
      undici: versionOf('undici'),
    },
    duration_s: Math.round((performance.now() - started) / 1000),
    other_load_at_start: busy,
    skipped,
    modes: results,
    ...(profileSummary ? { profile: profileSummary } : {}),
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, toJson(output));
  const report = writeReport(output, outFile);
  console.error(`results: ${outFile}\nreport:  ${report}`);
  await rewriteScaling(outFile);
  const failed = Object.values(results).some((r) => r && !r.correct);
  if (failed || Object.keys(skipped).length > 0) process.exitCode = 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping servers and dropping benchmark databases\n`);
    void stopAllServers().finally(() => process.exit(130));
  });
}

/** `--report <file.json>`: rewrite the Markdown report and chart of an existing result. */
async function reportOnly(file: string): Promise<void> {
  const output = JSON.parse(readFileSync(file, 'utf8')) as BenchOutput;
  writeFileSync(file, toJson(output));
  console.error(`report: ${writeReport(output, resolve(file))}`);
  await rewriteScaling(resolve(file));
}

/** docs/SCALING.md from the latest results, when `file` is one of bench/results. */
async function rewriteScaling(file: string): Promise<void> {
  if (dirname(file) !== resultsDir) return;
  const doc = await writeScaling(resultsDir, join(repoRoot, 'docs/SCALING.md'));
  if (doc) console.error(`scaling: ${doc}`);
}

if (values.report) {
  await reportOnly(values.report);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
