import { describe, expect, it } from 'vitest';
import { WRR_ALL_OVERLOADED, wrrScheduler, type WrrMark } from '../../../src/ipvs/schedulers/wrr';
import type { Service } from '../../../src/ipvs/types';
import { addDest, delDest, editDest, explainCtx, makeService, name, picks, pkt, setOverload } from './helpers';

const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';
const short = (xs: string[]): string => xs.map((x) => ({ [A]: 'A', [B]: 'B', [C]: 'C', none: '-' })[x] ?? x).join('');

/** Dests already present in list order `spec` when the scheduler is bound (-E ... -s wrr). */
function boundOver(spec: [string, number][]): Service {
  const svc = makeService(wrrScheduler);
  for (let i = spec.length - 1; i >= 0; i--) addDest(svc, spec[i]![0], { weight: spec[i]![1] });
  wrrScheduler.doneService!(svc);
  wrrScheduler.initService!(svc);
  return svc;
}

const mark = (svc: Service): WrrMark => svc.schedData as WrrMark;

describe('ip_vs_wrr_schedule', () => {
  it('steady cycle A=4, B=3, C=2 (di 1, mw 4): AABABCABC', () => {
    const svc = boundOver([[A, 4], [B, 3], [C, 2]]);
    expect(short(picks(svc, 12))).toBe('AABABCABC' + 'AAB');
  });

  it('steady cycle A=6, B=4, C=2 (di 2, mw 5): AABABC', () => {
    const svc = boundOver([[A, 6], [B, 4], [C, 2]]);
    expect(mark(svc)).toMatchObject({ di: 2, mw: 5, cw: 5 });
    expect(short(picks(svc, 12))).toBe('AABABCAABABC');
  });

  it('A=2, B=2, C=0: the weight-0 dest is never picked', () => {
    const svc = boundOver([[A, 2], [B, 2], [C, 0]]);
    expect(short(picks(svc, 6))).toBe('ABABAB');
  });

  it('after -A then -a A w4, -a B w3, -a C w2 (list C,B,A) the first pass gives one each: CBA|A|BA|CBA|CBA|A|BA', () => {
    const svc = makeService(wrrScheduler);
    expect(mark(svc)).toMatchObject({ cw: 0, mw: 0, di: 1 });
    addDest(svc, A, { weight: 4 });
    expect(mark(svc)).toMatchObject({ cw: 1, mw: 1, di: 4 });
    addDest(svc, B, { weight: 3 });
    addDest(svc, C, { weight: 2 });
    expect(mark(svc)).toMatchObject({ cw: 1, mw: 4, di: 1, cl: -1 });
    expect(short(picks(svc, 15))).toBe('CBA' + 'A' + 'BA' + 'CBA' + 'CBA' + 'A' + 'BA');
  });

  it('after -a A w4, -a B w2 (list B,A; di 2, mw 3): BA|A|BA|A|BA', () => {
    const svc = makeService(wrrScheduler);
    addDest(svc, A, { weight: 4 });
    addDest(svc, B, { weight: 2 });
    expect(mark(svc)).toMatchObject({ cw: 1, mw: 3, di: 2 });
    expect(short(picks(svc, 8))).toBe('BAABAABA');
  });

  it('a weight-0 dest added first changes nothing; the first positive weight sets cw = mw = 1', () => {
    const svc = makeService(wrrScheduler);
    addDest(svc, C, { weight: 0 });
    expect(mark(svc)).toMatchObject({ cw: 0, mw: 0 });
    expect(picks(svc, 1)).toEqual(['none']);
    addDest(svc, A, { weight: 5 });
    expect(mark(svc)).toMatchObject({ cw: 1, mw: 1, di: 5 });
    expect(short(picks(svc, 3))).toBe('AAA');
  });

  it('an edit mid-run returns to the head and keeps cw (dest_changed)', () => {
    const svc = makeService(wrrScheduler);
    addDest(svc, A, { weight: 4 });
    const b = addDest(svc, B, { weight: 3 });
    addDest(svc, C, { weight: 2 });
    expect(short(picks(svc, 2))).toBe('CB');
    editDest(svc, b, { weight: 1 });
    expect(mark(svc)).toMatchObject({ cl: -1, cw: 1, mw: 4, di: 1 });
    expect(short(picks(svc, 10))).toBe('CBA' + 'A' + 'A' + 'CA' + 'CBA');
  });

  it('when the gcd grows, cw is rounded to k*di + 1', () => {
    const svc = boundOver([[A, 3], [B, 1]]);
    expect(short(picks(svc, 2))).toBe('AA'); // cw 3 then 2
    expect(mark(svc).cw).toBe(2);
    editDest(svc, svc.dests[0]!, { weight: 4 });
    expect(mark(svc)).toMatchObject({ cw: 2, di: 1, mw: 4 });
    editDest(svc, svc.dests[1]!, { weight: 2 });
    expect(mark(svc)).toMatchObject({ cw: 3, di: 2, mw: 3 });
    expect(short(picks(svc, 4))).toBe('AABA');
  });

  it('cw larger than the new mw is clamped after a delete', () => {
    const svc = boundOver([[A, 4], [B, 1]]);
    expect(mark(svc).cw).toBe(4);
    delDest(svc, svc.dests[0]!);
    expect(mark(svc)).toMatchObject({ cw: 1, mw: 1, di: 1, cl: -1 });
    expect(short(picks(svc, 3))).toBe('BBB');
  });

  it('skips overloaded dests and keeps the cycle for the rest', () => {
    const svc = boundOver([[A, 4], [B, 3], [C, 2]]);
    setOverload(svc.dests[0]!, true);
    expect(short(picks(svc, 6))).toBe('BBCBC' + 'B');
  });

  it('returns null with "all destinations are overloaded" when every weighted dest is overloaded', () => {
    const svc = boundOver([[A, 2], [B, 1]]);
    expect(short(picks(svc, 1))).toBe('A');
    setOverload(svc.dests[0]!, true);
    setOverload(svc.dests[1]!, true);
    const { ctx, rec } = explainCtx();
    expect(wrrScheduler.schedule(svc, pkt(), ctx)).toBeNull();
    expect(rec.detail.error).toBe(WRR_ALL_OVERLOADED);
    setOverload(svc.dests[1]!, false);
    expect(short(picks(svc, 3))).toBe('BBB');
  });

  it('returns null with "no destination available" when all weights are 0 (mw = 0)', () => {
    const svc = boundOver([[A, 0]]);
    const { ctx, rec } = explainCtx();
    expect(wrrScheduler.schedule(svc, pkt(), ctx)).toBeNull();
    expect(rec.detail.error).toBe('no destination available');
  });

  it('explains cw, mw, di and the dests passed over', () => {
    const svc = boundOver([[A, 1], [B, 3]]);
    expect(short(picks(svc, 1))).toBe('B');
    const { ctx, rec } = explainCtx();
    expect(name(wrrScheduler.schedule(svc, pkt(), ctx))).toBe(B);
    expect(rec.detail).toMatchObject({ cw: 3, mw: 3, di: 1, start: '10.0.0.2:80', cw_after: 2 });
    // from B to the end finds nothing at cw 3; cw drops to 2 and the walk restarts at the head
    expect(rec.candidates.map((c) => [c.dest, c.skipped])).toEqual([
      ['10.0.0.1:80', 'weight 1 < cw 2'],
      ['10.0.0.2:80', undefined],
    ]);
  });
});
