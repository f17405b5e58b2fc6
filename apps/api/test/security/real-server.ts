import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { ApiProcess } from '../faults/support/api-process.ts';
import { createDatabaseFromTemplate, dropDatabase } from '../support/databases.ts';

export { freePort } from '../support/services.ts';

export interface RealServer {
  readonly url: string;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * The API as a process (`src/server.ts`) on a free port, over a fresh database of its own and a
 * Redis key prefix of its own, ready when it says so; `env` adds to (or overrides) that.
 */
export async function startRealServer(env: Record<string, string> = {}): Promise<RealServer> {
  const runId = inject('runId');
  const name = `stampede_test_${runId}_${process.pid}_srv${(counter += 1)}`;
  const adminUrl = inject('adminDatabaseUrl');
  const databaseUrl = await createDatabaseFromTemplate(adminUrl, inject('templateDatabase'), name);
  try {
    const api = await ApiProcess.start(`security-${counter}`, {
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `t${runId}:${process.pid}:srv${counter}:`,
      JWT_SECRET: randomBytes(32).toString('hex'),
      SEED_DEMO: 'false',
      DATABASE_POOL_SIZE: '4',
      ...env,
    });
    return {
      url: api.url,
      async stop() {
        await api.kill('SIGTERM');
        await dropDatabase(adminUrl, name);
      },
    };
  } catch (error) {
    await dropDatabase(adminUrl, name);
    throw error;
  }
}
