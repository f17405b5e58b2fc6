import { eq, sql } from 'drizzle-orm';
import type { User } from '@stampede/contract';
import type { DbOrTx } from '../../db/transaction.ts';
import { users } from '../../db/schema.ts';

export type UserRow = typeof users.$inferSelect;

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

export async function getUserById({
  db,
  userId,
}: {
  db: DbOrTx;
  userId: number;
}): Promise<UserRow | null> {
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  return row ?? null;
}

export async function getUserByEmail({
  db,
  email,
}: {
  db: DbOrTx;
  email: string;
}): Promise<UserRow | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
  return row ?? null;
}
