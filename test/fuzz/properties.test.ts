/**
 * The parser properties (test/fuzz/properties.ts) on a few hundred generated inputs each, with a
 * fixed seed: no parser throws, every diagnostic has a valid position, every packet of a
 * generated run ends exactly once. `npm run fuzz` runs the same properties on 100,000+ inputs.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { TARGETS } from './properties';

const SEED = 20261207;

describe('parser properties on generated input', () => {
  for (const t of TARGETS) {
    const runs = t.fuzzRuns !== undefined ? Math.max(5, Math.floor(t.fuzzRuns / 100)) : 150;
    it(`${t.name}: never throws, positions valid (${runs} inputs)`, () => {
      fc.assert(fc.property(t.arb, input => {
        const problem = t.check(input);
        if (problem) throw new Error(problem);
      }), { seed: SEED, numRuns: runs });
    });
  }
});
