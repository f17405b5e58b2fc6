import { setTimeout as sleep } from 'node:timers/promises';
import { createBuyers, createSaleProduct, loginAdmin, signToken } from './fixtures.ts';
import type { LatencySummary } from './histogram.ts';
import {
  LoadClient,
  Tally,
  Timeline,
  type Answer,
  type Segment,
  type SegmentResult,
  type Shot,
} from './load.ts';
import {
  cpuBetween,
  cpuSnapshot,
  cpuSnapshotOf,
  memoryOf,
  type CpuSnapshot,
  type CpuUse,
} from './proc.ts';
import type { Progress } from './progress.ts';
import type { ShardCpu } from './redis-cluster.ts';
import type { Scenario } from './scenario.ts';
import { startServer, type ModeSpec, type RunningServer, type ServerOptions } from './servers.ts';
import { verifyRun, type ProductUnderTest, type SeenOrder, type Verdict } from './verify.ts';

/**
 * One mode, start to finish, one function per phase, in the order `runMode` calls them: start the
 * server (a fresh database), seed the products and buyers, warm up, the rush, the ramp to the
 * sold-out saturation, steady at 80% of it, the browse storm, collect the memory figures, verify
 * the sale, stop the server; then `summarize` turns what they measured into the mode's result.
 */

export interface StepReport {
  readonly offered_per_s: number;
  readonly cpu_cores: CpuUse | null;
  readonly answered_per_s: number;
  readonly orders_per_s: number;
  readonly latency_ms: LatencySummary;
  readonly late_sends: number;
  readonly dropped: number;
  readonly errors: number;
}

export interface PhaseReport {
  readonly offered_per_s: number;
  readonly duration_ms: number;
  readonly attempts: number;
  readonly answered_per_s: number;
  readonly latency_ms: {
    readonly success: LatencySummary;
    readonly rejected: LatencySummary;
    readonly read?: LatencySummary;
  };
  readonly outcomes: Record<string, number>;
  readonly cpu_cores: CpuUse;
  /** RSS of the (largest) API process when the phase ended. */
  readonly rss_mb_end: number;
  /** CPU microseconds per answered request, per party: robust to a busy machine. */
  readonly cpu_us_per_answer: { client: number; api: number; postgres: number; redis: number };
  readonly late_sends: number;
  /** Cluster modes: each master's CPU over the phase (INFO cpu), per answered request. */
  readonly redis_shards?: ShardReport;
}

export interface ShardReport {
  /** Per master (by port): CPU seconds used in the phase and µs of it per answered request. */
  readonly masters: Record<string, { cpu_s: number; us_per_answer: number }>;
  /** The busiest master's CPU µs per answered request. */
  readonly busiest_us_per_answer: number;
  /** All masters together, µs per answered request. */
  readonly total_us_per_answer: number;
  /** The busiest master's share of the masters' CPU (1/3 = perfectly even on 3 masters). */
  readonly busiest_share: number;
  /** Busiest / least busy master's CPU. */
  readonly max_over_min: number | null;
}

function shardReport(before: ShardCpu, after: ShardCpu, answered: number): ShardReport {
  const n = Math.max(answered, 1);
  const masters: ShardReport['masters'] = {};
  for (const [port, s] of Object.entries(after)) {
    const cpuS = Math.max(0, s - (before[port] ?? 0));
    masters[port] = { cpu_s: Math.round(cpuS * 1e4) / 1e4, us_per_answer: r1((cpuS * 1e6) / n) };
  }
  const used = Object.values(masters).map((m) => m.cpu_s);
  const total = used.reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...used);
  const min = Math.min(...used);
  return {
    masters,
    busiest_us_per_answer: r1((max * 1e6) / n),
    total_us_per_answer: r1((total * 1e6) / n),
    busiest_share: total > 0 ? Math.round((max / total) * 1000) / 1000 : 0,
    max_over_min: min > 0 ? Math.round((max / min) * 100) / 100 : null,
  };
}

