/**
 * cli/bench.ts: `lvsim bench`, the side-by-side benchmark command of docs/bench.md, and the
 * lb-abstract part of `npm run bench` (the suite table).
 *
 *   lvsim bench --workload lb-abstract --connections N --seed S --scheduler wlc|rr --json
 *
 * The simulation is workload/lbAbstract.ts on the product's Engine (calendar event queue,
 * coded events) and the product's ipvs/schedulers/{wlc,rr}.ts over real Service/Dest objects.
 * wall_ms is taken here, around that one run only (docs/bench.md, what is timed).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { getScheduler } from '../ipvs/schedulers/index';
import { runLbAbstract, type LbAbstractResult } from '../workload/lbAbstract';
import { SEED, SWITCH, UsageError, count, get, oneOf, parseCommand, type CommandSpec } from './args';

export const BENCH_USAGE =
  'usage: lvsim bench [--workload lb-abstract] [--connections N] [--seed S] [--scheduler wlc|rr] [--json]';

const SCHEDULERS: ['wlc', 'rr'] = ['wlc', 'rr'];
type BenchScheduler = (typeof SCHEDULERS)[number];

export interface BenchOptions {
  readonly workload: 'lb-abstract';
  readonly connections: number;
  readonly seed: number;
  readonly scheduler: BenchScheduler;
  readonly json: boolean;
}

/** A bad command line (the shared UsageError): one line naming the flag and what was expected. */
export { UsageError as BenchUsageError } from './args';

const BENCH: CommandSpec = {
  name: 'bench', usage: BENCH_USAGE, positional: { min: 0, max: 0, what: 'file' },
  options: {
    workload: oneOf('lb-abstract'),
    connections: count(1, 1e8, '1e8'),
    seed: SEED,
    scheduler: oneOf(...SCHEDULERS),
    json: SWITCH,
  },
};

/** Parse the contract's flags (`--flag value` or `--flag=value`, any order, last one wins). */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const a = parseCommand(BENCH, argv);
  return {
    workload: 'lb-abstract',
    connections: get<number>(a, 'connections') ?? 1_000_000,
    seed: get<number>(a, 'seed') ?? 42,
    scheduler: get<BenchScheduler>(a, 'scheduler') ?? 'wlc',
    json: a.values.has('json'),
  };
}

export interface BenchRun {
  readonly options: BenchOptions;
  readonly result: LbAbstractResult;
  readonly wallMs: number;
}

/** Run lb-abstract once and time it in-process (simulation only). */
export function runBench(options: BenchOptions): BenchRun {
  const scheduler = getScheduler(options.scheduler);
  if (scheduler === null) throw new Error(`scheduler ${options.scheduler} is not registered`);
  const t0 = performance.now();
  const result = runLbAbstract(scheduler, options.connections, options.seed);
  const wallMs = performance.now() - t0;
  return { options, result, wallMs };
}

/** events / (wall_ms / 1000); 0 if the clock did not move (JSON has no Infinity). */
const eventsPerS = (events: number, wallMs: number): number => (wallMs > 0 ? events / (wallMs / 1000) : 0);

/** What `runtime` reports: the platform and which lvsim layers the run went through. */
function runtimeText(scheduler: string): string {
  return `node ${process.version}; lvsim sim/engine (calendar queue, coded events) + ipvs/schedulers/${scheduler}.ts on ipvs Service/Dest`;
}

/** The contract's one-line JSON object. */
export function formatBenchJson(run: BenchRun): string {
  const { options: o, result: r, wallMs } = run;
  const eps = eventsPerS(r.events, wallMs);
  return (
    `{"engine":"lvsim","runtime":${JSON.stringify(runtimeText(o.scheduler))},"workload":"lb-abstract",` +
    `"scheduler":"${o.scheduler}","connections":${o.connections},"seed":${o.seed},` +
    `"events":${r.events},"sim_end_ns":${r.simEndNs},"wall_ms":${wallMs.toFixed(3)},` +
    `"events_per_s":${Math.round(eps)},"per_server_counts":[${r.perServerCounts.join(',')}],` +
    `"max_active":[${r.maxActive.join(',')}],"mean_active":[${r.meanActive.map((m) => m.toFixed(6)).join(',')}],` +
    `"checksum":${r.checksum}}`
  );
}

