import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/**
 * The benchmark's own Redis Cluster: `masters` masters with one replica each, every node a
 * `redis-server --cluster-enabled yes` on a free port (its bus port, +10000, free too, so ports
 * stay below 55536), joined by `redis-cli --cluster create`. Started for one mode and stopped
 * with it; each master's CPU time can be read while it runs (INFO cpu), which is how a run shows
 * how the load spreads over the shards.
 */

/** CPU seconds (user + sys, main and I/O threads) of each master so far, by port. */
export type ShardCpu = Record<string, number>;

interface Node {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export function redisClusterAvailable(): string | null {
  for (const tool of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) return `${tool} not found (needed for the cluster modes)`;
  }
  return null;
}

export class BenchRedisCluster {
  private constructor(
    private readonly dir: string,
    private readonly nodes: Node[],
    /** Ports of the masters serving slots, in slot order. */
    readonly masterPorts: number[],
  ) {}

  static async start(dir: string, masters = 3): Promise<BenchRedisCluster> {
    const ports = await freeClusterPorts(masters * 2);
    const nodes: Node[] = [];
    try {
      for (const port of ports) nodes.push(await launch(dir, port));
      const created = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { encoding: 'utf8' },
      );
      if (created.status !== 0) {
        throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      }
      const masterPorts = await waitHealthy(ports, 30_000);
      return new BenchRedisCluster(dir, nodes, masterPorts);
    } catch (error) {
      await stopNodes(nodes);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** REDIS_CLUSTER_NODES for the API: every node. */
  get seedList(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /** Process ids of the masters, by port (for /proc readings). */
  get masterPids(): Record<string, number> {
    return Object.fromEntries(
      this.nodes
        .filter((node) => this.masterPorts.includes(node.port))
        .map((node) => [String(node.port), node.child.pid ?? 0]),
    );
  }

  /** Each master's CPU seconds so far (INFO cpu: used_cpu_sys + used_cpu_user). */
  async shardCpu(): Promise<ShardCpu> {
    const out: ShardCpu = {};
    await Promise.all(
      this.masterPorts.map(async (port) => {
        const client = plainClient(port);
        try {
          const info = await client.info('cpu');
          const field = (name: string) =>
            Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
          out[String(port)] = field('used_cpu_sys') + field('used_cpu_user');
        } finally {
          client.disconnect();
        }
      }),
    );
    return out;
  }

  /** Keys matching a pattern on every master (SCAN; for the verifier's look at the gate). */
  async keys(pattern: string): Promise<{ port: number; key: string }[]> {
    const found: { port: number; key: string }[] = [];
    for (const port of this.masterPorts) {
      const client = plainClient(port);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          for (const key of keys) found.push({ port, key });
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    }
    return found;
  }

  /** A plain connection to one master (the caller disconnects it). */
  client(port: number): Redis {
    return plainClient(port);
  }

  async stop(): Promise<void> {
    await stopNodes(this.nodes);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function plainClient(port: number): Redis {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

async function stopNodes(nodes: readonly Node[]): Promise<void> {
  for (const node of nodes) {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await node.exited;
  }
}

async function launch(dir: string, port: number): Promise<Node> {
  const nodeDir = join(dir, String(port));
  mkdirSync(nodeDir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      nodeDir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      '5000',
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-diskless-sync-delay',
      '0',
      '--logfile',
      join(nodeDir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const node = { port, child, exited };
  for (let i = 0; ; i += 1) {
    const probe = plainClient(port);
    const pong = await probe.ping().catch(() => '');
    probe.disconnect();
    if (pong === 'PONG') return node;
    if (i > 200 || child.exitCode !== null) {
      await stopNodes([node]);
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await sleep(25);
  }
}

/**
 * Every node says the cluster is ok, all 16,384 slots are served, and every replica is linked to
 * its master; the masters' ports, in slot order.
 */
async function waitHealthy(ports: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const masters = await healthy(ports).catch(() => null);
    if (masters) return masters;
    if (Date.now() > deadline) throw new Error(`Redis Cluster not healthy after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function healthy(ports: readonly number[]): Promise<number[] | null> {
  let masters: number[] = [];
  for (const port of ports) {
    const client = plainClient(port);
    try {
      const info = String(await client.cluster('INFO'));
      if (!info.includes('cluster_state:ok')) return null;
      const slots = (await client.cluster('SLOTS')).flatMap(([start, end, master]) =>
        master ? [{ start, end, port: master[1] }] : [],
      );
      const covered = slots.reduce((sum, { start, end }) => sum + end - start + 1, 0);
      if (covered !== 16384) return null;
      masters = [...new Set(slots.sort((a, b) => a.start - b.start).map((s) => s.port))];
      const replication = await client.info('replication');
      if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) {
        return null;
      }
    } finally {
      client.disconnect();
    }
  }
  return masters;
}

/** `count` ports, each free with its bus port (+10000), all below 55536. */
async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 21_000 + Math.floor(Math.random() * 34_000);
    if (ports.some((p) => Math.abs(p - port) === 10_000 || p === port)) continue;
    if ((await canBind(port)) && (await canBind(port + 10_000))) ports.push(port);
  }
  return ports;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
