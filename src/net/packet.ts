/**
 * net/packet.ts: packets as plain, typed layers. Encapsulation is nesting: an IP-in-IP
 * packet is an Ipv4 (protocol 4) whose payload is the original Ipv4. Layers are treated as
 * immutable once built: a hop that changes a field (TTL) makes a new object, so the trace can
 * hold references to what each point saw. Bytes are made only where bytes are wanted
 * (net/wire.ts: pcapng, the hex pane, checksum tests).
 */
import type { Ip4, Mac } from './addr';

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;

/** TCP flag bits as in the header's flags byte. */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** TCP options the model emits; the set decides the header length as on Linux. */
export interface TcpOptions {
  readonly mss?: number;
  readonly sackPerm?: boolean;
  /** Timestamps (TSval, TSecr). */
  readonly ts?: readonly [number, number];
  readonly wscale?: number;
}

export interface Tcp {
  readonly proto: 'tcp';
  readonly sport: number;
  readonly dport: number;
  readonly seq: number;
  readonly ack: number;
  /** Flag bits, TCP_SYN | TCP_ACK ... */
  readonly flags: number;
  readonly window: number;
  readonly urg?: number;
  readonly options?: TcpOptions;
  /** Application bytes carried. */
  readonly data: Uint8Array;
}

export interface Udp {
  readonly proto: 'udp';
  readonly sport: number;
  readonly dport: number;
  readonly data: Uint8Array;
}

/**
 * ICMP. For errors (dest unreachable 3, time exceeded 11) `quoted` is the offending packet's
 * IP header plus at least the first 8 bytes of its payload, as the kernel quotes it
 * (icmp_send quotes as much as fits in 576 bytes). Kept as the decoded Ipv4 whose payload
 * is truncated to what was quoted; `quotedLen` is how many bytes of it were quoted.
 */
export interface Icmp {
  readonly proto: 'icmp';
  readonly type: number;
  readonly code: number;
  /** Echo identifier / sequence (types 0 and 8). */
  readonly ident?: number;
  readonly sequence?: number;
  /** Next-hop MTU of a fragmentation-needed error (type 3 code 4). */
  readonly mtu?: number;
  /** The better first hop a redirect (type 5) names. */
  readonly gateway?: number;
  readonly quoted?: Ipv4;
  /** Bytes of the quoted packet carried (header + leading payload bytes). */
  readonly quotedLen?: number;
  /** Payload bytes of an echo. */
  readonly data?: Uint8Array;
}

/** A payload the model does not interpret (an unknown protocol number). */
export interface RawPayload {
  readonly proto: 'raw';
  readonly data: Uint8Array;
}

export type Ipv4Payload = Ipv4 | Tcp | Udp | Icmp | RawPayload;

export interface Ipv4 {
  readonly proto: 'ipv4';
  readonly src: Ip4;
  readonly dst: Ip4;
  /** 1 ICMP, 4 IPIP, 6 TCP, 17 UDP. */
  readonly protocol: number;
  readonly ttl: number;
  readonly tos: number;
  readonly id: number;
  readonly df: boolean;
  readonly mf?: boolean;
  /** Fragment offset in 8-byte units. */
  readonly fragOffset?: number;
  readonly payload: Ipv4Payload;
}

export interface Arp {
  readonly proto: 'arp';
  /** 1 request, 2 reply. */
  readonly op: 1 | 2;
  readonly sha: Mac;
  readonly spa: Ip4;
  readonly tha: Mac;
  readonly tpa: Ip4;
}

export interface Ethernet {
  readonly proto: 'eth';
  readonly src: Mac;
  readonly dst: Mac;
  readonly ethertype: number;
  readonly payload: Ipv4 | Arp;
}

export type Layer = Ethernet | Arp | Ipv4 | Tcp | Udp | Icmp | RawPayload;

/** TCP header length in bytes for the options present (NOP-padded to 4 bytes, as Linux). */
export function tcpHeaderLength(t: Tcp): number {
  const o = t.options;
  if (!o) return 20;
  let n = 0;
  if (o.mss !== undefined) n += 4;
  // SACK_PERM rides in the two bytes before the timestamp (2 + 10), otherwise NOP NOP TS;
  // alone it is padded with two NOPs. Either way 12 or 4 bytes, as tcp_options_write emits.
  if (o.ts) n += 12;
  else if (o.sackPerm) n += 4;
  if (o.wscale !== undefined) n += 4;
  return 20 + n;
}

/** Length in bytes of an IPv4 payload layer on the wire. */
export function payloadLength(p: Ipv4Payload): number {
  switch (p.proto) {
    case 'ipv4': return ipv4TotalLength(p);
    case 'tcp': return tcpHeaderLength(p) + p.data.length;
    case 'udp': return 8 + p.data.length;
    case 'icmp': return icmpLength(p);
    case 'raw': return p.data.length;
  }
}

export function icmpLength(p: Icmp): number {
  if (p.quoted) return 8 + (p.quotedLen ?? 28);
  return 8 + (p.data?.length ?? 0);
}

/** IPv4 total length (header 20, no options). */
export function ipv4TotalLength(p: Ipv4): number {
  return 20 + payloadLength(p.payload);
}

/** The innermost IPv4 header (through IP-in-IP nesting). */
export function innermost(p: Ipv4): Ipv4 {
  let q = p;
  while (q.payload.proto === 'ipv4') q = q.payload;
  return q;
}

/** Transport layer under the innermost IPv4 header, if any. */
export function transportOf(p: Ipv4): Tcp | Udp | Icmp | null {
  const l = innermost(p).payload;
  return l.proto === 'tcp' || l.proto === 'udp' || l.proto === 'icmp' ? l : null;
}

/** Layers outermost first (Ethernet not included unless given). */
export function layersOf(p: Ethernet | Ipv4 | Arp): Layer[] {
  const out: Layer[] = [];
  let l: Layer | undefined = p;
  while (l) {
    out.push(l);
    if (l.proto === 'eth' || l.proto === 'ipv4') l = l.payload;
    else if (l.proto === 'icmp' && l.quoted) l = undefined;
    else l = undefined;
  }
  return out;
}

export const EMPTY = new Uint8Array(0);

const enc = new TextEncoder();
/** UTF-8 bytes of `s`; ASCII (every greeting and request line) without the encoder's call overhead. */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return enc.encode(s);
    out[i] = c;
  }
  return out;
}
