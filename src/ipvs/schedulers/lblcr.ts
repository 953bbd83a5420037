/**
 * ipvs/schedulers/lblcr.ts: LBLC with Replication, ip_vs_lblcr_schedule(),
 * ip_vs_dest_set_min(), ip_vs_dest_set_max(), ip_vs_dest_set_insert(), ip_vs_dest_set_erase(),
 * ip_vs_lblcr_check_expire() (net/netfilter/ipvs/ip_vs_lblcr.c; 6.1 = mainline).
 * Each destination address maps to a set of dests (new members at the head). A found entry
 * gives set_min (weighted least connection over AVAILABLE, non-OVERLOAD members); if the set has
 * more than one member and now > lastmod + lblcr_expiration the weighted-most-loaded member is
 * dropped; set_min's pick is used unless is_overloaded(), else wlc over all dests picks one and
 * it joins the set. Times are ctx.now() in ns.
 * GC timer: see lblc-common.ts (ticks run lazily at the next schedule() call).
 */
import { IP_VS_DEST_F_AVAILABLE, IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type ExplainSink, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { formatIp4 } from '../../net/addr';
import { NO_DEST_AVAILABLE, explainNone } from './explain';
import { lblcHashkey, lblcIsOverloaded, newTimer, runTimer, type LblcEntryBase, type LblcTableOf } from './lblc-common';
import { weightedLeast } from './wlc';

/** struct ip_vs_dest_set. */
export interface DestSet {
  /** Members, head first. */
  list: Dest[];
  lastmod: number;
}

/** struct ip_vs_lblcr_entry. */
export interface LblcrEntry extends LblcEntryBase {
  set: DestSet;
}

/** struct ip_vs_lblcr_table. */
export type LblcrTable = LblcTableOf<LblcrEntry>;

function initService(svc: Service): void {
  svc.schedData = { ...newTimer(), map: new Map() } satisfies LblcrTable;
}

function table(svc: Service): LblcrTable {
  if (svc.schedData == null) initService(svc);
  return svc.schedData as LblcrTable;
}

/** ip_vs_dest_set_insert(): at the head, unless `check` finds it already there. */
function setInsert(set: DestSet, dest: Dest, check: boolean, now: number): void {
  if (check && set.list.includes(dest)) return;
  set.list.unshift(dest);
  set.lastmod = now;
}

/** ip_vs_dest_set_erase(). */
function setErase(set: DestSet, dest: Dest, now: number): void {
  const i = set.list.indexOf(dest);
  if (i < 0) return;
  set.list.splice(i, 1);
  set.lastmod = now;
}

const overhead = (d: Dest): number => d.activeconns * 256 + d.inactconns;

/** ip_vs_dest_set_min(): weighted least connection among the members. */
export function destSetMin(set: DestSet): Dest | null {
  const l = set.list;
  let least: Dest | null = null;
  let loh = 0;
  let i = 0;
  for (; i < l.length; i++) {
    const d = l[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0) continue;
    if (d.weight > 0 && (d.flags & IP_VS_DEST_F_AVAILABLE) !== 0) {
      least = d;
      loh = overhead(d);
      break;
    }
  }
  if (least === null) return null;
  for (i++; i < l.length; i++) {
    const d = l[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0) continue;
    const doh = overhead(d);
    if (loh * d.weight > doh * least.weight && (d.flags & IP_VS_DEST_F_AVAILABLE) !== 0) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** ip_vs_dest_set_max(): weighted most connection among members with weight > 0. */
export function destSetMax(set: DestSet): Dest | null {
  const l = set.list;
  let most: Dest | null = null;
  let moh = 0;
  let i = 0;
  for (; i < l.length; i++) {
    const d = l[i]!;
    if (d.weight > 0) {
      most = d;
      moh = overhead(d);
      break;
    }
  }
  if (most === null) return null;
  for (i++; i < l.length; i++) {
    const d = l[i]!;
    const doh = overhead(d);
    if (moh * d.weight < doh * most.weight && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

function explainSet(ex: ExplainSink, set: DestSet): void {
  ex.detail('set', set.list.map((d) => destKey(d)).join(' '));
}

/** ip_vs_lblcr_schedule(). */
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
    if (en !== undefined) explainSet(ex, en.set);
  }
  if (en !== undefined) {
    en.lastuse = now;
    const min = destSetMin(en.set);
    let dropped: Dest | null = null;
    if (en.set.list.length > 1 && now > en.set.lastmod + tbl.expiration) {
      dropped = destSetMax(en.set);
      if (dropped !== null) setErase(en.set, dropped, now);
      if (ex !== undefined && dropped !== null) ex.detail('dropped', destKey(dropped));
    }
    if (min !== null && !lblcIsOverloaded(min, svc)) {
      if (ex !== undefined) {
        ex.summary(`lblcr: destination ${formatIp4(daddr)} has a server set; its least loaded member ${destKey(min)} is not overloaded, so it is used.`);
      }
      return min;
    }
    const why = min === null ? 'no member of its server set is available' : `the set's least loaded member ${destKey(min)} has active ${min.activeconns} > weight ${min.weight} while another server is under half load`;
    const dest = weightedLeast(svc, ex, false);
    if (dest === null) {
      if (ex !== undefined) explainNone(ex, 'lblcr', NO_DEST_AVAILABLE, `${why} and every real server is overloaded or has weight 0`);
      return null;
    }
    setInsert(en.set, dest, true, now);
    if (ex !== undefined) ex.summary(`lblcr: ${why}, so wlc over all real servers picked ${destKey(dest)}, which joins the set for ${formatIp4(daddr)}.`);
    return dest;
  }
  const dest = weightedLeast(svc, ex, false);
  if (dest === null) {
    // the kernel only logs this at debug level (IP_VS_DBG), not via ip_vs_scheduler_err()
    if (ex !== undefined) {
      ex.detail('error', NO_DEST_AVAILABLE);
      ex.summary('lblcr: no entry for this destination and every real server is overloaded or has weight 0; the kernel returns no destination (logged only at debug level).');
    }
    return null;
  }
  // ip_vs_lblcr_new()
  const set: DestSet = { list: [], lastmod: now };
  tbl.map.set(daddr, { addr: daddr, set, lastuse: now });
  tbl.entries++;
  setInsert(set, dest, false, now);
  if (ex !== undefined) ex.summary(`lblcr: no entry for ${formatIp4(daddr)}, so wlc over all real servers picked ${destKey(dest)}, which starts its server set.`);
  return dest;
}

/** Set sysctl lblcr_expiration (ns) for this service's table. */
export function setLblcrExpiration(svc: Service, ns: number): void {
  table(svc).expiration = ns;
}

export const lblcrScheduler: Scheduler = {
  name: 'lblcr',
  initService,
  doneService: (svc) => void (svc.schedData = null),
  schedule,
};
