import type { LiveEvent, LiveSale, LiveTrafficPoint, LiveUnitsPoint } from '@stampede/contract';

const COMPLETE_AFTER_MS = 2000;

/** What the console holds of the stream: the window of traffic and each running sale. */
export type LiveState = {
  serverNow: number;
  windowSeconds: number;
  traffic: LiveTrafficPoint[];
  sales: (LiveSale & { units: LiveUnitsPoint[] })[];
};

/**
 * Fold one event of the stream into the state. A snapshot replaces everything; a tick replaces
 * the points of the seconds it carries (a slower API process may have completed them since),
 * appends a units point per sale when its numbers moved, and trims what left the window.
 */
export function mergeLiveEvent(state: LiveState | undefined, event: LiveEvent): LiveState {
  const serverNow = Date.parse(event.server_now);
  const from = serverNow - event.window_seconds * 1000;
  if (event.kind === 'snapshot' || !state) {
    return {
      serverNow,
      windowSeconds: event.window_seconds,
      traffic: event.traffic.filter((point) => point.t >= from),
      sales: event.sales.map((sale) => ({ ...sale, units: sale.units ?? [] })),
    };
  }
  const replaced = new Set(event.traffic.map((point) => point.t));
  const traffic = [
    ...state.traffic.filter((p) => !replaced.has(p.t) && p.t >= from),
    ...event.traffic,
  ].sort((a, b) => a.t - b.t);
  const previous = new Map(state.sales.map((sale) => [sale.product_id, sale]));
  const sales = event.sales.map((sale) => {
    const before = previous.get(sale.product_id);
    // Points that left the window go, but the last of them stays (at the window's edge): it is
    // where the sale stood when the window opened.
    const history = before?.units ?? [];
    const units = history.filter((point) => point.t >= from);
    const edge = history.filter((point) => point.t < from).at(-1);
    if (edge) units.unshift({ ...edge, t: from });
    const last = units.at(-1);
    if (!last || last.sold !== sale.sold || last.left !== sale.left) {
      units.push({ t: Math.floor(serverNow / 1000) * 1000, sold: sale.sold, left: sale.left });
    }
    return { ...sale, units };
  });
  return { serverNow, windowSeconds: event.window_seconds, traffic, sales };
}

/**
 * Every second of the last `seconds` (the whole window by default), up to the last complete
 * one: each API process writes a second a moment after it ends, so the last two may still grow.
 */
export function secondsOf(state: LiveState, seconds = state.windowSeconds): number[] {
  const end = Math.floor(state.serverNow / 1000) * 1000 - COMPLETE_AFTER_MS;
  const start = end - Math.min(seconds, state.windowSeconds) * 1000;
  const xs: number[] = [];
  for (let t = start; t <= end; t += 1000) xs.push(t);
  return xs;
}
