/**
 * ipvs/schedulers/lc.ts: Least Connection, ip_vs_lc_schedule() (net/netfilter/ipvs/ip_vs_lc.c).
 * Skip OVERLOAD and weight 0; keep the first dest with the smallest overhead
 * (activeconns << 8) + inactconns (strict '<': ties go to the earliest in list order). Weights
 * are otherwise ignored. (The file's comment still says "<< 5"; the code uses the shared <<8
 * helper.) Same in 6.1 and mainline. Stateless.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** ip_vs_lc_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const dests = svc.dests;
  const ex = ctx.explain;
  let least: Dest | null = null;
  let loh = 0;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0 || d.weight === 0) {
      if (ex !== undefined) explainCandidate(ex, d, undefined, d.weight === 0 ? 'weight 0' : 'overloaded');
      continue;
    }
    const doh = d.activeconns * 256 + d.inactconns;
    if (least === null || doh < loh) {
      if (ex !== undefined) explainCandidate(ex, d, doh);
      least = d;
      loh = doh;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, doh, `overhead ${doh} >= ${loh}`);
    }
  }
  if (ex !== undefined) {
    if (least === null) explainNone(ex, 'lc', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
    else ex.summary(`lc: ${destKey(least)} has the fewest connections, (active << 8) + inactive = ${loh}; ties keep the earlier dest in list order.`);
  }
  return least;
}

export const lcScheduler: Scheduler = { name: 'lc', schedule };
