import { useSyncExternalStore } from 'react';
import { getServerNow, useServerClockStore } from '@/store/server-clock-store';

/*
 * One ticker for the whole page, however many countdowns are on it. It samples the server's clock
 * every TICK_MS; each component selects what it shows (the seconds left, a sale's phase) and React
 * re-renders it only when that value changes. A countdown therefore turns within TICK_MS of the
 * real second, whatever fraction of a second its target has, without the page re-rendering at 10 Hz.
 */
export const TICK_MS = 100;

const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
let unsubscribeClock: (() => void) | null = null;
let sampled = 0;

function tick() {
  sampled = getServerNow();
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    sampled = getServerNow();
    timer = setInterval(tick, TICK_MS);
    // A new offset (a fresher server_now) moves every countdown at once.
    unsubscribeClock = useServerClockStore.subscribe(tick);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      if (timer !== null) clearInterval(timer);
      timer = null;
      unsubscribeClock?.();
      unsubscribeClock = null;
    }
  };
}

/** The sample, stable between ticks (React requires it); a first render reads the clock itself. */
const currentSample = () => (timer === null ? getServerNow() : sampled);

/**
 * What `select` makes of the server's current time, kept up to date. `select` must return a
 * primitive (or a stable value) that changes only when the display should.
 */
export function useServerTime<T>(select: (serverNow: number) => T): T {
  const getSnapshot = () => select(currentSample());
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** Whole seconds left until `target` (server clock), never negative. */
export const secondsUntil = (target: number, serverNow: number) =>
  Math.max(0, Math.ceil((target - serverNow) / 1000));