export interface ModeResult {
  readonly attempts_per_s: number;
  readonly orders_per_s: number | null;
  readonly sellout_ms: number | null;
  readonly latency_ms: { readonly success: LatencySummary; readonly rejected: LatencySummary };
  readonly status_counts: Record<string, number>;
  readonly peak_rss_mb: number;
  readonly correct: boolean;
  readonly violations: string[];
  // Everything below is detail beyond the shape.
  readonly description: string;
  readonly offered_attempts_per_s: { readonly at_saturation: number; readonly max: number };
  readonly saturated: boolean;
  readonly client_bound: boolean;
  readonly commit_orders_per_s: number | null;
  readonly steady_rate_per_s: number;
  readonly rss_mb_per_process: Record<string, number>;
  /** From the API's own /metrics at the end of the run (one process), MB. */
  readonly memory_mb_at_end: Record<string, number> | null;
  readonly startup_ms: number;
  /** Exit code after SIGTERM (0 = graceful; 143 = cut short by a signal handler). */
  readonly server_exit_code: number | null;
  readonly phases: Record<string, PhaseReport>;
  readonly ramp: StepReport[];
  readonly storm: {
    offered_per_s: { orders: number; stock: number; list: number };
    latency_ms: Record<string, LatencySummary>;
    answered_per_s: number;
    status_counts: Record<string, number>;
  };
  readonly verification: Omit<Verdict, 'correct' | 'violations'> | null;
  readonly timeline: {
    readonly window_ms: number;
    readonly phases: { name: string; start_ms: number; end_ms: number }[];
    /** Per window: [offered/s, answered/s, orders/s, p50 ms, p99 ms]. */
    readonly series: [number, number, number, number | null, number | null][];
  };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

function perAnswer(cpu: CpuUse, wallS: number, answered: number): PhaseReport['cpu_us_per_answer'] {
  const us = (cores: number) => Math.round((cores * wallS * 1e6) / Math.max(answered, 1));
  return {
    client: us(cpu.client),
    api: us(cpu.api),
    postgres: us(cpu.postgres),
    redis: us(cpu.redis),
  };
}

interface Target {
  readonly spec: ModeSpec;
  readonly server: RunningServer;
  readonly client: LoadClient;
  readonly adminToken: string | undefined;
  readonly products: { hot: number; storm: number; warmup: number };
  readonly buyers: { ids: number[]; auth: string[] };
  readonly warmupBuyers: { ids: number[]; auth: string[] };
}

export interface RunModeHooks {
  /** Called with the saturating rate before the steady phase (the profiler uses it). */
  afterRamp?: (saturation: number) => void;
  /** Skip the steady phase, storm and verification (profiling runs). */
  loadOnly?: boolean;
  /** Called as each phase starts and ends (after its answers are in). */
  onPhase?: (name: string, edge: 'start' | 'end') => void;
  /** A server started ahead of time (the quick run starts them all at once). */
  server?: Promise<RunningServer>;
}

/** Phase: the mode's server (one started ahead of time, or a new one). */
async function startTheServer(
  spec: ModeSpec,
  scenario: Scenario,
  options: ServerOptions,
  progress: Progress,
  started: Promise<RunningServer> | undefined,
): Promise<RunningServer> {
  progress.phase('starting server');
  return (
    (await started) ?? (await startServer(spec, { ...options, rateLimitMs: scenario.rateLimitMs }))
  );
}

/** Phase: the client's connections, then the sale's products and buyers. */
async function seed(
  spec: ModeSpec,
  scenario: Scenario,
  options: ServerOptions,
  progress: Progress,
  server: RunningServer,
): Promise<Target> {
  const client = new LoadClient({ origin: server.origin, ...scenario.client });
  // Open every connection now: the sale's first second should not measure TCP handshakes.
  await Promise.all(
    Array.from({ length: scenario.client.connections }, () => client.call('GET', '/healthz')),
  );
  const total = scenario.buyers + scenario.warmup.buyers;
  if (spec.kind === 'baseline') {
    const ids = Array.from({ length: total }, (_, i) => i + 1);
    const auth = ids.map((id) => `Bearer ${signToken(server.jwtSecret, id)}`);
    return {
      spec,
      server,
      client,
      adminToken: undefined,
      products: { hot: 1, storm: 2, warmup: 3 },
      buyers: { ids: ids.slice(0, scenario.buyers), auth: auth.slice(0, scenario.buyers) },
      warmupBuyers: { ids: ids.slice(scenario.buyers), auth: auth.slice(scenario.buyers) },
    };
  }
  progress.phase('creating products and buyers');
  const adminToken = await loginAdmin(client, server.admin);
  const tag = `${options.runId}-${spec.name}`;
  const max = 1;
  const hot = await createSaleProduct(client, adminToken, {
    sku: `BENCH-HOT-${tag}`,
    name: 'Hot product',
    stock: scenario.units,
    maxPerUser: max,
    ...(spec.stockBuckets !== undefined && { stockBuckets: spec.stockBuckets }),
  });
  const storm = await createSaleProduct(client, adminToken, {
    sku: `BENCH-STORM-${tag}`,
    name: 'Second sale',
    stock: scenario.storm.units,
    maxPerUser: max,
  });
  const warmup = await createSaleProduct(client, adminToken, {
    sku: `BENCH-WARMUP-${tag}`,
    name: 'Warm-up product',
    stock: scenario.warmup.units,
    maxPerUser: max,
  });
  const ids = await createBuyers(server.databaseUrl!, total, tag);
  const auth = ids.map((id) => `Bearer ${signToken(server.jwtSecret, id)}`);
  return {
    spec,
    server,
    client,
    adminToken,
    products: { hot, storm, warmup },
    buyers: { ids: ids.slice(0, scenario.buyers), auth: auth.slice(0, scenario.buyers) },
    warmupBuyers: { ids: ids.slice(scenario.buyers), auth: auth.slice(scenario.buyers) },
  };
}

/** Heap and RSS as the API reports them on /metrics (Node default metrics), in MB. */
async function heapMetrics(client: LoadClient): Promise<Record<string, number> | null> {
  try {
    const { status, body } = await client.call('GET', '/metrics');
    if (status !== 200 || typeof body !== 'string') return null;
    const wanted = [
      'process_resident_memory_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_external_memory_bytes',
    ];
    const out: Record<string, number> = {};
    for (const line of body.split('\n')) {
      const [name, value] = line.split(' ');
      if (name && wanted.includes(name) && value) {
        out[name.replace(/_bytes$/, '')] = Math.round(Number(value) / 1024 / 102.4) / 10;
      }
    }
    return out;
  } catch {
    return null;
  }
}

/** Smooth weighted round robin: shot kinds interleaved evenly in the given proportions. */
function interleave<K extends string>(weights: Record<K, number>): () => K {
  const kinds = (Object.keys(weights) as K[]).filter((k) => weights[k] > 0);
  const current = new Map<K, number>(kinds.map((k) => [k, 0]));
  const total = kinds.reduce((sum, k) => sum + weights[k], 0);
  return () => {
    let best = kinds[0]!;
    for (const k of kinds) {
      current.set(k, current.get(k)! + weights[k]);
      if (current.get(k)! > current.get(best)!) best = k;
    }
    current.set(best, current.get(best)! - total);
    return best;
  };
}

const stockShot = (productId: number): Shot => ({
  kind: 'stock',
  method: 'GET',
  path: `/api/products/${productId}/stock`,
});
const listShot: Shot = { kind: 'list', method: 'GET', path: '/api/products?page_size=20' };

/**
 * What the phases of one mode share: the shots they fire (each order a fresh idempotency key),
 * every answer seen (the 201s the verifier checks, the hot product's sell-out), and the runner
 * that measures a phase.
 */
class ModeRun {
  readonly server: RunningServer;
  readonly client: LoadClient;
  /** Order ids answered 201, with who asked and with which key. */
  readonly seen = new Map<number, SeenOrder>();
  /** Every order attempt after the warm-up. */
  readonly all = new Tally();
  readonly phases: Record<string, PhaseReport> = {};
  readonly phaseMarks: { name: string; start_ms: number; end_ms: number }[] = [];
  readonly attemptsFor = new Map<number, number>();
  serverErrors = 0;
  unanswered = 0;
  hotSold = 0;
  selloutAt: number | null = null;
  hotFirst201: number | null = null;
  hotLast201: number | null = null;
  rushStart = 0;
  /** Set when the rush starts: the warm-up stays out of the chart. */
  timeline: Timeline | undefined;
  /** CPU at the start of the running phase (the ramp measures each step from it). */
  phaseSnapshot: CpuSnapshot | undefined;
  private keySeq = 0;
  private buyerCursor = 0;
  private warmupCursor = 0;
  private readonly orderBodies = new Map<number, string>();

