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
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** ip_vs_wlc_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  const ex = ctx.explain;
  let least: Dest | null = null;
  let loh = 0;
  let i = 0;
  for (; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) === 0 && d.weight > 0) {
      least = d;
      loh = d.activeconns * 256 + d.inactconns;
      if (ex !== undefined) explainCandidate(ex, d, loh);
      break;
    }
    if (ex !== undefined) explainCandidate(ex, d, undefined, d.weight > 0 ? 'overloaded' : 'weight 0');
  }
  if (least === null) {
    if (ex !== undefined) explainNone(ex, 'wlc', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
    return null;
  }
  for (i++; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0) {
      if (ex !== undefined) explainCandidate(ex, d, undefined, 'overloaded');
      continue;
    }
    const doh = d.activeconns * 256 + d.inactconns;
    if (loh * d.weight > doh * least.weight) {
      if (ex !== undefined) explainCandidate(ex, d, doh);
      least = d;
      loh = doh;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, doh, `cost ${doh}/${d.weight} >= ${loh}/${least.weight} (${doh}*${least.weight} >= ${loh}*${d.weight})`);
    }
  }
  if (ex !== undefined) {
    ex.detail('overhead', loh);
    ex.summary(
      `wlc: ${destKey(least)} has the lowest overhead per weight, ((active << 8) + inactive) / weight = ${loh}/${least.weight}; ties keep the earlier dest in list order.`,
    );
  }
  return least;
}

export const wlcScheduler: Scheduler = { name: 'wlc', schedule };
