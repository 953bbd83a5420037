/**
 * ipvs/schedulers/nq.ts: Never Queue, ip_vs_nq_schedule() (net/netfilter/ipvs/ip_vs_nq.c).
 * Skip OVERLOAD and weight 0; the first dest with activeconns == 0 wins at once; otherwise the
 * sed comparison (activeconns + 1) cross-multiplied with weights, strict '>' (ties keep the
 * earlier). Inactive connections are ignored. Same in 6.1 and mainline. Stateless.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** ip_vs_nq_schedule(). */
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
    const doh = d.activeconns + 1;
    if (d.activeconns === 0) {
      if (ex !== undefined) {
        explainCandidate(ex, d, doh);
        ex.detail('idle', true);
        ex.summary(`nq: ${destKey(d)} is the first idle real server in list order (no active connections), so it is taken at once.`);
      }
      return d;
    }
    if (least === null || loh * d.weight > doh * least.weight) {
      if (ex !== undefined) explainCandidate(ex, d, doh);
      least = d;
      loh = doh;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, doh, `delay ${doh}/${d.weight} >= ${loh}/${least.weight}`);
    }
  }
  if (ex !== undefined) {
    if (least === null) explainNone(ex, 'nq', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
    else ex.summary(`nq: no real server is idle; ${destKey(least)} has the shortest expected delay, (active + 1) / weight = ${loh}/${least.weight}.`);
  }
  return least;
}

export const nqScheduler: Scheduler = { name: 'nq', schedule };
