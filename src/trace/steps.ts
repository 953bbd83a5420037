/**
 * trace/steps.ts: the steps of a forwarding method as an index over the records, computed from
 * them (never written into a record). A step list belongs to a forwarding method and says, for
 * one record, which step it belongs to from the packet's headers and where it is; another
 * method plugs in its own list.
 *
 * TUN, numbered as the LVS-TUN tutorials number the five steps:
 *   (on the way) the request's hops before the director: the client, the routers; no number;
 *   1 the request CIP -> VIP reaches the director: its device and PREROUTING;
 *   2 routed as local, to INPUT (the filter table passes it);
 *   3 IPVS at INPUT: lookup or scheduling, the route to the real server, the outer header DIP -> RIP;
 *   4 OUTPUT and POSTROUTING on the director, the wire and the routers, up to the real server's eth0;
 *   5 on the real server: decapsulation, delivery to the socket on the VIP, and the reply VIP -> CIP
 *     straight to the client.
 *
 * DR (ip_vs_dr_xmit): 1 and 2 as before IPVS; 3 the unchanged CIP -> VIP packet from IPVS to the
 * real server's MAC; 4 on the real server, which holds the VIP on lo; 5 the reply VIP -> CIP.
 *
 * NAT (ip_vs_nat_xmit, ip_vs_out_hook): 1 and 2 as before IPVS; 3 the request DNATed to RIP:port
 * on its way to the real server; 4 the reply RIP:port -> CIP on its way back into the director;
 * 5 the reply SNATed to VIP:port at FORWARD and on to the client.
 * (DR and NAT keep their own numbering; only TUN's follows the tutorials' boundaries so far.)
 *
 * One rule for every method (StepIndex, requestOnTheWay): the request CIP -> VIP on a host that is
 * neither a director nor a real server, before any director's IPVS transmitted it, is on its way
 * to the director and has no number; a method's list numbers only what follows.
 */
import type { Ip4 } from '../net/addr';
import { IPPROTO_IPIP } from '../net/packet';
import { type TraceRecord, isDevPoint } from './record';
import type { ChangeRecord } from './state';

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
  /** The step as the tutorials teach it. */
  readonly text?: string;
  /** Where the kernel is more precise than the tutorial, in a sentence or two. */
  readonly kernel?: string;
}

/** A record before the director's first point: the request on its way (no number). */
export const ON_THE_WAY = -1;

/** What every method calls the request's hops before the director. */
const ON_THE_WAY_TITLE = 'on the way to the director';

/**
 * The one rule that places the request's hops before the director, for every method: a TCP
 * CIP -> VIP packet on a host that is neither a director nor a real server (the client, the
 * routers), which no director's IPVS has transmitted yet (`sent`; after ip_vs_dr_xmit the same
 * unchanged packet may cross a gateway on its way to the real server, and that is step 3 of DR).
 */
export function requestOnTheWay(r: TraceRecord, ctx: StepContext, sent: boolean): boolean {
  const p = r.packet.pkt;
  if (sent || p.proto !== 'ipv4' || p.payload.proto !== 'tcp' || !ctx.vips.has(p.dst)) return false;
  return !ctx.directors.has(r.host) && !ctx.realServers.has(r.host);
}

/** IPVS on a director handed the packet on to a real server (tunnel, direct routing or NAT transmitter). */
const ipvsSent = (r: TraceRecord, ctx: StepContext): boolean =>
  r.point === 'ipvs' && (r.verdict === 'encap' || r.verdict === 'xmit' || r.verdict === 'dnat') && ctx.directors.has(r.host);

/** A forwarding method's steps and the rule that places a record in one. */
export interface StepList {
  readonly method: string;
  readonly steps: readonly StepDef[];
  /** What the hops before the first step are called. */
  readonly onTheWay: string;
  /**
   * The step number of record `r`, or 0 when it belongs to none (the request on its way to the
   * director is placed before a list is asked, by requestOnTheWay). `decapsulated`:
   * whether this packet came out of a tunnel on this host before (a CIP -> VIP packet a real
   * server got straight from its LAN, the director bypassed, is no step of the TUN flow).
   */
  label(r: TraceRecord, ctx: StepContext, decapsulated?: boolean): number;
}

