/**
 * cli/benchFlow.ts: the workload part of `npm run bench`:
 * - flow mode: 1e5 and 1e6 connections of scenarios/compare-schedulers.yaml's workload (at a
 *   higher arrival rate, so the director's table holds hundreds of thousands of entries) through
 *   the full IPVS connection table, TCP state timers and wlc; wall time and peak memory;
 * - packet mode: connections per second through the full five-step path with the trace off
 *   (counting sink), and the heap over a long run (entries expire as in the kernel, so it stays flat).
 *
 *   lvsim bench-flow [--scenario FILE] [--flow 1e5,1e6] [--rate 1000] [--packet 20000] [--json]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { prepare } from '../workload/setup';
import { runFlow } from '../workload/flow';
import { runPacket, ScheduleSink } from '../workload/packet';
import type { WorkloadSpec } from '../workload/spec';

const MiB = 1024 * 1024;

interface FlowFigure { connections: number; rate: number; wallS: number; connPerS: number; events: number; peakTable: number; peakRssMiB: number; peakHeapMiB: number }
interface PacketFigure { connections: number; wallS: number; connPerS: number; delivered: number; dropped: number; heapMiBAt: number[]; rssMiBEnd: number }

function gcIfExposed(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

export function flowFigure(text: string, file: string, connections: number, rate: number): FlowFigure {
  gcIfExposed();
  const p = prepare(text, file, { scheduler: 'wlc' });
  const spec: WorkloadSpec = { ...p.spec, connections, durationNs: 1e18, events: [], arrivals: { process: 'poisson', rate } };
  (p as { spec: WorkloadSpec }).spec = spec;
  let peakRss = process.memoryUsage.rss();
  let peakHeap = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const r = runFlow(p, {
    onProgress: () => {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      const h = process.memoryUsage().heapUsed;
      if (h > peakHeap) peakHeap = h;
    },
  });
  const wall = (performance.now() - t0) / 1000;
  return {
    connections: r.result.connections, rate, wallS: wall, connPerS: r.result.connections / wall, events: r.result.events,
    peakTable: r.result.peakTable, peakRssMiB: peakRss / MiB, peakHeapMiB: peakHeap / MiB,
  };
}

/**
 * Packet mode. `natOnly`: every client behind the client host's own address (no address churn on
 * the client host: each `ip addr add` bumps its route generation and grows its address list).
 */
export function packetFigure(text: string, file: string, connections: number, natOnly = false): PacketFigure {
  gcIfExposed();
  const sink = new ScheduleSink();
  const p = prepare(text, file, { scheduler: 'wlc', trace: sink });
  if (natOnly) {
    const from = p.world.hosts.get(p.spec.from ?? 'client');
    const own = from ? [...from.host.devices.values()].flatMap(d => d.name === 'lo' ? [] : d.addrs.map(a => a.addr))[0] : undefined;
    if (own !== undefined) (p as { spec: WorkloadSpec }).spec = { ...p.spec, clients: [{ name: 'nat', count: 1000, base: own, size: 1, nat: true, share: 1 }] };
  }
  const heap: number[] = [];
  let nextMark = 0.25;
  const t0 = performance.now();
  const r = runPacket(p, sink, {
    connections,
    onProgress: f => { if (f >= nextMark) { heap.push(process.memoryUsage().heapUsed / MiB); nextMark += 0.25; } },
  });
  const wall = (performance.now() - t0) / 1000;
  return {
    connections: r.result.connections, wallS: wall, connPerS: r.result.connections / wall,
    delivered: sink.delivered, dropped: sink.dropped, heapMiBAt: heap, rssMiBEnd: process.memoryUsage.rss() / MiB,
  };
}

export async function flowSuiteMain(argv: readonly string[]): Promise<number> {
  let file = 'scenarios/compare-schedulers.yaml';
  let flows = [1e5, 1e6];
  let rate = 1000;
  let packet = 20000;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => { const x = argv[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--scenario') file = v();
    else if (a === '--flow') flows = v().split(',').map(Number);
    else if (a === '--rate') rate = Number(v());
    else if (a === '--packet') packet = Number(v());
    else if (a === '--json') json = true;
    else { process.stderr.write(`lvsim bench-flow: unknown option '${a}'\n`); return 2; }
  }
  const text = readFileSync(file, 'utf8');
  const out: { flow: FlowFigure[]; packet: PacketFigure | null; packetNat: PacketFigure | null } = { flow: [], packet: null, packetNat: null };
  const lines: string[] = [];
  for (const n of flows) {
    const f = flowFigure(text, file, n, rate);
    out.flow.push(f);
    lines.push(`flow   wlc  ${String(f.connections).padStart(8)} conns  ${f.wallS.toFixed(2).padStart(6)} s  ${Math.round(f.connPerS).toString().padStart(8)} conn/s  table peak ${f.peakTable}  RSS peak ${f.peakRssMiB.toFixed(0)} MiB  heap peak ${f.peakHeapMiB.toFixed(0)} MiB  (targets: 1e6 < 10 s, < 500 MiB)`);
    if (!json) process.stdout.write(lines[lines.length - 1] + '\n');
  }
  if (packet > 0) {
    for (const natOnly of [false, true]) {
      const pf = packetFigure(text, file, packet, natOnly);
      if (natOnly) out.packetNat = pf; else out.packet = pf;
      lines.push(`packet wlc  ${String(pf.connections).padStart(8)} conns  ${pf.wallS.toFixed(2).padStart(6)} s  ${Math.round(pf.connPerS).toString().padStart(8)} conn/s  ${natOnly ? 'one client address' : 'workload clients  '} (five-step path, trace off; target >= 20000/s)  heap at 25/50/75/100%: ${pf.heapMiBAt.map(x => x.toFixed(0)).join('/')} MiB`);
      if (!json) process.stdout.write(lines[lines.length - 1] + '\n');
    }
  }
  if (json) process.stdout.write(JSON.stringify(out) + '\n');
  return 0;
}
