/**
 * trace/steps.ts: the steps of a forwarding method as an index over the records, computed from
 * them (never written into a record). A step list belongs to a forwarding method and says, for
 * one record, which step it belongs to from the packet's headers and where it is; another
 * method plugs in its own list.
 *
 * TUN (the five steps as LVS-TUN guides number them):
 *   1 the client's request CIP -> VIP on its way to and into the director, up to IPVS;
 *   2 IPVS looks the connection up or schedules it;
 *   3 the encapsulated DIP -> RIP packet, from the director's encapsulation to the real server's wire;
 *   4 on the real server: decapsulation onto tunl0 and delivery to the socket on the VIP;
 *   5 the reply VIP -> CIP from the real server straight to the client.
 *
 * DR (ip_vs_dr_xmit): 1 and 2 as TUN; 3 the unchanged CIP -> VIP packet from IPVS to the real
 * server's MAC; 4 on the real server, which holds the VIP on lo; 5 the reply VIP -> CIP.
 *
 * NAT (ip_vs_nat_xmit, ip_vs_out_hook): 1 and 2 as TUN; 3 the request DNATed to RIP:port on its
 * way to the real server; 4 the reply RIP:port -> CIP on its way back into the director;
 * 5 the reply SNATed to VIP:port at FORWARD and on to the client.
 */
import type { Ip4 } from '../net/addr';
import { IPPROTO_IPIP } from '../net/packet';
import type { TraceRecord } from './record';

export interface StepContext {
  /** Virtual service addresses (VIPs). */
  readonly vips: ReadonlySet<Ip4>;
  /** Hosts with IPVS services (directors) and hosts that serve a VIP (real servers). */
  readonly directors: ReadonlySet<string>;
  readonly realServers: ReadonlySet<string>;
  /** The real servers' addresses (the destinations' RIPs). */
  readonly rips?: ReadonlySet<Ip4>;
  /** The forwarding method of every destination, when they all share one. */
  readonly method?: 'tunnel' | 'route' | 'masq';
}

/** One step of a method's flow. */
export interface StepDef {
  readonly n: number;
  /** Short title, as the CLI's banner and the browser's badge show it. */
  readonly title: string;
}

/** A forwarding method's steps and the rule that places a record in one. */
export interface StepList {
  readonly method: string;
  readonly steps: readonly StepDef[];
  /**
   * The step number of record `r`, or 0 when it belongs to none. `decapsulated`: whether this
   * packet came out of a tunnel on this host before (a CIP -> VIP packet a real server got
   * straight from its LAN, the director bypassed, is no step of the TUN flow).
   */
  label(r: TraceRecord, ctx: StepContext, decapsulated?: boolean): number;
}

export const TUN_STEPS: StepList = {
  method: 'tun',
  steps: [
    { n: 1, title: 'request reaches the director' },
    { n: 2, title: 'IPVS schedules' },
    { n: 3, title: 'IPIP to the real server' },
    { n: 4, title: 'decapsulated on the real server' },
    { n: 5, title: 'reply straight to the client' },
  ],
  label(r, ctx, decapsulated) {
    const p = r.packet.pkt;
    if (p.proto !== 'ipv4') return 0;
    if (p.protocol === IPPROTO_IPIP && p.payload.proto === 'ipv4' && ctx.vips.has(p.payload.dst)) {
      if (ctx.directors.has(r.host) && r.point === 'ipvs') return 3;
      if (ctx.realServers.has(r.host) && r.verdict !== 'tx' && r.verdict !== 'rx') return 4;
      return 3;
    }
    if (ctx.vips.has(p.dst) && p.payload.proto === 'tcp') {
      if (ctx.realServers.has(r.host)) return decapsulated === false ? 0 : 4;
      if (ctx.directors.has(r.host) && r.point === 'ipvs') return r.verdict === 'encap' ? 3 : 2;
      return 1;
    }
    if (ctx.vips.has(p.src) && p.payload.proto === 'tcp' && !ctx.directors.has(r.host)) return 5;
    return 0;
  },
};

