/**
 * workload/metrics.ts: what a workload run measures. Per real server, sampled over time: new
 * connections, ActiveConn and InActConn as the director counts them (the dest counters that
 * `ipvsadm -Ln` shows), true open connections on the server, the weight, and load relative to
 * weight. Over servers: imbalance as max/mean, coefficient of variation and Jain's fairness
 * index. In packet mode, connection latency (SYN sent -> first byte of the answer) percentiles.
 * Results are plain data (structured-clone and JSON safe) with CSV and JSON exporters.
 */
import type { Ns } from '../sim/engine';
import { destKey, type Dest, type Service } from '../ipvs/types';

export type Mode = 'flow' | 'packet';

export interface Imbalance {
  /** max / mean of the per-server values (1 = perfectly even). */
  readonly maxMean: number;
  /** standard deviation / mean. */
  readonly cv: number;
  /** Jain's fairness index (sum x)^2 / (n sum x^2): 1 even, 1/n all on one server. */
  readonly jain: number;
}

export interface DestSeries {
  readonly key: string;
  readonly name: string;
  readonly newConns: number[];
  readonly active: number[];
  readonly inact: number[];
  readonly open: number[];
  readonly weight: number[];
}

export interface LatencyStats {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  /** Every latency in ms, sorted (packet runs are small). */
  readonly samplesMs: number[];
}

export interface RunResult {
  readonly scenario: string;
  readonly mode: Mode;
  readonly scheduler: string;
  readonly seed: number;
  /** Connections the workload generated. */
  readonly connections: number;
  /** Scheduled by IPVS / refused (no destination: ICMP port unreachable) / never answered or reset. */
  readonly scheduled: number;
  readonly refused: number;
  readonly failed: number;
  readonly dests: ReadonlyArray<{ key: string; name: string; conns: number; bytes: number; weight: number }>;
  /** Sample times in seconds; series per dest aligned with it. */
  readonly t: number[];
  readonly series: DestSeries[];
  /** Time-averaged imbalance of open connections / weight over servers with weight > 0. */
  readonly load: Imbalance;
  /** Imbalance of total connections / weight at the end. */
  readonly share: Imbalance;
  readonly latency: LatencyStats | null;
  readonly simSeconds: number;
  readonly wallMs: number;
  readonly events: number;
  /** Largest number of entries in the director's connection table. */
  readonly peakTable: number;
}

