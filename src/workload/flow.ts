/**
 * workload/flow.ts: flow mode. No packets: each connection is the handful of client packets the
 * director sees in TUN mode (tun-path.md §5: SYN, the handshake ACK, one ACK+data per request,
 * FIN, the ACK of the server's FIN), and each goes through the same IPVS calls ip_vs_in_hook
 * makes (ipvs/core.ts): ip_vs_conn_in_get, the reuse/nodest checks, ip_vs_schedule with the
 * real scheduler, ip_vs_in_stats, ip_vs_set_state (INPUT_ONLY table) and ip_vs_conn_put. The
 * entries expire through the connection table's own timers. So the director's ActiveConn /
 * InActConn, and therefore every scheduling decision, follow the kernel's rules.
 *
 * Simplified (one line each):
 * - delays are two constants (network.oneway client -> director, network.rtt), no queueing;
 * - the server side is not modelled beyond "open from handshake to close"; no latency figures;
 * - a client whose SYN goes to a failed server retransmits it at 1, 3, 7, 15, 31 and 63 s
 *   (tcp_syn_retries = 6) and then gives up; connections already open on a failing server go on;
 * - a packet that finds no entry (expired while idle) ends the connection (the director's stack
 *   would answer RST).
 */
import { ExplainCollector } from '../ipvs/core';
import { NS_PER_S, type EventReceiver, type Ns } from '../sim/engine';
import type { Conn } from '../ipvs/ctl';
import type { SchedExplain, SchedPacket } from '../ipvs/types';
import { ConnGenerator } from './generator';
import { MetricsRecorder, type RunResult } from './metrics';
import { addrsOfHost, destName, type Prepared } from './setup';

const SYN = 0x02;
const FIN = 0x01;
const ACK = 0x10;
/** IP + TCP header bytes of the client's packets as the director counts them (options as Linux sends). */
const SYN_BYTES = 60;
const ACK_BYTES = 52;

const P_SYN = 0;
const P_ACK = 1;
const P_REQ = 2;
const P_FIN = 3;
const P_LAST = 4;
const SYN_RETRY_S = [1, 2, 4, 8, 16, 32];

export interface FlowOptions {
  /** Keep the chosen dest index of the first `record` connections (-1 refused). */
  readonly record?: number;
  /** Collect the scheduler's explanation for this connection and stop the run after it. */
  readonly explainConn?: number;
  /** Called now and then with the fraction of connections generated. */
  readonly onProgress?: (fraction: number) => void;
  /** Wall clock for wallMs (the core never reads a clock itself). */
  readonly clock?: () => number;
}

export interface FlowRun {
  readonly result: RunResult;
  readonly chosen: Int16Array;
  readonly explain: SchedExplain | null;
  /** The explained connection: client, time. */
  readonly explained: { index: number; t: Ns; caddr: number; cport: number } | null;
  readonly recorder: MetricsRecorder;
}

/** Run a prepared workload in flow mode to the end (every entry expired). */
export function runFlow(p: Prepared, opts: FlowOptions = {}): FlowRun {
  const driver = new FlowDriver(p, opts);
  return driver.run();
}

class FlowDriver implements EventReceiver {
  private readonly engine: Prepared['world']['engine'];
  private readonly ipvs: Prepared['ipvs'];
  private readonly svc: Prepared['svc'];
  private readonly spec: Prepared['spec'];
  private readonly gen: ConnGenerator;
  private readonly rec: MetricsRecorder;
  private readonly chosen: Int16Array;
  // per-slot connection state
  private cap = 1024;
  private caddr = new Float64Array(this.cap);
  private cport = new Int32Array(this.cap);
  private dest = new Int32Array(this.cap);
  private hold = new Float64Array(this.cap);
  private reqLeft = new Int32Array(this.cap);
  private reqGap = new Float64Array(this.cap);
  private retries = new Int32Array(this.cap);
  private index = new Int32Array(this.cap);
  private free: number[] = [];
  private nextSlot = 0;
  private live = 0;
  private arrivalsDone = false;
  private readonly pkt = { saddr: 0, daddr: 0, sport: 0, dport: 0, protocol: 6 };
  private readonly failed = new Set<number>();
  private readonly arrivals: EventReceiver;
  private explainOut: SchedExplain | null = null;
  private explained: FlowRun['explained'] = null;
  private stop = false;

  constructor(private readonly p: Prepared, private readonly opts: FlowOptions) {
    this.engine = p.world.engine;
    this.ipvs = p.ipvs;
    this.svc = p.svc;
    this.spec = p.spec;
    this.gen = new ConnGenerator(p.spec, p.world.engine);
    this.rec = new MetricsRecorder(p.svc, d => destName(p, d));
    this.chosen = new Int16Array(opts.record ?? 0).fill(-2);
    this.pkt.daddr = p.svc.addr;
    this.pkt.dport = p.svc.port;
    this.arrivals = { onEvent: () => this.arrive() };
  }

