import { describe, expect, it } from 'vitest';
import { formatWait, placeForSpeech } from './queue-words';

describe('formatWait', () => {
  it('is coarse: an estimate, not a promise to the second', () => {
    expect(formatWait(20)).toBe('less than a minute');
    expect(formatWait(90)).toBe('about 2 minutes');
    expect(formatWait(61)).toBe('about 1 minute');
    expect(formatWait(3_600)).toBe('about 1 hour');
    expect(formatWait(5_400)).toBe('about 1 hour 30 min');
  });
});

describe('placeForSpeech', () => {
  it('is exact near the front and rounded further back, so it speaks only on real change', () => {
    expect(placeForSpeech(1, 0)).toBe('You are next in line.');
    expect(placeForSpeech(2, 1)).toBe('You are number 2 in line, 1 person ahead of you.');
    expect(placeForSpeech(11, 10)).toBe('You are number 11 in line, 10 people ahead of you.');
    expect(placeForSpeech(35, 34)).toBe(placeForSpeech(38, 37));
    expect(placeForSpeech(35, 34)).toBe('You are in line, at most 40 people ahead of you.');
    expect(placeForSpeech(4_321, 4_320)).toBe(
      'You are in line, at most 5,000 people ahead of you.',
    );
    // Without `ahead`, the place says it.
    expect(placeForSpeech(3, null)).toContain('2 people ahead');
  });
});
