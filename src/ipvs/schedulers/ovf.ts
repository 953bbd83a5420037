/**
 * ipvs/schedulers/ovf.ts: Weighted Overflow, ip_vs_ovf_schedule() (net/netfilter/ipvs/ip_vs_ovf.c).
 * Skip a dest if OVERLOAD, activeconns > weight, or weight 0; among the rest the highest weight
 * wins (`!h || w > hw`, ties keep the earlier). A dest of weight w still accepts its (w+1)-th
 * active connection because the test is '>'. Same in 6.1 and mainline. Stateless.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** ip_vs_ovf_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const dests = svc.dests;
  const ex = ctx.explain;
  let h: Dest | null = null;
  let hw = 0;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    const w = d.weight;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0 || d.activeconns > w || w === 0) {
      if (ex !== undefined) {
        const why = (d.flags & IP_VS_DEST_F_OVERLOAD) !== 0 ? 'overloaded' : w === 0 ? 'weight 0' : `active ${d.activeconns} > weight ${w}`;
        explainCandidate(ex, d, d.activeconns, why);
      }
      continue;
    }
    if (h === null || w > hw) {
      if (ex !== undefined) explainCandidate(ex, d, d.activeconns);
      h = d;
      hw = w;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, d.activeconns, `weight ${w} <= ${hw}`);
    }
  }
  if (ex !== undefined) {
    if (h === null) explainNone(ex, 'ovf', NO_DEST_AVAILABLE, 'every real server is overloaded, has weight 0, or has more active connections than its weight');
    else ex.summary(`ovf: ${destKey(h)} has the highest weight (${hw}) among real servers whose active connections do not exceed their weight.`);
  }
  return h;
}

export const ovfScheduler: Scheduler = { name: 'ovf', schedule };
