/**
 * ipvs/xmit_dr.ts: ip_vs_dr_xmit (net/netfilter/ipvs/ip_vs_xmit.c), direct routing (-g).
 * The client's packet CIP -> VIP leaves unchanged but for its TTL, routed towards the real
 * server with IP_VS_RT_MODE_KNOWN_NH (ipvs/out_rt.ts): on-link, the frame goes to the real
 * server's MAC and the real server takes it because it has the VIP too (on lo, not answering
 * ARP for it). Off-link, it goes to the gateway's MAC and the gateway routes it by the VIP,
 * which is normally back to the director. Sent by ip_vs_send_or_cont: LOCAL_OUT, then
 * dst_output (POSTROUTING), ipvs_property set so IPVS leaves it alone. NF_STOLEN.
 */
import { formatIp4 } from '../net/addr';
import type { Ipv4 } from '../net/packet';
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { type NfVerdict, NF_ACCEPT, NF_STOLEN } from '../kernel/netfilter';
import { ipLocalOut } from '../kernel/ip';
import type { OutputRoute } from '../kernel/route';
import type { Conn } from './ctl';
import { IP_VS_RT_MODE_KNOWN_NH, IP_VS_RT_MODE_LOCAL, IP_VS_RT_MODE_NON_LOCAL, ipVsGetOutRt } from './out_rt';
import { ipVsSendOrContCt } from '../kernel/conntrack';

const noteLocal = (rip: number): string => `real server ${formatIp4(rip)} is local: delivered here`;
const noteXmit = (p: Ipv4, rt: OutputRoute, rip: number): string => {
  const via = rt.route.gw !== null
    ? `via the gateway ${formatIp4(rt.nexthop)} (${formatIp4(rip)} is not on-link: the gateway will route it by its destination ${formatIp4(p.dst)})`
    : `to ${formatIp4(rip)}'s MAC (next hop known: on-link)`;
  return `ip_vs_dr_xmit: ${formatIp4(p.src)} > ${formatIp4(p.dst)} unchanged (TTL ${p.ttl + 1}->${p.ttl}) out ${rt.dev.name} ${via}`;
};

export function ipVsDrXmit(host: Host, skb: Skb, cp: Conn): NfVerdict {
  const r = ipVsGetOutRt(host, skb, cp.daddr, IP_VS_RT_MODE_LOCAL | IP_VS_RT_MODE_NON_LOCAL | IP_VS_RT_MODE_KNOWN_NH);
  if (r.kind === 'dropped') return NF_STOLEN;
  if (r.kind === 'local') {
    // ip_vs_send_or_cont(local=1): the real server is this host; the packet goes on to its socket.
    host.emit.pass(skb, 'ipvs', 'accept', undefined, noteLocal, cp.daddr);
    return NF_ACCEPT;
  }
  const rt = r.rt;
  ipVsSendOrContCt(host, skb);
  skb.ipvsProperty = true;
  skb.ignoreDf = true;
  host.emit.pass(skb, 'ipvs', 'xmit', undefined, noteXmit, skb.pkt, rt, cp.daddr);
  ipLocalOut(host, skb, { ...rt, src: skb.pkt.src });
  return NF_STOLEN;
}
