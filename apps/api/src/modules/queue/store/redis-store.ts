import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../../../db/redis.ts';
import { QUEUE_LUA_DIR } from '../../../paths.ts';
import type { QueueKeys } from '../keys.ts';
import type {
  AdmitOutcome,
  AdmitStep,
  BuyerRecord,
  JoinResult,
  QueueFigures,
  QueueStore,
} from './types.ts';

const lua = (name: string) => readFileSync(join(QUEUE_LUA_DIR, `${name}.lua`), 'utf8');

type QueueRedis = RedisClient & {
  stampedeQueueJoin(...args: (string | number)[]): Promise<[number, string]>;
  stampedeQueueStatus(...args: (string | number)[]): Promise<(string | number)[]>;
  stampedeQueueAdmit(...args: (string | number)[]): Promise<[number, number, number, number]>;
  stampedeQueueView(
    ...args: (string | number)[]
  ): Promise<[number, number, number, number, number]>;
};

const parseTicket = (value: string) => {
  const [score, joinedAt] = value.split(',');
  return { score: Number(score), joinedAt: Number(joinedAt) };
};

/** The queues on Redis (one node or a cluster): each call is one script on the queue's slot. */
export class RedisQueueStore implements QueueStore {
  readonly kind = 'redis';
  private readonly redis: QueueRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: QueueKeys,
  ) {
    this.redis = redis as QueueRedis;
    this.redis.defineCommand('stampedeQueueJoin', { numberOfKeys: 2, lua: lua('join') });
    this.redis.defineCommand('stampedeQueueStatus', { numberOfKeys: 4, lua: lua('status') });
    this.redis.defineCommand('stampedeQueueAdmit', { numberOfKeys: 5, lua: lua('admit') });
    this.redis.defineCommand('stampedeQueueView', { numberOfKeys: 5, lua: lua('view') });
  }

  async join(input: {
    productId: number;
    userId: number;
    score: number;
    joinedAt: number;
  }): Promise<JoinResult> {
    const { productId: p } = input;
    const [added, ticket] = await this.redis.stampedeQueueJoin(
      this.keys.tickets(p),
      this.keys.line(p),
      input.userId,
      input.score,
      input.joinedAt,
    );
    return { added: added === 1, ...parseTicket(ticket) };
  }

  async status(input: {
    productId: number;
    userId: number;
    now: number;
    ticket?: { score: number; joinedAt: number };
  }): Promise<BuyerRecord> {
    const { productId: p } = input;
    const reply = await this.redis.stampedeQueueStatus(
      this.keys.tickets(p),
      this.keys.line(p),
      this.keys.passes(p),
      this.keys.admitted(p),
      input.userId,
      input.now,
      input.ticket ? input.ticket.score : '',
      input.ticket ? input.ticket.joinedAt : '',
    );
    if (reply[0] !== 1) return { joined: false };
    const [, ticket, rank, pass, waiting, recent, restored] = reply;
    return {
      joined: true,
      ...parseTicket(String(ticket)),
      rank: Number(rank) === -1 ? null : Number(rank),
      passExpiresAt: Number(pass) === -1 ? null : Number(pass),
      waiting: Number(waiting),
      admittedLastMinute: Number(recent),
      restored: Number(restored) === 1,
    };
  }

  async admit(productId: number, step: AdmitStep): Promise<AdmitOutcome> {
    const [admitted, active, waiting, expired] = await this.redis.stampedeQueueAdmit(
      ...this.figureKeys(productId),
      step.now,
      step.perMinute,
      step.maxActive,
      step.bound,
      step.passTtlMs,
      step.open ? 1 : 0,
    );
    return { admitted, active, waiting, expired };
  }

  async figures(productId: number, now: number): Promise<QueueFigures> {
    const [waiting, active, admittedTotal, admittedLastMinute, expiredTotal] =
      await this.redis.stampedeQueueView(...this.figureKeys(productId), now);
    return { waiting, active, admittedTotal, admittedLastMinute, expiredTotal };
  }

  async passOf(productId: number, userId: number): Promise<number | null> {
    const value = await this.redis.hget(this.keys.passes(productId), String(userId));
    return value === null ? null : Number(value);
  }

  async spend(productId: number, userId: number): Promise<void> {
    await this.redis.zrem(this.keys.live(productId), String(userId));
  }

  async spendChallenge(signature: string, ttlMs: number): Promise<boolean> {
    const set = await this.redis.set(
      this.keys.spentChallenge(signature),
      '1',
      'PX',
      Math.max(1, Math.ceil(ttlMs)),
      'NX',
    );
    return set === 'OK';
  }

  async close(): Promise<void> {
    // The connection is the gate's: it closes it.
  }

  private figureKeys(p: number): string[] {
    return [
      this.keys.line(p),
      this.keys.passes(p),
      this.keys.live(p),
      this.keys.admitted(p),
      this.keys.bucket(p),
    ];
  }
}
