import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The environment, parsed once at boot. Nothing else in the API reads `process.env`.
 * A bad value stops start-up with one line naming the variable (see `ConfigError`).
 */

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `must be an integer between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
    message: 'must be true or false',
  })
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const url = (schemes: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return schemes.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`,
    );

const EnvSchema = z
  .object({
    PORT: int(1, 65535).default(8000),
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    DATABASE_POOL_SIZE: int(2, 200).default(20),
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    /**
     * A Redis Cluster instead of one node: some of its nodes, `host:port` comma-separated (the
     * rest are found from them). Not together with REDIS_URL.
     */
    REDIS_CLUSTER_NODES: z
      .string()
      .trim()
      .transform((value, ctx) => {
        const nodes: { host: string; port: number }[] = [];
        for (const part of value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)) {
          const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(part);
          const port = Number(match?.[2]);
          if (!match || port < 1 || port > 65535) {
            ctx.addIssue({
              code: 'custom',
              message: `must be host:port pairs, comma-separated (${JSON.stringify(part)} is not one)`,
            });
            return z.NEVER;
          }
          nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
        }
        if (nodes.length === 0) {
          ctx.addIssue({ code: 'custom', message: 'must name at least one node' });
          return z.NEVER;
        }
        return nodes;
      })
      .optional(),
    /** The password of the cluster's nodes (REDIS_URL carries its own). */
    REDIS_CLUSTER_PASSWORD: z.string().min(1).optional(),
    /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{0,64}$/, 'letters, digits, colon, dash and underscore only')
      .default('stampede:'),
    DATA_DIR: z.string().trim().min(1).default('./.data'),
    JWT_SECRET: z
      .string()
      .refine((value) => Buffer.byteLength(value) >= 32, 'must be at least 32 bytes')
      .optional(),
    /** At most 12 hours: ASVS level 2 asks for a new sign-in at least that often. */
    JWT_TTL_S: int(60, 12 * 3600).default(3600),
    JWT_ISSUER: z.string().trim().min(1).max(200).default('stampede'),
    JWT_AUDIENCE: z.string().trim().min(1).max(200).default('stampede-api'),
    ADMIN_EMAIL: z.email({ message: 'must be an email address' }).optional(),
    ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').max(128).optional(),
    ORDER_RATE_LIMIT_MS: int(0, 3_600_000).default(1000),
    ORDER_PAYMENT_TTL_S: int(1, 30 * 24 * 3600).default(900),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    /** One line per answered request at info level; the benchmark measures its cost. */
    REQUEST_LOG: bool.default(true),
    METRICS: bool.default(true),
    /** Serve /metrics on this port (and not on PORT), bound to METRICS_HOST. */
    METRICS_PORT: int(1, 65535).optional(),
    METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
    /** When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: z
      .string()
      .regex(/^[\x21-\x7e]{32,256}$/, 'must be 32 to 256 visible ASCII characters')
      .optional(),
    /** Swagger UI at /docs and the OpenAPI document at /openapi.json. */
    API_DOCS: bool.default(true),
    /** The stock gate in front of PostgreSQL. `off` sends every attempt to the database. */
    STOCK_GATE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
    /** The sweep: every active product's gate checked against the database, synced where needed. */
    STOCK_SYNC_INTERVAL_MS: int(100, 3_600_000).default(2000),
    /** A gate hold older than this belongs to a request that died; the sync drops it. */
    STOCK_HOLD_MAX_AGE_MS: int(1000, 3_600_000).default(15_000),
    EXPIRY_SWEEP_INTERVAL_MS: int(50, 60_000).default(1000),
    /**
     * The sold-out edge: how long a process answers "sold out" from memory after the gate said
     * so, at most (units coming back end it at once). 0 turns it off.
     */
    SOLD_OUT_EDGE_MS: int(0, 60_000).default(1000),
    /**
     * The waiting room's proof of work: the largest number an ALTCHA challenge hides (a browser
     * tries half of them on average; 100,000 is about a second on a phone).
     */
    QUEUE_CHALLENGE_MAXNUMBER: int(100, 100_000_000).default(100_000),
    /** How long a challenge may be solved and used (once) after it was handed out. */
    QUEUE_CHALLENGE_TTL_S: int(10, 3600).default(300),
    /**
     * The key that signs queue tickets and challenges. Default: derived from JWT_SECRET (every
     * process that shares the JWT key shares this one).
     */
    QUEUE_SECRET: z
      .string()
      .refine((value) => Buffer.byteLength(value) >= 32, 'must be at least 32 bytes')
      .optional(),
    /** How often each process runs the waiting rooms' admission step (the rate is shared). */
    QUEUE_TICK_MS: int(50, 10_000).default(250),
    /**
     * Waiting-room joins one address (IPv6: one /64) may make per minute, over every queue; 0
     * turns the limit off. Generous: many buyers may share an address (an office, a carrier NAT).
     */
    QUEUE_JOIN_LIMIT_PER_MINUTE: int(0, 1_000_000).default(60),
    /** Accounts one address (IPv6: one /64) may create per hour; 0 turns the limit off. */
    SIGNUP_LIMIT_PER_HOUR: int(0, 1_000_000).default(5),
    /** How long the per-second order traffic behind the live sale view and reports is kept. */
    LIVE_TRAFFIC_RETENTION_DAYS: int(1, 3650).default(30),
    /** Seed the demo catalogue when the database has no products. Default: only when embedded. */
    SEED_DEMO: bool.optional(),
    /** API processes sharing the port (node:cluster). More than one needs Redis and a database URL. */
    WORKERS: int(1, 64).default(1),
    /**
     * Behind a load balancer: `true`, a number of hops, or addresses/CIDRs to trust for
     * X-Forwarded-For (the sign-in limit counts per client IP).
     */
    TRUST_PROXY: z.string().trim().min(1).optional(),
    /** The whole request (headers and body) must arrive within this, or 408 and closed. */
    REQUEST_TIMEOUT_MS: int(100, 600_000).default(10_000),
    /** The request's headers must arrive within this. */
    HEADERS_TIMEOUT_MS: int(100, 600_000).default(5_000),
    /** An idle kept-alive connection is closed after this. */
    KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
    /**
     * Node's thread pool (file reads, DNS, compression, password hashing). Node reads it itself
     * at start; it is read here to keep password hashing below it.
     */
    UV_THREADPOOL_SIZE: int(1, 1024).default(4),
    /** Password hashes computed at once; default: one less than the cores, below the pool. */
    PASSWORD_HASH_CONCURRENCY: int(1, 1023).optional(),
    /** Sign-ups and sign-ins waiting for a hash beyond those; more get 503 with Retry-After. */
    PASSWORD_HASH_QUEUE: int(0, 100_000).default(64),
    /**
     * Other origins product images may come from (comma-separated `https://cdn.example.com`):
     * admins can set no other, and the page policy loads from no other.
     */
    IMAGE_ORIGINS: z
      .string()
      .trim()
      .transform((value, ctx) => {
        const origins: string[] = [];
        for (const part of value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)) {
          const origin = originOf(part);
          if (!origin) {
            ctx.addIssue({
              code: 'custom',
              message: `must be origins such as https://cdn.example.com, comma-separated (${JSON.stringify(part)} is not one)`,
            });
            return z.NEVER;
          }
          origins.push(origin);
        }
        return origins;
      })
      .optional(),
    /** TLS is terminated in front of the API (a load balancer, a proxy): HSTS is sent. */
    TLS_IN_FRONT: bool.default(false),
    /** Serve the web app's source maps (built, never referenced from its scripts otherwise). */
    WEB_SOURCE_MAPS: bool.default(false),
    /** Where the built web app lives; served at `/` when present. */
    WEB_DIST_DIR: z.string().trim().min(1).optional(),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'],
        message: 'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
      });
    }
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT === env.PORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_PORT'],
        message: 'must differ from PORT (unset it to serve /metrics on PORT)',
      });
    }
    if (
      env.PASSWORD_HASH_CONCURRENCY !== undefined &&
      env.PASSWORD_HASH_CONCURRENCY >= env.UV_THREADPOOL_SIZE
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['PASSWORD_HASH_CONCURRENCY'],
        message: `must be below UV_THREADPOOL_SIZE (${env.UV_THREADPOOL_SIZE}): hashing must leave threads for file reads`,
      });
    }
    if (env.HEADERS_TIMEOUT_MS > env.REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['HEADERS_TIMEOUT_MS'],
        message: 'must not exceed REQUEST_TIMEOUT_MS (the headers are part of the request)',
      });
    }
    if (env.WORKERS > 1 && !env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKERS'],
        message:
          'more than one worker needs REDIS_URL or REDIS_CLUSTER_NODES: the in-process stock gate is per process',
      });
    }
    if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_CLUSTER_NODES'],
        message: 'set REDIS_URL (one node) or REDIS_CLUSTER_NODES (a cluster), not both',
      });
    }
    if (env.REDIS_CLUSTER_PASSWORD && !env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_CLUSTER_PASSWORD'],
        message: 'is the password of REDIS_CLUSTER_NODES, which is not set',
      });
    }
    // A key generated under DATA_DIR belongs to one process on one machine: processes sharing a
    // database (or the port) would each sign with a key of their own, and refuse each other's
    // tokens at random.
    if (!env.JWT_SECRET && (env.DATABASE_URL || env.WORKERS > 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: `must be set when ${env.DATABASE_URL ? 'DATABASE_URL is set' : 'WORKERS is above 1'}: every process must sign with the same key`,
      });
    }
    if (env.WORKERS > 1 && !env.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKERS'],
        message: 'more than one worker needs DATABASE_URL',
      });
    }
  });

