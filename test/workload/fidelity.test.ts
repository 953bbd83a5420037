/**
 * Flow mode and packet mode drive the same IPVS code: for the same workload and seed, the
 * director picks the same real server for each connection.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prepare } from '../../src/workload/setup';
import { runFlow } from '../../src/workload/flow';
import { runPacketText } from '../../src/workload/packet';

const SCN = 'scenarios/compare-schedulers.yaml';
const base = readFileSync(SCN, 'utf8');

/** The shipped topology with a workload whose events are far apart (constant arrivals, fixed lengths). */
const spaced = base.replace(/\nworkload:[\s\S]*$/, `
workload:
  from: client
  connections: 300
  packet: { connections: 300 }
  clients:
    - { name: home, count: 500, range: 10.1.0.0/16, share: 8 }
    - { name: office, count: 50, nat: 198.51.100.7, share: 2 }
  arrivals: { process: constant, rate: 20 }
  length: { dist: fixed, value: 1.525s }
  requests: 2
  events:
    - { at: 5.0251s, exec: "ipvsadm -e -t 172.16.29.6:9001 -r 10.20.40.5:9001 -i -w 1" }
`);

function chosenNames(kind: 'flow' | 'packet', text: string, sched: string, n: number): string[] {
  if (kind === 'flow') {
    const p = prepare(text, SCN, { scheduler: sched });
    const r = runFlow(p, { record: n });
    return [...r.chosen].map(i => (i < 0 ? String(i) : r.recorder.series[i]!.name));
  }
  const r = runPacketText(text, SCN, { scheduler: sched, record: n, connections: n });
  return [...r.chosen].map(i => (i < 0 ? String(i) : r.result.series[i]!.name));
}

describe('flow mode and packet mode agree on scheduling decisions', () => {
  for (const sched of ['wlc', 'lc', 'sed', 'nq', 'wrr', 'rr']) {
    it(`${sched}: same real server for each of the first 300 connections`, () => {
      const f = chosenNames('flow', spaced, sched, 300);
      const p = chosenNames('packet', spaced, sched, 300);
      expect(f.filter(x => x === '-2')).toEqual([]);
      expect(p).toEqual(f);
    });
  }
  for (const sched of ['sh', 'mh', 'wrr']) {
    it(`${sched} on the shipped workload (random arrivals, heavy tails, NAT): first 200 connections`, () => {
      expect(chosenNames('packet', base, sched, 200)).toEqual(chosenNames('flow', base, sched, 200));
    });
  }
});
