import { sql } from 'drizzle-orm';
import type { LiveSale, LiveTrafficPoint, SaleReport } from '@stampede/contract';
import type { Db } from '../../db/client.ts';
import { ProductNotFoundError } from '../../lib/errors.ts';
import {
  addCounts,
  EMPTY_COUNTS,
  latencyQuantile,
  type TrafficCounts,
} from '../../observability/live-traffic.ts';

/** Outcomes that made an order; every other outcome is a refusal. */
const ORDERED = new Set(['created', 'replayed']);

/** The order traffic of every API process, summed per second, from `since` (ms) on. */
export async function getTrafficPoints(input: {
  db: Db;
  since: number;
  until?: number;
}): Promise<LiveTrafficPoint[]> {
  return [...(await trafficBySecond(input))].map(([t, counts]) => toTrafficPoint(t, counts));
}

async function trafficBySecond({
  db,
  since,
  until,
}: {
  db: Db;
  since: number;
  until?: number;
}): Promise<Map<number, TrafficCounts>> {
  const before = until === undefined ? sql`` : sql`AND second < to_timestamp(${until / 1000})`;
  const rows = await db.execute<{ t: string; counts: TrafficCounts }>(sql`
    SELECT (extract(epoch FROM second) * 1000)::bigint AS t, counts FROM live_traffic
    WHERE second >= to_timestamp(${since / 1000}) ${before}
    ORDER BY second`);
  const seconds = new Map<number, TrafficCounts>();
  for (const row of rows.rows) {
    const t = Number(row.t);
    seconds.set(t, addCounts(seconds.get(t) ?? EMPTY_COUNTS, row.counts));
  }
  return seconds;
}

export function toTrafficPoint(t: number, counts: TrafficCounts): LiveTrafficPoint {
  const refusals: Record<string, number> = {};
  let attempts = 0;
  for (const [outcome, count] of Object.entries(counts.outcomes)) {
    attempts += count;
    if (!ORDERED.has(outcome)) refusals[outcome] = count;
  }
  return {
    t,
    attempts,
    created: counts.outcomes.created ?? 0,
    units: counts.units,
    refusals,
    p50: latencyQuantile(counts.latency, 0.5),
    p99: latencyQuantile(counts.latency, 0.99),
  };
}

/** A sale's window in milliseconds since the epoch. */
interface Sale {
  readonly id: number;
  readonly name: string;
  readonly startsAt: number;
  readonly endsAt: number | null;
}

type SaleRow = { id: number; name: string; starts_ms: string; ends_ms: string | null };

const SALE_COLUMNS = sql`id, name, (extract(epoch FROM sale_starts_at) * 1000)::bigint AS starts_ms,
  (extract(epoch FROM sale_ends_at) * 1000)::bigint AS ends_ms`;

const toSale = (row: SaleRow): Sale => ({
  id: row.id,
  name: row.name,
  startsAt: Number(row.starts_ms),
  endsAt: row.ends_ms === null ? null : Number(row.ends_ms),
});

/** Sales whose window is open now (sold out or not). */
export async function getRunningSales({ db }: { db: Db }): Promise<Sale[]> {
  const rows = await db.execute<SaleRow>(sql`
    SELECT ${SALE_COLUMNS} FROM products
    WHERE is_active AND sale_starts_at <= now() AND (sale_ends_at IS NULL OR sale_ends_at > now())
    ORDER BY sale_starts_at, id`);
  return rows.rows.map(toSale);
}

interface UnitsWalk {
  readonly stockAtStart: number;
  readonly sold: number;
  readonly left: number;
  readonly orders: number;
  readonly returned: { cancel: number; expiry: number };
  readonly soldOutAt: number | null;
  /** One point per second in which the units changed. */
  readonly points: { t: number; sold: number; left: number }[];
}

