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
    case 'pareto': return d.min / Math.pow(u01(r), 1 / d.alpha);
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
  /** Next ephemeral port per client address. */
  private readonly nextPort = new Map<number, number>();
  /** (addr, port) -> end of the connection that holds it; pruned as time passes. */
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
    c.cport = grp.nat || grp.size < grp.count
      ? this.allocPort(c.caddr, t, t + c.holdNs + 2 * s.rttNs + s.onewayNs)
      : this.nextPortOf(c.caddr);
    return true;
  }

  private nextPortOf(addr: number): number {
    const p = this.nextPort.get(addr) ?? PORT_LO + (Math.imul(addr, 0x9e3779b1) >>> 0) % (PORT_HI - PORT_LO + 1);
    this.nextPort.set(addr, p >= PORT_HI ? PORT_LO : p + 1);
    return p;
  }

  /** The next free ephemeral port of a shared address (a NAT never hands out a port still in use). */
  private allocPort(addr: number, now: Ns, end: Ns): number {
    let p = this.nextPort.get(addr) ?? PORT_LO + (Math.imul(addr, 0x9e3779b1) >>> 0) % (PORT_HI - PORT_LO + 1);
    for (let tries = 0; tries <= PORT_HI - PORT_LO; tries++) {
      const key = addr * 65536 + p;
      const busyUntil = this.busy.get(key);
      const cand = p;
      p = p >= PORT_HI ? PORT_LO : p + 1;
      if (busyUntil === undefined || busyUntil <= now) {
        this.nextPort.set(addr, p);
        this.busy.set(key, end);
        if (++this.sincePrune >= 65536) this.prune(now);
        return cand;
      }
    }
    // Every port of this address is in use: reuse the next one anyway (the kernel entry decides).
    this.nextPort.set(addr, p);
    return p;
  }

  private prune(now: Ns): void {
    this.sincePrune = 0;
    for (const [k, end] of this.busy) if (end <= now) this.busy.delete(k);
  }
}
