/**
 * cli/compare.ts: `lvsim compare`: the same workload under several schedulers, a table of how
 * they spread the load, and the per-connection diff. Seeds and schedulers run in parallel on
 * worker threads (one per core), with progress on stderr. A sweep can be split into shards
 * (--shard I/N --out part.json) that run on other machines; `lvsim merge` (cli/merge.ts) joins
 * them into the report of the whole sweep (workload/sweep.ts, workload/report.ts).
 *
 *   lvsim compare <scenario> [--schedulers rr,wlc,...] [--seeds N|A..B] [--seed S] [--mode flow|packet]
 *                 [--connections N] [--json|--csv|--html] [--out FILE] [--shard I/N] [--export DIR]
 *   lvsim compare <scenario> --diff wlc,sed [--conn N] [--seed S]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SCHEDULER_NAMES } from '../ipvs/schedulers/index';
import { diffSchedulers, runJob, type CompareJob } from '../workload/compare';
import { seriesCsv, summaryCsv, type Mode, type RunResult } from '../workload/metrics';
import { parseWorkload } from '../workload/spec';
import { parseScenario } from '../config/scenario';
import { formatDiagnostic } from '../config/diag';
import { makePart, shardSeeds, SweepError, sweepJobs, sweepRun, type SeedRange, type Shard, type Sweep } from '../workload/sweep';
import { renderReport, type ReportFormat } from '../workload/report';
import { SEED, SWITCH, UsageError, count, get, integer, oneOf, parseCommand, text, type CommandSpec, type Opt } from './args';
import { FileError, checkOutput, reason, readInput, writeOutput } from './io';
import { LVSIM_VERSION } from './version';

export const COMPARE_USAGE = `usage: lvsim compare <scenario.yaml> [--schedulers rr,wrr,lc,wlc,sed,nq,sh,mh,...] [--seeds N | --seeds A..B] [--seed S]
                     [--mode flow|packet] [--connections N] [--json | --csv | --html] [--jobs N]
                     [--out FILE] [--shard I/N] [--export DIR] [--progress bar|json|none]
       lvsim compare <scenario.yaml> --diff A,B [--conn N] [--seed S] [--json]

  --seeds N      N seeds from --seed (default: the workload's seed); --seeds A..B: seeds A to B
  --out FILE     also write every run as JSON, the file lvsim merge reads
  --shard I/N    run only the I-th of N equal shares of the seeds (I from 1 to N) and write
                 them to --out for lvsim merge; nothing is printed on stdout
  --export DIR   write DIR/series.csv (every sample) and DIR/summary.csv (one row per run)
  --progress     bar (on a terminal), json (one line per finished run, for batch logs), none
`;

const DEFAULT_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'sh', 'mh', 'twos'];
/** Seeds per sweep: enough for any honest comparison, few enough that the job list fits in memory. */
const MAX_SEEDS = 1_000_000;

function schedulerList(raw: string, flag: string): string[] {
  const list = raw.split(',').map(x => x.trim()).filter(Boolean);
  for (const x of list) if (!SCHEDULER_NAMES.includes(x)) throw new UsageError(`${flag}: unknown scheduler '${x}' (the kernel's: ${SCHEDULER_NAMES.join(', ')})`);
  if (!list.length) throw new UsageError(`${flag} needs a comma-separated list of schedulers, such as rr,wlc`);
  if (new Set(list).size !== list.length) throw new UsageError(`${flag}: a scheduler is named twice in '${raw}'`);
  return list;
}

const SCHEDULERS: Opt<string[]> = { value: 'LIST', parse: schedulerList };

/** --seeds N (a count) or A..B (a range of seeds in decimal digits). */
const SEEDS: Opt<number | SeedRange> = {
  value: 'N|A..B',
  parse: (raw, flag) => {
    const m = /^(\d+)\.\.(\d+)$/.exec(raw);
    if (!m) return integer(1, MAX_SEEDS).parse!(raw, flag) as number;
    const first = SEED.parse!(m[1]!, `${flag} (first seed)`) as number;
    const last = SEED.parse!(m[2]!, `${flag} (last seed)`) as number;
    if (last < first) throw new UsageError(`${flag} ${raw}: the last seed is before the first`);
    if (last - first + 1 > MAX_SEEDS) throw new UsageError(`${flag} ${raw}: ${last - first + 1} seeds, at most ${MAX_SEEDS} in one sweep`);
    return { first, last };
  },
};

