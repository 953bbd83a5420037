/**
 * ipvs/schedulers/index.ts: the scheduler registry, like register_ip_vs_scheduler() /
 * ip_vs_scheduler_get() (net/netfilter/ipvs/ip_vs_sched.c). Names are the kernel's.
 */
import type { Scheduler } from '../types';
import { rrScheduler } from './rr';
import { wlcScheduler } from './wlc';

const REGISTRY: Readonly<Record<string, Scheduler>> = {
  rr: rrScheduler,
  wlc: wlcScheduler,
};

/** The kernel's scheduler names, in the order of net/netfilter/ipvs/Kconfig. */
export const SCHEDULER_NAMES: readonly string[] = Object.keys(REGISTRY);

/** The scheduler named `name` (exact, lower case as ipvsadm passes it), or null (-ENOENT). */
export function getScheduler(name: string): Scheduler | null {
  return Object.prototype.hasOwnProperty.call(REGISTRY, name) ? REGISTRY[name]! : null;
}

export { rrScheduler, wlcScheduler };
