import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/services.ts';
import { alive } from './support/postgres.ts';
import type { LogLine } from './support/api-process.ts';
import { waitFor } from './support/wait.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A process's group, from /proc: pid (comm) state ppid pgrp ... */
function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/**
 * `npm start` with nothing configured (embedded PostgreSQL, in-process gate) stopped as a
 * terminal stops it: SIGINT to every process of the terminal's group at once.
 */
describe('a clean stop', () => {
  it('when Ctrl-C reaches the whole process group of npm start, the shop stops with no error logged and its database stopped', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stampede-stop-'));
    await chmod(dataDir, 0o755);
    const port = await freePort();
    // A group of its own, as a terminal's foreground job is.
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: LogLine[] = [];
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        // build output
      }
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(() => lines.some((line) => line.msg === 'Stampede is ready'), {
        timeoutMs: 150_000,
        what: `npm start to be ready (${stderr.slice(-500)})`,
        everyMs: 200,
      });
      const database = lines.find((line) => line.msg === 'embedded PostgreSQL is up');
      expect(database).toBeDefined();
      const answer = await fetch(`http://127.0.0.1:${port}/api/products`);
      expect(answer.status).toBe(200);
      const postmaster = Number(
        (await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0],
      );

      // The database is outside the terminal's group: Ctrl-C reaches the API, never the database
      // under it (the API stops it last, once its pool is closed).
      expect(processGroupOf(postmaster)).not.toBe(child.pid);
      expect(processGroupOf(postmaster)).toBe(postmaster);

      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      expect(lines.filter((line) => line.level === 'ERROR' || line.level === 'FATAL')).toEqual([]);
      // The database stops after the API is done with it, never under it.
      expect(lines.filter((line) => line.msg === 'database unavailable')).toEqual([]);
      expect(lines.some((line) => line.msg === 'stopped')).toBe(true);
      expect(stderr).not.toMatch(/error/i);
      await waitFor(() => !alive(postmaster), { timeoutMs: 10_000, what: 'PostgreSQL to stop' });
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 200_000);
});