const SHARD: Opt<{ index: number; count: number }> = {
  value: 'I/N',
  parse: (raw, flag) => {
    const m = /^(\d+)\/(\d+)$/.exec(raw);
    if (!m) throw new UsageError(`${flag} must be I/N, the I-th of N shares counting from 1 (such as 3/7), got '${raw}'`);
    const index = Number(m[1]), n = Number(m[2]);
    if (n < 1 || n > MAX_SEEDS) throw new UsageError(`${flag} ${raw}: the number of shards must be from 1 to ${MAX_SEEDS}`);
    if (index < 1 || index > n) throw new UsageError(`${flag} ${raw}: shards are numbered 1 to ${n}${index === 0 ? ' (a 0-based index such as Kubernetes JOB_COMPLETION_INDEX: use $((JOB_COMPLETION_INDEX + 1)))' : ''}`);
    return { index, count: n };
  },
};

const DIFF: Opt<[string, string]> = {
  value: 'A,B',
  parse: (raw, flag) => {
    const l = schedulerList(raw, flag);
    if (l.length !== 2) throw new UsageError(`${flag} needs exactly two schedulers, e.g. --diff wlc,sed`);
    return [l[0]!, l[1]!];
  },
};

const COMPARE: CommandSpec = {
  name: 'compare', usage: COMPARE_USAGE, positional: { min: 1, max: 1, what: 'scenario file' },
  options: {
    schedulers: SCHEDULERS, seeds: SEEDS, seed: SEED, mode: oneOf('flow', 'packet'), connections: count(1, 1e8, '1e8'),
    json: SWITCH, csv: SWITCH, html: SWITCH, out: text('FILE'), shard: SHARD, export: text('DIR'), jobs: integer(1, 1024),
    progress: oneOf('bar', 'json', 'none'), diff: DIFF, conn: integer(0, 1e9, '1000000000'),
  },
};

/** The one report format the switches ask for (they exclude each other). */
export function reportFormat(values: Map<string, unknown>): ReportFormat {
  const asked = (['json', 'csv', 'html'] as const).filter(f => values.has(f));
  if (asked.length > 1) throw new UsageError(`${asked.map(f => `--${f}`).join(' and ')} exclude each other: one report format`);
  return asked[0] ?? 'text';
}

/** SHA-256 of the scenario's text: what merge compares to know parts ran the same file. */
export function scenarioSha256(textOf: string): string {
  return createHash('sha256').update(textOf, 'utf8').digest('hex');
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal; `json`, one JSON object per line
 * (start, each finished run, end) for a batch runner's log; `none`. Wall times live here only.
 */
class Progress {
  private last = -1;
  private done = 0;
  private readonly t0 = performance.now();
  constructor(private readonly total: number, private readonly kind: 'bar' | 'json' | 'none', private readonly tty: boolean, private readonly info: Record<string, unknown>) {
    if (kind === 'json') this.line({ event: 'start', ...info, runs: total });
  }
  private line(o: Record<string, unknown>): void {
    process.stderr.write(JSON.stringify(o) + '\n');
  }
  private elapsed(): number {
    return Math.round(performance.now() - this.t0) / 1000;
  }
  /** Fractional progress while runs are under way (bar only). */
  partial(done: number): void {
    if (this.kind !== 'bar' || !this.tty) return;
    const f = Math.min(1, done / this.total);
    const pct = Math.floor(f * 100);
    if (pct === this.last) return;
    this.last = pct;
    const w = 30;
    const n = Math.round(f * w);
    process.stderr.write(`\r[${'#'.repeat(n)}${'.'.repeat(w - n)}] ${String(pct).padStart(3)}% ${Math.floor(done)}/${this.total} runs`);
  }
  finished(r: RunResult): void {
    this.done++;
    if (this.kind === 'json') this.line({ event: 'run', done: this.done, runs: this.total, scheduler: r.scheduler, seed: r.seed, connections: r.connections, wall_ms: Math.round(r.wallMs * 10) / 10, elapsed_s: this.elapsed() });
  }
  end(extra: Record<string, unknown> = {}): void {
    const s = this.elapsed();
    if (this.kind === 'json') this.line({ event: 'end', runs: this.total, elapsed_s: s, ...extra });
    else if (this.kind === 'bar') {
      if (this.tty) this.partial(this.total);
      process.stderr.write(`${this.tty ? '\n' : ''}compare: ${this.total} runs in ${s.toFixed(1)} s wall\n`);
    }
  }
}

/** How to start a worker: the .ts source through tsx, or the bundled worker next to the CLI bundle. */
function workerEntry(): { spawn: () => Worker } | null {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // From the sources: register tsx inside the worker, then load the TypeScript worker module.
    const tsx = import.meta.resolve('tsx/esm/api');
    const src = new URL('./compareWorker.ts', here).href;
    const code = `import(${JSON.stringify(tsx)}).then(m => { m.register(); return import(${JSON.stringify(src)}); });`;
    return { spawn: () => new Worker(code, { eval: true }) };
  }
  const bundled = new URL('./compareWorker.mjs', here);
  return existsSync(fileURLToPath(bundled)) ? { spawn: () => new Worker(bundled) } : null;
}

