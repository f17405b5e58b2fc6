import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../../src/config.ts';
import { hashPassword } from '../../../src/modules/auth/passwords.ts';
import { createTokenService, type TokenService } from '../../../src/modules/auth/tokens.ts';
import { ApiProcess } from './api-process.ts';
import { OwnPostgres } from './postgres.ts';
import { connectRedis, createRedisClient, type RedisClient } from '../../../src/db/redis.ts';
import { LocalRedisCluster } from '../../support/redis-cluster.ts';
import { OwnRedis } from './redis.ts';

const ADMIN = { email: 'ops@faults.test', password: 'fault-suite-operator' };

/** What a client saw: an answer, or nothing it can trust (a timeout, a dropped connection). */
export type Outcome =
  | {
      readonly kind: 'ok';
      readonly status: number;
      readonly body: Record<string, unknown> | undefined;
      readonly headers: Headers;
    }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface Buyer {
  readonly id: number;
  readonly token: string;
}

/**
 * A whole deployment of the test's own: PostgreSQL, Redis and `processes` API processes (as
 * many machines) sharing them, each a real `src/server.ts`. Faults are injected into these
 * processes only; the machine's shared services are never touched.
 */
export class FaultShop {
  /** Redis snapshots taken during the run, oldest first (for restarts from old data). */
  readonly snapshots: string[] = [];

  private constructor(
    readonly postgres: OwnPostgres,
    /** The gate's Redis: one node of the test's own, or a cluster of its own. */
    private readonly gateRedis: OwnRedis | LocalRedisCluster,
    readonly apis: ApiProcess[],
    private readonly tokens: TokenService,
    private readonly adminToken: string,
  ) {}

