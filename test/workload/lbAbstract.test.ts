/**
 * workload/lbAbstract.ts against docs/bench.md §6: the reference values every
 * peer engine prints, reached through lvsim's Engine and its ipvs/schedulers wlc and rr.
 * rr at C = 100000 was pinned from the js-limit peer (peers/js-limit/lb.mjs).
 */
import { describe, expect, it } from 'vitest';
import { getScheduler } from '../../src/ipvs/schedulers/index';
import type { Scheduler } from '../../src/ipvs/types';
import { LB_WEIGHTS, LbAbstract, makeLbService, runLbAbstract } from '../../src/workload/lbAbstract';

const sched = (name: string): Scheduler => getScheduler(name)!;
const fixed6 = (xs: number[]): string[] => xs.map((x) => x.toFixed(6));

describe('lb-abstract service', () => {
  it('lists the dests in the workload order 0..7, as the kernel links them (newest at the head)', () => {
    const svc = makeLbService(sched('wlc'));
    expect(svc.dests.map((d) => d.weight)).toEqual(LB_WEIGHTS);
    expect(svc.dests.map((d) => d.addr & 255)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(svc.dests.every((d) => d.svc === svc && d.activeconns === 0 && d.inactconns === 0)).toBe(true);
  });

  it('ip_vs_rr from a fresh init picks server k mod 8 for connection k', () => {
    const svc = makeLbService(sched('rr'));
    const pkt = { saddr: 1, daddr: svc.addr, sport: 1, dport: 80, protocol: 6 };
    const ctx = { randomU32: () => 0, now: () => 0 };
    const picks = Array.from({ length: 17 }, () => svc.dests.indexOf(svc.scheduler.schedule(svc, pkt, ctx)!));
    expect(picks).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0]);
  });
});

describe('lb-abstract reference values (seed 42)', () => {
  it('wlc, C = 1', () => {
    const r = runLbAbstract(sched('wlc'), 1, 42);
    expect(r.events).toBe(3);
    expect(r.simEndNs).toBe(2096076453);
    expect(r.perServerCounts).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.maxActive).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.checksum).toBe(3214588242);
    expect(fixed6(r.meanActive)).toEqual(['0.045398', ...Array(7).fill('0.000000')]);
  });

  it('wlc, C = 100000', () => {
    const r = runLbAbstract(sched('wlc'), 100_000, 42);
    expect(r.events).toBe(300_000);
    expect(r.simEndNs).toBe(103298842019);
    expect(r.perServerCounts).toEqual([5145, 5220, 10135, 10128, 14874, 14832, 19754, 19912]);
    expect(r.maxActive).toEqual([11, 11, 22, 21, 32, 32, 42, 42]);
    expect(r.checksum).toBe(2957644911);
    expect(fixed6(r.meanActive)).toEqual([
      '8.082873', '8.073121', '15.616635', '15.634752', '23.177723', '23.184028', '30.712536', '30.671069',
    ]);
  });

  it('rr, C = 100000 (values of the js-limit peer)', () => {
    const r = runLbAbstract(sched('rr'), 100_000, 42);
    expect(r.events).toBe(300_000);
    expect(r.simEndNs).toBe(103298842019);
    expect(r.perServerCounts).toEqual(Array(8).fill(12500));
    expect(r.maxActive).toEqual([35, 33, 37, 34, 34, 34, 33, 34]);
    expect(r.checksum).toBe(2675432463);
    expect(fixed6(r.meanActive)).toEqual([
      '19.713350', '19.210615', '19.581225', '19.341452', '19.187119', '19.380337', '19.388705', '19.349932',
    ]);
  });

  it('drives the Dest counters and leaves every dest idle when the queue is empty', () => {
    const run = new LbAbstract(sched('wlc'), 1000, 7);
    const r = run.run();
    expect(r.events).toBe(3000);
    expect(r.perServerCounts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(run.svc.dests.map((d) => [d.activeconns, d.inactconns])).toEqual(Array(8).fill([0, 0]));
    expect(run.engine.pending).toBe(0);
    expect(run.engine.processed).toBe(3000);
  });
});
