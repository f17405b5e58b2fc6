import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { DbOrTx } from './db/transaction.ts';
import type { Logger } from './lib/logger.ts';
import type { LoginLimiter } from './modules/auth/login-limiter.ts';
import type { PasswordHasher } from './modules/auth/passwords.ts';
import type { SignupLimiter } from './modules/auth/signup-limiter.ts';
import type { TokenService } from './modules/auth/tokens.ts';
import type { IdempotencyLog } from './modules/orders/idempotency-log.ts';
import type { OrderWriter } from './modules/orders/order-writer.ts';
import type { ProductCache } from './modules/products/catalog.ts';
import type { QueueBoard } from './modules/queue/board.ts';
import type { QueueStore } from './modules/queue/store/types.ts';
import type { GateKeeper } from './modules/stock/gate-keeper.ts';
import type { SoldOutEdge } from './modules/stock/sold-out.ts';
import type { Admission, StockGate } from './modules/stock/gate/types.ts';
import type { LiveTrafficPublisher } from './observability/live-traffic.ts';
import type { Metrics } from './observability/metrics.ts';

/**
 * What services and selectors are given: the configuration and every shared component, each
 * built in `runtime.ts` with what it needs. Services are plain functions over this, callable
 * from routes, jobs, scripts, the benchmark and tests. Inside `withTransaction` the same context
 * comes with `db` being the transaction.
 */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  /** The pool, its outage log, and how to close it. */
  readonly database: Database;
  /** The database, or the transaction a service runs in. */
  readonly db: DbOrTx;
  /** Who may try to order: the rate limit and the answers idempotency keys keep. */
  readonly admission: Admission;
  /** The units on sale in front of PostgreSQL (Redis, in process, or nothing but the database). */
  readonly stock: StockGate;
  readonly gateKeeper: GateKeeper;
  /** Products this process knows to be sold out (answered without a round trip). */
  readonly soldOut: SoldOutEdge;
  readonly writer: OrderWriter;
  readonly productCache: ProductCache;
  readonly idempotencyLog: IdempotencyLog;
  readonly metrics: Metrics;
  /** This process's order traffic, written once a second for the live sale view. */
  readonly liveTraffic: LiveTrafficPublisher;
  readonly tokens: TokenService;
  /** Password hashing, bounded so that sign-ups cannot stall the rest of the shop. */
  readonly passwords: PasswordHasher;
  /** Sign-in guesses slowed per account and address (shared through Redis when there is one). */
  readonly loginLimiter: LoginLimiter;
  /** Accounts created per address per hour (shared through Redis when there is one). */
  readonly signupLimiter: SignupLimiter;
  /** Waiting-room joins per address per minute (the same kind of counter). */
  readonly joinLimiter: SignupLimiter;
  /** The waiting rooms' lines and passes (Redis, or in process). */
  readonly queue: QueueStore;
  /** The waiting rooms' settings, units left and signing key, cached in this process. */
  readonly queueBoard: QueueBoard;
}

/** All a selector needs. */
export type DbContext = Pick<AppContext, 'db'>;
