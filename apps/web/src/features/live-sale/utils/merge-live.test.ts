import type { LiveEvent } from '@stampede/contract';
import { describe, expect, it } from 'vitest';
import { mergeLiveEvent, secondsOf } from './merge-live';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const point = (t: number, attempts: number) => ({
  t,
  attempts,
  created: 1,
  units: 1,
  refusals: { sold_out: attempts - 1 },
  p50: 0.01,
  p99: 0.05,
});
const sale = (sold: number, left: number) => ({
  product_id: 7,
  name: 'Drop',
  starts_at: new Date(T0 - 60_000).toISOString(),
  ends_at: null,
  sold,
  left,
  sold_out_at: null,
});
const event = (
  kind: LiveEvent['kind'],
  now: number,
  traffic: LiveEvent['traffic'],
  s = sale(0, 10),
) =>
  ({
    kind,
    server_now: new Date(now).toISOString(),
    window_seconds: 60,
    traffic,
    sales: [s],
  }) satisfies LiveEvent;

describe('folding the live stream', () => {
  it('a tick replaces the seconds it carries again, keeps the others, and drops what left the window', () => {
    const snapshot = mergeLiveEvent(undefined, {
      ...event('snapshot', T0, [point(T0 - 61_000, 9), point(T0 - 2000, 5), point(T0 - 1000, 3)]),
      sales: [{ ...sale(0, 10), units: [{ t: T0 - 60_000, sold: 0, left: 10 }] }],
    });
    expect(snapshot.traffic.map((p) => p.attempts)).toEqual([5, 3]);
    // A slower process completed the last second since: its point is replaced, not added.
    const next = mergeLiveEvent(
      snapshot,
      event('tick', T0 + 1000, [point(T0 - 1000, 8), point(T0, 4)], sale(2, 8)),
    );
    expect(next.traffic.map((p) => [p.t - T0, p.attempts])).toEqual([
      [-2000, 5],
      [-1000, 8],
      [0, 4],
    ]);
    expect(next.sales[0]!.units.map((u) => [u.sold, u.left])).toEqual([
      [0, 10],
      [2, 8],
    ]);
    // Nothing moved: no new units point.
    const same = mergeLiveEvent(next, event('tick', T0 + 2000, [], sale(2, 8)));
    expect(same.sales[0]!.units).toHaveLength(2);
  });

  it('spans every second of the chosen window', () => {
    const state = mergeLiveEvent(undefined, event('snapshot', T0 + 400, []));
    const xs = secondsOf(state, 10);
    expect(xs).toHaveLength(11);
    // Up to the last complete second: the last two may still be written.
    expect(xs.at(-1)).toBe(T0 - 2000);
    expect(secondsOf(state, 600)).toHaveLength(61);
  });
});
