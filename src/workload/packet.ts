/**
 * workload/packet.ts: packet mode. Every connection of the workload is a real client socket on
 * the scenario's client host (world/apps.ts startClient), so every packet crosses every host's
 * kernel model: the client's stack, the router, the director's IPVS hook and tunnel transmit,
 * the real server's decapsulation and socket, and the reply straight back. The client host gets
 * the workload's client addresses with `ip addr add A/32` (a NAT group is one shared address).
 * Which real server took a connection is read from the trace (the director's IPVS `schedule`
 * records), as every view does; the trace can be off (a counting sink keeps only those).
 *
 * Simplified: the scenario's servers answer with their fixed greeting (response sizes are not
 * sent); the client sends requests x request-bytes at once after the greeting, holds the
 * connection for its length, then closes first.
 */
import type { Ipv4, Tcp } from '../net/packet';
import type { ChangeRecord } from '../trace/state';
import { CountingSink, type NewRecord, type TraceSink } from '../trace/sink';
import { releaseClient, startClient } from '../world/apps';
import { KernelError } from '../kernel/host';
import { NS_PER_S, type Ns } from '../sim/engine';
import { ConnGenerator } from './generator';
import { MetricsRecorder, type RunResult } from './metrics';
import { destName, prepare, type Prepared, WorkloadError } from './setup';
import { costProblem } from './cost';

/** Counts terminal verdicts (like CountingSink) and hands the director's IPVS drops to the run. */
export class ScheduleSink extends CountingSink {
  /** Only outcomes matter unless a downstream sink keeps everything. */
  override readonly full: boolean;
  onRecord: ((r: NewRecord) => void) | null = null;
  constructor(readonly next: TraceSink | null = null) {
    super();
    this.full = next !== null && next.full;
  }
  override tally(verdict: 'deliver' | 'consumed'): void {
    super.tally(verdict);
    this.next?.tally(verdict);
  }
  override record(r: NewRecord): void {
    super.record(r);
    if (r.verdict === 'drop' && r.point === 'ipvs') this.onRecord?.(r);
    this.next?.record(r);
  }
  override change(c: Omit<ChangeRecord, 'seq'>): void {
    this.next?.change(c);
  }
}

export interface PacketOptions {
  readonly scheduler?: string;
  readonly seed?: number;
  /** Connections to run (default: the workload's packet.connections, at most its connections). */
  readonly connections?: number;
  /** Keep the chosen dest index of the first `record` connections (-1 refused). */
  readonly record?: number;
  /** Keep every trace record too. */
  readonly trace?: TraceSink;
  readonly clock?: () => number;
  readonly onProgress?: (fraction: number) => void;
}

export interface PacketRun {
  readonly result: RunResult;
  readonly chosen: Int16Array;
  readonly sink: ScheduleSink;
  readonly prepared: Prepared;
}

/** Run a scenario's workload in packet mode. */
export function runPacketText(text: string, file: string, opts: PacketOptions = {}): PacketRun {
  const sink = new ScheduleSink(opts.trace ?? null);
  const p = prepare(text, file, { scheduler: opts.scheduler, seed: opts.seed, trace: sink });
  return runPacket(p, sink, opts);
}

