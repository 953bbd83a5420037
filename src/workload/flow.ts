/**
 * workload/flow.ts: flow mode. No packets: each connection is the client packets the director
 * sees in TUN mode (INPUT_ONLY: ip_vs_proto_tcp.c set_tcp_state), in the order and at the times the packet-mode applications
 * (world/apps.ts, client mode hold) produce them, and each goes through ip_vs_in itself
 * (ipvs/core.ts ipVsIn, the function packet mode's ip_vs_in_hook decides with): ip_vs_conn_in_get,
 * the reuse/nodest checks, ip_vs_schedule with the real scheduler, ip_vs_in_stats,
 * ip_vs_set_state (INPUT_ONLY table) and ip_vs_conn_put. The entries expire through the
 * connection table's own timers. So the
 * director's ActiveConn / InActConn, and therefore every scheduling decision, follow the
 * kernel's rules.
 *
 * With S the SYN at the director and R the loop director -> real server -> client -> director:
 *   S          SYN                                    (schedule; SYN_RECV, active)
 *   S + R      handshake ACK                          (ESTABLISHED)
 *   S + 2R     ACK of the server's greeting, then the request segments (all requests at once)
 *   F = S + 2R + length   FIN                         (FIN_WAIT, inactive; length counts from
 *                                                      the greeting at the client)
 *   F + R      ACK of the server's last data, ACK of its FIN; the entry expires 120 s later.
 * The delays are the scenario's link latencies along the routes the hosts' tables choose
 * (client -> VIP, director -> RIP, real server -> client address), per real server and client
 * group, unless the workload sets `network: { oneway, rtt }` (then oneway for client ->
 * director and rtt for R).
 *
 * Simplified (one line each):
 * - no queueing, and no ARP resolution delay on a neighbour's first use (packet mode has it);
 * - a client group's route from a real server is the route to its first address;
 * - segments are cut at the MSS after path MTU discovery through the tunnel (its one-time
 *   fragmentation-needed exchange is not modelled);
 * - the server side is not modelled beyond "open from handshake to close"; no latency figures;
 * - a client whose SYN goes to a failed server retransmits it at 1, 3, 7, 15, 31 and 63 s
 *   (tcp_syn_retries = 6) and then gives up; connections already open on a failing server go on
 *   as if it answered (packet mode's client retransmits an unanswered FIN until it is back);
 * - a packet that finds no entry (expired while idle) ends the connection (the director's stack
 *   would answer RST).
 */
import { ExplainCollector } from '../trace/emit';
import { IN_CONN, IN_UNAVAILABLE, InOutcome, type InPacket, ipVsIn, ipVsInDone } from '../ipvs/core';
import type { Sysctls } from '../kernel/sysctl';
import { NS_PER_S, type EventReceiver, type Lane, type Ns } from '../sim/engine';
import type { Dest, SchedExplain } from '../ipvs/types';
import type { Ip4 } from '../net/addr';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../net/packet';
import { fibLookupLocal, ipRouteOutputAnySrc } from '../kernel/route';
import type { WorldHost } from '../world/world';
import { ConnGenerator } from './generator';
import { MetricsRecorder, type RunResult } from './metrics';
import { addrsOfHost, destName, type Prepared, WorkloadError } from './setup';
import { costProblem } from './cost';

/** IP + TCP header bytes of the client's packets as the director counts them (options as Linux sends). */
const SYN_BYTES = 60;
const ACK_BYTES = 52;
/** Request payload per segment when the routes give no answer: 1500 - 20 (IPIP) - 40 - 12 (TS). */
const DEFAULT_MSS = 1428;

const P_SYN = 0;
const P_ACK = 1;
const P_REQ = 2;
const P_FIN = 3;
const P_LAST = 4;
const SYN_RETRY_S = [1, 2, 4, 8, 16, 32];
const MAX_HOPS = 32;

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
  const tooCostly = costProblem(p.spec, 'flow');
  if (tooCostly) throw new WorkloadError(`workload: ${tooCostly.message}`);
  const driver = new FlowDriver(p, opts);
  return driver.run();
}

/** What a path costs and allows: summed link latencies, and the smallest route MTU on it. */
export interface PathDelay {
  readonly ns: Ns;
  readonly mtu: number;
}

/**
 * The one-way delay of a packet from host `from` to `dst`, which host `to` receives: the sum of
 * the latencies of the links it crosses, hop by hop as each host's routing table sends it (the
 * FIB lookup by destination; the next host is the one whose device on that link holds the next
 * hop, else `to` if it is on the link). Null if a host has no route, no link or no next host for
 * it, or after MAX_HOPS (a routing loop).
 */