/**
 * A sale's units from PostgreSQL's stock ledger, second by second from its start: sold (units
 * ordered less units returned) and left. The level before the start is today's stock less every
 * change since, so admin changes during the sale are counted where they happened.
 */
async function walkUnits(
  db: Db,
  sales: readonly Sale[],
  until?: number,
): Promise<Map<number, UnitsWalk>> {
  const walks = new Map<number, UnitsWalk>();
  if (sales.length === 0) return walks;
  const ids = sales.map((sale) => sale.id);
  const stock = await db.execute<{ product_id: number; available: number }>(sql`
    SELECT product_id, available FROM stock WHERE product_id = ANY(${sql.param(ids)}::int[])`);
  const ledger = await db.execute<{
    product_id: number;
    t: string;
    ordered: number;
    orders: number;
    cancel: number;
    expiry: number;
    delta: number;
  }>(sql`
    SELECT l.product_id, (extract(epoch FROM date_trunc('second', l.created_at)) * 1000)::bigint AS t,
      COALESCE(SUM(-l.delta) FILTER (WHERE l.cause = 'order'), 0)::int AS ordered,
      COUNT(*) FILTER (WHERE l.cause = 'order')::int AS orders,
      COALESCE(SUM(l.delta) FILTER (WHERE l.cause = 'cancel'), 0)::int AS cancel,
      COALESCE(SUM(l.delta) FILTER (WHERE l.cause = 'expiry'), 0)::int AS expiry,
      SUM(l.delta)::int AS delta
    FROM stock_ledger l JOIN products p ON p.id = l.product_id
    WHERE l.product_id = ANY(${sql.param(ids)}::int[]) AND l.created_at >= p.sale_starts_at
    GROUP BY 1, 2 ORDER BY 1, 2`);
  const available = new Map(stock.rows.map((row) => [row.product_id, row.available]));
  const bySale = new Map<number, typeof ledger.rows>();
  for (const row of ledger.rows) {
    const rows = bySale.get(row.product_id) ?? [];
    rows.push(row);
    bySale.set(row.product_id, rows);
  }
  for (const sale of sales) {
    const rows = bySale.get(sale.id) ?? [];
    const now = available.get(sale.id) ?? 0;
    // Stock loaded after the window opened (a product created for a sale already open) counts
    // as the stock the sale started with: the units on sale when its first order came.
    const opening = now - rows.reduce((sum, row) => sum + row.delta, 0);
    let stockAtStart: number | undefined;
    let left = opening;
    let sold = 0;
    let orders = 0;
    const returned = { cancel: 0, expiry: 0 };
    let soldOutAt: number | null = null;
    const points: UnitsWalk['points'] = [];
    for (const row of rows) {
      const t = Number(row.t);
      if (until !== undefined && t >= until) break;
      if (stockAtStart === undefined && row.ordered > 0) {
        stockAtStart = left + row.delta + row.ordered - row.cancel - row.expiry;
      }
      left += row.delta;
      sold += row.ordered - row.cancel - row.expiry;
      orders += row.orders;
      returned.cancel += row.cancel;
      returned.expiry += row.expiry;
      // Sold out: the last unit went to an order (not a product loaded with none).
      if (left === 0 && row.ordered > 0 && soldOutAt === null) {
        soldOutAt = Math.max(t, sale.startsAt);
      }
      points.push({ t, sold, left });
    }
    walks.set(sale.id, {
      stockAtStart: stockAtStart ?? left,
      sold,
      left,
      orders,
      returned,
      soldOutAt,
      points,
    });
  }
  return walks;
}

