/**
 * sim/rng.ts against the test vectors of docs/bench.md §3 (mulberry32 and the
 * exponential draw floor(-ln(1 - u) * M + 0.5)).
 */
import { describe, expect, it } from 'vitest';
import { Rng, RngStreams } from '../../src/sim/rng';

describe('mulberry32', () => {
  it('gives the workload vectors for seed 42', () => {
    const r = new Rng(42);
    expect([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([
      2581720956, 1925393290, 3661312704, 2876485805, 750819978,
    ]);
  });

  it('gives the workload vectors for seed 0', () => {
    const r = new Rng(0);
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([1144304738, 1416247, 958946056]);
  });

  it('takes the seed modulo 2^32', () => {
    expect(new Rng(2 ** 32 + 42).nextU32()).toBe(2581720956);
  });
});

describe('exponential draws in integer ns', () => {
  it('gives ia_0, hold_0, ia_1, hold_1, ia_2 for seed 42 in the workload draw order', () => {
    const r = new Rng(42);
    const draws = [r.expNs(1_000_000), r.expNs(160_000_000), r.expNs(1_000_000), r.expNs(160_000_000), r.expNs(1_000_000)];
    expect(draws).toEqual([919_054, 95_157_399, 1_913_695, 177_257_122, 192_146]);
  });

  it('returns whole nanoseconds, zero allowed', () => {
    const r = new Rng(7);
    for (let i = 0; i < 1000; i++) {
      const v = r.expNs(3);
      expect(Number.isInteger(v) && v >= 0).toBe(true);
    }
  });
});

describe('named streams', () => {
  it('gives a consumer the same draws whatever other streams exist', () => {
    const a = new RngStreams(5);
    const first = a.get('ipvs:twos').nextU32();
    const b = new RngStreams(5);
    b.get('workload:arrivals').nextU32();
    b.get('other').nextU32();
    expect(b.get('ipvs:twos').nextU32()).toBe(first);
  });
});
