import type { z } from 'zod';
import { ApiError } from './api-error';

/**
 * Validates an answer against the contract's schema. A mismatch is an ApiError too, so screens
 * show their error state instead of rendering half a product.
 */
export function parseResponse<T extends z.ZodType>(schema: T, data: unknown): z.output<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  console.error('Answer does not match the contract', result.error.issues);
  throw new ApiError({
    code: 'invalid_response',
    message: 'The server sent an answer this page does not understand.',
    cause: result.error,
  });
}