/** Imbalance of a set of non-negative values (NaN-free: empty or all-zero gives the even answer). */
export function imbalance(xs: readonly number[]): Imbalance {
  const n = xs.length;
  let s = 0;
  let s2 = 0;
  let mx = 0;
  for (const x of xs) { s += x; s2 += x * x; if (x > mx) mx = x; }
  if (n === 0 || s === 0) return { maxMean: 1, cv: 0, jain: 1 };
  const mean = s / n;
  const variance = Math.max(0, s2 / n - mean * mean);
  return { maxMean: mx / mean, cv: Math.sqrt(variance) / mean, jain: (s * s) / (n * s2) };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Collects per-dest counters during a run; `sample()` appends one time step. */
export class MetricsRecorder {
  /** Dests by index (discovery order: the service's dests sorted by address first). */
  readonly dests: Dest[] = [];
  private readonly index = new Map<Dest, number>();
  newConns: number[] = [];
  open: number[] = [];
  conns: number[] = [];
  bytes: number[] = [];
  private sinceSample: number[] = [];
  readonly t: number[] = [];
  readonly series: DestSeries[] = [];
  private loadSum = { maxMean: 0, cv: 0, jain: 0, n: 0 };
  latenciesNs: number[] = [];
  scheduled = 0;
  refused = 0;
  failed = 0;
  peakTable = 0;

  constructor(private readonly svc: Service, private readonly nameOf: (d: Dest) => string) {
    for (const d of [...svc.dests].sort((a, b) => (a.addr >>> 0) - (b.addr >>> 0) || a.port - b.port)) this.indexOf(d);
  }

  /** The index of a dest, assigned on first sight. */
  indexOf(d: Dest): number {
    let i = this.index.get(d);
    if (i !== undefined) return i;
    i = this.dests.length;
    this.dests.push(d);
    this.index.set(d, i);
    this.newConns.push(0);
    this.open.push(0);
    this.conns.push(0);
    this.bytes.push(0);
    this.sinceSample.push(0);
    const pad = (): number[] => new Array<number>(this.t.length).fill(0);
    this.series.push({ key: destKey(d), name: this.nameOf(d), newConns: pad(), active: pad(), inact: pad(), open: pad(), weight: pad() });
    return i;
  }

  onScheduled(i: number): void {
    this.scheduled++;
    this.conns[i]!++;
    this.sinceSample[i]!++;
  }

  sample(now: Ns, tableSize: number): void {
    for (const d of this.svc.dests) this.indexOf(d);
    this.t.push(now / 1e9);
    const loads: number[] = [];
    for (let i = 0; i < this.dests.length; i++) {
      const d = this.dests[i]!;
      const s = this.series[i]!;
      s.newConns.push(this.sinceSample[i]!);
      this.sinceSample[i] = 0;
      s.active.push(d.activeconns);
      s.inact.push(d.inactconns);
      s.open.push(this.open[i]!);
      const inSvc = d.svc === this.svc;
      s.weight.push(inSvc ? d.weight : 0);
      if (inSvc && d.weight > 0) loads.push(this.open[i]! / d.weight);
    }
    if (loads.some(x => x > 0)) {
      const im = imbalance(loads);
      this.loadSum.maxMean += im.maxMean;
      this.loadSum.cv += im.cv;
      this.loadSum.jain += im.jain;
      this.loadSum.n++;
    }
    if (tableSize > this.peakTable) this.peakTable = tableSize;
  }

  finish(base: { scenario: string; mode: Mode; scheduler: string; seed: number; connections: number; simSeconds: number; wallMs: number; events: number }): RunResult {
    const n = this.loadSum.n || 1;
    const load: Imbalance = this.loadSum.n
      ? { maxMean: this.loadSum.maxMean / n, cv: this.loadSum.cv / n, jain: this.loadSum.jain / n }
      : { maxMean: 1, cv: 0, jain: 1 };
    const shareXs: number[] = [];
    const dests = this.dests.map((d, i) => {
      const w = this.series[i]!.weight.find(x => x > 0) ?? d.weight;
      if (w > 0) shareXs.push(this.conns[i]! / w);
      return { key: destKey(d), name: this.series[i]!.name, conns: this.conns[i]!, bytes: this.bytes[i]!, weight: w };
    });
    let latency: LatencyStats | null = null;
    if (base.mode === 'packet') {
      const ms = this.latenciesNs.map(x => x / 1e6).sort((a, b) => a - b);
      latency = {
        count: ms.length, p50: percentile(ms, 50), p90: percentile(ms, 90), p99: percentile(ms, 99),
        max: ms.length ? ms[ms.length - 1]! : NaN, mean: ms.reduce((a, b) => a + b, 0) / (ms.length || 1), samplesMs: ms,
      };
    }
    return {
      ...base, scheduled: this.scheduled, refused: this.refused, failed: this.failed, dests, t: this.t,
      series: this.series, load, share: imbalance(shareXs), latency, peakTable: this.peakTable,
    };
  }
}

/** A run as reports see it: the wall time, which differs every time, left out. */
type Reported = Omit<RunResult, 'wallMs'>;

/** A latency figure, or nothing where no connection was measured (NaN, or null once through JSON). */
const ms3 = (x: number | null): string => (x === null || !Number.isFinite(x) ? '' : x.toFixed(3));

/** One CSV row per (sample, real server). */
export function seriesCsv(results: readonly Reported[]): string {
  const out = ['scheduler,seed,mode,t_s,server,dest,new_conns,active_conn,inact_conn,open,weight,load_per_weight'];
  for (const r of results) {
    for (const s of r.series) {
      for (let k = 0; k < r.t.length; k++) {
        const w = s.weight[k]!;
        out.push([r.scheduler, r.seed, r.mode, r.t[k]!.toFixed(3), s.name, s.key, s.newConns[k], s.active[k], s.inact[k], s.open[k], w, w > 0 ? (s.open[k]! / w).toFixed(4) : ''].join(','));
      }
    }
  }
  return out.join('\n') + '\n';
}

/** One CSV row per run: totals, imbalance and latency (no wall time: the same sweep gives the same bytes). */
export function summaryCsv(results: readonly Reported[]): string {
  const names = [...new Set(results.flatMap(r => r.dests.map(d => d.name)))];
  const out = [['scheduler', 'seed', 'mode', 'connections', 'scheduled', 'refused', 'failed', ...names.map(n => `conns_${n}`), 'load_max_mean', 'load_cv', 'load_jain', 'share_max_mean', 'share_cv', 'share_jain', 'lat_p50_ms', 'lat_p99_ms'].join(',')];
  for (const r of results) {
    const by = new Map(r.dests.map(d => [d.name, d.conns]));
    out.push([
      r.scheduler, r.seed, r.mode, r.connections, r.scheduled, r.refused, r.failed, ...names.map(n => by.get(n) ?? 0),
      r.load.maxMean.toFixed(4), r.load.cv.toFixed(4), r.load.jain.toFixed(4), r.share.maxMean.toFixed(4), r.share.cv.toFixed(4), r.share.jain.toFixed(4),
      r.latency ? ms3(r.latency.p50) : '', r.latency ? ms3(r.latency.p99) : '',
    ].join(','));
  }
  return out.join('\n') + '\n';
}
