import { IdParams } from '@stampede/contract';

/** A route's `:id` as the API would accept it, or null. */
export function parseIdParam(value: string | undefined): number | null {
  const parsed = IdParams.safeParse({ id: value ?? '' });
  return parsed.success ? parsed.data.id : null;
}
