/**
 * workload/compare.ts: the same workload (same seed, same arrivals, same clients and lengths)
 * under several schedulers, and the per-connection diff: where two schedulers first send a
 * connection to different real servers, and why, from each scheduler's own explanation
 * (SchedContext.explain). Up to the first divergence both runs saw exactly the same history,
 * so the director's counters are the same in both; the difference is the algorithm.
 * Pure core: no DOM, no Node APIs; the CLI and the browser run jobs in workers around it.
 */
import { formatIp4 } from '../net/addr';
import type { SchedExplain } from '../ipvs/types';
import { runFlow } from './flow';
import { runPacketText } from './packet';
import { prepare } from './setup';
import type { Mode, RunResult } from './metrics';

export interface CompareJob {
  readonly text: string;
  readonly file: string;
  readonly scheduler: string;
  readonly seed?: number;
  readonly mode: Mode;
  /** Override the number of connections (flow: workload.connections; packet: packet.connections). */
  readonly connections?: number;
}

/** Run one (scheduler, seed) job. */
export function runJob(job: CompareJob, clock?: () => number, onProgress?: (f: number) => void): RunResult {
  if (job.mode === 'packet') {
    return runPacketText(job.text, job.file, { scheduler: job.scheduler, seed: job.seed, connections: job.connections, clock, onProgress }).result;
  }
  const p = prepare(job.text, job.file, { scheduler: job.scheduler, seed: job.seed });
  if (job.connections !== undefined) (p as { spec: typeof p.spec }).spec = { ...p.spec, connections: job.connections };
  return runFlow(p, { clock, onProgress }).result;
}

