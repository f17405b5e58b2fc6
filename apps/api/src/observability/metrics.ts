import client, { type Registry } from 'prom-client';

/**
 * Every metric the API exports, in one place. Labels are bounded: route templates, outcomes,
 * causes. Never a user, order, product or IP value (STYLE.md, habit 12).
 */
export type OrderOutcome =
  | 'created'
  | 'replayed'
  | 'sold_out'
  | 'purchase_limit'
  | 'rate_limited'
  | 'sale_closed'
  | 'not_found'
  | 'stock_conflict'
  | 'stock_unavailable'
  | 'database_unavailable'
  | 'idempotency_conflict'
  | 'invalid'
  | 'error';

export type DbRetryCause = 'deadlock' | 'serialization' | 'lock_timeout' | 'connection';
export type RestoreCause = 'cancel' | 'expiry';
export type SyncTrigger = 'startup' | 'timer' | 'admin' | 'on_demand' | 'rebuild' | 'repair';
export type GateOperation = 'reserve' | 'release' | 'give_back' | 'credit' | 'sync' | 'admit';

export interface Metrics {
  readonly registry: Registry;
  readonly enabled: boolean;
  readonly httpRequestDuration: client.Histogram<'method' | 'route' | 'status_code'>;
  readonly httpRequests: client.Counter<'method' | 'route' | 'status_code'>;
  readonly orderOutcomes: client.Counter<'outcome'>;
  readonly unitsOrdered: client.Counter;
  readonly dbRetries: client.Counter<'cause'>;
  readonly gateCompensations: client.Counter<'reason'>;
  readonly stockRestores: client.Counter<'cause'>;
  readonly unitsRestored: client.Counter<'cause'>;
  readonly syncRuns: client.Counter<'trigger'>;
  readonly syncDrift: client.Counter<'trigger'>;
  readonly gateRebuilds: client.Counter<'reason'>;
  readonly expiryLateness: client.Histogram;
  readonly ordersExpired: client.Counter;
  readonly gateLatency: client.Histogram<'operation'>;
  readonly orderBatchSize: client.Histogram;
  readonly orderCommitDuration: client.Histogram;
  readonly errorRateAlerts: client.Counter<'endpoint'>;
  readonly liveSaleUnitsAvailable: client.Gauge;
  readonly idempotencyRecordsPending: client.Gauge;
  readonly idempotencyRecordsWritten: client.Counter;
  readonly idempotencyRecordsDropped: client.Counter;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

export function createMetrics(options: {
  enabled: boolean;
  /** Called on each scrape to report the units still on sale in live sales. */
  collectLiveSaleUnits?: () => Promise<number>;
}): Metrics {
  const registry = new client.Registry();
  if (options.enabled) client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const collectLiveSaleUnits = options.collectLiveSaleUnits;

  return {
    registry,
    enabled: options.enabled,
    httpRequestDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route template.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    httpRequests: new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route template and status.',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    }),
    orderOutcomes: new client.Counter({
      name: 'stampede_order_outcomes_total',
      help: 'Order attempts by how they ended.',
      labelNames: ['outcome'],
      registers,
    }),
    unitsOrdered: new client.Counter({
      name: 'stampede_units_ordered_total',
      help: 'Units in orders created.',
      registers,
    }),
    dbRetries: new client.Counter({
      name: 'stampede_db_retries_total',
      help: 'Stock transactions retried, by the database error that caused it.',
      labelNames: ['cause'],
      registers,
    }),
    gateCompensations: new client.Counter({
      name: 'stampede_gate_compensations_total',
      help: 'Gate holds given back because the database step failed.',
      labelNames: ['reason'],
      registers,
    }),
    stockRestores: new client.Counter({
      name: 'stampede_stock_restores_total',
      help: 'Orders whose stock went back on sale, by cause.',
      labelNames: ['cause'],
      registers,
    }),
    unitsRestored: new client.Counter({
      name: 'stampede_units_restored_total',
      help: 'Units that went back on sale, by cause.',
      labelNames: ['cause'],
      registers,
    }),
    syncRuns: new client.Counter({
      name: 'stampede_stock_syncs_total',
      help: 'Gate syncs from the database, by trigger.',
      labelNames: ['trigger'],
      registers,
    }),
    syncDrift: new client.Counter({
      name: 'stampede_stock_sync_drift_units_total',
      help: 'Units of difference between gate and database that a sync found and corrected.',
      labelNames: ['trigger'],
      registers,
    }),
    gateRebuilds: new client.Counter({
      name: 'stampede_gate_rebuilds_total',
      help: 'Full rebuilds of the gate from the database (the cache lost its data or reconnected).',
      labelNames: ['reason'],
      registers,
    }),
    expiryLateness: new client.Histogram({
      name: 'stampede_order_expiry_lateness_seconds',
      help: 'How long after its payment deadline an unpaid order was expired.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
      registers,
    }),
    ordersExpired: new client.Counter({
      name: 'stampede_orders_expired_total',
      help: 'Unpaid orders expired by the sweeper.',
      registers,
    }),
    gateLatency: new client.Histogram({
      name: 'stampede_gate_latency_seconds',
      help: 'Time of one stock gate operation.',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    }),
    orderBatchSize: new client.Histogram({
      name: 'stampede_order_batch_size',
      help: 'Orders committed together in one database transaction.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    }),
    orderCommitDuration: new client.Histogram({
      name: 'stampede_order_commit_duration_seconds',
      help: 'Time of one order-writing database transaction.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    errorRateAlerts: new client.Counter({
      name: 'stampede_error_rate_alerts_total',
      help: 'ERROR_RATE_EXCEEDED warnings logged by the error-rate watcher.',
      labelNames: ['endpoint'],
      registers,
    }),
    idempotencyRecordsPending: new client.Gauge({
      name: 'stampede_idempotency_records_pending',
      help: 'Kept refusals waiting to be written to PostgreSQL (they wait while it is away).',
      registers,
    }),
    idempotencyRecordsWritten: new client.Counter({
      name: 'stampede_idempotency_records_written_total',
      help: 'Kept refusals written to PostgreSQL.',
      registers,
    }),
    idempotencyRecordsDropped: new client.Counter({
      name: 'stampede_idempotency_records_dropped_total',
      help: 'Kept refusals dropped unwritten because too many were waiting.',
      registers,
    }),
    liveSaleUnitsAvailable: new client.Gauge({
      name: 'stampede_live_sale_units_available',
      help: 'Units still on sale, summed over the sales running now.',
      registers,
      async collect() {
        if (collectLiveSaleUnits) this.set(await collectLiveSaleUnits().catch(() => 0));
      },
    }),
  };
}