export function pathDelay(p: Prepared, from: WorldHost, dst: Ip4, to: WorldHost): PathDelay | null {
  const links = p.world.links;
  let h = from;
  let ns = 0;
  let mtu = Infinity;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (h === to) return { ns, mtu };
    if (fibLookupLocal(h.host, dst) !== null) return null; // delivered to the wrong host
    const rt = ipRouteOutputAnySrc(h.host, dst);
    if (rt === null || rt.local) return null;
    mtu = Math.min(mtu, rt.mtu);
    const link = links.find(l => l.ends.some(e => e.host === h.host && e.dev === rt.dev));
    if (link === undefined) return null;
    const nh = rt.nexthop;
    const end = link.ends.find(e => e.host !== h.host && e.dev.addrs.some(a => a.addr === nh))
      ?? link.ends.find(e => e.host === to.host);
    if (end === undefined) return null;
    const next = [...p.world.hosts.values()].find(w => w.host === end.host);
    if (next === undefined) return null;
    ns += link.latencyNs;
    h = next;
  }
  return null;
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
  private group = new Int32Array(this.cap);
  private hold = new Float64Array(this.cap);
  private requests = new Int32Array(this.cap);
  /** The loop director -> real server -> client -> director of the connection. */
  private loop = new Float64Array(this.cap);
  private retries = new Int32Array(this.cap);
  private index = new Int32Array(this.cap);
  private free: number[] = [];
  private nextSlot = 0;
  private live = 0;
  private arrivalsDone = false;
  /** The client packet ip_vs_in reads, and what it answers: one of each, reused. */
  private readonly pkt: InPacket = { protocol: 6, saddr: 0, sport: 0, daddr: 0, dport: 0, flags: 0, bytes: 0 };
  private readonly out = new InOutcome();
  private readonly sysctl: Sysctls;
  private readonly failed = new Set<number>();
  private readonly arrivals: EventReceiver;
  private readonly arrivalLane: Lane | null;
  private explainOut: SchedExplain | null = null;
  private explained: FlowRun['explained'] = null;
  private stop = false;
  /** The client host (workload.from), whose routes the topology's delays start from; null: use network:. */
  private readonly from: WorldHost | null;
  /** Client -> director delay of a SYN. */
  private readonly oneway: Ns;
  private readonly clientMtu: number;
  /** Per dest index * groups + group: the loop delay R, and per dest index the request MSS (filled on first use). */
  private readonly loops: number[] = [];
  private readonly mssOf: number[] = [];

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
    this.sysctl = p.director.host.sysctl;
    // Flow mode keeps no entry past its expiry: let the table reuse them.
    p.ipvs.table.recycle = true;
    this.arrivals = { onEvent: () => this.arrive() };
    this.arrivalLane = this.engine.stream();
    const fromName = p.spec.from ?? [...p.world.hosts.values()].find(h => h.role === 'client')?.name;
    const from = fromName !== undefined ? p.world.hosts.get(fromName) : undefined;
    const toVip = from !== undefined ? pathDelay(p, from, p.svc.addr, p.director) : null;
    this.from = p.spec.networkFromTopology && toVip !== null ? from! : null;
    this.oneway = this.from !== null ? toVip!.ns : p.spec.onewayNs;
    this.clientMtu = toVip?.mtu ?? 1500;
  }

  /** R for a connection of client group `g` on dest `d` (computed once per pair). */
  private loopOf(d: Dest, di: number, g: number): Ns {
    const k = di * this.spec.clients.length + g;
    const v = this.loops[k];
    if (v !== undefined) return v;
    let r = this.spec.rttNs;
    const rs = this.p.world.hosts.get(this.p.hostOfAddr.get(d.addr) ?? '');
    const from = this.from;
    if (from !== null && rs !== undefined) {
      const out = pathDelay(this.p, this.p.director, d.addr, rs);
      const back = pathDelay(this.p, rs, this.spec.clients[g]!.base, from);
      if (out !== null && back !== null) r = out.ns + back.ns + this.oneway;
    }
    this.loops[k] = r;
    return r;
  }

  /**
   * Request payload per segment on dest `d`: the client's MSS (tcp sendMss: the smaller of the
   * server's announced MSS and the path MTU - 40, less 12 for timestamps), with the path MTU
   * the tunnel's (route MTU to the real server - 20), as path MTU discovery leaves it.
   */
  private mss(d: Dest, di: number): number {
    const v = this.mssOf[di];
    if (v !== undefined) return v;
    let m = DEFAULT_MSS;
    const rs = this.p.world.hosts.get(this.p.hostOfAddr.get(d.addr) ?? '');
    const tun = ipRouteOutputAnySrc(this.p.director.host, d.addr);
    const back = rs !== undefined ? ipRouteOutputAnySrc(rs.host, this.spec.clients[0]!.base) : null;
    if (tun !== null && back !== null && !tun.local) {
      m = Math.min(back.mtu - 40, Math.min(this.clientMtu, tun.mtu - 20) - 40) - 12;
    }
    this.mssOf[di] = m = Math.max(m, 1);
    return m;
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
    // Arrivals come in time order: a stream lane of their own, no sorting.
    this.engine.postStream(this.arrivalLane, g.cur.t + this.oneway, this.arrivals, 0);
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
    this.group = g(this.group, Int32Array);
    this.hold = g(this.hold, Float64Array);
    this.requests = g(this.requests, Int32Array);
    this.loop = g(this.loop, Float64Array);
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
    this.group[s] = c.group;
    this.hold[s] = c.holdNs;
    this.requests[s] = c.requests;
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

  /** The client's SYN at the director (first or retransmitted), through ip_vs_in. */
  private syn(s: number, explainHere: boolean): void {
    const ipvs = this.ipvs;
    const pkt = this.pkt;
    pkt.saddr = this.caddr[s]!;
    pkt.sport = this.cport[s]!;
    pkt.flags = TCP_SYN;
    pkt.bytes = SYN_BYTES;
    const col = explainHere ? new ExplainCollector() : undefined;
    const v = ipVsIn(ipvs, this.sysctl, pkt, this.out, col !== undefined ? { explainer: () => col } : undefined);
    if (v === IN_UNAVAILABLE) { this.fail(s); return; }
    const first = this.retries[s] === 0;
    const out = this.out;
    if (col !== undefined) {
      this.explainOut = col.build(this.svc.scheduler.name, v === IN_CONN && out.cp!.dest ? destKeyOf(out.cp!.dest.addr, out.cp!.dest.port) : null);
    }
    if (v !== IN_CONN) {
      // ip_vs_leave answers ICMP port unreachable; a packet IPVS does not take meets the
      // director's own stack, which answers RST: either way the client gets ECONNREFUSED.
      const idx = this.index[s]!;
      if (first) { this.rec.refused++; if (idx < this.chosen.length) this.chosen[idx] = -1; }
      this.release(s);
      return;
    }
    const cp = out.cp!;
    if (out.scheduled) {
      const idx = this.index[s]!;
      const di = this.rec.indexOf(cp.dest!);
      this.dest[s] = di;
      if (first) {
        this.rec.onScheduled(di);
        if (idx < this.chosen.length) this.chosen[idx] = di;
      }
    } else if (first) {
      // Port reuse hit a live entry: the SYN follows it to the same real server (FIN_WAIT reuse).
      const di = cp.dest ? this.rec.indexOf(cp.dest) : -1;
      this.dest[s] = di;
      const idx = this.index[s]!;
      if (di >= 0) this.rec.onScheduled(di);
      if (idx < this.chosen.length) this.chosen[idx] = di;
    }
    ipVsInDone(ipvs, cp);
    if (this.stop) return;
    if (cp.dest !== null && this.failed.size !== 0 && this.failed.has(cp.dest.addr)) {
      const r = this.retries[s]!;
      if (r >= SYN_RETRY_S.length) { this.rec.failed++; this.release(s); return; }
      this.retries[s] = r + 1;
      this.engine.atCode(this.engine.now + SYN_RETRY_S[r]! * NS_PER_S, this, s * 8 + P_SYN);
      return;
    }
    const di = this.dest[s]!;
    const loop = cp.dest !== null && di >= 0 ? this.loopOf(cp.dest, di, this.group[s]!) : this.spec.rttNs;
    this.loop[s] = loop;
    // R takes one value per real server and client group: its events go through the engine's lanes.
    this.engine.postAfter(loop, this, s * 8 + P_ACK);
  }

  /** A non-SYN client packet through ip_vs_in: it needs its entry (else the connection is reset). */
  private packet(s: number, flags: number, bytes: number): boolean {
    const pkt = this.pkt;
    pkt.saddr = this.caddr[s]!;
    pkt.sport = this.cport[s]!;
    pkt.flags = flags;
    pkt.bytes = bytes;
    if (ipVsIn(this.ipvs, this.sysctl, pkt, this.out) !== IN_CONN) return false;
    ipVsInDone(this.ipvs, this.out.cp!);
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
      case P_ACK:
        // The handshake ACK; the server greets when it arrives there.
        if (!this.packet(s, TCP_ACK, ACK_BYTES)) { this.fail(s); return; }
        e.postAfter(this.loop[s]!, this, s * 8 + P_REQ);
        return;
      case P_REQ: {
        // The client read the greeting: it ACKs it, sends every request at once, and holds.
        if (!this.packet(s, TCP_ACK, ACK_BYTES)) { this.fail(s); return; }
        const di = this.dest[s]!;
        let left = this.requests[s]! * this.spec.requestBytes;
        if (left > 0) {
          const mss = di >= 0 ? this.mss(this.rec.dests[di]!, di) : DEFAULT_MSS;
          for (; left > 0; left -= mss) this.packet(s, TCP_ACK | TCP_PSH, ACK_BYTES + Math.min(mss, left));
        }
        if (di >= 0) this.rec.open[di]!++;
        e.postCode(this.hold[s]!, this, s * 8 + P_FIN);
        return;
      }
      case P_FIN:
        if (!this.packet(s, TCP_FIN | TCP_ACK, ACK_BYTES)) { this.closeBroken(s); return; }
        e.postAfter(this.loop[s]!, this, s * 8 + P_LAST);
        return;
      case P_LAST:
        // The client ACKs the server's last data ("NAME bytes=N") and its FIN.
        if (this.packet(s, TCP_ACK, ACK_BYTES)) this.packet(s, TCP_ACK, ACK_BYTES);
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
