import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import type { BenchOutput, TargetCheck } from './report.ts';
import type { ModeResult, PhaseReport } from './run-mode.ts';

/**
 * Past one machine, measured: the cluster modes' per-shard Redis CPU, the targets of issues 13
 * and 16, and docs/SCALING.md, a capacity model computed from the latest results (never typed by
 * hand: `--report` or any run rewrites it).
 */

const fmt = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? '–'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits });
const times = (a: number | null | undefined, b: number | null | undefined, digits = 2) =>
  a === null || a === undefined || !b ? '–' : `${fmt(a / b, digits)}×`;
const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${Math.round(x * 100)}%`;

type Modes = Partial<Record<string, ModeResult>>;

const answeredIn = (phase: PhaseReport | undefined): number =>
  phase
    ? Object.entries(phase.outcomes)
        .filter(([k]) => !k.includes('client_'))
        .reduce((sum, [, n]) => sum + n, 0)
    : 0;

/** The busiest master's Redis CPU µs per attempt in a phase (cluster modes). */
export function busiestShard(mode: ModeResult | undefined, phase: string): number | null {
  return mode?.phases[phase]?.redis_shards?.busiest_us_per_answer ?? null;
}

/** API CPU µs per answer in the steady phase (sold-out refusals; plain answers for baseline). */
const apiPerAnswer = (mode: ModeResult | undefined) =>
  mode?.phases.steady?.cpu_us_per_answer.api ?? null;

/**
 * Per-order and per-refusal CPU of each party, from a mode's rush (orders and refusals) and
 * steady phase (refusals only): the rush's CPU less its refusals at the steady phase's cost,
 * over its orders.
 */
export function unitCosts(mode: ModeResult | undefined): {
  refusal: { api: number; postgres: number; redis: number };
  order: { api: number; postgres: number; redis: number };
  orders: number;
} | null {
  const rush = mode?.phases.rush;
  const steady = mode?.phases.steady;
  if (!rush || !steady) return null;
  const orders = rush.latency_ms.success.count;
  if (orders === 0) return null;
  const answered = answeredIn(rush);
  const refusals = Math.max(0, answered - orders);
  const per = (party: 'api' | 'postgres' | 'redis') => {
    const total = rush.cpu_us_per_answer[party] * answered;
    return Math.max(0, Math.round((total - refusals * steady.cpu_us_per_answer[party]) / orders));
  };
  return {
    refusal: {
      api: steady.cpu_us_per_answer.api,
      postgres: steady.cpu_us_per_answer.postgres,
      redis: steady.cpu_us_per_answer.redis,
    },
    order: { api: per('api'), postgres: per('postgres'), redis: per('redis') },
    orders,
  };
}

/** Others' cores (neither client, API, PostgreSQL nor Redis) in a mode's phase. */
const othersIn = (mode: ModeResult, phase: string) => mode.phases[phase]?.cpu_cores.other ?? 0;

/**
 * Two modes are not comparable when other work on the machine differed by more than this many
 * cores between their phases: the check is then reported, not judged.
 */
const NOISE_CORES = 0.3;

function judged(
  check: TargetCheck,
  a: ModeResult,
  b: ModeResult,
  phase: string,
  names: [string, string],
): TargetCheck {
  const oa = othersIn(a, phase);
  const ob = othersIn(b, phase);
  if (Math.abs(oa - ob) <= NOISE_CORES) return check;
  return {
    ...check,
    value: `${check.value} (not comparable: others used ${fmt(oa, 2)} cores during ${names[0]}'s ${phase}, ${fmt(ob, 2)} during ${names[1]}'s)`,
    met: null,
  };
}

/** The targets of issues 13 and 16 that a run can check; `null` where a mode did not run. */
export function checkScalingTargets(output: BenchOutput): TargetCheck[] {
  const m: Modes = output.modes;
  const checks: TargetCheck[] = [];
  const name = output.scenario.name;
  const { redis, baseline, cluster } = m;
  const buckets = m['cluster-buckets'];
  const twoProc = m['redis-2proc'];
  const clusterTwo = m['cluster-2proc'];
  if (cluster) {
    checks.push({
      target: '13: `cluster` correct (same verdicts as `redis`)',
      value: cluster.correct ? 'correct' : `${cluster.violations.length} violations`,
      met: cluster.correct,
    });
  }
  const notSlower = (a: ModeResult, b: ModeResult, label: string, names: [string, string]) => {
    const p99a = a.latency_ms.success.p99;
    const p99b = b.latency_ms.success.p99;
    checks.push(
      judged(
        {
          target: `13: ${label}`,
          value: `orders/s ${fmt(a.orders_per_s, 0)} vs ${fmt(b.orders_per_s, 0)}; success p99 ${fmt(p99a)} vs ${fmt(p99b)} ms`,
          met:
            (a.orders_per_s ?? 0) >= (b.orders_per_s ?? Infinity) &&
            p99a !== null &&
            p99b !== null &&
            p99a <= p99b,
        },
        a,
        b,
        'rush',
        names,
      ),
    );
  };
  if (twoProc && redis)
    notSlower(twoProc, redis, '`redis-2proc` no slower than `redis`', ['redis-2proc', 'redis']);
  if (clusterTwo && cluster)
    notSlower(clusterTwo, cluster, '`cluster-2proc` no slower than `cluster`', [
      'cluster-2proc',
      'cluster',
    ]);
  if (redis && baseline) {
    const a = apiPerAnswer(redis);
    const b = apiPerAnswer(baseline);
    checks.push({
      target: '16: API CPU per sold-out refusal (`redis`) ≤ 2× `baseline` per answer (steady)',
      value: `${fmt(a, 0)} / ${fmt(b, 0)} µs = ${times(a, b)}`,
      met: a !== null && b !== null && a <= 2 * b,
    });
    const r = baseline.attempts_per_s > 0 ? redis.attempts_per_s / baseline.attempts_per_s : 0;
    checks.push(
      judged(
        {
          target: '16: sold-out attempts/s at saturation (`redis`) ≥ 60% of `baseline`',
          value: `${fmt(redis.attempts_per_s, 0)} / ${fmt(baseline.attempts_per_s, 0)} = ${pct(r)}`,
          met: r >= 0.6,
        },
        redis,
        baseline,
        'steady',
        ['redis', 'baseline'],
      ),
    );
  }
  if (name === 'big-rush') {
    for (const [mode, r] of Object.entries(m)) {
      if (!r || mode === 'baseline') continue;
      const p99 = r.latency_ms.success.p99;
      checks.push({
        target: `16: big rush (\`${mode}\`) ≥ 4,000 orders/s, success p99 < 250 ms, no violations`,
        value: `${fmt(r.orders_per_s, 0)} orders/s (sell-out ${fmt(r.sellout_ms, 0)} ms), p99 ${fmt(p99)} ms, ${r.correct ? 'correct' : `${r.violations.length} violations`}`,
        met: (r.orders_per_s ?? 0) >= 4000 && p99 !== null && p99 < 250 && r.correct,
      });
    }
  }
  if (cluster && buckets) {
    // The rush: once sold out the hot product's slot is not called (the sold-out edge).
    for (const phase of ['rush']) {
      const a = busiestShard(buckets, phase);
      const b = busiestShard(cluster, phase);
      checks.push({
        target: `16: busiest shard's Redis CPU per attempt, \`cluster-buckets\` (k = 3) ≤ 45% of \`cluster\` (${phase})`,
        value: `${fmt(a)} / ${fmt(b)} µs = ${a !== null && b ? pct(a / b) : '–'}`,
        met: a !== null && b !== null && b > 0 ? a / b <= 0.45 : null,
      });
    }
  }
  return checks;
}

