import type { ApiProcess } from './api-process.ts';
import { isDecided, type FaultWindow, type History, type Operation } from './history.ts';
import { availableAt, placeOrder, type Buyer, type FaultShop } from './shop.ts';

export interface ProductUnderTest {
  readonly id: number;
  readonly initial: number;
  readonly maxPerUser: number | null;
}

/**
 * The invariants a run ends on, each a list of violations (empty when it holds). They read
 * PostgreSQL (the truth), Redis (the gate) and the API (what a buyer would see), and the
 * client-side history (what buyers were told).
 */
export class Checker {
  readonly violations: { check: string; detail: string }[] = [];

  constructor(
    private readonly shop: FaultShop,
    private readonly history: History,
    private readonly products: readonly ProductUnderTest[],
  ) {}

  private fail(check: string, detail: string): void {
    this.violations.push({ check, detail });
  }

  /** Units are neither created nor lost, none sold twice, none left unsold, gate == database. */
  async stock(): Promise<void> {
    for (const product of this.products) {
      const [row] = await this.shop.query<{ available: number; live: number; ledger: number }>(
        `SELECT s.available,
           (SELECT COALESCE(SUM(oi.quantity), 0)::int FROM order_items oi JOIN orders o ON o.id = oi.order_id
             WHERE oi.product_id = s.product_id AND o.status IN ('pending_payment', 'paid')) AS live,
           (SELECT COALESCE(SUM(delta), 0)::int FROM stock_ledger l WHERE l.product_id = s.product_id) AS ledger
         FROM stock s WHERE s.product_id = $1`,
        [product.id],
      );
      const { available, live, ledger } = row!;
      if (available < 0) this.fail('no oversell', `product ${product.id}: available ${available}`);
      if (available + live !== product.initial) {
        this.fail(
          'no oversell',
          `product ${product.id}: ${live} sold + ${available} left != ${product.initial}`,
        );
      }
      if (ledger !== available) {
        this.fail('ledger', `product ${product.id}: ledger ${ledger} != available ${available}`);
      }
      if (available !== 0) {
        this.fail(
          'no undersell',
          `product ${product.id}: ${available} units unsold after the drain`,
        );
      }
      const redis = await this.shop.lookAtGate();
      try {
        const [counter, holds] = await Promise.all([
          redis.get(`stampede:{p:${product.id}}:stock`),
          redis.hlen(`stampede:{p:${product.id}}:holds`),
        ]);
        if (Number(counter) !== available) {
          this.fail(
            'gate == database',
            `product ${product.id}: gate ${counter}, database ${available}`,
          );
        }
        if (holds !== 0)
          this.fail('no stranded hold', `product ${product.id}: ${holds} holds left`);
      } finally {
        redis.disconnect();
      }
      for (const api of this.shop.apis) {
        const shown = await availableAt(api, product.id);
        if (shown !== available) {
          this.fail(
            'gate == database',
            `process ${api.name} shows ${shown} of product ${product.id}`,
          );
        }
      }
    }
  }

  /** Every order, cancel and payment a buyer was told about is in the database. */
  async acknowledged(): Promise<void> {
    const orders = new Map(
      (
        await this.shop.query<{ id: number; user_id: number; status: string }>(
          'SELECT id, user_id, status FROM orders',
        )
      ).map((row) => [row.id, row]),
    );
    const ops = this.history.operations;
    const attemptedCancel = new Set(
      ops.filter((op) => op.kind === 'cancel').map((op) => op.target),
    );
    for (const op of ops) {
      if (op.orderId !== undefined) {
        const row = orders.get(op.orderId);
        if (!row || row.user_id !== op.buyerId) {
          this.fail('every 201 is an order', `order ${op.orderId} (key ${op.key}) is missing`);
        }
      }
      if (op.outcome !== 'ok' || op.status !== 200) continue;
      const row = orders.get(op.target!);
      if (op.kind === 'cancel' && row?.status !== 'cancelled') {
        this.fail('acknowledged cancels stay', `order ${op.target} is ${row?.status}`);
      }
      if (op.kind === 'pay' && row?.status !== 'paid') {
        if (!(row?.status === 'cancelled' && attemptedCancel.has(op.target))) {
          this.fail('acknowledged payments stay', `order ${op.target} is ${row?.status}`);
        }
      }
    }
  }

