/**
 * kernel/ip.ts: the IPv4 receive, forward and output paths (net/ipv4/ip_input.c,
 * ip_forward.c, ip_output.c) as a list of early returns, each with its kernel reason.
 *
 *   netifReceive -> ipRcv (PREROUTING) -> route -> ipLocalDeliver (INPUT) -> protocol handler
 *                                              \-> ipForward (FORWARD) -> ipOutput
 *   ipLocalOut (OUTPUT) -> ipOutput (POSTROUTING) -> MTU -> neighOutput -> devXmit
 */
import { type Ip4, BROADCAST_MAC, formatIp4, isMulticast } from '../net/addr';
import { type Ethernet, type Ipv4, ETH_P_IP, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, ipv4TotalLength } from '../net/packet';
import type { Host, NetDevice } from './host';
import type { Skb } from './skb';
import { type Disposition, type DropReason, type Hook, type Point, SILENT, devPoint } from '../trace/record';
import { icmp } from '../trace/emit';
import { type CachedOutput, type OutputRoute, ipRouteInput, ipRouteOutput, ipRouteOutputAnySrc, isSubnetBroadcast } from './route';
import { arpRcv, neighOutput } from './neigh';
import { icmpErrorAllowed, icmpRcv, icmpSend } from './icmp';
import { ipipRcv } from './ipip';
import { doRedirect, ipRtSendRedirect } from './redirect';
import { tcpV4Rcv } from './tcp';
import { udpRcv } from './udp';
import { printk } from './klog';
import { mcAcceptsMac, mcJoined, rawDeliver } from './mcast';
import { isCrashed } from './panic';

// --- drops that answer -------------------------------------------------------------

/**
 * Drop a packet and answer it with an ICMP error (icmp_send), recording what was really sent:
 * icmp_send refuses some packets (errors about ICMP errors, broadcast sources), and those
 * drops are silent.
 */
export function dropIcmp(host: Host, skb: Skb, point: Point, reason: DropReason, type: number, code: number, mtu?: number, note?: string): void {
  const d: Disposition = icmpErrorAllowed(skb.pkt) ? icmp(type, code, mtu) : SILENT;
  host.emit.drop(skb, point, reason, d, note);
  if (d !== SILENT) icmpSend(host, skb, type, code, mtu === undefined ? undefined : { mtu });
}

const noteLocal = (dst: number, dev: string): string => `${formatIp4(dst)} is local (input dev ${dev})`;
const noteRoute = (dst: number, gw: number | null, dev: string | null): string => `${formatIp4(dst)} ${gw !== null ? `via ${formatIp4(gw)} ` : ''}dev ${dev}`;
const noteOutput = (dst: number, rt: OutputRoute): string => `${formatIp4(dst)} ${rt.route.gw !== null ? `via ${formatIp4(rt.route.gw)} ` : ''}dev ${rt.dev.name} src ${formatIp4(rt.src)}`;
const noteBroadcast = (dst: number): string => `broadcast to ${formatIp4(dst)}`;
const noteGroup = (dst: Ip4, dev: string, how: string) => `${formatIp4(dst)}: group ${how} on ${dev}`;

/** Run a hook; trace accept or drop. Returns true if the packet goes on. */
function hook(host: Host, skb: Skb, h: Hook, inDev: NetDevice | null, outDev: NetDevice | null): boolean {
  if (!host.nf.has(h)) {
    host.emit.pass(skb, h, 'accept');
    return true;
  }
  const v = host.nf.run(skb, h, inDev, outDev);
  if (v.verdict === 'accept') {
    // One line per hook: folded into the accepting rule's or policy's record when there is one.
    host.emit.hookPassed(skb, h);
    return true;
  }
  if (v.verdict === 'drop') host.emit.drop(skb, h, v.reason);
  // 'stolen': the handler traced what it did and owns the skb now.
  return false;
}

/**
 * ip_handle_martian_source (net/ipv4/route.c): with log_martians (all or the device), the
 * kernel logs "martian source DADDR from SADDR, on dev DEV" (destination first) and, for a
 * device with a link-layer header, the header in hex.
 */