  constructor(
    readonly spec: ModeSpec,
    readonly scenario: Scenario,
    readonly options: ServerOptions,
    readonly progress: Progress,
    readonly hooks: RunModeHooks,
    readonly target: Target,
  ) {
    this.server = target.server;
    this.client = target.client;
  }

  orderShot(productId: number, pool: 'main' | 'warmup'): Shot {
    const buyers = pool === 'main' ? this.target.buyers : this.target.warmupBuyers;
    const index =
      pool === 'main' ? this.buyerCursor++ % buyers.ids.length : this.keySeq % buyers.ids.length;
    const key = `${this.options.runId}-${this.spec.name}-${(this.keySeq += 1)}`;
    this.attemptsFor.set(productId, (this.attemptsFor.get(productId) ?? 0) + 1);
    let body = this.orderBodies.get(productId);
    if (!body) {
      body = JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] });
      this.orderBodies.set(productId, body);
    }
    return {
      kind: 'order',
      method: 'POST',
      path: '/api/orders',
      headers: {
        authorization: buyers.auth[index]!,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body,
      tag: { userId: buyers.ids[index]!, key, productId } satisfies SeenOrder,
    };
  }

  warmupOrder(): Shot {
    const buyers = this.target.warmupBuyers;
    const index = this.warmupCursor++ % buyers.ids.length;
    const key = `${this.options.runId}-${this.spec.name}-w${index}-${this.warmupCursor}`;
    const productId = this.target.products.warmup;
    this.attemptsFor.set(productId, (this.attemptsFor.get(productId) ?? 0) + 1);
    return {
      kind: 'order',
      method: 'POST',
      path: '/api/orders',
      headers: {
        authorization: buyers.auth[index]!,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] }),
      tag: { userId: buyers.ids[index]!, key, productId } satisfies SeenOrder,
    };
  }

  private readonly onAnswer = (answer: Answer): void => {
    if (answer.shot.kind !== 'order') return;
    if (answer.status === 0 && answer.outcome !== 'client_dropped') this.unanswered += 1;
    if (answer.status >= 500 && answer.status !== 503) this.serverErrors += 1;
    if (answer.status === 201) {
      const tag = answer.shot.tag as SeenOrder;
      const id = (answer.body as { id?: number } | undefined)?.id;
      if (typeof id === 'number') this.seen.set(id, tag);
      if (tag.productId === this.target.products.hot) {
        this.hotSold += 1;
        this.hotFirst201 ??= answer.doneAt;
        this.hotLast201 = answer.doneAt;
        if (this.hotSold === this.scenario.units) this.selloutAt = answer.doneAt;
      }
    }
  };

  /** Fire a phase's segments, wait for its last answers, and record what it measured. */
  async runPhase(
    name: string,
    segments: Segment[] | Iterable<Segment>,
    after?: (result: SegmentResult) => boolean,
  ): Promise<{ results: SegmentResult[]; report: PhaseReport; tally: Tally }> {
    const { server, client, progress, scenario, hooks, timeline } = this;
    progress.phase(name);
    const shardsBefore = await server.redisCluster?.shardCpu();
    const before: CpuSnapshot = cpuSnapshot(server.apiPids());
    this.phaseSnapshot = before;
    hooks.onPhase?.(name, 'start');
    const started = performance.now();
    const results = await client.run(segments, {
      onAnswer: this.onAnswer,
      ...(name === 'warm-up' ? {} : { timeline }),
      after: (result) => {
        progress.step(result);
        return after ? after(result) : true;
      },
    });
    await client.idle(scenario.client.timeoutMs + 1000);
    hooks.onPhase?.(name, 'end');
    const ended = performance.now();
    const cpu = cpuBetween(before, cpuSnapshot(server.apiPids()));
    const shardsAfter = await server.redisCluster?.shardCpu();
    const tally = new Tally();
    for (const result of results) tally.merge(result.tally);
    const activeMs = results.reduce((sum, r) => sum + (r.endAt - r.startAt), 0);
    const answered = Object.entries(tally.outcomes)
      .filter(([k]) => !k.includes('client_'))
      .reduce((sum, [, n]) => sum + n, 0);
    const report: PhaseReport = {
      offered_per_s: r1((tally.offered / Math.max(activeMs, 1)) * 1000),
      duration_ms: Math.round(activeMs),
      attempts: tally.offered,
      answered_per_s: r1((answered / Math.max(ended - started, 1)) * 1000),
      latency_ms: {
        success: tally.success.summaryMs(),
        rejected: tally.rejected.summaryMs(),
        ...(tally.read.count > 0 ? { read: tally.read.summaryMs() } : {}),
      },
      outcomes: tally.outcomes,
      cpu_cores: cpu,
      cpu_us_per_answer: perAnswer(cpu, (ended - started) / 1000, answered),
      rss_mb_end: Math.round(
        Math.max(0, ...server.apiPids().map((pid) => memoryOf(pid)?.rssMb ?? 0)),
      ),
      late_sends: results.reduce((sum, r) => sum + r.lateSends, 0),
      ...(shardsBefore && shardsAfter
        ? { redis_shards: shardReport(shardsBefore, shardsAfter, answered) }
        : {}),
    };
    this.phases[name] = report;
    if (timeline && name !== 'warm-up') {
      this.phaseMarks.push({
        name,
        start_ms: Math.round(started - timeline.origin),
        end_ms: Math.round(ended - timeline.origin),
      });
    }
    return { results, report, tally };
  }

  /** The quiet between two phases. */
  pause(): Promise<void> {
    return sleep(this.scenario.pauseMs);
  }
}