  run(): FlowRun {
    const e = this.engine;
    const clock = this.opts.clock;
    const w0 = clock ? clock() : 0;
    const spec = this.spec;
    for (const ev of spec.events) {
      e.at(ev.at, () => {
        if (ev.kind === 'exec') {
          this.p.world.exec(ev.host ?? this.p.director.name, ev.command);
        } else {
          for (const a of addrsOfHost(this.p, ev.host)) ev.kind === 'fail' ? this.failed.add(a) : this.failed.delete(a);
        }
      });
    }
    const sampleNs = spec.sampleNs ?? Math.max(NS_PER_S / 10, Math.round(Math.min(spec.durationNs, this.estimatedDuration()) / 100));
    const sampler = (now: Ns): void => {
      this.rec.sample(now, this.ipvs.table.size);
      if (!this.stop && (!this.arrivalsDone || this.live > 0)) e.at(now + sampleNs, sampler);
    };
    e.at(0, sampler);
    this.scheduleNextArrival();
    if (this.opts.explainConn !== undefined) {
      while (!this.stop && e.step()) { /* until the explained connection */ }
    } else {
      e.run();
    }
    const result = this.rec.finish({
      scenario: this.p.scenario.name, mode: 'flow', scheduler: this.p.scheduler, seed: this.p.seed,
      connections: this.gen.count, simSeconds: e.now / 1e9, wallMs: clock ? clock() - w0 : 0, events: e.processed,
    });
    return { result, chosen: this.chosen, explain: this.explainOut, explained: this.explained, recorder: this.rec };
  }

  private estimatedDuration(): number {
    const a = this.spec.arrivals;
    const rate = a.process === 'day' ? (a.min + a.max) / 2 : a.process === 'bursts' ? a.rate : a.rate;
    return (this.spec.connections / rate) * 1e9;
  }

  private scheduleNextArrival(): void {
    const g = this.gen;
    if (this.stop || !g.next()) { this.arrivalsDone = true; return; }
    this.engine.atCode(g.cur.t + this.spec.onewayNs, this.arrivals, 0);
    if ((g.count & 0x3fff) === 0) this.opts.onProgress?.(g.count / this.spec.connections);
  }

  private alloc(): number {
    if (this.free.length) return this.free.pop()!;
    if (this.nextSlot === this.cap) this.growSlots();
    return this.nextSlot++;
  }

  private growSlots(): void {
    const n = this.cap * 2;
    const g = <T extends Float64Array | Int32Array>(a: T, C: new (n: number) => T): T => { const b = new C(n); b.set(a); return b; };
    this.caddr = g(this.caddr, Float64Array);
    this.cport = g(this.cport, Int32Array);
    this.dest = g(this.dest, Int32Array);
    this.hold = g(this.hold, Float64Array);
    this.reqLeft = g(this.reqLeft, Int32Array);
    this.reqGap = g(this.reqGap, Float64Array);
    this.retries = g(this.retries, Int32Array);
    this.index = g(this.index, Int32Array);
    this.cap = n;
  }

  private release(slot: number): void {
    this.free.push(slot);
    this.live--;
  }

  /** A new client connection: its SYN reaches the director now. */
  private arrive(): void {
    const c = this.gen.cur;
    const s = this.alloc();
    this.live++;
    this.caddr[s] = c.caddr;
    this.cport[s] = c.cport;
    this.hold[s] = c.holdNs;
    this.reqLeft[s] = c.requests;
    this.reqGap[s] = c.requests > 1 ? Math.floor(c.holdNs / c.requests) : 0;
    this.retries[s] = 0;
    this.index[s] = c.index;
    this.dest[s] = -1;
    const explainHere = this.opts.explainConn === c.index;
    const respBytes = c.responseBytes;
    this.syn(s, explainHere);
    if (this.dest[s] >= 0) this.rec.bytes[this.dest[s]]! += respBytes;
    if (explainHere) {
      this.explained = { index: c.index, t: c.t, caddr: c.caddr, cport: c.cport };
      this.stop = true;
    }
    this.scheduleNextArrival();
  }

