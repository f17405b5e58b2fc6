import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A small analyser of V8 `.cpuprofile` files (node --cpu-prof): self time by function and by
 * module, and inclusive time by function and by category (what is on the stack), optionally
 * restricted to a time window (CLOCK_MONOTONIC microseconds, as `process.hrtime`).
 *
 *   npx tsx bench/src/profile.ts <file.cpuprofile> [--from <us>] [--to <us>]
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface Share {
  readonly name: string;
  readonly pct: number;
}

export interface ProfileAnalysis {
  readonly window_s: number;
  readonly samples: number;
  /** Share of the window the process was running JavaScript, GC or native code (not idle). */
  readonly busy_pct: number;
  /** Everything below is a percentage of the busy samples. */
  readonly self_by_category: Share[];
  /**
   * Self time with native and node-internal frames charged to the nearest caller that is a
   * package or the app (so a socket write counts for ioredis, Fastify or pino, whoever wrote).
   */
  readonly self_by_owner: Share[];
  readonly inclusive_by_category: Share[];
  readonly self_by_module: Share[];
  readonly self_by_function: (Share & { readonly module: string })[];
  readonly inclusive_by_app_function: Share[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (SPECIAL.has(functionName) && !url) return functionName;
  if (!url) return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) {
    const parts = url
      .slice(5)
      .replace(/^internal\//, '')
      .split('/');
    return `node:${parts[0]!.replace(/\.js$/, '')}`;
  }
  const app = /\/apps\/api\/src\/(.*)$/.exec(url);
  if (app) return `app:${app[1]}`;
  if (url.includes('/packages/contract/')) return '@stampede/contract';
  return url.replace(/^file:\/\//, '');
}

const CATEGORIES: [string, RegExp][] = [
  ['idle', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['V8/native (program)', /^\(program\)$|^\(native\)$/],
  [
    'logging (pino)',
    /^(pino|sonic-boom|thread-stream|pino-std-serializers|fast-redact|on-exit-leak-free|quick-format-unescaped|atomic-sleep|safe-stable-stringify)$/,
  ],
  ['metrics (prom-client)', /^(prom-client|tdigest|bintrees)$|^app:observability\//],
  [
    'Redis client (ioredis)',
    /^(ioredis|redis-parser|redis-errors|cluster-key-slot|denque|standard-as-callback|lodash\.\w+)$/,
  ],
  [
    'PostgreSQL client + ORM',
    /^(pg|pg-protocol|pg-pool|pg-types|pg-connection-string|postgres-\w+|drizzle-orm|buffer-writer|packet-reader)$/,
  ],
  ['JWT (fast-jwt)', /^(fast-jwt|mnemonist|asn1\.js|obliterator)$/],
  ['validation/serialisation (zod)', /^(zod|fastify-type-provider-zod)$|^@stampede\/contract$/],
  [
    'Fastify core',
    /^(fastify|find-my-way|avvio|fast-json-stringify|secure-json-parse|fast-querystring|@fastify\/.*|light-my-request|process-warning|rfdc|toad-cache|abstract-logging|fast-decode-uri-component|content-type|proxy-addr|json-schema-ref-resolver|fastq|reusify|ret|safe-regex2)$/,
  ],
  ['tsx/esbuild loader', /^(tsx|esbuild|get-tsconfig|source-map-support)$/],
  [
    'node: http/net/streams',
    /^node:(http|_http_\w+|net|stream|streams|events|buffer|timers|async_hooks|process|util|url|dns|tcp_wrap|stream_base_commons|errors|validators|querystring)$/,
  ],
  ['node: crypto', /^node:crypto$/],
  ['app code', /^app:/],
];

export function categoryOf(module: string): string {
  for (const [name, pattern] of CATEGORIES) if (pattern.test(module)) return name;
  if (module.startsWith('node:')) return 'node: other internals';
  return 'other';
}

const pct = (n: number, total: number) => Math.round((n / Math.max(total, 1)) * 1000) / 10;

function top(counts: Map<string, number>, total: number, limit: number): Share[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, n]) => ({ name, pct: pct(n, total) }));
}

export function analyseProfile(
  profile: CpuProfile,
  window: { from?: number; to?: number } = {},
): ProfileAnalysis {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const fnKey = (frame: CallFrame) =>
    `${frame.functionName || '(anonymous)'} ${frame.url ? `${frame.url.replace(/^.*\/(apps|node_modules)\//, '$1/')}:${frame.lineNumber + 1}` : ''}`.trim();

  const selfFn = new Map<string, number>();
  const fnModule = new Map<string, string>();
  const selfModule = new Map<string, number>();
  const selfCategory = new Map<string, number>();
  const selfOwner = new Map<string, number>();
  const inclusiveCategory = new Map<string, number>();
  const inclusiveApp = new Map<string, number>();
  let time = profile.startTime;
  let samples = 0;
  let idle = 0;
  let firstAt = Infinity;
  let lastAt = -Infinity;
  const from = window.from ?? -Infinity;
  const to = window.to ?? Infinity;
  for (let i = 0; i < profile.samples.length; i += 1) {
    time += profile.timeDeltas[i] ?? 0;
    if (time < from || time > to) continue;
    firstAt = Math.min(firstAt, time);
    lastAt = Math.max(lastAt, time);
    samples += 1;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const module = moduleOf(node.callFrame);
    if (module === '(idle)') {
      idle += 1;
      continue;
    }
    const key = fnKey(node.callFrame);
    selfFn.set(key, (selfFn.get(key) ?? 0) + 1);
    fnModule.set(key, module);
    selfModule.set(module, (selfModule.get(module) ?? 0) + 1);
    const category = categoryOf(module);
    selfCategory.set(category, (selfCategory.get(category) ?? 0) + 1);
    let owner = SPECIAL.has(node.callFrame.functionName) ? category : undefined;
    const categories = new Set<string>();
    const appFns = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const m = moduleOf(frame);
      if (m === '(root)') continue;
      if (owner === undefined && !m.startsWith('node:') && m !== '(native)') owner = categoryOf(m);
      categories.add(categoryOf(m));
      if (m.startsWith('app:'))
        appFns.add(`${frame.functionName || '(anonymous)'} (${m.slice(4)})`);
    }
    owner ??= 'node internals (no package caller)';
    selfOwner.set(owner, (selfOwner.get(owner) ?? 0) + 1);
    for (const c of categories) inclusiveCategory.set(c, (inclusiveCategory.get(c) ?? 0) + 1);
    for (const f of appFns) inclusiveApp.set(f, (inclusiveApp.get(f) ?? 0) + 1);
  }
  const busy = samples - idle;
  return {
    window_s: Math.round((lastAt - firstAt) / 1e4) / 100,
    samples,
    busy_pct: pct(busy, samples),
    self_by_category: top(selfCategory, busy, 20),
    self_by_owner: top(selfOwner, busy, 20),
    inclusive_by_category: top(inclusiveCategory, busy, 20),
    self_by_module: top(selfModule, busy, 25),
    self_by_function: top(selfFn, busy, 30).map((s) => ({
      ...s,
      module: fnModule.get(s.name) ?? '',
    })),
    inclusive_by_app_function: top(inclusiveApp, busy, 25),
  };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx bench/src/profile.ts <file.cpuprofile> [--from us] [--to us]');
    process.exit(2);
  }
  const arg = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? Number(rest[i + 1]) : undefined;
  };
  const from = arg('--from');
  const to = arg('--to');
  const analysis = analyseProfile(readProfile(file), {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  });
  console.log(JSON.stringify(analysis, null, 2));
}
