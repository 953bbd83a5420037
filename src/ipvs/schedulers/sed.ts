/**
 * ipvs/schedulers/sed.ts: Shortest Expected Delay, ip_vs_sed_schedule()
 * (net/netfilter/ipvs/ip_vs_sed.c). As wlc, but the overhead is activeconns + 1 (inactive
 * connections ignored): the first dest with weight > 0 and no OVERLOAD starts, each later
 * non-overloaded dest wins when loh * d.weight > doh * least.weight (cross-multiplied as
 * __s64; exact in JS numbers). Same in 6.1 and mainline. Stateless.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** ip_vs_sed_schedule(). */
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
      loh = d.activeconns + 1;
      if (ex !== undefined) explainCandidate(ex, d, loh);
      break;
    }
    if (ex !== undefined) explainCandidate(ex, d, undefined, d.weight > 0 ? 'overloaded' : 'weight 0');
  }
  if (least === null) {
    if (ex !== undefined) explainNone(ex, 'sed', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
    return null;
  }
  for (i++; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0) {
      if (ex !== undefined) explainCandidate(ex, d, undefined, 'overloaded');
      continue;
    }
    const doh = d.activeconns + 1;
    if (loh * d.weight > doh * least.weight) {
      if (ex !== undefined) explainCandidate(ex, d, doh);
      least = d;
      loh = doh;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, doh, `delay ${doh}/${d.weight} >= ${loh}/${least.weight} (${doh}*${least.weight} >= ${loh}*${d.weight})`);
    }
  }
  if (ex !== undefined) {
    ex.summary(`sed: ${destKey(least)} has the shortest expected delay, (active + 1) / weight = ${loh}/${least.weight}; ties keep the earlier dest in list order.`);
  }
  return least;
}

export const sedScheduler: Scheduler = { name: 'sed', schedule };
