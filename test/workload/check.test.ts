/**
 * scenarioDiagnostics: schema errors and command-line errors of one text, together, in file
 * order, each once: what the editor's live check shows is what a run reports.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scenarioDiagnostics } from '../../src/workload/check';
import { runScenarioText } from '../../src/world/world';

const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');

describe('scenarioDiagnostics', () => {
  it('reports a schema error and a command-line error of the same text together', () => {
    const text = REF.replace(/^name:/m, 'nmae: x\nname:').replace('ipvsadm -A -t 172.16.29.6:9001 -s rr', 'ipvsadm -A -t 172.16.29.6:9001 -s rrr');
    const d = scenarioDiagnostics(text, 's.yaml');
    expect(d.map(x => x.found)).toEqual(expect.arrayContaining(['nmae', 'rrr']));
    // In file order.
    const lines = d.map(x => x.line);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });

  it('lists every problem a run of the twenty-mistakes scenario lists, each once', () => {
    const text = readFileSync('test/fixtures/twenty-mistakes.yaml', 'utf8');
    const checked = scenarioDiagnostics(text, 'm.yaml');
    const run = runScenarioText(text, 'm.yaml').diagnostics;
    const key = (x: { line: number; col: number; found: string }) => `${x.line}:${x.col}:${x.found}`;
    expect(new Set(checked.map(key))).toEqual(new Set(run.map(key)));
    expect(checked.length).toBe(new Set(checked.map(x => key(x) + x.expected)).size);
  });

  it('includes workload errors', () => {
    const text = readFileSync('scenarios/compare-schedulers.yaml', 'utf8').replace('    - { at: 200s, fail: rs2 }', '    - { at: 200s, fail: rs22 }');
    expect(scenarioDiagnostics(text, 'c.yaml')).toEqual([expect.objectContaining({ found: 'rs22' })]);
  });

  it('a refused text gives its one diagnostic and runs nothing', () => {
    expect(scenarioDiagnostics('{'.repeat(100), 'b.yaml')).toEqual([expect.objectContaining({ found: 'nesting deeper than 64 levels' })]);
  });

  it('31 nested { give YAML diagnostics, each once', () => {
    const d = scenarioDiagnostics('{'.repeat(31), 'b.yaml');
    expect(d.length).toBeGreaterThan(0);
    expect(new Set(d.map(x => `${x.line}:${x.col}:${x.found}:${x.expected}`)).size).toBe(d.length);
  });

  it('the reference scenario has none', () => {
    expect(scenarioDiagnostics(REF, 'r.yaml')).toEqual([]);
  });
});
