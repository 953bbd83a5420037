/**
 * ipvs/schedulers/index.ts: the scheduler registry, like register_ip_vs_scheduler() /
 * ip_vs_scheduler_get() (net/netfilter/ipvs/ip_vs_sched.c). Names are the kernel's.
 * Scheduler objects are stateless singletons; per-service state lives in svc.schedData.
 * twos is registered although Debian's 6.1 build lacks it (CONFIG_IP_VS_TWOS is not set, so
 * there is no ip_vs_twos.ko): a control plane
 * emulating that kernel should refuse it ("Scheduler or persistence engine not found").
 */
import type { Scheduler } from '../types';
import { dhScheduler } from './dh';
import { foScheduler } from './fo';
import { lblcScheduler } from './lblc';
import { lblcrScheduler } from './lblcr';
import { lcScheduler } from './lc';
import { mhScheduler } from './mh';
import { nqScheduler } from './nq';
import { ovfScheduler } from './ovf';
import { rrScheduler } from './rr';
import { sedScheduler } from './sed';
import { shScheduler } from './sh';
import { twosScheduler } from './twos';
import { wlcScheduler } from './wlc';
import { wrrScheduler } from './wrr';

/** In the order of net/netfilter/ipvs/Kconfig. */
const ALL: readonly Scheduler[] = [
  rrScheduler,
  wrrScheduler,
  lcScheduler,
  wlcScheduler,
  foScheduler,
  ovfScheduler,
  lblcScheduler,
  lblcrScheduler,
  dhScheduler,
  shScheduler,
  mhScheduler,
  sedScheduler,
  nqScheduler,
  twosScheduler,
];

const REGISTRY: ReadonlyMap<string, Scheduler> = new Map(ALL.map((s) => [s.name, s]));

/** The kernel's scheduler names, in Kconfig order. */
export const SCHEDULER_NAMES: readonly string[] = ALL.map((s) => s.name);

/** Schedulers Debian's 6.1.0 kernel ships as modules (no ip_vs_twos.ko: CONFIG_IP_VS_TWOS unset). */
export const DEBIAN_6_1_SCHEDULER_NAMES: readonly string[] = SCHEDULER_NAMES.filter((n) => n !== 'twos');

/** The scheduler named `name` (exact, lower case as ipvsadm passes it), or null (-ENOENT). */
export function getScheduler(name: string): Scheduler | null {
  return REGISTRY.get(name) ?? null;
}

/** The message ip_vs_scheduler_err() logs for a NULL pick; wrr's second failure path differs. */
export { NO_DEST_AVAILABLE } from './explain';
export { WRR_ALL_OVERLOADED } from './wrr';

export {
  dhScheduler,
  foScheduler,
  lblcScheduler,
  lblcrScheduler,
  lcScheduler,
  mhScheduler,
  nqScheduler,
  ovfScheduler,
  rrScheduler,
  sedScheduler,
  shScheduler,
  twosScheduler,
  wlcScheduler,
  wrrScheduler,
};
