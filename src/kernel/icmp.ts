/**
 * kernel/icmp.ts: sending ICMP errors (icmp_send, net/ipv4/icmp.c) and receiving ICMP
 * (echo, and errors handed to the socket they concern: tcp_v4_err / __udp4_lib_err).
 * Not modelled: icmp_ratelimit and icmp_msgs_per_sec (every error is sent; redirects have
 * their own limit, kernel/redirect.ts); acting on a received redirect (it is counted only).
 */
import { formatIp4 } from '../net/addr';
import { type Icmp, type Ipv4, IPPROTO_ICMP, ipv4TotalLength } from '../net/packet';
import type { Host } from './host';
import type { Skb } from './skb';
import { ipSend } from './ip';
import { tcpV4Err } from './tcp';

/** icmp_send quotes as much of the offending packet as fits in 576 bytes. */
const ICMP_QUOTE_MAX = 576 - 20 - 8;

export const ICMP_NAMES: Record<string, string> = {
  '3/0': 'net unreachable', '3/1': 'host unreachable', '3/2': 'protocol unreachable',
  '3/3': 'port unreachable', '3/4': 'fragmentation needed', '11/0': 'TTL exceeded in transit',
  '5/1': 'redirect for host',
};

/** icmp_send's refusals: never about an ICMP error, a non-first fragment, or a zero/multicast source. */
export function icmpErrorAllowed(p: Ipv4): boolean {
  if (p.protocol === IPPROTO_ICMP && p.payload.proto === 'icmp' && p.payload.type !== 0 && p.payload.type !== 8) return false;
  if (p.fragOffset) return false;
  return !(p.src === 0 || (p.src >>> 28) === 0xe);
}

/**
 * icmp_send(skb, type, code, info). Never about an ICMP error, a non-first fragment, or a
 * broadcast/multicast. Source: the offending packet's destination when its route is local
 * (RTCF_LOCAL), else chosen by the route back to the sender.
 */
export function icmpSend(host: Host, skb: Skb, type: number, code: number, info: { mtu?: number; gateway?: number } = {}): void {
  const p = skb.pkt;
  if (!icmpErrorAllowed(p)) return;
  // IPVS replaced the route of a packet it sent on (skb_dst_set in __ip_vs_get_out_rt): from then
  // on its route is not RTCF_LOCAL, although its destination (the VIP in DR) is local here.
  const src = host.isLocal(p.dst) && !skb.ipvsProperty ? p.dst : 0;
  const icmp: Icmp = {
    proto: 'icmp', type, code,
    ...(type === 3 && code === 4 ? { mtu: info.mtu ?? 0 } : {}),
    ...(type === 5 ? { gateway: info.gateway ?? 0 } : {}),
    quoted: p,
    quotedLen: Math.min(ipv4TotalLength(p), ICMP_QUOTE_MAX),
  };
  host.count('IcmpOutMsgs');
  host.count(type === 3 ? 'IcmpOutDestUnreachs' : type === 11 ? 'IcmpOutTimeExcds' : type === 5 ? 'IcmpOutRedirects' : 'IcmpOutErrors');
  const tos = 0xc0; // icmp_send uses IPTOS_PREC_INTERNETCONTROL for errors
  const pkt: Ipv4 = { proto: 'ipv4', src, dst: p.src, protocol: IPPROTO_ICMP, ttl: defaultTtl(host), tos, id: nextId(host), df: false, payload: icmp };
  ipSend(host, pkt, skb.id);
}

export function defaultTtl(host: Host): number {
  return host.sysctl.num('net.ipv4.ip_default_ttl') || 64;
}

export function nextId(host: Host): number {
  const id = host.ipId;
  host.ipId = (host.ipId + 1) & 0xffff;
  return id;
}

const noteEcho = (src: number): string => `echo request from ${formatIp4(src)}: replying`;
const noteEchoReply = (src: number): string => `echo reply from ${formatIp4(src)}`;
const noteError = (name: string, q: Ipv4, handled: boolean): string => `${name} about ${formatIp4(q.src)} > ${formatIp4(q.dst)}${handled ? ' (socket notified)' : ' (no socket)'}`;
const noteIgnored = (icmp: Icmp): string => `ICMP type ${icmp.type} code ${icmp.code} ignored`;

const noteRedirect = (from: number, gw: number, dst: number): string =>
  `redirect from ${formatIp4(from)}: use ${formatIp4(gw)} for ${formatIp4(dst)} (not applied: lvsim keeps the route)`;

/** icmp_rcv: echo, or an error delivered to the transport that owns the quoted flow. */
export function icmpRcv(host: Host, skb: Skb): void {
  const p = skb.pkt;
  const icmp = p.payload as Icmp;
  host.count('IcmpInMsgs');
  if (icmp.type === 8) {
    host.count('IcmpInEchos');
    host.emit.end(skb, 'icmp', 'consumed', undefined, noteEcho, p.src);
    const reply: Ipv4 = { proto: 'ipv4', src: p.dst, dst: p.src, protocol: IPPROTO_ICMP, ttl: defaultTtl(host), tos: 0, id: nextId(host), df: false, payload: { proto: 'icmp', type: 0, code: 0, ident: icmp.ident, sequence: icmp.sequence, data: icmp.data } };
    host.count('IcmpOutEchoReps');
    ipSend(host, reply, skb.id);
    return;
  }
  if (icmp.type === 0) {
    host.count('IcmpInEchoReps');
    host.emit.end(skb, 'icmp', 'consumed', undefined, noteEchoReply, p.src);
    return;
  }
  if ((icmp.type === 3 || icmp.type === 11) && icmp.quoted) {
    if (icmp.type === 3) host.count('IcmpInDestUnreachs'); else host.count('IcmpInTimeExcds');
    const q = icmp.quoted;
    if (icmp.type === 3 && icmp.code === 4 && icmp.mtu) {
      // ip_rt_update_pmtu: remember the smaller path MTU towards the quoted destination.
      host.learnPmtu(q.dst, icmp.mtu);
    }
    const name = ICMP_NAMES[`${icmp.type}/${icmp.code}`] ?? `type ${icmp.type} code ${icmp.code}`;
    const handled = q.payload.proto === 'tcp' ? tcpV4Err(host, q, icmp) : false;
    host.emit.end(skb, 'icmp', 'consumed', undefined, noteError, name, q, handled);
    return;
  }
  if (icmp.type === 5 && icmp.quoted) {
    // icmp_redirect -> tcp_v4_err -> __ip_do_redirect would add a next-hop exception for the
    // quoted destination. Simplification: counted and not applied (the route stays as it is).
    host.count('IcmpInRedirects');
    host.emit.end(skb, 'icmp', 'consumed', undefined, noteRedirect, p.src, icmp.gateway ?? 0, icmp.quoted.dst);
    return;
  }
  host.count('IcmpInErrors');
  host.emit.end(skb, 'icmp', 'consumed', undefined, noteIgnored, icmp);
}
