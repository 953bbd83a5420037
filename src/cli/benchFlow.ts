/**
 * cli/benchFlow.ts: the workload part of `npm run bench`:
 * - flow mode: 1e5 and 1e6 connections of scenarios/compare-schedulers.yaml's workload (at a
 *   higher arrival rate, so the director's table holds over a hundred thousand entries) through
 *   the full IPVS connection table, TCP state timers and wlc; wall time, peak memory, and the
 *   speed against the engine's own lb-abstract events/s measured in the same process (a ratio
 *   that travels between machines); with --flat N, the heap after GC through an N-connection
 *   run (entries expire as in the kernel, so it stays flat);
 * - packet mode: connections per second through the full five-step path with the trace off
 *   (counting sink), and the heap over a long run (entries expire as in the kernel, so it stays
 *   flat): the reference scenario's connection at 1e5 and 1e6, and the comparison workload's.
 *
 *   lvsim bench-flow [--scenario FILE] [--reference FILE] [--flow 1e5,1e6] [--rate 1000]
 *                    [--packet 1e5,1e6] [--packet-workload 1e5] [--firewall 1e5] [--json]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { prepare, WorkloadError } from '../workload/setup';
import { runFlow } from '../workload/flow';
import { runPacket, ScheduleSink } from '../workload/packet';
import type { WorkloadSpec } from '../workload/spec';
import { SWITCH, UsageError, count, countValue, get, parseCommand, text, type CommandSpec, type Opt, type Parsed } from './args';
import { iptablesRestoreText } from '../config/iptables';
import { runBench } from './bench';

const MiB = 1024 * 1024;

interface FlowFigure { connections: number; rate: number; wallS: number; connPerS: number; events: number; peakTable: number; peakRssMiB: number; peakHeapMiB: number; heapMiBAt: number[] }
interface PacketFigure { kind: PacketKind; scheduler: string; connections: number; wallS: number; connPerS: number; delivered: number; dropped: number; heapMiBAt: number[]; rssMiBEnd: number }

function gcIfExposed(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

/**
 * The heap after a forced GC at each quarter of a run (and at its end, with `take`). The GC
 * is not the simulation's time: `measuring` is what the caller leaves out of the wall time.
 */
class QuarterHeap {
  readonly mib: number[] = [];
  measuring = 0;
  private next = 0.25;

  /** Progress `f` (0..1): a reading when it passes the next quarter. */
  at(f: number): void {
    if (f < this.next) return;
    const g0 = performance.now();
    this.take();
    this.measuring += performance.now() - g0;
    this.next += 0.25;
  }

  take(): void {
    gcIfExposed();
    this.mib.push(process.memoryUsage().heapUsed / MiB);
  }
}

/** Flow mode on the comparison workload; `flat` takes the heap after a GC at each quarter (outside the timing). */
export function flowFigure(text: string, file: string, connections: number, rate: number, flat = false): FlowFigure {
  gcIfExposed();
  const p = prepare(text, file, { scheduler: 'wlc' });
  const spec: WorkloadSpec = { ...p.spec, connections, durationNs: 1e18, events: [], arrivals: { process: 'poisson', rate } };
  (p as { spec: WorkloadSpec }).spec = spec;
  let peakRss = process.memoryUsage.rss();
  let peakHeap = process.memoryUsage().heapUsed;
  const heap = new QuarterHeap();
  const t0 = performance.now();
  const r = runFlow(p, {
    onProgress: f => {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      const h = process.memoryUsage().heapUsed;
      if (h > peakHeap) peakHeap = h;
      if (flat) heap.at(f);
    },
  });
  const wall = (performance.now() - t0 - heap.measuring) / 1000;
  if (flat) heap.take();
  return {
    connections: r.result.connections, rate, wallS: wall, connPerS: r.result.connections / wall, events: r.result.events,
    peakTable: r.result.peakTable, peakRssMiB: peakRss / MiB, peakHeapMiB: peakHeap / MiB, heapMiBAt: heap.mib,
  };
}

export type PacketKind = 'five-step' | 'five-step-fw' | 'workload';

/**
 * Packet mode, trace off (a counting sink). Two kinds of connection:
 * - 'five-step': the reference scenario's connection (connect to the VIP, read the real
 *   server's greeting, close: the five steps of the TUN flow and the teardown), Poisson
 *   arrivals at 1000/s from 200 addresses on the client LAN, without a time limit, so a long
 *   run shows whether memory stays flat (TIME_WAIT sockets and IPVS entries expire as in
 *   the kernel);
 * - 'workload': the scenario's own workload section (compare-schedulers.yaml: thousands of
 *   client addresses, several requests per connection, lognormal holds, keep-alives).
 */