/** Phase: JIT, pools, caches, on a product and buyers of its own; nothing is measured. */
async function warmUp(run: ModeRun): Promise<void> {
  const warm = run.scenario.warmup;
  const nextWarm = interleave({ order: 2, stock: 1 });
  await run.runPhase('warm-up', [
    {
      name: 'warm-up',
      rate: warm.rate,
      durationMs: warm.durationMs,
      next: () =>
        nextWarm() === 'order' ? run.warmupOrder() : stockShot(run.target.products.warmup),
    },
  ]);
}

/** Phase: the sale opens; orders/s, the time to sell out and the success latency. */
async function rush(run: ModeRun): Promise<void> {
  const { scenario } = run;
  run.rushStart = performance.now();
  run.timeline = new Timeline(run.rushStart, scenario.windowMs);
  const phase = await run.runPhase('rush', [
    {
      name: 'rush',
      rate: scenario.rush.rate,
      durationMs: scenario.rush.durationMs,
      next: () => run.orderShot(run.target.products.hot, 'main'),
    },
  ]);
  run.all.merge(phase.tally);
}

interface Saturation {
  /** The best answers/s of a ramp step: the mode's attempts/s at saturation. */
  readonly rate: number;
  readonly offeredAtSaturation: number;
  readonly maxOffered: number;
  readonly saturated: boolean;
  readonly clientBound: boolean;
  readonly steps: StepReport[];
}

