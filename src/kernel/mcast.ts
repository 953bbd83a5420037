/**
 * kernel/mcast.ts: link-local IPv4 multicast and raw sockets, as far as VRRP needs them.
 * - Group membership per device (IP_ADD_MEMBERSHIP -> ip_mc_inc_group, net/ipv4/igmp.c): the
 *   device then accepts frames to the group's MAC (ip_eth_mc_map: 01:00:5e + the low 23 bits)
 *   and input routing delivers the group locally (ip_route_input_mc, ip_check_mc_rcu).
 * - Sending to a group out of a chosen device (IP_MULTICAST_IF): the route is the device itself,
 *   the next hop the group, whose MAC is mapped, never ARPed (arp_mc_map).
 * - Raw sockets by IP protocol (raw_v4_input, net/ipv4/raw.c): every matching socket gets a copy.
 * Not modelled: IGMP reports and queries (groups in 224.0.0.0/24 send none: they are link-local),
 * multicast routing and forwarding, IP_MULTICAST_LOOP (a sender does not hear itself).
 */
import { type Ip4, type Mac, formatIp4, isMulticast } from '../net/addr';
import type { Ipv4 } from '../net/packet';
import type { Host, NetDevice } from './host';
import type { Skb } from './skb';
import type { OutputRoute } from './route';
import { ipLocalOut } from './ip';

const groups = new WeakMap<NetDevice, Map<Ip4, number>>();

/** ip_eth_mc_map: 01:00:5e, then the group's low 23 bits. */
export function mcMac(group: Ip4): Mac {
  const h = (n: number) => n.toString(16).padStart(2, '0');
  return `01:00:5e:${h((group >>> 16) & 0x7f)}:${h((group >>> 8) & 0xff)}:${h(group & 0xff)}`;
}

/** IP_ADD_MEMBERSHIP on `dev` (counted: two sockets may join the same group). */
export function mcJoin(dev: NetDevice, group: Ip4): void {
  let g = groups.get(dev);
  if (!g) groups.set(dev, (g = new Map()));
  g.set(group, (g.get(group) ?? 0) + 1);
}

/** IP_DROP_MEMBERSHIP (or the socket closing). */
export function mcLeave(dev: NetDevice, group: Ip4): void {
  const g = groups.get(dev);
  const n = g?.get(group) ?? 0;
  if (n <= 1) g?.delete(group); else g!.set(group, n - 1);
}

/** ip_check_mc_rcu: has the device joined `group`? */
export function mcJoined(dev: NetDevice, group: Ip4): boolean {
  return (groups.get(dev)?.get(group) ?? 0) > 0;
}

/** The device's multicast filter: does it take a frame sent to `mac`? */
export function mcAcceptsMac(dev: NetDevice, mac: Mac): boolean {
  const g = groups.get(dev);
  if (!g || !mac.startsWith('01:00:5e:')) return false;
  for (const group of g.keys()) if (mcMac(group) === mac) return true;
  return false;
}

const noteRaw = (protocol: number) => `raw socket, protocol ${protocol}`;

export type RawHandler = (skb: Skb, dev: NetDevice) => void;
const raws = new WeakMap<Host, Map<number, Set<RawHandler>>>();

/** socket(AF_INET, SOCK_RAW, protocol): `handler` hears every datagram of that protocol delivered locally. Returns close(). */
export function rawSocket(host: Host, protocol: number, handler: RawHandler): () => void {
  let m = raws.get(host);
  if (!m) raws.set(host, (m = new Map()));
  let s = m.get(protocol);
  if (!s) m.set(protocol, (s = new Set()));
  s.add(handler);
  return () => { s!.delete(handler); };
}

/** raw_local_deliver: true when a raw socket took the datagram (each open socket gets it). */
export function rawDeliver(host: Host, skb: Skb): boolean {
  const s = raws.get(host)?.get(skb.pkt.protocol);
  if (!s || s.size === 0) return false;
  host.emit.end(skb, 'socket', 'deliver', undefined, noteRaw, skb.pkt.protocol);
  for (const h of [...s]) h(skb, skb.dev!);
  return true;
}

/** Send `pkt` (its source set) to a multicast group out of `dev` (IP_MULTICAST_IF), through OUTPUT and POSTROUTING. */
export function mcSend(host: Host, dev: NetDevice, pkt: Ipv4): void {
  if (!isMulticast(pkt.dst)) throw new Error(`mcSend: ${formatIp4(pkt.dst)} is not a multicast group`);
  const rt: OutputRoute = {
    route: { table: 'main', type: 'unicast', dst: pkt.dst, len: 32, gw: null, dev: dev.name, src: pkt.src, metric: 0, proto: 'kernel', scope: 'link' },
    dev, nexthop: pkt.dst, src: pkt.src, mtu: dev.mtu, local: false,
  };
  const skb: Skb = { id: host.ids.next(), pkt, dev: null };
  host.emit.pass(skb, 'socket', 'send');
  ipLocalOut(host, skb, rt);
}
