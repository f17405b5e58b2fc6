import type { Outcome } from './shop.ts';

export type OperationKind = 'order' | 'cancel' | 'pay' | 'drain';

/**
 * One request as the client saw it. `ok` is an answer the client can act on (any status);
 * `unknown` is a timeout or a dropped connection: it may or may not have happened.
 */
export interface Operation {
  readonly kind: OperationKind;
  readonly buyerId: number;
  readonly process: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: 'ok' | 'unknown';
  readonly status?: number;
  readonly code?: string;
  /** Orders: the key and the body's lines; the order id of a 201. */
  readonly key?: string;
  readonly lines?: readonly { readonly product_id: number; readonly quantity: number }[];
  readonly orderId?: number;
  /** Set for cancel and pay: the order acted on. */
  readonly target?: number;
  /** The 201's order, or the error's details (a refusal's `available`, say). */
  readonly body?: unknown;
}

export interface FaultWindow {
  readonly name: string;
  readonly startedAt: number;
  /** When the fault was healed (the dependency or process answering again). */
  healedAt: number;
  /** The API process it hit, for a process fault. */
  target?: string;
}

/** Every operation and fault of a run, in the order they ended. */
export class History {
  readonly operations: Operation[] = [];
  readonly faults: FaultWindow[] = [];

  record(
    base: Omit<Operation, 'endedAt' | 'outcome' | 'status' | 'code' | 'orderId' | 'body'>,
    outcome: Outcome,
  ): Operation {
    const error =
      outcome.kind === 'ok'
        ? (outcome.body?.error as { code?: string; details?: unknown } | undefined)
        : undefined;
    const operation: Operation = {
      ...base,
      endedAt: Date.now(),
      outcome: outcome.kind,
      ...(outcome.kind === 'ok' ? { status: outcome.status } : {}),
      ...(error?.code ? { code: error.code } : {}),
      ...(outcome.kind === 'ok' && outcome.status === 201
        ? { orderId: Number(outcome.body!.id), body: outcome.body }
        : {}),
      ...(error?.details ? { body: error.details } : {}),
    };
    this.operations.push(operation);
    return operation;
  }
}

/** Answers a client should retry with the same key: nothing was decided. */
export const RETRYABLE_CODES = new Set([
  'idempotency_in_flight',
  'stock_unavailable',
  'service_unavailable',
  'stock_conflict',
  'rate_limited',
]);

/** A decided answer: an order, or a refusal the key keeps. */
export function isDecided(operation: Operation): boolean {
  return (
    operation.outcome === 'ok' &&
    operation.status !== undefined &&
    operation.status < 500 &&
    !(operation.code && RETRYABLE_CODES.has(operation.code))
  );
}
