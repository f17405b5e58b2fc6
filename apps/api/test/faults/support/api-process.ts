import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/services.ts';
import { waitFor } from './wait.ts';

const API_DIR = fileURLToPath(new URL('../../../', import.meta.url));

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/**
 * One API process, as one machine of a deployment would run it (`src/server.ts`, its own
 * port), whose log lines are kept for the test to read. It can be killed (any signal) and
 * started again on the same port; an exit the test did not ask for is recorded.
 */
export class ApiProcess {
  readonly logs: LogLine[] = [];
  /** Exits nobody asked for (a crash): the suites assert there are none. */
  readonly unexpectedExits: { code: number | null; signal: string | null }[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = '';

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async start(name: string, env: Record<string, string>): Promise<ApiProcess> {
    const api = new ApiProcess(name, await freePort(), env);
    await api.launch();
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Log lines at ERROR or FATAL. */
  errors(): LogLine[] {
    return this.logs.filter((line) => line.level === 'ERROR' || line.level === 'FATAL');
  }

  /** Send a signal and wait for the exit (kill -9 by default). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill(signal);
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  private async launch(): Promise<void> {
    this.stderr = '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: API_DIR,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LOG_LEVEL: 'info',
        REQUEST_LOG: 'false',
        ...this.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.unexpectedExits.push({ code, signal });
        }
        resolve();
      });
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.logs.push(JSON.parse(text) as LogLine);
      } catch {
        this.logs.push({ level: 'TEXT', msg: text });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    const since = this.logs.length;
    await waitFor(
      () => {
        if (this.child !== child) {
          throw new Error(`API ${this.name} exited while starting: ${this.stderr.trim()}`);
        }
        return this.logs.slice(since).some((line) => line.msg === 'Stampede is ready');
      },
      { timeoutMs: 60_000, what: `API ${this.name} to be ready` },
    );
  }
}
