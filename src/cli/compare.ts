/**
 * cli/compare.ts: `lvsim compare`: the same workload under several schedulers, a table of how
 * they spread the load, and the per-connection diff. Seeds and schedulers run in parallel on
 * worker threads (one per core), with a progress bar on stderr.
 *
 *   lvsim compare <scenario> [--schedulers rr,wlc,...] [--seeds N] [--seed S] [--mode flow|packet]
 *                 [--connections N] [--json | --csv] [--out DIR] [--jobs N]
 *   lvsim compare <scenario> --diff wlc,sed [--conn N] [--seed S]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SCHEDULER_NAMES } from '../ipvs/schedulers/index';
import { diffSchedulers, formatTable, runJob, summarize, type CompareJob } from '../workload/compare';
import { seriesCsv, summaryCsv, type Mode, type RunResult } from '../workload/metrics';
import { parseWorkload } from '../workload/spec';
import { formatDiagnostic } from '../config/diag';

export const COMPARE_USAGE = `usage: lvsim compare <scenario.yaml> [--schedulers rr,wrr,lc,wlc,sed,nq,sh,mh,...] [--seeds N] [--seed S]
                     [--mode flow|packet] [--connections N] [--json | --csv] [--out DIR] [--jobs N]
       lvsim compare <scenario.yaml> --diff A,B [--conn N] [--seed S]
`;

const DEFAULT_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'sh', 'mh', 'twos'];

class CompareUsage extends Error {}

interface Opts {
  file: string; schedulers: string[]; seeds: number; seed: number | undefined; mode: Mode;
  connections: number | undefined; json: boolean; csv: boolean; out: string | null; jobs: number;
  diff: [string, string] | null; conn: number | undefined;
}

function intArg(flag: string, v: string | undefined, lo: number, hi: number): number {
  if (v === undefined || !/^\d+(e\d+)?$/.test(v) || Number(v) < lo || Number(v) > hi) throw new CompareUsage(`${flag} must be an integer from ${lo} to ${hi}, got '${v ?? ''}'`);
  return Number(v);
}

function parseArgs(argv: readonly string[]): Opts {
  const o: Opts = { file: '', schedulers: DEFAULT_SCHEDULERS, seeds: 1, seed: undefined, mode: 'flow', connections: undefined, json: false, csv: false, out: null, jobs: availableParallelism(), diff: null, conn: undefined };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const val = (): string | undefined => (eq > 0 ? raw.slice(eq + 1) : argv[++i]);
    const scheds = (v: string | undefined): string[] => {
      const list = (v ?? '').split(',').map(s => s.trim()).filter(Boolean);
      for (const s of list) if (!SCHEDULER_NAMES.includes(s)) throw new CompareUsage(`unknown scheduler '${s}' (the kernel's: ${SCHEDULER_NAMES.join(', ')})`);
      if (!list.length) throw new CompareUsage(`${flag} needs a comma-separated list of schedulers`);
      return list;
    };
    switch (flag) {
      case '--schedulers': o.schedulers = scheds(val()); break;
      case '--seeds': o.seeds = intArg('--seeds', val(), 1, 100000); break;
      case '--seed': o.seed = intArg('--seed', val(), 0, 2 ** 32 - 1); break;
      case '--mode': { const m = val(); if (m !== 'flow' && m !== 'packet') throw new CompareUsage(`--mode must be flow or packet, got '${m ?? ''}'`); o.mode = m; break; }
      case '--connections': o.connections = intArg('--connections', val(), 1, 1e8); break;
      case '--jobs': o.jobs = intArg('--jobs', val(), 1, 1024); break;
      case '--json': o.json = true; break;
      case '--csv': o.csv = true; break;
      case '--out': o.out = val() ?? null; break;
      case '--diff': { const l = scheds(val()); if (l.length !== 2) throw new CompareUsage('--diff needs exactly two schedulers, e.g. --diff wlc,sed'); o.diff = [l[0]!, l[1]!]; break; }
      case '--conn': o.conn = intArg('--conn', val(), 0, 1e9); break;
      default:
        if (raw.startsWith('-')) throw new CompareUsage(`unknown option '${raw}'\n${COMPARE_USAGE}`);
        if (o.file) throw new CompareUsage(`one scenario file, got '${o.file}' and '${raw}'`);
        o.file = raw;
    }
  }
  if (!o.file) throw new CompareUsage(`compare needs a scenario file\n${COMPARE_USAGE}`);
  if (o.json && o.csv) throw new CompareUsage('--json and --csv are exclusive');
  return o;
}

/** A progress bar on stderr (redrawn in place on a terminal, a final line otherwise). */
class Progress {
  private last = -1;
  constructor(private readonly total: number, private readonly tty: boolean) {}
  draw(done: number, label: string): void {
    const f = Math.min(1, done / this.total);
    const pct = Math.floor(f * 100);
    if (!this.tty) {
      if (f >= 1 && this.last < 100) process.stderr.write(`compare: ${label} 100%\n`);
      this.last = pct;
      return;
    }
    if (pct === this.last) return;
    this.last = pct;
    const w = 30;
    const n = Math.round(f * w);
    process.stderr.write(`\r[${'#'.repeat(n)}${'.'.repeat(w - n)}] ${String(pct).padStart(3)}% ${label}`);
    if (f >= 1) process.stderr.write('\n');
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
async function runAll(jobs: CompareJob[], nWorkers: number, onProgress: (done: number) => void): Promise<RunResult[]> {
  const results: RunResult[] = new Array(jobs.length);
  const entry = nWorkers > 1 && jobs.length > 1 ? workerEntry() : null;
  if (!entry) {
    for (let i = 0; i < jobs.length; i++) {
      results[i] = runJob(jobs[i]!, () => performance.now(), f => onProgress(i + f));
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
  let o: Opts;
  try {
    o = parseArgs(argv);
  } catch (e) {
    if (e instanceof CompareUsage) { process.stderr.write(`lvsim compare: ${e.message}\n`); return 2; }
    throw e;
  }
  let text: string;
  try { text = readFileSync(o.file, 'utf8'); } catch { process.stderr.write(`lvsim: cannot read ${o.file}\n`); return 2; }
  const wl = parseWorkload(text, o.file);
  for (const d of wl.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (wl.diagnostics.some(d => d.severity === 'error')) return 1;
  if (!wl.spec) process.stderr.write(`lvsim compare: ${o.file} has no workload: section; using the default workload\n`);

  if (o.diff) {
    const d = diffSchedulers(text, o.file, o.diff[0], o.diff[1], { seed: o.seed, conn: o.conn, limit: o.connections });
    if (o.json) process.stdout.write(JSON.stringify(d, null, 2) + '\n');
    else process.stdout.write(d.text);
    return 0;
  }

  const baseSeed = o.seed ?? wl.spec?.seed ?? undefined;
  const jobs: CompareJob[] = [];
  for (let k = 0; k < o.seeds; k++) {
    for (const s of o.schedulers) {
      jobs.push({ text, file: o.file, scheduler: s, mode: o.mode, connections: o.connections, seed: o.seeds === 1 ? baseSeed : (baseSeed ?? 1) + k });
    }
  }
  const bar = new Progress(jobs.length, process.stderr.isTTY === true);
  const t0 = performance.now();
  let results: RunResult[];
  try {
    results = await runAll(jobs, o.jobs, done => bar.draw(done, `${Math.floor(done)}/${jobs.length} runs`));
  } catch (e) {
    process.stderr.write(`lvsim compare: ${(e as Error).message}\n`);
    return 1;
  }
  const wall = performance.now() - t0;
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, 'series.csv'), seriesCsv(results));
    writeFileSync(join(o.out, 'summary.csv'), summaryCsv(results));
    writeFileSync(join(o.out, 'results.json'), JSON.stringify(results));
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({ scenario: o.file, mode: o.mode, summary: summarize(results, o.schedulers), runs: results }) + '\n');
  } else if (o.csv) {
    process.stdout.write(summaryCsv(results));
  } else {
    const first = results[0]!;
    process.stdout.write(`lvsim compare: ${first.scenario}, ${o.mode} mode, ${o.seeds} seed(s) x ${o.schedulers.length} scheduler(s), ${first.connections} connections per run, ${(wall / 1000).toFixed(1)} s wall\n`);
    process.stdout.write(formatTable(summarize(results, o.schedulers)));
    process.stdout.write('load = open connections per unit of weight, averaged over time (Jain 1 = even); conns Jain = total connections per weight.\n');
  }
  return 0;
}
