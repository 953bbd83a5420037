/**
 * Sweeps split into shards and merged (workload/sweep.ts, workload/report.ts, lvsim merge):
 * the merged report equals the unsplit sweep's byte for byte in every format, for 1, 3 and 7
 * shards each run on its own; parts record what merge checks; merge refuses parts that do not
 * belong together, with exit status 2 and the file named.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../src/workload/compare';
import { renderReport, type ReportFormat } from '../../src/workload/report';
import { makePart, mergeParts, parsePart, shardSeeds, sweepJobs, sweepRun, SweepError, type Part, type Sweep } from '../../src/workload/sweep';
import { scenarioSha256 } from '../../src/cli/compare';
import { LVSIM_VERSION } from '../../src/cli/version';

const SCN = 'scenarios/compare-schedulers.yaml';
const text = readFileSync(SCN, 'utf8');
const lvsim = (...args: string[]) => spawnSync('node', ['bin/lvsim.mjs', ...args], { encoding: 'utf8' });

const sweep: Sweep = {
  lvsim: LVSIM_VERSION,
  scenario: { file: SCN, name: 'compare', sha256: scenarioSha256(text) },
  mode: 'flow', connections: 100, schedulers: ['rr', 'wlc'], seeds: { first: 11, last: 17 },
};
const FORMATS: ReportFormat[] = ['text', 'json', 'csv', 'html'];

/** Run one shard on its own, as another machine would, and write its part as JSON text. */
function runShard(index: number, count: number): string {
  const seeds = shardSeeds(sweep.seeds, index, count);
  const results = sweepJobs(sweep, seeds, text).map(j => runJob(j));
  return JSON.stringify(makePart(sweep, { index, count, seeds }, results));
}

describe('shardSeeds', () => {
  it('cuts the seeds into contiguous shares equal to within one seed, in order', () => {
    const shares = Array.from({ length: 7 }, (_, i) => shardSeeds({ first: 1, last: 1000 }, i + 1, 7));
    expect(shares.map(s => s.last - s.first + 1)).toEqual([143, 143, 143, 143, 143, 143, 142]);
    expect(shares[0]!.first).toBe(1);
    expect(shares[6]!.last).toBe(1000);
    for (let i = 1; i < 7; i++) expect(shares[i]!.first).toBe(shares[i - 1]!.last + 1);
  });

  it('refuses shard numbers outside 1..N and more shards than seeds', () => {
    expect(() => shardSeeds({ first: 1, last: 10 }, 0, 3)).toThrow(SweepError);
    expect(() => shardSeeds({ first: 1, last: 10 }, 4, 3)).toThrow(/numbered 1 to 3/);
    expect(() => shardSeeds({ first: 1, last: 3 }, 1, 4)).toThrow(/at most 3 shard/);
  });
});

describe('a sweep split into shards and merged equals the unsplit sweep', () => {
  const whole = sweepJobs(sweep, sweep.seeds, text).map(j => sweepRun(runJob(j)));
  const expected = Object.fromEntries(FORMATS.map(f => [f, renderReport(sweep, whole, f)]));

  for (const n of [1, 3, 7]) {
    it(`N = ${n}: the same report, byte for byte, in text, JSON, CSV and HTML (parts merged in any order)`, () => {
      const parts = Array.from({ length: n }, (_, i) => ({ file: `part-${i + 1}.json`, text: runShard(i + 1, n) }));
      const shuffled = [...parts.slice(1), parts[0]!].map(p => ({ file: p.file, part: parsePart(p.text, p.file) }));
      const merged = mergeParts(shuffled);
      for (const f of FORMATS) expect(renderReport(merged.sweep, merged.runs, f), f).toBe(expected[f]);
      // The aggregates themselves, not only their printed form.
      const a = JSON.parse(expected.json!).summary;
      const b = JSON.parse(renderReport(merged.sweep, merged.runs, 'json')).summary;
      expect(b).toEqual(a);
    });
  }

  it('a part records the lvsim version, the scenario SHA-256, the seed range and its shard, and no wall time', () => {
    const p = JSON.parse(runShard(2, 3)) as Part;
    expect(p).toMatchObject({
      format: 'lvsim-compare-part/1', lvsim: LVSIM_VERSION,
      scenario: { file: SCN, sha256: scenarioSha256(text) },
      seeds: { first: 11, last: 17 }, shard: { index: 2, count: 3, seeds: { first: 14, last: 15 } },
    });
    expect(p.runs.map(r => `${r.seed}${r.scheduler}`)).toEqual(['14rr', '14wlc', '15rr', '15wlc']);
    expect(JSON.stringify(p)).not.toContain('wallMs');
  });
});

