/**
 * net/addr.ts: IPv4 addresses as unsigned 32-bit numbers (host byte order, so 10.0.0.1 is
 * 0x0A000001, what the kernel calls ntohl(addr)), prefixes, and MAC addresses.
 */

/** An IPv4 address as an unsigned 32-bit integer. */
export type Ip4 = number;

/** A MAC address as 12 lowercase hex digits joined by colons ("02:00:00:00:00:01"). */
export type Mac = string;

export const BROADCAST_MAC: Mac = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: Mac = '00:00:00:00:00:00';

const DOTTED = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Strict dotted-quad parse: "10.0.0.1" -> 0x0A000001; null for anything else. */
export function parseIp4(s: string): Ip4 | null {
  const m = DOTTED.exec(s);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    v = v * 256 + o;
  }
  return v >>> 0;
}

/** Like parseIp4 but throws; for addresses the program itself wrote. */
export function ip4(s: string): Ip4 {
  const v = parseIp4(s);
  if (v === null) throw new Error(`not an IPv4 address: ${s}`);
  return v;
}

export function formatIp4(a: Ip4): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Netmask for a prefix length: 24 -> 0xFFFFFF00. */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Prefix length of a contiguous netmask, or null ("255.255.0.255" is not one). */
export function maskLength(mask: number): number | null {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return null;
  let n = 0;
  for (let m = mask >>> 0; m & 0x80000000; m = (m << 1) >>> 0) n++;
  return n;
}

export function inPrefix(a: Ip4, net: Ip4, len: number): boolean {
  const m = prefixMask(len);
  return ((a & m) >>> 0) === ((net & m) >>> 0);
}

export function networkOf(a: Ip4, len: number): Ip4 {
  return (a & prefixMask(len)) >>> 0;
}

export function broadcastOf(a: Ip4, len: number): Ip4 {
  return (a | ~prefixMask(len)) >>> 0;
}

export function formatPrefix(net: Ip4, len: number): string {
  return `${formatIp4(net)}/${len}`;
}

/** Multicast 224/4. */
export function isMulticast(a: Ip4): boolean {
  return a >>> 28 === 0xe;
}

export function isLoopback(a: Ip4): boolean {
  return a >>> 24 === 127;
}

/** Zeronet 0/8 (martian as a source on input). */
export function isZeronet(a: Ip4): boolean {
  return a >>> 24 === 0;
}

export const LIMITED_BROADCAST: Ip4 = 0xffffffff;

/** "ip:port" as ipvsadm and ss print it. */
export function formatEndpoint(a: Ip4, port: number): string {
  return `${formatIp4(a)}:${port}`;
}
