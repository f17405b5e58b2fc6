import type { Pool } from 'pg';
import type { Config } from './config.ts';
import type { Database, Db } from './db/client.ts';
import type { Logger } from './lib/logger.ts';
import type { TokenService } from './modules/auth/tokens.ts';
import type { IdempotencyLog } from './modules/orders/idempotency-log.ts';
import type { ProductCache } from './modules/products/catalog.ts';
import type { GateKeeper } from './modules/stock/gate-keeper.ts';
import type { StockGate } from './modules/stock/gate/types.ts';
import type { OrderWriter } from './modules/stock/order-writer.ts';
import type { LiveTrafficPublisher } from './observability/live-traffic.ts';
import type { Metrics } from './observability/metrics.ts';

/**
 * What services are given: the configuration and every shared resource. Services are plain
 * functions over this, callable from routes, jobs, scripts, the benchmark and tests.
 */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly db: Db;
  readonly pool: Pool;
  /** Rate limits and idempotency always live here; stock only when `stockGateEnabled`. */
  readonly gate: StockGate;
  readonly stockGateEnabled: boolean;
  readonly gateKeeper: GateKeeper;
  readonly metrics: Metrics;
  /** This process's order traffic, written once a second for the live sale view. */
  readonly liveTraffic: LiveTrafficPublisher;
  readonly tokens: TokenService;
  readonly catalog: ProductCache;
  readonly writer: OrderWriter;
  readonly idempotencyLog: IdempotencyLog;
}
