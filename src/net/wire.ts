/**
 * net/wire.ts: packets to bytes and back, as they cross a Linux NIC (Ethernet II, ARP,
 * IPv4 with IP-in-IP nesting, TCP, UDP, ICMP), with real checksums. Used where bytes are
 * wanted: pcapng export, the browser's hex pane (fieldRanges), checksum tests. The model
 * itself never needs bytes.
 *
 * Round trip: decode(encode(p)) deep-equals p for the packets the model builds, given the
 * normal forms below. Where the wire holds less than the model (or more), decode picks:
 * - optional fields appear only when they carry something: Ipv4 `mf` only when set,
 *   `fragOffset` only when non-zero, Tcp `urg` only when non-zero, Tcp `options` only when
 *   at least one known option is present; ICMP echo always gets `data` (maybe empty).
 * - a fragment (MF set or offset non-zero) carries a RawPayload: only a whole datagram has
 *   a transport header to interpret.
 * - TCP options are read in any order and layout; unknown kinds are skipped. Encoding always
 *   uses Linux's layout (tcp_options_write): MSS, SACK_PERM+TS or NOP NOP TS, NOP WS.
 * - IPv4 header options (IHL > 5) are skipped on decode; the model has none.
 * - ICMP errors (types 3, 4, 5, 11, 12) always get `quotedLen`; bytes 4-7 are kept only as
 *   the next-hop MTU of a fragmentation-needed error (3/4) and the gateway of a redirect (5),
 *   otherwise written as zero.
 * - A truncated quote (the kernel's icmp_send quotes at most 548 bytes of the original) is
 *   read as if the missing tail were zero bytes: the quoted Ipv4 keeps its original total
 *   length, its transport layer has the header fields present in the quote and zeros for the
 *   rest (a quote of 8 TCP bytes gives ports and seq; ack, flags, window 0, no options, and
 *   `data` zero-filled to the original length). `quotedLen` says which bytes are real.
 *   Re-encoding such a quote writes a transport checksum over the zero-filled data, so it
 *   is not the original's; nobody can check it either, since the data is gone.
 */
import type { Ip4, Mac } from './addr';
import {
  ETH_P_ARP, ETH_P_IP, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP,
  ipv4TotalLength, tcpHeaderLength,
} from './packet';
import type { Arp, Ethernet, Icmp, Ipv4, Ipv4Payload, RawPayload, Tcp, TcpOptions, Udp } from './packet';
import { internetChecksum, transportChecksum } from './checksum';

/** Bytes that cannot be read as the layer they claim to be. */
export class WireError extends Error {
  override name = 'WireError';
}

/** One field of an encoded frame: bytes [start, end) belong to `field` of layer `layer`. */
export interface FieldRange {
  /** 0 for Ethernet, then one more for each layer inward (quoted layers included). */
  readonly layer: number;
  /** 'eth', 'ipv4', 'tcp', ...; a layer inside an ICMP error's quote is 'ipv4 (quoted)' etc. */
  readonly layerName: string;
  /** The field's name as net/json.ts names it where it has one there (src, ttl, flags...). */
  readonly field: string;
  readonly start: number;
  readonly end: number;
}

export const ETH_HEADER_LEN = 14;
export const IPV4_HEADER_LEN = 20;
export const ARP_LEN = 28;

/** ICMP types whose body quotes the offending packet (RFC 792). */
const ICMP_ERROR_TYPES: ReadonlySet<number> = new Set([3, 4, 5, 11, 12]);
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_REDIRECT = 5;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_FRAG_NEEDED = 4;
/** Bytes quoted when an ICMP error leaves quotedLen unset (header + 8, as icmpLength assumes). */
const DEFAULT_QUOTED_LEN = 28;

const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOPT_WINDOW = 3;
const TCPOPT_SACK_PERM = 4;
const TCPOPT_TIMESTAMP = 8;

// ---------------------------------------------------------------------------------------
// Encoding

