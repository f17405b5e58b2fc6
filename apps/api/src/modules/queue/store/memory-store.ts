import type {
  AdmitOutcome,
  AdmitStep,
  BuyerRecord,
  JoinResult,
  QueueFigures,
  QueueStore,
} from './types.ts';

/** One queue in process: the same semantics as the Lua scripts, for one process only. */
class MemoryQueue {
  readonly tickets = new Map<number, { score: number; joinedAt: number }>();
  /** Waiting buyers sorted by (score, user id): the line. */
  readonly line: { score: number; userId: number }[] = [];
  readonly passes = new Map<number, number>();
  readonly live = new Map<number, number>();
  /** Admission times of the last minute, oldest first. */
  readonly admittedAt: number[] = [];
  tokens: number | undefined;
  last: number | undefined;
  expired = 0;

  /** Where (score, user) is or would go in the line. */
  position(score: number, userId: number): number {
    let lo = 0;
    let hi = this.line.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const entry = this.line[mid]!;
      if (entry.score < score || (entry.score === score && entry.userId < userId)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  enter(userId: number, score: number): void {
    this.line.splice(this.position(score, userId), 0, { score, userId });
  }

  rankOf(userId: number): number | null {
    const ticket = this.tickets.get(userId);
    if (!ticket) return null;
    const at = this.position(ticket.score, userId);
    return this.line[at]?.userId === userId ? at : null;
  }

  recent(now: number): number {
    while (this.admittedAt.length > 0 && this.admittedAt[0]! < now - 60_000)
      this.admittedAt.shift();
    return this.admittedAt.length;
  }
}

export class MemoryQueueStore implements QueueStore {
  readonly kind = 'memory';
  private readonly queues = new Map<number, MemoryQueue>();
  private readonly challenges = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  async join(input: {
    productId: number;
    userId: number;
    score: number;
    joinedAt: number;
  }): Promise<JoinResult> {
    const queue = this.queue(input.productId);
    const known = queue.tickets.get(input.userId);
    if (known) return { added: false, ...known };
    queue.tickets.set(input.userId, { score: input.score, joinedAt: input.joinedAt });
    queue.enter(input.userId, input.score);
    return { added: true, score: input.score, joinedAt: input.joinedAt };
  }

  async status(input: {
    productId: number;
    userId: number;
    now: number;
    ticket?: { score: number; joinedAt: number };
  }): Promise<BuyerRecord> {
    const queue = this.queue(input.productId);
    let known = queue.tickets.get(input.userId);
    let restored = false;
    if (!known && input.ticket) {
      known = { score: input.ticket.score, joinedAt: input.ticket.joinedAt };
      queue.tickets.set(input.userId, known);
      if (!queue.passes.has(input.userId)) queue.enter(input.userId, known.score);
      restored = true;
    }
    if (!known) return { joined: false };
    return {
      joined: true,
      score: known.score,
      joinedAt: known.joinedAt,
      rank: queue.rankOf(input.userId),
      passExpiresAt: queue.passes.get(input.userId) ?? null,
      waiting: queue.line.length,
      admittedLastMinute: queue.recent(input.now),
      restored,
    };
  }

  async admit(productId: number, step: AdmitStep): Promise<AdmitOutcome> {
    const queue = this.queue(productId);
    const { now } = step;
    let expired = 0;
    for (const [userId, until] of queue.live) {
      if (until <= now) {
        queue.live.delete(userId);
        expired += 1;
      }
    }
    queue.expired += expired;
    queue.recent(now);
    const active = queue.live.size;
    const capacity = Math.max(1, step.perMinute / 60);
    let tokens = queue.tokens ?? capacity;
    let last = queue.last ?? now;
    if (now > last) {
      tokens = Math.min(capacity, tokens + ((now - last) * step.perMinute) / 60_000);
      last = now;
    }
    let admitted = 0;
    if (step.open) {
      let room = Math.floor(tokens);
      if (step.maxActive > 0) room = Math.min(room, step.maxActive - active);
      room = Math.min(room, step.bound - active);
      if (room > 0) {
        for (const { userId } of queue.line.splice(0, room)) {
          queue.passes.set(userId, now + step.passTtlMs);
          queue.live.set(userId, now + step.passTtlMs);
          queue.admittedAt.push(now);
          admitted += 1;
        }
        tokens -= admitted;
      }
    }
    queue.tokens = tokens;
    queue.last = last;
    return { admitted, active: active + admitted, waiting: queue.line.length, expired };
  }

  async figures(productId: number, now: number): Promise<QueueFigures> {
    const queue = this.queue(productId);
    let active = 0;
    for (const until of queue.live.values()) if (until > now) active += 1;
    return {
      waiting: queue.line.length,
      active,
      admittedTotal: queue.passes.size,
      admittedLastMinute: queue.recent(now),
      expiredTotal: queue.expired,
    };
  }

  async passOf(productId: number, userId: number): Promise<number | null> {
    return this.queues.get(productId)?.passes.get(userId) ?? null;
  }

  async spend(productId: number, userId: number): Promise<void> {
    this.queues.get(productId)?.live.delete(userId);
  }

  async spendChallenge(signature: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    if (this.challenges.size > 100_000) {
      for (const [key, until] of this.challenges) if (until <= now) this.challenges.delete(key);
    }
    if ((this.challenges.get(signature) ?? 0) > now) return false;
    this.challenges.set(signature, now + ttlMs);
    return true;
  }

  async close(): Promise<void> {
    this.queues.clear();
  }

  private queue(productId: number): MemoryQueue {
    let queue = this.queues.get(productId);
    if (!queue) {
      queue = new MemoryQueue();
      this.queues.set(productId, queue);
    }
    return queue;
  }
}
