/**
 * ipvs/schedulers/dh.ts: Destination Hashing, ip_vs_dh_schedule() / ip_vs_dh_reassign()
 * (net/netfilter/ipvs/ip_vs_dh.c). 256 buckets (IP_VS_DH_TAB_BITS = 8, not a Kconfig option),
 * filled on init/add/delete (NOT on edit: dh has no upd_dest) with the dests in list order,
 * one bucket each, round robin; weights ignored. Key: the packet's destination address,
 * bucket hash_32(ntohl(daddr), 8) (6.1 = mainline; kernels before 4.18 used the low bits of
 * addr * 2654435761). NULL if the bucket is empty or its dest is not AVAILABLE, has
 * weight <= 0, or is OVERLOADed; no fallback.
 */
import { IP_VS_DEST_F_AVAILABLE, IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { formatIp4 } from '../../net/addr';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';
import { hash32 } from './hash';

export const IP_VS_DH_TAB_BITS = 8;
export const IP_VS_DH_TAB_SIZE = 1 << IP_VS_DH_TAB_BITS;

/** svc->sched_data for dh: the bucket table. */
export interface DhState {
  buckets: (Dest | null)[];
}

/** ip_vs_dh_reassign(). */
function reassign(svc: Service): void {
  const buckets: (Dest | null)[] = new Array<Dest | null>(IP_VS_DH_TAB_SIZE);
  const dests = svc.dests;
  const n = dests.length;
  for (let i = 0; i < IP_VS_DH_TAB_SIZE; i++) buckets[i] = n === 0 ? null : dests[i % n]!;
  svc.schedData = { buckets } satisfies DhState;
}

/** ip_vs_dh_hashkey(). */
export const dhHashkey = (addr: number): number => hash32(addr, IP_VS_DH_TAB_BITS);

/** ip_vs_dh_schedule(). */
function schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): Dest | null {
  if (svc.schedData == null) reassign(svc);
  const s = svc.schedData as DhState;
  const b = dhHashkey(pkt.daddr);
  const d = s.buckets[b]!;
  const ex = ctx.explain;
  if (ex !== undefined) {
    ex.detail('key', formatIp4(pkt.daddr));
    ex.detail('bucket', b);
    ex.detail('entry', d === null ? 'empty' : destKey(d));
  }
  if (d === null || (d.flags & IP_VS_DEST_F_AVAILABLE) === 0 || d.weight <= 0 || (d.flags & IP_VS_DEST_F_OVERLOAD) !== 0) {
    if (ex !== undefined) {
      if (d !== null) {
        const why = (d.flags & IP_VS_DEST_F_AVAILABLE) === 0 ? 'deleted' : d.weight <= 0 ? 'weight 0' : 'overloaded';
        explainCandidate(ex, d, undefined, why);
        explainNone(ex, 'dh', NO_DEST_AVAILABLE, `destination ${formatIp4(pkt.daddr)} hashes to bucket ${b}, whose real server is ${why}, and dh has no fallback`);
      } else {
        explainNone(ex, 'dh', NO_DEST_AVAILABLE, `destination ${formatIp4(pkt.daddr)} hashes to bucket ${b}, which is empty`);
      }
    }
    return null;
  }
  if (ex !== undefined) {
    explainCandidate(ex, d);
    ex.summary(`dh: destination ${formatIp4(pkt.daddr)} hashes to bucket ${b} (hash_32 of the address, 8 bits), which holds ${destKey(d)}.`);
  }
  return d;
}

export const dhScheduler: Scheduler = {
  name: 'dh',
  initService: reassign,
  doneService: (svc) => void (svc.schedData = null),
  addDest: (svc) => reassign(svc),
  delDest: (svc) => reassign(svc),
  schedule,
};
