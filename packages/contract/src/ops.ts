import { z } from 'zod';

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
export type Health = z.infer<typeof Health>;

export const CheckState = z.enum(['ok', 'down']);

export const Readiness = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ database: CheckState, stock_cache: CheckState }),
  })
  .meta({ id: 'Readiness' });
export type Readiness = z.infer<typeof Readiness>;