const isTcp = (r: TraceRecord): boolean => r.packet.pkt.proto === 'ipv4' && r.packet.pkt.payload.proto === 'tcp';

/** The director's own output path after IPVS handed the packet on (ip_vs_send_or_cont: LOCAL_OUT, dst_output). */
const afterXmit = (r: TraceRecord): boolean =>
  r.point === 'OUTPUT' || r.point === 'POSTROUTING' || r.point === 'neigh' || r.verdict === 'tx' || (r.point === 'routing' && r.verdict === 'output');

export const DR_STEPS: StepList = {
  method: 'dr',
  steps: [
    { n: 1, title: 'request reaches the director' },
    { n: 2, title: 'IPVS schedules' },
    { n: 3, title: 'sent unchanged to the real server\'s MAC' },
    { n: 4, title: 'taken by the real server (VIP on lo)' },
    { n: 5, title: 'reply straight to the client' },
  ],
  label(r, ctx) {
    if (!isTcp(r)) return 0;
    const p = r.packet.pkt as import('../net/packet').Ipv4;
    if (ctx.vips.has(p.dst)) {
      if (ctx.realServers.has(r.host)) return 4;
      if (ctx.directors.has(r.host)) {
        if (r.point === 'ipvs') return r.verdict === 'xmit' ? 3 : 2;
        return afterXmit(r) ? 3 : 1;
      }
      return 1;
    }
    if (ctx.vips.has(p.src) && !ctx.directors.has(r.host)) return 5;
    return 0;
  },
};

export const NAT_STEPS: StepList = {
  method: 'nat',
  steps: [
    { n: 1, title: 'request reaches the director' },
    { n: 2, title: 'IPVS schedules' },
    { n: 3, title: 'DNAT to the real server' },
    { n: 4, title: 'reply back through the director' },
    { n: 5, title: 'SNAT to the VIP, on to the client' },
  ],
  label(r, ctx) {
    if (!isTcp(r)) return 0;
    const p = r.packet.pkt as import('../net/packet').Ipv4;
    const rips = ctx.rips;
    if (ctx.vips.has(p.dst)) return ctx.directors.has(r.host) && r.point === 'ipvs' ? 2 : 1;
    if (rips?.has(p.dst)) return 3;
    if (rips?.has(p.src)) return 4;
    if (ctx.vips.has(p.src)) return 5;
    return 0;
  },
};

/** The step list for a run: the destinations' common forwarding method, TUN otherwise. */
export function stepListFor(ctx: StepContext): StepList {
  return ctx.method === 'route' ? DR_STEPS : ctx.method === 'masq' ? NAT_STEPS : TUN_STEPS;
}

/** The step of every record of a trace, under one step list. */
export class StepIndex {
  private readonly at: Uint8Array;
  /** Position of the first record of each step (index by step number), -1 when none. */
  readonly first: readonly number[];

  constructor(records: readonly TraceRecord[], ctx: StepContext, readonly list: StepList = stepListFor(ctx)) {
    this.at = new Uint8Array(records.length);
    const first = new Array<number>(list.steps.length + 1).fill(-1);
    const decap = new Set<string>();
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.verdict === 'decap') decap.add(`${r.host} ${r.packet.id}`);
      const s = list.label(r, ctx, decap.has(`${r.host} ${r.packet.id}`));
      this.at[i] = s;
      if (s > 0 && first[s]! < 0) first[s] = i;
    }
    this.first = first;
  }

  /** The step of record `seq`, 0 when none. */
  of(seq: number): number {
    return this.at[seq] ?? 0;
  }

  /** "3 IPIP to the real server". */
  title(n: number): string {
    const s = this.list.steps.find(x => x.n === n);
    return s ? `${s.n} ${s.title}` : '';
  }
}
