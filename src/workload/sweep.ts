/**
 * workload/sweep.ts: a scheduler sweep (every scheduler asked for, every seed of a range, on one
 * scenario's workload) split into shards that run anywhere, and merged back into exactly the
 * report one run of the whole sweep gives. A shard is a contiguous share of the seed range
 * (sizes differ by at most one); its part file records the lvsim version, the scenario's
 * SHA-256, the sweep and the shard's seeds, so merge can refuse parts that do not belong
 * together. Runs are kept in sweep order (seed, then scheduler as asked), so the merged
 * aggregates are computed over the same numbers in the same order: equal bit for bit.
 * Nothing here reads a clock: wall times go to progress, never into a part or a report.
 * Pure core: no DOM, no Node APIs.
 */
import { z } from '../config/schema';
import type { CompareJob } from './compare';
import type { Mode, RunResult } from './metrics';

export const PART_FORMAT = 'lvsim-compare-part/1';
export const REPORT_FORMAT = 'lvsim-compare-report/1';

export interface SeedRange { readonly first: number; readonly last: number }

/** What one sweep is: the same in every part of it. */
export interface Sweep {
  readonly lvsim: string;
  readonly scenario: { readonly file: string; readonly name: string; readonly sha256: string };
  readonly mode: Mode;
  /** The --connections override, or null for the workload's own. */
  readonly connections: number | null;
  readonly schedulers: readonly string[];
  readonly seeds: SeedRange;
}

export interface Shard { readonly index: number; readonly count: number; readonly seeds: SeedRange }

/** A run as parts and reports keep it: everything but the wall time, which differs every time. */
export type SweepRun = Omit<RunResult, 'wallMs'>;

export interface Part extends Sweep {
  readonly format: typeof PART_FORMAT;
  readonly shard: Shard;
  readonly runs: SweepRun[];
}

/** A sweep definition the user cannot run: said in words, exit 2 at the CLI. */
export class SweepError extends Error {}

export const seedCount = (r: SeedRange): number => r.last - r.first + 1;

/** The seeds of shard `index` (1-based) of `count`: contiguous, sizes differ by at most one. */
export function shardSeeds(seeds: SeedRange, index: number, count: number): SeedRange {
  const n = seedCount(seeds);
  if (!Number.isInteger(count) || count < 1) throw new SweepError(`the number of shards must be 1 or more, got ${count}`);
  if (!Number.isInteger(index) || index < 1 || index > count) throw new SweepError(`shard ${index}/${count}: shards are numbered 1 to ${count}`);
  if (count > n) throw new SweepError(`${count} shards of ${n} seed(s) would leave shards empty: use at most ${n} shard(s), or more seeds`);
  const base = Math.floor(n / count);
  const extra = n % count;
  const first = seeds.first + (index - 1) * base + Math.min(index - 1, extra);
  return { first, last: first + base + (index <= extra ? 1 : 0) - 1 };
}

/** The jobs of a range of seeds, in sweep order: seed by seed, each scheduler in the order asked. */
export function sweepJobs(sweep: Sweep, seeds: SeedRange, text: string): CompareJob[] {
  const jobs: CompareJob[] = [];
  for (let seed = seeds.first; seed <= seeds.last; seed++) {
    for (const scheduler of sweep.schedulers) {
      jobs.push({ text, file: sweep.scenario.file, scheduler, mode: sweep.mode, seed, connections: sweep.connections ?? undefined });
    }
  }
  return jobs;
}

/** A run without its wall time. */
export function sweepRun(r: RunResult): SweepRun {
  const { wallMs: _wall, ...rest } = r;
  return rest;
}

export function makePart(sweep: Sweep, shard: Shard, runs: readonly RunResult[]): Part {
  return { format: PART_FORMAT, ...sweep, shard, runs: runs.map(sweepRun) };
}

// No generated parser code: zod's JIT probes `new Function`, which a strict Content-Security-Policy
// (the browser pages', no 'unsafe-eval') reports as a violation even when the probe is caught.
// Set before any schema is built, since the probe runs when an object schema is made.
z.config({ jitless: true });

