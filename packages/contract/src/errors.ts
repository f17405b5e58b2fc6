import { z } from 'zod';

/**
 * Every error code the API answers with. The HTTP status of each is fixed by API.md; the server's
 * error mapper and the web app's messages are both keyed by these.
 */
export const ERROR_CODES = [
  'validation_failed',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'forbidden',
  'not_found',
  'email_taken',
  'invalid_credentials',
  'rate_limited',
  'product_not_found',
  'order_not_found',
  'sale_not_started',
  'sale_ended',
  'purchase_limit_exceeded',
  'insufficient_stock',
  'stock_conflict',
  'idempotency_key_reused',
  'idempotency_in_flight',
  'invalid_order_state',
  'sku_taken',
  'stock_unavailable',
  'queue_pass_required',
  'queue_closed',
  'challenge_failed',
  'service_unavailable',
  'internal_error',
] as const;

export const ErrorCode = z.enum(ERROR_CODES).meta({ id: 'ErrorCode' });
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `details` of 409 insufficient_stock. */
export const InsufficientStockDetails = z.object({
  product_id: z.int(),
  requested: z.int(),
  available: z.int(),
});
export type InsufficientStockDetails = z.infer<typeof InsufficientStockDetails>;

/** `details` of 400 validation_failed: one entry per offending field. */
export const ValidationDetails = z.object({
  fields: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type ValidationDetails = z.infer<typeof ValidationDetails>;
