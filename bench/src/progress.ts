import type { LoadClient, SegmentResult } from './load.ts';

/**
 * A progress line on stderr: which mode, which phase, offered and answered rates, in flight.
 * Redrawn in place on a terminal; on a pipe (CI, logs) one line per finished step instead.
 */
export class Progress {
  private mode = '';
  private modeIndex = 0;
  private modeCount = 1;
  private phaseName = '';
  private client: LoadClient | undefined;
  private lastAnswered = 0;
  private lastAt = performance.now();
  private rate = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly started = performance.now();
  private modeStarted = performance.now();

  constructor() {
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  startMode(name: string, index: number, count: number): void {
    this.mode = name;
    this.modeIndex = index;
    this.modeCount = count;
    this.client = undefined;
    this.modeStarted = performance.now();
    this.line(`[${index + 1}/${count}] ${name}`);
  }

  attach(client: LoadClient): void {
    this.client = client;
    this.lastAnswered = client.answered;
    this.lastAt = performance.now();
  }

  phase(name: string): void {
    this.phaseName = name;
    const at = ((performance.now() - this.modeStarted) / 1000).toFixed(1);
    if (!this.tty) this.line(`  ${this.mode}: ${name} (+${at} s)`);
  }

  step(result: SegmentResult): void {
    if (!this.tty) {
      this.line(
        `  ${this.mode}: ${result.name}: offered ${result.rate}/s, answered ${Math.round(result.answeredPerS)}/s, ` +
          `orders ${Math.round(result.successPerS)}/s, p99 ${(result.tally.all.percentile(99) / 1000).toFixed(1)} ms`,
      );
    }
  }

  /** A line that stays (the bar is redrawn below it). */
  line(text: string): void {
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}\n`);
    else process.stderr.write(`${text}\n`);
    this.draw();
  }

  private draw(): void {
    if (!this.tty) return;
    const now = performance.now();
    if (this.client && now - this.lastAt >= 200) {
      this.rate = ((this.client.answered - this.lastAnswered) / (now - this.lastAt)) * 1000;
      this.lastAnswered = this.client.answered;
      this.lastAt = now;
    }
    const width = 20;
    const done = Math.round((this.modeIndex / Math.max(this.modeCount, 1)) * width);
    const bar = `${'#'.repeat(done)}${'.'.repeat(width - done)}`;
    const elapsed = Math.round((now - this.started) / 1000);
    const live = this.client
      ? ` | ${Math.round(this.rate)} answers/s, ${this.client.inFlight} in flight, ${this.client.succeeded} orders`
      : '';
    const text = `[${bar}] ${elapsed}s ${this.mode}: ${this.phaseName}${live}`;
    process.stderr.write(`\r\x1b[2K${text.slice(0, (process.stderr.columns || 120) - 1)}`);
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }
}
