import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import { API_ROOT } from '../../src/paths.ts';
import { createDatabaseFromTemplate, dropDatabase } from '../support/databases.ts';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface RealServer {
  readonly url: string;
  readonly port: number;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * The API as a process (`src/server.ts`, as `npm run dev` runs it) on a free port, over a fresh
 * database of its own (unless `env` brings its own setup), ready when `/readyz` says so.
 */
export async function startRealServer(
  env: Record<string, string> = {},
  options: { ownDatabase?: boolean; readyPath?: string } = {},
): Promise<RealServer> {
  const runId = inject('runId');
  const name = `stampede_test_${runId}_${process.pid}_srv${(counter += 1)}`;
  const ownDatabase = options.ownDatabase ?? true;
  const databaseUrl = ownDatabase
    ? await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'), name)
    : undefined;
  const port = await freePort();
  const lines: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: API_ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...(databaseUrl
        ? {
            DATABASE_URL: databaseUrl,
            REDIS_URL: inject('redisUrl'),
            REDIS_KEY_PREFIX: `t${runId}:${process.pid}:srv${counter}:`,
            JWT_SECRET: randomBytes(32).toString('hex'),
            SEED_DEMO: 'false',
            DATABASE_POOL_SIZE: '4',
          }
        : {}),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
    if (databaseUrl) await dropDatabase(inject('adminDatabaseUrl'), name);
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the server exited (${child.exitCode}):\n${lines.join('')}`);
    }
    const ready = await fetch(`${url}${options.readyPath ?? '/readyz'}`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not ready in time:\n${lines.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, port, output: () => lines.join(''), stop };
}