/** Phase: sold-out refusals at a rising rate until answers fall behind (the saturation). */
async function rampToSaturation(run: ModeRun): Promise<Saturation> {
  const { scenario } = run;
  const steps = function* (): Generator<Segment> {
    for (
      let rate = scenario.ramp.startRate;
      rate <= scenario.ramp.maxRate;
      rate *= scenario.ramp.factor
    ) {
      yield {
        name: `ramp ${Math.round(rate)}/s`,
        rate: Math.round(rate),
        durationMs: scenario.ramp.stepMs,
        next: () => run.orderShot(run.target.products.hot, 'main'),
      };
    }
  };
  // Saturated: answers fell behind the arrivals two steps running (one step can be noise),
  // or far behind once. A client that cannot keep its own schedule stops the ramp too.
  let saturated = false;
  let clientBound = false;
  let behindSteps = 0;
  let lateSteps = 0;
  let stepSnapshot: CpuSnapshot | undefined;
  const stepCpu: (CpuUse | null)[] = [];
  const phase = await run.runPhase('ramp', steps(), (result) => {
    stepSnapshot ??= run.phaseSnapshot;
    const now = stepSnapshot ? cpuSnapshotOf(stepSnapshot) : undefined;
    stepCpu.push(stepSnapshot && now ? cpuBetween(stepSnapshot, now) : null);
    stepSnapshot = now;
    const ratio = result.answeredPerS / result.rate;
    behindSteps = ratio < scenario.ramp.saturatedBelow ? behindSteps + 1 : 0;
    lateSteps = result.lateSends > 0.2 * result.tally.offered ? lateSteps + 1 : 0;
    if (lateSteps >= 2) clientBound = true;
    if (behindSteps >= 2 || ratio < 0.6) saturated = true;
    return !saturated && !clientBound;
  });
  run.all.merge(phase.tally);
  let best = 0;
  let offeredAtSaturation = 0;
  let maxOffered = 0;
  const reports: StepReport[] = [];
  for (const result of phase.results) {
    maxOffered = Math.max(maxOffered, result.rate);
    if (result.answeredPerS > best) {
      best = result.answeredPerS;
      offeredAtSaturation = result.rate;
    }
    reports.push({
      offered_per_s: result.rate,
      cpu_cores: stepCpu[reports.length] ?? null,
      answered_per_s: r1(result.answeredPerS),
      orders_per_s: r1(result.successPerS),
      latency_ms: result.tally.all.summaryMs(),
      late_sends: result.lateSends,
      dropped: result.tally.outcomes.client_dropped ?? 0,
      errors: result.tally.errors,
    });
  }
  return {
    rate: r1(best),
    offeredAtSaturation,
    maxOffered,
    saturated,
    clientBound,
    steps: reports,
  };
}