/** Run every job, in parallel on worker threads where possible. */
async function runAll(jobs: CompareJob[], nWorkers: number, onProgress: (done: number) => void, onDone: (r: RunResult) => void): Promise<RunResult[]> {
  const results: RunResult[] = new Array(jobs.length);
  const entry = nWorkers > 1 && jobs.length > 1 ? workerEntry() : null;
  if (!entry) {
    for (let i = 0; i < jobs.length; i++) {
      results[i] = runJob(jobs[i]!, () => performance.now(), f => onProgress(i + f));
      onDone(results[i]!);
      onProgress(i + 1);
    }
    return results;
  }
  const partial = new Array<number>(jobs.length).fill(0);
  const report = (): void => onProgress(partial.reduce((a, b) => a + b, 0));
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let running = 0;
    const workers: Worker[] = [];
    const finish = (): void => { for (const w of workers) void w.terminate(); resolve(); };
    const feed = (w: Worker): void => {
      if (next >= jobs.length) { if (running === 0) finish(); return; }
      const id = next++;
      running++;
      w.postMessage({ id, job: jobs[id] });
    };
    for (let k = 0; k < Math.min(nWorkers, jobs.length); k++) {
      const w = entry.spawn();
      workers.push(w);
      w.on('message', (m: { id: number; progress?: number; result?: RunResult; error?: string }) => {
        if (m.progress !== undefined) { partial[m.id] = Math.min(0.99, m.progress); report(); return; }
        if (m.error !== undefined) { for (const x of workers) void x.terminate(); reject(new Error(m.error)); return; }
        results[m.id] = m.result!;
        onDone(m.result!);
        partial[m.id] = 1;
        report();
        running--;
        feed(w);
      });
      w.on('error', e => { for (const x of workers) void x.terminate(); reject(e); });
      feed(w);
    }
  });
  return results;
}

