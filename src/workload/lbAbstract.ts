/**
 * workload/lbAbstract.ts: workload `lb-abstract` (docs/bench.md), an LVS
 * director with 8 real servers under Poisson load, run on lvsim's own parts:
 * - the sim Engine and its event queue (coded events, `Engine.atCode`),
 * - a real ipvs `Service` whose `dests` are real `Dest` objects in kernel list order, bound to
 *   the product's scheduler (ipvs/schedulers/wlc.ts or rr.ts) through `Scheduler.schedule`,
 * - the Dest's own `activeconns` / `inactconns` as the per-server counters,
 * - mulberry32 and the exponential draw from sim/rng.ts.
 * Simplified for the workload: no packets, no connection table, no netfilter.
 *
 * List order: the kernel links a new dest at the head of svc->destinations, so the workload's
 * "list order 0..7" is built by adding server 7 first and server 0 last (as `ipvsadm -a` in
 * that order would); svc.dests[i] is then server i, and the scheduler walks 0..7.
 *
 * No wall clock here: the caller times `run`.
 */
import { Engine, type EventReceiver, type Ns } from '../sim/engine';
import { Rng } from '../sim/rng';
import {
  IP_VS_DEST_F_AVAILABLE,
  newStats,
  type Dest,
  type SchedContext,
  type SchedPacket,
  type Scheduler,
  type Service,
} from '../ipvs/types';

export const LB_SERVERS = 8;
export const LB_WEIGHTS: readonly number[] = [1, 1, 2, 2, 3, 3, 4, 4];
export const MEAN_IA_NS = 1_000_000;
export const MEAN_HOLD_NS = 160_000_000;
export const TIME_WAIT_NS = 2_000_000_000;

/** Event codes as docs/bench.md §4 numbers them (they enter the checksum): type + 4·server. */
const ARRIVAL = 0;
const DEPARTURE = 1;
const EXPIRY = 2;

export interface LbAbstractResult {
  readonly events: number;
  readonly simEndNs: Ns;
  readonly perServerCounts: number[];
  readonly maxActive: number[];
  /** area[s] / sim_end_ns, unformatted. */
  readonly meanActive: number[];
  readonly checksum: number;
}

/** The VIP the abstract clients connect to (TEST-NET-1), and the real servers' addresses. */
const VIP = 0xc0000264; // 192.0.2.100
const RIP_BASE = 0x0a000a01; // 10.0.10.1 + i

/** A service bound to `scheduler` with the workload's 8 dests, svc.dests[i] = server i. */
export function makeLbService(scheduler: Scheduler): Service {
  const svc: Service = {
    protocol: 'tcp',
    addr: VIP,
    port: 80,
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    scheduler,
    schedData: null,
    dests: [],
    stats: newStats(),
  };
  scheduler.initService?.(svc); // ip_vs_bind_scheduler()
  for (let i = LB_SERVERS - 1; i >= 0; i--) {
    const w = LB_WEIGHTS[i]!;
    const d: Dest = {
      addr: RIP_BASE + i,
      port: 80,
      fwd: 'tunnel',
      weight: w,
      lastWeight: w,
      uThreshold: 0,
      lThreshold: 0,
      flags: IP_VS_DEST_F_AVAILABLE,
      activeconns: 0,
      inactconns: 0,
      persistconns: 0,
      stats: newStats(),
      svc,
    };
    svc.dests.unshift(d); // list_add_rcu(&dest->n_list, &svc->destinations)
    scheduler.addDest?.(svc, d);
  }
  return svc;
}

/** One run of lb-abstract: construct, then `run()` once. */
export class LbAbstract implements EventReceiver {
  readonly engine: Engine;
  readonly svc: Service;
  private readonly dests: Dest[];
  private readonly rng: Rng;
  private readonly connections: number;
  private readonly scheduler: Scheduler;
  private readonly pkt: SchedPacket;
  private readonly ctx: SchedContext;

  private readonly counts = new Float64Array(LB_SERVERS);
  private readonly maxActive = new Int32Array(LB_SERVERS);
  private readonly area = new Float64Array(LB_SERVERS);
  private readonly last = new Float64Array(LB_SERVERS);
  private hash = 0x811c9dc5 | 0;
  private events = 0;
  private arrived = 0;

  constructor(scheduler: Scheduler, connections: number, seed: number) {
    if (!(Number.isInteger(connections) && connections >= 1)) throw new RangeError(`connections must be a positive integer, got ${connections}`);
    this.engine = new Engine(seed);
    this.scheduler = scheduler;
    this.svc = makeLbService(scheduler);
    this.dests = this.svc.dests.slice();
    // the workload pins one raw mulberry32 stream seeded with the seed itself (docs/bench.md §3)
    this.rng = new Rng(seed);
    this.connections = connections;
    this.pkt = { saddr: 0xc6336401, daddr: VIP, sport: 40000, dport: 80, protocol: 6 };
    const engine = this.engine;
    const twos = engine.rng('ipvs:twos');
    this.ctx = { randomU32: () => twos.nextU32(), now: () => engine.now };
  }

  /** Schedule the first arrival and run until the queue is empty. */
  run(): LbAbstractResult {
    const engine = this.engine;
    engine.atCode(this.rng.expNs(MEAN_IA_NS), this, ARRIVAL);
    engine.run();
    const end = engine.now;
    return {
      events: this.events,
      simEndNs: end,
      perServerCounts: Array.from(this.counts),
      maxActive: Array.from(this.maxActive),
      meanActive: Array.from(this.area, (a) => (end > 0 ? a / end : 0)),
      checksum: this.hash >>> 0,
    };
  }

  onEvent(code: number, now: Ns): void {
    this.events++;
    // ToInt32(now) is now mod 2^32 (docs/bench.md §6)
    this.hash = Math.imul(Math.imul(this.hash ^ now, 16777619) ^ code, 16777619);
    const type = code & 3;
    if (type === ARRIVAL) this.arrival(now);
    else if (type === DEPARTURE) this.departure(code >> 2, now);
    else this.dests[code >> 2]!.inactconns--;
  }

  private arrival(now: Ns): void {
    const hold = this.rng.expNs(MEAN_HOLD_NS);
    const d = this.scheduler.schedule(this.svc, this.pkt, this.ctx);
    if (d === null) throw new Error('lb-abstract: the scheduler found no destination');
    const dests = this.dests;
    let s = 0;
    while (dests[s] !== d) s++;
    this.area[s]! += d.activeconns * (now - this.last[s]!);
    this.last[s] = now;
    const a = ++d.activeconns;
    if (a > this.maxActive[s]!) this.maxActive[s] = a;
    this.counts[s]!++;
    this.engine.atCode(now + hold, this, DEPARTURE | (s << 2));
    if (++this.arrived < this.connections) this.engine.atCode(now + this.rng.expNs(MEAN_IA_NS), this, ARRIVAL);
  }

  private departure(s: number, now: Ns): void {
    const d = this.dests[s]!;
    this.area[s]! += d.activeconns * (now - this.last[s]!);
    this.last[s] = now;
    d.activeconns--;
    d.inactconns++;
    this.engine.atCode(now + TIME_WAIT_NS, this, EXPIRY | (s << 2));
  }
}

/** Run lb-abstract once with `scheduler` (the caller times this call). */
export function runLbAbstract(scheduler: Scheduler, connections: number, seed: number): LbAbstractResult {
  return new LbAbstract(scheduler, connections, seed).run();
}
