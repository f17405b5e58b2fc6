import type { AppContext } from '../../context.ts';
import {
  type AppError,
  DuplicateOrderError,
  InsufficientStockError,
  OrderAlreadyWrittenError,
  ProductNotFoundError,
  PurchaseLimitError,
  StockUnavailableError,
  withoutStack,
} from '../../lib/errors.ts';
import { isDatabaseUnavailable } from '../../lib/pg-errors.ts';
import { storedRefusalOf, type GateLine, type Refusal, type StoredRefusal } from './gate/types.ts';
import { syncGate } from './sync-gate.ts';

/**
 * Units an order has taken in the gate and not yet written: a value that knows its own undo.
 * The path that reserves is the path that ends it: `release` once the order is written (the
 * units are the order's now), `giveBack` when it is not (with why, which decides how).
 */
export interface Hold {
  readonly reservationId: string;
  readonly userId: number;
  /** One line per product, in product order. */
  readonly lines: readonly GateLine[];
  release(): Promise<void>;
  giveBack(failure: unknown): Promise<void>;
}

/** The hold a reservation made (in the gate's attempt, or by `reserveStock`). */
export function holdOf(
  ctx: AppContext,
  input: { reservationId: string; userId: number; lines: readonly GateLine[] },
): Hold {
  const lines = [...input.lines].sort((a, b) => a.productId - b.productId);
  const { reservationId } = input;
  const productIds = lines.map((line) => line.productId);
  return {
    reservationId,
    userId: input.userId,
    lines,
    // A release that fails leaves a hold whose order exists; the sweep recognises and drops it.
    release: async () => {
      await Promise.all(
        productIds.map((productId) =>
          ctx.stock
            .release({ productId, reservationIds: [reservationId] })
            .catch((error: unknown) =>
              ctx.logger.debug({ err: error }, 'releasing a committed hold failed'),
            ),
        ),
      );
    },
    giveBack: async (failure) => {
      try {
        await giveBack(ctx, reservationId, productIds, failure);
      } catch (error) {
        // The gate is unreachable: the hold ages out and the sweep returns its units.
        ctx.logger.warn({ err: error, reservationId }, 'gate compensation failed');
      }
    },
  };
}

/** How a hold goes back depends on why its order was not written. */
async function giveBack(
  ctx: AppContext,
  reservationId: string,
  productIds: readonly number[],
  failure: unknown,
): Promise<void> {
  const { stock, metrics } = ctx;
  if (failure instanceof OrderAlreadyWrittenError) {
    // A lost connection had swallowed the commit: the units belong to that order.
    await Promise.all(
      productIds.map((productId) => stock.release({ productId, reservationIds: [reservationId] })),
    );
    return;
  }
  if (isDatabaseUnavailable(failure)) {
    // The connection failed mid-transaction: the order may have been committed. The holds are
    // left for the next sync to settle against the database, marked so it does at once.
    await stock.abandon({ reservationId, productIds });
    metrics.gateCompensations.inc({ reason: 'database_unavailable' });
    return;
  }
  if (failure instanceof InsufficientStockError) {
    // The database has fewer units than the gate believed: the hold is dropped without a
    // credit (crediting would re-open units that do not exist), and the sync sets the truth.
    await stock.release({ productId: failure.productId, reservationIds: [reservationId] });
    await stock.giveBack({
      reservationId,
      productIds: productIds.filter((id) => id !== failure.productId),
    });
    metrics.gateCompensations.inc({ reason: 'database_refused' });
    await syncGate({ ctx, input: { productId: failure.productId, trigger: 'repair' } });
    return;
  }
  await stock.giveBack({ reservationId, productIds });
  metrics.gateCompensations.inc({
    reason:
      failure instanceof DuplicateOrderError
        ? 'duplicate'
        : failure instanceof PurchaseLimitError
          ? 'purchase_limit'
          : 'database_failed',
  });
  if (failure instanceof PurchaseLimitError) {
    // The gate's cap table let through what the database's count does not: rebuild it.
    const productId = failure.details!.product_id as number;
    await syncGate({ ctx, input: { productId, trigger: 'repair' } });
  }
}

/**
 * Reserve every line of an order in the stock gate alone (admission already done). A product
 * the gate has no counter for (created by another process, or its key lost) is filled from the
 * database, and the reservation tried once more: the repair lives here, in the step that needs
 * it. Resolves to the hold, or to the refusal as an error.
 */
export async function reserveStock({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { reservationId: string; userId: number; lines: readonly GateLine[] };
}): Promise<{ hold: Hold } | { refused: Error }> {
  await ctx.gateKeeper.ready();
  for (let attempt = 0; ; attempt += 1) {
    const started = performance.now();
    const result = await ctx.stock.reserve(input);
    ctx.metrics.gateLatency.observe({ operation: 'reserve' }, (performance.now() - started) / 1000);
    if (result.ok) return { hold: holdOf(ctx, input) };
    if (result.reason !== 'missing') return { refused: gateRefusalError(result, input.lines) };
    if (attempt > 0) throw new StockUnavailableError();
    if (!(await ctx.gateKeeper.repair(result.productId))) {
      return { refused: new ProductNotFoundError(result.productId) };
    }
  }
}

/**
 * The answer to a gate refusal. Refusals are the common answer of a sale; they carry no stack
 * trace (nobody reads it, and capturing one per buyer is not free).
 */
export function gateRefusalError(refusal: Refusal, lines: readonly GateLine[]): Error {
  const line = lines.find((l) => l.productId === refusal.productId)!;
  const stored = storedRefusalOf(refusal, line);
  if (!stored) {
    return new Error(`reservation refused: ${refusal.reason} (product ${refusal.productId})`);
  }
  return withoutStack(() => storedRefusalError(stored));
}

/** A stock or cap refusal as an error: first answered, or kept for a key and answered again. */
export function storedRefusalError(stored: StoredRefusal): AppError {
  return stored.refusal === 'insufficient'
    ? new InsufficientStockError(stored.product_id, stored.requested, stored.value)
    : new PurchaseLimitError(stored.product_id, stored.limit, stored.value);
}
