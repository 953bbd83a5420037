/**
 * The compare page's form and notes, without a browser: seeds as lvsim compare takes them, a
 * report's sweep written back into the form, the arrivals note in the table's own figures, and
 * chart colours that read on white in a natural order.
 */
import { describe, expect, it } from 'vitest';
import { arrivalNote, formOfSweep, readForm } from '../../src/ui/compare/form';
import { naturalOrder, SERIES_COLORS } from '../../src/ui/compare/charts';
import type { Sweep } from '../../src/workload/sweep';

const LIMITS = { file: 'scenarios/compare-schedulers.yaml', durationS: 600, rate: 50 };

describe('compare page: arrivals note', () => {
  it('gives the range over the runs and the mean the table prints, not the minimum alone', () => {
    const note = arrivalNote(150000, [29762, 29946, 29762, 29946], LIMITS);
    expect(note).toMatch(/^Asked for 150000 connections; between 29762 and 29946 arrived per run \(mean 29854, the table's conns\): arrivals stop at the workload's duration \(600 s at 50 connections per second/);
    expect(note).not.toMatch(/; 29762 arrived/);
  });

  it('gives one number when every run got the same count, and nothing when all arrived', () => {
    expect(arrivalNote(200000, [29800], LIMITS)).toMatch(/^Asked for 200000 connections; 29800 arrived: arrivals stop/);
    expect(arrivalNote(200000, [29800, 29800], LIMITS)).toMatch(/; 29800 arrived in each of the 2 runs: /);
    expect(arrivalNote(2000, [2000, 2000], LIMITS)).toBe('');
  });
});

describe('compare page: form', () => {
  it('takes seeds as a count from the workload seed or as a range, like lvsim compare --seeds', () => {
    expect(readForm('rr,wlc', '3', '2000', 7)).toEqual({ schedulers: ['rr', 'wlc'], seeds: { first: 7, last: 9 }, connections: 2000 });
    expect(readForm('rr', '3..5', '2000', 7)).toMatchObject({ seeds: { first: 3, last: 5 } });
    expect(readForm('rr', '5..3', '2000', 7)).toEqual({ error: "seeds: found '5..3': the last seed is before the first. Nothing was run." });
    expect(readForm('rr', '0', '2000', 7)).toMatchObject({ error: expect.stringMatching(/^seeds: found '0', expected a number of seeds from 1 to 64/) });
    expect(readForm('rr', '1..100', '2000', 7)).toMatchObject({ error: expect.stringMatching(/100 seeds; this page runs at most 64/) });
  });

  it('writes an opened report back into the form so the form describes it', () => {
    const sweep: Sweep = {
      lvsim: 'x', scenario: { file: 'scenarios/compare-schedulers.yaml', name: 'c', sha256: '0' }, mode: 'flow',
      connections: 2000, schedulers: ['rr', 'wlc', 'sed'], seeds: { first: 1, last: 4 },
    };
    const f = formOfSweep(sweep, 10000);
    expect(f).toEqual({ schedulers: 'rr,wlc,sed', seeds: '1..4', connections: '2000' });
    // Read back, the form runs exactly the report's sweep.
    expect(readForm(f.schedulers, f.seeds, f.connections, 7)).toEqual({ schedulers: ['rr', 'wlc', 'sed'], seeds: { first: 1, last: 4 }, connections: 2000 });
    expect(formOfSweep({ ...sweep, connections: null }, 10000).connections).toBe('10000');
  });
});

describe('compare page: chart colours', () => {
  const lum = (hex: string) => {
    const c = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16) / 255).map(v => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
  };
  it('every series colour reads at 4.5:1 or more on white (legend text is drawn in it)', () => {
    for (const c of SERIES_COLORS) expect(1.05 / (lum(c) + 0.05), c).toBeGreaterThanOrEqual(4.5);
    expect(new Set(SERIES_COLORS).size).toBe(SERIES_COLORS.length);
  });
  it('orders real servers naturally', () => {
    expect(naturalOrder(['rs3', 'rs4', 'rs1', 'rs10', 'rs2'], x => x)).toEqual(['rs1', 'rs2', 'rs3', 'rs4', 'rs10']);
  });
});
