/**
 * ipvs/schedulers/sed.ts: Shortest Expected Delay, ip_vs_sed_schedule()
 * (net/netfilter/ipvs/ip_vs_sed.c). As wlc, but the overhead is activeconns + 1 (inactive
 * connections ignored): the first dest with weight > 0 and no OVERLOAD starts, each later
 * non-overloaded dest wins when loh * d.weight > doh * least.weight (cross-multiplied as
 * __s64; exact in JS numbers). Same in 6.1 and mainline. Stateless.
 */
import { destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainNone } from './explain';
import { weightedLeast } from './wlc';

/** ip_vs_sed_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const ex = ctx.explain;
  const least = weightedLeast(svc, ex, true);
  if (least === null) {
    if (ex !== undefined) explainNone(ex, 'sed', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
    return null;
  }
  if (ex !== undefined) {
    ex.summary(`sed: ${destKey(least)} has the shortest expected delay, (active + 1) / weight = ${least.activeconns + 1}/${least.weight}; ties keep the earlier dest in list order.`);
  }
  return least;
}

export const sedScheduler: Scheduler = { name: 'sed', schedule };
