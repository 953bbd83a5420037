/**
 * ipvs/xmit.ts: ip_vs_tunnel_xmit (net/netfilter/ipvs/ip_vs_xmit.c).
 * Route to the real server (cached per destination with its source address, as dest_dst
 * does), the MTU check against route MTU - 20 with ICMP fragmentation-needed to the client,
 * decrement_ttl on the inner packet, then a new outer header DIP -> RIP, protocol 4, sent
 * with ip_local_out (OUTPUT, POSTROUTING) as a locally generated packet. NF_STOLEN.
 * A connection without a destination (synced from a master, its real server unknown here):
 * the kernel dereferences the missing destination (tun_type, since the GUE/GRE tunnel types)
 * and panics; so does lvsim's host.
 */
import { formatIp4 } from '../net/addr';
import { type Ipv4, IPPROTO_IPIP, ipv4TotalLength } from '../net/packet';
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { type NfVerdict, NF_STOLEN } from '../kernel/netfilter';
import { dropIcmp, ipLocalOut } from '../kernel/ip';
import { SILENT } from '../trace/record';
import { type OutputRoute, ipRouteOutput } from '../kernel/route';
import type { Conn } from './ctl';
import type { Dest } from './types';
import { ipVsXmitCt } from '../kernel/conntrack';
import { panic } from '../kernel/panic';
import { syslog } from '../kernel/proc';

/** dest->dest_dst: the source address chosen for the cached route, and the routes' generation it was chosen in. */
const destDst = new WeakMap<Dest, { saddr: number; generation: number }>();

/** Drop the cached route of a destination (__ip_vs_update_dest resets it on edit/re-add). */
export function resetDestDst(d: Dest): void {
  destDst.delete(d);
}

/** INET_ECN_encapsulate: DSCP copied; ECN copied except CE, which becomes ECT(0). */
function ecnEncapsulate(tos: number): number {
  return (tos & 3) === 3 ? (tos & ~3) | 2 : tos;
}

const noteNoRoute = (rip: number): string => `no route to real server ${formatIp4(rip)}`;
const noteLocalRs = (rip: number): string => `real server ${formatIp4(rip)} is local: no tunnel`;
const noteEncap = (outer: Ipv4, innerTtl: number, mtu: number): string =>
  `IPIP ${formatIp4(outer.src)} > ${formatIp4(outer.dst)} (inner TTL ${innerTtl}->${innerTtl - 1}, tunnel MTU ${mtu})`;

export function ipVsTunnelXmit(host: Host, skb: Skb, cp: Conn): NfVerdict {
  const inner = skb.pkt;
  const dest = cp.dest;
  // __ip_vs_get_out_rt with IP_VS_RT_MODE_CONNECT: look up with saddr 0, then bind the chosen saddr.
  let rt: OutputRoute | null;
  // The cache holds while the host's routes are the ones it was made from: a route or address
  // change bumps the generation (rt_genid_bump_ipv4), dst_check then fails, and
  // __ip_vs_get_out_rt looks the route up again and binds the source it now chooses.
  // An entry without a destination (made by the sync daemon) has no cache: a plain lookup.
  const cached = dest !== null ? destDst.get(dest) : undefined;
  const valid = cached !== undefined && cached.generation === host.routeGen;
  rt = ipRouteOutput(host, cp.daddr, valid ? cached.saddr : null);
  if (rt && !valid && dest !== null) destDst.set(dest, { saddr: rt.src, generation: host.routeGen });
  if (!rt) {
    host.count('IpOutNoRoutes');
    host.emit.drop(skb, 'ipvs', { code: 'no_route', dst: cp.daddr }, SILENT, noteNoRoute, cp.daddr);
    return NF_STOLEN;
  }
  if (rt.local) {
    // The real server is this host: deliver locally, unencapsulated (ip_vs_send_or_cont, local=1).
    host.emit.pass(skb, 'ipvs', 'accept', undefined, noteLocalRs, cp.daddr);
    return { verdict: 'accept' };
  }
  if (dest === null) {
    // ip_vs_tunnel_xmit reads cp->dest->tun_type next, and an entry the sync daemon made without
    // a real server (ip_vs_proc_conn) has none: a NULL pointer dereference. The oops happens in
    // softirq (the packet came from the network), so oops_end panics: "Fatal exception in interrupt".
    host.emit.drop(skb, 'ipvs', { code: 'ipvs_unbound_tunnel', rip: cp.daddr });
    syslog(host, 'kernel', 0, 'BUG: kernel NULL pointer dereference in ip_vs_tunnel_xmit (cp->dest->tun_type)');
    panic(host, 'Fatal exception in interrupt');
    return NF_STOLEN;
  }
  // dst_mtu of the route to the RIP includes a learned PMTU exception (frag-needed from a router).
  const mtu = Math.min(rt.mtu, host.pmtuOf(cp.daddr) ?? rt.mtu) - 20;
  if (mtu < 68) {
    host.emit.drop(skb, 'ipvs', { code: 'ipvs_mtu_too_small', mtu });
    return NF_STOLEN;
  }
  const pmtuDisc = tunnelPmtuDisc(host);
  const len = ipv4TotalLength(inner);
  if (pmtuDisc && inner.df && len > mtu) {
    // ensure_mtu_is_adequate: tell the client the tunnel's MTU; the ICMP leaves from the VIP.
    dropIcmp(host, skb, 'ipvs', { code: 'frag_needed', mtu, len }, 3, 4, mtu, `inner ${len} bytes with DF > tunnel MTU ${mtu} (route MTU ${rt.mtu} - 20)`);
    return NF_STOLEN;
  }
  if (inner.ttl <= 1) {
    // decrement_ttl: time exceeded to the client.
    host.count('IpInHdrErrors');
    dropIcmp(host, skb, 'ipvs', { code: 'ttl_exceeded', ttl: inner.ttl }, 11, 0);
    return NF_STOLEN;
  }
  const dec: Ipv4 = { ...inner, ttl: inner.ttl - 1 };
  const df = pmtuDisc ? dec.df : false;
  const outer: Ipv4 = {
    proto: 'ipv4', src: rt.src, dst: cp.daddr, protocol: IPPROTO_IPIP,
    ttl: dec.ttl, tos: ecnEncapsulate(dec.tos),
    // ip_select_ident: 0 when DF is set (no socket here), else the host's counter.
    id: df ? 0 : (host.ipId = (host.ipId + 1) & 0xffff),
    df, payload: dec,
  };
  // ip_vs_tunnel_xmit_prepare: the skb leaves its conntrack entry (confirmed first with vs.conntrack=1).
  ipVsXmitCt(host, skb);
  skb.pkt = outer;
  skb.ipvsProperty = true;
  skb.ignoreDf = true;
  host.emit.pass(skb, 'ipvs', 'encap', undefined, noteEncap, outer, inner.ttl, mtu);
  ipLocalOut(host, skb, rt);
  return NF_STOLEN;
}

/**
 * sysctl_pmtu_disc (net.ipv4.vs.pmtu_disc, 1 by default): whether ip_vs_tunnel_xmit's
 * ensure_mtu_is_adequate answers a too-large DF packet with fragmentation-needed; at 0 it
 * tunnels it anyway, the outer header without DF.
 */
export function tunnelPmtuDisc(host: Host): boolean {
  return host.sysctl.num('net.ipv4.vs.pmtu_disc') !== 0 || !host.sysctl.ipvsLoaded;
}
