/**
 * ipvs/schedulers/fo.ts: Weighted Fail Over, ip_vs_fo_schedule() (net/netfilter/ipvs/ip_vs_fo.c).
 * Among dests without OVERLOAD, the highest weight wins with strict '>' against hw starting at
 * 0: weight-0 dests never win, ties keep the earlier dest in list order. Connection counts are
 * not looked at. Same in 6.1 and mainline. Stateless.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** ip_vs_fo_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const dests = svc.dests;
  const ex = ctx.explain;
  let hweight: Dest | null = null;
  let hw = 0;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) === 0 && d.weight > hw) {
      if (ex !== undefined) explainCandidate(ex, d, d.weight);
      hweight = d;
      hw = d.weight;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, d.weight, (d.flags & IP_VS_DEST_F_OVERLOAD) !== 0 ? 'overloaded' : `weight ${d.weight} <= ${hw}`);
    }
  }
  if (ex !== undefined) {
    if (hweight === null) explainNone(ex, 'fo', NO_DEST_AVAILABLE, 'no real server without the overload flag has a weight above 0');
    else ex.summary(`fo: ${destKey(hweight)} has the highest weight (${hw}) among real servers that are not overloaded.`);
  }
  return hweight;
}

export const foScheduler: Scheduler = { name: 'fo', schedule };
