/**
 * ipvs/schedulers/wlc.ts: Weighted Least Connection, ip_vs_wlc_schedule()
 * (net/netfilter/ipvs/ip_vs_wlc.c), ipvsadm's default scheduler. Same in 6.1 and mainline.
 * The first dest in list order with weight > 0 and no OVERLOAD is the first candidate; each
 * later non-overloaded dest replaces it when loh * d.weight > doh * least.weight, with
 * overhead = (activeconns << 8) + inactconns (ip_vs_dest_conn_overhead). Strict '>' keeps the
 * earlier dest on a tie. The kernel multiplies as __s64; JS numbers are exact to 2^53, and
 * overhead (< 2^40 for any realistic count) times a weight (<= 65535) stays below that.
 * Stateless: no callbacks.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type ExplainSink, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/**
 * The weighted least-overhead pass ip_vs_wlc.c, ip_vs_sed.c and __ip_vs_lblc(r)_schedule each
 * have a copy of: the first dest in list order with weight > 0 and no OVERLOAD starts; a later
 * non-overloaded dest replaces it when loh * d.weight > doh * least.weight (strict: ties keep the
 * earlier). `delay` picks sed's overhead, activeconns + 1, instead of ip_vs_dest_conn_overhead,
 * (activeconns << 8) + inactconns. Returns null when no dest qualifies.
 */
export function weightedLeast(svc: Service, ex: ExplainSink | undefined, delay: boolean): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  let least: Dest | null = null;
  let loh = 0;
  let i = 0;
  for (; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) === 0 && d.weight > 0) {
      least = d;
      loh = delay ? d.activeconns + 1 : d.activeconns * 256 + d.inactconns;
      if (ex !== undefined) explainCandidate(ex, d, loh);
      break;
    }
    if (ex !== undefined) explainCandidate(ex, d, undefined, d.weight > 0 ? 'overloaded' : 'weight 0');
  }
  if (least === null) return null;
  for (i++; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0) {
      if (ex !== undefined) explainCandidate(ex, d, undefined, 'overloaded');
      continue;
    }
    const doh = delay ? d.activeconns + 1 : d.activeconns * 256 + d.inactconns;
    if (loh * d.weight > doh * least.weight) {
      if (ex !== undefined) explainCandidate(ex, d, doh);
      least = d;
      loh = doh;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, doh, `${delay ? 'delay' : 'cost'} ${doh}/${d.weight} >= ${loh}/${least.weight} (${doh}*${least.weight} >= ${loh}*${d.weight})`);
    }
  }
  return least;
}

/** ip_vs_wlc_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const ex = ctx.explain;
  const least = weightedLeast(svc, ex, false);
  if (least === null) {
    if (ex !== undefined) explainNone(ex, 'wlc', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
    return null;
  }
  if (ex !== undefined) {
    const loh = least.activeconns * 256 + least.inactconns;
    ex.detail('overhead', loh);
    ex.summary(
      `wlc: ${destKey(least)} has the lowest overhead per weight, ((active << 8) + inactive) / weight = ${loh}/${least.weight}; ties keep the earlier dest in list order.`,
    );
  }
  return least;
}

export const wlcScheduler: Scheduler = { name: 'wlc', schedule };
