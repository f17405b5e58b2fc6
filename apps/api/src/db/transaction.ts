import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db } from './client.ts';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/**
 * Run `work` in a transaction. Inside, touch only the `tx` it is given. When `db` already is a
 * transaction, it is reused, so services compose: an outer caller's transaction wins.
 */
export function withTransaction<T>(db: DbOrTx, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (db instanceof PgTransaction) return work(db as Tx);
  return (db as Db).transaction(work);
}
