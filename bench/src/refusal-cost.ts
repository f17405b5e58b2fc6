import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { createBuyers, createSaleProduct, loginAdmin, signToken } from './fixtures.ts';
import { LoadClient } from './load.ts';
import { cpuBetween, cpuSnapshot } from './proc.ts';
import { MODES, startServer, stopAllServers, type RunningServer } from './servers.ts';

/**
 * What one sold-out refusal costs the API, against what one answer of bare Fastify costs, in
 * the same run: `npm run bench:refusal -w @stampede/bench`.
 *
 * Each variant runs twice: saturated by a closed loop (answers per second), then paced at one
 * rate every server sustains (the API's CPU time over the window divided by its answers: the
 * cost of one). Variants run in turns, several rounds, so that a noisy moment of the machine
 * touches them all; the median of each is reported, with its ratio to bare Fastify.
 *
 *   --rounds <n>       turns of every variant (default 3)
 *   --seconds <s>      length of one variant's window (default 6)
 *   --concurrency <n>  requests in flight in the closed loop (default 64)
 *   --rate <n>         requests a second of the paced window (default 2000)
 *   --only <text>      only the variants whose name contains this (bare Fastify always runs)
 *   --profile          run both servers under `node --cpu-prof` (the profile's path is printed;
 *                      `npm run profile:analyse -w @stampede/bench -- <file>` summarises it)
 */
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '64' },
    rate: { type: 'string', default: '2000' },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const windowMs = Number(values.seconds) * 1000;
const concurrency = Number(values.concurrency);
const rate = Number(values.rate);

interface Variant {
  readonly name: string;
  readonly server: RunningServer;
  readonly request: (i: number) => { path: string; headers: Record<string, string>; body: string };
}

const repoRoot = join(import.meta.dirname, '..', '..');
const runDir = mkdtempSync(join(tmpdir(), 'stampede-refusal-'));
const runId = Date.now().toString(36);
const options = { repoRoot, runDir, runId, rateLimitMs: 0 };
const spec = (name: string) => MODES.find((m) => m.name === name)!;
const profileDir = join(runDir, 'cpu-profile');

try {
  const profiled = values.profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {};
  const baseline = await startServer(spec('baseline'), { ...options, ...profiled });
  const api = await startServer(spec('redis'), { ...options, ...profiled });
  const setup = new LoadClient({
    origin: api.origin,
    connections: 4,
    pipelining: 1,
    timeoutMs: 10_000,
    maxInFlight: 1000,
  });
  const admin = await loginAdmin(setup, api.admin);
  const productId = await createSaleProduct(setup, admin, {
    sku: `refusal-${runId}`,
    name: 'Sold out',
    stock: 1,
    maxPerUser: null,
  });
  const buyers = await createBuyers(api.databaseUrl!, 2000, runId);
  const tokens = buyers.map((id) => signToken(api.jwtSecret, id));
  const body = JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] });
  const order = (i: number, key: boolean) => ({
    path: '/api/orders',
    headers: {
      authorization: `Bearer ${tokens[i % tokens.length]}`,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': `${runId}-${i}` } : {}),
    },
    body,
  });
  // The one unit goes; from here on every attempt is a sold-out refusal.
  const first = await setup.call('POST', '/api/orders', {
    token: tokens[0]!,
    json: { items: [{ product_id: productId, quantity: 1 }] },
  });
  if (first.status !== 201) throw new Error(`the first order failed: ${first.status}`);

  let sequence = 0;
  const variants: Variant[] = [
    { name: 'bare Fastify (baseline)', server: baseline, request: (i) => order(i, true) },
    { name: 'sold out, no Idempotency-Key', server: api, request: (i) => order(i, false) },
    {
      name: 'sold out, with an Idempotency-Key',
      server: api,
      request: () => order((sequence += 1), true),
    },
  ];
  const chosen = variants.filter(
    (v, i) => i === 0 || values.only === undefined || v.name.includes(values.only),
  );
  type Sample = { saturatedPerS: number; cpuUs: number };
  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of chosen) {
      const saturated = await measure(variant, undefined);
      const paced = await measure(variant, rate);
      const sample = { saturatedPerS: saturated.perS, cpuUs: paced.cpuUs };
      samples.set(variant.name, [...(samples.get(variant.name) ?? []), sample]);
      console.log(
        `round ${round + 1} ${variant.name}: ${Math.round(sample.saturatedPerS)} answers/s saturated, ${sample.cpuUs.toFixed(1)} µs of API CPU per answer at ${rate}/s`,
      );
    }
  }
  const median = (variant: Variant, of: (s: Sample) => number) => {
    const xs = samples
      .get(variant.name)!
      .map(of)
      .sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)]!;
  };
  const bare = chosen[0]!;
  const bareCpu = median(bare, (s) => s.cpuUs);
  const barePerS = median(bare, (s) => s.saturatedPerS);
  console.log(
    `\n| variant | answers/s at saturation | % of bare | API CPU per answer at ${rate}/s | × bare |`,
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const variant of chosen) {
    const perS = median(variant, (s) => s.saturatedPerS);
    const cpu = median(variant, (s) => s.cpuUs);
    console.log(
      `| ${variant.name} | ${Math.round(perS)} | ${Math.round((perS / barePerS) * 100)}% | ${cpu.toFixed(1)} µs | ${(cpu / bareCpu).toFixed(2)} |`,
    );
  }
} finally {
  await stopAllServers();
  if (values.profile) console.log(`\nCPU profile of the API in ${profileDir}`);
}

/**
 * One window on one variant: a closed loop (`concurrency` requests in flight, each sent when
 * the last answered) without a rate, or requests sent at `perS` a second whatever the answers
 * do. A saturated server and an idle one pay differently for the same answer (the write that
 * wakes a sleeping client costs more than one to a busy client), so CPU per answer is compared
 * at one rate both servers sustain, and saturation only by answers per second.
 */
async function measure(
  variant: Variant,
  perS: number | undefined,
): Promise<{ cpuUs: number; perS: number }> {
  const pool = new Pool(variant.server.origin, { connections: concurrency, pipelining: 1 });
  let answered = 0;
  let wrong = 0;
  let stop = false;
  let i = 0;
  const send = async () => {
    const { path, headers, body } = variant.request((i += 1));
    const answer = await pool.request({ method: 'POST', path, headers, body });
    await answer.body.text();
    if (answer.statusCode !== 409) wrong += 1;
    answered += 1;
  };
  const sending: Promise<void>[] = [];
  if (perS === undefined) {
    const loop = async () => {
      while (!stop) await send();
    };
    for (let c = 0; c < concurrency; c += 1) sending.push(loop());
  } else {
    // Every millisecond, the sends that are due by then.
    const started = performance.now();
    let sent = 0;
    const pace = async () => {
      while (!stop) {
        const due = Math.floor(((performance.now() - started) / 1000) * perS);
        for (; sent < due; sent += 1) sending.push(send());
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    sending.push(pace());
  }
  // Warm up, then the window.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = cpuSnapshot(variant.server.apiPids());
  const answeredBefore = answered;
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = cpuSnapshot(variant.server.apiPids());
  const count = answered - answeredBefore;
  stop = true;
  await Promise.all(sending);
  await pool.close();
  if (wrong > 0) throw new Error(`${variant.name}: ${wrong} answers were not 409`);
  const wallS = (after.at - before.at) / 1000;
  return { cpuUs: (cpuBetween(before, after).api * wallS * 1e6) / count, perS: count / wallS };
}
