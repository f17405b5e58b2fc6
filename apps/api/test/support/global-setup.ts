import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { ensureServices } from './services.ts';
import { databaseUrlFor, dropRunDatabases } from './databases.ts';

/**
 * Once per test run: make sure PostgreSQL and Redis answer, migrate a template database that
 * every test file clones (its own database, dropped at the end), and clean up after.
 */
export default async function setup(project: TestProject) {
  const services = await ensureServices();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const template = `stampede_test_${runId}_template`;
  const admin = new pg.Client({ connectionString: services.adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const database = createDatabase({
    url: databaseUrlFor(services.adminDatabaseUrl, template),
    poolSize: 2,
    logger: pino({ level: 'silent' }),
  });
  await migrateDatabase(database);
  await database.close();

  project.provide('adminDatabaseUrl', services.adminDatabaseUrl);
  project.provide('redisUrl', services.redisUrl);
  project.provide('redisClusterNodes', services.redisClusterNodes);
  project.provide('runId', runId);
  project.provide('templateDatabase', template);

  return async () => {
    await dropRunDatabases(services.adminDatabaseUrl, runId);
    await services.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    redisUrl: string;
    redisClusterNodes: string;
    runId: string;
    templateDatabase: string;
  }
}