export function runPacket(p: Prepared, sink: ScheduleSink, opts: PacketOptions = {}): PacketRun {
  const clock = opts.clock;
  const w0 = clock ? clock() : 0;
  const { world, spec, svc } = p;
  const engine = world.engine;
  const fromName = spec.from ?? [...world.hosts.values()].find(h => h.role === 'client')?.name;
  const from = fromName ? world.hosts.get(fromName) : undefined;
  if (!from) throw new WorkloadError(`workload: no client host${fromName ? ` '${fromName}'` : ''} (set workload.from)`);
  const dev = [...from.host.devices.values()].find(d => d.name !== 'lo' && !d.name.startsWith('tunl') && d.addrs.length > 0);
  if (!dev) throw new WorkloadError(`workload: client host ${from.name} has no configured interface`);
  const limit = Math.min(opts.connections ?? spec.packetConnections, opts.connections !== undefined ? Infinity : spec.connections);
  const tooCostly = costProblem(spec, 'packet', limit);
  if (tooCostly) throw new WorkloadError(`workload: ${tooCostly.message}`);
  const gen = new ConnGenerator({ ...spec, connections: limit }, engine);
  const rec = new MetricsRecorder(svc, d => destName(p, d));
  const chosen = new Int16Array(opts.record ?? 0).fill(-2);
  const added = new Set<number>(dev.addrs.map(a => a.addr));
  const byKey = new Map<number, number>();
  const destOf = new Int16Array(limit).fill(-1);
  let live = 0;
  let arrivalsDone = false;

  // Refusals come from the trace (a terminal drop record); the decisions from an interposer on
  // the director's ip_vs_schedule (like a kprobe), which also works with the trace off.
  sink.onRecord = (r) => {
    if (r.host !== p.director.name || r.verdict !== 'drop' || r.reason?.code !== 'ipvs_no_dest') return;
    const ip = r.packet.pkt as Ipv4;
    if (ip.proto !== 'ipv4' || ip.payload.proto !== 'tcp') return;
    const idx = byKey.get(ip.src * 65536 + (ip.payload as Tcp).sport);
    if (idx === undefined) return;
    rec.refused++;
    if (idx < chosen.length && chosen[idx] === -2) chosen[idx] = -1;
  };
  const ipvs = p.ipvs;
  const schedule = ipvs.schedule.bind(ipvs);
  ipvs.schedule = (s, pkt, ex) => {
    const res = schedule(s, pkt, ex);
    if (s === svc && res.conn !== null && res.conn.dest !== null) {
      const idx = byKey.get(pkt.saddr * 65536 + pkt.sport);
      if (idx !== undefined) {
        const di = rec.indexOf(res.conn.dest);
        if (destOf[idx] === -1) rec.onScheduled(di);
        destOf[idx] = di;
        if (idx < chosen.length) chosen[idx] = di;
      }
    }
    return res;
  };

  for (const ev of spec.events) {
    engine.at(ev.at, () => {
      if (ev.kind === 'exec') world.exec(ev.host ?? p.director.name, ev.command);
      else {
        const h = world.hosts.get(ev.host);
        if (!h) return;
        for (const d of h.host.devices.values()) if (d.name !== 'lo' && !d.name.startsWith('tunl')) d.carrier = ev.kind === 'recover';
        world.recordConfig(h.name);
      }
    });
  }

  const sampleNs = spec.sampleNs ?? Math.max(NS_PER_S / 100, Math.round(Math.min(spec.durationNs, (limit / rateOf(spec)) * 1e9) / 100));
  const sampler = (now: Ns): void => {
    rec.sample(now, p.ipvs.table.size);
    if (!arrivalsDone || live > 0) engine.at(now + sampleNs, sampler);
  };
  engine.at(0, sampler);

  const next = (): void => {
    if (!gen.next()) { arrivalsDone = true; return; }
    engine.at(gen.cur.t, arrive);
    if ((gen.count & 0x3ff) === 0) opts.onProgress?.(gen.count / limit);
  };
  const arrive = (): void => {
    const c = gen.cur;
    const idx = c.index;
    const hold = c.holdNs;
    const send = c.requests * spec.requestBytes;
    const caddr = c.caddr;
    const cport = c.cport;
    if (!added.has(caddr)) {
      added.add(caddr);
      // What `ip addr add A/32 dev D` does (the command's parsing is not what is measured here).
      // Refused (already there, or the device went away in an exec event): the connection
      // still goes ahead from that address, and fails as it would.
      try { from.host.addAddr(dev.name, caddr, 32); } catch (e) { if (!(e instanceof KernelError)) throw e; }
      world.recordConfig(from.name);
    }
    byKey.set(caddr * 65536 + cport, idx);
    live++;
    const t0 = engine.now;
    startClient(from.host, `w${idx}`, caddr, cport, svc.addr, svc.port, 'hold', send, (r) => {
      if (!r.ok) {
        if (r.error !== 'ECONNREFUSED') rec.failed++;
        live--;
        byKey.delete(caddr * 65536 + cport);
        return;
      }
      rec.latenciesNs.push(engine.now - t0);
      const di = destOf[idx]!;
      if (di >= 0) rec.open[di]!++;
      engine.after(hold, () => releaseClient(r, () => {
        if (di >= 0) rec.open[di]!--;
        live--;
        byKey.delete(caddr * 65536 + cport);
      }));
    });
    next();
  };
  next();
  engine.run();
  const result = rec.finish({
    scenario: p.scenario.name, mode: 'packet', scheduler: p.scheduler, seed: p.seed, connections: gen.count,
    simSeconds: engine.now / 1e9, wallMs: clock ? clock() - w0 : 0, events: engine.processed,
  });
  return { result, chosen, sink, prepared: p };
}

function rateOf(spec: Prepared['spec']): number {
  const a = spec.arrivals;
  return a.process === 'day' ? (a.min + a.max) / 2 : a.rate;
}
