/**
 * ipvs/out.ts: ip_vs_out_hook at NF_INET_FORWARD priority 100 (net/netfilter/ipvs/ip_vs_core.c),
 * the reply side of masquerading. A packet the director forwards is looked up as a reply
 * RIP:rport -> CIP:cport (ip_vs_conn_out_get); handle_response rewrites its source back to
 * VIP:vport (tcp_snat_handler / udp_snat_handler, then ip_send_check), counts it
 * (ip_vs_out_stats), moves the TCP state by the OUTPUT rows of the state table, and marks it
 * ipvs_property. Only replies that route back through the director get here: a real server
 * whose gateway is elsewhere answers the client from RIP, which no client socket expects.
 *
 * Not modelled: the LOCAL_IN 98 and LOCAL_OUT instances of the hook (clients on the director
 * itself), ICMP errors from real servers (ip_vs_out_icmp), real-server-started connections
 * (conn_out_counter), and snat_reroute's second route lookup, which gives the same route
 * here because lvsim has no policy routing.
 */
import { formatEndpoint } from '../net/addr';
import { type Ipv4, type Tcp, type Udp, IPPROTO_TCP, IPPROTO_UDP, TCP_RST, ipv4TotalLength } from '../net/packet';
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { type NfVerdict, NF_ACCEPT, NF_STOLEN } from '../kernel/netfilter';
import { dropIcmp } from '../kernel/ip';
import { type Conn, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_MASQ, type IpvsCtl } from './ctl';
import { TCP_STATE_NAMES } from './proto_tcp';
import { connStateName } from './core';

/** NF_IP_PRI_NAT_SRC: ip_vs_out_hook runs after the filter table on FORWARD. */
export const IP_VS_OUT_HOOK_PRIORITY = 100;

export function registerIpvsOutHook(host: Host, ipvs: IpvsCtl): void {
  host.nf.register({ hook: 'FORWARD', priority: IP_VS_OUT_HOOK_PRIORITY, name: 'ip_vs_out_hook', fn: (skb) => ipVsOutHook(host, ipvs, skb) });
}

const noteSnat = (reply: Ipv4, cp: Conn, before: number): string =>
  `ip_vs_out: reply source ${formatEndpoint(reply.src, (reply.payload as Tcp | Udp).sport)} -> ${formatEndpoint(cp.vaddr, cp.vport)}`
  + (cp.protocol === IPPROTO_TCP ? ` (${TCP_STATE_NAMES[before]} -> ${connStateName(cp)})` : '');

export function ipVsOutHook(host: Host, ipvs: IpvsCtl, skb: Skb): NfVerdict {
  if (skb.ipvsProperty || !ipvs.enabled) return NF_ACCEPT;
  const ip = skb.pkt;
  if (ip.protocol !== IPPROTO_TCP && ip.protocol !== IPPROTO_UDP) return NF_ACCEPT;
  const th = ip.payload as Tcp | Udp;
  const cp = ipvs.connOutGet(ip.protocol, ip.src, th.sport, ip.dst, th.dport);
  if (cp === null) {
    // nat_icmp_send: a packet from a NAT real service that no connection knows gets port unreachable.
    if (host.sysctl.num('net.ipv4.vs.nat_icmp_send') !== 0 && ipvs.hasRealService(ip.protocol, ip.src, th.sport)
      && !(th.proto === 'tcp' && (th.flags & TCP_RST) !== 0)) {
      dropIcmp(host, skb, 'ipvs', { code: 'ipvs_nat_no_conn', src: ip.src, sport: th.sport }, 3, 3);
      return NF_STOLEN;
    }
    return NF_ACCEPT;
  }
  const flags = th.proto === 'tcp' ? th.flags : null;
  const before = cp.state;
  if ((cp.flags & IP_VS_CONN_F_FWD_MASK) === IP_VS_CONN_F_MASQ) {
    // handle_response: tcp_snat_handler, then saddr = VIP and ip_send_check.
    skb.pkt = { ...ip, src: cp.vaddr, payload: { ...th, sport: cp.vport } };
    ipvs.outStats(cp, ipv4TotalLength(skb.pkt));
    ipvs.setStateDir(cp, 'output', flags);
    host.emit.pass(skb, 'ipvs', 'snat', undefined, noteSnat, ip, cp, before);
  } else {
    // Not NAT: counted and its state moved, the packet left as it is (after_nat).
    ipvs.outStats(cp, ipv4TotalLength(ip));
    ipvs.setStateDir(cp, 'output', flags);
  }
  skb.ipvsProperty = true;
  ipvs.connPut(cp);
  return NF_ACCEPT;
}
