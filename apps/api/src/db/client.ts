import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;

// int8 (bigint) columns and count(*) arrive as strings by default; every bigint here
// (versions, totals, counts) stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface Database {
  readonly pool: pg.Pool;
  readonly db: Db;
  close(): Promise<void>;
}

export function createDatabase(options: {
  url: string;
  poolSize: number;
  logger: Logger;
  applicationName?: string;
}): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    application_name: options.applicationName ?? 'stampede-api',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // A hot row must never hold a request forever: lock waits and statements are bounded,
    // and a transaction abandoned by a crashed request is cut off by the server.
    options:
      '-c lock_timeout=2000 -c statement_timeout=15000 -c idle_in_transaction_session_timeout=30000',
  });
  // An idle client losing its connection emits here; without a listener the process would die.
  pool.on('error', (error: Error & { code?: string }) => {
    // Only the error's own fields: pg attaches the whole client to it.
    options.logger.error({ code: error.code, reason: error.message }, 'database connection lost');
  });
  const db = drizzle(pool, { schema, casing: 'snake_case' });
  let closed: Promise<void> | undefined;
  return {
    pool,
    db,
    close: () => (closed ??= pool.end()),
  };
}