export async function compareMain(argv: readonly string[]): Promise<number> {
  try {
    return await compare(argv);
  } catch (e) {
    if (e instanceof UsageError || e instanceof FileError || e instanceof SweepError) {
      process.stderr.write(`lvsim compare: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function compare(argv: readonly string[]): Promise<number> {
  const a = parseCommand(COMPARE, argv);
  if (a.help) { process.stdout.write(COMPARE_USAGE); return 0; }
  const file = a.positional[0]!;
  const format = reportFormat(a.values);
  const diff = get<[string, string]>(a, 'diff');
  const seedsArg = get<number | SeedRange>(a, 'seeds');
  const shardArg = get<{ index: number; count: number }>(a, 'shard');
  const out = get<string>(a, 'out');
  const exportDir = get<string>(a, 'export');
  const seedArg = get<number>(a, 'seed');
  if (diff) {
    for (const o of ['seeds', 'shard', 'out', 'export', 'csv', 'html'] as const) if (a.values.has(o)) throw new UsageError(`--diff explains one connection and takes no --${o}`);
  } else if (a.values.has('conn')) throw new UsageError('--conn names the connection --diff explains: add --diff A,B');
  if (shardArg && out === undefined) throw new UsageError(`--shard ${shardArg.index}/${shardArg.count} writes a part for lvsim merge: add --out FILE (such as --out part-${shardArg.index}.json)`);
  if (typeof seedsArg === 'object' && seedArg !== undefined) throw new UsageError(`--seed ${seedArg} and --seeds ${seedsArg.first}..${seedsArg.last} both name the first seed: give one`);
  if (shardArg && a.values.has('export')) throw new UsageError('--export writes the whole sweep\'s CSV files: run it on the merged report (lvsim merge --csv), not on a shard');

  const textOf = readInput(file);
  if (out !== undefined) checkOutput(out, '--out');
  const wl = parseWorkload(textOf, file);
  for (const d of wl.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (wl.diagnostics.some(d => d.severity === 'error')) return 2;
  if (!wl.spec) process.stderr.write(`lvsim compare: ${file} has no workload: section; using the default workload\n`);

  if (diff) {
    const d = diffSchedulers(textOf, file, diff[0], diff[1], { seed: seedArg, conn: get<number>(a, 'conn'), limit: get<number>(a, 'connections') });
    process.stdout.write(format === 'json' ? JSON.stringify(d, null, 2) + '\n' : d.text);
    return 0;
  }

  const sc = parseScenario(textOf, file).scenario;
  const base = seedArg ?? wl.spec?.seed ?? sc.seed;
  const seeds: SeedRange = typeof seedsArg === 'object' ? seedsArg : { first: base, last: base + (seedsArg ?? 1) - 1 };
  if (seeds.last > 2 ** 32 - 1) throw new UsageError(`--seeds: seeds ${seeds.first}..${seeds.last} run past 4294967295`);
  const schedulers = get<string[]>(a, 'schedulers') ?? DEFAULT_SCHEDULERS;
  const mode = get<Mode>(a, 'mode') ?? 'flow';
  const sweep: Sweep = {
    lvsim: LVSIM_VERSION,
    scenario: { file, name: sc.name, sha256: scenarioSha256(textOf) },
    mode, connections: get<number>(a, 'connections') ?? null, schedulers, seeds,
  };
  const shard: Shard = shardArg
    ? { ...shardArg, seeds: shardSeeds(seeds, shardArg.index, shardArg.count) }
    : { index: 1, count: 1, seeds };
  if (exportDir !== undefined) {
    try { mkdirSync(exportDir, { recursive: true }); } catch (e) { throw new FileError(`cannot create --export ${exportDir}: ${reason(e)}`); }
  }

  const jobs = sweepJobs(sweep, shard.seeds, textOf);
  const progressKind = get<'bar' | 'json' | 'none'>(a, 'progress') ?? 'bar';
  const bar = new Progress(jobs.length, progressKind, process.stderr.isTTY === true, {
    lvsim: LVSIM_VERSION, scenario: file, mode, shard: `${shard.index}/${shard.count}`, seeds: `${shard.seeds.first}..${shard.seeds.last}`,
  });
  let results: RunResult[];
  try {
    results = await runAll(jobs, get<number>(a, 'jobs') ?? availableParallelism(), done => bar.partial(done), r => bar.finished(r));
  } catch (e) {
    process.stderr.write(`lvsim compare: ${(e as Error).message}\n`);
    return 1;
  }
  if (out !== undefined) writeOutput(out, '--out', JSON.stringify(makePart(sweep, shard, results)) + '\n');
  bar.end(out !== undefined ? { out } : {});
  if (shardArg) {
    if (progressKind !== 'json') process.stderr.write(`compare: wrote ${out}: shard ${shard.index}/${shard.count}, seeds ${shard.seeds.first}..${shard.seeds.last}, ${results.length} runs\n`);
    return 0;
  }
  const runs = results.map(sweepRun);
  if (exportDir !== undefined) {
    writeOutput(join(exportDir, 'series.csv'), '--export', seriesCsv(runs));
    writeOutput(join(exportDir, 'summary.csv'), '--export', summaryCsv(runs));
  }
  process.stdout.write(renderReport(sweep, runs, format));
  return 0;
}
