/**
 * ipvs/schedulers/explain.ts: shared helpers for the "why this real server?" record.
 * Only called when ctx.explain is present, so the hot path never allocates for them.
 */
import { destKey, isOverloaded, type Dest, type ExplainSink } from '../types';

/** The message ip_vs_scheduler_err() logs when a scheduler returns NULL (ip_vs_sched.c). */
export const NO_DEST_AVAILABLE = 'no destination available';

/** Report one destination as the scheduler saw it. */
export function explainCandidate(ex: ExplainSink, d: Dest, cost?: number, skipped?: string): void {
  ex.candidate({
    dest: destKey(d),
    weight: d.weight,
    activeconns: d.activeconns,
    inactconns: d.inactconns,
    overloaded: isOverloaded(d),
    cost,
    skipped,
  });
}

/** Report the NULL outcome: the kernel's log text as detail "error" plus the summary. */
export function explainNone(ex: ExplainSink, name: string, message: string, why: string): void {
  ex.detail('error', message);
  ex.summary(`${name}: ${why}, so the kernel logs "${message}" and the client gets ICMP port unreachable.`);
}

/** "A:80" for a dest, "none" for null. */
export const keyOrNone = (d: Dest | null): string => (d === null ? 'none' : destKey(d));
