/**
 * ipvs/schedulers/rr.ts: Round Robin, ip_vs_rr_schedule() / ip_vs_rr_del_dest()
 * (net/netfilter/ipvs/ip_vs_rr.c). The kernel keeps svc->sched_data pointing at a list node
 * (a dest, or the list head); lvsim keeps that dest (null = head) plus its cached index in
 * svc.dests. Walk on from the node after the cursor, wrapping past the head, at most two
 * passes; the first dest with weight > 0 and no OVERLOAD wins. Weights are otherwise ignored.
 * Same in 6.1 and mainline.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** svc->sched_data for rr: the last chosen dest, or the list head (null). */
export interface RrState {
  cursor: Dest | null;
  /** Index of `cursor` in svc.dests (-1 for the head); re-derived when the list moved under it. */
  index: number;
}

function state(svc: Service): RrState {
  let s = svc.schedData as RrState | null | undefined;
  if (s == null) {
    s = { cursor: null, index: -1 };
    svc.schedData = s;
  }
  return s;
}

/** Index of the cursor now, or -1 (head) when it is the head or no longer listed. */
function cursorIndex(svc: Service, s: RrState): number {
  const c = s.cursor;
  if (c === null) return -1;
  if (svc.dests[s.index] !== c) {
    s.index = svc.dests.indexOf(c);
    if (s.index < 0) s.cursor = null;
  }
  return s.index;
}

/** ip_vs_rr_init_svc(): the cursor starts at the list head. */
function initService(svc: Service): void {
  svc.schedData = { cursor: null, index: -1 } satisfies RrState;
}

/**
 * Not a kernel callback (rr has no add_dest): the new dest is linked at the head, which shifts
 * the cursor's index by one. Keeps the cached index exact; the pick order is unaffected.
 */
function addDest(svc: Service, dest: Dest): void {
  const s = state(svc);
  if (s.cursor !== null && s.cursor !== dest) s.index = svc.dests.indexOf(s.cursor);
}

/**
 * ip_vs_rr_del_dest(): if the cursor is the deleted dest, move it to the node before it
 * (the kernel's p->next->prev), so the node after the deleted one is next.
 * Works whether the caller unlinked the dest already (as the kernel does) or not yet.
 */
function delDest(svc: Service, dest: Dest): void {
  const s = state(svc);
  if (s.cursor !== dest) {
    cursorIndex(svc, s);
    return;
  }
  const still = svc.dests.indexOf(dest);
  const before = still >= 0 ? still - 1 : s.index - 1;
  if (before >= 0 && before < svc.dests.length && svc.dests[before] !== dest) {
    s.cursor = svc.dests[before]!;
    s.index = before;
  } else {
    s.cursor = null;
    s.index = -1;
  }
}

/** ip_vs_rr_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const s = state(svc);
  const dests = svc.dests;
  const n = dests.length;
  const last = cursorIndex(svc, s);
  const ex = ctx.explain;
  if (ex !== undefined) ex.detail('cursor', last < 0 ? 'head' : `${last}`);
  // pass 1: the nodes after the cursor up to the end of the list
  for (let i = last + 1; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) === 0 && d.weight > 0) return hit(s, d, i, ctx);
    if (ex !== undefined) explainCandidate(ex, d, undefined, d.weight > 0 ? 'overloaded' : 'weight 0');
  }
  // pass 2 (only when the cursor was not the head): from the first node up to the cursor itself
  for (let i = 0; i <= last; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) === 0 && d.weight > 0) return hit(s, d, i, ctx);
    if (ex !== undefined) explainCandidate(ex, d, undefined, d.weight > 0 ? 'overloaded' : 'weight 0');
  }
  if (ex !== undefined) explainNone(ex, 'rr', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
  return null;
}

function hit(s: RrState, d: Dest, i: number, ctx: SchedContext): Dest {
  s.cursor = d;
  s.index = i;
  const ex = ctx.explain;
  if (ex !== undefined) {
    explainCandidate(ex, d);
    ex.summary(`rr: ${destKey(d)} is the first real server after the previous pick (list order) that is not overloaded and has weight > 0.`);
  }
  return d;
}

export const rrScheduler: Scheduler = { name: 'rr', initService, addDest, delDest, schedule };
