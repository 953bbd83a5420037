/**
 * ipvs/out_rt.ts: __ip_vs_get_out_rt (net/netfilter/ipvs/ip_vs_xmit.c), the route a
 * transmitter sends a scheduled packet by, with the route-mode flags each transmitter passes:
 *
 *   ip_vs_dr_xmit   LOCAL | NON_LOCAL | KNOWN_NH     (the packet keeps daddr = VIP)
 *   ip_vs_nat_xmit  LOCAL | NON_LOCAL | RDR          (daddr becomes RIP)
 *
 * do_output_route4 looks up the real server's address. FLOWI_FLAG_KNOWN_NH (route.c
 * __mkroute_output, rt_set_nexthop) makes a route without a gateway carry the real server's
 * address as its next hop, so the neighbour lookup is for RIP although the IP header still
 * says VIP. A route WITH a gateway keeps its gateway: a DR real server that is not on-link is
 * not an ARP failure, the unchanged CIP -> VIP packet goes to the gateway's MAC, and the
 * gateway routes it by its destination, the VIP. Then, in order: crosses_local_route_boundary,
 * a local real server (the packet goes on to the local stack), decrement_ttl (ICMP time
 * exceeded at TTL 1), and ensure_mtu_is_adequate (DF and longer than the route MTU: ICMP
 * fragmentation needed). No route: dst_link_failure, ICMP host unreachable to the sender.
 * Not modelled: the per-destination route cache (dest_dst), which only saves lookups here.
 */
import { formatIp4, isLoopback } from '../net/addr';
import { type Ipv4, IPPROTO_ICMP, ipv4TotalLength } from '../net/packet';
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { dropIcmp } from '../kernel/ip';
import { SILENT } from '../trace/record';
import { type OutputRoute, ipRouteOutput } from '../kernel/route';

/** IP_VS_RT_MODE_* (ip_vs_xmit.c). */
export const IP_VS_RT_MODE_LOCAL = 1;
export const IP_VS_RT_MODE_NON_LOCAL = 2;
export const IP_VS_RT_MODE_RDR = 4;
export const IP_VS_RT_MODE_KNOWN_NH = 16;

/** The outcome: the packet goes to the local stack, leaves by `rt`, or was dropped (traced). */
export type OutRt = { kind: 'local' } | { kind: 'remote'; rt: OutputRoute } | { kind: 'dropped' };

const LOCAL: OutRt = { kind: 'local' };
const DROPPED: OutRt = { kind: 'dropped' };

/**
 * __ip_vs_get_out_rt for a packet from the network (skb->dev set, its input route local).
 * On success the skb holds the packet with its TTL decremented.
 */
export function ipVsGetOutRt(host: Host, skb: Skb, daddr: number, rtMode: number): OutRt {
  const method = (rtMode & IP_VS_RT_MODE_KNOWN_NH) !== 0 ? 'route' : 'masq';
  const rt = ipRouteOutput(host, daddr);
  if (rt === null) {
    // err_unreach: dst_link_failure -> ipv4_link_failure sends host unreachable to the sender.
    host.count('IpOutNoRoutes');
    dropIcmp(host, skb, 'ipvs', { code: 'no_route', dst: daddr }, 3, 1, undefined, `no route to real server ${formatIp4(daddr)}`);
    return DROPPED;
  }
  const p = skb.pkt;
  // crosses_local_route_boundary: the packet came in by a local input route (LOCAL_IN), so a
  // local real server is always allowed here; a non-local one never takes a loopback source.
  if (rt.local ? (rtMode & IP_VS_RT_MODE_LOCAL) === 0 : (rtMode & IP_VS_RT_MODE_NON_LOCAL) === 0 || isLoopback(p.src)) {
    host.emit.drop(skb, 'ipvs', { code: 'ipvs_crosses_local', dst: daddr, src: p.src }, SILENT);
    return DROPPED;
  }
  if (rt.local) return LOCAL;
  // decrement_ttl: time exceeded to the sender, the source is the address it was sent to.
  if (p.ttl <= 1) {
    host.count('IpInHdrErrors');
    dropIcmp(host, skb, 'ipvs', { code: 'ipvs_ttl_exceeded', ttl: p.ttl, method, rip: daddr, gateway: rt.route.gw }, 11, 0);
    return DROPPED;
  }
  const len = ipv4TotalLength(p);
  // ensure_mtu_is_adequate (not tunnelled: the route's own MTU); ICMP itself is never refused.
  if (p.df && len > rt.mtu && p.protocol !== IPPROTO_ICMP) {
    dropIcmp(host, skb, 'ipvs', { code: 'frag_needed', mtu: rt.mtu, len }, 3, 4, rt.mtu, `${len} bytes with DF > route MTU ${rt.mtu} towards ${formatIp4(daddr)}`);
    return DROPPED;
  }
  const dec: Ipv4 = { ...p, ttl: p.ttl - 1 };
  skb.pkt = dec;
  return { kind: 'remote', rt };
}
