import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWorkload, withoutWorkload } from '../../src/workload/spec';
import { parseScenario } from '../../src/config/scenario';
import { ConnGenerator } from '../../src/workload/generator';
import { Engine } from '../../src/sim/engine';

const SCN = 'scenarios/compare-schedulers.yaml';

describe('workload: section', () => {
  it('reads the shipped comparison workload', () => {
    const { spec, diagnostics } = parseWorkload(readFileSync(SCN, 'utf8'), SCN);
    expect(diagnostics).toEqual([]);
    expect(spec!.clients.map(c => [c.name, c.nat, c.size])).toEqual([['home', false, 20000], ['office', true, 1], ['hot', false, 2]]);
    expect(spec!.arrivals).toEqual({ process: 'poisson', rate: 50 });
    expect(spec!.length).toEqual({ dist: 'lognormal', median: 2e9, sigma: 1.2 });
    expect(spec!.events.map(e => [e.at / 1e9, e.kind])).toEqual([[120, 'exec'], [200, 'fail'], [260, 'recover']]);
  });

  it('names file:line:col and what was expected for bad values', () => {
    const text = 'hosts: {}\nworkload:\n  arrivals: { process: poison, rate: 5 }\n  length: { dist: pareto, min: 1s }\n  clients:\n    - { name: x, count: 3, range: 10.1.0.0/40 }\n  bogus: 1\n';
    const { diagnostics } = parseWorkload(text, 'w.yaml');
    const at = diagnostics.map(d => `${d.line}:${d.col} ${d.found}`);
    expect(at).toContain('3:24 poison');
    expect(at).toContain('4:11 no alpha:');
    expect(at).toContain('6:35 10.1.0.0/40');
    expect(at).toContain('7:3 bogus');
    expect(diagnostics.find(d => d.found === 'poison')!.expected).toMatch(/poisson, constant, bursts or day/);
  });

  it('leaves the rest of the scenario to the scenario parser, with line numbers intact', () => {
    const text = readFileSync(SCN, 'utf8');
    const stripped = withoutWorkload(text);
    expect(stripped.split('\n').length).toBe(text.split('\n').length);
    expect(parseScenario(stripped, SCN).diagnostics).toEqual([]);
  });
});

describe('connection generator', () => {
  it('gives the same connections for the same seed, from its own streams', () => {
    const { spec } = parseWorkload(readFileSync(SCN, 'utf8'), SCN);
    const take = (seed: number, other: boolean) => {
      const e = new Engine(seed);
      if (other) e.rng('tcp:client').nextU32(); // another consumer never shifts the workload's draws
      const g = new ConnGenerator(spec!, e);
      const out: string[] = [];
      for (let i = 0; i < 200 && g.next(); i++) out.push(`${g.cur.t} ${g.cur.caddr}:${g.cur.cport} ${g.cur.holdNs} ${g.cur.requests}`);
      return out;
    };
    expect(take(7, false)).toEqual(take(7, true));
    expect(take(7, false)).not.toEqual(take(8, false));
  });

  it('poisson arrivals have the configured mean rate, and a NAT address never reuses a port in use', () => {
    const { spec } = parseWorkload('workload:\n  connections: 20000\n  arrivals: { process: poisson, rate: 1000 }\n  length: 2s\n  clients:\n    - { name: nat, count: 50, nat: 198.51.100.7, share: 1 }\n', 'x');
    const g = new ConnGenerator(spec!, new Engine(3));
    const busy = new Map<number, number>();
    let last = 0;
    while (g.next()) {
      const end = busy.get(g.cur.cport);
      expect(end === undefined || end <= g.cur.t).toBe(true);
      busy.set(g.cur.cport, g.cur.t + g.cur.holdNs + 2 * spec!.rttNs + spec!.onewayNs);
      last = g.cur.t;
    }
    expect(g.count).toBe(20000);
    expect(20000 / (last / 1e9)).toBeGreaterThan(970);
    expect(20000 / (last / 1e9)).toBeLessThan(1030);
  });
});
