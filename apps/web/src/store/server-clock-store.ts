import { create } from 'zustand';

/**
 * How far the server's clock is from this device's. Sale windows are decided by the server, so
 * every countdown runs on `Date.now() + offsetMs`; a phone whose clock is two minutes fast must not
 * show "live" while the server still answers `sale_not_started`.
 */
type ServerClockState = {
  offsetMs: number;
  /** Round-trip time of the sample the offset came from; shorter trips give better estimates. */
  sampleRttMs: number | null;
  observe: (input: { serverNow: string; sentAt: number; receivedAt: number }) => void;
  reset: () => void;
};

/** Beyond this the clocks really moved apart (device clock changed): take the new sample as is. */
const SNAP_THRESHOLD_MS = 2_000;

export const useServerClockStore = create<ServerClockState>()((set, get) => ({
  offsetMs: 0,
  sampleRttMs: null,
  observe: ({ serverNow, sentAt, receivedAt }) => {
    const serverMs = Date.parse(serverNow);
    if (Number.isNaN(serverMs) || receivedAt < sentAt) return;
    const rtt = receivedAt - sentAt;
    // The server stamped its answer somewhere during the trip; the middle is the best guess.
    const sample = serverMs - (sentAt + rtt / 2);
    const { offsetMs, sampleRttMs } = get();
    if (sampleRttMs === null || Math.abs(sample - offsetMs) > SNAP_THRESHOLD_MS) {
      set({ offsetMs: sample, sampleRttMs: rtt });
      return;
    }
    // Small differences are network jitter: smooth them so the countdown does not jump around.
    const weight = rtt <= sampleRttMs ? 0.5 : 0.2;
    set({
      offsetMs: Math.round(offsetMs + (sample - offsetMs) * weight),
      sampleRttMs: Math.min(sampleRttMs, rtt),
    });
  },
  reset: () => set({ offsetMs: 0, sampleRttMs: null }),
}));

export const getServerNow = (): number => Date.now() + useServerClockStore.getState().offsetMs;

/** Runs a request and feeds the `server_now` of its answer to the clock. */
export async function withServerClock<T extends { server_now: string }>(
  request: () => Promise<T>,
): Promise<T> {
  const sentAt = Date.now();
  const result = await request();
  useServerClockStore
    .getState()
    .observe({ serverNow: result.server_now, sentAt, receivedAt: Date.now() });
  return result;
}
