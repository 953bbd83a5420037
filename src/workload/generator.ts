/**
 * workload/generator.ts: the sequence of client connections a workload describes, drawn from
 * the engine's seeded streams (engine.rng('workload:...')), one stream per quantity so that
 * changing, say, the length distribution never moves the arrival times. Both fidelities (flow
 * and packet) read the same generator, so the same seed gives the same arrivals, clients,
 * ports and lengths in both. It is lazy: one connection at a time, for runs of millions.
 */
import type { Rng } from '../sim/rng';
import type { Engine, Ns } from '../sim/engine';
import type { Arrivals, Dist, WorkloadSpec } from './spec';

/** Uniform in (0, 1]. */
const u01 = (r: Rng): number => 1 - r.nextU32() / 4294967296;

/** One draw from `d` (the same units as the distribution's parameters). */
export function draw(d: Dist, r: Rng): number {
  switch (d.dist) {
    case 'fixed': return d.value;
    case 'exponential': return -Math.log(u01(r)) * d.mean;
    case 'uniform': return d.min + (d.max - d.min) * r.next();
    // u^(1/alpha) as exp(log(u) / alpha): the same value to the last bit or two, at half of Math.pow's cost.
    case 'pareto': return d.min / Math.exp(Math.log(u01(r)) / d.alpha);
    case 'lognormal': {
      // Box-Muller, one normal per pair of uniforms (no cached second value: fewer states).
      const z = Math.sqrt(-2 * Math.log(u01(r))) * Math.cos(2 * Math.PI * r.next());
      return d.median * Math.exp(d.sigma * z);
    }
  }
}

/** Mean of `d` (Infinity for a Pareto with alpha <= 1). */
export function distMean(d: Dist): number {
  switch (d.dist) {
    case 'fixed': return d.value;
    case 'exponential': return d.mean;
    case 'uniform': return (d.min + d.max) / 2;
    case 'pareto': return d.alpha > 1 ? (d.alpha * d.min) / (d.alpha - 1) : Infinity;
    case 'lognormal': return d.median * Math.exp((d.sigma * d.sigma) / 2);
  }
}

/** Arrival rate (per second) at time t, and its maximum (for thinning). */
export function rateAt(a: Arrivals, t: Ns): number {
  switch (a.process) {
    case 'poisson': case 'constant': return a.rate;
    case 'bursts': return t % a.everyNs < a.lengthNs ? a.burstRate : a.rate;
    case 'day': {
      const x = ((t + a.phaseNs) % a.periodNs) / a.periodNs;
      return a.min + ((a.max - a.min) * (1 - Math.cos(2 * Math.PI * x))) / 2;
    }
  }
}

function maxRate(a: Arrivals): number {
  switch (a.process) {
    case 'poisson': case 'constant': return a.rate;
    case 'bursts': return Math.max(a.rate, a.burstRate);
    case 'day': return a.max;
  }
}

/** One generated connection (a reused record: copy what you keep). */
export interface ConnSpec {
  /** 0-based arrival order. */
  index: number;
  /** When the client sends its SYN. */
  t: Ns;
  caddr: number;
  cport: number;
  /** Client group index. */
  group: number;
  /** Established -> client FIN. */
  holdNs: Ns;
  requests: number;
  /** Bytes the server sends for the whole connection. */
  responseBytes: number;
  keepalive: boolean;
}

const PORT_LO = 32768;
const PORT_HI = 60999;
/** Shared addresses whose ports are tracked in an array each (28232 ports, 220 KiB); more use a map. */
const BUSY_DENSE_MAX = 64;

/** Dense address indexes by group (see ConnGenerator.slotBase), or null when groups share addresses or hold too many. */
function denseSlots(groups: WorkloadSpec['clients']): number[] | null {
  const spans = groups.map(g => [g.base >>> 0, (g.base >>> 0) + (g.nat ? 1 : g.size)] as const);
  let n = 0;
  for (const [lo, hi] of spans) n += hi - lo;
  if (n > 1 << 22) return null;
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) if (spans[i]![0] < spans[j]![1] && spans[j]![0] < spans[i]![1]) return null;
  }
  const base: number[] = [];
  n = 0;
  for (const [lo, hi] of spans) { base.push(n); n += hi - lo; }
  return base;
}

export class ConnGenerator {
  private readonly rArr: Rng;
  private readonly rCli: Rng;
  private readonly rLen: Rng;
  private readonly rReq: Rng;
  private readonly rResp: Rng;
  private readonly rKa: Rng;
  private readonly cum: number[];
  private readonly maxRate: number;
  private t = 0;
  private n = 0;
  /**
   * Client addresses get dense indexes: group g's addresses are slotBase[g] + their offset in
   * the group when no two groups share an address (the usual case), else a map hands them out
   * on first use. The port state below is kept by index, so the hot path hashes no address.
   */
  private readonly slotBase: number[] | null;
  private readonly slotOf = new Map<number, number>();
  /** Next ephemeral port per client address index (0: not used yet). */
  private nextPort: Int32Array;
  /**
   * Per shared address index, when each of its ports is free again (the end of the connection
   * that last took it), indexed by port - PORT_LO; for the first BUSY_DENSE_MAX shared
   * addresses. Others use `busy`.
   */
  private readonly busyDense: (Float64Array | undefined)[] = [];
  private denseCount = 0;
  /** (address index, port) -> end of the connection that holds it; pruned as time passes. */
  private readonly busy = new Map<number, number>();
  private sincePrune = 0;
  readonly cur: ConnSpec = { index: -1, t: 0, caddr: 0, cport: 0, group: 0, holdNs: 0, requests: 1, responseBytes: 0, keepalive: false };

