/**
 * ipvs/core.ts: ip_vs_in_hook at NF_INET_LOCAL_IN priority 99 (net/netfilter/ipvs/ip_vs_core.c),
 * which looks the client packet up in the connection table, schedules a new connection on
 * a miss, moves the TCP state, counts, and hands the packet to the connection's transmitter
 * (ipvs/bind_xmit.ts: tunnel, direct routing or NAT; NAT replies: ipvs/out.ts).
 * Also ip_vs_in_icmp: ICMP errors about our own IPIP packets are relayed to the client. Only IPv4 TCP/UDP virtual services are modelled (no fwmark, SCTP).
 */
import { ipVsSyncConn, syncMaster } from './sync';
import { formatEndpoint, formatIp4 } from '../net/addr';
import { type Icmp, type Ipv4, type Tcp, type Udp, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, ipv4TotalLength } from '../net/packet';
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { type NfVerdict, NF_ACCEPT, NF_STOLEN } from '../kernel/netfilter';
import { icmpErrorAllowed, icmpSend, nextId, defaultTtl } from '../kernel/icmp';
import { ipSend } from '../kernel/ip';
import { SILENT } from '../trace/record';
import { icmp as icmpDisposition } from '../trace/emit';
import type { Conn, IpvsCtl } from './ctl';
import { destKey } from './types';
import { packetXmit } from './bind_xmit';
import { registerIpvsOutHook } from './out';

export const IP_VS_IN_HOOK_PRIORITY = 99;

const TCP_STATE_NAMES = ['NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK'];

export function connStateName(cp: Conn): string {
  return cp.protocol === IPPROTO_UDP ? 'UDP' : TCP_STATE_NAMES[cp.state] ?? String(cp.state);
}

const noteNoDest = (scheduler: string, service: string): string => `IPVS: ${scheduler}: ${service} - no destination available`;
const noteScheduled = (ip: Ipv4, scheduler: string, res: { readonly conn: Conn; readonly template: Conn | null }): string => {
  const th = ip.payload as Tcp | Udp;
  return `new connection ${formatEndpoint(ip.src, th.sport)} -> ${formatEndpoint(ip.dst, th.dport)} scheduled by ${scheduler} to ${destKey(res.conn.dest!)}${res.template ? ' (persistence template)' : ''}`;
};
const noteHit = (cp: Conn, before: number): string =>
  `connection entry -> ${cp.dest ? destKey(cp.dest) : '?'} (${cp.protocol === IPPROTO_TCP ? `${TCP_STATE_NAMES[before]} -> ${connStateName(cp)}` : 'UDP'})`;
const notePmtu = (dst: number, mtu: number): string => `fragmentation needed for ${formatIp4(dst)}: path MTU ${mtu} remembered`;
const noteRelay = (icmp: Icmp, inner: Ipv4, th: Tcp | Udp): string =>
  `ICMP ${icmp.type}/${icmp.code} about tunnelled ${formatEndpoint(inner.src, th.sport)} -> ${formatEndpoint(inner.dst, th.dport)}: relayed to the client from ${formatIp4(inner.dst)}`;

/** Register IPVS on a host's LOCAL_IN hook. `explain` turns on the "why this server" records. */
export function registerIpvsHooks(host: Host, ipvs: IpvsCtl, opts: { explain?: boolean } = {}): void {
  const explain = opts.explain ?? true;
  host.nf.register({
    hook: 'INPUT', priority: IP_VS_IN_HOOK_PRIORITY, name: 'ip_vs_in_hook',
    fn: (skb) => ipVsInHook(host, ipvs, skb, explain),
  });
  registerIpvsOutHook(host, ipvs);
}

