import { rm } from 'node:fs/promises';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../../src/db/embedded.ts';
import { freePort } from '../../support/services.ts';
import { waitFor } from './wait.ts';

/**
 * A PostgreSQL server of the test's own (the embedded binaries, under `dir`), so that it can be
 * paused, crashed and restarted without touching the machine's shared one. It keeps its port
 * across restarts: the API processes keep their DATABASE_URL.
 */
export class OwnPostgres {
  private server: EmbeddedDatabase | undefined;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly maxConnections: number,
  ) {}

  static async start(dir: string, maxConnections = 200): Promise<OwnPostgres> {
    const own = new OwnPostgres(dir, await freePort(), maxConnections);
    await own.restart();
    return own;
  }

  get url(): string {
    return this.required().url;
  }

  /** The postmaster; its backends share its process group. */
  get pid(): number {
    return this.required().pid;
  }

  /** Start it again (after a crash or a stop): crash recovery runs on its data. */
  async restart(): Promise<void> {
    this.server = await startEmbeddedPostgres({
      dir: this.dir,
      logger: pino({ level: 'silent' }),
      port: this.port,
      maxConnections: this.maxConnections,
    });
  }

  /** `pg_ctl -m immediate`: every process quits at once, as if the machine lost power. */
  async crash(): Promise<void> {
    const pid = this.pid;
    process.kill(pid, 'SIGQUIT');
    await waitFor(() => !alive(pid), { timeoutMs: 20_000, what: 'PostgreSQL to quit' });
  }

  /** SIGSTOP to the whole server (postmaster and backends): connections stay, nothing answers. */
  pause(): void {
    process.kill(-this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(-this.pid, 'SIGCONT');
  }

  /** `pg_terminate_backend` for every connection of the given application. Returns how many. */
  async terminateBackends(applicationName = 'stampede-api'): Promise<number> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE application_name = $1 AND pid <> pg_backend_pid()`,
        [applicationName],
      );
      return rows[0]!.n;
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    try {
      this.resume();
    } catch {
      // not running
    }
    await this.server?.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private required(): EmbeddedDatabase {
    if (!this.server) throw new Error('PostgreSQL has not started');
    return this.server;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