// The part file's shape, checked field by field so a damaged or foreign file is named by its
// JSON path (runs[3].dests) rather than failing somewhere inside the merge.
const num = z.number();
const int = z.number().int().nonnegative();
const seedsSchema = z.object({ first: int, last: int }).strict().refine(s => s.last >= s.first, 'last seed before first');
const imbalanceSchema = z.object({ maxMean: num, cv: num, jain: num }).strict();
/** One run as parts and reports hold it. */
export const runSchema = z.object({
  scenario: z.string(), mode: z.enum(['flow', 'packet']), scheduler: z.string(), seed: int,
  connections: int, scheduled: int, refused: int, failed: int,
  dests: z.array(z.object({ key: z.string(), name: z.string(), conns: int, bytes: num, weight: num }).strict()),
  t: z.array(num),
  series: z.array(z.object({ key: z.string(), name: z.string(), newConns: z.array(num), active: z.array(num), inact: z.array(num), open: z.array(num), weight: z.array(num) }).strict()),
  load: imbalanceSchema, share: imbalanceSchema,
  // Percentiles of an empty sample are NaN, which JSON writes as null.
  latency: z.object({ count: int, p50: num.nullable(), p90: num.nullable(), p99: num.nullable(), max: num.nullable(), mean: num, samplesMs: z.array(num) }).strict().nullable(),
  simSeconds: num, events: int, peakTable: int,
}).strict();
/** What every part and report says about its sweep. */
export const sweepShape = {
  lvsim: z.string(),
  scenario: z.object({ file: z.string(), name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  mode: z.enum(['flow', 'packet']),
  connections: int.nullable(),
  schedulers: z.array(z.string()).min(1),
  seeds: seedsSchema,
};
const partSchema = z.object({
  format: z.literal(PART_FORMAT),
  ...sweepShape,
  shard: z.object({ index: int, count: int, seeds: seedsSchema }).strict(),
  runs: z.array(runSchema),
}).strict();

export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : `${s ? '.' : ''}${String(k)}`;
  return s || '(the top level)';
}

/** JSON.parse, its error said with the file's name (a part, a report). */
export function parseJsonFile(textOf: string, file: string): unknown {
  try {
    return JSON.parse(textOf);
  } catch (e) {
    throw new SweepError(`${file}: not JSON (${(e as Error).message})`);
  }
}

/**
 * Read a part file's JSON text. Throws SweepError naming the file and the JSON path of the
 * first problem, or saying the file is not a compare part at all.
 */
export function parsePart(textOf: string, file: string): Part {
  const v = parseJsonFile(textOf, file);
  const fmt = (v as { format?: unknown } | null)?.format;
  if (typeof v !== 'object' || v === null || fmt !== PART_FORMAT) {
    throw new SweepError(`${file}: not a part of a compare sweep (expected "format": "${PART_FORMAT}", as written by lvsim compare --out${typeof fmt === 'string' ? `; found "${fmt}"` : ''})`);
  }
  const r = partSchema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SweepError(`${file}: ${jsonPath(issue.path)}: ${issue.message}`);
  }
  // The file's own objects, not the schema's copy: key order stays as written, so the merged
  // report's JSON is the same text as the unsplit sweep's.
  return v as Part;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The parts of one sweep, in shard order, checked to belong together: same lvsim version,
 * scenario (by SHA-256), mode, connections, schedulers, seed range and shard count; every
 * shard exactly once; each holding the seeds and runs its shard should. Returns the sweep and
 * its runs in the order one unsplit run gives them.
 */
export function mergeParts(parts: ReadonlyArray<{ file: string; part: Part }>): { sweep: Sweep; runs: SweepRun[] } {
  if (!parts.length) throw new SweepError('no parts to merge');
  const first = parts[0]!;
  const p0 = first.part;
  const checks: Array<[string, (p: Part) => unknown, string]> = [
    ['lvsim version', p => p.lvsim, 'parts made by different lvsim versions may differ; run every shard with one version'],
    ['scenario SHA-256', p => p.scenario.sha256, 'parts of different scenario files (or of different versions of one file)'],
    ['mode', p => p.mode, 'parts of sweeps in different modes'],
    ['connections', p => p.connections, 'parts of sweeps with different --connections'],
    ['schedulers', p => p.schedulers.join(','), 'parts of sweeps over different schedulers'],
    ['seed range', p => `${p.seeds.first}..${p.seeds.last}`, 'parts of sweeps over different seeds'],
    ['shard count', p => p.shard.count, 'parts of sweeps split a different number of ways'],
  ];
  for (const { file, part } of parts.slice(1)) {
    for (const [what, get, why] of checks) {
      if (!same(get(part), get(p0))) throw new SweepError(`${file}: ${what} ${String(get(part))} differs from ${first.file}'s ${String(get(p0))} (${why})`);
    }
  }
  const count = p0.shard.count;
  const byIndex = new Map<number, { file: string; part: Part }>();
  for (const x of parts) {
    const { index } = x.part.shard;
    if (index < 1 || index > count) throw new SweepError(`${x.file}: shard ${index}/${count} is not one of 1..${count}`);
    const dup = byIndex.get(index);
    if (dup) throw new SweepError(`${dup.file} and ${x.file} are both shard ${index}/${count}`);
    byIndex.set(index, x);
  }
  const missing: number[] = [];
  for (let i = 1; i <= count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length) throw new SweepError(`shard${missing.length > 1 ? 's' : ''} ${missing.map(i => `${i}/${count}`).join(', ')} missing (have ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')})`);
  const runs: SweepRun[] = [];
  for (let i = 1; i <= count; i++) {
    const { file, part } = byIndex.get(i)!;
    let want: SeedRange;
    try {
      want = shardSeeds(part.seeds, i, count);
    } catch (e) {
      throw new SweepError(`${file}: ${(e as Error).message}`);
    }
    if (!same(part.shard.seeds, want)) throw new SweepError(`${file}: shard ${i}/${count} of seeds ${part.seeds.first}..${part.seeds.last} holds seeds ${want.first}..${want.last}, the file says ${part.shard.seeds.first}..${part.shard.seeds.last}`);
    const expected = seedCount(want) * part.schedulers.length;
    if (part.runs.length !== expected) throw new SweepError(`${file}: ${part.runs.length} runs, expected ${expected} (${seedCount(want)} seed(s) x ${part.schedulers.length} scheduler(s)); the part is incomplete`);
    let k = 0;
    for (let seed = want.first; seed <= want.last; seed++) {
      for (const s of part.schedulers) {
        const r = part.runs[k]!;
        if (r.seed !== seed || r.scheduler !== s || r.mode !== part.mode) throw new SweepError(`${file}: runs[${k}] is ${r.scheduler} seed ${r.seed} (${r.mode}), expected ${s} seed ${seed} (${part.mode})`);
        runs.push(r);
        k++;
      }
    }
  }
  const { format: _f, shard: _s, runs: _r, ...sweep } = p0;
  return { sweep, runs };
}
