/**
 * ipvs/schedulers/mh.ts: Maglev Hashing, ip_vs_mh_schedule(), ip_vs_mh_permutate(),
 * ip_vs_mh_populate(), ip_vs_mh_gcd_weight(), ip_vs_mh_shift_weight(), ip_vs_mh_get(),
 * ip_vs_mh_get_fallback() (net/netfilter/ipvs/ip_vs_mh.c, 4.18+; 6.1 = mainline).
 * Table of IP_VS_MH_TAB_SIZE = 4093 slots (CONFIG_IP_VS_MH_TAB_INDEX default 12), rebuilt on
 * init/add/delete/edit from each dest's permutation: offset = hash1(addr, port) % 4093,
 * skip = hash2(addr, port) % 4092 + 1, turns from last_weight (not weight) / gcd >> rshift.
 * Hash = hsiphash of the u32 (offset + ntohs(port) + ntohl(addr)) with the fixed keys of
 * generate_hash_secret(), in its 64-bit form (SipHash-1-3; 32-bit kernels differ).
 * Client key: source address, plus the source port with mh-port. mh-fallback re-hashes with
 * roffset as the offset term (not linear probing).
 * Not modelled: inverse (ICMP error) lookups, IPv6 folding. More than 4093 dests: the kernel's
 * add_dest fails with -EINVAL (ignored by the caller) and the table is left as it was; so here.
 */
import {
  IP_VS_SVC_F_SCHED_MH_FALLBACK,
  IP_VS_SVC_F_SCHED_MH_PORT,
  destKey,
  type Dest,
  type SchedContext,
  type SchedPacket,
  type Scheduler,
  type Service,
} from '../types';
import { formatIp4 } from '../../net/addr';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';
import { fls, gcd, hashPort, hashUnavailable, hsiphash32, sipKey32, whyUnavailable, type SipKey } from './hash';

const PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
export const CONFIG_IP_VS_MH_TAB_INDEX = 12;
export const IP_VS_MH_TAB_SIZE: number = PRIMES[CONFIG_IP_VS_MH_TAB_INDEX - 8];
export const IP_VS_MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2;

/** generate_hash_secret(): fixed keys. */
export const MH_HASH1: SipKey = sipKey32(2654435761, 2654435761);
export const MH_HASH2: SipKey = sipKey32(2654446892, 2654446892);

/** struct ip_vs_mh_state. */
export interface MhState {
  lookup: (Dest | null)[];
  gcd: number;
  rshift: number;
}

/** ip_vs_mh_hashkey(): hsiphash of (offset + port + addr) mod 2^32. */
export function mhHashkey(addr: number, port: number, key: SipKey, offset: number): number {
  return hsiphash32((offset + port + addr) >>> 0, key);
}