export function packetFigure(text: string, file: string, connections: number, kind: PacketKind): PacketFigure {
  gcIfExposed();
  const sink = new ScheduleSink();
  const p = prepare(text, file, { scheduler: kind === 'workload' ? 'wlc' : undefined, trace: sink });
  if (kind === 'five-step-fw') for (const wh of p.world.hosts.values()) iptablesRestoreText(wh.host, BENCH_FIREWALL);
  if (kind === 'five-step' || kind === 'five-step-fw') {
    const from = p.world.hosts.get(p.spec.from ?? 'client');
    const own = from ? [...from.host.devices.values()].flatMap(d => d.name === 'lo' ? [] : d.addrs.filter(a => a.prefixLen < 32))[0] : undefined;
    if (!own) throw new WorkloadError(`${file}: no client host with an address on its LAN`);
    const base = ((own.addr & ~0xff) | 20) >>> 0;
    (p as { spec: WorkloadSpec }).spec = {
      ...p.spec, connections, durationNs: 1e18, events: [],
      clients: [{ name: 'lan', count: 200, base, size: 200, nat: false, share: 1 }],
      arrivals: { process: 'poisson', rate: 1000 },
      length: { dist: 'fixed', value: 0 }, requests: { dist: 'fixed', value: 0 }, keepaliveShare: 0,
    };
  } else {
    (p as { spec: WorkloadSpec }).spec = { ...p.spec, connections, durationNs: 1e18 };
  }
  const heap = new QuarterHeap();
  const t0 = performance.now();
  const r = runPacket(p, sink, { connections, onProgress: f => heap.at(f) });
  const wall = (performance.now() - t0 - heap.measuring) / 1000;
  return {
    kind, scheduler: p.scheduler, connections: r.result.connections, wallS: wall, connPerS: r.result.connections / wall,
    delivered: sink.delivered, dropped: sink.dropped, heapMiBAt: heap.mib, rssMiBEnd: process.memoryUsage.rss() / MiB,
  };
}

/**
 * The 50-rule firewall every host gets for the firewall figure: in each filter chain 16 rules
 * that no packet of the run matches (other sources and ports), so every packet walks them as
 * legacy iptables does, then in INPUT and FORWARD the usual `-m conntrack --ctstate
 * RELATED,ESTABLISHED -j ACCEPT`, so connection tracking runs on every host; the policies
 * accept the rest (a rule set that drops nothing, so both runs do the same work).
 */