/**
 * Where field offsets go while encoding, for fieldRanges. `base` shifts offsets of a buffer
 * encoded apart (an ICMP quote) into frame positions; `clip` cuts fields past the quote.
 */
class Ranges {
  readonly list: FieldRange[] = [];
  layer = -1;
  name = '';
  base = 0;
  clip = Infinity;
  suffix = '';
  begin(name: string): void {
    this.layer++;
    this.name = name + this.suffix;
  }
  f(field: string, start: number, end: number): void {
    const s = this.base + start;
    const e = Math.min(this.base + end, this.clip);
    if (s >= e) return;
    this.list.push({ layer: this.layer, layerName: this.name, field, start: s, end: e });
  }
}

function writeMac(b: Uint8Array, off: number, mac: Mac): void {
  const parts = mac.split(':');
  if (parts.length !== 6) throw new WireError(`not a MAC address: ${mac}`);
  for (let i = 0; i < 6; i++) {
    const v = parseInt(parts[i]!, 16);
    if (!(v >= 0 && v <= 255)) throw new WireError(`not a MAC address: ${mac}`);
    b[off + i] = v;
  }
}

function readMac(b: Uint8Array, off: number): Mac {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[off + i]!.toString(16).padStart(2, '0');
  return s;
}

function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Length of a frame on the wire as the capture sees it (no FCS, no padding to 60). */
export function frameLength(eth: Ethernet): number {
  return ETH_HEADER_LEN + (eth.payload.proto === 'arp' ? ARP_LEN : ipv4TotalLength(eth.payload));
}

/** Encodes an Ethernet II frame (no padding to the 60-byte minimum, no FCS: what tcpdump shows on tx). */
export function encodeFrame(eth: Ethernet): Uint8Array {
  const b = new Uint8Array(frameLength(eth));
  writeFrame(b, dataView(b), eth, undefined);
  return b;
}

/** Encodes an IPv4 datagram (header and everything inside it). */
export function encodeIpv4(p: Ipv4): Uint8Array {
  const b = new Uint8Array(ipv4TotalLength(p));
  writeIpv4(b, dataView(b), 0, p, undefined);
  return b;
}

/** Encodes an ARP message (28 bytes). */
export function encodeArp(a: Arp): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  writeArp(b, dataView(b), 0, a, undefined);
  return b;
}

/**
 * Byte offsets of every field of the encoded frame, outer layers first, for the hex pane.
 * Bit fields share their byte: version and ihl both cover byte 0 of the IPv4 header, df, mf
 * and fragOffset bytes 6-7. A quoted packet's fields are cut at the end of the quote.
 */
export function fieldRanges(eth: Ethernet): FieldRange[] {
  const b = new Uint8Array(frameLength(eth));
  const r = new Ranges();
  writeFrame(b, dataView(b), eth, r);
  return r.list;
}

function writeFrame(b: Uint8Array, v: DataView, eth: Ethernet, r: Ranges | undefined): void {
  writeMac(b, 0, eth.dst);
  writeMac(b, 6, eth.src);
  v.setUint16(12, eth.ethertype);
  if (r) {
    r.begin('eth');
    r.f('dst', 0, 6);
    r.f('src', 6, 12);
    r.f('ethertype', 12, 14);
  }
  if (eth.payload.proto === 'arp') writeArp(b, v, ETH_HEADER_LEN, eth.payload, r);
  else writeIpv4(b, v, ETH_HEADER_LEN, eth.payload, r);
}

