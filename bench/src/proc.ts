import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/**
 * Linux /proc readings: memory of the API processes, CPU time of everyone on the machine, so a
 * result says not only how fast a mode was but what was busy (the client, the API, PostgreSQL,
 * Redis, or someone else's tests).
 */
const TICKS_PER_S = 100;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak) of a process, in MB; undefined once it is gone. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (!status) return undefined;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  if (!Number.isFinite(rss)) return undefined;
  return { rssMb: rss / 1024, hwmMb: (Number.isFinite(hwm) ? hwm : rss) / 1024 };
}

interface StatLine {
  readonly pid: number;
  readonly comm: string;
  readonly ppid: number;
  readonly cpuS: number;
}

function statOf(pid: number): StatLine | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return {
    pid,
    comm,
    ppid: Number(fields[1]),
    cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S,
  };
}

function allStats(): StatLine[] {
  const out: StatLine[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

/** The direct children of a process (the workers of a node:cluster primary). */
export function childrenOf(pid: number): number[] {
  return allStats()
    .filter((s) => s.ppid === pid)
    .map((s) => s.pid);
}

/** Every process below `pid`, itself included. */
export function treeOf(pid: number, stats: StatLine[] = allStats()): Set<number> {
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stats) {
      if (!tree.has(s.pid) && tree.has(s.ppid)) {
        tree.add(s.pid);
        grew = true;
      }
    }
  }
  return tree;
}

type Party = 'api' | 'postgres' | 'redis';

export interface CpuSnapshot {
  readonly at: number;
  /** Busy and total CPU seconds of the whole machine (all cores). */
  readonly machineBusyS: number;
  readonly machineTotalS: number;
  readonly clientS: number;
  /** CPU seconds so far per process of each party (a process may come or go in between). */
  readonly processes: Map<number, { party: Party; cpuS: number }>;
}

function machineTimes(): { busy: number; total: number } {
  const line = readText('/proc/stat')?.split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_S, total: total / TICKS_PER_S };
}

/**
 * CPU seconds so far of: this process (the load client), the API process tree (`apiPids` and
 * their descendants except PostgreSQL), every postgres and redis-server process, and the machine.
 */
export function cpuSnapshot(apiRootPids: readonly number[]): CpuSnapshot {
  const stats = allStats();
  const apiTree = new Set<number>();
  for (const pid of apiRootPids) for (const p of treeOf(pid, stats)) apiTree.add(p);
  const processes = new Map<number, { party: Party; cpuS: number }>();
  for (const s of stats) {
    if (s.comm === 'postgres') processes.set(s.pid, { party: 'postgres', cpuS: s.cpuS });
    else if (s.comm.startsWith('redis-server'))
      processes.set(s.pid, { party: 'redis', cpuS: s.cpuS });
    else if (apiTree.has(s.pid)) processes.set(s.pid, { party: 'api', cpuS: s.cpuS });
  }
  return snapshotWith(processes);
}

/**
 * A cheap snapshot of the same processes as `previous` (no scan of /proc): for ramp steps,
 * taken on the load client's event loop between two sends.
 */
export function cpuSnapshotOf(previous: CpuSnapshot): CpuSnapshot {
  const processes = new Map<number, { party: Party; cpuS: number }>();
  for (const [pid, { party }] of previous.processes) {
    const stat = statOf(pid);
    if (stat) processes.set(pid, { party, cpuS: stat.cpuS });
  }
  return snapshotWith(processes);
}

/** The machine's and this process's CPU time now, with the given processes' times. */
function snapshotWith(processes: CpuSnapshot['processes']): CpuSnapshot {
  const usage = process.cpuUsage();
  const machine = machineTimes();
  return {
    at: performance.now(),
    machineBusyS: machine.busy,
    machineTotalS: machine.total,
    clientS: (usage.user + usage.system) / 1e6,
    processes,
  };
}

/** Cores busy between two snapshots, per party (1.0 = one core fully used). */
export interface CpuUse {
  readonly client: number;
  readonly api: number;
  readonly postgres: number;
  readonly redis: number;
  readonly other: number;
  readonly machine: number;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const wallS = (b.at - a.at) / 1000;
  const cores = (x: number) => Math.round((x / Math.max(wallS, 1e-3)) * 1000) / 1000;
  const machineCores = machineCoreCount();
  const machine =
    ((b.machineBusyS - a.machineBusyS) / Math.max(b.machineTotalS - a.machineTotalS, 1e-3)) *
    machineCores;
  const client = b.clientS - a.clientS;
  // Per process, so that one exiting in between does not make a negative total.
  const used: Record<Party, number> = { api: 0, postgres: 0, redis: 0 };
  for (const [pid, now] of b.processes) {
    used[now.party] += Math.max(0, now.cpuS - (a.processes.get(pid)?.cpuS ?? 0));
  }
  const { api, postgres, redis } = used;
  const machineRounded = Math.round(machine * 100) / 100;
  const known = cores(client) + cores(api) + cores(postgres) + cores(redis);
  return {
    client: cores(client),
    api: cores(api),
    postgres: cores(postgres),
    redis: cores(redis),
    other: Math.max(0, Math.round((machineRounded - known) * 100) / 100),
    machine: machineRounded,
  };
}

export function machineCoreCount(): number {
  return cpus().length;
}

export function machineInfo(): { cpus: number; model: string; mem_gb: number } {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    mem_gb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  };
}

/** The busiest processes right now that are not ours, to warn before a heavy run. */
export interface OthersBusy {
  /** Cores used by processes that are neither ours nor ignored. */
  readonly cores: number;
  readonly top: string[];
  /** Cores used by the ignored processes (`--ignore-pids`). */
  readonly ignored_cores: number;
}

export function othersBusy(
  sampleMs = 500,
  ignore: ReadonlySet<number> = new Set(),
): Promise<OthersBusy> {
  const first = new Map(allStats().map((s) => [s.pid, s]));
  const mine = treeOf(process.pid);
  return new Promise((resolve) =>
    setTimeout(() => {
      const rows: { pid: number; comm: string; cores: number }[] = [];
      let ignored = 0;
      for (const s of allStats()) {
        const before = first.get(s.pid);
        if (!before || mine.has(s.pid)) continue;
        const cores = (s.cpuS - before.cpuS) / (sampleMs / 1000);
        if (ignore.has(s.pid)) ignored += cores;
        else if (cores > 0.05) rows.push({ pid: s.pid, comm: s.comm, cores });
      }
      rows.sort((a, b) => b.cores - a.cores);
      resolve({
        cores: Math.round(rows.reduce((sum, r) => sum + r.cores, 0) * 100) / 100,
        top: rows.slice(0, 4).map((r) => `${r.comm}[${r.pid}] ${r.cores.toFixed(2)}`),
        ignored_cores: Math.round(ignored * 100) / 100,
      });
    }, sampleMs),
  );
}