/** Human-readable form. */
export function formatBenchText(run: BenchRun): string {
  const { options: o, result: r, wallMs } = run;
  const eps = eventsPerS(r.events, wallMs);
  return [
    `lvsim lb-abstract sched=${o.scheduler} C=${o.connections} seed=${o.seed}`,
    `events=${r.events} wall_ms=${wallMs.toFixed(1)} events/s=${Math.round(eps)}`,
    `per_server_counts=${r.perServerCounts.join(',')}`,
    `max_active=${r.maxActive.join(',')}`,
    `mean_active=${r.meanActive.map((m) => m.toFixed(6)).join(',')}`,
    `checksum=${r.checksum} sim_end_ns=${r.simEndNs}`,
    `runtime: ${runtimeText(o.scheduler)}`,
  ].join('\n');
}

/** `lvsim bench ...`: prints as docs/bench.md §8 asks; returns the exit status (0, or 2 for bad usage). */
export async function benchMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`lvsim bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const run = runBench(options);
  process.stdout.write(`${options.json ? formatBenchJson(run) : formatBenchText(run)}\n`);
  return 0;
}

/** One row of the suite table. */
export interface SuiteRow {
  readonly name: string;
  readonly scheduler: BenchScheduler;
  readonly connections: number;
  readonly events: number;
  readonly wallMs: number;
  readonly eventsPerS: number;
  readonly checksum: number;
}

/**
 * The lb-abstract rows of `npm run bench`: wlc and rr at C = 1e5 and 1e6, seed 42, all in
 * this process (so every run after the first starts with a warm JIT; the contract's
 * one-run-per-process figure is `lvsim bench` beside the peer engines: docs/bench.md).
 */
export function lbAbstractSuite(connections: readonly number[] = [100_000, 1_000_000]): SuiteRow[] {
  const rows: SuiteRow[] = [];
  for (const scheduler of SCHEDULERS) {
    for (const c of connections) {
      const run = runBench({ workload: 'lb-abstract', connections: c, seed: 42, scheduler, json: false });
      rows.push({
        name: 'lb-abstract',
        scheduler,
        connections: c,
        events: run.result.events,
        wallMs: run.wallMs,
        eventsPerS: eventsPerS(run.result.events, run.wallMs),
        checksum: run.result.checksum,
      });
    }
  }
  return rows;
}

/** A fixed-width table of suite rows. */
export function formatSuiteTable(rows: readonly SuiteRow[]): string {
  const head = ['workload', 'sched', 'connections', 'events', 'wall_ms', 'events/s', 'checksum'];
  const body = rows.map((r) => [
    r.name,
    r.scheduler,
    String(r.connections),
    String(r.events),
    r.wallMs.toFixed(1),
    `${(r.eventsPerS / 1e6).toFixed(2)}M`,
    String(r.checksum),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/** Prints the lb-abstract suite table (for `npm run bench`); returns the exit status. */
export async function benchSuiteMain(argv: string[]): Promise<number> {
  try {
    parseCommand({ name: 'bench-suite', usage: 'usage: lvsim bench-suite', positional: { min: 0, max: 0, what: 'file' }, options: {} }, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`lvsim bench-suite: ${e.message}\n`);
    return 2;
  }
  process.stdout.write(`${formatSuiteTable(lbAbstractSuite())}\n`);
  return 0;
}

// Direct use: `npx tsx src/cli/bench.ts --connections 100000 --json`, or `... --suite`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const main = args[0] === '--suite' ? benchSuiteMain(args.slice(1)) : benchMain(args);
  main.then((code) => process.exit(code));
}
