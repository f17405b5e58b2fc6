import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db } from './client.ts';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/**
 * Run `work` in a transaction, given the same context with `db` being the transaction. Inside,
 * touch only that. When `ctx.db` already is a transaction it is reused, so services compose:
 * an outer caller's transaction wins.
 */
export function withTransaction<C extends { readonly db: DbOrTx }, T>(
  ctx: C,
  work: (tx: C) => Promise<T>,
): Promise<T> {
  if (ctx.db instanceof PgTransaction) return work(ctx);
  return (ctx.db as Db).transaction((tx) => work({ ...ctx, db: tx }));
}
