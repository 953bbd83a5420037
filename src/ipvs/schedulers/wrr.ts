/**
 * ipvs/schedulers/wrr.ts: Weighted Round Robin, ip_vs_wrr_schedule(), ip_vs_wrr_init_svc(),
 * ip_vs_wrr_dest_changed() (net/netfilter/ipvs/ip_vs_wrr.c; the 6.1 = mainline version with
 * last_pass / restarted / stop, not the older update_service loop).
 * State (struct ip_vs_wrr_mark): cl (current dest or the list head), cw (current weight),
 * mw (max weight - (di - 1)), di (gcd of the positive weights, 1 if none).
 * add/delete/edit reset cl to the head and keep cw unless it is now > mw or 0 (then mw), or
 * di > 1 (then rounded to (cw / di) * di + 1). After `ipvsadm -A` (no dests, cw = 0) and the
 * first `-a`, cw = 1, so the first pass hands one connection to each dest of weight >= 1 in
 * list order before the steady cycle starts (ip_vs_wrr_schedule, net/netfilter/ipvs/ip_vs_wrr.c).
 * lvsim keeps cl as an index into svc.dests (-1 = head) plus the dest, re-derived if the list
 * moved without a callback.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';
import { gcd } from './hash';

/** struct ip_vs_wrr_mark. */
export interface WrrMark {
  /** Current position: index into svc.dests, -1 for the list head. */
  cl: number;
  clDest: Dest | null;
  cw: number;
  mw: number;
  di: number;
}

export const WRR_ALL_OVERLOADED = 'all destinations are overloaded';

/** ip_vs_wrr_gcd_weight(): gcd of the weights > 0, or 1 if there are none. */
function gcdWeight(svc: Service): number {
  let g = 0;
  for (const d of svc.dests) {
    const w = d.weight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g !== 0 ? g : 1;
}

/** ip_vs_wrr_max_weight(): the largest weight, overloaded dests included (0 if none). */
function maxWeight(svc: Service): number {
  let m = 0;
  for (const d of svc.dests) if (d.weight > m) m = d.weight;
  return m;
}

/** ip_vs_wrr_init_svc(): cl = head, cw = mw. */
function initService(svc: Service): void {
  const di = gcdWeight(svc);
  const mw = maxWeight(svc) - (di - 1);
  svc.schedData = { cl: -1, clDest: null, cw: mw, mw, di } satisfies WrrMark;
}

function mark(svc: Service): WrrMark {
  if (svc.schedData == null) initService(svc);
  return svc.schedData as WrrMark;
}

/** ip_vs_wrr_dest_changed(): the add_dest, del_dest and upd_dest callback. */
function destChanged(svc: Service, _dest: Dest): void {
  const m = mark(svc);
  m.cl = -1;
  m.clDest = null;
  m.di = gcdWeight(svc);
  m.mw = maxWeight(svc) - (m.di - 1);
  if (m.cw > m.mw || m.cw === 0) m.cw = m.mw;
  else if (m.di > 1) m.cw = Math.trunc(m.cw / m.di) * m.di + 1;
}

function setCl(m: WrrMark, svc: Service, i: number): void {
  m.cl = i;
  m.clDest = i < 0 ? null : svc.dests[i]!;
}

/** ip_vs_wrr_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const m = mark(svc);
  const dests = svc.dests;
  const n = dests.length;
  const ex = ctx.explain;
  let cur = m.cl;
  if (cur >= 0 && dests[cur] !== m.clDest) {
    cur = m.clDest === null ? -1 : dests.indexOf(m.clDest);
    m.cl = cur;
    if (cur < 0) m.clDest = null;
  }
  if (ex !== undefined) {
    ex.detail('cw', m.cw);
    ex.detail('mw', m.mw);
    ex.detail('di', m.di);
    ex.detail('start', cur < 0 ? 'head' : destKey(dests[cur]!));
  }
  if (m.mw === 0) {
    if (ex !== undefined) explainNone(ex, 'wrr', NO_DEST_AVAILABLE, 'every real server has weight 0 (mw = 0)');
    return null;
  }
  const last = cur;
  let stop = -2;
  let lastPass = false;
  let restarted = false;
  for (;;) {
    for (let i = cur + 1; i < n; i++) {
      const d = dests[i]!;
      if ((d.flags & IP_VS_DEST_F_OVERLOAD) === 0 && d.weight >= m.cw) {
        setCl(m, svc, i);
        if (ex !== undefined) {
          explainCandidate(ex, d, d.weight);
          ex.detail('cw_after', m.cw);
          ex.summary(`wrr: ${destKey(d)} is the next real server in list order whose weight ${d.weight} >= the current weight cw = ${m.cw} (mw = ${m.mw}, di = ${m.di}).`);
        }
        return d;
      }
      if (ex !== undefined) explainCandidate(ex, d, d.weight, (d.flags & IP_VS_DEST_F_OVERLOAD) !== 0 ? 'overloaded' : `weight ${d.weight} < cw ${m.cw}`);
      if (i === stop) {
        setCl(m, svc, i);
        if (ex !== undefined) explainNone(ex, 'wrr', WRR_ALL_OVERLOADED, 'the last pass (cw <= di) found every real server overloaded');
        return null;
      }
    }
    cur = -1;
    m.cw -= m.di;
    if (m.cw <= 0) {
      m.cw = m.mw;
      if (lastPass || last === -1) {
        setCl(m, svc, -1);
        if (ex !== undefined) explainNone(ex, 'wrr', WRR_ALL_OVERLOADED, 'a full pass with cw <= di found every real server overloaded');
        return null;
      }
      restarted = true;
    }
    lastPass = m.cw <= m.di;
    if (lastPass && restarted && last !== -1) stop = last;
  }
}

export const wrrScheduler: Scheduler = {
  name: 'wrr',
  initService,
  doneService: (svc) => void (svc.schedData = null),
  addDest: destChanged,
  delDest: destChanged,
  updDest: destChanged,
  schedule,
};
