/**
 * Test helper: builds Service / Dest objects and drives a scheduler's callbacks the way the
 * kernel's control plane does (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs_sched.c): init_service when bound, add_dest after
 * linking at the head, del_dest after unlinking, upd_dest after an edit.
 */
import { ip4, formatIp4 } from '../../../src/net/addr';
import {
  IP_VS_DEST_F_AVAILABLE,
  IP_VS_DEST_F_OVERLOAD,
  newStats,
  type Dest,
  type ExplainSink,
  type SchedCandidate,
  type SchedContext,
  type SchedPacket,
  type Scheduler,
  type Service,
} from '../../../src/ipvs/types';

export interface DestOpts {
  port?: number;
  weight?: number;
  active?: number;
  inact?: number;
  overload?: boolean;
  u?: number;
  l?: number;
}

export function makeService(sched: Scheduler, opts: { addr?: string; port?: number; flags?: number } = {}): Service {
  const svc: Service = {
    protocol: 'tcp',
    addr: ip4(opts.addr ?? '10.0.0.100'),
    port: opts.port ?? 80,
    flags: opts.flags ?? 0,
    timeout: 0,
    netmask: 0xffffffff,
    scheduler: sched,
    schedData: null,
    dests: [],
    stats: newStats(),
  };
  sched.initService?.(svc);
  return svc;
}

/** ipvsadm -a: link at the head (list_add_rcu), then add_dest. last_weight = weight even if 0. */
export function addDest(svc: Service, addr: string, o: DestOpts = {}): Dest {
  const w = o.weight ?? 1;
  const d: Dest = {
    addr: ip4(addr),
    port: o.port ?? svc.port,
    fwd: 'tunnel',
    weight: w,
    lastWeight: w,
    uThreshold: o.u ?? 0,
    lThreshold: o.l ?? 0,
    flags: IP_VS_DEST_F_AVAILABLE | (o.overload ? IP_VS_DEST_F_OVERLOAD : 0),
    activeconns: o.active ?? 0,
    inactconns: o.inact ?? 0,
    persistconns: 0,
    stats: newStats(),
    svc,
  };
  svc.dests.unshift(d);
  svc.scheduler.addDest?.(svc, d);
  return d;
}

/** Add several in the order given (so the list ends up reversed). */
export function addDests(svc: Service, addrs: string[], o: DestOpts = {}): Dest[] {
  return addrs.map((a) => addDest(svc, a, o));
}

/** ipvsadm -e: edit weight (last_weight follows non-zero weights), then upd_dest. */
export function editDest(svc: Service, d: Dest, o: { weight?: number }): void {
  if (o.weight !== undefined) {
    d.weight = o.weight;
    if (o.weight !== 0) d.lastWeight = o.weight;
  }
  svc.scheduler.updDest?.(svc, d);
}

/** ipvsadm -d: unlink, clear AVAILABLE, then del_dest. */
export function delDest(svc: Service, d: Dest): void {
  const i = svc.dests.indexOf(d);
  if (i < 0) throw new Error('not linked');
  svc.dests.splice(i, 1);
  d.flags &= ~IP_VS_DEST_F_AVAILABLE;
  svc.scheduler.delDest?.(svc, d);
  d.svc = null;
}

export const setOverload = (d: Dest, on: boolean): void => {
  d.flags = on ? d.flags | IP_VS_DEST_F_OVERLOAD : d.flags & ~IP_VS_DEST_F_OVERLOAD;
};

export function pkt(saddr = '203.0.113.7', sport = 12345, daddr = '10.0.0.100', dport = 80): SchedPacket {
  return { saddr: ip4(saddr), daddr: ip4(daddr), sport, dport, protocol: 6 };
}

/** A context with a fixed draw sequence and a settable clock. */
export function ctx(draws: number[] = [], nowNs = 0): SchedContext & { draws: number[]; t: number } {
  const c = {
    draws: draws.slice(),
    t: nowNs,
    randomU32(): number {
      const v = c.draws.shift();
      if (v === undefined) throw new Error('draw sequence exhausted');
      return v >>> 0;
    },
    now(): number {
      return c.t;
    },
  };
  return c;
}

export interface Recorded {
  candidates: SchedCandidate[];
  detail: Record<string, string | number | boolean>;
  summary: string[];
}

/** A context with an explain sink that records everything. */
export function explainCtx(draws: number[] = [], nowNs = 0): { ctx: SchedContext; rec: Recorded } {
  const rec: Recorded = { candidates: [], detail: {}, summary: [] };
  const sink: ExplainSink = {
    candidate: (c) => void rec.candidates.push(c),
    detail: (k, v) => void (rec.detail[k] = v),
    summary: (t) => void rec.summary.push(t),
  };
  return { ctx: { ...ctx(draws, nowNs), explain: sink }, rec };
}

/** Dotted address of a pick ("none" for null). */
export const name = (d: Dest | null): string => (d === null ? 'none' : formatIp4(d.addr));

/** Schedule n times, binding each pick as a new inactive connection if `bind`. */
export function picks(svc: Service, n: number, c: SchedContext = ctx(), p: SchedPacket = pkt(), bind = false): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = svc.scheduler.schedule(svc, p, c);
    if (d && bind) d.activeconns++;
    out.push(name(d));
  }
  return out;
}
