/**
 * ipvs/estimator.ts: the statistics of a service, a destination or the whole namespace, and
 * the rate estimator (net/netfilter/ipvs/ip_vs_est.c, the timer version Linux 6.1 ships).
 *
 * Kernel model: the packet path bumps per-CPU counters (ip_vs_conn_stats, ip_vs_in_stats).
 * Every 2 s estimation_timer() copies their sums into stats->kstats and updates the rates:
 *   rate = (kstats.x - last_x) << 9  (conns/pkts: 2^10 scale, divided by 2 s; bytes: << 4, 2^5)
 *   est  += (rate - est) >> 2         (EWMA weight 1/4, arithmetic shift)
 * and ipvsadm shows kstats - kstats0 (kstats0 = the zero point set by -Z, ip_vs_zero_stats)
 * and (est + 0x1FF) >> 10 for cps/pps, (est + 0xF) >> 5 for bps (ip_vs_read_estimator).
 *
 * lvsim runs no periodic timer (it would keep the event queue from ever draining). The ticks
 * are implicit: tick k happens at `phase + k * 2 s` and sees every update made before it.
 * Each object remembers the index of the 2-second interval of its latest update; the first
 * update (or read) in a later interval first "plays" the ticks that passed: the first one
 * copies the live counters into kstats and feeds the EWMA their delta, the others feed it 0
 * (it decays to 0 in a few dozen ticks, then the loop stops). So per packet this costs one
 * division and one compare, and listings see exactly what a 2-second timer would have shown.
 *
 * Simplifications: the phase is the Ipvs instance's creation (the kernel arms est_timer at
 * namespace init, ip_vs_estimator_net_init); jiffies rounding is ignored; the 6.2+ kthread
 * estimator (variable tick placement) is not modelled; sysctl run_estimation is not read.
 */
import { NS_PER_S, type Ns } from '../sim/engine';
import type { IpvsStats } from './types';

/** The estimator period (2 * HZ). */
export const EST_PERIOD_NS: Ns = 2 * NS_PER_S;

/** Which 2-second interval a time falls in, given the estimator's phase. */
export function estIndex(t: Ns, phase: Ns): number {
  return Math.floor((t - phase) / EST_PERIOD_NS);
}

export interface ShownStats {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

export interface ShownRates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

/** EWMA step with the kernel's signed >> 2 (floor division). */
const ewma = (est: number, rate: number): number => est + Math.floor((rate - est) / 4);

/**
 * struct ip_vs_stats: live counters (the per-CPU sums) as the IpvsStats fields, plus the
 * estimator's copy (kstats), the zero point (kstats0) and the scaled rates.
 */
export class EstStats implements IpvsStats {
  // live counters (ip_vs_cpu_stats summed)
  conns = 0;
  inpkts = 0;
  outpkts = 0;
  inbytes = 0;
  outbytes = 0;
  // kstats: the copy taken at the last tick
  private kConns = 0;
  private kInpkts = 0;
  private kOutpkts = 0;
  private kInbytes = 0;
  private kOutbytes = 0;
  // kstats0: zero point
  private zConns = 0;
  private zInpkts = 0;
  private zOutpkts = 0;
  private zInbytes = 0;
  private zOutbytes = 0;
  // struct ip_vs_estimator (last_* equal kstats after every tick, so they are not kept apart)
  private cps = 0;
  private inpps = 0;
  private outpps = 0;
  private inbps = 0;
  private outbps = 0;
  /** Interval index of the latest update or read: ticks up to it have been played. */
  private tick: number;
  /** On ipvs->est_list (ip_vs_start_estimator / ip_vs_stop_estimator). */
  private running = true;

  constructor(tick: number) {
    this.tick = tick;
  }

