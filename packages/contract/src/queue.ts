import { z } from 'zod';
import { Timestamp } from './common.ts';

/**
 * The waiting room of one sale. An operator switches it on per product; from then on an order
 * for that product needs a pass, and a pass is handed out in the queue's order at the rate the
 * operator sets, never to more buyers at once than the units left can serve.
 */

/** What the operator sets. */
export const QueueSettingsInput = z
  .strictObject({
    enabled: z.boolean(),
    /** The pre-queue opens this long before the sale starts; arrivals in it are drawn at random. */
    opens_before_seconds: z
      .int()
      .min(0)
      .max(7 * 24 * 3600),
    /** Buyers handed a pass per minute. */
    admit_per_minute: z.int().min(1).max(1_000_000),
    /** At most this many buyers hold a live pass at once (null: no cap but the stock's). */
    max_active: z.int().min(1).max(1_000_000).nullable(),
    /** Live passes at most units left × this factor (1 = one buyer per unit left). */
    inventory_factor: z.number().min(1).max(10),
    /** How long a pass lets its buyer check out. */
    pass_ttl_seconds: z.int().min(30).max(3600),
    /** Stop handing out passes (waiting buyers keep their places). */
    paused: z.boolean(),
  })
  .meta({ id: 'QueueSettings' });
export type QueueSettingsInput = z.infer<typeof QueueSettingsInput>;

export const QueueState = z
  .enum([
    /** Switched off: orders need no pass. */
    'off',
    /** Before the pre-queue opens: nobody can join yet. */
    'not_open',
    /** The pre-queue: joiners get a random place when the sale starts. */
    'pre_queue',
    /** The sale is on and passes are handed out. */
    'admitting',
    /** The operator paused admission. */
    'paused',
    /** No units left: every waiting buyer is told so; resumes by itself if units come back. */
    'sold_out',
    /** The sale ended. */
    'closed',
  ])
  .meta({ id: 'QueueState' });
export type QueueState = z.infer<typeof QueueState>;

/** The operator's view: the settings and the queue as it is now. */
export const QueueView = QueueSettingsInput.extend({
  product_id: z.int(),
  state: QueueState,
  /** When the pre-queue opens and when the draw happens (the sale's start); null without a sale. */
  opens_at: Timestamp.nullable(),
  starts_at: Timestamp.nullable(),
  waiting: z.int(),
  /** Buyers holding a live pass. */
  active: z.int(),
  admitted_total: z.int(),
  units_left: z.int(),
  /** Passes handed out per minute over the last minute, as measured. */
  measured_admit_per_minute: z.number(),
}).meta({ id: 'QueueView' });
export type QueueView = z.infer<typeof QueueView>;

export const BuyerQueueState = z
  .enum([
    /** Not in the queue (never joined, or the ticket was not sent). */
    'not_joined',
    /** In the pre-queue, waiting for the draw at the sale's start. */
    'pre_queue',
    'waiting',
    /** Holds a live pass: may order until pass_expires_at. */
    'admitted',
    /** The pass ran out unused. */
    'pass_expired',
    /** The product is sold out: nothing to wait for (may turn back to waiting if units return). */
    'sold_out',
    /** The sale ended. */
    'closed',
  ])
  .meta({ id: 'BuyerQueueState' });
export type BuyerQueueState = z.infer<typeof BuyerQueueState>;

/** A buyer's place in the queue: cheap to poll. */
export const QueueStatus = z
  .object({
    product_id: z.int(),
    state: BuyerQueueState,
    queue_state: QueueState,
    /** 1-based place in the whole line (null before the draw or when not waiting). */
    place: z.int().nullable(),
    /** Buyers still waiting ahead of this one. */
    ahead: z.int().nullable(),
    /** From the measured admission rate; null when it cannot be estimated (paused, pre-queue). */
    estimated_wait_seconds: z.int().nullable(),
    pass_expires_at: Timestamp.nullable(),
    starts_at: Timestamp.nullable(),
    /** Poll again after this long. */
    poll_after_ms: z.int(),
    /**
     * The signed ticket carrying the buyer, the sale, the join time and the draw. The client
     * keeps it and sends it back as `X-Queue-Ticket`; the queue is rebuilt from tickets after a
     * Redis loss, so a buyer's place survives it. Null when not joined.
     */
    ticket: z.string().nullable(),
  })
  .meta({ id: 'QueueStatus' });
export type QueueStatus = z.infer<typeof QueueStatus>;

/** Proof-of-work challenge a buyer solves before joining (ALTCHA format). */
export const QueueChallenge = z
  .object({
    algorithm: z.string(),
    challenge: z.string(),
    maxnumber: z.int().optional(),
    salt: z.string(),
    signature: z.string(),
  })
  .meta({ id: 'QueueChallenge' });
export type QueueChallenge = z.infer<typeof QueueChallenge>;

export const JoinQueueInput = z
  .strictObject({
    /** The solved challenge, base64 of the ALTCHA payload JSON. */
    altcha: z.string().min(1).max(4096),
  })
  .meta({ id: 'JoinQueue' });
export type JoinQueueInput = z.infer<typeof JoinQueueInput>;
