/**
 * A malformed vector is refused as a whole, each problem at its JSON path with what was found
 * and what was expected; nothing reaches the replay to fail there with a TypeError.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkVector, jsonPath } from '../../src/world/vector';
import { replayVector } from '../../src/world/replay';

const base = () => JSON.parse(readFileSync('test/fixtures/oracle/v2/tunl0-down.json', 'utf8'));
const problems = (v: unknown) => {
  const r = checkVector(v);
  return r.ok ? [] : r.problems.map(p => `${p.path}: ${p.message}`);
};

describe('checkVector', () => {
  it('accepts every recorded vector', () => {
    for (const f of ['baseline.json', 'sched-rr.json', 'v2/baseline.json', 'v2/arp-samelan-ignore1-announce2.json', 'v2/ka-vrrp-failover.json', 'v2/fw-ipip-blocked.json']) {
      expect(problems(JSON.parse(readFileSync(`test/fixtures/oracle/${f}`, 'utf8'))), f).toEqual([]);
    }
  });

  it('names the path of a connect step without src', () => {
    const v = base();
    delete v.steps[0].src;
    expect(problems(v)).toEqual(['steps[0].src: found nothing: expected string, received undefined']);
  });

  it('names the path of a src that is a number', () => {
    const v = base();
    v.steps[0].src = 5;
    expect(problems(v)[0]).toMatch(/^steps\[0\]\.src: found 5: /);
  });

  it('names a host without setup', () => {
    const v = base();
    delete v.hosts.rs1.setup;
    expect(problems(v)[0]).toMatch(/^hosts\.rs1\.setup: found nothing/);
  });

  it('refuses an unknown format and an unknown step kind', () => {
    expect(problems({ format: 'x' })).toEqual(['format: found "x", expected "lvsim-oracle-vector/1" or "lvsim-oracle-vector/2"']);
    const v = base();
    v.steps[0].do = 'teleport';
    expect(problems(v)[0]).toMatch(/^steps\[0\]\.do: found "teleport"/);
  });

  it('checks cross-references: segment hosts and released ids', () => {
    const v = base();
    v.segments[0][0] = 'nosuch:eth0';
    v.steps.push({ n: 2, do: 'release', ids: ['c9'] });
    expect(problems(v)).toEqual([
      'segments[0][0]: found host "nosuch", expected one of the hosts (client, router, director, rs1)',
      'steps[1].ids[0]: found "c9", expected the id of an earlier connect step',
    ]);
  });

  it('refuses a version-2 step kind in a version-1 vector', () => {
    const v = JSON.parse(readFileSync('test/fixtures/oracle/baseline.json', 'utf8'));
    v.steps.push({ n: 9, do: 'wait', ms: 5 });
    expect(problems(v)[0]).toMatch(/^steps\[4\]\.do: /);
  });

  it('writes JSON paths as people read them', () => {
    expect(jsonPath(['steps', 0, 'src'])).toBe('steps[0].src');
    expect(jsonPath(['final', 'ipvsadm-Ln'])).toBe('final.ipvsadm-Ln');
    expect(jsonPath(['hosts', 'a b'])).toBe('hosts["a b"]');
    expect(jsonPath([])).toBe('(the whole file)');
  });

  it('never throws, and what it accepts replays without throwing (generated vectors)', () => {
    const v0 = base();
    const mutate = fc.record({
      path: fc.constantFrom(['steps', 0, 'src'], ['steps', 0, 'mode'], ['steps', 0, 'timeout_ms'], ['hosts', 'rs1', 'setup'], ['hosts', 'rs1', 'listen'], ['segments', 0], ['observe', 'sniffed'], ['steps', 0, 'expect'], ['steps'], ['hosts']),
      value: fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.string({ maxLength: 12 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.constant({})),
    });
    fc.assert(fc.property(mutate, ({ path, value }) => {
      const v = structuredClone(v0);
      let o = v;
      for (const k of path.slice(0, -1)) o = o[k];
      o[path[path.length - 1]!] = value;
      const r = checkVector(v);
      if (r.ok) replayVector(r.vector, 'generated.json');
    }), { seed: 12, numRuns: 60 });
  });
});