/** Phase: refusals at 80% of the saturating rate (the rejection latency); its rate. */
async function steady(run: ModeRun, saturation: number): Promise<number> {
  const { scenario } = run;
  const rate = Math.max(50, Math.round(saturation * scenario.steady.share));
  const phase = await run.runPhase('steady', [
    {
      name: `steady ${rate}/s`,
      rate,
      durationMs: scenario.steady.durationMs,
      next: () => run.orderShot(run.target.products.hot, 'main'),
    },
  ]);
  run.all.merge(phase.tally);
  return rate;
}

/** Phase: a second sale while product lists and stock polls arrive (reads under orders). */
async function browseStorm(run: ModeRun, saturation: number): Promise<ModeResult['storm']> {
  const s = run.scenario.storm;
  const { products } = run.target;
  const orderRate = (s.units * s.orderAttemptsPerUnit) / (s.durationMs / 1000);
  const readRate = Math.max(100, saturation * s.readShare);
  const listRate = readRate * s.listShare;
  const stockRate = readRate - listRate;
  const pick = interleave({
    order: Math.round(orderRate),
    stock: Math.round(stockRate),
    list: Math.round(listRate),
  });
  let poll = 0;
  const phase = await run.runPhase('storm', [
    {
      name: 'storm',
      rate: Math.round(orderRate + readRate),
      durationMs: s.durationMs,
      next: () => {
        const kind = pick();
        if (kind === 'order') return run.orderShot(products.storm, 'main');
        if (kind === 'list') return listShot;
        poll += 1;
        return stockShot(poll % 2 === 0 ? products.hot : products.storm);
      },
    },
  ]);
  // Orders of the storm count in the mode's status counts too.
  for (const [key, n] of Object.entries(phase.tally.outcomes)) {
    if (key.startsWith('stock ') || key.startsWith('list ')) continue;
    run.all.outcomes[key] = (run.all.outcomes[key] ?? 0) + n;
  }
  return {
    offered_per_s: { orders: r1(orderRate), stock: r1(stockRate), list: r1(listRate) },
    latency_ms: {
      order_success: phase.tally.success.summaryMs(),
      order_rejected: phase.tally.rejected.summaryMs(),
      reads: phase.tally.read.summaryMs(),
    },
    answered_per_s: phase.report.answered_per_s,
    status_counts: phase.tally.outcomes,
  };
}