/** The running sales with their units now, and (for a snapshot) since `historySince`. */
export async function getLiveSales({
  db,
  historySince,
}: {
  db: Db;
  historySince?: number;
}): Promise<LiveSale[]> {
  const sales = await getRunningSales({ db });
  const walks = await walkUnits(db, sales);
  return sales.map((sale) => {
    const walk = walks.get(sale.id)!;
    return {
      product_id: sale.id,
      name: sale.name,
      starts_at: new Date(sale.startsAt).toISOString(),
      ends_at: sale.endsAt === null ? null : new Date(sale.endsAt).toISOString(),
      sold: walk.sold,
      left: walk.left,
      sold_out_at: walk.soldOutAt === null ? null : new Date(walk.soldOutAt).toISOString(),
      ...(historySince === undefined
        ? {}
        : { units: unitsSince(walk, sale.startsAt, historySince) }),
    };
  });
}

/** The points of the window, starting with where the sale stood when the window opened. */
function unitsSince(walk: UnitsWalk, startsAt: number, since: number): LiveSale['units'] {
  const second = (t: number) => Math.floor(t / 1000) * 1000;
  if (startsAt >= since) {
    return [{ t: second(startsAt), sold: 0, left: walk.stockAtStart }, ...walk.points];
  }
  let opening = { t: second(since), sold: 0, left: walk.stockAtStart };
  const inside: { t: number; sold: number; left: number }[] = [];
  for (const point of walk.points) {
    if (point.t < since) opening = { ...point, t: second(since) };
    else inside.push(point);
  }
  return [opening, ...inside];
}

/** How a sale went: from the ledger (units, orders, sell-out) and the traffic of its window. */
export async function getSaleReport({
  db,
  productId,
  now = new Date(),
}: {
  db: Db;
  productId: number;
  now?: Date;
}): Promise<SaleReport> {
  const found = await db.execute<SaleRow>(sql`
    SELECT ${SALE_COLUMNS} FROM products WHERE id = ${productId} AND sale_starts_at IS NOT NULL`);
  const row = found.rows[0];
  if (!row) throw new ProductNotFoundError(productId);
  const sale = toSale(row);
  const at = now.getTime();
  const running = sale.startsAt <= at && (sale.endsAt === null || sale.endsAt > at);
  const end = sale.endsAt !== null && sale.endsAt < at ? sale.endsAt : at;
  const walk = (await walkUnits(db, [sale], end)).get(sale.id)!;
  // Rows are per whole second: the second the sale opened in is its first.
  const seconds = await trafficBySecond({
    db,
    since: Math.floor(sale.startsAt / 1000) * 1000,
    until: end,
  });
  let total = EMPTY_COUNTS;
  let peak: { attempts: number; t: number | null } = { attempts: 0, t: null };
  for (const [t, counts] of seconds) {
    total = addCounts(total, counts);
    const { attempts } = toTrafficPoint(t, counts);
    if (attempts > peak.attempts) peak = { attempts, t };
  }
  const summary = toTrafficPoint(0, total);
  const overlapping = await db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM products
    WHERE id <> ${sale.id} AND sale_starts_at IS NOT NULL
      AND sale_starts_at < to_timestamp(${end / 1000})
      AND (sale_ends_at IS NULL OR sale_ends_at > to_timestamp(${sale.startsAt / 1000}))`);
  return {
    product_id: sale.id,
    name: sale.name,
    starts_at: new Date(sale.startsAt).toISOString(),
    ends_at: new Date(end).toISOString(),
    running,
    stock_at_start: walk.stockAtStart,
    units_sold: walk.sold,
    orders: walk.orders,
    sold_out_at: walk.soldOutAt === null ? null : new Date(walk.soldOutAt).toISOString(),
    sell_out_seconds:
      walk.soldOutAt === null ? null : Math.max(0, (walk.soldOutAt - sale.startsAt) / 1000),
    units_returned: walk.returned,
    traffic: {
      attempts: summary.attempts,
      created: summary.created,
      refusals: summary.refusals,
      peak_attempts_per_second: peak.attempts,
      peak_at: peak.t === null ? null : new Date(peak.t).toISOString(),
      p50: summary.p50,
      p99: summary.p99,
    },
    overlapping_sales: overlapping.rows[0]?.n ?? 0,
  };
}