export const TUN_STEPS: StepList = {
  method: 'tun',
  onTheWay: ON_THE_WAY_TITLE,
  steps: [
    { n: 1, title: "the request enters the director's PREROUTING",
      text: 'The client\'s request reaches the director and enters PREROUTING: source CIP, destination VIP.',
      kernel: 'In the kernel the frame is first received on the device that holds the VIP (netif_receive_skb, ip_rcv); the PREROUTING hook runs before any routing decision.' },
    { n: 2, title: 'routed as local, to INPUT',
      text: 'PREROUTING finds the destination is a local address and passes the packet to INPUT.',
      kernel: 'It is the input route lookup after PREROUTING (ip_route_input, the local table) that finds the VIP local; INPUT (LOCAL_IN) then runs its handlers by priority, the filter table (0) first.' },
    { n: 3, title: 'IPVS at INPUT wraps DIP -> RIP around it',
      text: 'IPVS, at INPUT, sees the packet is for a cluster service, wraps a second IP header around it (source DIP, destination RIP) and sends it to POSTROUTING.',
      kernel: 'ip_vs_in_hook sits at LOCAL_IN priority 99, after the filter table; it finds or schedules the connection, and ip_vs_tunnel_xmit routes to the RIP first (that route picks the DIP as source) and then adds the outer header, leaving the inner CIP -> VIP untouched but for its TTL.' },
    { n: 4, title: 'through POSTROUTING and the "tunnel" to the real server',
      text: 'POSTROUTING sends it, by the new outer header, through the "tunnel" to the real server.',
      kernel: 'The encapsulated packet is locally generated, so it passes OUTPUT before POSTROUTING (ip_local_out); the "tunnel" is ordinary routing of DIP -> RIP, every router forwarding by the outer header only, up to the real server\'s eth0.' },
    { n: 5, title: 'decapsulated on the real server, the reply straight to the client',
      text: 'The real server sees its own address, strips the outer header, finds the inner destination is the VIP on its lo/tunl0 interface, handles the request, and the reply leaves by eth0 with source VIP, destination CIP, never through the director.',
      kernel: 'The outer packet climbs PREROUTING and INPUT to the ipip handler, which gives the inner packet to tunl0; it re-enters ip_rcv as if received on tunl0, so rp_filter is checked on tunl0 and the VIP must be a local address there. The reply is routed by the real server\'s own table.' },
  ],
  label(r, ctx, decapsulated) {
    const p = r.packet.pkt;
    if (p.proto !== 'ipv4') return 0;
    const director = ctx.directors.has(r.host);
    if (p.protocol === IPPROTO_IPIP && p.payload.proto === 'ipv4' && ctx.vips.has(p.payload.dst)) {
      // ip_vs_tunnel_xmit's encapsulation and its route lookup (ip_local_out records the route).
      if (director) return r.point === 'ipvs' || r.point === 'routing' ? 3 : 4;
      if (ctx.realServers.has(r.host)) return r.verdict === 'rx' && isDevPoint(r.point) ? 4 : 5;
      return 4;
    }
    if (ctx.vips.has(p.dst) && p.payload.proto === 'tcp') {
      if (ctx.realServers.has(r.host) && !director) return decapsulated === false ? 0 : 5;
      if (director) {
        if (r.point === 'ipvs') return 3;
        if (r.point === 'INPUT' || r.point === 'routing') return 2;
        return 1;
      }
      return 0;
    }
    if (ctx.vips.has(p.src) && p.payload.proto === 'tcp' && !director) return 5;
    return 0;
  },
};

const isTcp = (r: TraceRecord): boolean => r.packet.pkt.proto === 'ipv4' && r.packet.pkt.payload.proto === 'tcp';

