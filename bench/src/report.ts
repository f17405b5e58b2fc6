import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LatencySummary } from './histogram.ts';
import type { PhaseProfile, ProfileSummary } from './profile-run.ts';
import type { ModeResult } from './run-mode.ts';
import { checkScalingTargets, shardSection } from './scaling.ts';

/**
 * The Markdown report beside the JSON result, with an SVG chart (drawn here, no library) of
 * throughput and latency over time for every mode, and the issue's targets checked.
 */
export interface BenchOutput {
  readonly commit: string;
  readonly machine: { cpus: number; model: string; mem_gb: number };
  readonly scenario: Record<string, unknown> & { name: string; units: number; buyers: number };
  readonly versions: Record<string, string | null>;
  readonly duration_s: number;
  readonly other_load_at_start: { cores: number; top: string[] };
  readonly skipped: Record<string, string>;
  readonly modes: Partial<Record<string, ModeResult>>;
  readonly profile?: ProfileSummary;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined
    ? '–'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits });
const lat = (s: LatencySummary | undefined) =>
  s && s.count ? `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)} / ${fmt(s.max)}` : '–';

const COLORS = {
  offered: '#9aa5b1',
  answered: '#1f77b4',
  orders: '#2ca02c',
  p50: '#ff7f0e',
  p99: '#d62728',
};

