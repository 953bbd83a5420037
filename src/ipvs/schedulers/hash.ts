/**
 * ipvs/schedulers/hash.ts: the hash functions the hashing schedulers use.
 * - hash_32() (include/linux/hash.h, generic form; x86-64 has no override): the top `bits`
 *   bits of val * GOLDEN_RATIO_32 mod 2^32. dh/sh use 8 bits, lblc/lblcr 10 (6.1 = mainline).
 * - hsiphash() on a 64-bit kernel (lib/siphash.c: "on 64-bit, we make HalfSipHash1-3 actually
 *   be SipHash1-3"), for a 4-byte input, as ip_vs_mh_hashkey() calls it. 64-bit words are kept
 *   as (hi, lo) pairs of unsigned 32-bit halves so the hot path needs no BigInt.
 * And what sh and mh both take from their packet and dests (each has its own copy in the kernel).
 */
import { IP_VS_DEST_F_OVERLOAD, type Dest, type SchedPacket } from '../types';

/** ip_vs_sh_get_port() / ip_vs_mh_get_port(): the client's source port for TCP, UDP and SCTP, else 0. */
export function hashPort(pkt: SchedPacket): number {
  const p = pkt.protocol;
  return p === 6 || p === 17 || p === 132 ? pkt.sport : 0;
}

/** is_unavailable() of sh and mh: weight 0 or OVERLOAD. */
export const hashUnavailable = (d: Dest): boolean => d.weight <= 0 || (d.flags & IP_VS_DEST_F_OVERLOAD) !== 0;
export const whyUnavailable = (d: Dest): string => (d.weight <= 0 ? 'weight 0' : 'overloaded');

/** hash_32(val, bits) = (val * 0x61C88647 mod 2^32) >> (32 - bits). */
export function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, 0x61c88647) >>> (32 - bits);
}

/** A hsiphash_key_t on 64-bit: two 64-bit words, here as [k0hi, k0lo, k1hi, k1lo]. */
export type SipKey = readonly [number, number, number, number];

/** Key from two words that fit in 32 bits (the kernel's mh keys do). */
export const sipKey32 = (k0: number, k1: number): SipKey => [0, k0 >>> 0, 0, k1 >>> 0];

// state v0..v3 as hi/lo pairs: s[0]=v0hi s[1]=v0lo s[2]=v1hi s[3]=v1lo ...
const s = new Uint32Array(8);

function add(a: number, b: number): void {
  const lo = (s[a + 1]! + s[b + 1]!) >>> 0;
  const carry = lo < s[a + 1]! ? 1 : 0;
  s[a] = (s[a]! + s[b]! + carry) >>> 0;
  s[a + 1] = lo;
}

function rol(a: number, n: number): void {
  let hi = s[a]!;
  let lo = s[a + 1]!;
  if (n >= 32) {
    const t = hi;
    hi = lo;
    lo = t;
    n -= 32;
  }
  if (n > 0) {
    const nh = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    const nl = ((lo << n) | (hi >>> (32 - n))) >>> 0;
    hi = nh;
    lo = nl;
  }
  s[a] = hi;
  s[a + 1] = lo;
}

function xor(a: number, b: number): void {
  s[a] = (s[a]! ^ s[b]!) >>> 0;
  s[a + 1] = (s[a + 1]! ^ s[b + 1]!) >>> 0;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function sipround(): void {
  add(V0, V1); rol(V1, 13); xor(V1, V0); rol(V0, 32);
  add(V2, V3); rol(V3, 16); xor(V3, V2);
  add(V0, V3); rol(V3, 21); xor(V3, V0);
  add(V2, V1); rol(V1, 17); xor(V1, V2); rol(V2, 32);
}

/**
 * hsiphash(&v, 4, key) on a 64-bit kernel: SipHash-1-3 of the u32 `v` (little-endian bytes),
 * returning the low 32 bits of v0 ^ v1 ^ v2 ^ v3.
 */
export function hsiphash32(v: number, key: SipKey): number {
  const [k0h, k0l, k1h, k1l] = key;
  // "somepseudorandomlygeneratedbytes"
  s[0] = (0x736f6d65 ^ k0h) >>> 0; s[1] = (0x70736575 ^ k0l) >>> 0;
  s[2] = (0x646f7261 ^ k1h) >>> 0; s[3] = (0x6e646f6d ^ k1l) >>> 0;
  s[4] = (0x6c796765 ^ k0h) >>> 0; s[5] = (0x6e657261 ^ k0l) >>> 0;
  s[6] = (0x74656462 ^ k1h) >>> 0; s[7] = (0x79746573 ^ k1l) >>> 0;
  // b = (len << 56) | v, len = 4
  const bh = 0x04000000;
  const bl = v >>> 0;
  s[6] = (s[6]! ^ bh) >>> 0; s[7] = (s[7]! ^ bl) >>> 0;
  sipround();
  s[0] = (s[0]! ^ bh) >>> 0; s[1] = (s[1]! ^ bl) >>> 0;
  s[5] = (s[5]! ^ 0xff) >>> 0;
  sipround();
  sipround();
  sipround();
  return (s[1]! ^ s[3]! ^ s[5]! ^ s[7]!) >>> 0;
}

/** gcd() of two positive ints (lib/math/gcd.c gives the same value). */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** fls(): 1-based index of the highest set bit, 0 for 0. */
export const fls = (x: number): number => (x === 0 ? 0 : 32 - Math.clz32(x));
