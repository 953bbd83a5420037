/**
 * trace/time.ts: how a view writes virtual times. A view picks one unit for all its rows from
 * the length of what it shows (a run of 9 ms reads in ms, a run of 2 s in s), so a column never
 * switches from "8900.0 µs" to "1.007600 s" halfway down. Times are integer nanoseconds; every
 * unit keeps at least microsecond resolution, and nanoseconds where the span is under 1 ms.
 * Pure: the CLI and the browser both use it.
 */

export interface TimeUnit {
  /** The unit's symbol, for a column header ("time (ms)"). */
  readonly symbol: 's' | 'ms' | 'µs';
  /** Nanoseconds per unit. */
  readonly ns: number;
  /** Decimals written (down to 1 µs for s and ms, 1 ns for µs). */
  readonly decimals: number;
}

export const SECONDS: TimeUnit = { symbol: 's', ns: 1e9, decimals: 6 };
export const MILLISECONDS: TimeUnit = { symbol: 'ms', ns: 1e6, decimals: 3 };
export const MICROSECONDS: TimeUnit = { symbol: 'µs', ns: 1e3, decimals: 3 };

/** The unit for a view whose latest time is `spanNs`: µs under 1 ms, ms under 1 s, else s. */
export function timeUnitFor(spanNs: number): TimeUnit {
  if (spanNs < 1e6) return MICROSECONDS;
  if (spanNs < 1e9) return MILLISECONDS;
  return SECONDS;
}

/** `ns` in `unit`, without the symbol ("8.900" in ms). Exact: integer arithmetic, no float rounding. */
export function formatTime(ns: number, unit: TimeUnit): string {
  const t = Math.round(ns);
  const sign = t < 0 ? '-' : '';
  const a = Math.abs(t);
  const whole = Math.floor(a / unit.ns);
  const step = unit.ns / 10 ** unit.decimals;
  const frac = Math.floor((a % unit.ns) / step);
  return `${sign}${whole}.${String(frac).padStart(unit.decimals, '0')}`;
}
