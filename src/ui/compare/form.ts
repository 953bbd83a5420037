/**
 * ui/compare/form.ts: the compare page's form read into a sweep (schedulers, seeds, connections),
 * a report's sweep written back into the form's words, and the note on how many connections
 * arrived. No DOM: the page and the tests share these.
 */
import { SCHEDULER_NAMES } from '../../ipvs/schedulers';
import { suggest } from '../../config/scenario';
import type { SeedRange, Sweep } from '../../workload/sweep';

/** Seeds one page run may have: every run is held in the tab's memory. */
export const MAX_SEEDS = 64;
export const MIN_CONNECTIONS = 100;

export interface FormValues {
  readonly schedulers: string[];
  /** The seeds of the runs; `count` seeds from the workload's seed when the form gave a count. */
  readonly seeds: SeedRange;
  readonly connections: number;
}

/**
 * The form's values, or what is wrong with them in the user's words. Seeds are written as the
 * CLI's --seeds takes them: N (N seeds from the workload's seed `base`) or A..B.
 */
export function readForm(schedText: string, seedsText: string, connText: string, base: number): FormValues | { error: string } {
  const schedulers = schedText.split(',').map(s => s.trim()).filter(Boolean);
  if (!schedulers.length) return { error: `schedulers: found nothing, expected a comma-separated list such as rr,wlc (${SCHEDULER_NAMES.join(', ')})` };
  for (const s of schedulers) {
    if (!SCHEDULER_NAMES.includes(s)) return { error: `schedulers: found '${s}', expected one of ${SCHEDULER_NAMES.join(', ')}${suggest(s, SCHEDULER_NAMES)}. Nothing was run.` };
  }
  const dup = schedulers.find((s, i) => schedulers.indexOf(s) !== i);
  if (dup) return { error: `schedulers: '${dup}' is listed twice. Nothing was run.` };
  const st = seedsText.trim();
  const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(st);
  let seeds: SeedRange;
  if (range) {
    const first = Number(range[1]), last = Number(range[2]);
    if (first > 2 ** 32 - 1 || last > 2 ** 32 - 1) return { error: `seeds: found '${seedsText}', a seed is at most 4294967295. Nothing was run.` };
    if (last < first) return { error: `seeds: found '${seedsText}': the last seed is before the first. Nothing was run.` };
    if (last - first + 1 > MAX_SEEDS) return { error: `seeds: found '${seedsText}', ${last - first + 1} seeds; this page runs at most ${MAX_SEEDS} (lvsim compare --seeds ${first}..${last} runs them all). Nothing was run.` };
    seeds = { first, last };
  } else if (/^\d+$/.test(st) && Number(st) >= 1 && Number(st) <= MAX_SEEDS) {
    seeds = { first: base, last: base + Number(st) - 1 };
  } else {
    return { error: `seeds: found '${seedsText}', expected a number of seeds from 1 to ${MAX_SEEDS} (from the workload's seed ${base}) or a range such as 3..5. Nothing was run.` };
  }
  if (!/^\d+$/.test(connText.trim()) || Number(connText) < MIN_CONNECTIONS) return { error: `connections: found '${connText}', expected a whole number of at least ${MIN_CONNECTIONS}. Nothing was run.` };
  return { schedulers, seeds, connections: Number(connText) };
}

/** A report's sweep in the form's words; `connections` is the workload's own count when the sweep left it to the scenario. */
export function formOfSweep(sweep: Sweep, workloadConnections: number): { schedulers: string; seeds: string; connections: string } {
  return {
    schedulers: sweep.schedulers.join(','),
    seeds: `${sweep.seeds.first}..${sweep.seeds.last}`,
    connections: String(sweep.connections ?? workloadConnections),
  };
}

/** The workload's limits the arrivals note explains. */
export interface ArrivalLimits {
  readonly file: string;
  readonly durationS: number;
  /** Poisson arrivals' rate, connections per second (null for other processes). */
  readonly rate: number | null;
}

/**
 * Why fewer connections than asked for arrived, in the figures the table prints: the table's
 * conns column is the mean per run (rounded as the table rounds it), so the note gives the
 * same mean, and the range over the runs when they differ. Empty when every run got them all.
 */
export function arrivalNote(asked: number, arrived: readonly number[], limits: ArrivalLimits): string {
  if (!arrived.length) return '';
  const lo = Math.min(...arrived), hi = Math.max(...arrived);
  if (lo >= asked) return '';
  const mean = (arrived.reduce((a, b) => a + b, 0) / arrived.length).toFixed(0);
  const got = lo === hi
    ? `${lo} arrived${arrived.length > 1 ? ` in each of the ${arrived.length} runs` : ''}`
    : `between ${lo} and ${hi} arrived per run (mean ${mean}, the table's conns)`;
  const rate = limits.rate !== null ? ` at ${limits.rate} connections per second` : '';
  return `Asked for ${asked} connections; ${got}: arrivals stop at the workload's duration (${limits.durationS} s${rate}, workload: duration in ${limits.file}) or at the connection count, whichever comes first.`;
}
