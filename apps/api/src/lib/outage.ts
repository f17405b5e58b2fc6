import type { Logger } from 'pino';

/**
 * A dependency's state as the log tells it: one line when it goes away (with the first
 * reason), one when it is back (how long it was gone, how many failures were seen meanwhile),
 * and nothing per failed request in between. While it is away, `probe` (when given) is tried
 * every `probeIntervalMs` to find out when it is back.
 */
export class Outage {
  private since: number | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: {
      readonly dependency: string;
      readonly logger: Logger;
      readonly probe?: () => Promise<unknown>;
      readonly probeIntervalMs?: number;
    },
  ) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  /** A request or job failed because the dependency did not answer. */
  failed(error: unknown): void {
    if (this.closed) return;
    this.failures += 1;
    if (this.since !== undefined) return;
    this.since = Date.now();
    const { dependency, logger, probe } = this.options;
    logger.warn({ dependency, reason: reasonOf(error) }, `${dependency} unavailable`);
    if (probe) {
      this.timer = setInterval(
        () => void this.tryProbe(probe),
        this.options.probeIntervalMs ?? 1000,
      );
      this.timer.unref();
    }
  }

  /** The dependency answered again. */
  recovered(): void {
    if (this.since === undefined) return;
    const { dependency, logger } = this.options;
    logger.info(
      { dependency, down_ms: Date.now() - this.since, failures: this.failures },
      `${dependency} available again`,
    );
    this.since = undefined;
    this.failures = 0;
    clearInterval(this.timer);
  }

  /** Shutting down: whatever fails from now on is expected. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private async tryProbe(probe: () => Promise<unknown>): Promise<void> {
    try {
      await probe();
    } catch {
      return;
    }
    this.recovered();
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
