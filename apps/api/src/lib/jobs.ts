export interface Job {
  stop(): Promise<void>;
}

/**
 * Run `work` every `intervalMs`, never two runs at once; a failing run is handed to `failed`
 * and the next one comes on schedule. `stop` waits for a running run to finish.
 */
export function every(
  name: string,
  intervalMs: number,
  work: () => Promise<unknown>,
  failed: (error: unknown, job: string) => void,
): Job {
  let running: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = work()
      .then(() => undefined)
      .catch((error: unknown) => failed(error, name))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
