import { describe, expect, it } from 'vitest';
import { prandomU32Max, twosScheduler } from '../../../src/ipvs/schedulers/twos';
import type { Service } from '../../../src/ipvs/types';
import { addDest, ctx, explainCtx, makeService, name, pkt, setOverload } from './helpers';

/** The smallest u32 draw that prandom_u32_max(T) maps to r. */
const drawFor = (r: number, T: number): number => Math.ceil((r * 2 ** 32) / T);

/** List A, B: A(w1,a0) overhead 0, B(w1,a5) overhead 1280; T = 3. */
function ab(): Service {
  const svc = makeService(twosScheduler);
  addDest(svc, '10.0.0.2', { weight: 1, active: 5 });
  addDest(svc, '10.0.0.1', { weight: 1 });
  return svc;
}
const run = (svc: Service, r1: number, r2: number, T = 3): string => {
  const c = ctx([drawFor(r1, T), drawFor(r2, T)]);
  const d = twosScheduler.schedule(svc, pkt(), c);
  expect(c.draws).toEqual([]); // exactly two draws
  return name(d);
};

describe('prandom_u32_max (6.1: multiply-shift)', () => {
  it('maps a u32 to ((u64)r * T) >> 32 exactly', () => {
    expect(prandomU32Max(0, 3)).toBe(0);
    expect(prandomU32Max(0xffffffff, 3)).toBe(2);
    expect(prandomU32Max(0x80000000, 3)).toBe(1);
    expect(prandomU32Max(0xffffffff, 0x7fffffff)).toBe(0x7ffffffe);
    for (const T of [1, 2, 3, 7, 1000, 65536, 123457]) for (let r = 0; r < Math.min(T, 50); r++) expect(prandomU32Max(drawFor(r, T), T)).toBe(r);
    const big = 0xdeadbeef;
    expect(prandomU32Max(big, 99991)).toBe(Number((BigInt(big) * 99991n) >> 32n));
  });
});

describe('ip_vs_twos_schedule', () => {
  it('r1=0, r2=2: choice1 A, choice2 B; 1*0 > 1*1280 is false -> A', () => expect(run(ab(), 0, 2)).toBe('10.0.0.1'));
  it('r1=2, r2=1: choice1 B, choice2 A; 1*1280 > 1*0 -> A (choice2)', () => expect(run(ab(), 2, 1)).toBe('10.0.0.1'));
  it('r1=2, r2=2: both land on B -> B', () => expect(run(ab(), 2, 2)).toBe('10.0.0.2'));
  it('r1=1, r2=0: r = 0 also selects the first dest -> A', () => expect(run(ab(), 1, 0)).toBe('10.0.0.1'));
  it('only A eligible (B overloaded): T = 2, any draws -> A', () => {
    const svc = ab();
    setOverload(svc.dests[1]!, true);
    for (const [r1, r2] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) expect(run(svc, r1, r2, 2)).toBe('10.0.0.1');
  });
  it('ties go to choice1', () => {
    const svc = ab();
    svc.dests[1]!.activeconns = 0;
    expect(run(svc, 2, 0)).toBe('10.0.0.2');
    expect(run(svc, 0, 2)).toBe('10.0.0.1');
  });
  it('weights: list A(w3,a1), B(w1,a0); r1=3 -> A, r2=4 -> B; 1*256 > 3*0 -> B', () => {
    const svc = makeService(twosScheduler);
    addDest(svc, '10.0.0.2', { weight: 1 });
    addDest(svc, '10.0.0.1', { weight: 3, active: 1 });
    expect(run(svc, 3, 4, 5)).toBe('10.0.0.2');
    expect(run(svc, 3, 0, 5)).toBe('10.0.0.1');
  });
  it('a fixed draw sequence gives a fixed pick sequence', () => {
    const svc = ab();
    const draws = [0, 0xffffffff, 0x90000000, 0x20000000, 0xffffffff, 0xffffffff, 0x60000000, 0x00000001];
    const c = ctx(draws);
    const out = [0, 1, 2, 3].map(() => name(twosScheduler.schedule(svc, pkt(), c)));
    // r pairs (T=3): (0,2) -> A, (1,0) -> A, (2,2) -> B, (1,0) -> A
    expect(out).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1']);
  });
  it('no eligible dest: null and no draw', () => {
    const svc = makeService(twosScheduler);
    addDest(svc, '10.0.0.1', { weight: 0 });
    const c = ctx([1, 2]);
    expect(twosScheduler.schedule(svc, pkt(), c)).toBeNull();
    expect(c.draws).toEqual([1, 2]);
  });
  it('explains the draws and both choices', () => {
    const { ctx: c, rec } = explainCtx([drawFor(2, 3), drawFor(1, 3)]);
    expect(name(twosScheduler.schedule(ab(), pkt(), c))).toBe('10.0.0.1');
    expect(rec.detail).toMatchObject({ total: 3, r1: 2, r2: 1, choice1: '10.0.0.2:80', choice2: '10.0.0.1:80' });
    expect(rec.summary).toHaveLength(1);
  });
});