  /** Play the ticks up to interval `k` (estimation_timer). Cheap when k is the current one. */
  advance(k: number): void {
    if (k <= this.tick) return;
    if (!this.running) {
      this.tick = k;
      return;
    }
    // the first tick sees every update made so far
    this.cps = ewma(this.cps, (this.conns - this.kConns) * 512);
    this.inpps = ewma(this.inpps, (this.inpkts - this.kInpkts) * 512);
    this.outpps = ewma(this.outpps, (this.outpkts - this.kOutpkts) * 512);
    this.inbps = ewma(this.inbps, (this.inbytes - this.kInbytes) * 16);
    this.outbps = ewma(this.outbps, (this.outbytes - this.kOutbytes) * 16);
    this.kConns = this.conns;
    this.kInpkts = this.inpkts;
    this.kOutpkts = this.outpkts;
    this.kInbytes = this.inbytes;
    this.kOutbytes = this.outbytes;
    // the others saw no change: the rates decay towards 0
    for (let i = this.tick + 2; i <= k; i++) {
      if (this.cps === 0 && this.inpps === 0 && this.outpps === 0 && this.inbps === 0 && this.outbps === 0) break;
      this.cps = ewma(this.cps, 0);
      this.inpps = ewma(this.inpps, 0);
      this.outpps = ewma(this.outpps, 0);
      this.inbps = ewma(this.inbps, 0);
      this.outbps = ewma(this.outbps, 0);
    }
    this.tick = k;
  }

  /** ip_vs_conn_stats at interval k. */
  addConn(k: number): void {
    if (k > this.tick) this.advance(k);
    this.conns++;
  }

  /** ip_vs_in_stats at interval k. */
  addIn(k: number, bytes: number): void {
    if (k > this.tick) this.advance(k);
    this.inpkts++;
    this.inbytes += bytes;
  }

  /** ip_vs_out_stats at interval k (never on the TUN path; here for completeness). */
  addOut(k: number, bytes: number): void {
    if (k > this.tick) this.advance(k);
    this.outpkts++;
    this.outbytes += bytes;
  }

  /** ip_vs_copy_stats: kstats - kstats0 as of interval k. */
  shown(k: number): ShownStats {
    this.advance(k);
    return {
      conns: this.kConns - this.zConns,
      inpkts: this.kInpkts - this.zInpkts,
      outpkts: this.kOutpkts - this.zOutpkts,
      inbytes: this.kInbytes - this.zInbytes,
      outbytes: this.kOutbytes - this.zOutbytes,
    };
  }

  /** Live counters minus the zero point (not something the kernel shows; for views). */
  live(): ShownStats {
    return {
      conns: this.conns - this.zConns,
      inpkts: this.inpkts - this.zInpkts,
      outpkts: this.outpkts - this.zOutpkts,
      inbytes: this.inbytes - this.zInbytes,
      outbytes: this.outbytes - this.zOutbytes,
    };
  }

  /** ip_vs_read_estimator as of interval k. */
  rates(k: number): ShownRates {
    this.advance(k);
    return {
      cps: Math.floor((this.cps + 0x1ff) / 1024),
      inpps: Math.floor((this.inpps + 0x1ff) / 1024),
      outpps: Math.floor((this.outpps + 0x1ff) / 1024),
      inbps: Math.floor((this.inbps + 0xf) / 32),
      outbps: Math.floor((this.outbps + 0xf) / 32),
    };
  }

  /** ip_vs_zero_stats + ip_vs_zero_estimator: the zero point becomes kstats, rates 0. */
  zero(k: number): void {
    this.advance(k);
    this.zConns = this.kConns;
    this.zInpkts = this.kInpkts;
    this.zOutpkts = this.kOutpkts;
    this.zInbytes = this.kInbytes;
    this.zOutbytes = this.kOutbytes;
    this.cps = this.inpps = this.outpps = this.inbps = this.outbps = 0;
  }

  /** ip_vs_stop_estimator (dest moved to the trash): kstats and rates freeze. */
  stop(k: number): void {
    this.advance(k);
    this.running = false;
  }

  /** ip_vs_start_estimator (dest back from the trash). */
  start(k: number): void {
    if (this.running) return;
    this.tick = Math.max(this.tick, k);
    this.running = true;
  }
}
