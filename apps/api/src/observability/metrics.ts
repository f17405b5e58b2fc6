import client, { type Registry } from 'prom-client';
import type { RebuildReason } from '../modules/stock/gate-keeper.ts';
import { InFlightRequests } from './in-flight.ts';

/**
 * Every metric the API exports, in one place. Labels are bounded: route templates, outcomes,
 * causes. Never a user, order, product or IP value (STYLE.md, habit 12).
 */

/**
 * Every value each label can take. Each series is exported at 0 from the start: Prometheus sees
 * a counter's first increase only from a sample before it, so a series born at 1 hides its first
 * event (an alert on "3 rebuilds" would need 4).
 */
export const ORDER_OUTCOMES = [
  'created',
  'replayed',
  'sold_out',
  'purchase_limit',
  'rate_limited',
  'sale_closed',
  'not_found',
  'stock_conflict',
  'stock_unavailable',
  'database_unavailable',
  'idempotency_conflict',
  'no_pass',
  'invalid',
  'error',
] as const;
export const DB_RETRY_CAUSES = ['deadlock', 'serialization', 'lock_timeout', 'connection'] as const;
export const RESTORE_CAUSES = ['cancel', 'expiry'] as const;
export const SYNC_TRIGGERS = [
  'startup',
  'timer',
  'admin',
  'on_demand',
  'rebuild',
  'repair',
] as const;
export const GATE_OPERATIONS = [
  'attempt',
  'admit',
  'reserve',
  'release',
  'give_back',
  'credit',
  'sync',
] as const;
export const GATE_COMPENSATION_REASONS = [
  'database_failed',
  'database_refused',
  'database_unavailable',
  'purchase_limit',
  'duplicate',
] as const;
export const GATE_REBUILD_REASONS = [
  'startup',
  'data_lost',
  'reconnect',
  'failover',
  'on_demand',
] as const satisfies readonly RebuildReason[];
export const WATCHED_ENDPOINTS = ['/api/orders'] as const;
/** How a join ended: a new place, the place already held, or refused (closed, bad challenge). */
export const QUEUE_JOIN_OUTCOMES = [
  'joined',
  'already_joined',
  'closed',
  'challenge_failed',
] as const;
export type QueueJoinOutcome = (typeof QUEUE_JOIN_OUTCOMES)[number];

export type OrderOutcome = (typeof ORDER_OUTCOMES)[number];
export type DbRetryCause = (typeof DB_RETRY_CAUSES)[number];
export type RestoreCause = (typeof RESTORE_CAUSES)[number];
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];
export type GateOperation = (typeof GATE_OPERATIONS)[number];
export type GateRebuildReason = (typeof GATE_REBUILD_REASONS)[number];

export interface Metrics {
  readonly registry: Registry;
  readonly enabled: boolean;
  readonly httpRequestDuration: client.Histogram<'method' | 'route' | 'status_code'>;
  readonly httpRequests: client.Counter<'method' | 'route' | 'status_code'>;
  readonly orderOutcomes: client.Counter<'outcome'>;
  readonly unitsOrdered: client.Counter;
  readonly soldOutEdgeAnswers: client.Counter;
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
  readonly queueJoins: client.Counter<'outcome'>;
  readonly queuePassesIssued: client.Counter;
  readonly queuePassesExpired: client.Counter;
  readonly queueWaiting: client.Gauge;
  readonly queueActivePasses: client.Gauge;
  readonly queueWaitingWithRoom: client.Gauge;
  readonly idempotencyRecordsPending: client.Gauge;
  readonly idempotencyRecordsWritten: client.Counter;
  readonly idempotencyRecordsDropped: client.Counter;
  /** Requests received and not answered yet, read by two gauges at each scrape. */
  readonly inFlight: InFlightRequests;
}

/** What the order writer holds at one moment (`OrderWriter.backlog`). */
export interface WriterBacklog {
  /** Orders waiting for a database transaction. */
  readonly queued: number;
  /** Transactions running now. */
  readonly transactions: number;
  /**
   * `performance.now()` when the oldest order the writer holds (waiting, or in a transaction
   * that has not answered) reached it; undefined when it holds none.
   */
  readonly oldestAt: number | undefined;
}

export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10,
];

