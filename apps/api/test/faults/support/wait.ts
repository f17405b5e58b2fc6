import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Poll `condition` until it holds; throws after `timeoutMs`, naming what it waited for. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs, what, everyMs = 50 }: { timeoutMs: number; what: string; everyMs?: number },
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