  constructor(readonly spec: WorkloadSpec, engine: Engine) {
    this.rArr = engine.rng('workload:arrivals');
    this.rCli = engine.rng('workload:clients');
    this.rLen = engine.rng('workload:length');
    this.rReq = engine.rng('workload:requests');
    this.rResp = engine.rng('workload:response');
    this.rKa = engine.rng('workload:keepalive');
    let acc = 0;
    this.cum = spec.clients.map(g => (acc += g.share));
    this.maxRate = maxRate(spec.arrivals);
    this.slotBase = denseSlots(spec.clients);
    const total = this.slotBase ? spec.clients.reduce((n, g) => n + (g.nat ? 1 : g.size), 0) : 1024;
    this.nextPort = new Int32Array(total);
  }

  /** The dense index of client `client`'s address in group `g`. */
  private slot(g: number, addr: number): number {
    const grp = this.spec.clients[g]!;
    if (this.slotBase !== null) return this.slotBase[g]! + (grp.nat ? 0 : (addr - grp.base) >>> 0);
    let i = this.slotOf.get(addr);
    if (i === undefined) {
      i = this.slotOf.size;
      this.slotOf.set(addr, i);
      if (i >= this.nextPort.length) {
        const b = new Int32Array(this.nextPort.length * 2);
        b.set(this.nextPort);
        this.nextPort = b;
      }
    }
    return i;
  }

  /** Connections generated so far. */
  get count(): number {
    return this.n;
  }

  /** Time of the next arrival (advances the arrival stream), or null when the workload is over. */
  private nextArrival(): Ns | null {
    const a = this.spec.arrivals;
    if (a.process === 'constant') {
      const t = this.n === 0 ? 0 : this.t + Math.round(1e9 / a.rate);
      return t;
    }
    let t = this.t;
    // Lewis-Shedler thinning against the maximum rate (exact for the homogeneous case).
    for (;;) {
      t += Math.round(-Math.log(u01(this.rArr)) * (1e9 / this.maxRate));
      if (t > this.spec.durationNs) return null;
      if (a.process === 'poisson') return t;
      if (this.rArr.next() * this.maxRate < rateAt(a, t)) return t;
    }
  }

  /** Generate the next connection into `cur`; false when the workload is over. */
  next(): boolean {
    const s = this.spec;
    if (this.n >= s.connections) return false;
    const t = this.nextArrival();
    if (t === null || t > s.durationNs) return false;
    this.t = t;
    const c = this.cur;
    c.index = this.n++;
    c.t = t;
    // client group by share, then a client of the group, then its address
    const total = this.cum[this.cum.length - 1]!;
    const x = this.rCli.next() * total;
    let g = 0;
    while (g < this.cum.length - 1 && x >= this.cum[g]!) g++;
    const grp = s.clients[g]!;
    const client = Math.floor(this.rCli.next() * grp.count);
    c.group = g;
    c.caddr = (grp.base + (grp.nat ? 0 : client % grp.size)) >>> 0;
    c.keepalive = s.keepaliveShare > 0 && this.rKa.next() < s.keepaliveShare;
    c.holdNs = Math.max(0, Math.round(draw(c.keepalive ? s.keepaliveLength : s.length, this.rLen)));
    c.requests = Math.max(1, Math.round(draw(s.requests, this.rReq)));
    let bytes = 0;
    for (let i = 0; i < c.requests; i++) bytes += Math.round(draw(s.response, this.rResp));
    c.responseBytes = bytes;
    // One client per address: its own ports wrap only after 28232 connections, so no busy check.
    const slot = this.slot(g, c.caddr);
    c.cport = grp.nat || grp.size < grp.count
      ? this.allocPort(slot, c.caddr, t, t + c.holdNs + 2 * s.rttNs + s.onewayNs)
      : this.nextPortOf(slot, c.caddr);
    return true;
  }

  /** The address's next ephemeral port; the first one is spread by a hash of the address. */
  private firstPort(slot: number, addr: number): number {
    const p = this.nextPort[slot]!;
    return p !== 0 ? p : PORT_LO + (Math.imul(addr, 0x9e3779b1) >>> 0) % (PORT_HI - PORT_LO + 1);
  }

  private nextPortOf(slot: number, addr: number): number {
    const p = this.firstPort(slot, addr);
    this.nextPort[slot] = p >= PORT_HI ? PORT_LO : p + 1;
    return p;
  }

  /** The next free ephemeral port of a shared address (a NAT never hands out a port still in use). */
  private allocPort(slot: number, addr: number, now: Ns, end: Ns): number {
    let dense = this.busyDense[slot];
    if (dense === undefined && this.denseCount < BUSY_DENSE_MAX) {
      dense = this.busyDense[slot] = new Float64Array(PORT_HI - PORT_LO + 1);
      this.denseCount++;
    }
    let p = this.firstPort(slot, addr);
    for (let tries = 0; tries <= PORT_HI - PORT_LO; tries++) {
      const cand = p;
      p = p >= PORT_HI ? PORT_LO : p + 1;
      // When the port is free again: in the address's array (0: never taken), else in the map.
      const busyUntil = dense !== undefined ? dense[cand - PORT_LO]! : this.busy.get(slot * 65536 + cand) ?? 0;
      if (busyUntil <= now) {
        this.nextPort[slot] = p;
        if (dense !== undefined) dense[cand - PORT_LO] = end;
        else {
          this.busy.set(slot * 65536 + cand, end);
          if (++this.sincePrune >= 65536) this.prune(now);
        }
        return cand;
      }
    }
    // Every port of this address is in use: reuse the next one anyway (the kernel entry decides).
    this.nextPort[slot] = p;
    return p;
  }

  private prune(now: Ns): void {
    this.sincePrune = 0;
    for (const [k, end] of this.busy) if (end <= now) this.busy.delete(k);
  }
}
