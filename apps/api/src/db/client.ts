import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import { Outage } from '../lib/outage.ts';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;

// int8 (bigint) columns and count(*) arrive as strings by default; every bigint here
// (versions, totals, counts) stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface Database {
  readonly pool: pg.Pool;
  readonly db: Db;
  /** Whether PostgreSQL answers, as the log tells it: one line per change, not per request. */
  readonly outage: Outage;
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
  const outage = new Outage({
    dependency: 'database',
    logger: options.logger,
    probe: () => pool.query('SELECT 1'),
  });
  // A client whose connection drops emits 'error': an idle one through the pool's listener, a
  // checked-out one (inside a transaction) only on itself, where an unheard 'error' would end
  // the process. Every client gets a listener for its whole life; the query in progress fails
  // on its own, and the pool discards the broken client when it is released.
  const connectionLost = (error: Error) => outage.failed(error);
  pool.on('error', connectionLost);
  pool.on('connect', (client) => {
    client.on('error', connectionLost);
    outage.recovered();
  });
  const db = drizzle(pool, { schema, casing: 'snake_case' });
  let closed: Promise<void> | undefined;
  return {
    pool,
    db,
    outage,
    close: () => {
      outage.close();
      return (closed ??= pool.end());
    },
  };
}
