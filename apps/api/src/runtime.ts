import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { createDatabase } from './db/client.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.ts';
import { migrateDatabase } from './db/migrate.ts';
import { products } from './db/schema.ts';
import { every, type Job } from './lib/jobs.ts';
import { StockUnavailableError } from './lib/errors.ts';
import type { Logger } from './lib/logger.ts';
import { TtlCache } from './lib/ttl-cache.ts';
import { Outage } from './lib/outage.ts';
import { Peers } from './lib/peers.ts';
import { isDatabaseUnavailable } from './lib/pg-errors.ts';
import { ensureAdmin } from './modules/auth/services.ts';
import { commonPasswords, isCommonPassword } from './modules/auth/common-passwords.ts';
import { createPasswordHasher } from './modules/auth/passwords.ts';
import { createTokenService } from './modules/auth/tokens.ts';
import { IdempotencyLog } from './modules/orders/idempotency-log.ts';
import { expireDueOrders, IDEMPOTENCY_TTL_SECONDS } from './modules/orders/services.ts';
import { ProductCache } from './modules/products/catalog.ts';
import { seedDemoCatalogue } from './modules/products/demo-catalogue.ts';
import { GateKeeper } from './modules/stock/gate-keeper.ts';
import { MemoryGate } from './modules/stock/gate/memory-gate.ts';
import { RedisGate } from './modules/stock/gate/redis-gate.ts';
import { connectRedis, createRedisClient } from './db/redis.ts';
import { createLoginLimiter, type LoginLimiter } from './modules/auth/login-limiter.ts';
import type { StockGate } from './modules/stock/gate/types.ts';
import { stockKeys } from './modules/stock/keys.ts';
import { OrderWriter } from './modules/orders/order-writer.ts';
import { sweepStock, syncGate, syncGates } from './modules/stock/services.ts';
import { DatabaseStock } from './modules/stock/gate/database-stock.ts';
import { SoldOutEdge } from './modules/stock/sold-out.ts';
import { LiveTrafficPublisher } from './observability/live-traffic.ts';
import { createMetrics } from './observability/metrics.ts';
import { liveSaleUnits } from './modules/products/live-sales.ts';
import {
  createAddressLimiter,
  createSignupLimiter,
  type SignupLimiter,
} from './modules/auth/signup-limiter.ts';
import { QueueBoard } from './modules/queue/board.ts';
import { queueKeys } from './modules/queue/keys.ts';
import { getEnabledQueues, getQueueConfig } from './modules/queue/selectors.ts';
import { admitFromQueues } from './modules/queue/services.ts';
import { MemoryQueueStore } from './modules/queue/store/memory-store.ts';
import { RedisQueueStore } from './modules/queue/store/redis-store.ts';
import type { QueueStore } from './modules/queue/store/types.ts';
import { getStockQuantity } from './modules/stock/selectors.ts';

/** The operator of the embedded demo shop. */
export const DEMO_ADMIN_EMAIL = 'admin@stampede.local';

/** How old the database figures on /metrics may be. */
export const METRICS_DATABASE_MAX_AGE_MS = 5000;

export interface Runtime {
  readonly ctx: AppContext;
  /** Stop the jobs, finish queued orders, close connections, stop an embedded database. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Run the expiry sweeper, the timed sync and the clean-ups (off for some tests). */
  readonly jobs?: boolean;
}

/**
 * Everything the API needs, started in order: the database (embedded when no URL), migrations,
 * the gate, the bootstrap admin and demo data, then the gate warm-up, before any order.
 */
