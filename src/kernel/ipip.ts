/**
 * kernel/ipip.ts: IP-in-IP receive on the real server (net/ipv4/tunnel4.c, ipip.c,
 * ip_tunnel.c). tunnel4_rcv -> ipip_rcv -> ip_tunnel_lookup finds an UP ipip device (exact
 * endpoints first, the fallback tunl0 last); ip_tunnel_rcv strips the outer header and the
 * inner packet re-enters ip_rcv with tunl0 as its input device, where rp_filter applies.
 */
import { formatIp4, inPrefix } from '../net/addr';
import { type Ipv4, IPPROTO_IPIP, ipv4TotalLength } from '../net/packet';
import type { Host, NetDevice } from './host';
import type { Skb } from './skb';
import { dropIcmp, ipRcv } from './ip';
import { nextId } from './icmp';
import { SILENT, devPoint } from '../trace/record';
import { neighOutput } from './neigh';
import { fibLookup, ipRouteOutput } from './route';
import { nfResetCt } from './conntrack';

/** ip_tunnel_lookup (net/ipv4/ip_tunnel.c): only devices that are UP match. */
export function ipTunnelLookup(host: Host, outer: Ipv4): NetDevice | null {
  // One pass, remembering the best rank seen: 0 exact, 1 remote only, 2 local only, 3 wildcard.
  let best: NetDevice | null = null;
  let rank = 4;
  for (const d of host.devices.values()) {
    if (d.kind !== 'ipip' || !d.up || !d.tunnel || d.name === 'tunl0') continue;
    const { local, remote } = d.tunnel;
    const r = local === outer.dst && remote === outer.src ? 0
      : remote === outer.src && local === 0 ? 1
      : local === outer.dst && remote === 0 ? 2
      : local === 0 && remote === 0 ? 3 : 4;
    if (r < rank) { rank = r; best = d; }
  }
  if (best) return best;
  const fallback = host.devices.get('tunl0');
  return fallback && fallback.up ? fallback : null;
}

const noteDecap = (outer: Ipv4, tun: string): string => `outer ${formatIp4(outer.src)} > ${formatIp4(outer.dst)} removed; inner enters ip_rcv on ${tun}`;
const noteNoRemote = (dev: string): string => `${dev} has no remote endpoint`;

/** ipip_rcv: decapsulate, or answer port unreachable when no tunnel takes it (tunl0 down). */
export function ipipRcv(host: Host, skb: Skb): void {
  const outer = skb.pkt;
  const inner = outer.payload;
  if (inner.proto !== 'ipv4') {
    host.emit.drop(skb, 'socket', { code: 'protocol_unreachable', protocol: IPPROTO_IPIP }, SILENT, 'truncated IPIP payload');
    return;
  }
  const tun = ipTunnelLookup(host, outer);
  if (!tun) {
    // tunnel4_rcv: every xfrm4 tunnel handler refused it -> ICMP port unreachable to the sender.
    dropIcmp(host, skb, 'socket', { code: 'tunnel_unmatched', src: outer.src, dst: outer.dst }, 3, 3);
    return;
  }
  // IP_ECN_decapsulate: CE on the outer header over a Not-ECT inner packet is dropped.
  if ((outer.tos & 3) === 3 && (inner.tos & 3) === 0) {
    tun.stats.rxErrors++;
    host.emit.drop(skb, devPoint(tun.name), { code: 'ecn_decap', tos: outer.tos });
    return;
  }
  const innerPkt: Ipv4 = (outer.tos & 3) === 3 ? { ...inner, tos: inner.tos | 3 } : inner;
  tun.stats.rxPackets++;
  tun.stats.rxBytes += ipv4TotalLength(innerPkt);
  skb.pkt = innerPkt;
  skb.dev = tun;
  // ip_tunnel_rcv -> skb_scrub_packet: the inner packet is tracked afresh.
  nfResetCt(skb);
  host.emit.device(skb, tun.name, 'decap', undefined, noteDecap, outer, tun.name);
  ipRcv(host, skb);
}

/**
 * ipip_tunnel_xmit for a packet routed out of an ipip device: needs a remote endpoint.
 * The fallback tunl0 has none, so routing into it fails (tx_carrier_errors in the kernel).
 */
export function ipipXmit(host: Host, skb: Skb, dev: NetDevice): void {
  const t = dev.tunnel;
  if (!t || t.remote === 0) {
    dev.stats.txErrors++;
    // Which route brought it here: a device address's prefix route is the usual culprit.
    const r = fibLookup(host, skb.pkt.dst);
    const a = r && r.proto === 'kernel' && r.dev === dev.name && r.gw === null ? dev.addrs.find(x => x.prefixLen === r.len && inPrefix(x.addr, r.dst, r.len)) : undefined;
    host.emit.drop(skb, devPoint(dev.name), { code: 'no_route', dst: skb.pkt.dst, tunnel: dev.name, ...(a ? { connected: { addr: a.addr, prefixLen: a.prefixLen } } : {}) }, SILENT, noteNoRemote, dev.name);
    return;
  }
  const rt = ipRouteOutput(host, t.remote, t.local || null);
  if (!rt || rt.local) {
    host.emit.drop(skb, devPoint(dev.name), { code: 'no_route', dst: t.remote });
    return;
  }
  dev.stats.txPackets++;
  dev.stats.txBytes += ipv4TotalLength(skb.pkt);
  const inner = skb.pkt;
  skb.pkt = { proto: 'ipv4', src: rt.src, dst: t.remote, protocol: IPPROTO_IPIP, ttl: t.ttl || inner.ttl, tos: inner.tos & 0xfc, id: inner.df ? 0 : nextId(host), df: inner.df, payload: inner };
  host.emit.device(skb, dev.name, 'encap');
  neighOutput(host, skb, rt.dev, rt.nexthop);
}