describe('progress as JSON lines', () => {
  it('--progress json: a start line, one line per finished run, an end line; the part on --out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-progress-'));
    const part = join(dir, 'part-2.json');
    const r = lvsim('compare', SCN, '--schedulers', 'rr,wlc', '--seeds', '5..7', '--connections', '60', '--shard', '2/2', '--out', part, '--progress', 'json', '--jobs', '1');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ event: 'start', lvsim: LVSIM_VERSION, scenario: SCN, mode: 'flow', shard: '2/2', seeds: '7..7', runs: 2 });
    expect(lines.slice(1, -1).map(l => [l.event, l.done, l.runs, l.scheduler, l.seed])).toEqual([['run', 1, 2, 'rr', 7], ['run', 2, 2, 'wlc', 7]]);
    for (const l of lines.slice(1)) expect(typeof l.elapsed_s).toBe('number');
    expect(lines.at(-1)).toMatchObject({ event: 'end', runs: 2, out: part });
    expect((JSON.parse(readFileSync(part, 'utf8')) as Part).shard).toEqual({ index: 2, count: 2, seeds: { first: 7, last: 7 } });
  });
});

describe('lvsim merge refuses parts that do not belong together (exit 2, the file named)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsim-merge-'));
  const base = JSON.parse(runShard(1, 2)) as Part;
  const second = JSON.parse(runShard(2, 2)) as Part;
  const write = (name: string, o: unknown): string => { const f = join(dir, name); writeFileSync(f, typeof o === 'string' ? o : JSON.stringify(o)); return f; };
  const p1 = write('part-1.json', base);
  const p2 = write('part-2.json', second);

  it('merges the two good parts', () => {
    const r = lvsim('merge', p2, p1, '--csv');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^scheduler,seed,mode,connections/);
  });

  const cases: Array<[string, () => string[], RegExp]> = [
    ['another scenario text', () => [p1, write('other-scn.json', { ...second, scenario: { ...second.scenario, sha256: 'f'.repeat(64) } })], /other-scn\.json: scenario SHA-256 f+ differs from .*part-1\.json's [0-9a-f]{64} \(parts of different scenario files/],
    ['another lvsim version', () => [p1, write('other-version.json', { ...second, lvsim: '0.0.9' })], /other-version\.json: lvsim version 0\.0\.9 differs/],
    ['another seed range', () => [p1, write('other-seeds.json', { ...second, seeds: { first: 11, last: 18 } })], /seed range 11\.\.18 differs/],
    ['other schedulers', () => [p1, write('other-scheds.json', { ...second, schedulers: ['wlc', 'rr'] })], /schedulers wlc,rr differs/],
    ['a shard missing', () => [p1], /shard 2\/2 missing \(have 1\)/],
    ['a shard twice', () => [p1, write('copy.json', base), p2], /part-1\.json and .*copy\.json are both shard 1\/2/],
    ['a part missing runs', () => [p1, write('short.json', { ...second, runs: second.runs.slice(1) })], /short\.json: 5 runs, expected 6 \(3 seed\(s\) x 2 scheduler\(s\)\); the part is incomplete/],
    ['a part holding the wrong seeds', () => [p1, write('wrong-seeds.json', { ...second, shard: { ...second.shard, seeds: { first: 14, last: 17 } } })], /wrong-seeds\.json: shard 2\/2 of seeds 11\.\.17 holds seeds 15\.\.17, the file says 14\.\.17/],
    ['a damaged run', () => [p1, write('damaged.json', { ...second, runs: [second.runs[0], { ...second.runs[1], dests: 'x' }, ...second.runs.slice(2)] })], /damaged\.json: runs\[1\]\.dests: /],
    ['a file that is not a part', () => [p1, write('report.json', { format: 'lvsim-compare-report/1' })], /report\.json: not a part of a compare sweep \(expected "format": "lvsim-compare-part\/1".*found "lvsim-compare-report\/1"\)/],
    ['a file that is not JSON', () => [p1, write('broken.json', '{"format": "lvsim-compare-part/1", "runs": [')], /broken\.json: not JSON/],
  ];
  for (const [what, files, msg] of cases) {
    it(what, () => {
      expect(() => mergeParts(files().map(f => ({ file: f, part: parsePart(readFileSync(f, 'utf8'), f) })))).toThrow(msg);
    });
  }

  it('on the command line: exit 2, one line naming the file, nothing on stdout, no stack trace', () => {
    for (const [files, msg] of [
      [cases[0]![1](), cases[0]![2]],
      [[p1, join(dir, 'nope.json')], /cannot read .*nope\.json: No such file or directory/],
    ] as Array<[string[], RegExp]>) {
      const r = lvsim('merge', ...files);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^lvsim merge: [^\n]*\n$/);
      expect(r.stderr).toMatch(msg);
    }
  });
});