export function createMetrics(options: {
  enabled: boolean;
  /** Called on each scrape to report the units still on sale in live sales. */
  collectLiveSaleUnits?: () => Promise<number>;
  /** Called on each scrape to report what waits for the database. */
  collectWriterBacklog?: () => WriterBacklog;
  /** Called on each scrape: waiting buyers and live passes over every queue, as last seen. */
  collectQueues?: () => { waiting: number; active: number; waitingWithRoom: number };
}): Metrics {
  const registry = new client.Registry();
  if (options.enabled) client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const { collectLiveSaleUnits, collectWriterBacklog, collectQueues } = options;
  /** A gauge of the waiting rooms, summed over the queues, read when scraped. */
  const queueGauge = (
    name: string,
    help: string,
    field: 'waiting' | 'active' | 'waitingWithRoom',
  ) =>
    new client.Gauge({
      name,
      help,
      registers,
      collect() {
        if (collectQueues) this.set(collectQueues()[field]);
      },
    });
  const inFlight = new InFlightRequests();

  const metrics: Metrics = {
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
    soldOutEdgeAnswers: new client.Counter({
      name: 'stampede_sold_out_edge_answers_total',
      help: 'Order attempts answered sold out from memory (the sold-out edge), without the gate.',
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
    queueJoins: new client.Counter({
      name: 'stampede_queue_joins_total',
      help: 'Waiting-room joins by outcome (joined, already_joined, closed, challenge_failed, rate_limited).',
      labelNames: ['outcome'],
      registers,
    }),
    queuePassesIssued: new client.Counter({
      name: 'stampede_queue_passes_issued_total',
      help: 'Passes handed out by the waiting rooms (by the admission steps of this process).',
      registers,
    }),
    queuePassesExpired: new client.Counter({
      name: 'stampede_queue_passes_expired_total',
      help: 'Passes that ran out before their buyer ordered (counted by the process that saw it).',
      registers,
    }),
    queueWaiting: queueGauge(
      'stampede_queue_waiting',
      'Buyers waiting in the waiting rooms, summed over the queues, as last admitted.',
      'waiting',
    ),
    queueActivePasses: queueGauge(
      'stampede_queue_active_passes',
      'Live passes not yet spent on an order, summed over the queues, as last admitted.',
      'active',
    ),
    queueWaitingWithRoom: queueGauge(
      'stampede_queue_waiting_with_room',
      'Buyers waiting in queues that are admitting and have room for more live passes (a stall if no pass follows).',
      'waitingWithRoom',
    ),
    inFlight,
  };
  registerBacklogGauges(registers, inFlight, collectWriterBacklog);
  zeroKnownSeries(metrics);
  return metrics;
}

/** Every known label value at 0 (see ORDER_OUTCOMES): the first event of each is visible. */
function zeroKnownSeries(metrics: Metrics): void {
  for (const outcome of ORDER_OUTCOMES) metrics.orderOutcomes.inc({ outcome }, 0);
  for (const cause of DB_RETRY_CAUSES) metrics.dbRetries.inc({ cause }, 0);
  for (const reason of GATE_COMPENSATION_REASONS) metrics.gateCompensations.inc({ reason }, 0);
  for (const cause of RESTORE_CAUSES) {
    metrics.stockRestores.inc({ cause }, 0);
    metrics.unitsRestored.inc({ cause }, 0);
  }
  for (const trigger of SYNC_TRIGGERS) {
    metrics.syncRuns.inc({ trigger }, 0);
    metrics.syncDrift.inc({ trigger }, 0);
  }
  for (const reason of GATE_REBUILD_REASONS) metrics.gateRebuilds.inc({ reason }, 0);
  for (const operation of GATE_OPERATIONS) metrics.gateLatency.zero({ operation });
  for (const endpoint of WATCHED_ENDPOINTS) metrics.errorRateAlerts.inc({ endpoint }, 0);
  for (const outcome of QUEUE_JOIN_OUTCOMES) metrics.queueJoins.inc({ outcome }, 0);
  metrics.queuePassesIssued.inc(0);
  metrics.queuePassesExpired.inc(0);
}

/**
 * What is in flight, read at each scrape: requests not answered yet (by route template) with the
 * age of the oldest, and the order writer's queue. A stall (a locked stock row, a database that
 * stopped answering) shows here at once, while no answer, and so no latency, is recorded yet.
 */
function registerBacklogGauges(
  registers: Registry[],
  inFlight: InFlightRequests,
  collectWriterBacklog: (() => WriterBacklog) | undefined,
): void {
  const oldest = new client.Gauge({
    name: 'http_request_oldest_in_flight_seconds',
    help: 'Age of the oldest HTTP request not answered yet, by route template.',
    labelNames: ['method', 'route'],
    registers: [],
  });
  new client.Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests received and not answered yet, by route template.',
    labelNames: ['method', 'route'],
    registers,
    collect() {
      this.reset();
      oldest.reset();
      // The order route is always there (at 0), so a rule on it never lacks data.
      for (const route of [ORDER_ROUTE, ...inFlight.summary()]) {
        const labels = { method: route.method, route: route.route };
        this.set(labels, route.count);
        oldest.set(labels, route.oldestAgeSeconds);
      }
    },
  });
  for (const registry of registers) registry.registerMetric(oldest);
  if (!collectWriterBacklog) return;
  let backlog: WriterBacklog | undefined;
  new client.Gauge({
    name: 'stampede_order_writer_queued_orders',
    help: 'Orders admitted by the gate and waiting for a database transaction.',
    registers,
    collect() {
      backlog = collectWriterBacklog();
      this.set(backlog.queued);
    },
  });
  new client.Gauge({
    name: 'stampede_order_writer_transactions_in_flight',
    help: 'Order-writing database transactions running now.',
    registers,
    collect() {
      this.set((backlog ?? collectWriterBacklog()).transactions);
    },
  });
  new client.Gauge({
    name: 'stampede_order_writer_oldest_order_seconds',
    help: 'How long the oldest order in the order writer (queued or being written) has waited for its answer (0: none).',
    registers,
    collect() {
      const at = (backlog ?? collectWriterBacklog()).oldestAt;
      this.set(at === undefined ? 0 : Math.max(0, (performance.now() - at) / 1000));
    },
  });
}

const ORDER_ROUTE = { method: 'POST', route: '/api/orders', count: 0, oldestAgeSeconds: 0 };
