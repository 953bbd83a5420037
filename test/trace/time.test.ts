/**
 * trace/time.ts: one unit per view, chosen from the span it shows, with exact integer-ns
 * formatting (no float rounding at any magnitude a run reaches).
 */
import { describe, expect, it } from 'vitest';
import { MICROSECONDS, MILLISECONDS, SECONDS, formatTime, timeUnitFor } from '../../src/trace/time';

describe('timeUnitFor', () => {
  it('µs under 1 ms, ms under 1 s, s from 1 s', () => {
    expect(timeUnitFor(0)).toBe(MICROSECONDS);
    expect(timeUnitFor(999_999)).toBe(MICROSECONDS);
    expect(timeUnitFor(1_000_000)).toBe(MILLISECONDS);
    expect(timeUnitFor(12_500_000)).toBe(MILLISECONDS);
    expect(timeUnitFor(999_999_999)).toBe(MILLISECONDS);
    expect(timeUnitFor(1_000_000_000)).toBe(SECONDS);
    expect(timeUnitFor(190_001_300_000)).toBe(SECONDS);
  });
});

describe('formatTime', () => {
  it('writes every time of a view in its one unit', () => {
    expect(formatTime(8_900_000, MILLISECONDS)).toBe('8.900');
    expect(formatTime(1_007_600_000, MILLISECONDS)).toBe('1007.600');
    expect(formatTime(8_900_000, SECONDS)).toBe('0.008900');
    expect(formatTime(1_007_600_000, SECONDS)).toBe('1.007600');
    expect(formatTime(200_123, MICROSECONDS)).toBe('200.123');
    expect(formatTime(0, SECONDS)).toBe('0.000000');
  });

  it('truncates below the unit\'s resolution rather than rounding up into the next row\'s time', () => {
    expect(formatTime(1_999_999, MILLISECONDS)).toBe('1.999');
    expect(formatTime(999_999_999, SECONDS)).toBe('0.999999');
  });

  it('is exact for long runs (an hour, a day of virtual time)', () => {
    expect(formatTime(3_600_000_000_001, SECONDS)).toBe('3600.000000');
    expect(formatTime(86_400_123_456_789, SECONDS)).toBe('86400.123456');
    expect(formatTime(86_400_123_456_789, MILLISECONDS)).toBe('86400123.456');
  });
});
