/**
 * A workload is bounded before it runs: values accepted one by one that together would hang or
 * exhaust memory are refused with the field to change, and hosts it names must exist.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWorkload } from '../../src/workload/spec';
import { costProblem, estimateCost, MAX_SAMPLES } from '../../src/workload/cost';
import { prepare, WorkloadError } from '../../src/workload/setup';
import { runFlow } from '../../src/workload/flow';

const SCN = readFileSync('scenarios/compare-schedulers.yaml', 'utf8');
/** The shipped comparison with one workload line replaced (or added). */
const withLine = (key: string, line: string): string => {
  const re = new RegExp(`^  ${key}:.*$`, 'm');
  return re.test(SCN) ? SCN.replace(re, line) : SCN.replace(/^workload:\n/m, `workload:\n${line}\n`);
};
const errorsOf = (text: string) => parseWorkload(text, 'w.yaml').diagnostics.filter(d => d.severity === 'error');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex(l => l.includes(needle)) + 1;

describe('workload cost, bounded before the run', () => {
  it('the shipped comparison is well within bounds', () => {
    expect(errorsOf(SCN)).toEqual([]);
    const spec = parseWorkload(SCN, 'w.yaml').spec!;
    expect(costProblem(spec, 'flow')).toBeNull();
    expect(estimateCost(spec, 'flow').packets).toBeLessThan(1e6);
  });

  it('requests: { dist: fixed, value: 1e15 } is refused at requests:, naming what to lower', () => {
    const text = withLine('requests', '  requests: { dist: fixed, value: 1e15 }');
    const e = errorsOf(text);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ line: lineOf(text, 'value: 1e15') });
    expect(e[0]!.expected).toMatch(/lower requests:/);
  });

  it('a million requests on 2000 connections is refused too', () => {
    const text = withLine('requests', '  requests: { dist: fixed, value: 1e6 }').replace('connections: 20000', 'connections: 2000');
    expect(errorsOf(text)[0]!.expected).toMatch(/packets and requests/);
  });

  it('sample: 1ns is refused at sample:, with the smallest interval that fits', () => {
    const text = withLine('sample', '  sample: 1ns');
    const e = errorsOf(text);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ line: lineOf(text, 'sample: 1ns'), found: '1ns' });
    const least = /set sample: to (\S+) or more/.exec(e[0]!.expected)![1]!;
    expect(errorsOf(withLine('sample', `  sample: ${least}`))).toEqual([]);
  });

  it('a run started with a larger connection count than the spec checked is refused as it starts', () => {
    const p = prepare(SCN, 'w.yaml');
    (p as { spec: typeof p.spec }).spec = { ...p.spec, connections: 1e8, durationNs: 1e18, requests: { dist: 'fixed', value: 1000 } };
    expect(() => runFlow(p)).toThrow(WorkloadError);
  });

  it('keeps at most MAX_SAMPLES samples', () => {
    const spec = parseWorkload(withLine('sample', '  sample: 1s'), 'w.yaml').spec!;
    expect(estimateCost(spec, 'flow').samples).toBeLessThan(MAX_SAMPLES);
  });
});

describe('workload events name hosts of the scenario', () => {
  it.each([
    ['fail: nosuchhost', '    - { at: 200s, fail: nosuchhost }', 'nosuchhost', ''],
    ['fail: rs9 (did you mean)', '    - { at: 200s, fail: rs9 }', 'rs9', "(did you mean 'rs1'?)"],
    ['host: nosuchhost with exec', '    - { at: 150s, host: nosuchhost, exec: "ipvsadm -Ln" }', 'nosuchhost', ''],
    ['recover: directr', '    - { at: 260s, recover: directr }', 'directr', "(did you mean 'director'?)"],
  ])('%s is an error at the host name', (_, line, name, hint) => {
    const text = SCN.replace('    - { at: 200s, fail: rs2 }', line);
    const e = errorsOf(text);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ line: lineOf(text, line.trim()), found: name });
    expect(e[0]!.expected).toContain('a host declared under hosts:');
    if (hint) expect(e[0]!.expected).toContain(hint);
  });

  it('director: and from: are checked the same way', () => {
    const text = SCN.replace('  from: client', '  from: clinet');
    expect(errorsOf(text)[0]).toMatchObject({ found: 'clinet', expected: expect.stringContaining("did you mean 'client'") });
  });
});