export interface SummaryRow {
  readonly scheduler: string;
  readonly runs: number;
  readonly connections: number;
  readonly refused: number;
  readonly failed: number;
  /** Share of connections per real server name (mean over seeds). */
  readonly share: Record<string, number>;
  readonly loadMaxMean: number;
  readonly loadCv: number;
  readonly loadJain: number;
  readonly shareJain: number;
  readonly jainSd: number;
  readonly p50: number | null;
  readonly p99: number | null;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
const sd = (xs: number[]): number => { const m = mean(xs); return Math.sqrt(mean(xs.map(x => (x - m) ** 2))); };

/** One row per scheduler, averaged over its seeds, in the order the schedulers were asked for. */
export function summarize(results: readonly Omit<RunResult, 'wallMs'>[], order: readonly string[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const s of order) {
    const rs = results.filter(r => r.scheduler === s);
    if (!rs.length) continue;
    const share: Record<string, number> = {};
    for (const r of rs) {
      const tot = r.dests.reduce((a, d) => a + d.conns, 0) || 1;
      for (const d of r.dests) share[d.name] = (share[d.name] ?? 0) + d.conns / tot / rs.length;
    }
    const lat = rs.filter(r => r.latency && r.latency.count > 0);
    rows.push({
      scheduler: s, runs: rs.length,
      connections: mean(rs.map(r => r.connections)), refused: mean(rs.map(r => r.refused)), failed: mean(rs.map(r => r.failed)),
      share,
      loadMaxMean: mean(rs.map(r => r.load.maxMean)), loadCv: mean(rs.map(r => r.load.cv)), loadJain: mean(rs.map(r => r.load.jain)),
      shareJain: mean(rs.map(r => r.share.jain)), jainSd: sd(rs.map(r => r.load.jain)),
      p50: lat.length ? mean(lat.map(r => r.latency!.p50)) : null,
      p99: lat.length ? mean(lat.map(r => r.latency!.p99)) : null,
    });
  }
  return rows;
}

/**
 * A count averaged over a scheduler's runs (refused, failed), as the tables print it: whole
 * when it is whole, else with two decimals, and never rounded to 0 when some run had one
 * (one failure in 400 runs is "<0.01", not "0").
 */
export function perRunCount(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (Number.isInteger(x)) return String(x);
  const s = x.toFixed(2);
  return Number(s) === 0 ? '<0.01' : s;
}

/** The headers of the per-run mean counts, the same in every table (CLI, merge, HTML, page). */
export const PER_RUN_HEAD = { refused: 'refused/run', failed: 'failed/run' } as const;

/** The comparison table as text. */
export function formatTable(rows: readonly SummaryRow[]): string {
  const names = [...new Set(rows.flatMap(r => Object.keys(r.share)))].sort();
  const head = ['sched', 'runs', 'conns', PER_RUN_HEAD.refused, PER_RUN_HEAD.failed, ...names.map(n => `%${n}`), 'load max/mean', 'load CV', 'load Jain', 'conns Jain', 'p50 ms', 'p99 ms'];
  const body = rows.map(r => [
    r.scheduler, String(r.runs), r.connections.toFixed(0), perRunCount(r.refused), perRunCount(r.failed),
    ...names.map(n => ((r.share[n] ?? 0) * 100).toFixed(1)),
    r.loadMaxMean.toFixed(3), r.loadCv.toFixed(3), r.runs > 1 ? `${r.loadJain.toFixed(3)}±${r.jainSd.toFixed(3)}` : r.loadJain.toFixed(3), r.shareJain.toFixed(3),
    r.p50 === null ? '-' : r.p50.toFixed(2), r.p99 === null ? '-' : r.p99.toFixed(2),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), line(w.map(n => '-'.repeat(n))), ...body.map(line)].join('\n') + '\n';
}

export interface DiffSide {
  readonly scheduler: string;
  readonly dest: string | null;
  readonly name: string | null;
  readonly explain: SchedExplain | null;
}

export interface ConnDiff {
  /** 0-based connection number (arrival order), or null if the schedulers never diverge. */
  readonly conn: number | null;
  readonly compared: number;
  readonly atS: number;
  readonly client: string;
  readonly a: DiffSide;
  readonly b: DiffSide;
  readonly text: string;
}

/**
 * Where schedulers `a` and `b` first send a connection to different real servers (or what each
 * did with connection `conn`), with both schedulers' explanations for that connection.
 */
export function diffSchedulers(text: string, file: string, a: string, b: string, opts: { seed?: number; conn?: number; limit?: number } = {}): ConnDiff {
  const limit = opts.limit ?? 1_000_000;
  let conn: number | null = opts.conn ?? null;
  let compared = 0;
  if (conn === null) {
    const pa = prepare(text, file, { scheduler: a, seed: opts.seed });
    const n = Math.min(limit, pa.spec.connections);
    const ra = runFlow(pa, { record: n });
    const rb = runFlow(prepare(text, file, { scheduler: b, seed: opts.seed }), { record: n });
    const na = ra.recorder.dests.map(d => `${d.addr}:${d.port}`);
    const nb = rb.recorder.dests.map(d => `${d.addr}:${d.port}`);
    const m = Math.min(ra.result.connections, n);
    for (let i = 0; i < m; i++) {
      compared++;
      const x = ra.chosen[i]!;
      const y = rb.chosen[i]!;
      if ((x < 0 ? String(x) : na[x]) !== (y < 0 ? String(y) : nb[y])) { conn = i; break; }
    }
  }
  const side = (s: string): { side: DiffSide; at: number; client: string } => {
    const p = prepare(text, file, { scheduler: s, seed: opts.seed });
    const r = runFlow(p, { explainConn: conn ?? 0 });
    const ex = r.explain;
    const chosen = ex?.chosen ?? null;
    const addr = chosen ? chosen.split(':')[0]! : null;
    const name = addr ? (p.hostOfAddr.get(ipOf(addr)) ?? chosen) : null;
    const e = r.explained;
    return { side: { scheduler: s, dest: chosen, name, explain: ex }, at: e ? e.t / 1e9 : 0, client: e ? `${formatIp4(e.caddr)}:${e.cport}` : '?' };
  };
  if (conn === null) {
    return { conn: null, compared, atS: 0, client: '', a: { scheduler: a, dest: null, name: null, explain: null }, b: { scheduler: b, dest: null, name: null, explain: null }, text: `${a} and ${b} sent each of the ${compared} connections to the same real server.\n` };
  }
  const A = side(a);
  const B = side(b);
  return { conn, compared, atS: A.at, client: A.client, a: A.side, b: B.side, text: diffText(conn, A.at, A.client, A.side, B.side) };
}

function ipOf(s: string): number {
  const p = s.split('.').map(Number);
  return (((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0);
}

function sideWhy(s: DiffSide): string {
  const ex = s.explain;
  if (!ex) return `${s.scheduler}: the connection found an existing entry (no scheduling decision).`;
  const lines = [`${s.scheduler} -> ${s.name ?? 'none'}${s.dest ? ` (${s.dest})` : ''}: ${ex.summary}`];
  for (const c of ex.candidates) {
    lines.push(`    ${c.dest.padEnd(21)} weight ${String(c.weight).padStart(3)}  active ${String(c.activeconns).padStart(5)}  inactive ${String(c.inactconns).padStart(5)}${c.cost !== undefined ? `  cost ${c.cost}` : ''}${c.skipped ? `  (${c.skipped})` : ''}`);
  }
  if (ex.detail) for (const [k, v] of Object.entries(ex.detail)) lines.push(`    ${k}: ${v}`);
  return lines.join('\n');
}

function diffText(conn: number, at: number, client: string, a: DiffSide, b: DiffSide): string {
  const head = a.dest === b.dest
    ? `connection ${conn} (client ${client}, SYN at ${at.toFixed(6)} s) went to ${a.name ?? 'none'} under both ${a.scheduler} and ${b.scheduler}.`
    : `connection ${conn} (client ${client}, SYN at ${at.toFixed(6)} s) went to ${a.name ?? 'none'} under ${a.scheduler} and ${b.name ?? 'none'} under ${b.scheduler}, because:`;
  return `${head}\n${sideWhy(a)}\n${sideWhy(b)}\n`;
}