/** Markdown: the cluster modes' shards, per phase (for the run's own report). */
export function shardSection(output: BenchOutput): string[] {
  const rows = Object.entries(output.modes).filter((e): e is [string, ModeResult] =>
    Boolean(e[1]?.phases.rush?.redis_shards),
  );
  if (rows.length === 0) return [];
  const lines = [
    '## Redis Cluster shards',
    '',
    "Each master's CPU (INFO cpu, user + sys) over the phase, in µs per answered attempt; the busiest master's share " +
      "of the masters' CPU (33% is perfectly even over 3) and busiest / least busy. Replicas are not counted.",
    '',
    '| mode | phase | µs per attempt, each master | busiest | all masters | busiest share | max/min | hot product counters on |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, r] of rows) {
    for (const phase of ['rush', 'ramp', 'steady', 'storm']) {
      const s = r.phases[phase]?.redis_shards;
      if (!s) continue;
      const each = Object.values(s.masters)
        .map((x) => fmt(x.us_per_answer))
        .join(' / ');
      const on = r.verification?.products.hot?.gate_masters;
      lines.push(
        `| ${name} | ${phase} | ${each} | ${fmt(s.busiest_us_per_answer)} | ${fmt(s.total_us_per_answer)} | ${pct(s.busiest_share)} | ${fmt(s.max_over_min, 2)} | ${on ? `${on} master${on > 1 ? 's' : ''}` : '–'} |`,
      );
    }
  }
  lines.push('');
  return lines;
}

