import { z } from 'zod';
import { Timestamp } from './common.ts';

/**
 * The live sale stream (`GET /api/admin/live/stream`, server-sent events) and the report of a
 * sale. Traffic is counted over every API process (the counters of /metrics, published once a
 * second); units come from PostgreSQL's stock ledger.
 */

/** One second of order traffic, summed over every API process. */
export const LiveTrafficPoint = z
  .object({
    /** The second, as milliseconds since the epoch (UTC). */
    t: z.int(),
    /** Order attempts that reached the order service, whatever their outcome. */
    attempts: z.int(),
    /** Orders created. */
    created: z.int(),
    /** Units in the orders created. */
    units: z.int(),
    /** Attempts that made no order, by outcome (sold_out, purchase_limit, rate_limited, ...). */
    refusals: z.record(z.string(), z.int()),
    /** Answer latency of POST /api/orders in seconds; null in a second without answers. */
    p50: z.number().nullable(),
    p99: z.number().nullable(),
  })
  .meta({ id: 'LiveTrafficPoint' });
export type LiveTrafficPoint = z.infer<typeof LiveTrafficPoint>;

/** Units of one sale at one second: sold (held by orders) and left on sale (in PostgreSQL). */
export const LiveUnitsPoint = z
  .object({ t: z.int(), sold: z.int(), left: z.int() })
  .meta({ id: 'LiveUnitsPoint' });
export type LiveUnitsPoint = z.infer<typeof LiveUnitsPoint>;

export const LiveSale = z
  .object({
    product_id: z.int(),
    name: z.string(),
    starts_at: Timestamp,
    ends_at: Timestamp.nullable(),
    sold: z.int(),
    left: z.int(),
    /** When the units left first reached 0, or null. */
    sold_out_at: Timestamp.nullable(),
    /** Only in a snapshot: the sale's units over the window, one point per second that changed. */
    units: z.array(LiveUnitsPoint).optional(),
  })
  .meta({ id: 'LiveSale' });
export type LiveSale = z.infer<typeof LiveSale>;

/**
 * One event of the stream. The first (`snapshot`) carries the whole window; every following one
 * (`tick`, once a second) the last few seconds again, so a second that a slower process
 * completed late is corrected: points replace those of the same `t`.
 */
export const LiveEvent = z
  .object({
    kind: z.enum(['snapshot', 'tick']),
    server_now: Timestamp,
    window_seconds: z.int(),
    traffic: z.array(LiveTrafficPoint),
    sales: z.array(LiveSale),
  })
  .meta({ id: 'LiveEvent' });
export type LiveEvent = z.infer<typeof LiveEvent>;

/** After (or during) a sale: how it went. */
export const SaleReport = z
  .object({
    product_id: z.int(),
    name: z.string(),
    starts_at: Timestamp,
    /** The sale's end, or the moment of the report for a sale without one that still runs. */
    ends_at: Timestamp,
    running: z.boolean(),
    /** Units on sale when the first order came (stock loaded after the opening counts). */
    stock_at_start: z.int(),
    units_sold: z.int(),
    orders: z.int(),
    sold_out_at: Timestamp.nullable(),
    /** Seconds from the start to the sell-out, or null. */
    sell_out_seconds: z.number().nullable(),
    units_returned: z.object({ cancel: z.int(), expiry: z.int() }),
    /**
     * Order traffic during the sale window, over every API process. It is the shop's traffic:
     * the counters carry no product, so sales that overlap share it (`overlapping_sales`).
     */
    traffic: z.object({
      attempts: z.int(),
      created: z.int(),
      refusals: z.record(z.string(), z.int()),
      peak_attempts_per_second: z.int(),
      peak_at: Timestamp.nullable(),
      p50: z.number().nullable(),
      p99: z.number().nullable(),
    }),
    overlapping_sales: z.int(),
  })
  .meta({ id: 'SaleReport' });
export type SaleReport = z.infer<typeof SaleReport>;
