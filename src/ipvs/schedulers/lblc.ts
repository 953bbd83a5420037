/**
 * ipvs/schedulers/lblc.ts: Locality-Based Least Connection, ip_vs_lblc_schedule(),
 * ip_vs_lblc_new(), ip_vs_lblc_check_expire(), ip_vs_lblc_full_check()
 * (net/netfilter/ipvs/ip_vs_lblc.c; 6.1 = mainline, hash_32 bucket form).
 * A table keyed by the packet's destination address (1024 buckets, max_size 16384) maps it to
 * a dest. A cached dest is used if AVAILABLE, weight > 0 and not is_overloaded() (active >
 * weight while some dest has active * 2 < weight); otherwise wlc over all dests picks one and
 * the entry is rebound. Times are ctx.now() in ns where the kernel uses jiffies.
 * GC timer: see lblc-common.ts (ticks run lazily at the next schedule() call).
 * Kernel quirk kept: replacing an entry's dest unlinks the old entry without decrementing
 * tbl->entries, so the count that gates the over-size sweep only grows on rebinds.
 */
import { IP_VS_DEST_F_AVAILABLE, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { formatIp4 } from '../../net/addr';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';
import { lblcHashkey, lblcIsOverloaded, newTimer, runTimer, type LblcEntryBase, type LblcTableOf } from './lblc-common';
import { weightedLeast } from './wlc';

/** struct ip_vs_lblc_entry. */
export interface LblcEntry extends LblcEntryBase {
  dest: Dest;
}

/** struct ip_vs_lblc_table. */
export type LblcTable = LblcTableOf<LblcEntry>;

function initService(svc: Service): void {
  svc.schedData = { ...newTimer(), map: new Map() } satisfies LblcTable;
}

function table(svc: Service): LblcTable {
  if (svc.schedData == null) initService(svc);
  return svc.schedData as LblcTable;
}

/** ip_vs_lblc_schedule(). */
function schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const tbl = table(svc);
  const now = ctx.now();
  runTimer(tbl, now);
  const ex = ctx.explain;
  const daddr = pkt.daddr;
  const en = tbl.map.get(daddr);
  if (ex !== undefined) {
    ex.detail('key', formatIp4(daddr));
    ex.detail('bucket', lblcHashkey(daddr));
    ex.detail('entry', en === undefined ? 'none' : destKey(en.dest));
  }
  let why = 'no entry for this destination address';
  if (en !== undefined) {
    en.lastuse = now;
    const d = en.dest;
    if ((d.flags & IP_VS_DEST_F_AVAILABLE) !== 0 && d.weight > 0 && !lblcIsOverloaded(d, svc)) {
      if (ex !== undefined) {
        explainCandidate(ex, d);
        ex.summary(`lblc: destination ${formatIp4(daddr)} is already bound to ${destKey(d)}, which is available and not overloaded (active ${d.activeconns} <= weight ${d.weight}, or no server is under half load).`);
      }
      return d;
    }
    why =
      (d.flags & IP_VS_DEST_F_AVAILABLE) === 0
        ? `its entry's real server ${destKey(d)} was deleted`
        : d.weight <= 0
          ? `its entry's real server ${destKey(d)} has weight 0`
          : `its entry's real server ${destKey(d)} has active ${d.activeconns} > weight ${d.weight} while another server is under half load`;
    if (ex !== undefined) explainCandidate(ex, d, undefined, why);
  }
  const dest = weightedLeast(svc, ex, false);
  if (dest === null) {
    if (ex !== undefined) explainNone(ex, 'lblc', NO_DEST_AVAILABLE, `${why} and every real server is overloaded or has weight 0`);
    return null;
  }
  // ip_vs_lblc_new()
  if (en === undefined || en.dest !== dest) {
    tbl.map.set(daddr, { addr: daddr, dest, lastuse: now });
    tbl.entries++;
  }
  if (ex !== undefined) ex.summary(`lblc: ${why}, so wlc over all real servers picked ${destKey(dest)} and the entry for ${formatIp4(daddr)} now points to it.`);
  return dest;
}

/** Set sysctl lblc_expiration (ns) for this service's table. */
export function setLblcExpiration(svc: Service, ns: number): void {
  table(svc).expiration = ns;
}

export const lblcScheduler: Scheduler = {
  name: 'lblc',
  initService,
  doneService: (svc) => void (svc.schedData = null),
  schedule,
};
