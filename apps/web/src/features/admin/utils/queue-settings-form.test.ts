import { describe, expect, it } from 'vitest';
import { makeQueueView } from '@/testing/fixtures';
import {
  DEFAULT_QUEUE_SETTINGS,
  QUEUE_FIELD_MESSAGES,
  formatSeconds,
  parseQueueForm,
  settingsOf,
  toQueueFormState,
} from './queue-settings-form';

const form = (overrides: Partial<ReturnType<typeof toQueueFormState>> = {}) => ({
  ...toQueueFormState(DEFAULT_QUEUE_SETTINGS),
  ...overrides,
});

describe('parseQueueForm', () => {
  it('turns what was typed into the settings body, keeping the live pause', () => {
    const result = parseQueueForm(
      form({
        enabled: true,
        opensBeforeSeconds: ' 600 ',
        admitPerMinute: '120',
        maxActive: '',
        inventoryFactor: '1.5',
        passTtlSeconds: '240',
      }),
      true,
    );
    expect(result).toEqual({
      ok: true,
      input: {
        enabled: true,
        opens_before_seconds: 600,
        admit_per_minute: 120,
        max_active: null,
        inventory_factor: 1.5,
        pass_ttl_seconds: 240,
        paused: true,
      },
    });
  });

  it('names every field that is out of range or not a number, in words', () => {
    const result = parseQueueForm(
      form({
        opensBeforeSeconds: '700000',
        admitPerMinute: '0',
        maxActive: '2.5',
        inventoryFactor: '0.5',
        passTtlSeconds: 'ten',
      }),
      false,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual({
      opens_before_seconds: QUEUE_FIELD_MESSAGES.opens_before_seconds,
      admit_per_minute: QUEUE_FIELD_MESSAGES.admit_per_minute,
      max_active: QUEUE_FIELD_MESSAGES.max_active,
      inventory_factor: QUEUE_FIELD_MESSAGES.inventory_factor,
      pass_ttl_seconds: QUEUE_FIELD_MESSAGES.pass_ttl_seconds,
    });
  });

  it('accepts the bounds themselves', () => {
    const low = parseQueueForm(
      form({
        opensBeforeSeconds: '0',
        admitPerMinute: '1',
        maxActive: '1',
        inventoryFactor: '1',
        passTtlSeconds: '30',
      }),
      false,
    );
    const high = parseQueueForm(
      form({
        opensBeforeSeconds: '604800',
        admitPerMinute: '1000000',
        maxActive: '1000000',
        inventoryFactor: '10',
        passTtlSeconds: '3600',
      }),
      false,
    );
    expect(low.ok && high.ok).toBe(true);
  });

  it('round-trips a view: its settings, as the form shows them, parse back to the same', () => {
    const view = makeQueueView({ max_active: 25, inventory_factor: 2, paused: true });
    expect(parseQueueForm(toQueueFormState(settingsOf(view)), view.paused)).toEqual({
      ok: true,
      input: settingsOf(view),
    });
  });
});

describe('formatSeconds', () => {
  it('reads like a duration', () => {
    expect(formatSeconds(45)).toBe('45 s');
    expect(formatSeconds(900)).toBe('15 min');
    expect(formatSeconds(5_430)).toBe('1 h 30 min 30 s');
    expect(formatSeconds(604_800)).toBe('7 d');
  });
});