function writeArp(b: Uint8Array, v: DataView, off: number, a: Arp, r: Ranges | undefined): void {
  v.setUint16(off, 1); // ARPHRD_ETHER
  v.setUint16(off + 2, ETH_P_IP);
  b[off + 4] = 6;
  b[off + 5] = 4;
  v.setUint16(off + 6, a.op);
  writeMac(b, off + 8, a.sha);
  v.setUint32(off + 14, a.spa >>> 0);
  writeMac(b, off + 18, a.tha);
  v.setUint32(off + 24, a.tpa >>> 0);
  if (r) {
    r.begin('arp');
    r.f('htype', off, off + 2);
    r.f('ptype', off + 2, off + 4);
    r.f('hlen', off + 4, off + 5);
    r.f('plen', off + 5, off + 6);
    r.f('op', off + 6, off + 8);
    r.f('sha', off + 8, off + 14);
    r.f('spa', off + 14, off + 18);
    r.f('tha', off + 18, off + 24);
    r.f('tpa', off + 24, off + 28);
  }
}

/** Writes the datagram at `off`; returns the offset just past it. */
function writeIpv4(b: Uint8Array, v: DataView, off: number, p: Ipv4, r: Ranges | undefined): number {
  const total = ipv4TotalLength(p);
  if (total > 0xffff) throw new WireError(`IPv4 datagram of ${total} bytes exceeds 65535`);
  b[off] = 0x45;
  b[off + 1] = p.tos & 0xff;
  v.setUint16(off + 2, total);
  v.setUint16(off + 4, p.id & 0xffff);
  v.setUint16(off + 6, (p.df ? 0x4000 : 0) | (p.mf ? 0x2000 : 0) | ((p.fragOffset ?? 0) & 0x1fff));
  b[off + 8] = p.ttl & 0xff;
  b[off + 9] = p.protocol & 0xff;
  v.setUint16(off + 10, 0);
  v.setUint32(off + 12, p.src >>> 0);
  v.setUint32(off + 16, p.dst >>> 0);
  v.setUint16(off + 10, internetChecksum(b, off, off + IPV4_HEADER_LEN));
  if (r) {
    r.begin('ipv4');
    r.f('version', off, off + 1);
    r.f('ihl', off, off + 1);
    r.f('tos', off + 1, off + 2);
    r.f('len', off + 2, off + 4);
    r.f('id', off + 4, off + 6);
    r.f('df', off + 6, off + 7);
    r.f('mf', off + 6, off + 7);
    r.f('fragOffset', off + 6, off + 8);
    r.f('ttl', off + 8, off + 9);
    r.f('protocol', off + 9, off + 10);
    r.f('checksum', off + 10, off + 12);
    r.f('src', off + 12, off + 16);
    r.f('dst', off + 16, off + 20);
  }
  const at = off + IPV4_HEADER_LEN;
  const pl = p.payload;
  switch (pl.proto) {
    case 'ipv4': writeIpv4(b, v, at, pl, r); break;
    case 'tcp': writeTcp(b, v, at, pl, p.src, p.dst, r); break;
    case 'udp': writeUdp(b, v, at, pl, p.src, p.dst, r); break;
    case 'icmp': writeIcmp(b, v, at, pl, r); break;
    case 'raw':
      b.set(pl.data, at);
      if (r) {
        r.begin('raw');
        r.f('data', at, at + pl.data.length);
      }
      break;
  }
  return off + total;
}