export const BENCH_FIREWALL = (() => {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (const chain of ['INPUT', 'FORWARD', 'OUTPUT']) {
    for (let i = 0; i < 16; i++) lines.push(`-A ${chain} -s 10.${i}.${chain.length}.0/24 -p tcp -m tcp --dport ${1000 + i} -j DROP`);
    if (chain !== 'OUTPUT') lines.push(`-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
})();

/** Median of three runs of the five-step figure, without rules and with BENCH_FIREWALL on every host. */
function firewallFigures(text: string, file: string, n: number): { none: PacketFigure; fw: PacketFigure } {
  const median = (kind: PacketKind): PacketFigure => {
    const xs = [0, 1, 2].map(() => packetFigure(text, file, n, kind)).sort((a, b) => a.connPerS - b.connPerS);
    return xs[1]!;
  };
  return { none: median('five-step'), fw: median('five-step-fw') };
}

/** A scenario shipped with lvsim: from the working directory if it has one, else from the package. */
function shipped(rel: string): string {
  if (existsSync(rel)) return rel;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) if (existsSync(join(dir, rel))) return join(dir, rel);
  return rel;
}

/** A comma-separated list of connection counts ('' for none). */
const counts: Opt<number[]> = {
  value: 'N,N...',
  parse: (raw, flag) => raw.split(',').filter(x => x !== '').map(x => countValue(x, flag, 1, 1e9, '1e9')),
};

const BENCH_FLOW: CommandSpec = {
  name: 'bench-flow', positional: { min: 0, max: 0, what: 'file' },
  usage: 'usage: lvsim bench-flow [--scenario FILE] [--reference FILE] [--flow 1e5,1e6] [--rate 1000] [--flat 1e7] [--packet 1e5,1e6] [--packet-workload 1e5] [--firewall 1e5] [--json]',
  options: {
    scenario: text('FILE'), reference: text('FILE'), flow: counts, rate: count(1, 1e9, '1e9'), flat: count(0, 1e9, '1e9'),
    packet: counts, 'packet-workload': count(0, 1e9, '1e9'), firewall: count(0, 1e9, '1e9'), json: SWITCH,
  },
};

export async function flowSuiteMain(argv: readonly string[]): Promise<number> {
  let a: Parsed;
  try {
    a = parseCommand(BENCH_FLOW, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`lvsim bench-flow: ${e.message}\n`);
    return 2;
  }
  if (a.help) { process.stdout.write(BENCH_FLOW.usage + '\n'); return 0; }
  const file = get<string>(a, 'scenario') ?? shipped('scenarios/compare-schedulers.yaml');
  const refFile = get<string>(a, 'reference') ?? shipped('scenarios/tun-different-subnets.yaml');
  const flows = get<number[]>(a, 'flow') ?? [1e5, 1e6];
  const rate = get<number>(a, 'rate') ?? 1000;
  const packets = get<number[]>(a, 'packet') ?? [1e5, 1e6];
  const workloadPackets = get<number>(a, 'packet-workload') ?? 1e5;
  const json = a.values.has('json');
  const firewall = get<number>(a, 'firewall') ?? 0;
  const read = (f: string): string | null => {
    try { return readFileSync(f, 'utf8'); } catch (e) {
      process.stderr.write(`lvsim bench-flow: cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      return null;
    }
  };
  const text = read(file);
  const refText = packets.length || firewall ? read(refFile) : '';
  if (text === null || refText === null) return 2;
  const flat = get<number>(a, 'flat') ?? 0;
  const out: { flow: FlowFigure[]; packet: PacketFigure[]; lbAbstractEventsPerS?: number; flat?: FlowFigure } = { flow: [], packet: [] };
  try {
    const say = (line: string): void => { if (!json) process.stdout.write(line + '\n'); };
    for (const n of flows) {
      const f = flowFigure(text, file, n, rate);
      out.flow.push(f);
      say(`flow   wlc  ${String(f.connections).padStart(8)} conns  ${f.wallS.toFixed(2).padStart(6)} s  ${Math.round(f.connPerS).toString().padStart(8)} conn/s  ${(f.events / f.connections).toFixed(1)} events/conn  table peak ${f.peakTable}  RSS peak ${f.peakRssMiB.toFixed(0)} MiB  heap peak ${f.peakHeapMiB.toFixed(0)} MiB  (targets: 1e6 < 3 s, < 300 MiB)`);
    }
    if (flows.length > 0) {
      // The engine's own speed here and now: lb-abstract wlc at 1e6 (docs/bench.md), median of 3.
      const lb = [0, 1, 2].map(() => { const b = runBench({ workload: 'lb-abstract', connections: 1e6, seed: 42, scheduler: 'wlc', json: false }); return b.result.events / (b.wallMs / 1000); }).sort((a, b) => a - b)[1]!;
      out.lbAbstractEventsPerS = lb;
      for (const f of out.flow) {
        say(`flow   wlc  ${String(f.connections).padStart(8)} conns: ${Math.round(f.connPerS)} conn/s is 1/${(lb / f.connPerS).toFixed(0)} of lb-abstract's ${(lb / 1e6).toFixed(2)}M events/s in this process; flow events ${(f.events / f.wallS / lb).toFixed(2)}x its rate`);
      }
    }
    if (flat > 0) {
      const f = flowFigure(text, file, flat, rate, true);
      out.flat = f;
      say(`flow   wlc  ${String(f.connections).padStart(8)} conns  ${f.wallS.toFixed(2).padStart(6)} s  ${Math.round(f.connPerS).toString().padStart(8)} conn/s  heap after GC at 25/50/75% and at the end (every entry expired): ${f.heapMiBAt.map(x => x.toFixed(0)).join('/')} MiB  table peak ${f.peakTable}  RSS peak ${f.peakRssMiB.toFixed(0)} MiB (memory stays flat: entries expire as in the kernel)`);
    }
    const runs: Array<[PacketKind, string, number]> = [
      ...packets.map((n): [PacketKind, string, number] => ['five-step', refFile, n]),
      ...(workloadPackets > 0 ? [['workload', file, workloadPackets] as [PacketKind, string, number]] : []),
    ];
    for (const [kind, f, n] of runs) {
      const pf = packetFigure(f === file ? text : refText, f, n, kind);
      out.packet.push(pf);
      const what = kind === 'five-step' ? `five-step connections (${f})` : `workload connections (${f})`;
      say(`packet ${pf.scheduler.padEnd(4)} ${String(pf.connections).padStart(8)} conns  ${pf.wallS.toFixed(2).padStart(6)} s  ${Math.round(pf.connPerS).toString().padStart(8)} conn/s  ${what}, trace off (target >= 20000/s)  heap after GC at 25/50/75%: ${pf.heapMiBAt.map(x => x.toFixed(0)).join('/')} MiB, RSS at end ${pf.rssMiBEnd.toFixed(0)} MiB`);
    }
    if (firewall > 0) {
      const { none, fw } = firewallFigures(refText, refFile, firewall);
      out.packet.push(none, fw);
      say(`packet firewall ${String(firewall).padStart(8)} conns  no rules: ${Math.round(none.connPerS)} conn/s;  50-rule firewall and conntrack on every host: ${Math.round(fw.connPerS)} conn/s (${(100 * fw.connPerS / none.connPerS).toFixed(0)}% of it; target >= 50%), medians of 3, trace off`);
    }
  } catch (e) {
    if (!(e instanceof WorkloadError)) throw e;
    process.stderr.write(`lvsim bench-flow: ${e.message}\n`);
    return 1;
  }
  if (json) process.stdout.write(JSON.stringify(out) + '\n');
  return 0;
}