export type Env = z.input<typeof EnvSchema>;

export type RedisTarget =
  | { readonly kind: 'node'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly { host: string; port: number }[];
      readonly password?: string;
    };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  /** The shared Redis: one node, a cluster, or none (everything in process). */
  readonly redis: RedisTarget | undefined;
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  readonly dataDir: string;
  readonly jwtSecret: string | undefined;
  readonly jwtTtlSeconds: number;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly admin: { readonly email: string; readonly password: string } | undefined;
  readonly orderRateLimitMs: number;
  readonly orderPaymentTtlSeconds: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly requestLog: boolean;
  readonly metrics: boolean;
  /** Where /metrics is served: on PORT (to this machine, or with the token), or its own port. */
  readonly metricsListener: { readonly port: number; readonly host: string } | undefined;
  readonly metricsToken: string | undefined;
  readonly apiDocs: boolean;
  readonly stockGate: 'on' | 'off';
  readonly stockSyncIntervalMs: number;
  readonly stockHoldMaxAgeMs: number;
  readonly soldOutEdgeMs: number;
  readonly expirySweepIntervalMs: number;
  readonly liveTrafficRetentionDays: number;
  readonly queue: {
    readonly challengeMaxNumber: number;
    readonly challengeTtlSeconds: number;
    /** Undefined: derived from the JWT signing key at start. */
    readonly secret: string | undefined;
    readonly tickMs: number;
    readonly joinLimitPerMinute: number;
  };
  readonly signupLimitPerHour: number;
  readonly seedDemo: boolean;
  readonly workers: number;
  readonly webDistDir: string | undefined;
  readonly webSourceMaps: boolean;
  readonly trustProxy: boolean | string[] | ((address: string, hop: number) => boolean);
  readonly tlsInFront: boolean;
  /** Origins (scheme://host[:port]) product images may come from, beside the shop's own. */
  readonly imageOrigins: readonly string[];
  readonly passwordHashing: { readonly concurrency: number; readonly maxWaiting: number };
  readonly timeouts: {
    readonly requestMs: number;
    readonly headersMs: number;
    readonly keepAliveMs: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse the environment. Throws `ConfigError` whose message is one line naming the variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable means unset, as in most shells' `VAR= command`.
  const env = Object.fromEntries(
    Object.keys(EnvSchema.def.shape).flatMap((key) => {
      const value = source[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got =
      env[name] === undefined ? '' : ` (got ${JSON.stringify(redactValue(name, env[name]))})`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${got}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redis: e.REDIS_CLUSTER_NODES
      ? {
          kind: 'cluster' as const,
          nodes: e.REDIS_CLUSTER_NODES,
          ...(e.REDIS_CLUSTER_PASSWORD ? { password: e.REDIS_CLUSTER_PASSWORD } : {}),
        }
      : e.REDIS_URL
        ? { kind: 'node' as const, url: e.REDIS_URL }
        : undefined,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    dataDir: resolve(e.DATA_DIR),
    jwtSecret: e.JWT_SECRET,
    jwtTtlSeconds: e.JWT_TTL_S,
    jwtIssuer: e.JWT_ISSUER,
    jwtAudience: e.JWT_AUDIENCE,
    admin:
      e.ADMIN_EMAIL && e.ADMIN_PASSWORD
        ? Object.freeze({ email: e.ADMIN_EMAIL.toLowerCase(), password: e.ADMIN_PASSWORD })
        : undefined,
    orderRateLimitMs: e.ORDER_RATE_LIMIT_MS,
    orderPaymentTtlSeconds: e.ORDER_PAYMENT_TTL_S,
    logLevel: e.LOG_LEVEL,
    requestLog: e.REQUEST_LOG,
    metrics: e.METRICS,
    metricsListener:
      e.METRICS_PORT === undefined
        ? undefined
        : Object.freeze({ port: e.METRICS_PORT, host: e.METRICS_HOST }),
    metricsToken: e.METRICS_TOKEN,
    apiDocs: e.API_DOCS,
    stockGate: e.STOCK_GATE,
    stockSyncIntervalMs: e.STOCK_SYNC_INTERVAL_MS,
    stockHoldMaxAgeMs: e.STOCK_HOLD_MAX_AGE_MS,
    soldOutEdgeMs: e.SOLD_OUT_EDGE_MS,
    expirySweepIntervalMs: e.EXPIRY_SWEEP_INTERVAL_MS,
    liveTrafficRetentionDays: e.LIVE_TRAFFIC_RETENTION_DAYS,
    queue: Object.freeze({
      challengeMaxNumber: e.QUEUE_CHALLENGE_MAXNUMBER,
      challengeTtlSeconds: e.QUEUE_CHALLENGE_TTL_S,
      secret: e.QUEUE_SECRET,
      tickMs: e.QUEUE_TICK_MS,
      joinLimitPerMinute: e.QUEUE_JOIN_LIMIT_PER_MINUTE,
    }),
    signupLimitPerHour: e.SIGNUP_LIMIT_PER_HOUR,
    seedDemo: e.SEED_DEMO ?? !e.DATABASE_URL,
    workers: e.WORKERS,
    webDistDir: e.WEB_DIST_DIR === undefined ? undefined : resolve(e.WEB_DIST_DIR),
    webSourceMaps: e.WEB_SOURCE_MAPS,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    tlsInFront: e.TLS_IN_FRONT,
    imageOrigins: Object.freeze(e.IMAGE_ORIGINS ?? []),
    passwordHashing: Object.freeze({
      concurrency:
        e.PASSWORD_HASH_CONCURRENCY ??
        Math.max(1, Math.min(availableParallelism() - 1, e.UV_THREADPOOL_SIZE - 1)),
      maxWaiting: e.PASSWORD_HASH_QUEUE,
    }),
    timeouts: Object.freeze({
      requestMs: e.REQUEST_TIMEOUT_MS,
      headersMs: e.HEADERS_TIMEOUT_MS,
      keepAliveMs: e.KEEP_ALIVE_TIMEOUT_MS,
    }),
  });
}

/** `https://cdn.example.com` (no path, query, credentials) as its origin, or undefined. */
function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    return bare && (url.protocol === 'https:' || url.protocol === 'http:') ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

function parseTrustProxy(value: string | undefined): Config['trustProxy'] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

function redactValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/SECRET|PASSWORD|TOKEN/.test(name)) return '<redacted>';
  if (/_URL$/.test(name)) return value.replace(/\/\/[^@/]*@/, '//<credentials>@');
  return value;
}