export function logMartianSource(host: Host, dev: NetDevice, daddr: Ip4, saddr: Ip4, llHeader?: string): void {
  if (!host.sysctl.confOr(dev.name, 'log_martians')) return;
  printk(host, 4, `IPv4: martian source ${formatIp4(daddr)} from ${formatIp4(saddr)}, on dev ${dev.name}`);
  if (dev.kind === 'ether' && llHeader) printk(host, 4, `ll header: 00000000: ${llHeader}`);
}

/** The link-layer header as print_hex_dump shows it: destination, source, ethertype. */
function llHeaderHex(frame: Ethernet): string {
  const hex = (m: string) => m.split(':').join(' ');
  const et = frame.ethertype.toString(16).padStart(4, '0');
  return `${hex(frame.dst)} ${hex(frame.src)} ${et.slice(0, 2)} ${et.slice(2)}`;
}

// --- receive ------------------------------------------------------------------------

/** A frame arrives on `dev` (netif_receive_skb -> eth_type_trans -> ip_rcv / arp_rcv). */
export function netifReceive(host: Host, dev: NetDevice, frame: Ethernet, id: number, cause?: number): void {
  const pkt = frame.payload;
  const len = pkt.proto === 'ipv4' ? ipv4TotalLength(pkt) + 14 : 42;
  // One skb from the frame on (an ARP message rides in it only as far as arp_rcv).
  const skb = { id, pkt, dev, cause, frame } as Skb;
  host.emit.device(skb, dev.name, 'rx', frame);
  if (isCrashed(host)) {
    // A panicked kernel: the NIC has carrier, but no interrupt handler runs (kernel/panic.ts).
    host.emit.drop(skb, devPoint(dev.name), { code: 'host_crashed', host: host.name, dev: dev.name });
    return;
  }
  if (!dev.up || !dev.carrier) {
    host.emit.drop(skb, devPoint(dev.name), { code: 'link_down', dev: dev.name });
    dev.stats.rxDropped++;
    return;
  }
  const forUs = frame.dst === dev.mac || frame.dst === BROADCAST_MAC || mcAcceptsMac(dev, frame.dst);
  if (!forUs && (parseInt(frame.dst.slice(0, 2), 16) & 1) !== 0) {
    // A multicast frame for a group no socket here joined: the NIC's multicast filter (the
    // device's mc list, dev_mc_add -> ndo_set_rx_mode) keeps it out; the stack never sees it.
    host.emit.drop(skb, devPoint(dev.name), { code: 'mc_not_joined', dev: dev.name, mac: frame.dst });
    return;
  }
  dev.stats.rxPackets++;
  dev.stats.rxBytes += len;
  if (!forUs) {
    // PACKET_OTHERHOST: ip_rcv_core drops it before any hook.
    host.emit.drop(skb, devPoint(dev.name), { code: 'otherhost', dev: dev.name });
    return;
  }
  if (pkt.proto === 'arp') {
    arpRcv(host, dev, pkt, id, { broadcast: frame.dst === BROADCAST_MAC });
    return;
  }
  ipRcv(host, skb);
}

/** ip_rcv: count, PREROUTING, then input routing. */
export function ipRcv(host: Host, skb: Skb): void {
  const dev = skb.dev!;
  host.snmp.IpInReceives++;
  if (!hook(host, skb, 'PREROUTING', dev, null)) return;
  ipRcvFinish(host, skb);
}