/** ip_vs_mh_gcd_weight(): gcd of last_weight > 0, 0 if none. */
function gcdWeight(svc: Service): number {
  let g = 0;
  for (const d of svc.dests) {
    const w = d.lastWeight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g;
}

/** ip_vs_mh_shift_weight(). */
function shiftWeight(svc: Service, g: number): number {
  if (g < 1) return 0;
  let w = 0;
  for (const d of svc.dests) if (d.lastWeight > w) w = d.lastWeight;
  const shift = fls(Math.trunc(w / g)) - IP_VS_MH_TAB_BITS;
  return shift >= 0 ? shift : 0;
}

/** Per-dest permutation (struct ip_vs_mh_dest_setup), as ip_vs_mh_permutate() fills it. */
export interface MhDestSetup {
  offset: number;
  skip: number;
  perm: number;
  turns: number;
}

export function mhPermutation(d: Dest, g: number, rshift: number): MhDestSetup {
  const offset = mhHashkey(d.addr, d.port, MH_HASH1, 0) % IP_VS_MH_TAB_SIZE;
  const skip = (mhHashkey(d.addr, d.port, MH_HASH2, 0) % (IP_VS_MH_TAB_SIZE - 1)) + 1;
  const lw = d.lastWeight;
  const turns = Math.trunc(lw / g) >> rshift || (lw !== 0 ? 1 : 0);
  return { offset, skip, perm: offset, turns };
}

/** ip_vs_mh_permutate() + ip_vs_mh_populate() (the whole of ip_vs_mh_reassign()). */
function populate(svc: Service, s: MhState): void {
  const size = IP_VS_MH_TAB_SIZE;
  if (s.gcd < 1) {
    s.lookup.fill(null); // ip_vs_mh_reset()
    return;
  }
  const dests = svc.dests;
  const n = dests.length;
  const ds: MhDestSetup[] = new Array<MhDestSetup>(n);
  for (let i = 0; i < n; i++) ds[i] = mhPermutation(dests[i]!, s.gcd, s.rshift);
  const used = new Uint8Array(size);
  const lookup = s.lookup;
  let filled = 0;
  let dtCount = 0;
  while (filled < size) {
    let i = 0;
    while (i < n) {
      const e = ds[i]!;
      if (e.turns < 1) {
        i++;
        continue;
      }
      let c = e.perm;
      while (used[c] !== 0) {
        e.perm += e.skip;
        if (e.perm >= size) e.perm -= size;
        c = e.perm;
      }
      used[c] = 1;
      lookup[c] = dests[i]!;
      if (++filled === size) return;
      if (++dtCount >= e.turns) {
        dtCount = 0;
        i++;
      }
    }
  }
}

/** ip_vs_mh_init_svc() / ip_vs_mh_dest_changed(). */
function rebuild(svc: Service): void {
  let s = svc.schedData as MhState | null | undefined;
  if (s == null) {
    s = { lookup: new Array<Dest | null>(IP_VS_MH_TAB_SIZE).fill(null), gcd: 0, rshift: 0 };
    svc.schedData = s;
  }
  s.gcd = gcdWeight(svc);
  s.rshift = shiftWeight(svc, s.gcd);
  if (svc.dests.length > IP_VS_MH_TAB_SIZE) return; // -EINVAL, table untouched
  populate(svc, s);
}

/** ip_vs_mh_schedule(). */
function schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): Dest | null {
  if (svc.schedData == null) rebuild(svc);
  const lookup = (svc.schedData as MhState).lookup;
  const addr = pkt.saddr;
  const port = (svc.flags & IP_VS_SVC_F_SCHED_MH_PORT) !== 0 ? hashPort(pkt) : 0;
  const ex = ctx.explain;
  const ih = mhHashkey(addr, port, MH_HASH1, 0) % IP_VS_MH_TAB_SIZE;
  const first = lookup[ih]!;
  if (ex !== undefined) {
    ex.detail('key', port === 0 ? formatIp4(addr) : `${formatIp4(addr)}:${port}`);
    ex.detail('slot', ih);
    ex.detail('entry', first === null ? 'empty' : destKey(first));
  }
  if (first !== null && !hashUnavailable(first)) {
    if (ex !== undefined) {
      explainCandidate(ex, first);
      ex.summary(`mh: source ${port === 0 ? formatIp4(addr) : `${formatIp4(addr)} port ${port}`} hashes to slot ${ih} of the ${IP_VS_MH_TAB_SIZE}-slot Maglev table, which holds ${destKey(first)}.`);
    }
    return first;
  }
  if (first === null || (svc.flags & IP_VS_SVC_F_SCHED_MH_FALLBACK) === 0) {
    if (ex !== undefined) {
      if (first === null) explainNone(ex, 'mh', NO_DEST_AVAILABLE, `slot ${ih} is empty (no real server with a non-zero last weight)`);
      else {
        explainCandidate(ex, first, undefined, whyUnavailable(first));
        explainNone(ex, 'mh', NO_DEST_AVAILABLE, `slot ${ih}'s real server is ${whyUnavailable(first)} and mh-fallback is off`);
      }
    }
    return null;
  }
  if (ex !== undefined) explainCandidate(ex, first, undefined, whyUnavailable(first));
  for (let offset = 0; offset < IP_VS_MH_TAB_SIZE; offset++) {
    const roffset = (offset + ih) % IP_VS_MH_TAB_SIZE;
    const h = mhHashkey(addr, port, MH_HASH1, roffset) % IP_VS_MH_TAB_SIZE;
    const d = lookup[h]!;
    if (d === null) break;
    if (!hashUnavailable(d)) {
      if (ex !== undefined) {
        explainCandidate(ex, d);
        ex.detail('fallback_slot', h);
        ex.detail('probes', offset + 1);
        ex.summary(`mh: slot ${ih}'s real server ${destKey(first)} is ${whyUnavailable(first)}; mh-fallback re-hashed with offset ${roffset} to slot ${h}, which holds ${destKey(d)}.`);
      }
      return d;
    }
  }
  if (ex !== undefined) explainNone(ex, 'mh', NO_DEST_AVAILABLE, 'mh-fallback re-hashed through the table and found no available real server');
  return null;
}

/** Slot counts per dest (for tests and the UI's table view). */
export function mhSlotCounts(svc: Service): Map<Dest, number> {
  const out = new Map<Dest, number>();
  const s = svc.schedData as MhState | null;
  if (s == null) return out;
  for (const d of s.lookup) if (d !== null) out.set(d, (out.get(d) ?? 0) + 1);
  return out;
}

export const mhScheduler: Scheduler = {
  name: 'mh',
  initService: rebuild,
  doneService: (svc) => void (svc.schedData = null),
  addDest: (svc) => rebuild(svc),
  delDest: (svc) => rebuild(svc),
  updDest: (svc) => rebuild(svc),
  schedule,
};
