import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useServerClockStore } from '@/store/server-clock-store';
import { Countdown } from './countdown';

const DEVICE_NOW = Date.parse('2030-01-01T12:00:00.000Z');

/** The device believes it is DEVICE_NOW; the server answered with `serverNow` on a zero-time trip. */
function serverSays(serverNow: string) {
  useServerClockStore.getState().observe({ serverNow, sentAt: Date.now(), receivedAt: Date.now() });
}

describe('Countdown', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(DEVICE_NOW);
    useServerClockStore.getState().reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts down on the server clock, not the device clock', () => {
    // The device is five minutes slow: the server already reads 12:05.
    serverSays('2030-01-01T12:05:00.000Z');
    const target = Date.parse('2030-01-01T12:05:10.000Z');
    render(<Countdown target={target} label="Sale starts in" />);
    // On the device clock this would read 05:10.
    expect(screen.getByRole('timer')).toHaveTextContent('00:10');
  });

  it('ticks every second and stops at zero', () => {
    serverSays('2030-01-01T12:00:00.000Z');
    render(<Countdown target={DEVICE_NOW + 3_000} label="Sale starts in" />);
    const timer = screen.getByRole('timer');
    expect(timer).toHaveTextContent('00:03');
    act(() => {
      vi.advanceTimersByTime(1_010);
    });
    expect(timer).toHaveTextContent('00:02');
    act(() => {
      vi.advanceTimersByTime(2_000);
    });
    expect(timer).toHaveTextContent('00:00');
    act(() => {
      vi.advanceTimersByTime(5_000);
    });
    expect(timer).toHaveTextContent('00:00');
  });

  it('turns on the real second even when the target is not on a whole second', () => {
    vi.setSystemTime(DEVICE_NOW + 600);
    serverSays(new Date(DEVICE_NOW + 600).toISOString());
    render(<Countdown target={DEVICE_NOW + 10_600} label="Sale starts in" />);
    const timer = screen.getByRole('timer');
    expect(timer).toHaveTextContent('00:10');
    act(() => {
      vi.advanceTimersByTime(900);
    });
    expect(timer).toHaveTextContent('00:10');
    act(() => {
      vi.advanceTimersByTime(200);
    });
    expect(timer).toHaveTextContent('00:09');
  });

  it('follows a new offset when the server clock is observed again', () => {
    serverSays('2030-01-01T12:00:00.000Z');
    render(<Countdown target={DEVICE_NOW + 60_000} label="Sale starts in" />);
    expect(screen.getByRole('timer')).toHaveTextContent('01:00');
    // A later answer shows the server is 30 s ahead of what we thought.
    act(() => serverSays('2030-01-01T12:00:30.000Z'));
    expect(screen.getByRole('timer')).toHaveTextContent('00:30');
  });

  it('shows days and hours for far targets', () => {
    serverSays('2030-01-01T12:00:00.000Z');
    render(<Countdown target={DEVICE_NOW + 26 * 3_600_000 + 61_000} label="Sale starts in" />);
    expect(screen.getByRole('timer')).toHaveTextContent('1d 02:01:01');
  });

  it('does not announce every tick: live region off, spoken label changes once a minute', () => {
    serverSays('2030-01-01T12:00:00.000Z');
    render(<Countdown target={DEVICE_NOW + 5 * 60_000} label="Sale starts in" />);
    const timer = screen.getByRole('timer');
    expect(timer).toHaveAttribute('aria-live', 'off');
    expect(timer).toHaveAccessibleName('Sale starts in 5 minutes');
    // The ticking digits are hidden from assistive technology.
    expect(timer.querySelector('[aria-hidden="true"]')).toHaveTextContent('05:00');

    act(() => {
      vi.advanceTimersByTime(10_000);
    });
    expect(timer).toHaveTextContent('04:50');
    expect(timer).toHaveAccessibleName('Sale starts in 5 minutes');

    act(() => {
      vi.advanceTimersByTime(60_000);
    });
    expect(timer).toHaveAccessibleName('Sale starts in 4 minutes');

    act(() => {
      vi.advanceTimersByTime(4 * 60_000);
    });
    expect(timer).toHaveAccessibleName('Sale starts in now');
  });
});