function ipRcvFinish(host: Host, skb: Skb): void {
  const dev = skb.dev!;
  const { src, dst } = skb.pkt;
  if (isSubnetBroadcast(host, dst) || dst === 0xffffffff) {
    // Broadcast datagrams: nothing in the model listens; consumed quietly.
    host.emit.end(skb, 'routing', 'consumed', undefined, noteBroadcast, dst);
    return;
  }
  if (isMulticast(dst)) {
    // ip_route_input_mc: a group the device joined is delivered locally; multicast is not forwarded.
    if (mcJoined(dev, dst)) {
      host.emit.pass(skb, 'routing', 'local', dev.name, noteGroup, dst, dev.name, 'joined');
      ipLocalDeliver(host, skb);
    } else host.emit.end(skb, 'routing', 'consumed', dev.name, noteGroup, dst, dev.name, 'not joined');
    return;
  }
  const r = ipRouteInput(host, src, dst, dev);
  if (r.kind === 'drop') {
    if (r.mib !== null) host.count(r.mib);
    if (r.reason.code === 'martian_source' || r.reason.code === 'rp_filter') logMartianSource(host, dev, dst, src, skb.frame ? llHeaderHex(skb.frame) : undefined);
    if (r.reason.code === 'no_route') dropIcmp(host, skb, 'routing', r.reason, 3, 0);
    else host.emit.drop(skb, 'routing', r.reason);
    return;
  }
  if (r.kind === 'local') {
    host.emit.pass(skb, 'routing', 'local', dev.name, noteLocal, dst, dev.name);
    ipLocalDeliver(host, skb);
    return;
  }
  host.emit.pass(skb, 'routing', 'forward', r.route.dev ?? undefined, noteRoute, dst, r.route.gw, r.route.dev);
  ipForward(host, skb);
}

/** ip_local_deliver: LOCAL_IN (where IPVS takes client packets), then the protocol handler. */
function ipLocalDeliver(host: Host, skb: Skb): void {
  if (!hook(host, skb, 'INPUT', skb.dev, null)) return;
  ipProtocolDeliver(host, skb);
}

/** ip_protocol_deliver_rcu: hand the payload to the registered protocol handler. */
function ipProtocolDeliver(host: Host, skb: Skb): void {
  host.snmp.IpInDelivers++;
  // raw_local_deliver: raw sockets of protocols the kernel has no handler for (VRRP, 112) take it.
  const p = skb.pkt.protocol;
  if (p !== IPPROTO_TCP && p !== IPPROTO_UDP && p !== IPPROTO_ICMP && p !== IPPROTO_IPIP && rawDeliver(host, skb)) return;
  switch (skb.pkt.protocol) {
    case IPPROTO_TCP: tcpV4Rcv(host, skb); return;
    case IPPROTO_UDP: udpRcv(host, skb); return;
    case IPPROTO_ICMP: icmpRcv(host, skb); return;
    case IPPROTO_IPIP:
      // tunnel4 registers protocol 4 when the ipip module loads; without it there is no handler.
      if (host.modules.has('tunnel4')) { ipipRcv(host, skb); return; }
      break;
  }
  host.count('IpInUnknownProtos');
  host.snmp.IpInDelivers--;
  dropIcmp(host, skb, 'socket', { code: 'protocol_unreachable', protocol: skb.pkt.protocol }, 3, 2);
}

// --- forward ------------------------------------------------------------------------

/** ip_forward: FORWARD hook after the TTL and MTU checks, then ip_output. */
function ipForward(host: Host, skb: Skb): void {
  const p = skb.pkt;
  if (p.ttl <= 1) {
    host.count('IpInHdrErrors');
    dropIcmp(host, skb, 'FORWARD', { code: 'ttl_exceeded', ttl: p.ttl }, 11, 0);
    return;
  }
  // The route of ip_route_input_slow: the source plays no part in choosing it.
  const rt = ipRouteOutputAnySrc(host, p.dst);
  if (!rt || rt.local) {
    host.count('IpOutNoRoutes');
    host.emit.drop(skb, 'FORWARD', { code: 'no_route', dst: p.dst });
    return;
  }
  const len = ipv4TotalLength(p);
  if (len > rt.mtu && p.df) {
    host.count('IpFragFails');
    dropIcmp(host, skb, 'FORWARD', { code: 'frag_needed', mtu: rt.mtu, len }, 3, 4, rt.mtu);
    return;
  }
  // ip_decrease_ttl: new header, checksum recomputed on the wire.
  skb.pkt = { ...p, ttl: p.ttl - 1 };
  const inDev = skb.dev;
  if (doRedirect(host, inDev, rt, p.src)) ipRtSendRedirect(host, skb, rt.nexthop);
  if (!hook(host, skb, 'FORWARD', inDev, rt.dev)) return;
  host.snmp.IpForwDatagrams++;
  ipOutput(host, skb, rt);
}