/** The director's own output path after IPVS handed the packet on (ip_vs_send_or_cont: LOCAL_OUT, dst_output). */
const afterXmit = (r: TraceRecord): boolean =>
  r.point === 'OUTPUT' || r.point === 'POSTROUTING' || r.point === 'neigh' || r.verdict === 'tx' || (r.point === 'routing' && r.verdict === 'output');

/** Step 1 of DR and NAT: the same arrival at the director as TUN's steps 1 and 2 together. */
const DIRECTOR_RECEIVES: StepDef = {
  n: 1, title: 'request reaches the director',
  text: 'The client\'s request CIP -> VIP reaches the director, whose VIP is a local address: PREROUTING, then routing says local and the packet goes to INPUT.',
  kernel: 'The VIP must be local on the director (ip_route_input_slow finds it in the local table) or IPVS at LOCAL_IN never sees the packet.',
};

export const DR_STEPS: StepList = {
  method: 'dr',
  onTheWay: ON_THE_WAY_TITLE,
  steps: [
    DIRECTOR_RECEIVES,
    { n: 2, title: 'IPVS schedules',
      text: 'IPVS at INPUT finds the service, picks a real server and creates the connection entry with the direct-routing transmitter.',
      kernel: 'ip_vs_in_hook at LOCAL_IN priority 99; for DR and TUN the table only sees the input half, so its states are the input-only ones (ip_vs_proto_tcp.c tcp_states_dos).' },
    { n: 3, title: 'sent unchanged to the real server\'s MAC',
      text: 'The packet is sent as it is, CIP -> VIP, out of the interface towards the real server, with the real server\'s MAC as destination: only the Ethernet header changes.',
      kernel: 'ip_vs_dr_xmit routes to the RIP with IP_VS_RT_MODE_KNOWN_NH: the next hop is the RIP itself only when it is on-link; otherwise the route\'s gateway gets the frame, and the packet comes back to the director until decrement_ttl stops it.' },
    { n: 4, title: 'taken by the real server (VIP on lo)',
      text: 'The real server receives a frame for its MAC carrying CIP -> VIP; the VIP is configured on its lo, so the packet is local and goes to the socket.',
      kernel: 'arp_ignore=1 and arp_announce=2 keep the real server from answering or announcing the VIP on the shared LAN, or the router would send clients to it directly.' },
    { n: 5, title: 'reply straight to the client',
      text: 'The real server answers VIP -> CIP by its own default route, never through the director.',
      kernel: 'The reply\'s source is the VIP (the socket\'s local address); it leaves by the real server\'s own gateway, which must not be the director (a packet from its own VIP is a martian there).' },
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
      // A gateway the director sent it through (IP_VS_RT_MODE_KNOWN_NH to a RIP not on-link).
      return 3;
    }
    if (ctx.vips.has(p.src) && !ctx.directors.has(r.host)) return 5;
    return 0;
  },
};