function writeTcp(
  b: Uint8Array, v: DataView, off: number, t: Tcp, src: Ip4, dst: Ip4, r: Ranges | undefined,
): void {
  const hl = tcpHeaderLength(t);
  v.setUint16(off, t.sport);
  v.setUint16(off + 2, t.dport);
  v.setUint32(off + 4, t.seq >>> 0);
  v.setUint32(off + 8, t.ack >>> 0);
  b[off + 12] = (hl / 4) << 4;
  b[off + 13] = t.flags & 0xff;
  v.setUint16(off + 14, t.window);
  v.setUint16(off + 16, 0);
  v.setUint16(off + 18, t.urg ?? 0);
  if (r) {
    r.begin('tcp');
    r.f('sport', off, off + 2);
    r.f('dport', off + 2, off + 4);
    r.f('seq', off + 4, off + 8);
    r.f('ack', off + 8, off + 12);
    r.f('dataOffset', off + 12, off + 13);
    r.f('flags', off + 13, off + 14);
    r.f('window', off + 14, off + 16);
    r.f('checksum', off + 16, off + 18);
    r.f('urg', off + 18, off + 20);
    if (hl > 20) r.f('options', off + 20, off + hl);
  }
  // tcp_options_write(): the order and NOP padding Linux puts on the wire.
  let o = off + 20;
  const opts = t.options;
  if (opts) {
    if (opts.mss !== undefined) {
      b[o] = TCPOPT_MSS; b[o + 1] = 4; v.setUint16(o + 2, opts.mss);
      r?.f('mss', o, o + 4);
      o += 4;
    }
    if (opts.ts) {
      if (opts.sackPerm) {
        b[o] = TCPOPT_SACK_PERM; b[o + 1] = 2;
        r?.f('sackPerm', o, o + 2);
      } else {
        b[o] = TCPOPT_NOP; b[o + 1] = TCPOPT_NOP;
      }
      b[o + 2] = TCPOPT_TIMESTAMP; b[o + 3] = 10;
      v.setUint32(o + 4, opts.ts[0] >>> 0);
      v.setUint32(o + 8, opts.ts[1] >>> 0);
      r?.f('ts', o + 2, o + 12);
      o += 12;
    } else if (opts.sackPerm) {
      b[o] = TCPOPT_NOP; b[o + 1] = TCPOPT_NOP; b[o + 2] = TCPOPT_SACK_PERM; b[o + 3] = 2;
      r?.f('sackPerm', o + 2, o + 4);
      o += 4;
    }
    if (opts.wscale !== undefined) {
      b[o] = TCPOPT_NOP; b[o + 1] = TCPOPT_WINDOW; b[o + 2] = 3; b[o + 3] = opts.wscale;
      r?.f('wscale', o + 1, o + 4);
      o += 4;
    }
  }
  b.set(t.data, off + hl);
  if (r && t.data.length) r.f('data', off + hl, off + hl + t.data.length);
  const end = off + hl + t.data.length;
  v.setUint16(off + 16, transportChecksum(src, dst, IPPROTO_TCP, b, off, end));
}

function writeUdp(
  b: Uint8Array, v: DataView, off: number, u: Udp, src: Ip4, dst: Ip4, r: Ranges | undefined,
): void {
  const len = 8 + u.data.length;
  v.setUint16(off, u.sport);
  v.setUint16(off + 2, u.dport);
  v.setUint16(off + 4, len);
  v.setUint16(off + 6, 0);
  b.set(u.data, off + 8);
  const c = transportChecksum(src, dst, IPPROTO_UDP, b, off, off + len);
  // RFC 768: a computed 0 is sent as all ones; 0 means the sender did not checksum.
  v.setUint16(off + 6, c === 0 ? 0xffff : c);
  if (r) {
    r.begin('udp');
    r.f('sport', off, off + 2);
    r.f('dport', off + 2, off + 4);
    r.f('len', off + 4, off + 6);
    r.f('checksum', off + 6, off + 8);
    if (u.data.length) r.f('data', off + 8, off + len);
  }
}

