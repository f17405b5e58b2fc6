import { useSyncExternalStore } from 'react';
import { getServerNow, useServerClockStore } from '@/store/server-clock-store';

/*
 * One ticker for the whole page, however many countdowns are on it. It fires just after each
 * second of the server's clock begins, so every countdown changes digit at the same moment.
 */
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setTimeout> | null = null;
let unsubscribeClock: (() => void) | null = null;

function notify() {
  for (const listener of listeners) listener();
}

function schedule() {
  const delay = 1000 - (getServerNow() % 1000) + 5;
  timer = setTimeout(() => {
    notify();
    schedule();
  }, delay);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    schedule();
    unsubscribeClock = useServerClockStore.subscribe(notify);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      unsubscribeClock?.();
      unsubscribeClock = null;
    }
  };
}

/** Whole seconds, so that React sees the same snapshot for every read within one second. */
const getSnapshot = () => Math.floor(getServerNow() / 1000) * 1000;

/** The server's current time in ms, re-rendering once a second. */
export function useServerNow(): number {
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