function modeTable(output: BenchOutput): string[] {
  const m: Modes = output.modes;
  const redis = m.redis;
  const baseline = m.baseline;
  const lines = [
    "| mode | attempts/s at saturation | vs `redis` | vs `baseline` | orders/s | vs `redis` | success p99 ms (rush) | rejected p99 ms (steady) | API CPU µs per answer (steady) | vs `baseline` | busiest shard Redis µs per attempt (rush / steady) | busiest share (rush) | others' cores (rush / steady) | correct |",
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const [name, r] of Object.entries(m)) {
    if (!r) continue;
    const api = apiPerAnswer(r);
    const shards = r.phases.rush?.redis_shards;
    lines.push(
      `| \`${name}\` | ${fmt(r.attempts_per_s, 0)} | ${times(r.attempts_per_s, redis?.attempts_per_s)} | ${times(r.attempts_per_s, baseline?.attempts_per_s)} | ${fmt(r.orders_per_s, 0)} | ${times(r.orders_per_s, redis?.orders_per_s)} | ${fmt(r.latency_ms.success.p99)} | ${fmt(r.latency_ms.rejected.p99)} | ${fmt(api, 0)} | ${times(api, apiPerAnswer(baseline))} | ${shards ? `${fmt(busiestShard(r, 'rush'))} / ${fmt(busiestShard(r, 'steady'))}` : '–'} | ${shards ? pct(shards.busiest_share) : '–'} | ${fmt(r.phases.rush?.cpu_cores.other, 2)} / ${fmt(r.phases.steady?.cpu_cores.other, 2)} | ${r.correct ? 'yes' : `**no** (${r.violations.length})`} |`,
    );
  }
  for (const [name, reason] of Object.entries(output.skipped)) {
    lines.push(`| \`${name}\` | skipped: ${reason} | | | | | | | | | | | | |`);
  }
  return lines;
}

function runHeader(file: string, output: BenchOutput): string {
  const s = output.scenario as Record<string, unknown> & { rush?: { rate_per_s: number } };
  const load = output.other_load_at_start;
  const before = Object.values(output.modes).map(
    (r) => (r as { other_load_before?: { cores?: number } } | undefined)?.other_load_before?.cores,
  );
  const worst = Math.max(0, ...before.filter((c): c is number => typeof c === 'number'));
  return (
    `\`${basename(file)}\`: commit \`${output.commit.slice(0, 12)}\`, scenario **${output.scenario.name}** ` +
    `(${fmt(output.scenario.units, 0)} units, ${fmt(output.scenario.buyers, 0)} buyers, rush offered ` +
    `${fmt(s.rush?.rate_per_s, 0)}/s), ${output.machine.cpus} × ${output.machine.model}; ` +
    `other processes used ${load.cores} cores when it started${load.top.length ? ` (${load.top.join(', ')})` : ''} ` +
    `and up to ${worst} cores just before a mode began; "others' cores" below is everything on the machine that was ` +
    'neither the client, the API, PostgreSQL nor Redis, during the phase (the machine has ' +
    `${output.machine.cpus}).`
  );
}

