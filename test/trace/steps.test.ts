/**
 * trace/steps.ts: one rule for the request's hops before the director, whatever the forwarding
 * method. The client's and the routers' records of CIP -> VIP carry no step number ("on the way
 * to the director"); step 1 begins where the director receives it; in DR, the unchanged packet a
 * gateway carries after ip_vs_dr_xmit is step 3, not the request on its way again.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runScenarioText, type Run } from '../../src/world/world';
import { runSteps } from '../../src/cli/format';
import type { TraceRecord } from '../../src/trace/record';

const runOf = (file: string): Run => runScenarioText(readFileSync(file, 'utf8'), file);

/** The first SYN's records as "host point verdict step" ("~" on the way, "0" no step). */
function firstSyn(run: Run): string[] {
  const steps = runSteps(run);
  const recs = run.world.records;
  const id = recs.find(r => r.host === 'client' && r.point === 'socket' && r.verdict === 'send')!.packet.id;
  const tag = (r: TraceRecord) => (steps.onTheWay(r.seq) ? '~' : String(steps.of(r.seq)));
  return recs.filter(r => r.packet.id === id).map(r => `${r.host} ${r.point} ${r.verdict} ${tag(r)}`);
}

describe('the request on its way to the director, under every forwarding method', () => {
  for (const [method, file] of [
    ['tun', 'scenarios/tun-different-subnets.yaml'],
    ['dr', 'scenarios/modes-dr-different-subnets.yaml'],
    ['nat', 'scenarios/modes-nat-different-subnets.yaml'],
  ] as const) {
    it(`${method}: the client's and the router's hops carry no step; step 1 starts at the director's receive`, () => {
      const run = runOf(file);
      const steps = runSteps(run);
      expect(steps.list.method).toBe(method);
      expect(steps.list.onTheWay).toBe('on the way to the director');
      const syn = firstSyn(run);
      const arrive = syn.findIndex(l => l.startsWith('director ') && l.includes(' rx '));
      expect(arrive).toBeGreaterThan(5);
      expect(syn[arrive]).toMatch(/ 1$/);
      const before = syn.slice(0, arrive);
      expect(before.filter(l => !l.endsWith(' ~'))).toEqual([]);
      expect(before.some(l => l.startsWith('client routing output'))).toBe(true);
      expect(before.some(l => l.startsWith('router ') && l.includes(' tx '))).toBe(true);
      // The first numbered record of the run is the director's receive: N from the start lands there.
      const first = run.world.records[steps.first[1]!]!;
      expect([first.host, first.verdict]).toEqual(['director', 'rx']);
    });
  }

  it('dr: the gateway that carries the unchanged packet after ip_vs_dr_xmit is in step 3, not on the way', () => {
    const syn = firstSyn(runOf('scenarios/modes-dr-different-subnets.yaml'));
    const xmit = syn.findIndex(l => l.startsWith('director ipvs xmit'));
    expect(xmit).toBeGreaterThan(0);
    const gw = syn.slice(xmit).find(l => l.startsWith('router '))!;
    expect(gw).toMatch(/^router \S+ rx 3$/);
  });
});
