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