interface Drop {
  readonly buyersFirstMinute: number;
  readonly peakAttemptsPerS: number;
  readonly units: number;
}

const DROP: Drop = { buyersFirstMinute: 1_000_000, peakAttemptsPerS: 100_000, units: 10_000 };
/** A process or shard is planned at this share of a core (headroom for bursts and GC). */
const UTILISATION = 0.7;

/** The capacity model: what a drop needs, from measured per-attempt costs. */
function capacity(main: BenchOutput, big: BenchOutput | undefined): string[] {
  const m: Modes = main.modes;
  const orderSource = big && unitCosts(big.modes.redis) ? 'redis' : undefined;
  const refusal = unitCosts(m.redis) ?? unitCosts(m.cluster);
  const order = (orderSource && big ? unitCosts(big.modes[orderSource]) : null) ?? refusal;
  // The hot product's shard works while the product has stock: the rush, best the big one.
  const shardRun: Modes = big?.modes.cluster && big.modes['cluster-buckets'] ? big.modes : m;
  const shardScenario = shardRun === m ? main.scenario.name : 'big-rush';
  const k1Rush = busiestShard(shardRun.cluster, 'rush');
  const k3Rush = busiestShard(shardRun['cluster-buckets'], 'rush');
  const k1Steady = busiestShard(m.cluster, 'steady');
  // All masters together, per attempt of the rush (orders and refusals while the sale is on):
  // an upper bound for a second of mostly refusals. (Subtracting the steady phase's refusals,
  // as for the API, is too sensitive to the noise of a shared machine at these small costs.)
  const rushTotal = shardRun.cluster?.phases.rush?.redis_shards?.total_us_per_answer ?? null;
  const lines: string[] = ['## Capacity model', ''];
  if (!refusal || !order) {
    lines.push(
      'Not computed: the run has no `redis` (or `cluster`) mode with a rush and a steady phase.',
      '',
    );
    return lines;
  }
  const { peakAttemptsPerS: peak, units } = DROP;
  const refusals = peak - units;
  const cores = (perOrder: number, perRefusal: number) =>
    (units * perOrder + refusals * perRefusal) / 1e6;
  const apiCores = cores(order.order.api, refusal.refusal.api);
  const pgCores = cores(order.order.postgres, refusal.refusal.postgres);
  const processes = Math.ceil(apiCores / UTILISATION);
  const hotShardCores = k1Rush !== null ? (peak * k1Rush) / 1e6 : null;
  /** Attempts/s the hot product's one shard takes while it has stock, at the planned share. */
  const hotShardLimit = k1Rush ? (UTILISATION * 1e6) / k1Rush : null;
  const spread = k1Rush && k3Rush ? k3Rush / k1Rush : null;
  // Buckets help only where k = 3 measurably lowered the busiest shard; then assumed to go on
  // as 1/k (a plan to check with cluster-buckets, not a measurement).
  const bucketsHelp = spread !== null && spread < 0.9;
  const buckets =
    hotShardCores !== null && bucketsHelp
      ? Math.min(16, Math.max(1, Math.ceil(hotShardCores / UTILISATION)))
      : null;
  const bucketsNeed =
    spread === null
      ? '–'
      : bucketsHelp
        ? `**k = ${buckets}** (if the busiest shard keeps falling as 1/k)`
        : `none that helps as measured: k = 3 did not lower the busiest shard (${pct(spread)}); see BENCHMARKS.md for why`;
  const redisCores = rushTotal !== null ? (peak * rushTotal) / 1e6 : null;
  const shards =
    redisCores !== null ? Math.max(3, buckets ?? 1, Math.ceil(redisCores / UTILISATION)) : null;
  lines.push(
    `A drop of **${fmt(DROP.buyersFirstMinute, 0)} buyers in the first minute**, **${fmt(peak, 0)} attempts in the peak second** ` +
      `and **${fmt(units, 0)} units**, all of them sold within that second (the worst case for PostgreSQL). Every figure is ` +
      `CPU time per attempt measured on this machine, planned at ${pct(UTILISATION)} of a core per process or shard.`,
    '',
    '| part | measured cost | source (mode, phase) | for the peak second | needs |',
    '|---|---|---|---|---|',
    `| API, per sold-out refusal | ${fmt(refusal.refusal.api, 0)} µs | \`redis\`, steady | ${fmt(refusals, 0)} refusals | ${fmt((refusals * refusal.refusal.api) / 1e6, 2)} cores |`,
    `| API, per order | ${fmt(order.order.api, 0)} µs | \`${orderSource ?? 'redis'}\`, rush${orderSource ? ' (big rush)' : ''}, less its refusals | ${fmt(units, 0)} orders | ${fmt((units * order.order.api) / 1e6, 2)} cores |`,
    `| **API processes** | | | ${fmt(apiCores, 2)} cores | **${processes} processes** (one core each) |`,
    `| PostgreSQL, per order / per refusal | ${fmt(order.order.postgres, 0)} / ${fmt(refusal.refusal.postgres, 0)} µs | as above | | **${fmt(pgCores, 2)} cores** |`,
    `| Redis, busiest shard per attempt while stock lasts, k = 1 | ${fmt(k1Rush)} µs | \`cluster\`, rush (${shardScenario}) | all ${fmt(peak, 0)} attempts before the sell-out (worst case) | ${fmt(hotShardCores, 2)} cores on one shard; one shard takes ${fmt(hotShardLimit, 0)} attempts/s |`,
    `| **stock buckets** for the hot product | busiest shard with k = 3: ${fmt(k3Rush)} µs, ${spread === null ? '–' : pct(spread)} of k = 1 | \`cluster-buckets\` vs \`cluster\`, rush (${shardScenario}) | | ${bucketsNeed} |`,
    `| Redis, busiest shard per attempt once sold out | ${fmt(k1Steady)} µs | \`cluster\`, steady | | spread over every master (the user's slot) |`,
    `| Redis, all masters per attempt (upper bound) | ${fmt(rushTotal)} µs | \`cluster\`, rush (${shardScenario}) | every attempt at the rush's cost | ${fmt(redisCores, 2)} cores: **${shards ?? '–'} masters** (+ a replica each) |`,
    '',
  );
  const parts: [string, number][] = [
    ['the API processes (HTTP, token check, the gate call, the answer)', apiCores],
    ["PostgreSQL (order transactions and refusals' idempotency records)", pgCores],
  ];
  if (redisCores !== null) parts.push(['Redis (all shards)', redisCores]);
  parts.sort((a, b) => b[1] - a[1]);
  lines.push(
    `**Where the next limit is.** By CPU the largest part is ${parts[0]![0]} (${fmt(parts[0]![1], 2)} cores), then ` +
      parts
        .slice(1)
        .map(([n, c]) => `${n} (${fmt(c, 2)})`)
        .join(', ') +
      '. The API scales by adding processes (stateless); Redis by adding masters and, for one hot product, ' +
      'buckets (at most 16); PostgreSQL is one primary: its order rate is the limit that does not scale out, and ' +
      `${fmt(units, 0)} orders in a second need ${fmt((units * order.order.postgres) / 1e6, 2)} cores of it plus the group-commit ` +
      'latency the big rush measures.' +
      (hotShardLimit !== null
        ? ` For one hot product the limit that comes first is its shard: about ${fmt(hotShardLimit, 0)} attempts/s ` +
          `reach it while it has stock (one core at ${pct(UTILISATION)}), whatever the number of masters; ` +
          (bucketsHelp
            ? 'buckets raise that.'
            : 'buckets were measured not to raise it in this layout (see BENCHMARKS.md).')
        : ''),
    '',
    '**Caveats.** Costs are measured at the rates this 2-core machine reaches, where the client, the API, PostgreSQL ' +
      'and six Redis nodes share the cores (and other work may run): at higher rates batching lowers the cost per ' +
      "attempt, so the model errs on the side of more processes. Per-shard CPU includes each master's idle work " +
      '(cluster bus, cron) and the user-slot admission keys, which every mode spreads over all masters; only the ' +
      'product slot is concentrated by a hot product. Once sold out, the sold-out edge answers from memory and only ' +
      "writes the refusal to the attempt's Idempotency-Key (the user's slot), so the hot product's shard works " +
      'only while it has stock. The buckets figure assumes the busiest shard keeps falling as 1/k past the k = 3 ' +
      'measured; it is a plan to check with `cluster-buckets`, not a measurement.',
    '',
  );
  return lines;
}

