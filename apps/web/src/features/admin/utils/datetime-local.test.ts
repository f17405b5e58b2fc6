import { describe, expect, it } from 'vitest';
import { fromDateTimeLocal, parsePriceToCents, toDateTimeLocal } from './datetime-local';

describe('admin form conversions', () => {
  it('reads prices exactly, without floating point drift', () => {
    expect(parsePriceToCents('19.99')).toBe(1999);
    expect(parsePriceToCents('0.1')).toBe(10);
    expect(parsePriceToCents('1,299.50')).toBe(129950);
    expect(parsePriceToCents('12')).toBe(1200);
    expect(parsePriceToCents('1.999')).toBeNull();
    expect(parsePriceToCents('-1')).toBeNull();
    expect(parsePriceToCents('abc')).toBeNull();
  });

  it('round-trips a sale time through the datetime-local input', () => {
    const iso = '2030-05-01T13:45:30.000Z';
    expect(fromDateTimeLocal(toDateTimeLocal(iso))).toBe(iso);
    expect(fromDateTimeLocal('')).toBeNull();
    expect(fromDateTimeLocal('not a date')).toBeNull();
  });
});
