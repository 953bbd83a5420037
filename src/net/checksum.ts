/**
 * net/checksum.ts: the Internet checksum (RFC 1071), as the kernel's csum_partial /
 * csum_fold / csum_tcpudp_magic compute it: a 16-bit one's-complement sum of big-endian
 * words, folded and complemented. Used by net/wire.ts for the IPv4 header, ICMP, TCP and
 * UDP (the last two over the pseudo-header of RFC 793 / RFC 768).
 */
import type { Ip4 } from './addr';

/**
 * Unfolded one's-complement sum of `bytes[start, end)` added to `acc`. An odd trailing byte
 * counts as the high byte of a word padded with zero (RFC 1071 4.1). The result stays an
 * exact integer far below 2^53 for any packet size, so folding can wait until the end.
 */
export function sum16(bytes: Uint8Array, start = 0, end = bytes.length, acc = 0): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) s += bytes[i]! << 8;
  return s;
}

/** Folds carries into 16 bits and complements: the value written into a checksum field. */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/**
 * Internet checksum of `bytes[start, end)`. Computed over a header whose checksum field is
 * already filled in, it gives 0 when the header is intact.
 */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return fold(sum16(bytes, start, end));
}

/** Unfolded sum of the IPv4 pseudo-header: source, destination, zero, protocol, length. */
export function pseudoHeaderSum(src: Ip4, dst: Ip4, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * TCP or UDP checksum of the segment `bytes[start, end)` between `src` and `dst`: the
 * pseudo-header (with length end - start) plus the segment. Over a segment whose checksum
 * field is filled in, it gives 0 when intact. UDP senders write 0xffff for a computed 0,
 * since 0 on the wire means "no checksum" (RFC 768); the caller does that substitution.
 */
export function transportChecksum(
  src: Ip4, dst: Ip4, protocol: number, bytes: Uint8Array, start = 0, end = bytes.length,
): number {
  return fold(sum16(bytes, start, end, pseudoHeaderSum(src, dst, protocol, end - start)));
}
