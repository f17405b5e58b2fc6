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
import type { Scenario } from './scenario.ts';
import { startServer, type ModeSpec, type RunningServer, type ServerOptions } from './servers.ts';
import { verifyRun, type ProductUnderTest, type SeenOrder, type Verdict } from './verify.ts';

/**
 * One mode, start to finish: a fresh server and database, the buyers, then the phases
 * (warm-up, rush, ramp to saturation, steady at 80% of it, browse storm), then the verdict.
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

async function prepare(
  spec: ModeSpec,
  scenario: Scenario,
  options: ServerOptions,
  progress: Progress,
  started: Promise<RunningServer> | undefined,
): Promise<Target> {
  progress.phase('starting server');
  const server =
    (await started) ?? (await startServer(spec, { ...options, rateLimitMs: scenario.rateLimitMs }));
  try {
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
  } catch (error) {
    await server.stop();
    throw error;
  }
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

export async function runMode(
  spec: ModeSpec,
  scenario: Scenario,
  options: ServerOptions,
  progress: Progress,
  hooks: {
    /** Called with the saturating rate before the steady phase (the profiler uses it). */
    afterRamp?: (saturation: number) => void;
    /** Skip the steady phase, storm and verification (profiling runs). */
    loadOnly?: boolean;
    /** Called as each phase starts and ends (after its answers are in). */
    onPhase?: (name: string, edge: 'start' | 'end') => void;
    /** A server started ahead of time (the quick run starts them all at once). */
    server?: Promise<RunningServer>;
  } = {},
): Promise<ModeResult> {
  const target = await prepare(spec, scenario, options, progress, hooks.server);
  const { server, client } = target;
  progress.attach(client);
  const isApi = spec.kind === 'api';
  const seen = new Map<number, SeenOrder>();
  const all = new Tally(); // every order attempt after the warm-up
  const phases: Record<string, PhaseReport> = {};
  const phaseMarks: { name: string; start_ms: number; end_ms: number }[] = [];
  let serverErrors = 0;
  let unanswered = 0;
  let hotSold = 0;
  let selloutAt: number | null = null;
  let hotFirst201: number | null = null;
  let hotLast201: number | null = null;
  let rushStart: number;
  const attemptsFor = new Map<number, number>();
  let keySeq = 0;
  let buyerCursor = 0;

  const orderBodies = new Map<number, string>();
  const orderShot = (productId: number, pool: 'main' | 'warmup'): Shot => {
    const buyers = pool === 'main' ? target.buyers : target.warmupBuyers;
    const index = pool === 'main' ? buyerCursor++ % buyers.ids.length : keySeq % buyers.ids.length;
    const key = `${options.runId}-${spec.name}-${(keySeq += 1)}`;
    attemptsFor.set(productId, (attemptsFor.get(productId) ?? 0) + 1);
    let body = orderBodies.get(productId);
    if (!body) {
      body = JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] });
      orderBodies.set(productId, body);
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
  };
  let warmupCursor = 0;
  const warmupOrder = (): Shot => {
    const buyers = target.warmupBuyers;
    const index = warmupCursor++ % buyers.ids.length;
    const key = `${options.runId}-${spec.name}-w${index}-${warmupCursor}`;
    const productId = target.products.warmup;
    attemptsFor.set(productId, (attemptsFor.get(productId) ?? 0) + 1);
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
  };
  const stockShot = (productId: number): Shot => ({
    kind: 'stock',
    method: 'GET',
    path: `/api/products/${productId}/stock`,
  });
  const listShot: Shot = { kind: 'list', method: 'GET', path: '/api/products?page_size=20' };

  let timeline: Timeline | undefined;
  const onAnswer = (answer: Answer) => {
    if (answer.shot.kind !== 'order') return;
    if (answer.status === 0 && answer.outcome !== 'client_dropped') unanswered += 1;
    if (answer.status >= 500 && answer.status !== 503) serverErrors += 1;
    if (answer.status === 201) {
      const tag = answer.shot.tag as SeenOrder;
      const id = (answer.body as { id?: number } | undefined)?.id;
      if (typeof id === 'number') seen.set(id, tag);
      if (tag.productId === target.products.hot) {
        hotSold += 1;
        hotFirst201 ??= answer.doneAt;
        hotLast201 = answer.doneAt;
        if (hotSold === scenario.units) selloutAt = answer.doneAt;
      }
    }
  };

  const runPhase = async (
    name: string,
    segments: Segment[] | Iterable<Segment>,
    after?: (result: SegmentResult) => boolean,
  ): Promise<{ results: SegmentResult[]; report: PhaseReport; tally: Tally }> => {
    progress.phase(name);
    const before: CpuSnapshot = cpuSnapshot(server.apiPids());
    phaseSnapshot = before;
    hooks.onPhase?.(name, 'start');
    const started = performance.now();
    const results = await client.run(segments, {
      onAnswer,
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
    };
    phases[name] = report;
    if (timeline && name !== 'warm-up') {
      phaseMarks.push({
        name,
        start_ms: Math.round(started - timeline.origin),
        end_ms: Math.round(ended - timeline.origin),
      });
    }
    return { results, report, tally };
  };

  const pause = () => sleep(scenario.pauseMs);
  let phaseSnapshot: CpuSnapshot | undefined;
  let verdict: Verdict | null = null;
  let saturation = 0;
  let offeredAtSaturation = 0;
  let maxOffered = 0;
  let saturated = false;
  let clientBound = false;
  const ramp: StepReport[] = [];
  let steadyRate = 0;
  const storm: ModeResult['storm'] = {
    offered_per_s: { orders: 0, stock: 0, list: 0 },
    latency_ms: {},
    answered_per_s: 0,
    status_counts: {},
  };
  let peaks: Record<string, number> = {};
  let serverExitCode: number | null;
  let memory: Record<string, number> | null = null;
  try {
    // Warm-up: JIT, pools, caches; its own product and buyers.
    const warm = scenario.warmup;
    const nextWarm = interleave({ order: 2, stock: 1 });
    await runPhase('warm-up', [
      {
        name: 'warm-up',
        rate: warm.rate,
        durationMs: warm.durationMs,
        next: () => (nextWarm() === 'order' ? warmupOrder() : stockShot(target.products.warmup)),
      },
    ]);
    await pause();

    rushStart = performance.now();
    timeline = new Timeline(rushStart, scenario.windowMs);
    const rush = await runPhase('rush', [
      {
        name: 'rush',
        rate: scenario.rush.rate,
        durationMs: scenario.rush.durationMs,
        next: () => orderShot(target.products.hot, 'main'),
      },
    ]);
    all.merge(rush.tally);
    await pause();

    {
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
            next: () => orderShot(target.products.hot, 'main'),
          };
        }
      };
      // Saturated: answers fell behind the arrivals two steps running (one step can be noise),
      // or far behind once. A client that cannot keep its own schedule stops the ramp too.
      let behindSteps = 0;
      let lateSteps = 0;
      let stepSnapshot: CpuSnapshot | undefined;
      const stepCpu: (CpuUse | null)[] = [];
      const rampPhase = await runPhase('ramp', steps(), (result) => {
        stepSnapshot ??= phaseSnapshot;
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
      all.merge(rampPhase.tally);
      for (const result of rampPhase.results) {
        maxOffered = Math.max(maxOffered, result.rate);
        if (result.answeredPerS > saturation) {
          saturation = result.answeredPerS;
          offeredAtSaturation = result.rate;
        }
        ramp.push({
          offered_per_s: result.rate,
          cpu_cores: stepCpu[ramp.length] ?? null,
          answered_per_s: r1(result.answeredPerS),
          orders_per_s: r1(result.successPerS),
          latency_ms: result.tally.all.summaryMs(),
          late_sends: result.lateSends,
          dropped: result.tally.outcomes.client_dropped ?? 0,
          errors: result.tally.errors,
        });
      }
      saturation = r1(saturation);
      hooks.afterRamp?.(saturation);
      await pause();
    }

    if (!hooks.loadOnly) {
      steadyRate = Math.max(50, Math.round(saturation * scenario.steady.share));
      const steady = await runPhase('steady', [
        {
          name: `steady ${steadyRate}/s`,
          rate: steadyRate,
          durationMs: scenario.steady.durationMs,
          next: () => orderShot(target.products.hot, 'main'),
        },
      ]);
      all.merge(steady.tally);
      await pause();

      // Browse storm during a second sale.
      const s = scenario.storm;
      const orderRate = (s.units * s.orderAttemptsPerUnit) / (s.durationMs / 1000);
      const readRate = Math.max(100, saturation * s.readShare);
      const listRate = readRate * s.listShare;
      const stockRate = readRate - listRate;
      storm.offered_per_s.orders = r1(orderRate);
      storm.offered_per_s.stock = r1(stockRate);
      storm.offered_per_s.list = r1(listRate);
      const pick = interleave({
        order: Math.round(orderRate),
        stock: Math.round(stockRate),
        list: Math.round(listRate),
      });
      let poll = 0;
      const stormTally = new Tally();
      const stormPhase = await runPhase('storm', [
        {
          name: 'storm',
          rate: Math.round(orderRate + readRate),
          durationMs: s.durationMs,
          next: () => {
            const kind = pick();
            if (kind === 'order') return orderShot(target.products.storm, 'main');
            if (kind === 'list') return listShot;
            poll += 1;
            return stockShot(poll % 2 === 0 ? target.products.hot : target.products.storm);
          },
        },
      ]);
      stormTally.merge(stormPhase.tally);
      storm.answered_per_s = stormPhase.report.answered_per_s;
      storm.status_counts = stormPhase.tally.outcomes;
      storm.latency_ms.order_success = stormPhase.tally.success.summaryMs();
      storm.latency_ms.order_rejected = stormPhase.tally.rejected.summaryMs();
      storm.latency_ms.reads = stormPhase.tally.read.summaryMs();
      // Orders of the storm count in the mode's status counts too.
      for (const [key, n] of Object.entries(stormPhase.tally.outcomes)) {
        if (key.startsWith('stock ') || key.startsWith('list ')) continue;
        all.outcomes[key] = (all.outcomes[key] ?? 0) + n;
      }

      await sleep(500);
      peaks = server.peakRss();
      if (spec.metrics) memory = await heapMetrics(client);
      if (isApi) {
        progress.phase('verifying');
        verdict = await verifyRun({
          databaseUrl: server.databaseUrl!,
          products: [
            product('hot', target.products.hot, scenario.units),
            product('storm', target.products.storm, scenario.storm.units),
            product('warm-up', target.products.warmup, scenario.warmup.units),
          ],
          seen,
          unanswered,
          serverErrors,
          client,
          adminToken: target.adminToken!,
          redisPrefix: server.redisPrefix,
          gateOn: spec.gate && spec.redis,
        });
      }
    }
  } finally {
    if (Object.keys(peaks).length === 0) peaks = server.peakRss();
    progress.phase('stopping server');
    await client.close().catch(() => undefined);
    ({ exitCode: serverExitCode } = await server.stop());
  }

  function product(label: string, id: number, initial: number): ProductUnderTest {
    return { id, label, initial, maxPerUser: 1, attempts: attemptsFor.get(id) ?? 0 };
  }

  const windows = timeline?.windows ?? [];
  const perS = 1000 / scenario.windowMs;
  const series = windows.map((w): [number, number, number, number | null, number | null] => [
    Math.round(w.offered * perS),
    Math.round((w.success + w.rejected + w.read) * perS),
    Math.round(w.success * perS),
    w.latency.count ? w.latency.percentile(50) / 1000 : null,
    w.latency.count ? w.latency.percentile(99) / 1000 : null,
  ]);
  const selloutMs = selloutAt === null ? null : Math.round(selloutAt - rushStart);
  const violations = verdict ? verdict.violations : [];
  if (!isApi && serverErrors > 0) violations.push(`${serverErrors} answers were 5xx errors`);
  const peakValues = Object.values(peaks);
  return {
    attempts_per_s: saturation,
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
    offered_attempts_per_s: { at_saturation: offeredAtSaturation, max: maxOffered },
    saturated,
    client_bound: clientBound,
    commit_orders_per_s:
      hotFirst201 !== null && hotLast201 !== null && hotSold > 1 && hotLast201 > hotFirst201
        ? r1(((hotSold - 1) / (hotLast201 - hotFirst201)) * 1000)
        : null,
    steady_rate_per_s: steadyRate,
    rss_mb_per_process: peaks,
    memory_mb_at_end: memory,
    startup_ms: server.startupMs,
    server_exit_code: serverExitCode,
    phases,
    ramp,
    storm,
    verification: verdict ? (({ correct: _c, violations: _v, ...rest }) => rest)(verdict) : null,
    timeline: { window_ms: scenario.windowMs, phases: phaseMarks, series },
  };
}
