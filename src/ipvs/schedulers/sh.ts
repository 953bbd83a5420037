/**
 * ipvs/schedulers/sh.ts: Source Hashing, ip_vs_sh_schedule(), ip_vs_sh_reassign(),
 * ip_vs_sh_get(), ip_vs_sh_get_fallback() (net/netfilter/ipvs/ip_vs_sh.c).
 * 256 buckets (CONFIG_IP_VS_SH_TAB_BITS default 8), rebuilt on init/add/delete/edit: each dest
 * in list order takes max(weight, 1) consecutive buckets per round. Bucket for a client:
 * (offset + hash_32(ntohs(port) + ntohl(saddr), 8)) & 255 (6.1 = mainline, verified against
 * the 6.1 recordings; pre-4.18 kernels used the low bits of a Knuth product). port is the
 * client's source port with sh-port (IP_VS_SVC_F_SCHED_SH_PORT) for TCP/UDP/SCTP, else 0.
 * Without sh-fallback a weight-0 or OVERLOADed bucket owner gives NULL; with it the kernel
 * re-hashes with offset (offset + ih) % 256, so the probes start at 2*ih (a kernel quirk).
 * Not modelled: ICMP errors in inverse mode (the key would be daddr), IPv6 address folding.
 */
import {
  IP_VS_SVC_F_SCHED_SH_FALLBACK,
  IP_VS_SVC_F_SCHED_SH_PORT,
  destKey,
  type Dest,
  type SchedContext,
  type SchedPacket,
  type Scheduler,
  type Service,
} from '../types';
import { formatIp4 } from '../../net/addr';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';
import { hash32, hashPort, hashUnavailable, whyUnavailable } from './hash';

export const IP_VS_SH_TAB_BITS = 8;
export const IP_VS_SH_TAB_SIZE = 1 << IP_VS_SH_TAB_BITS;
const IP_VS_SH_TAB_MASK = IP_VS_SH_TAB_SIZE - 1;

/** struct ip_vs_sh_state: the bucket table. */
export interface ShState {
  buckets: (Dest | null)[];
}

/** ip_vs_sh_reassign(). */
function reassign(svc: Service): void {
  const buckets: (Dest | null)[] = new Array<Dest | null>(IP_VS_SH_TAB_SIZE);
  const dests = svc.dests;
  const n = dests.length;
  let p = 0;
  let dCount = 0;
  for (let i = 0; i < IP_VS_SH_TAB_SIZE; i++) {
    if (n === 0) {
      buckets[i] = null;
      continue;
    }
    const d = dests[p]!;
    buckets[i] = d;
    if (++dCount >= d.weight) {
      p = (p + 1) % n;
      dCount = 0;
    }
  }
  svc.schedData = { buckets } satisfies ShState;
}

/** ip_vs_sh_hashkey(): (offset + hash_32(port + addr, 8)) & 255. */
export function shHashkey(addr: number, port: number, offset: number): number {
  return (offset + hash32((port + addr) >>> 0, IP_VS_SH_TAB_BITS)) & IP_VS_SH_TAB_MASK;
}

/** ip_vs_sh_schedule(). */
function schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): Dest | null {
  if (svc.schedData == null) reassign(svc);
  const buckets = (svc.schedData as ShState).buckets;
  const addr = pkt.saddr;
  const port = (svc.flags & IP_VS_SVC_F_SCHED_SH_PORT) !== 0 ? hashPort(pkt) : 0;
  const ex = ctx.explain;
  const ih = shHashkey(addr, port, 0);
  const first = buckets[ih]!;
  if (ex !== undefined) {
    ex.detail('key', port === 0 ? formatIp4(addr) : `${formatIp4(addr)}:${port}`);
    ex.detail('bucket', ih);
    ex.detail('entry', first === null ? 'empty' : destKey(first));
  }
  if (first !== null && !hashUnavailable(first)) {
    if (ex !== undefined) {
      explainCandidate(ex, first);
      ex.summary(`sh: source ${port === 0 ? formatIp4(addr) : `${formatIp4(addr)} port ${port}`} hashes to bucket ${ih}, which holds ${destKey(first)}.`);
    }
    return first;
  }
  if (first === null || (svc.flags & IP_VS_SVC_F_SCHED_SH_FALLBACK) === 0) {
    if (ex !== undefined) {
      if (first === null) explainNone(ex, 'sh', NO_DEST_AVAILABLE, `bucket ${ih} is empty`);
      else {
        explainCandidate(ex, first, undefined, whyUnavailable(first));
        explainNone(ex, 'sh', NO_DEST_AVAILABLE, `bucket ${ih}'s real server is ${whyUnavailable(first)} and sh-fallback is off`);
      }
    }
    return null;
  }
  if (ex !== undefined) explainCandidate(ex, first, undefined, whyUnavailable(first));
  for (let offset = 0; offset < IP_VS_SH_TAB_SIZE; offset++) {
    const roffset = (offset + ih) % IP_VS_SH_TAB_SIZE;
    const h = shHashkey(addr, port, roffset);
    const d = buckets[h]!;
    if (d === null) break;
    if (!hashUnavailable(d)) {
      if (ex !== undefined) {
        explainCandidate(ex, d);
        ex.detail('fallback_bucket', h);
        ex.detail('probes', offset + 1);
        ex.summary(`sh: bucket ${ih}'s real server ${destKey(first)} is ${whyUnavailable(first)}; sh-fallback re-hashed with offset ${roffset} to bucket ${h}, which holds ${destKey(d)}.`);
      }
      return d;
    }
  }
  if (ex !== undefined) explainNone(ex, 'sh', NO_DEST_AVAILABLE, 'sh-fallback probed the table and found no available real server');
  return null;
}

export const shScheduler: Scheduler = {
  name: 'sh',
  initService: reassign,
  doneService: (svc) => void (svc.schedData = null),
  addDest: (svc) => reassign(svc),
  delDest: (svc) => reassign(svc),
  updDest: (svc) => reassign(svc),
  schedule,
};
