import { z } from 'zod';

/** Integer database identity, as it appears in paths and bodies. */
export const Id = z.int().positive().max(2_147_483_647);

/** Path parameter `:id`; path segments are strings, so digits only, then a number. */
export const IdParams = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(Id),
});
export type IdParams = z.infer<typeof IdParams>;

/** ISO 8601 timestamp in UTC, as every answer carries it. */
export const Timestamp = z.iso.datetime({ offset: true });

const EARLIEST_INPUT_TIME = Date.parse('1970-01-01T00:00:00Z');
const LATEST_INPUT_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * A timestamp a client sends: ISO 8601 with `Z` or an offset, between 1970 and 9999. The range
 * keeps out dates the database cannot store (year 0) and years no sale will ever have.
 */
export const InputTimestamp = Timestamp.refine((value) => {
  const time = Date.parse(value);
  return time >= EARLIEST_INPUT_TIME && time <= LATEST_INPUT_TIME;
}, 'must be a time between 1970 and 9999');

// eslint-disable-next-line no-control-regex -- the NUL character is exactly what is refused
const NO_NUL = /^[^\u0000]*$/;

/**
 * Free text a client sends. PostgreSQL cannot store the NUL character, so it is refused here
 * (a clear 400) instead of reaching the database.
 */
export const text = () => z.string().regex(NO_NUL, 'must not contain NUL characters');

export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD');

/** Query-string integer: query strings are text, so numbers are coerced here and only here. */
const queryInt = (min: number, max: number) =>
  z.coerce.number<string | number>().int().min(min).max(max);

export const PageQuery = z.strictObject({
  page: queryInt(1, 1_000_000).default(1),
  page_size: queryInt(1, 100).default(20),
});
export type PageQuery = z.infer<typeof PageQuery>;

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    page: z.int(),
    page_size: z.int(),
    total: z.int(),
  });

export { queryInt };