function writeIcmp(b: Uint8Array, v: DataView, off: number, m: Icmp, r: Ranges | undefined): void {
  b[off] = m.type;
  b[off + 1] = m.code;
  v.setUint16(off + 2, 0);
  if (r) {
    r.begin('icmp');
    r.f('type', off, off + 1);
    r.f('code', off + 1, off + 2);
    r.f('checksum', off + 2, off + 4);
  }
  let end: number;
  if (m.quoted) {
    if (m.type === ICMP_DEST_UNREACH && m.code === ICMP_FRAG_NEEDED) {
      v.setUint16(off + 6, m.mtu ?? 0);
      r?.f('mtu', off + 6, off + 8);
    } else if (m.type === ICMP_REDIRECT) {
      v.setUint32(off + 4, m.gateway ?? 0);
      r?.f('gateway', off + 4, off + 8);
    } else {
      r?.f('unused', off + 4, off + 8);
    }
    const qlen = m.quotedLen ?? DEFAULT_QUOTED_LEN;
    const q = new Uint8Array(Math.max(qlen, ipv4TotalLength(m.quoted)));
    if (r) {
      // The quote is encoded apart; its fields land at off + 8 in this buffer, cut at qlen.
      const saved = { base: r.base, clip: r.clip, suffix: r.suffix };
      r.base = saved.base + off + 8;
      r.clip = Math.min(saved.clip, r.base + qlen);
      r.suffix = ' (quoted)';
      writeIpv4(q, dataView(q), 0, m.quoted, r);
      Object.assign(r, saved);
    } else {
      writeIpv4(q, dataView(q), 0, m.quoted, undefined);
    }
    b.set(q.subarray(0, qlen), off + 8);
    end = off + 8 + qlen;
  } else {
    if (m.ident !== undefined || m.sequence !== undefined) {
      v.setUint16(off + 4, m.ident ?? 0);
      v.setUint16(off + 6, m.sequence ?? 0);
      r?.f('ident', off + 4, off + 6);
      r?.f('sequence', off + 6, off + 8);
    }
    const d = m.data ?? new Uint8Array(0);
    b.set(d, off + 8);
    if (r && d.length) r.f('data', off + 8, off + 8 + d.length);
    end = off + 8 + d.length;
  }
  v.setUint16(off + 2, internetChecksum(b, off, end));
}

// ---------------------------------------------------------------------------------------
// Decoding

/** Decodes an Ethernet II frame carrying IPv4 or ARP. Trailing bytes (padding to 60) are ignored. */
export function decodeFrame(bytes: Uint8Array): Ethernet {
  if (bytes.length < ETH_HEADER_LEN) throw new WireError(`frame of ${bytes.length} bytes is shorter than an Ethernet header`);
  const v = dataView(bytes);
  const ethertype = v.getUint16(12);
  const rest = bytes.subarray(ETH_HEADER_LEN);
  let payload: Ipv4 | Arp;
  if (ethertype === ETH_P_IP) payload = decodeIpv4(rest);
  else if (ethertype === ETH_P_ARP) payload = decodeArp(rest);
  else throw new WireError(`ethertype 0x${ethertype.toString(16).padStart(4, '0')} is neither IPv4 nor ARP`);
  return { proto: 'eth', src: readMac(bytes, 6), dst: readMac(bytes, 0), ethertype, payload };
}

/** Decodes an Ethernet/IPv4 ARP message. */
export function decodeArp(bytes: Uint8Array): Arp {
  if (bytes.length < ARP_LEN) throw new WireError(`ARP message of ${bytes.length} bytes is shorter than 28`);
  const v = dataView(bytes);
  if (v.getUint16(0) !== 1 || v.getUint16(2) !== ETH_P_IP || bytes[4] !== 6 || bytes[5] !== 4) {
    throw new WireError('ARP message is not Ethernet/IPv4');
  }
  const op = v.getUint16(6);
  if (op !== 1 && op !== 2) throw new WireError(`ARP op ${op} is neither request (1) nor reply (2)`);
  return {
    proto: 'arp', op,
    sha: readMac(bytes, 8), spa: v.getUint32(14), tha: readMac(bytes, 18), tpa: v.getUint32(24),
  };
}

/**
 * Decodes an IPv4 datagram. Bytes past the header's total length are ignored; checksums are
 * not checked here (see ipv4HeaderOk and the checksum functions), as a dissector reads on.
 */
export function decodeIpv4(bytes: Uint8Array): Ipv4 {
  return readIpv4(bytes, false);
}

