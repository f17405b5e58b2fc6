import type { ServerResponse } from 'node:http';
import type { LiveEvent } from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import { getLiveSales, getTrafficPoints } from './selectors.ts';

/** The live view covers the last ten minutes. */
export const WINDOW_SECONDS = 600;
/** Each tick repeats the last seconds, which a slower process may have completed since. */
const TICK_REPEAT_SECONDS = 5;
const TICK_MS = 1000;

/** What the stream shows now: the whole window (`snapshot`) or its last seconds (`tick`). */
export async function buildLiveEvent({
  ctx,
  kind,
  now = Date.now(),
}: {
  ctx: AppContext;
  kind: LiveEvent['kind'];
  now?: number;
}): Promise<LiveEvent> {
  const windowStart = now - WINDOW_SECONDS * 1000;
  const since = kind === 'snapshot' ? windowStart : now - TICK_REPEAT_SECONDS * 1000;
  const [traffic, sales] = await Promise.all([
    getTrafficPoints({ db: ctx.db, since: Math.floor(since / 1000) * 1000 }),
    getLiveSales({ db: ctx.db, ...(kind === 'snapshot' ? { historySince: windowStart } : {}) }),
  ]);
  return {
    kind,
    server_now: new Date(now).toISOString(),
    window_seconds: WINDOW_SECONDS,
    traffic,
    sales,
  };
}

/**
 * The operator consoles watching this process, fed by one ticker: however many consoles are
 * open, the database is read once a second (and not at all while none is). A console gets a
 * snapshot when it connects, then a tick every second. A read that fails (PostgreSQL away)
 * skips that tick; the consoles say the picture is stale, nothing crashes.
 */
export class LiveFeed {
  private readonly subscribers = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly ctx: AppContext) {}

  get watching(): number {
    return this.subscribers.size;
  }

  async subscribe(stream: ServerResponse): Promise<void> {
    stream.on('close', () => this.unsubscribe(stream));
    stream.write('retry: 2000\n\n');
    try {
      send(stream, await buildLiveEvent({ ctx: this.ctx, kind: 'snapshot' }));
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'live snapshot failed');
      stream.write(': snapshot unavailable\n\n');
    }
    if (stream.destroyed) return;
    this.subscribers.add(stream);
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
  }

  /** End every stream (the server is closing): consoles reconnect to another process. */
  close(): void {
    for (const stream of this.subscribers) stream.end();
    this.subscribers.clear();
    this.stop();
  }

  private unsubscribe(stream: ServerResponse): void {
    this.subscribers.delete(stream);
    if (this.subscribers.size === 0) this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const event = await buildLiveEvent({ ctx: this.ctx, kind: 'tick' });
      for (const stream of this.subscribers) send(stream, event);
    } catch (error) {
      this.ctx.logger.debug({ err: error }, 'live tick failed');
      for (const stream of this.subscribers) stream.write(': tick unavailable\n\n');
    } finally {
      this.ticking = false;
    }
  }
}

function send(stream: ServerResponse, event: LiveEvent): void {
  if (stream.destroyed) return;
  stream.write(`event: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`);
}