/** Phase: the server's memory once the load is over (peak RSS per process, its own heap figures). */
async function collectMemory(
  run: ModeRun,
): Promise<{ peaks: Record<string, number>; memory: Record<string, number> | null }> {
  await sleep(500);
  const peaks = run.server.peakRss();
  const memory = run.spec.metrics ? await heapMetrics(run.client) : null;
  return { peaks, memory };
}

/** Phase: the sale checked in the database and the gate (API modes). */
async function verify(run: ModeRun): Promise<Verdict> {
  const { scenario, target, server, spec } = run;
  const product = (label: string, id: number, initial: number, buckets = 1): ProductUnderTest => ({
    id,
    label,
    initial,
    maxPerUser: 1,
    attempts: run.attemptsFor.get(id) ?? 0,
    buckets,
  });
  run.progress.phase('verifying');
  return verifyRun({
    databaseUrl: server.databaseUrl!,
    products: [
      product('hot', target.products.hot, scenario.units, spec.stockBuckets ?? 1),
      product('storm', target.products.storm, scenario.storm.units),
      product('warm-up', target.products.warmup, scenario.warmup.units),
    ],
    seen: run.seen,
    unanswered: run.unanswered,
    serverErrors: run.serverErrors,
    client: run.client,
    adminToken: target.adminToken!,
    redisPrefix: server.redisPrefix,
    redisCluster: server.redisCluster,
    gateOn: spec.gate && spec.redis,
  });
}

/** Phase: the client's connections closed and the server stopped; its exit code. */
async function stopTheServer(run: ModeRun): Promise<number | null> {
  run.progress.phase('stopping server');
  await run.client.close().catch(() => undefined);
  return (await run.server.stop()).exitCode;
}

