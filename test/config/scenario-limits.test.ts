/**
 * The scenario reader refuses what would make it slow (too large, too deeply nested, too many
 * entries) with one diagnostic, and reports YAML syntax errors where the YAML library found them.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/config/scenario';
import { parseWorkload } from '../../src/workload/spec';
import { MAX_DEPTH, MAX_ENTRIES, MAX_TEXT_BYTES } from '../../src/config/yaml';

const only = (text: string) => {
  const r = parseScenario(text, 'b.yaml');
  expect(r.diagnostics.length).toBeGreaterThan(0);
  return r.diagnostics;
};

describe('scenario size and nesting limits', () => {
  it('31 nested { give diagnostics, not a string that doubles per level', () => {
    const d = only('{'.repeat(31));
    expect(d.every(x => x.found.length < 200)).toBe(true);
    expect(d.map(x => x.expected).join('\n')).not.toMatch(/\[object|\{\{/);
  });

  it('a nested mapping used as a key is described, not printed', () => {
    const d = only('? {a: {b: {c: 1}}}\n: x\nhosts: {}\n');
    expect(d[0]).toMatchObject({ line: 1, col: 3, found: 'a mapping' });
  });

  it.each([
    ['a megabyte of {', '{'.repeat(1e6)],
    ['deep block lists', '- '.repeat(40_000)],
    ['deep explicit keys', '? '.repeat(40_000)],
    ['deep indentation', Array.from({ length: 1400 }, (_, i) => ' '.repeat(i) + 'a:').join('\n')],
    ['closed brackets', '['.repeat(20_000) + ']'.repeat(20_000)],
  ])('refuses %s with one diagnostic naming the depth limit', (_, text) => {
    for (const d of [parseScenario(text, 'b.yaml').diagnostics, parseWorkload(text, 'b.yaml').diagnostics]) {
      expect(d).toHaveLength(1);
      expect(d[0]!.found).toBe(`nesting deeper than ${MAX_DEPTH} levels`);
    }
  });

  it('reports the position where nesting passes the limit', () => {
    // `a:` is one level; the bracket that makes MAX_DEPTH + 1 is the MAX_DEPTH-th one, after 'a: '.
    const d = only('a: ' + '['.repeat(100));
    expect(d[0]).toMatchObject({ line: 1, col: 3 + MAX_DEPTH });
  });

  it.each([
    ['200000 lines of one key', 'a: b\n'.repeat(200_000)],
    ['a flow list of 400000 items', 'a: [' + 'x,'.repeat(400_000) + ']'],
  ])('refuses %s: too many entries', (_, text) => {
    const d = only(text);
    expect(d).toHaveLength(1);
    expect(d[0]!.found).toBe(`more than ${MAX_ENTRIES} entries`);
  });

  it('refuses a text over the size limit', () => {
    const d = only('#'.repeat(MAX_TEXT_BYTES + 1));
    expect(d[0]!.found).toMatch(/MB of text/);
  });

  it('loads a long setup block: a block scalar counts as one entry', () => {
    const text = 'hosts:\n  h:\n    setup: |\n' + '      sysctl -w net.ipv4.ip_forward=1\n'.repeat(25_000);
    const r = parseScenario(text, 'b.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(r.scenario.hosts.get('h')!.setup).toHaveLength(25_000);
  });

  it('lists at most 200 problems and says how many more there were', () => {
    const d = parseScenario('hosts: {}\n' + Array.from({ length: 500 }, (_, i) => `k${i}: 1`).join('\n'), 'b.yaml').diagnostics;
    expect(d).toHaveLength(201);
    expect(d[200]!.found).toBe('300 more problems');
  });

  it('a duplicate key is reported at the second one, naming the first', () => {
    const d = only('hosts: {}\nname: a\nname: b\n');
    expect(d).toEqual([expect.objectContaining({ line: 3, col: 1, found: 'name', expected: expect.stringContaining('first at line 2') })]);
  });
});

describe('YAML syntax errors', () => {
  it('are placed where the YAML library found them, not at 1:1', () => {
    const d = only('hosts:\n  director:\n    setup: |\n      ip a\n   role: x\n');
    // found: the text there; expected: what YAML wants, in the library's words
    expect(d[0]).toMatchObject({ line: 5, col: 1, expected: 'valid YAML (All mapping items must start at the same column)' });
    expect(d[0]!.found).toMatch(/role: x|^role/);
  });

  it('an unclosed quote points past the quoted text', () => {
    const d = only('name: "x\nhosts: {}\n');
    expect(d[0]!.line).toBeGreaterThan(1);
    expect(d[0]!.expected).toMatch(/quote/);
  });

  it('a bad indent is reported once', () => {
    const d = only('hosts:\n  a: {}\n b: {}\n');
    expect(d.filter(x => /same column/.test(x.expected))).toHaveLength(1);
  });
});
