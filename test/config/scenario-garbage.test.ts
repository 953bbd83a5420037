/**
 * No input crashes the scenario loader: seeded garbage (random bytes, YAML fragments, mutated
 * copies of the reference scenario) always comes back as diagnostics, never an exception.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/sim/rng';
import { parseScenario } from '../../src/config/scenario';
import { runScenarioText } from '../../src/world/world';

const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');
const PIECES = ['hosts:', 'links:', 'traffic:', '- ', ': ', '{', '}', '[', ']', '|', '>', '&a', '*a', '!!str', '#', '"', "'", '\t', '\n', '  ', 'ipvsadm -A -t', '172.16.29.6:9001', 'ends: [x:eth0]', 'setup: |', '\u0000', '\u2028', '😀', '-1', '1e999', 'null', '~', '?', '%YAML 1.2', '---', '...'];

function garbage(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += rng.next() < 0.7 ? PIECES[rng.int(0, PIECES.length - 1)] : String.fromCharCode(rng.int(0, 0x2fff));
  return s;
}

function mutate(rng: Rng, text: string): string {
  const chars = [...text];
  for (let k = 0; k < 8; k++) {
    const i = rng.int(0, chars.length - 1);
    const op = rng.int(0, 2);
    if (op === 0) chars.splice(i, rng.int(1, 20));
    else if (op === 1) chars.splice(i, 0, PIECES[rng.int(0, PIECES.length - 1)]);
    else chars[i] = String.fromCharCode(rng.int(32, 126));
  }
  return chars.join('');
}

describe('scenario loader under generated garbage', () => {
  it('parses 300 random inputs into diagnostics without throwing', () => {
    const rng = new Rng(12345);
    for (let i = 0; i < 300; i++) {
      const text = garbage(rng, rng.int(0, 80));
      const r = parseScenario(text, 'garbage.yaml');
      for (const d of r.diagnostics) {
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.col).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('runs 60 mutated copies of the reference scenario to the end without throwing', () => {
    const rng = new Rng(777);
    for (let i = 0; i < 60; i++) {
      const text = mutate(rng, REF);
      const run = runScenarioText(text, 'mutated.yaml', { untilNs: 5_000_000_000 });
      expect(Array.isArray(run.diagnostics)).toBe(true);
    }
  });
});