export async function startRuntime(
  config: Config,
  logger: Logger,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) {
      await closer().catch((error: unknown) =>
        logger.error({ err: error }, 'shutdown step failed'),
      );
    }
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded: EmbeddedDatabase = await startEmbeddedPostgres({
        dir: config.dataDir,
        logger,
      });
      closers.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }
    const database = createDatabase({
      url: databaseUrl,
      poolSize: config.databasePoolSize,
      logger,
    });
    closers.push(() => database.close());
    await migrateDatabase(database);

    // The gate: admission and stock on one Redis, or both in process. With STOCK_GATE=off the
    // stock is the database alone, admission (rate limit, idempotency answers) stays.
    const redisOutage = new Outage({ dependency: 'redis', logger });
    closers.push(async () => redisOutage.close());
    let gate: RedisGate | MemoryGate;
    let onReconnect: ((listener: () => void) => void) | undefined;
    if (config.redis) {
      const redis = createRedisClient(config.redis, {
        commandTimeoutMs: 2000,
        outage: redisOutage,
      });
      await connectRedis(redis);
      gate = new RedisGate(redis, stockKeys(config.redisKeyPrefix));
      let connectedOnce = true;
      onReconnect = (listener) =>
        redis.on('ready', () => {
          if (connectedOnce) listener();
          connectedOnce = true;
        });
    } else {
      gate = new MemoryGate();
    }
    closers.push(() => gate.close());
    // The waiting rooms share the gate's connection: a poll is one command on the queue's slot.
    const queue: QueueStore =
      gate instanceof RedisGate
        ? new RedisQueueStore(gate.client, queueKeys(config.redisKeyPrefix))
        : new MemoryQueueStore();
    closers.push(() => queue.close());
    const { loginLimiter, signupLimiter, joinLimiter } = await startLimiters(config, logger);
    closers.push(() => loginLimiter.close());
    closers.push(() => signupLimiter.close());
    closers.push(() => joinLimiter.close());
    const stock: StockGate = config.stockGate === 'on' ? gate : new DatabaseStock();

    // A scrape reads the live sales from the database: at most once per few seconds, however
    // many scrapers (or scrapes) there are.
    const liveUnits = new TtlCache<number>(METRICS_DATABASE_MAX_AGE_MS, 1);
    const metrics = createMetrics({
      enabled: config.metrics,
      collectLiveSaleUnits: () => liveUnits.get('all', () => liveSaleUnits(ctx)),
      collectWriterBacklog: () => writer.backlog,
      collectQueues: () => queueBoard.totals(),
    });
    const liveTraffic = new LiveTrafficPublisher({ db: database.db, metrics, logger });
    await liveTraffic.start();
    const idempotencyLog = new IdempotencyLog({
      pool: database.pool,
      db: database.db,
      logger,
      metrics,
      outage: database.outage,
      ttlSeconds: IDEMPOTENCY_TTL_SECONDS,
      flushIntervalMs: 250,
      maxPending: 200_000,
    });
    const writer = new OrderWriter({
      pool: database.pool,
      metrics,
      paymentTtlSeconds: config.orderPaymentTtlSeconds,
      idempotencyTtlSeconds: IDEMPOTENCY_TTL_SECONDS,
      // Orders the gate admitted already own their units: they share commits.
      maxBatch: stock.tracksStock ? 64 : 1,
      maxConcurrentTransactions: Math.max(2, Math.floor(config.databasePoolSize / 2)),
      perProductConcurrency: 2,
      // A hold's request either starts writing well within its hold's lifetime, or gives up.
      // Without a gate there is no hold to outlive: an order waits its turn.
      deadlineMs: stock.tracksStock ? config.stockHoldMaxAgeMs / 3 : Number.POSITIVE_INFINITY,
    });
    const gateKeeper = new GateKeeper({
      stock,
      logger,
      metrics,
      syncAll: (only) =>
        syncGates({ ctx, input: { trigger: 'rebuild', ...(only ? { where: only } : {}) } }),
      syncOne: async (productId) =>
        (await syncGate({ ctx, input: { productId, trigger: 'repair' } })) !== null,
      reload: async () => {
        const loaded = await idempotencyLog.warm(gate);
        if (loaded > 0) logger.info({ loaded }, 'idempotency answers reloaded into the gate');
      },
      checkIntervalMs: 1000,
      readyTimeoutMs: 3000,
    });
    const jwtSecret = config.jwtSecret ?? (await generatedSecret(config, logger));
    const queueBoard = new QueueBoard({
      loadSettings: (productId) => getQueueConfig({ db: database.db, productId }),
      loadEnabled: () => getEnabledQueues({ db: database.db }),
      loadUnits: async (productId, buckets) =>
        (await getStockQuantity({ ctx, input: { productId, buckets } })) ?? 0,
      // Its own key, or one derived from the JWT key: a ticket is never a valid token.
      secret:
        config.queue.secret ??
        createHmac('sha256', jwtSecret).update('stampede waiting room').digest('base64url'),
    });
    const soldOut = new SoldOutEdge({ ttlMs: config.soldOutEdgeMs });
    await stock.onReturned((productId) => soldOut.returned(productId));
    const ctx: AppContext = {
      config,
      logger,
      database,
      db: database.db,
      admission: gate,
      stock,
      gateKeeper,
      soldOut,
      writer,
      productCache: new ProductCache(database.db),
      idempotencyLog,
      metrics,
      liveTraffic,
      tokens: createTokenService({
        secret: jwtSecret,
        ttlSeconds: config.jwtTtlSeconds,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
      }),
      passwords: createPasswordHasher(config.passwordHashing),
      loginLimiter,
      signupLimiter,
      joinLimiter,
      queue,
      queueBoard,
    };
    closers.push(() => idempotencyLog.close());
    closers.push(() => writer.drain());
    // The per-product bound is the deployment's, divided among the processes writing orders.
    const peers = new Peers({
      ...(gate instanceof RedisGate ? { redis: gate.client } : {}),
      key: `${config.redisKeyPrefix}{peers}:writers`,
      onChange: (count) => {
        writer.shareWith(count);
        logger.info({ processes: count }, 'order writers sharing the database');
      },
    });
    await peers.start();
    closers.push(() => peers.stop());

    await commonPasswords();
    await bootstrapAdmin(ctx);
    if (config.seedDemo) {
      const [row] = await database.db.select({ total: count() }).from(products);
      if ((row?.total ?? 0) === 0) {
        const seeded = await seedDemoCatalogue({ ctx });
        logger.info({ products: seeded }, 'demo catalogue seeded');
      }
    }

    await gateKeeper.start();
    closers.push(async () => gateKeeper.stop());
    onReconnect?.(() => gateKeeper.onReconnect());
    if (config.redis?.kind === 'cluster') {
      // A node joining or leaving is a failover or a resharding under way: look at once.
      const cluster = (gate as RedisGate).client;
      cluster.on('+node', () => gateKeeper.checkSoon());
      cluster.on('-node', () => gateKeeper.checkSoon());
    }

    if (options.jobs ?? true) {
      // A job that fails because a dependency is away tells that dependency's outage (one log
      // line per change of state); anything else is a bug, logged in full.
      const failed = (error: unknown, job: string) => {
        if (isDatabaseUnavailable(error)) database.outage.failed(error);
        else if (error instanceof StockUnavailableError) redisOutage.failed(error);
        else logger.error({ err: error, job }, 'background job failed');
      };
      const jobs: Job[] = [
        every('expire-orders', config.expirySweepIntervalMs, () => expireAllDue(ctx), failed),
        every('sweep-stock', config.stockSyncIntervalMs, () => sweepStock({ ctx }), failed),
        every('admit-queues', config.queue.tickMs, () => admitFromQueues({ ctx }), failed),
        every('purge-idempotency', 3600_000, () => idempotencyLog.purgeExpired(), failed),
        liveTraffic.startPublishing(),
        every(
          'purge-live-traffic',
          3600_000,
          () => liveTraffic.purge(config.liveTrafficRetentionDays),
          failed,
        ),
      ];
      // After the jobs stop, the last second of traffic goes out before the database closes.
      closers.push(() => liveTraffic.publish());
      closers.push(() => Promise.all(jobs.map((job) => job.stop())));
    }
    return { ctx, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Sign-in and sign-up limits on a Redis connection of their own (the gate's is the order path's
 * and stays so), or in process. A Redis that does not answer at start is no reason not to
 * start: the limiters count in process until it does.
 */
async function startLimiters(
  config: Config,
  logger: Logger,
): Promise<{
  loginLimiter: LoginLimiter;
  signupLimiter: SignupLimiter;
  joinLimiter: SignupLimiter;
}> {
  const signup = { prefix: config.redisKeyPrefix, perHour: config.signupLimitPerHour, logger };
  const joins = {
    prefix: config.redisKeyPrefix,
    name: 'joins',
    limit: config.queue.joinLimitPerMinute,
    windowMs: 60_000,
    logger,
  };
  if (!config.redis) {
    return {
      loginLimiter: createLoginLimiter({ prefix: config.redisKeyPrefix, logger }),
      signupLimiter: createSignupLimiter(signup),
      joinLimiter: createAddressLimiter(joins),
    };
  }
  const redis = createRedisClient(config.redis, { commandTimeoutMs: 1000 });
  let lastLogged = 0;
  redis.on('error', (error: Error) => {
    if (Date.now() - lastLogged > 5000) {
      lastLogged = Date.now();
      logger.warn({ err: error }, 'login limiter: redis connection error');
    }
  });
  await connectRedis(redis).catch((error: unknown) => {
    logger.warn({ err: error }, 'login limiter: Redis not reachable; counting in process');
  });
  return {
    loginLimiter: createLoginLimiter({ redis, prefix: config.redisKeyPrefix, logger }),
    signupLimiter: createSignupLimiter({ ...signup, redis }),
    joinLimiter: createAddressLimiter({ ...joins, redis }),
  };
}

/** Expire everything due, in rounds, so a backlog clears within one sweep. */
async function expireAllDue(ctx: AppContext): Promise<void> {
  while ((await expireDueOrders({ ctx, input: { limit: 500 } })) === 500);
}

async function bootstrapAdmin(ctx: AppContext): Promise<void> {
  const { config, logger } = ctx;
  if (config.admin) {
    if (await isCommonPassword(config.admin.password)) {
      throw new Error('ADMIN_PASSWORD is one of the most common passwords; choose another');
    }
    const { created } = await ensureAdmin({ ctx, input: config.admin });
    logger.info({ email: config.admin.email, created }, 'bootstrap admin ready');
    return;
  }
  // The demo operator belongs to the embedded demo shop alone: never to a real database, even
  // with SEED_DEMO=true, where a known email with a password in a file is a way in.
  if (!config.seedDemo || config.databaseUrl) return;
  const email = DEMO_ADMIN_EMAIL;
  const file = join(config.dataDir, 'demo-admin-password');
  const { getUserByEmail } = await import('./modules/auth/selectors.ts');
  if (await getUserByEmail({ db: ctx.db, email })) {
    if (existsSync(file)) logger.info({ email, file }, 'demo admin: the password is in the file');
    return;
  }
  // Its password goes to a file only its owner can read, never into the log, which is shipped
  // and kept where a password has no business being (and where redaction cannot find it).
  const password = randomBytes(12).toString('base64url');
  await ensureAdmin({ ctx, input: { email, password, name: 'Demo operator' } });
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  logger.warn(
    { email, file },
    `demo admin created: sign in as ${email} with the password in ${file}`,
  );
}

/** Without JWT_SECRET, a random key is generated once and kept under DATA_DIR. */
async function generatedSecret(config: Config, logger: Logger): Promise<string> {
  const file = join(config.dataDir, 'jwt-secret');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing && Buffer.byteLength(existing.trim()) >= 32) return existing.trim();
  await mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  logger.info({ file }, 'JWT_SECRET not set: generated a signing key');
  return secret;
}