  static async start(
    options: { processes?: number; env?: Record<string, string>; cluster?: boolean } = {},
  ): Promise<FaultShop> {
    const dir = await mkdtemp(join(tmpdir(), 'stampede-faults-'));
    // As root, PostgreSQL runs as the postgres user, which must be able to enter it.
    await chmod(dir, 0o755);
    const postgres = await OwnPostgres.start(join(dir, 'postgres'));
    const redis = options.cluster
      ? await LocalRedisCluster.start({ dir: join(dir, 'cluster') })
      : await OwnRedis.start(join(dir, 'redis'));
    const secret = randomBytes(32).toString('hex');
    const env = {
      DATABASE_URL: postgres.url,
      ...(redis instanceof LocalRedisCluster
        ? { REDIS_CLUSTER_NODES: redis.seedList }
        : { REDIS_URL: redis.url }),
      JWT_SECRET: secret,
      ORDER_RATE_LIMIT_MS: '0',
      SEED_DEMO: 'false',
      DATABASE_POOL_SIZE: '10',
      DATA_DIR: join(dir, 'data'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ...options.env,
    };
    const apis: ApiProcess[] = [];
    // One at a time: the first migrates; the rest find the database ready.
    for (let i = 0; i < (options.processes ?? 2); i += 1) {
      apis.push(await ApiProcess.start(String.fromCharCode(65 + i), env));
    }
    const login = await call(apis[0]!.url, {
      method: 'POST',
      path: '/api/auth/login',
      body: ADMIN,
    });
    if (login.kind !== 'ok' || login.status !== 200) throw new Error('operator cannot sign in');
    const config = loadConfig(env);
    const tokens = createTokenService({
      secret,
      ttlSeconds: config.jwtTtlSeconds,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
    });
    return new FaultShop(postgres, redis, apis, tokens, String(login.body!.access_token));
  }

  /** The one Redis node (for its faults); a cluster shop has none. */
  get redis(): OwnRedis {
    if (!(this.gateRedis instanceof OwnRedis)) throw new Error('this shop runs on a cluster');
    return this.gateRedis;
  }

  /** The Redis Cluster (for its faults), when the shop runs on one. */
  get cluster(): LocalRedisCluster | undefined {
    return this.gateRedis instanceof LocalRedisCluster ? this.gateRedis : undefined;
  }

  /** A client to look at the gate's keys with (a cluster client on a cluster); disconnect it. */
  async lookAtGate(): Promise<RedisClient> {
    const cluster = this.cluster;
    if (!cluster) return this.redis.client();
    const client = createRedisClient(
      {
        kind: 'cluster',
        nodes: cluster.seedList.split(',').map((seed) => {
          const [host, port] = seed.split(':');
          return { host: host!, port: Number(port) };
        }),
      },
      { commandTimeoutMs: 5000 },
    );
    await connectRedis(client);
    return client;
  }

  async takeSnapshot(): Promise<void> {
    this.snapshots.push(await this.redis.snapshot());
  }

  async stop(): Promise<void> {
    for (const api of this.apis) await api.kill('SIGTERM');
    await this.gateRedis.stop();
    await this.postgres.stop();
  }

  /** A product on a live sale, created through the admin API (so the gate knows it at once). */
  async createProduct(stock: number, maxPerUser: number | null = null): Promise<number> {
    const created = await this.admin('POST', '/api/admin/products', {
      sku: `F-${randomUUID().slice(0, 8)}`,
      name: 'Fault suite product',
      price_cents: 500,
      stock,
      sale: {
        starts_at: new Date(Date.now() - 60_000).toISOString(),
        ends_at: null,
        max_per_user: maxPerUser,
      },
    });
    return Number(created.id);
  }

  async setStock(productId: number, quantity: number): Promise<void> {
    await this.admin('PUT', `/api/admin/products/${productId}/stock`, { quantity });
  }

  /** Shoppers inserted directly (one shared hash), with tokens the API accepts. */
  async createBuyers(count: number): Promise<Buyer[]> {
    const hash = await hashPassword('fault suite shopper');
    const rows = await this.query<{ id: number }>(
      `INSERT INTO users (email, name, password_hash, role)
       SELECT 'buyer-' || gen_random_uuid() || '@faults.test', 'Buyer', $1, 'customer'
       FROM generate_series(1, $2) RETURNING id`,
      [hash, count],
    );
    return rows.map(({ id }) => ({
      id,
      token: this.tokens.issue({ userId: id, role: 'customer' }),
    }));
  }

  /** One query on the test's own connection (closed at once: it must survive faults). */
  async query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.postgres.url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** A request as the operator, to the first process. */
  adminCall(method: string, path: string, body?: unknown): Promise<Outcome> {
    return call(this.apis[0]!.url, {
      method,
      path,
      token: this.adminToken,
      ...(body === undefined ? {} : { body }),
    });
  }

  private async admin(
    method: string,
    path: string,
    body: unknown,
  ): Promise<Record<string, unknown>> {
    const answer = await this.adminCall(method, path, body);
    if (answer.kind !== 'ok' || answer.status >= 300) {
      throw new Error(
        `${method} ${path}: ${JSON.stringify(answer.kind === 'ok' ? answer.body : answer)}`,
      );
    }
    return answer.body!;
  }
}

/** One HTTP request; a timeout or a dropped connection is an unknown outcome, not an error. */
export async function call(
  baseUrl: string,
  request: {
    method: string;
    path: string;
    token?: string;
    body?: unknown;
    idempotencyKey?: string;
    timeoutMs?: number;
  },
): Promise<Outcome> {
  try {
    const response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: {
        ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      body = { text };
    }
    return { kind: 'ok', status: response.status, body, headers: response.headers };
  } catch (error) {
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The id in a 201's body (the order made), else undefined. */
export function createdId(outcome: Outcome): number | undefined {
  return outcome.kind === 'ok' && outcome.status === 201 ? Number(outcome.body!.id) : undefined;
}

/** The error code of an answer, if it is an error. */
export function codeOf(outcome: Outcome): string | undefined {
  if (outcome.kind !== 'ok') return undefined;
  const error = outcome.body?.error as { code?: string } | undefined;
  return error?.code;
}

export function placeOrder(
  api: ApiProcess,
  buyer: Buyer,
  items: { product_id: number; quantity: number }[],
  idempotencyKey?: string,
  timeoutMs?: number,
): Promise<Outcome> {
  return call(api.url, {
    method: 'POST',
    path: '/api/orders',
    token: buyer.token,
    body: { items },
    ...(idempotencyKey ? { idempotencyKey } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

/** Units on sale as the API tells it (the gate's counter). */
export async function availableAt(api: ApiProcess, productId: number): Promise<number | undefined> {
  const answer = await call(api.url, { method: 'GET', path: `/api/products/${productId}/stock` });
  return answer.kind === 'ok' && answer.status === 200 ? Number(answer.body!.available) : undefined;
}
