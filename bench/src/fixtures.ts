import { createHmac } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import pg from 'pg';
import type { LoadClient } from './load.ts';

/**
 * What a sale needs before it opens: an admin token, the products, and thousands of buyers with
 * their tokens. Registration speed is not under test, so buyers are inserted in one statement
 * with one precomputed password hash, and their tokens are signed here with the server's key.
 */

let passwordHash: Promise<string> | undefined;

function buyerPasswordHash(): Promise<string> {
  passwordHash ??= hash('bench-buyer-password', { algorithm: 2 /* argon2id */ });
  return passwordHash;
}

/** Insert `count` buyers; their ids in order. */
export async function createBuyers(
  databaseUrl: string,
  count: number,
  tag: string,
): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ id: number }>(
      `INSERT INTO users (email, name, password_hash, role)
       SELECT 'buyer-' || $3 || '-' || g || '@bench.local', 'Buyer ' || g, $1, 'customer'
       FROM generate_series(1, $2::int) AS g
       ORDER BY g
       RETURNING id`,
      [await buyerPasswordHash(), count, tag],
    );
    return result.rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * An HS256 access token as the API issues it: {iss, aud, sub, role, iat, exp}, with the API's
 * default issuer, audience and lifetime (it refuses a token meant to live longer).
 */
export function signToken(secret: string, userId: number, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: 'stampede',
      aud: 'stampede-api',
      sub: String(userId),
      role: 'customer',
      iat: now,
      exp: now + ttlSeconds,
    }),
  );
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

export async function loginAdmin(
  client: LoadClient,
  admin: { email: string; password: string },
): Promise<string> {
  const { status, body } = await client.call('POST', '/api/auth/login', { json: admin });
  const token = (body as { access_token?: string }).access_token;
  if (status !== 200 || !token) {
    throw new Error(`admin login failed: ${status} ${JSON.stringify(body)}`);
  }
  return token;
}

/** A product on a sale that has already started, `maxPerUser` units per buyer. */
export async function createSaleProduct(
  client: LoadClient,
  adminToken: string,
  input: {
    sku: string;
    name: string;
    stock: number;
    maxPerUser: number | null;
    /** Split the product's gate stock over this many buckets (omitted: the API's default, 1). */
    stockBuckets?: number;
  },
): Promise<number> {
  const { status, body } = await client.call('POST', '/api/admin/products', {
    token: adminToken,
    json: {
      sku: input.sku,
      name: input.name,
      description: 'Benchmark product',
      price_cents: 4999,
      stock: input.stock,
      ...(input.stockBuckets !== undefined && { stock_buckets: input.stockBuckets }),
      sale: {
        starts_at: new Date(Date.now() - 60_000).toISOString(),
        ends_at: null,
        max_per_user: input.maxPerUser,
      },
    },
  });
  const id = (body as { id?: number }).id;
  if (status !== 201 || typeof id !== 'number') {
    throw new Error(`product creation failed: ${status} ${JSON.stringify(body)}`);
  }
  return id;
}