/** Result files in `dir`, newest first. */
function results(dir: string): { file: string; output: BenchOutput; mtime: number }[] {
  return ['latest.json', 'quick-latest.json', 'big-rush-latest.json']
    .map((name) => join(dir, name))
    .filter((file) => existsSync(file))
    .map((file) => ({
      file,
      output: JSON.parse(readFileSync(file, 'utf8')) as BenchOutput,
      mtime: statSync(file).mtimeMs,
    }))
    .sort((a, b) => b.mtime - a.mtime);
}

export function scalingMarkdown(
  main: BenchOutput,
  mainFile: string,
  big?: { file: string; output: BenchOutput },
): string {
  const lines: string[] = [
    '# Scaling',
    '',
    '<!-- Generated by bench/src/scaling.ts from the latest benchmark results; do not edit by hand: ' +
      '`npm run bench -- --modes baseline,redis,cluster,cluster-2proc,cluster-buckets` (or `--report <json>`) rewrites it. -->',
    '',
    'How Stampede grows past one API process and one Redis node, from the latest benchmark run on this machine. ' +
      'Every ratio compares modes measured side by side in one run. How to run it, and what the numbers mean: ' +
      '[BENCHMARKS.md](BENCHMARKS.md).',
    '',
    '## Modes, side by side',
    '',
    runHeader(mainFile, main),
    '',
    ...modeTable(main),
    '',
    'Attempts/s at saturation are sold-out refusals (the best ramp step); orders/s is the units over the time to sell ' +
      'out; "API CPU per answer" is the steady phase\'s API CPU time over its answers (two workers summed for the ' +
      '2-process modes); the busiest shard is the master with the most CPU in the phase, over the attempts answered.',
    '',
  ];
  const shards = shardSection(main);
  if (shards.length) lines.push(...shards.map((l) => l.replace(/^## /, '### ')));
  if (big) {
    lines.push(
      '## The big rush',
      '',
      runHeader(big.file, big.output),
      '',
      ...modeTable(big.output),
      '',
    );
    const shardsBig = shardSection(big.output);
    if (shardsBig.length) lines.push(...shardsBig.map((l) => l.replace(/^## /, '### ')));
  }
  lines.push(...capacity(main, big?.output));
  const checks = [...checkScalingTargets(main), ...(big ? checkScalingTargets(big.output) : [])];
  const seen = new Set<string>();
  lines.push('## Targets (issues 13 and 16)', '', '| target | measured | met |', '|---|---|---|');
  for (const c of checks) {
    if (seen.has(c.target)) continue;
    seen.add(c.target);
    lines.push(`| ${c.target} | ${c.value} | ${c.met === null ? '–' : c.met ? 'yes' : '**no**'} |`);
  }
  lines.push(
    "| 16: a unit returned by a cancel is on sale again at every process within the stated bound | not a benchmark measurement: the API's edge test (two processes) checks it | – |",
    '',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Rewrite `docFile` from the newest result in `dir` that ran a cluster mode (else the newest
 * with `redis`), with the newest big-rush result beside it. Returns the file, or null when no
 * result qualifies.
 */
export async function writeScaling(dir: string, docFile: string): Promise<string | null> {
  const all = results(dir);
  const big = all.find((r) => r.output.scenario.name === 'big-rush');
  const main =
    all.find((r) => r.output.scenario.name !== 'big-rush' && r.output.modes.cluster) ??
    all.find((r) => r.output.scenario.name !== 'big-rush' && r.output.modes.redis) ??
    big;
  if (!main) return null;
  const markdown = scalingMarkdown(main.output, main.file, big && big !== main ? big : undefined);
  // Formatted as the repository formats Markdown, so that the generated file passes its lint.
  const options = (await resolveConfig(docFile)) ?? {};
  writeFileSync(docFile, await format(markdown, { ...options, parser: 'markdown' }));
  return docFile;
}
