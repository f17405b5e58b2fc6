import { ValidationDetails } from '@stampede/contract';
import type { z } from 'zod';
import type { ApiError } from '@/api/api-error';

export type FieldErrors = Record<string, string>;

/** The first message per top-level field of a failed Zod parse. */
export function zodFieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issue.message;
  }
  return errors;
}

/** The fields of a 400 validation_failed answer, keyed by top-level field name. */
export function apiFieldErrors(error: ApiError): FieldErrors {
  if (error.code !== 'validation_failed') return {};
  const details = ValidationDetails.safeParse(error.details);
  if (!details.success) return {};
  const errors: FieldErrors = {};
  for (const field of details.data.fields) {
    const name = field.path.replace(/^body[./]/, '').split(/[./[]/)[0] || 'form';
    errors[name] ??= field.message;
  }
  return errors;
}
