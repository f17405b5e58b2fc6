import { beforeEach, describe, expect, it, vi } from 'vitest';
import { getServerNow, useServerClockStore, withServerClock } from './server-clock-store';

describe('server clock', () => {
  beforeEach(() => {
    vi.useRealTimers();
    useServerClockStore.getState().reset();
  });

  it('takes the middle of the round trip as the moment the server stamped its answer', () => {
    useServerClockStore.getState().observe({
      serverNow: new Date(10_500).toISOString(),
      sentAt: 1_000,
      receivedAt: 2_000,
    });
    // The server read 10.5 s when the device read 1.5 s.
    expect(useServerClockStore.getState().offsetMs).toBe(9_000);
  });

  it('smooths small jitter but snaps to a real clock change', () => {
    const { observe } = useServerClockStore.getState();
    observe({ serverNow: new Date(5_000).toISOString(), sentAt: 0, receivedAt: 0 });
    observe({ serverNow: new Date(5_400).toISOString(), sentAt: 0, receivedAt: 0 });
    expect(useServerClockStore.getState().offsetMs).toBe(5_200);
    observe({ serverNow: new Date(65_000).toISOString(), sentAt: 0, receivedAt: 0 });
    expect(useServerClockStore.getState().offsetMs).toBe(65_000);
  });

  it('ignores answers whose server_now is not a time', () => {
    useServerClockStore.getState().observe({ serverNow: 'soon', sentAt: 0, receivedAt: 10 });
    expect(useServerClockStore.getState().offsetMs).toBe(0);
  });

  it('feeds server_now of a request to the clock', async () => {
    const ahead = Date.now() + 120_000;
    const result = await withServerClock(async () => ({
      server_now: new Date(ahead).toISOString(),
      value: 1,
    }));
    expect(result.value).toBe(1);
    expect(Math.abs(getServerNow() - (Date.now() + 120_000))).toBeLessThan(1_000);
  });
});
