import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../faults/support/wait.ts';
import { readRepoFile } from '../../observability/support/repo.ts';
import { freePort } from '../../support/services.ts';

/** The repository's HAProxy configuration, the one the compose stack mounts. */
export const HAPROXY_CFG = 'deploy/haproxy/haproxy.cfg';

const MISSING =
  'haproxy is not installed: apt-get install haproxy (the deployment tests run the real one)';

/** The configuration's sections: `backend api` -> its lines, comments and blanks dropped. */
export function haproxySections(text = readRepoFile(HAPROXY_CFG)): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trimEnd();
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      current = [];
      sections.set(line.trim(), current);
    } else {
      current?.push(line.trim());
    }
  }
  return sections;
}

/** A duration as HAProxy writes it (`5s`, `500ms`, `1m`, bare milliseconds) in milliseconds. */
export function haproxyMs(value: string): number {
  const match = /^(\d+)(us|ms|s|m|h|d)?$/.exec(value);
  if (!match) throw new Error(`not an HAProxy duration: ${value}`);
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * unit[(match[2] ?? 'ms') as keyof typeof unit];
}

/** `timeout <name>` of the defaults section, in milliseconds. */
export function haproxyTimeout(name: string): number {
  const line = haproxySections()
    .get('defaults')!
    .find((l) => l.startsWith(`timeout ${name} `));
  if (!line) throw new Error(`no timeout ${name} in ${HAPROXY_CFG}`);
  return haproxyMs(line.split(/\s+/)[2]!);
}

const SERVER_TEMPLATE = /^(\s*)server-template api \S+ \S+ .*$/m;

/**
 * The repository's configuration with its one line that finds the compose replicas in Docker's
 * DNS (`server-template api ...`) replaced by the given servers; every other line (checks,
 * balancing, timeouts, X-Forwarded-For, the monitoring frontend) is the file's own.
 */
export function renderForTest(
  servers: { name: string; address: string }[],
  timeouts: Record<string, string> = {},
): string {
  let text = readRepoFile(HAPROXY_CFG);
  if (!SERVER_TEMPLATE.test(text)) throw new Error(`no server-template line in ${HAPROXY_CFG}`);
  text = text.replace(SERVER_TEMPLATE, (_line, indent: string) =>
    servers.map((server) => `${indent}server ${server.name} ${server.address}`).join('\n'),
  );
  // A timeout shortened, to see within a test what the file's own does over minutes.
  for (const [name, value] of Object.entries(timeouts)) {
    const line = new RegExp(`^(\\s*timeout ${name}) \\S+$`, 'm');
    if (!line.test(text)) throw new Error(`no timeout ${name} in ${HAPROXY_CFG}`);
    text = text.replace(line, `$1 ${value}`);
  }
  return text;
}

export interface ServerState {
  readonly name: string;
  /** UP, DOWN, `UP 1/2` (going down), `DOWN 1/2` (coming up), MAINT, ... */
  readonly status: string;
  /** Responses by class, as HAProxy counted them for this server. */
  readonly responses: { '2xx': number; '4xx': number; '5xx': number };
}

/** HAProxy itself, from the repository's configuration, listening where the test says. */
export class RealHaproxy {
  private output = '';

  private constructor(
    private readonly dir: string,
    private readonly child: ChildProcess,
    readonly port: number,
    readonly monitorPort: number,
    private readonly exited: Promise<void>,
  ) {}

  static async start(
    servers: { name: string; address: string }[],
    timeouts: Record<string, string> = {},
  ): Promise<RealHaproxy> {
    if (spawnSync('haproxy', ['-v']).error) throw new Error(MISSING);
    const dir = await mkdtemp(join(tmpdir(), 'stampede-haproxy-'));
    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(cfg, renderForTest(servers, timeouts));
    const port = await freePort();
    const monitorPort = await freePort();
    const child = spawn('haproxy', ['-db', '-f', cfg], {
      env: {
        PATH: process.env.PATH ?? '',
        HAPROXY_BIND: `127.0.0.1:${port}`,
        HAPROXY_MONITOR_BIND: `127.0.0.1:${monitorPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const haproxy = new RealHaproxy(dir, child, port, monitorPort, exited);
    child.stdout!.on('data', (chunk: Buffer) => (haproxy.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (haproxy.output += chunk.toString()));
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`haproxy exited: ${haproxy.output}`);
          const states = await haproxy.servers().catch(() => []);
          return states.length === servers.length && states.every((s) => s.status === 'UP');
        },
        { timeoutMs: 20_000, what: 'haproxy to see every server up' },
      );
    } catch (error) {
      await haproxy.stop();
      throw error;
    }
    return haproxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What HAProxy logged (one line per request: `option httplog`). */
  get log(): string {
    return this.output;
  }

  /** The backend's servers as the stats page says now. */
  async servers(): Promise<ServerState[]> {
    const response = await fetch(`http://127.0.0.1:${this.monitorPort}/stats;csv`);
    const [header, ...rows] = (await response.text()).trim().split('\n');
    const columns = header!.replace(/^# /, '').split(',');
    const field = (row: string[], name: string) => row[columns.indexOf(name)] ?? '';
    return rows
      .map((row) => row.split(','))
      .filter((row) => field(row, 'pxname') === 'api' && !/^(FRONTEND|BACKEND)$/.test(row[1]!))
      .map((row) => ({
        name: field(row, 'svname'),
        status: field(row, 'status'),
        responses: {
          '2xx': Number(field(row, 'hrsp_2xx')),
          '4xx': Number(field(row, 'hrsp_4xx')),
          '5xx': Number(field(row, 'hrsp_5xx')),
        },
      }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
