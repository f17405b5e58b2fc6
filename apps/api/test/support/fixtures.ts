import { randomUUID } from 'node:crypto';
import type { CreateProductInput } from '@stampede/contract';
import type { AppContext } from '../../src/context.ts';
import { users } from '../../src/db/schema.ts';
import { hashPassword } from '../../src/modules/auth/passwords.ts';
import { createProduct } from '../../src/modules/products/services.ts';

export const TEST_PASSWORD = 'correct horse battery';
let passwordHash: Promise<string> | undefined;

export interface TestUser {
  readonly id: number;
  readonly email: string;
  readonly token: string;
}

/** Users inserted directly with one shared hash: registration speed is not under test here. */
export async function createUsers(
  ctx: AppContext,
  count: number,
  role: 'customer' | 'admin' = 'customer',
): Promise<TestUser[]> {
  const hash = await (passwordHash ??= hashPassword(TEST_PASSWORD));
  const rows = await ctx.db
    .insert(users)
    .values(
      Array.from({ length: count }, () => {
        const id = randomUUID().slice(0, 12);
        return { email: `user-${id}@example.test`, name: `User ${id}`, passwordHash: hash, role };
      }),
    )
    .returning({ id: users.id, email: users.email });
  return rows.map((row) => ({ ...row, token: ctx.tokens.issue({ userId: row.id, role }) }));
}

export async function createUser(
  ctx: AppContext,
  role: 'customer' | 'admin' = 'customer',
): Promise<TestUser> {
  return (await createUsers(ctx, 1, role))[0]!;
}

/** A product on a live sale by default (started a minute ago, no end, no cap). */
export async function createTestProduct(
  ctx: AppContext,
  overrides: Partial<CreateProductInput> = {},
) {
  const sku = `T-${randomUUID().slice(0, 8)}`;
  return createProduct({
    ctx,
    input: {
      sku,
      name: `Test product ${sku}`,
      price_cents: 1000,
      stock: 10,
      sale: {
        starts_at: new Date(Date.now() - 60_000).toISOString(),
        ends_at: null,
        max_per_user: null,
      },
      ...overrides,
    },
  });
}

export const bearer = (user: { token: string }) => ({ authorization: `Bearer ${user.token}` });