/** The mode's result from what its phases measured. */
function summarize(
  run: ModeRun,
  measured: {
    saturation: Saturation | undefined;
    steadyRate: number;
    storm: ModeResult['storm'];
    peaks: Record<string, number>;
    memory: Record<string, number> | null;
    verdict: Verdict | null;
    serverExitCode: number | null;
  },
): ModeResult {
  const { spec, scenario, phases, all } = run;
  const { saturation, steadyRate, storm, peaks, memory, verdict, serverExitCode } = measured;
  const windows = run.timeline?.windows ?? [];
  const perS = 1000 / scenario.windowMs;
  const series = windows.map((w): [number, number, number, number | null, number | null] => [
    Math.round(w.offered * perS),
    Math.round((w.success + w.rejected + w.read) * perS),
    Math.round(w.success * perS),
    w.latency.count ? w.latency.percentile(50) / 1000 : null,
    w.latency.count ? w.latency.percentile(99) / 1000 : null,
  ]);
  const selloutMs = run.selloutAt === null ? null : Math.round(run.selloutAt - run.rushStart);
  const violations = verdict ? verdict.violations : [];
  if (spec.kind !== 'api' && run.serverErrors > 0) {
    violations.push(`${run.serverErrors} answers were 5xx errors`);
  }
  const peakValues = Object.values(peaks);
  const { hotFirst201, hotLast201, hotSold } = run;
  return {
    attempts_per_s: saturation?.rate ?? 0,
    orders_per_s: selloutMs ? r1(scenario.units / (selloutMs / 1000)) : null,
    sellout_ms: selloutMs,
    latency_ms: {
      success: phases.rush?.latency_ms.success ?? all.success.summaryMs(),
      rejected: phases.steady?.latency_ms.rejected ?? all.rejected.summaryMs(),
    },
    status_counts: Object.fromEntries(
      Object.entries(all.outcomes).sort(([a], [b]) => a.localeCompare(b)),
    ),
    peak_rss_mb: peakValues.length ? Math.max(...peakValues) : 0,
    correct: violations.length === 0,
    violations,
    description: spec.description,
    offered_attempts_per_s: {
      at_saturation: saturation?.offeredAtSaturation ?? 0,
      max: saturation?.maxOffered ?? 0,
    },
    saturated: saturation?.saturated ?? false,
    client_bound: saturation?.clientBound ?? false,
    commit_orders_per_s:
      hotFirst201 !== null && hotLast201 !== null && hotSold > 1 && hotLast201 > hotFirst201
        ? r1(((hotSold - 1) / (hotLast201 - hotFirst201)) * 1000)
        : null,
    steady_rate_per_s: steadyRate,
    rss_mb_per_process: peaks,
    memory_mb_at_end: memory,
    startup_ms: run.server.startupMs,
    server_exit_code: serverExitCode,
    phases,
    ramp: saturation?.steps ?? [],
    storm,
    verification: verdict ? (({ correct: _c, violations: _v, ...rest }) => rest)(verdict) : null,
    timeline: { window_ms: scenario.windowMs, phases: run.phaseMarks, series },
  };
}

export async function runMode(
  spec: ModeSpec,
  scenario: Scenario,
  options: ServerOptions,
  progress: Progress,
  hooks: RunModeHooks = {},
): Promise<ModeResult> {
  const server = await startTheServer(spec, scenario, options, progress, hooks.server);
  let target: Target;
  try {
    target = await seed(spec, scenario, options, progress, server);
  } catch (error) {
    await server.stop();
    throw error;
  }
  progress.attach(target.client);
  const run = new ModeRun(spec, scenario, options, progress, hooks, target);

  let saturation: Saturation | undefined;
  let steadyRate = 0;
  let storm: ModeResult['storm'] = {
    offered_per_s: { orders: 0, stock: 0, list: 0 },
    latency_ms: {},
    answered_per_s: 0,
    status_counts: {},
  };
  let peaks: Record<string, number> = {};
  let memory: Record<string, number> | null = null;
  let verdict: Verdict | null = null;
  let serverExitCode: number | null;
  try {
    await warmUp(run);
    await run.pause();
    await rush(run);
    await run.pause();
    saturation = await rampToSaturation(run);
    hooks.afterRamp?.(saturation.rate);
    await run.pause();
    if (!hooks.loadOnly) {
      steadyRate = await steady(run, saturation.rate);
      await run.pause();
      storm = await browseStorm(run, saturation.rate);
      ({ peaks, memory } = await collectMemory(run));
      if (spec.kind === 'api') verdict = await verify(run);
    }
  } finally {
    // A profiling run (or a failed one) still reports the peak memory it reached.
    if (Object.keys(peaks).length === 0) peaks = server.peakRss();
    serverExitCode = await stopTheServer(run);
  }
  return summarize(run, {
    saturation,
    steadyRate,
    storm,
    peaks,
    memory,
    verdict,
    serverExitCode,
  });
}
