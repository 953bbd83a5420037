/**
 * ipvs/xmit_nat.ts: ip_vs_nat_xmit (net/netfilter/ipvs/ip_vs_xmit.c), masquerading (-m), the
 * request side. Routed towards the real server with LOCAL | NON_LOCAL | RDR (ipvs/out_rt.ts),
 * then tcp_dnat_handler / udp_dnat_handler (ip_vs_proto_tcp.c, ip_vs_proto_udp.c) rewrite the
 * destination port to the real server's (port mapping: `-r RIP:8080 -m` on a :80 service),
 * the destination address becomes RIP, and ip_vs_nat_send_or_cont sends it by LOCAL_OUT and
 * dst_output with ipvs_property set. The reply side is ipvs/out.ts.
 *
 * Checksums: tcp_fast_csum_update / udp_fast_csum_update and ip_send_check adjust the header
 * and transport checksums for the new address and port; lvsim computes every checksum from
 * the fields when a packet is encoded (net/wire.ts), which gives the same bytes.
 */
import { formatEndpoint, formatIp4, isLoopback } from '../net/addr';
import type { Ipv4, Tcp, Udp } from '../net/packet';
import type { OutputRoute } from '../kernel/route';
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { type NfVerdict, NF_ACCEPT, NF_STOLEN } from '../kernel/netfilter';
import { ipLocalOut } from '../kernel/ip';
import { SILENT } from '../trace/record';
import type { Conn } from './ctl';
import { IP_VS_RT_MODE_LOCAL, IP_VS_RT_MODE_NON_LOCAL, IP_VS_RT_MODE_RDR, ipVsGetOutRt } from './out_rt';
import { ipVsSendOrContCt } from '../kernel/conntrack';

const noteDnat = (before: Ipv4, cp: Conn, rt: OutputRoute | null): string =>
  `ip_vs_nat_xmit: destination ${formatEndpoint(before.dst, (before.payload as Tcp | Udp).dport)} -> ${formatEndpoint(cp.daddr, cp.dport)}`
  + (rt === null ? ' (local real server)' : ` out ${rt.dev.name}${rt.route.gw !== null ? ` via ${formatIp4(rt.nexthop)}` : ''}`);

export function ipVsNatXmit(host: Host, skb: Skb, cp: Conn): NfVerdict {
  const r = ipVsGetOutRt(host, skb, cp.daddr, IP_VS_RT_MODE_LOCAL | IP_VS_RT_MODE_NON_LOCAL | IP_VS_RT_MODE_RDR);
  if (r.kind === 'dropped') return NF_STOLEN;
  // From the world but DNAT to a loopback address? (was_input: it came in from a device.)
  if (r.kind === 'local' && isLoopback(cp.daddr) && skb.dev !== null) {
    host.emit.drop(skb, 'ipvs', { code: 'ipvs_dnat_loopback', dst: cp.daddr }, SILENT);
    return NF_STOLEN;
  }
  const p = skb.pkt;
  const th = p.payload as Tcp | Udp;
  skb.pkt = { ...p, dst: cp.daddr, payload: { ...th, dport: cp.dport } };
  skb.ignoreDf = true;
  host.emit.pass(skb, 'ipvs', 'dnat', undefined, noteDnat, p, cp, r.kind === 'remote' ? r.rt : null);
  ipVsSendOrContCt(host, skb);
  skb.ipvsProperty = true;
  // ip_vs_nat_send_or_cont(local=1): NF_ACCEPT, the rewritten packet goes on to the local stack.
  if (r.kind === 'local') return NF_ACCEPT;
  ipLocalOut(host, skb, { ...r.rt, src: skb.pkt.src });
  return NF_STOLEN;
}