/** Small multiples: per mode, throughput (left) and latency on a log scale (right). */
export function chartSvg(output: BenchOutput): string {
  const entries = Object.entries(output.modes).filter(
    (e): e is [string, ModeResult] => e[1] !== undefined,
  );
  const W = 1100;
  const rowH = 170;
  const top = 40;
  const panelW = 470;
  const panelH = 120;
  const left1 = 90;
  const left2 = left1 + panelW + 70;
  const H = top + entries.length * rowH + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left1}" y="16" font-size="13" font-weight="bold">Throughput (answers/s, orders/s, offered/s) and latency (p50, p99 from scheduled send, log scale) over time</text>`,
  ];
  const legend = [
    ['offered/s', COLORS.offered],
    ['answered/s', COLORS.answered],
    ['orders/s', COLORS.orders],
    ['p50', COLORS.p50],
    ['p99', COLORS.p99],
  ] as const;
  legend.forEach(([name, color], i) => {
    const x = left1 + i * 110;
    out.push(`<line x1="${x}" y1="28" x2="${x + 18}" y2="28" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${x + 22}" y="31">${name}</text>`);
  });

  entries.forEach(([name, mode], row) => {
    const y0 = top + row * rowH + 20;
    const series = mode.timeline.series;
    const windowS = mode.timeline.window_ms / 1000;
    const tMax = Math.max(series.length * windowS, 1);
    const x = (left: number, t: number) => left + (t / tMax) * panelW;
    const maxRate = Math.max(1, ...series.map((s) => Math.max(s[0], s[1])));
    const yRate = (v: number) => y0 + panelH - (v / maxRate) * panelH;
    const latencies = series
      .flatMap((s) => [s[3], s[4]])
      .filter((v): v is number => v !== null && v > 0);
    const lo = Math.max(0.1, Math.min(...latencies, 1));
    const hi = Math.max(...latencies, 10);
    const logLo = Math.floor(Math.log10(lo));
    const logHi = Math.ceil(Math.log10(hi));
    const yLat = (v: number) =>
      y0 + panelH - ((Math.log10(Math.max(v, 10 ** logLo)) - logLo) / (logHi - logLo)) * panelH;

    out.push(
      `<text x="10" y="${y0 - 6}" font-size="12" font-weight="bold">${esc(name)}</text>` +
        `<text x="${left1 + 80}" y="${y0 - 6}" fill="#555">${esc(
          `saturation ${fmt(mode.attempts_per_s, 0)} answers/s; orders ${fmt(mode.orders_per_s, 0)}/s; sell-out ${fmt(mode.sellout_ms, 0)} ms`,
        )}</text>`,
    );
    for (const left of [left1, left2]) {
      for (const phase of mode.timeline.phases) {
        const a = x(left, phase.start_ms / 1000);
        const b = x(left, Math.min(phase.end_ms / 1000, tMax));
        const shade =
          { rush: '#fdf2e9', ramp: '#eef5fb', steady: '#eefaf0', storm: '#f6eefb' }[phase.name] ??
          '#f5f5f5';
        out.push(
          `<rect x="${a.toFixed(1)}" y="${y0}" width="${Math.max(0, b - a).toFixed(1)}" height="${panelH}" fill="${shade}"/>`,
        );
        out.push(
          `<text x="${(a + 2).toFixed(1)}" y="${y0 + 10}" fill="#888" font-size="9">${esc(phase.name)}</text>`,
        );
      }
      out.push(
        `<rect x="${left}" y="${y0}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`,
      );
      for (let t = 0; t <= tMax; t += tMax > 60 ? 20 : tMax > 20 ? 10 : 2) {
        out.push(
          `<text x="${x(left, t).toFixed(1)}" y="${y0 + panelH + 12}" text-anchor="middle" fill="#555">${t}s</text>`,
        );
      }
    }
    for (let i = 0; i <= 4; i += 1) {
      const v = (maxRate * i) / 4;
      out.push(
        `<text x="${left1 - 4}" y="${(yRate(v) + 3).toFixed(1)}" text-anchor="end" fill="#555">${fmt(v, 0)}</text>`,
      );
    }
    for (let e = logLo; e <= logHi; e += 1) {
      const v = 10 ** e;
      out.push(
        `<line x1="${left2}" x2="${left2 + panelW}" y1="${yLat(v).toFixed(1)}" y2="${yLat(v).toFixed(1)}" stroke="#e5e5e5"/>`,
      );
      out.push(
        `<text x="${left2 - 4}" y="${(yLat(v) + 3).toFixed(1)}" text-anchor="end" fill="#555">${v >= 1 ? v : v.toFixed(1)} ms</text>`,
      );
    }
    const path = (points: [number, number][], color: string, width = 1.5) => {
      if (points.length === 0) return;
      const d = points
        .map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`)
        .join('');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"/>`);
    };
    const mid = (i: number) => (i + 0.5) * windowS;
    path(
      series.map((s, i) => [x(left1, mid(i)), yRate(s[0])]),
      COLORS.offered,
      1,
    );
    path(
      series.map((s, i) => [x(left1, mid(i)), yRate(s[1])]),
      COLORS.answered,
    );
    path(
      series.map((s, i) => [x(left1, mid(i)), yRate(s[2])]),
      COLORS.orders,
    );
    for (const [index, color] of [
      [3, COLORS.p50],
      [4, COLORS.p99],
    ] as const) {
      const points: [number, number][] = [];
      series.forEach((s, i) => {
        const v = s[index];
        if (v !== null) points.push([x(left2, mid(i)), yLat(v)]);
      });
      path(points, color);
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface TargetCheck {
  readonly target: string;
  readonly value: string;
  readonly met: boolean | null;
}

/** The issue's targets, measured. `null` when a needed mode did not run. */
export function checkTargets(output: BenchOutput): TargetCheck[] {
  const m = output.modes;
  const redis = m.redis;
  const baseline = m.baseline;
  const dbOnly = m['db-only'];
  const quiet = m['redis-quiet'];
  const checks: TargetCheck[] = [];
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  if (redis && baseline) {
    const r = ratio(redis.attempts_per_s, baseline.attempts_per_s);
    checks.push({
      target: 'sold-out rejections in redis mode >= 60% of baseline throughput',
      value: `${fmt(redis.attempts_per_s, 0)} / ${fmt(baseline.attempts_per_s, 0)} = ${(r * 100).toFixed(0)}%${baseline.client_bound ? ' (baseline limited by the client)' : ''}`,
      met: r >= 0.6,
    });
  } else checks.push({ target: 'redis >= 60% of baseline', value: 'not measured', met: null });
  if (redis && dbOnly) {
    const r = ratio(redis.attempts_per_s, dbOnly.attempts_per_s);
    checks.push({
      target: 'redis >= 10x db-only attempts/s at saturation',
      value: `${fmt(redis.attempts_per_s, 0)} / ${fmt(dbOnly.attempts_per_s, 0)} = ${r.toFixed(1)}x`,
      met: r >= 10,
    });
  } else checks.push({ target: 'redis >= 10x db-only', value: 'not measured', met: null });
  if (redis) {
    const p99 = redis.latency_ms.success.p99;
    checks.push({
      target: 'orders commit at >= 1,700/s with success p99 < 100 ms (redis)',
      value: `${fmt(redis.orders_per_s, 0)} orders/s (sell-out ${fmt(redis.sellout_ms, 0)} ms; rush offered ${String((output.scenario.rush as { rate_per_s: number }).rate_per_s)}/s), success p99 ${fmt(p99)} ms`,
      met: (redis.orders_per_s ?? 0) >= 1700 && p99 !== null && p99 < 100,
    });
    const rej = redis.latency_ms.rejected.p99;
    checks.push({
      target: 'rejection p99 < 25 ms at 80% of the saturating rate (redis)',
      value: `p99 ${fmt(rej)} ms at ${fmt(redis.steady_rate_per_s, 0)}/s`,
      met: rej !== null && rej < 25,
    });
  }
  if (redis && quiet) {
    const cost = 1 - ratio(redis.attempts_per_s, quiet.attempts_per_s);
    const cpuOn = cpuPerRequest(redis);
    const cpuOff = cpuPerRequest(quiet);
    const cpuCost = cpuOn && cpuOff ? 1 - cpuOff / cpuOn : null;
    checks.push({
      target: 'metrics and logging cost < 5% (redis vs redis-quiet)',
      value: `throughput ${(cost * 100).toFixed(1)}% (${fmt(redis.attempts_per_s, 0)} vs ${fmt(quiet.attempts_per_s, 0)}/s); API CPU per request in the steady phase ${fmt(cpuOn, 0)} vs ${fmt(cpuOff, 0)} us (${cpuCost === null ? '–' : `${(cpuCost * 100).toFixed(1)}%`})`,
      met: cost < 0.05,
    });
  }
  const rss = Object.entries(m).filter(
    (e): e is [string, ModeResult] => Boolean(e[1]) && e[0] !== 'baseline',
  );
  if (rss.length) {
    const worst = rss.reduce((a, b) => (b[1].peak_rss_mb > a[1].peak_rss_mb ? b : a));
    checks.push({
      target: 'each API process < 256 MB peak RSS',
      value:
        rss.map(([n, r]) => `${n} ${fmt(r.peak_rss_mb, 0)}`).join(', ') + ` MB (max ${worst[0]})`,
      met: worst[1].peak_rss_mb < 256,
    });
  }
  const bad = Object.entries(m).filter((e) => e[1] && !e[1].correct);
  checks.push({
    target: 'zero correctness violations in every mode',
    value: bad.length ? bad.map(([n, r]) => `${n}: ${r!.violations.length}`).join(', ') : 'none',
    met: bad.length === 0,
  });
  return checks;
}

/** API CPU microseconds per answered request in the steady phase. */
export function cpuPerRequest(mode: ModeResult): number | null {
  return mode.phases.steady?.cpu_us_per_answer.api ?? null;
}

/** What was busy at the saturating ramp step (the one with the most answers/s). */
function limits(name: string, mode: ModeResult): string {
  const step = mode.ramp.reduce<ModeResult['ramp'][number] | undefined>(
    (best, s) => (!best || s.answered_per_s > best.answered_per_s ? s : best),
    undefined,
  );
  const c = step?.cpu_cores ?? mode.phases.steady?.cpu_cores;
  if (!c) return '–';
  const parts = [
    `client ${c.client}`,
    `API ${c.api}`,
    `PostgreSQL ${c.postgres}`,
    `Redis ${c.redis}`,
    `others ${c.other}`,
  ];
  const workers = name.endsWith('-2proc') ? 2 : 1;
  let verdict: string;
  if (mode.client_bound || c.client >= 0.85)
    verdict = 'the load client (one core, its sends fell behind)';
  else if (c.machine >= 1.85) verdict = `both cores (machine ${c.machine} cores busy)`;
  else if (c.api >= 0.85 * workers)
    verdict = `the API's event loop (${c.api} of ${workers} core${workers > 1 ? 's' : ''})`;
  else if (c.postgres >= 0.85) verdict = 'PostgreSQL CPU';
  else
    verdict = 'waiting, not CPU (no process saturated: locks, round trips or concurrency limits)';
  const at = step ? ` at ${fmt(step.answered_per_s, 0)} answers/s` : '';
  return `${verdict}; cores${at}: ${parts.join(', ')}`;
}

export function reportMarkdown(output: BenchOutput, jsonFile: string, svgFile: string): string {
  const entries = Object.entries(output.modes).filter(
    (e): e is [string, ModeResult] => e[1] !== undefined,
  );
  const lines: string[] = [];
  const s = output.scenario as Record<string, unknown>;
  lines.push(`# Stampede benchmark: ${output.scenario.name} run`, '');
  lines.push(
    `Commit \`${output.commit}\`, ${output.machine.cpus} × ${output.machine.model}, ${output.machine.mem_gb} GB; ` +
      `Node ${output.versions.node}, PostgreSQL ${output.versions.postgres}, Redis ${output.versions.redis}, ` +
      `Fastify ${output.versions.fastify}, undici ${output.versions.undici}. Run took ${output.duration_s} s. ` +
      `Other processes at start: ${output.other_load_at_start.cores} cores busy.`,
    '',
  );
  lines.push(
    `Scenario: one hot product with **${output.scenario.units} units**, **${output.scenario.buyers} buyers** ` +
      `(max 1 per buyer, ORDER_RATE_LIMIT_MS=${String(s.order_rate_limit_ms)}); open-model arrivals: ` +
      `rush ${JSON.stringify(s.rush)}, then a ramp ${JSON.stringify(s.ramp)} until answers fall behind, ` +
      `then a steady phase at 80% of the saturating rate, then a browse storm ${JSON.stringify(s.storm)}. ` +
      `Latency is measured from each request's scheduled send time. Raw data: \`${basename(jsonFile)}\` beside this ` +
      `report on the machine that ran it (kept out of git; \`--report\` redraws this report and its chart from it).`,
    '',
  );
  lines.push(`![throughput and latency over time](${basename(svgFile)})`, '');
  lines.push('## Results', '');
  lines.push(
    '| mode | attempts/s at saturation (offered) | orders/s | sell-out ms | success p50/p95/p99/max ms (rush) | rejected p50/p95/p99/max ms (steady 80%) | peak RSS MB | correct |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [name, r] of entries) {
    lines.push(
      `| ${name} | ${fmt(r.attempts_per_s, 0)} (${fmt(r.offered_attempts_per_s.at_saturation, 0)}${r.client_bound ? ', client-bound' : ''}) | ${fmt(r.orders_per_s, 0)} | ${fmt(r.sellout_ms, 0)} | ${lat(r.latency_ms.success)} | ${lat(r.latency_ms.rejected)} | ${fmt(r.peak_rss_mb, 0)} | ${r.correct ? 'yes' : `**NO** (${r.violations.length})`} |`,
    );
  }
  for (const [name, reason] of Object.entries(output.skipped))
    lines.push(`| ${name} | ${esc(reason)} | | | | | | |`);
  lines.push('');
  lines.push('## Targets (issue 7)', '', '| target | measured | met |', '|---|---|---|');
  for (const c of checkTargets(output)) {
    lines.push(`| ${c.target} | ${c.value} | ${c.met === null ? '–' : c.met ? 'yes' : '**no**'} |`);
  }
  lines.push('');
  const scaling = checkScalingTargets(output);
  if (scaling.length) {
    lines.push('## Targets (issues 13 and 16)', '', '| target | measured | met |', '|---|---|---|');
    for (const c of scaling) {
      lines.push(
        `| ${c.target} | ${c.value} | ${c.met === null ? '–' : c.met ? 'yes' : '**no**'} |`,
      );
    }
    lines.push('');
  }
  lines.push(...shardSection(output));
  lines.push('## What limits each mode', '');
  lines.push(
    'CPU in cores (1.0 = one core) during the ramp step with the most answers/s; the machine has 2.',
    '',
  );
  for (const [name, r] of entries) lines.push(`- **${name}**: ${limits(name, r)}`);
  lines.push('');
  lines.push('## CPU per answered request', '');
  lines.push(
    'Microseconds of CPU per answer (CPU time of the phase / answers): unlike throughput, this barely ' +
      'depends on what else the machine is doing. PostgreSQL counts every postgres process on the machine.',
    '',
    '| mode | phase | API | PostgreSQL | Redis | client |',
    '|---|---|---|---|---|---|',
  );
  for (const [name, r] of entries) {
    for (const phase of ['rush', 'ramp', 'steady', 'storm']) {
      const u = r.phases[phase]?.cpu_us_per_answer;
      if (u)
        lines.push(`| ${name} | ${phase} | ${u.api} | ${u.postgres} | ${u.redis} | ${u.client} |`);
    }
  }
  lines.push('');
  lines.push('## Memory', '');
  lines.push(
    'Peak RSS (VmHWM) per API process, RSS when each phase ended, and the heap the API reports on /metrics at the end.',
    '',
    '| mode | peak RSS per process MB | RSS after warm-up / rush / ramp / steady / storm MB | heap used / total, external MB (end) |',
    '|---|---|---|---|',
  );
  for (const [name, r] of entries) {
    const ends = ['warm-up', 'rush', 'ramp', 'steady', 'storm']
      .map((p) => r.phases[p]?.rss_mb_end ?? '–')
      .join(' / ');
    const m = r.memory_mb_at_end;
    const heap = m
      ? `${fmt(m.nodejs_heap_size_used)} / ${fmt(m.nodejs_heap_size_total)}, ${fmt(m.nodejs_external_memory)}`
      : '–';
    lines.push(
      `| ${name} | ${Object.entries(r.rss_mb_per_process)
        .map(([k, v]) => `${k}: ${fmt(v)}`)
        .join(', ')} | ${ends} | ${heap} |`,
    );
  }
  lines.push('');
  lines.push('## Answers by status and error code', '');
  lines.push('| mode | answers |', '|---|---|');
  for (const [name, r] of entries) {
    lines.push(
      `| ${name} | ${Object.entries(r.status_counts)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} |`,
    );
  }
  lines.push('');
  lines.push('## Ramp steps', '');
  for (const [name, r] of entries) {
    lines.push(
      `**${name}**: ` +
        r.ramp
          .map(
            (st) =>
              `${fmt(st.offered_per_s, 0)}→${fmt(st.answered_per_s, 0)} (p99 ${fmt(st.latency_ms.p99)} ms)`,
          )
          .join(', '),
      '',
    );
  }
  lines.push('## Browse storm (second sale while reads poll)', '');
  lines.push(
    '| mode | offered orders/stock/list per s | answered/s | order 201 p99 ms | order refusal p99 ms | reads p50/p95/p99/max ms |',
    '|---|---|---|---|---|---|',
  );
  for (const [name, r] of entries) {
    const o = r.storm.offered_per_s;
    lines.push(
      `| ${name} | ${fmt(o.orders, 0)} / ${fmt(o.stock, 0)} / ${fmt(o.list, 0)} | ${fmt(r.storm.answered_per_s, 0)} | ${fmt(r.storm.latency_ms.order_success?.p99)} | ${fmt(r.storm.latency_ms.order_rejected?.p99)} | ${lat(r.storm.latency_ms.reads)} |`,
    );
  }
  lines.push('');
  lines.push('## Correctness', '');
  for (const [name, r] of entries) {
    if (!r.verification) {
      lines.push(`- **${name}**: no database (not checked)`);
      continue;
    }
    const v = r.verification;
    lines.push(
      `- **${name}**: ${r.correct ? 'correct' : 'VIOLATIONS'}; ${v.orders_in_db} orders in the database, ${v.orders_seen_201} 201s seen; sync ${JSON.stringify(v.sync)}; ` +
        Object.entries(v.products)
          .map(([p, d]) => `${p}: ${JSON.stringify(d)}`)
          .join('; '),
    );
    for (const violation of r.violations) lines.push(`  - ${esc(violation)}`);
  }
  lines.push('');
  if (output.profile) {
    const sections: [string, PhaseProfile][] = [
      ['sold out, at saturation', output.profile.sold_out],
      ['the rush (sale opening, orders committing)', output.profile.rush],
    ];
    lines.push('## CPU profile of the redis mode', '');
    lines.push(
      `\`node --cpu-prof\` on the API during a separate redis run; raw profile: \`${basename(output.profile.file)}\` ` +
        '(not committed; open it in Chrome DevTools or speedscope). Shares are % of the busy samples of the window; ' +
        '"on stack" counts a sample for every category present anywhere in its stack.',
      '',
    );
    for (const [title, p] of sections) {
      lines.push(`### ${title}`, '');
      lines.push(
        `Offered ${fmt(p.offered_per_s, 0)}/s, answered ${fmt(p.answered_per_s, 0)}/s over ${p.window_s} s; the API process was busy ${p.busy_pct}% of the window ` +
          `(${p.api_cpu_cores} cores, ${fmt(p.api_cpu_us_per_request, 0)} µs of CPU per answered request).`,
        '',
      );
      lines.push(
        '| category | self % | self % charged to the calling package | on stack % |',
        '|---|---|---|---|',
      );
      const incl = new Map(p.inclusive_by_category.map((c) => [c.name, c.pct]));
      const owner = new Map(p.self_by_owner.map((c) => [c.name, c.pct]));
      const names = [...new Set([...p.self_by_owner, ...p.self_by_category].map((c) => c.name))];
      const self = new Map(p.self_by_category.map((c) => [c.name, c.pct]));
      names.sort((a, b) => (owner.get(b) ?? 0) - (owner.get(a) ?? 0));
      for (const name of names)
        lines.push(
          `| ${name} | ${self.get(name) ?? '–'} | ${owner.get(name) ?? '–'} | ${incl.get(name) ?? '–'} |`,
        );
      lines.push('', '| function (self) | module | % |', '|---|---|---|');
      for (const f of p.self_by_function.slice(0, 20))
        lines.push(`| \`${esc(f.name)}\` | ${f.module} | ${f.pct} |`);
      lines.push('', '| app function (inclusive) | % |', '|---|---|');
      for (const f of p.inclusive_by_app_function.slice(0, 15))
        lines.push(`| \`${esc(f.name)}\` | ${f.pct} |`);
      lines.push('');
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Indented JSON with arrays of numbers kept on one line (the timelines stay readable). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/\[\s+([-\d.,\s\w]*?)\s+\]/g, (_, inner: string) => `[${inner.replace(/\s+/g, ' ')}]`)}\n`;
}

/** Write the report (Markdown + SVG) next to the JSON result; the Markdown file's path. */
export function writeReport(output: BenchOutput, jsonFile: string): string {
  const base = join(dirname(jsonFile), basename(jsonFile, '.json'));
  const svgFile = `${base}.svg`;
  const mdFile = `${base}.md`;
  writeFileSync(svgFile, chartSvg(output));
  writeFileSync(mdFile, reportMarkdown(output, jsonFile, svgFile));
  return mdFile;
}
