import type { ApiProcess } from './api-process.ts';
import type { History } from './history.ts';
import { isDecided, type Operation } from './history.ts';
import type { Random } from './random.ts';
import { call, placeOrder, type Buyer } from './shop.ts';
import { sleep } from './wait.ts';

export interface CrowdOptions {
  readonly apis: readonly ApiProcess[];
  readonly buyers: readonly Buyer[];
  readonly productIds: readonly number[];
  readonly workers: number;
  readonly random: Random;
  readonly history: History;
  /** How many times a buyer retries one key before giving up on it. */
  readonly retries?: number;
}

/**
 * Buyers who behave as a careful client does: every order carries an Idempotency-Key that is
 * re-sent (to either process, as a load balancer would) until the shop gives an answer that
 * is not "try again"; sometimes the same key goes to both processes at once; they pay and cancel
 * orders they were told exist. Every request goes into the history as the client saw it.
 */
export class Crowd {
  private running = false;
  private loops: Promise<void>[] = [];
  private keys = 0;

  constructor(private readonly options: CrowdOptions) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.workers }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** One key, retried until decided; returns the deciding operation, if any. */
  async order(
    buyer: Buyer,
    lines: { product_id: number; quantity: number }[],
    options: { kind?: 'order' | 'drain'; both?: boolean } = {},
  ): Promise<Operation | undefined> {
    const { random, history, apis } = this.options;
    const key = `k${(this.keys += 1)}-${buyer.id}-${random.int(0, 1e9)}`;
    const send = async (api: ApiProcess) => {
      const startedAt = Date.now();
      const outcome = await placeOrder(api, buyer, lines, key, 8000);
      return history.record(
        {
          kind: options.kind ?? 'order',
          buyerId: buyer.id,
          process: api.name,
          startedAt,
          key,
          lines,
        },
        outcome,
      );
    };
    let api = random.pick(apis);
    for (let attempt = 0; attempt <= (this.options.retries ?? 60); attempt += 1) {
      const answers =
        options.both && attempt === 0 ? await Promise.all(apis.map(send)) : [await send(api)];
      const decided = answers.find(isDecided);
      if (decided) return decided;
      api = random.pick(apis);
      await sleep(random.int(100, 300));
    }
    return undefined;
  }

  private async loop(): Promise<void> {
    const { random, buyers, productIds } = this.options;
    while (this.running) {
      const buyer = random.pick(buyers);
      const roll = random.next();
      if (roll < 0.6) {
        const first = random.pick(productIds);
        const lines = [{ product_id: first, quantity: random.int(1, 2) }];
        if (random.chance(0.2)) {
          const second = random.pick(productIds.filter((id) => id !== first));
          if (second !== undefined) lines.push({ product_id: second, quantity: 1 });
        }
        await this.order(buyer, lines, { both: random.chance(0.1) });
      } else {
        const mine = this.acknowledgedOrders(buyer.id);
        if (mine.length > 0)
          await this.act(buyer, random.pick(mine), roll < 0.85 ? 'cancel' : 'pay');
      }
      await sleep(random.int(20, 80));
    }
  }

  /** Cancel or pay one order, retried while the answer is unknown or a 503. */
  private async act(buyer: Buyer, orderId: number, action: 'cancel' | 'pay'): Promise<void> {
    const { random, history, apis } = this.options;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const api = random.pick(apis);
      const startedAt = Date.now();
      const outcome = await call(api.url, {
        method: 'POST',
        path: `/api/orders/${orderId}/${action}`,
        token: buyer.token,
        timeoutMs: 8000,
      });
      const operation = history.record(
        { kind: action, buyerId: buyer.id, process: api.name, startedAt, target: orderId },
        outcome,
      );
      if (operation.outcome === 'ok' && operation.status !== 503) return;
      await sleep(random.int(100, 300));
    }
  }

  private acknowledgedOrders(buyerId: number): number[] {
    return this.options.history.operations
      .filter((op) => op.buyerId === buyerId && op.orderId !== undefined)
      .map((op) => op.orderId!);
  }
}