/** True when the IPv4 header at the start of `bytes` has a correct header checksum. */
export function ipv4HeaderOk(bytes: Uint8Array): boolean {
  const ihl = (bytes[0]! & 0x0f) * 4;
  return bytes.length >= ihl && ihl >= IPV4_HEADER_LEN && internetChecksum(bytes, 0, ihl) === 0;
}

/**
 * `lenient` reads a quote that was zero-filled to its original length: malformed or missing
 * inner parts become RawPayload instead of errors.
 */
function readIpv4(bytes: Uint8Array, lenient: boolean): Ipv4 {
  if (bytes.length < IPV4_HEADER_LEN) throw new WireError(`IPv4 datagram of ${bytes.length} bytes is shorter than its header`);
  const v = dataView(bytes);
  if (bytes[0]! >> 4 !== 4) throw new WireError(`IP version ${bytes[0]! >> 4} is not 4`);
  const ihl = (bytes[0]! & 0x0f) * 4;
  if (ihl < IPV4_HEADER_LEN) throw new WireError(`IPv4 header length ${ihl} is below 20`);
  const total = v.getUint16(2);
  if (total < ihl) throw new WireError(`IPv4 total length ${total} is below the header length ${ihl}`);
  if (total > bytes.length) throw new WireError(`IPv4 total length ${total} exceeds the ${bytes.length} bytes present`);
  const frag = v.getUint16(6);
  const mf = (frag & 0x2000) !== 0;
  const fragOffset = frag & 0x1fff;
  const protocol = bytes[9]!;
  const src = v.getUint32(12);
  const dst = v.getUint32(16);
  const body = bytes.subarray(ihl, total);
  let payload: Ipv4Payload;
  if (mf || fragOffset) payload = raw(body);
  else if (lenient) {
    try {
      payload = readPayload(body, protocol, src, dst, true);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      payload = raw(body);
    }
  } else payload = readPayload(body, protocol, src, dst, false);
  const p: Ipv4 = {
    proto: 'ipv4', src, dst, protocol, ttl: bytes[8]!, tos: bytes[1]!, id: v.getUint16(4),
    df: (frag & 0x4000) !== 0,
    ...(mf ? { mf: true } : {}),
    ...(fragOffset ? { fragOffset } : {}),
    payload,
  };
  return p;
}

function raw(body: Uint8Array): RawPayload {
  return { proto: 'raw', data: body.slice() };
}

function readPayload(body: Uint8Array, protocol: number, src: Ip4, dst: Ip4, lenient: boolean): Ipv4Payload {
  switch (protocol) {
    case IPPROTO_IPIP: return readIpv4(body, lenient);
    case IPPROTO_TCP: return readTcp(body, lenient);
    case IPPROTO_UDP: return readUdp(body);
    case IPPROTO_ICMP: return readIcmp(body);
    default: return raw(body);
  }
}

function readTcp(b: Uint8Array, lenient: boolean): Tcp {
  if (b.length < 20) throw new WireError(`TCP segment of ${b.length} bytes is shorter than its header`);
  const v = dataView(b);
  let hl = (b[12]! >> 4) * 4;
  if (hl < 20 || hl > b.length) {
    // In a zero-filled quote the data offset may be missing (0): read it as a bare header.
    if (!lenient) throw new WireError(`TCP data offset ${hl} is outside 20..${b.length}`);
    hl = 20;
  }
  const options = readTcpOptions(b, 20, hl);
  const urg = v.getUint16(18);
  const t: Tcp = {
    proto: 'tcp', sport: v.getUint16(0), dport: v.getUint16(2), seq: v.getUint32(4), ack: v.getUint32(8),
    flags: b[13]!, window: v.getUint16(14),
    ...(urg ? { urg } : {}),
    ...(options ? { options } : {}),
    data: new Uint8Array(0),
  };
  // In a quote cut inside the options, keep the total length: what follows the options read
  // counts as data.
  const dataStart = lenient ? tcpHeaderLength(t) : hl;
  return { ...t, data: b.slice(dataStart) };
}

