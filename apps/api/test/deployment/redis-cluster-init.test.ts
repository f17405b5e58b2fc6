import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../faults/support/wait.ts';
import { repoPath } from '../observability/support/repo.ts';
import { freeClusterPorts } from '../support/redis-cluster.ts';

/**
 * deploy/redis-cluster/init.sh, the compose stack's cluster-making job, run for real against six
 * fresh `redis-server --cluster-enabled yes` nodes with a password (as the compose nodes run):
 * the first run makes 3 masters and 3 replicas covering every slot, a second run changes
 * nothing, and nodes in a half-made state are left alone with an error.
 */
const PASSWORD = 'init-test-password-1';
const SCRIPT = repoPath('deploy/redis-cluster/init.sh');

interface Node {
  port: number;
  child: ChildProcess;
}

async function startNode(dir: string, port: number): Promise<Node> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '3000',
      '--requirepass',
      PASSWORD,
      '--masterauth',
      PASSWORD,
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-diskless-sync-delay',
      '0',
    ],
    { stdio: 'ignore' },
  );
  return { port, child };
}

function client(port: number): Redis {
  const redis = new Redis(port, '127.0.0.1', { password: PASSWORD, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return redis;
}

function runInit(ports: number[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', [SCRIPT], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_CLUSTER_INIT_NODES: ports.map((port) => `127.0.0.1:${port}`).join(' '),
        REDISCLI_AUTH: PASSWORD,
        REDIS_CLUSTER_WAIT_S: '30',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (status) => resolve({ status, output }));
  });
}

/** Each node's view: its id, role, master, slots and config epoch (from CLUSTER NODES). */
async function clusterView(ports: number[]): Promise<string[]> {
  const views: string[] = [];
  for (const port of ports) {
    const redis = client(port);
    try {
      const lines = String(await redis.cluster('NODES'))
        .trim()
        .split('\n')
        .map((line) => {
          const [id, , flags, master, , , epoch, , ...slots] = line.trim().split(' ');
          const role = flags!.replace('myself,', '');
          return [id, role, master, epoch, ...slots].join(' ');
        })
        .sort();
      views.push(lines.join('\n'));
    } finally {
      redis.disconnect();
    }
  }
  return views;
}

describe('deploy/redis-cluster/init.sh', () => {
  let dir: string;
  const nodes: Node[] = [];
  let ports: number[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stampede-cluster-init-'));
    ports = await freeClusterPorts(7);
    for (const port of ports) nodes.push(await startNode(dir, port));
    for (const port of ports) {
      await waitFor(
        async () => {
          const redis = client(port);
          const pong = await redis.ping().catch(() => '');
          redis.disconnect();
          return pong === 'PONG';
        },
        { timeoutMs: 10_000, what: `redis-server on ${port}` },
      );
    }
  });

  afterAll(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('makes six fresh nodes a cluster of 3 masters and 3 replicas covering every slot; a second run changes nothing', async () => {
    const six = ports.slice(0, 6);
    const first = await runInit(six);
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain('creating the cluster');

    for (const port of six) {
      const redis = client(port);
      try {
        const info = String(await redis.cluster('INFO'));
        expect(info).toContain('cluster_state:ok');
        expect(info).toMatch(/cluster_slots_assigned:16384\b/);
        expect(info).toMatch(/cluster_known_nodes:6\b/);
      } finally {
        redis.disconnect();
      }
    }
    const [view] = await clusterView(six.slice(0, 1));
    const roles = view!.split('\n').map((line) => line.split(' ')[1]);
    expect(roles.filter((role) => role === 'master')).toHaveLength(3);
    expect(roles.filter((role) => role === 'slave')).toHaveLength(3);
    // Every master has its replica, on another node.
    const lines = view!.split('\n').map((line) => line.split(' '));
    for (const [id, role] of lines) {
      if (role === 'master') expect(lines.filter((l) => l[2] === id)).toHaveLength(1);
    }

    // The replicas have synced: the view only settles once they have.
    await waitFor(
      async () => {
        for (const port of six) {
          const redis = client(port);
          const replication = await redis.info('replication').catch(() => '');
          redis.disconnect();
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up'))
            return false;
        }
        return true;
      },
      { timeoutMs: 20_000, what: 'the replicas to sync' },
    );
    const before = await clusterView(six);
    const second = await runInit(six);
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain('nothing to do');
    expect(second.output).not.toContain('creating the cluster');
    expect(await clusterView(six)).toEqual(before);
  }, 60_000);

  it('leaves a half-made cluster alone (a fresh node among joined ones) and exits 1', async () => {
    const mixed = [...ports.slice(1, 6), ports[6]!];
    const before = await clusterView(ports.slice(0, 6));
    const run = await runInit(mixed);
    expect(run.status, run.output).toBe(1);
    expect(run.output).toContain('changing nothing');
    expect(await clusterView(ports.slice(0, 6))).toEqual(before);
    const fresh = client(ports[6]!);
    try {
      expect(String(await fresh.cluster('INFO'))).toMatch(/cluster_known_nodes:1\b/);
    } finally {
      fresh.disconnect();
    }
  }, 60_000);
});