  /** One order per key, and every decided answer of a key the same. */
  async keys(): Promise<void> {
    const doubles = await this.shop.query<{ user_id: number; idempotency_key: string; n: number }>(
      `SELECT user_id, idempotency_key, count(*)::int AS n FROM orders
       WHERE idempotency_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    for (const row of doubles) {
      this.fail('one order per key', `key ${row.idempotency_key}: ${row.n} orders`);
    }
    for (const [key, decided] of this.decidedByKey()) {
      const first = decided[0]!;
      for (const other of decided.slice(1)) {
        if (answerOf(other) !== answerOf(first) && !this.refusalMayBeForgotten(first, other)) {
          this.fail(
            'a key keeps its answer',
            `key ${key}: ${answerOf(first)} (${first.process}) then ${answerOf(other)} (${other.process})`,
          );
        }
      }
    }
  }

  /**
   * Re-send every decided key to every process: each answers what the key answered first.
   * Returns how many re-sends were made.
   */
  async resend(buyers: ReadonlyMap<number, Buyer>): Promise<number> {
    const work = [...this.decidedByKey()].flatMap(([key, decided]) =>
      this.shop.apis.map((api) => ({ key, first: decided[0]!, api })),
    );
    let sent = 0;
    const next = async (): Promise<void> => {
      for (let item = work.pop(); item; item = work.pop()) {
        const resent = await this.resendOne(item.first, item.api, buyers.get(item.first.buyerId)!);
        sent += 1;
        const answer = resent ? answerOf(resent) : 'undecided';
        if (
          answer !== answerOf(item.first) &&
          !(resent && this.refusalMayBeForgotten(item.first, resent))
        ) {
          this.fail(
            'a key keeps its answer',
            `key ${item.key}: first ${answerOf(item.first)}, re-sent to ${item.api.name}: ${answer}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, next));
    return sent;
  }

  /** No 500 anywhere; no process ended on its own. */
  answers(apis: readonly ApiProcess[]): void {
    for (const op of this.history.operations) {
      if (op.status === 500) this.fail('no 500', `${op.kind} on ${op.process} at ${op.endedAt}`);
    }
    for (const api of apis) {
      for (const exit of api.unexpectedExits) {
        this.fail('no process exit', `${api.name} exited (${exit.signal ?? exit.code})`);
      }
      for (const line of api.errors()) {
        this.fail('no error logged', `${api.name}: ${line.msg} ${JSON.stringify(line.err ?? '')}`);
      }
    }
  }

  /** Nobody has more than a product's cap in live orders. */
  async caps(): Promise<void> {
    for (const product of this.products) {
      if (product.maxPerUser === null) continue;
      const over = await this.shop.query<{ user_id: number; units: number }>(
        `SELECT o.user_id, SUM(oi.quantity)::int AS units FROM orders o
         JOIN order_items oi ON oi.order_id = o.id
         WHERE oi.product_id = $1 AND o.status IN ('pending_payment', 'paid')
         GROUP BY o.user_id HAVING SUM(oi.quantity) > $2`,
        [product.id, product.maxPerUser],
      );
      for (const row of over) {
        this.fail(
          'nobody over the cap',
          `user ${row.user_id}: ${row.units} of product ${product.id}`,
        );
      }
    }
  }

  /**
   * After each fault is healed, what it broke works again within `boundMs`: a write to the
   * database after a PostgreSQL fault, a decided order answer after a Redis fault, a decided
   * answer from the restarted process after a process fault. Returns each delay.
   */
  recovery(boundMs: number): { fault: string; firstGoodAnswerMs: number }[] {
    const works = (fault: FaultWindow, op: Operation): boolean => {
      if (!isDecided(op)) return false;
      if (fault.name.startsWith('postgres') || fault.name === 'backends-terminated') {
        return op.status === 200 || op.status === 201;
      }
      if (
        fault.name.startsWith('redis') ||
        fault.name.startsWith('master') ||
        fault.name === 'slot-moved'
      ) {
        return op.kind === 'order' || op.kind === 'drain';
      }
      return op.process === fault.target;
    };
    return this.history.faults.map((fault) => {
      const first = this.history.operations
        .filter((op) => op.endedAt >= fault.healedAt && works(fault, op))
        .reduce((min, op) => Math.min(min, op.endedAt), Number.POSITIVE_INFINITY);
      const delay = first - fault.healedAt;
      if (!(delay <= boundMs)) {
        this.fail('answers again soon after a fault', `${fault.name}: ${delay} ms after it healed`);
      }
      return { fault: fault.name, firstGoodAnswerMs: delay };
    });
  }

  private decidedByKey(): Map<string, Operation[]> {
    const byKey = new Map<string, Operation[]>();
    for (const op of this.history.operations) {
      if (!op.key || !isDecided(op)) continue;
      byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
    }
    return byKey;
  }

  private async resendOne(
    first: Operation,
    api: ApiProcess,
    buyer: Buyer,
  ): Promise<Operation | undefined> {
    const lines = [...first.lines!];
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const outcome = await placeOrder(api, buyer, lines, first.key, 8000);
      const op = this.history.record(
        {
          kind: 'order',
          buyerId: buyer.id,
          process: api.name,
          startedAt: Date.now(),
          key: first.key!,
          lines,
        },
        outcome,
      );
      if (isDecided(op)) return op;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return undefined;
  }

  /**
   * API.md: a kept refusal is in PostgreSQL a moment after it is answered; a process that died
   * within that moment, followed later by Redis losing its data, can leave the key to be decided
   * afresh.
   */
  private refusalMayBeForgotten(first: Operation, later: Operation): boolean {
    if (first.status === 201) return false;
    const died = this.history.faults.some(
      (fault) =>
        fault.name === 'api-killed' &&
        fault.startedAt >= first.endedAt - 100 &&
        fault.startedAt <= first.endedAt + 1000,
    );
    const lost = this.history.faults.some(
      (fault) =>
        ['redis-restarted-empty', 'redis-old-snapshot', 'master-killed'].includes(fault.name) &&
        fault.startedAt > first.endedAt &&
        fault.startedAt < later.startedAt,
    );
    return died && lost;
  }
}

/** What a decided answer says, for comparison: the order made, or the refusal's code. */
function answerOf(op: Operation): string {
  return op.status === 201 ? `order ${op.orderId}` : `${op.status} ${op.code}`;
}