function readTcpOptions(b: Uint8Array, start: number, end: number): TcpOptions | undefined {
  const v = dataView(b);
  const o: { mss?: number; sackPerm?: boolean; ts?: readonly [number, number]; wscale?: number } = {};
  let i = start;
  let any = false;
  while (i < end) {
    const kind = b[i]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) { i++; continue; }
    if (i + 1 >= end) break;
    const len = b[i + 1]!;
    if (len < 2 || i + len > end) break; // malformed: stop as tcp_parse_options does
    if (kind === TCPOPT_MSS && len === 4) { o.mss = v.getUint16(i + 2); any = true; }
    else if (kind === TCPOPT_WINDOW && len === 3) { o.wscale = b[i + 2]!; any = true; }
    else if (kind === TCPOPT_SACK_PERM && len === 2) { o.sackPerm = true; any = true; }
    else if (kind === TCPOPT_TIMESTAMP && len === 10) { o.ts = [v.getUint32(i + 2), v.getUint32(i + 6)]; any = true; }
    i += len;
  }
  return any ? o : undefined;
}

function readUdp(b: Uint8Array): Udp {
  if (b.length < 8) throw new WireError(`UDP datagram of ${b.length} bytes is shorter than its header`);
  const v = dataView(b);
  const len = v.getUint16(4);
  if (len < 8 || len > b.length) throw new WireError(`UDP length ${len} is outside 8..${b.length}`);
  return { proto: 'udp', sport: v.getUint16(0), dport: v.getUint16(2), data: b.slice(8, len) };
}

function readIcmp(b: Uint8Array): Icmp {
  if (b.length < 8) throw new WireError(`ICMP message of ${b.length} bytes is shorter than its header`);
  const v = dataView(b);
  const type = b[0]!;
  const code = b[1]!;
  if (ICMP_ERROR_TYPES.has(type)) {
    const q = b.subarray(8);
    if (q.length < IPV4_HEADER_LEN) throw new WireError(`ICMP error quotes ${q.length} bytes, less than an IPv4 header`);
    const origLen = dataView(q).getUint16(2);
    // A quote shorter than the original: fill the missing tail with zeros (see file comment).
    let full = q;
    if (origLen > q.length) {
      full = new Uint8Array(origLen);
      full.set(q);
    }
    let quoted: Ipv4;
    if (full !== q) quoted = readIpv4(full, true);
    else {
      try {
        quoted = readIpv4(q, false);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        quoted = readIpv4(q, true);
      }
    }
    return {
      proto: 'icmp', type, code,
      ...(type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED ? { mtu: v.getUint16(6) } : {}),
      ...(type === ICMP_REDIRECT ? { gateway: v.getUint32(4) } : {}),
      quoted, quotedLen: q.length,
    };
  }
  if (type === ICMP_ECHO || type === ICMP_ECHO_REPLY) {
    return { proto: 'icmp', type, code, ident: v.getUint16(4), sequence: v.getUint16(6), data: b.slice(8) };
  }
  return { proto: 'icmp', type, code, data: b.slice(8) };
}

/** The quote of `pkt` the kernel's icmp_send puts in an error: at most 576 - 28 = 548 bytes. */
export const ICMP_QUOTE_MAX = 548;

/**
 * The (quoted, quotedLen) pair for an ICMP error about `pkt`, in the normal form decode
 * gives back: the whole packet if it fits in `max` bytes, else its first `max` bytes read as
 * described in the file comment. Use it so a quote round-trips through bytes.
 */
export function quoteOf(pkt: Ipv4, max = ICMP_QUOTE_MAX): { quoted: Ipv4; quotedLen: number } {
  const total = ipv4TotalLength(pkt);
  if (total <= max) return { quoted: pkt, quotedLen: total };
  const full = encodeIpv4(pkt);
  full.fill(0, max);
  return { quoted: readIpv4(full, true), quotedLen: max };
}
