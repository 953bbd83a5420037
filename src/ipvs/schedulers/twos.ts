/**
 * ipvs/schedulers/twos.ts: Weighted random twos choice, ip_vs_twos_schedule()
 * (net/netfilter/ipvs/ip_vs_twos.c, first in 5.12). The only randomised scheduler.
 * Pass 1: T = sum of weights of dests with weight > 0 and no OVERLOAD (none -> NULL, no draw).
 * Then T += 1 and two draws, r1 then r2, each from one ctx.randomU32() reduced as 6.1's
 * prandom_u32_max(T) does it: ((u64)u32 * T) >> 32 (multiply-shift; 5.12-6.0 used % T and
 * 6.2+ get_random_u32_below, all nearly uniform on [0, T-1]). Pass 2 subtracts each eligible
 * weight from both; the first dest where r <= 0 is that choice. choice2 wins only if
 * weight2 * overhead1 > weight1 * overhead2 (ties -> choice1); both may be the same dest.
 * Debian's 6.1 build ships no ip_vs_twos.ko (CONFIG_IP_VS_TWOS unset): rejecting the name for
 * that kernel is the control plane's business; the algorithm is here for mainline builds.
 */
import { IP_VS_DEST_F_OVERLOAD, destKey, type Dest, type SchedContext, type SchedPacket, type Scheduler, type Service } from '../types';
import { NO_DEST_AVAILABLE, explainCandidate, explainNone } from './explain';

/** prandom_u32_max(ep_ro) in 6.1: ((u64)r * ep_ro) >> 32 for a 32-bit draw r, computed exactly. */
export function prandomU32Max(r: number, epRo: number): number {
  const hi = (r >>> 16) * epRo; // < 2^48
  const lo = (r & 0xffff) * epRo; // < 2^48
  const q = Math.floor(hi / 65536);
  const rem = hi - q * 65536;
  return q + Math.floor((rem * 65536 + lo) / 4294967296);
}

/** ip_vs_twos_schedule(). */
function schedule(svc: Service, _pkt: SchedPacket, ctx: SchedContext): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  const ex = ctx.explain;
  let total = 0;
  let any = false;
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) === 0 && d.weight > 0) {
      total += d.weight;
      any = true;
    } else if (ex !== undefined) {
      explainCandidate(ex, d, undefined, d.weight > 0 ? 'overloaded' : 'weight 0');
    }
  }
  if (!any) {
    if (ex !== undefined) explainNone(ex, 'twos', NO_DEST_AVAILABLE, 'every real server is overloaded or has weight 0');
    return null;
  }
  total += 1;
  const r1draw = prandomU32Max(ctx.randomU32(), total);
  const r2draw = prandomU32Max(ctx.randomU32(), total);
  let r1 = r1draw;
  let r2 = r2draw;
  let choice1: Dest | null = null;
  let choice2: Dest | null = null;
  let weight1 = -1;
  let weight2 = -1;
  let overhead1 = 0;
  let overhead2 = 0;
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & IP_VS_DEST_F_OVERLOAD) !== 0) continue;
    const w = d.weight;
    if (w <= 0) continue;
    r1 -= w;
    r2 -= w;
    if (r1 <= 0 && weight1 === -1) {
      choice1 = d;
      weight1 = w;
      overhead1 = d.activeconns * 256 + d.inactconns;
    }
    if (r2 <= 0 && weight2 === -1) {
      choice2 = d;
      weight2 = w;
      overhead2 = d.activeconns * 256 + d.inactconns;
    }
    if (weight1 !== -1 && weight2 !== -1) break;
  }
  // r <= total - 1 = sum of eligible weights, so both choices are always set here
  const second = choice2 !== null && weight2 * overhead1 > weight1 * overhead2;
  const chosen = second ? choice2! : choice1!;
  if (ex !== undefined) {
    explainCandidate(ex, choice1!, overhead1, second ? `choice1: ${weight2}*${overhead1} > ${weight1}*${overhead2}` : undefined);
    if (choice2 !== null && choice2 !== choice1) {
      explainCandidate(ex, choice2, overhead2, second ? undefined : `choice2: ${weight2}*${overhead1} <= ${weight1}*${overhead2}`);
    }
    ex.detail('total', total);
    ex.detail('r1', r1draw);
    ex.detail('r2', r2draw);
    ex.detail('choice1', destKey(choice1!));
    ex.detail('choice2', destKey(choice2!));
    ex.summary(
      `twos: two weighted random draws (${r1draw} and ${r2draw} of 0..${total - 1}) picked ${destKey(choice1!)} and ${destKey(choice2!)}; ${destKey(chosen)} has the lower overhead per weight (ties go to the first draw).`,
    );
  }
  return chosen;
}

export const twosScheduler: Scheduler = { name: 'twos', schedule };