export function ipVsInHook(host: Host, ipvs: IpvsCtl, skb: Skb, explain: boolean): NfVerdict {
  if (skb.ipvsProperty || !ipvs.enabled) return NF_ACCEPT;
  const ip = skb.pkt;
  if (ip.protocol === IPPROTO_ICMP) return ipVsInIcmp(host, ipvs, skb);
  if (ip.protocol !== IPPROTO_TCP && ip.protocol !== IPPROTO_UDP) return NF_ACCEPT;
  const th = ip.payload as Tcp | Udp;
  const tcpFlags = th.proto === 'tcp' ? th.flags : null;
  const isSyn = tcpFlags !== null && (tcpFlags & TCP_SYN) !== 0 && (tcpFlags & TCP_RST) === 0;

  let cp = ipvs.connInGet(ip.protocol, ip.src, th.sport, ip.dst, th.dport);
  if (cp && tcpFlags !== null && (tcpFlags & TCP_SYN) !== 0) {
    // ip_vs_in_hook: a new SYN (is_new_conn looks at SYN only) on an old entry may be rescheduled;
    // isNewConnExpected applies conn_reuse_mode (default 1).
    const dest = cp.dest;
    const nodest = dest !== null && dest.weight === 0 && host.sysctl.num('net.ipv4.vs.expire_nodest_conn') !== 0;
    if (nodest || ipvs.isNewConnExpected(cp)) {
      ipvs.expireNow(cp);
      cp = null;
    }
  }
  if (cp && cp.dest && !ipvs.destAvailable(cp.dest)) {
    if (host.sysctl.num('net.ipv4.vs.expire_nodest_conn') !== 0) {
      ipvs.expireNow(cp);
      cp = null;
    } else {
      return { verdict: 'drop', reason: { code: 'ipvs_dest_unavailable', dest: destKey(cp.dest) } };
    }
  }
  let scheduled = false;
  if (!cp) {
    // tcp_conn_schedule: only a SYN (without RST) starts a connection unless sloppy_tcp.
    if (tcpFlags !== null && !isSyn && host.sysctl.num('net.ipv4.vs.sloppy_tcp') === 0) return NF_ACCEPT;
    const svc = ipvs.serviceFind(ip.protocol, ip.dst, th.dport);
    if (!svc) return NF_ACCEPT;
    const ex = explain ? host.emit.explainer() : undefined;
    const res = ipvs.schedule(svc, { saddr: ip.src, daddr: ip.dst, sport: th.sport, dport: th.dport, protocol: ip.protocol }, ex);
    if (!res.conn) {
      if (res.reason === 'ignored') return NF_ACCEPT;
      const service = `${th.proto.toUpperCase()} ${formatEndpoint(svc.addr, svc.port)}`;
      // ip_vs_leave: ICMP port unreachable to the client, drop.
      const d = icmpErrorAllowed(ip) ? icmpDisposition(3, 3) : SILENT;
      host.emit.decision(skb, ex, svc.scheduler.name, null, { code: 'ipvs_no_dest', scheduler: svc.scheduler.name, service }, d, noteNoDest, svc.scheduler.name, service);
      if (d !== SILENT) icmpSend(host, skb, 3, 3);
      return NF_STOLEN;
    }
    cp = res.conn;
    scheduled = true;
    host.emit.decision(skb, ex, svc.scheduler.name, ex ? destKey(cp.dest!) : null, null, SILENT, noteScheduled, ip, svc.scheduler.name, res);
  }
  ipvs.inStats(cp, ipv4TotalLength(ip));
  const before = cp.state;
  ipvs.setState(cp, tcpFlags);
  if (!scheduled) host.emit.pass(skb, 'ipvs', 'hit', undefined, noteHit, cp, before);
  const v = cp.dest ? packetXmit(host, skb, cp) : NF_ACCEPT;
  cp.inPkts++;
  ipvs.connPut(cp);
  // ip_vs_in: with a master sync daemon, ip_vs_sync_conn decides whether to tell the backups.
  if (syncMaster(ipvs)) ipVsSyncConn(host, ipvs, cp, cp.inPkts);
  return v;
}

/**
 * ip_vs_in_icmp for an error quoting one of our IPIP packets to a known destination: find the
 * client connection from the inner header, update the path MTU on FRAG_NEEDED, and relay an
 * error to the client from the VIP (MTU - 20 for fragmentation-needed). NF_STOLEN.
 */
function ipVsInIcmp(host: Host, ipvs: IpvsCtl, skb: Skb): NfVerdict {
  const icmp = skb.pkt.payload as Icmp;
  if (icmp.type !== 3 && icmp.type !== 4 && icmp.type !== 11) return NF_ACCEPT;
  const outer = icmp.quoted;
  if (!outer || outer.protocol !== IPPROTO_IPIP || outer.payload.proto !== 'ipv4') return NF_ACCEPT;
  const inner = outer.payload;
  const th = inner.payload;
  if (th.proto !== 'tcp' && th.proto !== 'udp') return NF_ACCEPT;
  const cp = ipvs.connInGet(inner.protocol, inner.src, th.sport, inner.dst, th.dport);
  if (!cp || !cp.dest || cp.daddr !== outer.dst) return NF_ACCEPT;
  let relay: Icmp;
  if (icmp.type === 3 && icmp.code === 4) {
    const mtu = (icmp.mtu ?? 0) - 20;
    host.learnPmtu(outer.dst, icmp.mtu ?? 0);
    if (!inner.df || mtu <= 88) {
      host.emit.end(skb, 'ipvs', 'consumed', undefined, notePmtu, outer.dst, icmp.mtu ?? 0);
      return NF_STOLEN;
    }
    relay = { proto: 'icmp', type: 3, code: 4, mtu, quoted: inner, quotedLen: Math.min(ipv4TotalLength(inner), 548) };
  } else {
    relay = { proto: 'icmp', type: icmp.type, code: icmp.code, quoted: inner, quotedLen: Math.min(ipv4TotalLength(inner), 548) };
  }
  host.emit.end(skb, 'ipvs', 'consumed', undefined, noteRelay, icmp, inner, th);
  host.count('IcmpOutMsgs');
  host.count(relay.type === 3 ? 'IcmpOutDestUnreachs' : 'IcmpOutTimeExcds');
  ipSend(host, { proto: 'ipv4', src: inner.dst, dst: inner.src, protocol: IPPROTO_ICMP, ttl: defaultTtl(host), tos: 0xc0, id: nextId(host), df: false, payload: relay }, skb.id);
  return NF_STOLEN;
}

export { TCP_ACK, TCP_FIN };
