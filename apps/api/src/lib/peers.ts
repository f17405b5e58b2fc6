import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../db/redis.ts';

/**
 * How many API processes share the deployment now, so that a bound meant for all of them (the
 * transactions one hot product may have open at once) is divided among them. Each process
 * renews its entry in one sorted set (one key, one slot on a cluster) every second; entries not
 * renewed for three seconds are gone (a process killed stops counting within that). Without
 * Redis there is one process.
 */
export class Peers {
  private readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private current = 1;

  constructor(
    private readonly options: {
      readonly redis?: RedisClient;
      readonly key: string;
      /** Called when the count changes. */
      readonly onChange: (count: number) => void;
      readonly intervalMs?: number;
    },
  ) {}

  get count(): number {
    return this.current;
  }

  async start(): Promise<void> {
    if (!this.options.redis) return;
    await this.renew();
    this.timer = setInterval(() => void this.renew(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.options.redis?.zrem(this.options.key, this.id).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    const redis = this.options.redis!;
    const interval = this.options.intervalMs ?? 1000;
    try {
      // Redis's clock for every process: the machines' clocks need not agree.
      const [seconds, micros] = await redis.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const [, , count] = (await redis
        .multi()
        .zadd(this.options.key, now + 3 * interval, this.id)
        .zremrangebyscore(this.options.key, '-inf', now)
        .zcard(this.options.key)
        .exec())!.map(([error, value]) => {
        if (error) throw error;
        return value;
      }) as [number, number, number];
      const peers = Math.max(1, count);
      if (peers !== this.current) {
        this.current = peers;
        this.options.onChange(peers);
      }
    } catch {
      // Redis away: the last count stands.
    }
  }
}