export const NAT_STEPS: StepList = {
  method: 'nat',
  onTheWay: ON_THE_WAY_TITLE,
  steps: [
    DIRECTOR_RECEIVES,
    { n: 2, title: 'IPVS schedules',
      text: 'IPVS at INPUT finds the service, picks a real server and creates the connection entry with the NAT transmitter.',
      kernel: 'ip_vs_in_hook at LOCAL_IN priority 99; NAT sees both directions, so the entry moves through the full TCP state table (ESTABLISHED, FIN_WAIT, TIME_WAIT) unlike TUN and DR.' },
    { n: 3, title: 'DNAT to the real server',
      text: 'The destination is rewritten to RIP:port (the port may differ from the service\'s) and the packet is routed to the real server.',
      kernel: 'ip_vs_nat_xmit rewrites the destination and fixes the IP and TCP checksums (tcp_dnat_handler); it is the only method that can map ports.' },
    { n: 4, title: 'reply back through the director',
      text: 'The real server answers RIP -> CIP; its route must send the reply back through the director.',
      kernel: 'The reply is forwarded by the director, so ip_forward must be on there; if the real server has another gateway the reply bypasses the director and the client, expecting the VIP, rejects it.' },
    { n: 5, title: 'SNAT to the VIP, on to the client',
      text: 'The director rewrites the reply\'s source back to VIP:port and forwards it to the client.',
      kernel: 'ip_vs_out_hook at FORWARD priority 100 finds the entry by the reply\'s addresses (handle_response) and rewrites the source.' },
  ],
  label(r, ctx) {
    if (!isTcp(r)) return 0;
    const p = r.packet.pkt as import('../net/packet').Ipv4;
    const rips = ctx.rips;
    if (ctx.vips.has(p.dst)) return ctx.directors.has(r.host) ? (r.point === 'ipvs' ? 2 : 1) : 0;
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

/**
 * Directors, VIPs and real servers as the trace's configuration records say: a host that ever
 * had an IPVS service is a director and its service addresses are VIPs; a host that ever had a
 * VIP as an address (and is not a director) is a real server.
 */
export function stepContextOf(changes: readonly ChangeRecord[]): StepContext {
  const vips = new Set<Ip4>();
  const directors = new Set<string>();
  for (const c of changes) {
    if (c.change.kind === 'service' && c.change.op !== 'del') {
      vips.add(c.change.service.addr);
      directors.add(c.host);
    }
  }
  // The destinations' addresses and their forwarding method, when they all share one.
  const rips = new Set<Ip4>();
  const methods = new Set<'tunnel' | 'route' | 'masq'>();
  for (const c of changes) {
    if (c.change.kind === 'dest' && c.change.op !== 'del' && directors.has(c.host)) { rips.add(c.change.dest.addr); methods.add(c.change.dest.fwd); }
  }
  const method = methods.size === 1 ? [...methods][0] : undefined;
  const realServers = new Set<string>();
  for (const c of changes) {
    if (c.change.kind !== 'addr' || c.change.op !== 'add' || directors.has(c.host)) continue;
    if (vips.has(c.change.addr.addr) || (method === 'masq' && rips.has(c.change.addr.addr))) realServers.add(c.host);
  }
  return { vips, directors, realServers, rips, method };
}

/** The step of every record of a trace, under one step list. */
export class StepIndex {
  private readonly at: Int8Array;
  /** Position of the first record of each step (index by step number), -1 when none. */
  readonly first: readonly number[];

  constructor(records: readonly TraceRecord[], ctx: StepContext, readonly list: StepList = stepListFor(ctx)) {
    this.at = new Int8Array(records.length);
    const first = new Array<number>(list.steps.length + 1).fill(-1);
    const decap = new Set<string>();
    const sent = new Set<number>();
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.verdict === 'decap') decap.add(`${r.host} ${r.packet.id}`);
      if (ipvsSent(r, ctx)) sent.add(r.packet.id);
      const s = requestOnTheWay(r, ctx, sent.has(r.packet.id)) ? ON_THE_WAY : list.label(r, ctx, decap.has(`${r.host} ${r.packet.id}`));
      this.at[i] = s;
      if (s > 0 && first[s]! < 0) first[s] = i;
    }
    this.first = first;
  }

  /** The step number of record `seq`, 0 when none (or on the way). */
  of(seq: number): number {
    const s = this.at[seq] ?? 0;
    return s > 0 ? s : 0;
  }

  /** True for a record of the request on its way to the first step (no number). */
  onTheWay(seq: number): boolean {
    return this.at[seq] === ON_THE_WAY;
  }

  /** The definition of step `n`. */
  step(n: number): StepDef | undefined {
    return this.list.steps.find(x => x.n === n);
  }

  /** "3 IPIP to the real server". */
  title(n: number): string {
    const s = this.step(n);
    return s ? `${s.n} ${s.title}` : '';
  }
}

/** The step index of a trace from its own records: the context and the method from its configuration changes. */
export function stepIndexOf(records: readonly TraceRecord[], changes: readonly ChangeRecord[]): StepIndex {
  return new StepIndex(records, stepContextOf(changes));
}