  /** The client's SYN at the director (first or retransmitted): ip_vs_in_hook for a SYN. */
  private syn(s: number, explainHere: boolean): void {
    const ipvs = this.ipvs;
    const caddr = this.caddr[s]!;
    const cport = this.cport[s]!;
    let cp: Conn | null = ipvs.connInGet(6, caddr, cport, this.svc.addr, this.svc.port);
    if (cp !== null) {
      const sys = this.p.director.host.sysctl;
      const d = cp.dest;
      const nodest = d !== null && d.weight === 0 && sys.num('net.ipv4.vs.expire_nodest_conn') !== 0;
      if (nodest || (sys.num('net.ipv4.vs.conn_reuse_mode') !== 0 && ipvs.isNewConnExpected(cp))) {
        ipvs.expireNow(cp);
        cp = null;
      } else if (d !== null && !ipvs.destAvailable(d)) {
        if (sys.num('net.ipv4.vs.expire_nodest_conn') !== 0) { ipvs.expireNow(cp); cp = null; }
        else { this.fail(s); return; }
      }
    }
    const first = this.retries[s] === 0;
    if (cp === null) {
      const pkt = this.pkt as SchedPacket & { saddr: number; sport: number };
      pkt.saddr = caddr;
      pkt.sport = cport;
      const col = explainHere ? new ExplainCollector() : undefined;
      const res = ipvs.schedule(this.svc, pkt, col);
      const idx = this.index[s]!;
      if (col !== undefined) {
        this.explainOut = col.build(this.svc.scheduler.name, res.conn?.dest ? destKeyOf(res.conn.dest.addr, res.conn.dest.port) : null);
      }
      if (res.conn === null) {
        // ip_vs_leave: ICMP port unreachable; the client gets ECONNREFUSED.
        if (first) { this.rec.refused++; if (idx < this.chosen.length) this.chosen[idx] = -1; }
        this.release(s);
        return;
      }
      cp = res.conn;
      const di = this.rec.indexOf(cp.dest!);
      this.dest[s] = di;
      if (first) {
        this.rec.onScheduled(di);
        if (idx < this.chosen.length) this.chosen[idx] = di;
      }
    } else if (first) {
      // Port reuse hit a live entry: the SYN follows it to the same real server (§5, FIN_WAIT reuse).
      const di = cp.dest ? this.rec.indexOf(cp.dest) : -1;
      this.dest[s] = di;
      const idx = this.index[s]!;
      if (di >= 0) this.rec.onScheduled(di);
      if (idx < this.chosen.length) this.chosen[idx] = di;
    }
    ipvs.inStats(cp, SYN_BYTES);
    ipvs.setState(cp, SYN);
    cp.inPkts++;
    ipvs.connPut(cp);
    if (this.stop) return;
    if (cp.dest !== null && this.failed.has(cp.dest.addr)) {
      const r = this.retries[s]!;
      if (r >= SYN_RETRY_S.length) { this.rec.failed++; this.release(s); return; }
      this.retries[s] = r + 1;
      this.engine.atCode(this.engine.now + SYN_RETRY_S[r]! * NS_PER_S, this, s * 8 + P_SYN);
      return;
    }
    this.engine.atCode(this.engine.now + this.spec.rttNs, this, s * 8 + P_ACK);
  }

  /** A non-SYN client packet: the entry must still exist (else the connection is reset). */
  private packet(s: number, flags: number, bytes: number): boolean {
    const ipvs = this.ipvs;
    const cp = ipvs.connInGet(6, this.caddr[s]!, this.cport[s]!, this.svc.addr, this.svc.port);
    if (cp === null || (cp.dest !== null && !ipvs.destAvailable(cp.dest) && this.p.director.host.sysctl.num('net.ipv4.vs.expire_nodest_conn') === 0)) {
      return false;
    }
    ipvs.inStats(cp, bytes);
    ipvs.setState(cp, flags);
    cp.inPkts++;
    ipvs.connPut(cp);
    return true;
  }

  private fail(s: number): void {
    this.rec.failed++;
    this.release(s);
  }

  /** Coded events: slot * 8 + phase. */
  onEvent(code: number, now: Ns): void {
    const s = code >>> 3;
    const e = this.engine;
    switch (code & 7) {
      case P_SYN:
        this.syn(s, false);
        return;
      case P_ACK: {
        // the handshake ACK carries the first request
        if (!this.packet(s, ACK, ACK_BYTES + this.spec.requestBytes)) { this.fail(s); return; }
        if (this.dest[s]! >= 0) this.rec.open[this.dest[s]!]!++;
        this.hold[s] = now + this.hold[s]!; // from now on: when the client sends its FIN
        this.reqLeft[s]!--;
        if (this.reqLeft[s]! > 0) e.atCode(now + this.reqGap[s]!, this, s * 8 + P_REQ);
        else e.atCode(this.hold[s]!, this, s * 8 + P_FIN);
        return;
      }
      case P_REQ: {
        if (!this.packet(s, ACK, ACK_BYTES + this.spec.requestBytes)) { this.closeBroken(s); return; }
        this.reqLeft[s]!--;
        if (this.reqLeft[s]! > 0) e.atCode(now + this.reqGap[s]!, this, s * 8 + P_REQ);
        else e.atCode(Math.max(now, this.hold[s]!), this, s * 8 + P_FIN);
        return;
      }
      case P_FIN:
        if (!this.packet(s, FIN | ACK, ACK_BYTES)) { this.closeBroken(s); return; }
        e.atCode(now + this.spec.rttNs, this, s * 8 + P_LAST);
        return;
      case P_LAST:
        this.packet(s, ACK, ACK_BYTES);
        if (this.dest[s]! >= 0) this.rec.open[this.dest[s]!]!--;
        this.release(s);
        return;
    }
  }

  private closeBroken(s: number): void {
    if (this.dest[s]! >= 0) this.rec.open[this.dest[s]!]!--;
    this.fail(s);
  }
}

function destKeyOf(addr: number, port: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}:${port}`;
}
