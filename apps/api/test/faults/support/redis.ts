import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../support/services.ts';
import { waitFor } from './wait.ts';

/**
 * A redis-server of the test's own, on a fixed port under `dir`, that can be killed, restarted
 * empty or from an older snapshot, and paused. It writes nothing on its own (`--save ""`); a
 * snapshot is taken on demand (SAVE) and loaded on the next start.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private snapshots = 0;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(dir: string): Promise<OwnRedis> {
    await mkdir(dir, { recursive: true });
    const own = new OwnRedis(dir, await freePort());
    await own.launch();
    return own;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('redis is not running');
    return this.child.pid;
  }

  /** A plain client (for the test's own looks and pokes); disconnect it when done. */
  client(): Redis {
    const client = new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    return client;
  }

  /** The data as it is now, kept aside for `restart({ from })`. */
  async snapshot(): Promise<string> {
    const client = this.client();
    try {
      await client.save();
    } finally {
      client.disconnect();
    }
    const file = join(this.dir, `snapshot-${(this.snapshots += 1)}.rdb`);
    await copyFile(join(this.dir, 'dump.rdb'), file);
    return file;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** Start again: empty, or with an older snapshot's data. Kills a running server first. */
  async restart(options: { from?: string } = {}): Promise<void> {
    await this.kill();
    const dump = join(this.dir, 'dump.rdb');
    await rm(dump, { force: true });
    if (options.from) await copyFile(options.from, dump);
    await this.launch();
  }

  /** Nothing is answered for `ms`: commands wait in Redis and run when the pause ends. */
  async pause(ms: number): Promise<void> {
    const client = this.client();
    try {
      await client.call('CLIENT', 'PAUSE', String(ms), 'ALL');
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--dbfilename',
        'dump.rdb',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const probe = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    probe.on('error', () => undefined);
    try {
      await waitFor(async () => (await probe.ping().catch(() => '')) === 'PONG', {
        timeoutMs: 10_000,
        what: `redis-server on ${this.port}`,
      });
    } finally {
      probe.disconnect();
    }
  }
}
