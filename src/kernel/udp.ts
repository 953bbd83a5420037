/**
 * kernel/udp.ts: UDP receive (__udp4_lib_rcv): a bound socket gets the datagram, otherwise
 * ICMP port unreachable and UdpNoPorts. Sockets are plain handlers keyed by local port.
 */
import type { Host } from './host';
import type { Skb } from './skb';
import { dropIcmp } from './ip';
import type { Udp } from '../net/packet';

const noteUdp = (port: number): string => `udp socket on port ${port}`;

export type UdpHandler = (host: Host, skb: Skb, udp: Udp) => void;

const tables = new WeakMap<Host, Map<number, { addr: number; handler: UdpHandler }>>();

export function udpBind(host: Host, addr: number, port: number, handler: UdpHandler): void {
  let t = tables.get(host);
  if (!t) tables.set(host, (t = new Map()));
  t.set(port, { addr, handler });
}

/** close() of a bound socket. */
export function udpUnbind(host: Host, port: number): void {
  tables.get(host)?.delete(port);
}

export function udpRcv(host: Host, skb: Skb): void {
  const udp = skb.pkt.payload as Udp;
  host.count('UdpInDatagrams');
  const s = tables.get(host)?.get(udp.dport);
  if (!s || (s.addr !== 0 && s.addr !== skb.pkt.dst)) {
    host.count('UdpInDatagrams', -1);
    host.count('UdpNoPorts');
    dropIcmp(host, skb, 'socket', { code: 'no_listener', proto: 'udp', port: udp.dport, reply: 'icmp' }, 3, 3);
    return;
  }
  host.emit.end(skb, 'socket', 'deliver', undefined, noteUdp, udp.dport);
  s.handler(host, skb, udp);
}
