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
    JWT_TTL_S: int(60, 7 * 24 * 3600).default(3600),
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
    /** The stock gate in front of PostgreSQL. `off` sends every attempt to the database. */
    STOCK_GATE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
    /** The sweep: every active product's gate checked against the database, synced where needed. */
    STOCK_SYNC_INTERVAL_MS: int(100, 3_600_000).default(2000),
    /** A gate hold older than this belongs to a request that died; the sync drops it. */
    STOCK_HOLD_MAX_AGE_MS: int(1000, 3_600_000).default(15_000),
    EXPIRY_SWEEP_INTERVAL_MS: int(50, 60_000).default(1000),
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
    if (env.WORKERS > 1 && !env.REDIS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKERS'],
        message: 'more than one worker needs REDIS_URL: the in-process stock gate is per process',
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

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  readonly dataDir: string;
  readonly jwtSecret: string | undefined;
  readonly jwtTtlSeconds: number;
  readonly admin: { readonly email: string; readonly password: string } | undefined;
  readonly orderRateLimitMs: number;
  readonly orderPaymentTtlSeconds: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly requestLog: boolean;
  readonly metrics: boolean;
  readonly stockGate: 'on' | 'off';
  readonly stockSyncIntervalMs: number;
  readonly stockHoldMaxAgeMs: number;
  readonly expirySweepIntervalMs: number;
  readonly liveTrafficRetentionDays: number;
  readonly seedDemo: boolean;
  readonly workers: number;
  readonly webDistDir: string | undefined;
  readonly trustProxy: boolean | string[] | ((address: string, hop: number) => boolean);
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
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    dataDir: resolve(e.DATA_DIR),
    jwtSecret: e.JWT_SECRET,
    jwtTtlSeconds: e.JWT_TTL_S,
    admin:
      e.ADMIN_EMAIL && e.ADMIN_PASSWORD
        ? Object.freeze({ email: e.ADMIN_EMAIL.toLowerCase(), password: e.ADMIN_PASSWORD })
        : undefined,
    orderRateLimitMs: e.ORDER_RATE_LIMIT_MS,
    orderPaymentTtlSeconds: e.ORDER_PAYMENT_TTL_S,
    logLevel: e.LOG_LEVEL,
    requestLog: e.REQUEST_LOG,
    metrics: e.METRICS,
    stockGate: e.STOCK_GATE,
    stockSyncIntervalMs: e.STOCK_SYNC_INTERVAL_MS,
    stockHoldMaxAgeMs: e.STOCK_HOLD_MAX_AGE_MS,
    expirySweepIntervalMs: e.EXPIRY_SWEEP_INTERVAL_MS,
    liveTrafficRetentionDays: e.LIVE_TRAFFIC_RETENTION_DAYS,
    seedDemo: e.SEED_DEMO ?? !e.DATABASE_URL,
    workers: e.WORKERS,
    webDistDir: e.WEB_DIST_DIR === undefined ? undefined : resolve(e.WEB_DIST_DIR),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
  });
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
  if (/SECRET|PASSWORD/.test(name)) return '<redacted>';
  if (/_URL$/.test(name)) return value.replace(/\/\/[^@/]*@/, '//<credentials>@');
  return value;
}