// --- output -------------------------------------------------------------------------

/**
 * Send a locally generated datagram (ip_queue_xmit / ip_send_skb). The source must already
 * be set or is filled from the route. Returns false (after tracing the drop) with no route.
 */
export function ipSend(host: Host, pkt: Ipv4, cause?: number, route?: OutputRoute | null): boolean {
  const skb: Skb = { id: host.ids.next(), pkt, dev: null, cause };
  // A socket passes the route it holds (sk_dst_cache); others are routed here.
  const rt = route !== undefined ? route : ipRouteOutput(host, pkt.dst, pkt.src === 0 ? null : pkt.src);
  if (!rt) {
    host.count('IpOutNoRoutes');
    host.emit.pass(skb, 'socket', 'send');
    host.emit.drop(skb, 'routing', { code: 'no_route', dst: pkt.dst });
    return false;
  }
  if (pkt.src === 0) skb.pkt = { ...pkt, src: rt.src };
  host.emit.pass(skb, 'socket', 'send');
  ipLocalOut(host, skb, rt);
  return true;
}

/** ip_local_out: OUTPUT hook (routing already done by the caller), then ip_output. */
export function ipLocalOut(host: Host, skb: Skb, rt: OutputRoute): void {
  host.snmp.IpOutRequests++;
  host.emit.pass(skb, 'routing', 'output', rt.dev.name, noteOutput, skb.pkt.dst, rt);
  if (!hook(host, skb, 'OUTPUT', null, rt.dev)) return;
  ipOutput(host, skb, rt);
}

/** ip_output: POSTROUTING, then ip_finish_output (MTU) and the neighbour layer. */
function ipOutput(host: Host, skb: Skb, rt: CachedOutput): void {
  if (!hook(host, skb, 'POSTROUTING', null, rt.dev)) return;
  const len = ipv4TotalLength(skb.pkt);
  if (len > rt.mtu && skb.pkt.df && !skb.ignoreDf && !rt.local) {
    // Locally generated DF packet over the MTU: EMSGSIZE to the socket; TCP resegments.
    host.count('IpFragFails');
    host.emit.drop(skb, 'POSTROUTING', { code: 'frag_needed', mtu: rt.mtu, len });
    return;
  }
  // Simplification: a packet over the MTU without DF (or with ignore_df) is sent whole;
  // IP fragmentation and reassembly are not modelled.
  neighOutput(host, skb, rt.dev, rt.nexthop);
}

/** dev_queue_xmit: the frame leaves the device onto its segment. */
export function devXmit(host: Host, dev: NetDevice, frame: Ethernet, skb: Skb): void {
  const pkt = frame.payload;
  if (isCrashed(host)) {
    // A timer of the frozen kernel fired: nothing leaves a panicked host.
    host.emit.drop({ id: skb.id, pkt, cause: skb.cause }, devPoint(dev.name), { code: 'host_crashed', host: host.name, dev: dev.name });
    return;
  }
  if (!dev.up || !dev.carrier || !dev.xmit) {
    dev.stats.txDropped++;
    host.emit.drop({ id: skb.id, pkt, cause: skb.cause }, devPoint(dev.name), { code: 'link_down', dev: dev.name });
    return;
  }
  dev.stats.txPackets++;
  dev.stats.txBytes += pkt.proto === 'ipv4' ? ipv4TotalLength(pkt) + 14 : 42;
  host.emit.device({ id: skb.id, pkt, cause: skb.cause }, dev.name, 'tx', frame);
  dev.xmit(frame, skb.id);
}

/** The loopback device: a packet to a local address comes straight back in on lo. */
export function loopbackXmit(host: Host, skb: Skb): void {
  const lo = host.devices.get('lo')!;
  const frame: Ethernet = { proto: 'eth', src: lo.mac, dst: lo.mac, ethertype: ETH_P_IP, payload: skb.pkt };
  host.emit.device(skb, 'lo', 'tx', frame);
  lo.stats.txPackets++;
  host.engine.after(0, () => netifReceive(host, lo, frame, skb.id, skb.cause));
}

export type { Ip4 };
