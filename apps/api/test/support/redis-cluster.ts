import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

interface ClusterNode {
  readonly port: number;
  child: ChildProcess | undefined;
  exited: Promise<void>;
}

/**
 * A real Redis Cluster on this machine: `masters` masters with `replicas` replicas each, every
 * node a `redis-server --cluster-enabled yes` of its own, made a cluster by
 * `redis-cli --cluster create`. Its nodes can be killed (a replica takes over after the node
 * timeout and an election: seconds), started again, and a slot moved from one master to another
 * while traffic runs. A node's bus port is its port + 10000, so ports stay below 55536.
 */
export class LocalRedisCluster {
  private constructor(
    private readonly dir: string,
    readonly nodes: ClusterNode[],
    private readonly nodeTimeoutMs: number,
  ) {}

  static async start(options: {
    dir: string;
    masters?: number;
    replicas?: number;
    nodeTimeoutMs?: number;
  }): Promise<LocalRedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicas ?? 1;
    const ports = await freeClusterPorts(masters * (1 + replicas));
    const cluster = new LocalRedisCluster(
      options.dir,
      ports.map((port) => ({ port, child: undefined, exited: Promise.resolve() })),
      options.nodeTimeoutMs ?? 2000,
    );
    try {
      for (const node of cluster.nodes) await cluster.launch(node);
      const created = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { encoding: 'utf8' },
      );
      if (created.status !== 0) {
        throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      }
      await cluster.waitHealthy(30_000);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** `host:port,...` of every node, as REDIS_CLUSTER_NODES takes them. */
  get seedList(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /** A plain client on one node (for the test's own looks and pokes). */
  client(port: number): Redis {
    const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: false });
    client.on('error', () => undefined);
    return client;
  }

  /** The port of the master serving `slot` now. */
  async masterOf(slot: number): Promise<number> {
    const live = this.nodes.find((node) => node.child);
    const client = this.client(live!.port);
    try {
      const ranges = await slotRanges(client);
      const range = ranges.find(([start, end]) => slot >= start && slot <= end);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range[2][1];
    } finally {
      client.disconnect();
    }
  }

  /** The ports of the masters serving slots now. */
  async masters(): Promise<number[]> {
    const live = this.nodes.find((node) => node.child);
    const client = this.client(live!.port);
    try {
      const ranges = await slotRanges(client);
      return [...new Set(ranges.map((range) => range[2][1]))];
    } finally {
      client.disconnect();
    }
  }

  /** kill -9 of one node. */
  async kill(port: number): Promise<void> {
    const node = this.node(port);
    node.child?.kill('SIGKILL');
    await node.exited;
    node.child = undefined;
  }

  /** Start a killed node again (it rejoins with its nodes.conf, as a replica if replaced). */
  async restart(port: number): Promise<void> {
    const node = this.node(port);
    if (node.child) return;
    await this.launch(node);
  }

  /**
   * Every live node says the cluster is ok, every slot has a live master, and every live
   * replica has synced with its master (a replica that has not could not take over): after a
   * failover this is when the replica has taken over and everyone knows.
   */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (await this.healthy()) return;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`the Redis Cluster was not healthy within ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  }

  /**
   * Move one slot, keys and all, to another master while clients keep using it: MIGRATING on
   * the source, IMPORTING on the target, MIGRATE the keys in batches (clients meanwhile get ASK
   * or TRYAGAIN), then the slot is the target's on every master.
   */
  async moveSlot(slot: number, toPort: number): Promise<void> {
    const fromPort = await this.masterOf(slot);
    if (fromPort === toPort) return;
    const from = this.client(fromPort);
    const to = this.client(toPort);
    try {
      const fromId = String(await from.cluster('MYID'));
      const toId = String(await to.cluster('MYID'));
      await to.cluster('SETSLOT', slot, 'IMPORTING', fromId);
      await from.cluster('SETSLOT', slot, 'MIGRATING', toId);
      for (;;) {
        const keys = (await from.cluster('GETKEYSINSLOT', slot, 20)) as string[];
        if (keys.length === 0) break;
        await from.migrate('127.0.0.1', toPort, '', 0, 5000, 'REPLACE', 'KEYS', ...keys);
        // Keys move a few at a time, as a resharding tool does, with traffic in between.
        await sleep(5);
      }
      for (const master of await this.masters()) {
        const client = this.client(master);
        try {
          await client.cluster('SETSLOT', slot, 'NODE', toId);
        } finally {
          client.disconnect();
        }
      }
      await from.cluster('SETSLOT', slot, 'NODE', toId).catch(() => undefined);
    } finally {
      from.disconnect();
      to.disconnect();
    }
    await this.untilEveryNodeSees(slot, toPort);
  }

  /** Replicas learn a slot's new owner by gossip: wait until every live node says it. */
  private async untilEveryNodeSees(slot: number, ownerPort: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const views = await Promise.all(
        this.nodes
          .filter((node) => node.child)
          .map(async (node) => {
            const client = this.client(node.port);
            try {
              const ranges = await slotRanges(client);
              return ranges.find(([start, end]) => slot >= start && slot <= end)?.[2][1];
            } catch {
              return undefined;
            } finally {
              client.disconnect();
            }
          }),
      );
      if (views.every((port) => port === ownerPort)) return;
      if (Date.now() > deadline) {
        throw new Error(`slot ${slot}: nodes still see ${views.join(', ')}, not ${ownerPort}`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) {
      node.child?.kill('SIGKILL');
      await node.exited;
      node.child = undefined;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private node(port: number): ClusterNode {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on port ${port}`);
    return node;
  }

  private async healthy(): Promise<boolean> {
    for (const node of this.nodes.filter((n) => n.child)) {
      const client = this.client(node.port);
      try {
        const info = String(await client.cluster('INFO'));
        if (!info.includes('cluster_state:ok')) return false;
        const ranges = await slotRanges(client);
        const covered = ranges.reduce((sum, [start, end]) => sum + end - start + 1, 0);
        if (covered !== 16384) return false;
        for (const [, , [, port]] of ranges) {
          if (!this.nodes.find((n) => n.port === port)?.child) return false;
        }
        const replication = await client.info('replication');
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) {
          return false;
        }
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    }
    return true;
  }

  private async launch(node: ClusterNode): Promise<void> {
    const dir = join(this.dir, String(node.port));
    await mkdir(dir, { recursive: true });
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(node.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(this.nodeTimeoutMs),
        '--save',
        '',
        '--appendonly',
        'no',
        // A replica synced at once, not 5 s after it asks: until then it cannot take over.
        '--repl-diskless-sync-delay',
        '0',
        '--logfile',
        join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    node.child = child;
    node.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const probe = new Redis(node.port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; ; i += 1) {
        if ((await probe.ping().catch(() => '')) === 'PONG') return;
        if (i > 200) throw new Error(`redis-server did not start on port ${node.port}`);
        await sleep(25);
      }
    } finally {
      probe.disconnect();
    }
  }
}

/** `count` ports, each free with its bus port (+10000), all below 55536. */
export async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (ports.includes(port) || ports.includes(port + 10_000) || ports.includes(port - 10_000)) {
      continue;
    }
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

/** CLUSTER SLOTS as [first slot, last slot, master port]. */
async function slotRanges(client: Redis): Promise<[number, number, [string, number]][]> {
  const ranges = await client.cluster('SLOTS');
  return ranges.flatMap(([start, end, master]) =>
    master ? [[start, end, [master[0], master[1]]] as [number, number, [string, number]]] : [],
  );
}
