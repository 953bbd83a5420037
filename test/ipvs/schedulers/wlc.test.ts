import { describe, expect, it } from 'vitest';
import { wlcScheduler } from '../../../src/ipvs/schedulers/wlc';
import { addDest, addDests, explainCtx, makeService, name, picks, pkt, setOverload } from './helpers';
import type { Service } from '../../../src/ipvs/types';

/** Build a service whose list order is exactly `spec` (first = head). */
function listOf(spec: [string, { weight?: number; active?: number; inact?: number; overload?: boolean }][]): Service {
  const svc = makeService(wlcScheduler);
  for (let i = spec.length - 1; i >= 0; i--) addDest(svc, spec[i]![0], spec[i]![1]);
  return svc;
}

describe('ip_vs_wlc_schedule', () => {
  it('A(w1,a2,i10)=522, B(w2,a3)=768, C(w1,a1,i300)=556 -> B', () => {
    const svc = listOf([
      ['10.0.0.1', { weight: 1, active: 2, inact: 10 }],
      ['10.0.0.2', { weight: 2, active: 3 }],
      ['10.0.0.3', { weight: 1, active: 1, inact: 300 }],
    ]);
    expect(picks(svc, 1)).toEqual(['10.0.0.2']);
  });

  it('A(w1,a5), B(w0), C(w3,a10) -> C', () => {
    const svc = listOf([
      ['10.0.0.1', { weight: 1, active: 5 }],
      ['10.0.0.2', { weight: 0 }],
      ['10.0.0.3', { weight: 3, active: 10 }],
    ]);
    expect(picks(svc, 1)).toEqual(['10.0.0.3']);
  });

  it('A(w1,a1), B(w3,a5) -> A', () => {
    const svc = listOf([
      ['10.0.0.1', { weight: 1, active: 1 }],
      ['10.0.0.2', { weight: 3, active: 5 }],
    ]);
    expect(picks(svc, 1)).toEqual(['10.0.0.1']);
  });

  it('ties keep the earlier dest (most recently added) and weight-0 dests never win', () => {
    const svc = makeService(wlcScheduler);
    addDests(svc, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(picks(svc, 1)).toEqual(['10.0.0.3']);
    const z = addDest(svc, '10.0.0.4', { weight: 0 });
    expect(picks(svc, 1)).toEqual(['10.0.0.3']);
    void z;
  });

  it('spreads by weight as connections bind (active counts)', () => {
    const svc = makeService(wlcScheduler);
    addDest(svc, '10.0.0.1', { weight: 2 });
    addDest(svc, '10.0.0.2', { weight: 1 });
    // list .2(w1), .1(w2): 0/1 vs 0/2 tie -> .2; then 256/1 vs 0/2 -> .1; 256 vs 256/2 -> .1; 256/1 vs 512/2 tie -> .2
    expect(picks(svc, 6, undefined, undefined, true)).toEqual(['10.0.0.2', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.1']);
  });

  it('inactive connections count 1/256 of an active one', () => {
    const svc = listOf([
      ['10.0.0.1', { weight: 1, active: 1 }],
      ['10.0.0.2', { weight: 1, inact: 255 }],
    ]);
    expect(picks(svc, 1)).toEqual(['10.0.0.2']);
    svc.dests[1]!.inactconns = 256;
    expect(picks(svc, 1)).toEqual(['10.0.0.1']);
  });

  it('skips overloaded dests, even as the first candidate, and returns null when all are', () => {
    const svc = listOf([
      ['10.0.0.1', { weight: 1, overload: true }],
      ['10.0.0.2', { weight: 1, active: 9 }],
      ['10.0.0.3', { weight: 1, active: 3, overload: true }],
    ]);
    expect(picks(svc, 1)).toEqual(['10.0.0.2']);
    setOverload(svc.dests[1]!, true);
    expect(picks(svc, 1)).toEqual(['none']);
  });

  it('returns null when all weights are 0', () => {
    const svc = listOf([['10.0.0.1', { weight: 0 }]]);
    expect(picks(svc, 1)).toEqual(['none']);
  });

  it('explains costs and the comparison that lost', () => {
    const svc = listOf([
      ['10.0.0.1', { weight: 1, active: 2, inact: 10 }],
      ['10.0.0.2', { weight: 2, active: 3 }],
      ['10.0.0.3', { weight: 1, active: 1, inact: 300 }],
    ]);
    const { ctx, rec } = explainCtx();
    expect(name(wlcScheduler.schedule(svc, pkt(), ctx))).toBe('10.0.0.2');
    expect(rec.candidates.map((c) => c.cost)).toEqual([522, 768, 556]);
    expect(rec.candidates[2]!.skipped).toBe('cost 556/1 >= 768/2 (556*2 >= 768*1)');
    expect(rec.summary[0]).toContain('10.0.0.2:80');
  });
});
