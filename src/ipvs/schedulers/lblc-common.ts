/**
 * ipvs/schedulers/lblc-common.ts: what ip_vs_lblc.c and ip_vs_lblcr.c share, each of which
 * has its own copy in the kernel: is_overloaded(), the 1024-bucket hash_32(ntohl(daddr), 10)
 * key, and the expiry timer (full check and over-size sweep). Their wlc pass is wlc.ts's
 * weightedLeast().
 *
 * GC timer simplification: the kernel arms ip_vs_lblc(r)_check_expire every 60 s from
 * init_service. Schedulers here get no timer, and init_service has no clock, so the timer
 * is started at the first schedule() call's ctx.now() and every tick that fell due since is
 * run (in order, at its own due time) at the start of the next schedule() call. Table entries
 * are only observable through scheduling, so this gives the kernel's outcomes except that the
 * tick phase is counted from the first scheduled connection instead of from `ipvsadm -A`.
 */
import type { Dest, Service } from '../types';
import { hash32 } from './hash';

export const IP_VS_LBLC_TAB_BITS = 10;
export const IP_VS_LBLC_TAB_SIZE = 1 << IP_VS_LBLC_TAB_BITS;
export const IP_VS_LBLC_TAB_MASK = IP_VS_LBLC_TAB_SIZE - 1;
export const NS_PER_SEC = 1_000_000_000;
/** CHECK_EXPIRE_INTERVAL = 60*HZ. */
export const CHECK_EXPIRE_INTERVAL_NS = 60 * NS_PER_SEC;
/** ENTRY_TIMEOUT = 6*60*HZ. */
export const ENTRY_TIMEOUT_NS = 6 * 60 * NS_PER_SEC;
/** DEFAULT_EXPIRATION = 24*60*60*HZ (sysctl lblc_expiration / lblcr_expiration). */
export const DEFAULT_EXPIRATION_NS = 24 * 60 * 60 * NS_PER_SEC;
export const COUNT_FOR_FULL_EXPIRATION = 30;
/** tbl->max_size = IP_VS_LBLC_TAB_SIZE * 16. */
export const LBLC_MAX_SIZE = IP_VS_LBLC_TAB_SIZE * 16;

/** ip_vs_lblc(r)_hashkey(): hash_32(ntohl(addr), 10). */
export const lblcHashkey = (addr: number): number => hash32(addr, IP_VS_LBLC_TAB_BITS);

/**
 * is_overloaded() of lblc/lblcr: dest has more active connections than its weight AND some
 * dest of the service has active * 2 < weight. The OVERLOAD flag is not consulted.
 */
export function lblcIsOverloaded(dest: Dest, svc: Service): boolean {
  if (dest.activeconns > dest.weight) {
    for (const d of svc.dests) if (d.activeconns * 2 < d.weight) return true;
  }
  return false;
}

/** The timer part of the table both schedulers keep. */
export interface LblcTimer {
  /** Virtual time of the next ip_vs_lblc(r)_check_expire(), or -1 before the first schedule. */
  nextCheck: number;
  counter: number;
  rover: number;
  /** atomic tbl->entries (note: the kernel's lblc never decrements it when an entry is replaced). */
  entries: number;
  /** sysctl lblc_expiration / lblcr_expiration in ns. */
  expiration: number;
}

/** What the expiry code reads of an entry (struct ip_vs_lblc_entry / ip_vs_lblcr_entry). */
export interface LblcEntryBase {
  readonly addr: number;
  lastuse: number;
}

/** struct ip_vs_lblc(r)_table: the timer state and the entries by address (bucket lblcHashkey(addr)). */
export interface LblcTableOf<E extends LblcEntryBase> extends LblcTimer {
  map: Map<number, E>;
}

export const newTimer = (): LblcTimer => ({ nextCheck: -1, counter: 1, rover: 0, entries: 0, expiration: DEFAULT_EXPIRATION_NS });

/** ip_vs_lblc(r)_full_check(): delete entries with now >= lastuse + expiration, over all buckets. */
function fullCheck(tbl: LblcTableOf<LblcEntryBase>, now: number): void {
  for (const [a, en] of tbl.map) {
    if (now < en.lastuse + tbl.expiration) continue;
    tbl.map.delete(a);
    tbl.entries--;
  }
  tbl.rover = (tbl.rover + IP_VS_LBLC_TAB_SIZE) & IP_VS_LBLC_TAB_MASK;
}

/**
 * The over-size part of ip_vs_lblc(r)_check_expire(): walk buckets from rover+1, deleting
 * entries idle >= ENTRY_TIMEOUT, until goal <= 0 after a bucket; the new rover is where it stopped.
 */
function sweep(tbl: LblcTableOf<LblcEntryBase>, now: number, goal: number): void {
  const byBucket = new Map<number, LblcEntryBase[]>();
  for (const en of tbl.map.values()) {
    const b = lblcHashkey(en.addr);
    const l = byBucket.get(b);
    if (l) l.push(en);
    else byBucket.set(b, [en]);
  }
  let j = tbl.rover;
  for (let i = 0; i < IP_VS_LBLC_TAB_SIZE; i++) {
    j = (j + 1) & IP_VS_LBLC_TAB_MASK;
    for (const en of byBucket.get(j) ?? []) {
      if (now < en.lastuse + ENTRY_TIMEOUT_NS) continue;
      tbl.map.delete(en.addr);
      tbl.entries--;
      goal--;
    }
    if (goal <= 0) break;
  }
  tbl.rover = j;
}

/** Run every check_expire tick due by `now`, each at its own due time. */
export function runTimer(tbl: LblcTableOf<LblcEntryBase>, now: number): void {
  if (tbl.nextCheck < 0) {
    tbl.nextCheck = now + CHECK_EXPIRE_INTERVAL_NS;
    return;
  }
  while (tbl.nextCheck <= now) {
    const t = tbl.nextCheck;
    if (tbl.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
      fullCheck(tbl, t);
      tbl.counter = 1;
    } else if (tbl.entries <= LBLC_MAX_SIZE) {
      tbl.counter++;
    } else {
      let goal = Math.trunc(((tbl.entries - LBLC_MAX_SIZE) * 4) / 3);
      if (goal > LBLC_MAX_SIZE / 2) goal = LBLC_MAX_SIZE / 2;
      sweep(tbl, t, goal);
    }
    tbl.nextCheck = t + CHECK_EXPIRE_INTERVAL_NS;
  }
}
