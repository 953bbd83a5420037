/**
 * One line per hook: when a handler's own record (the iptables rule or policy that accepted
 * the packet, conntrack) already says the packet went through a hook, the hook adds no second,
 * bare "accept" record; a hook with handlers that record nothing (or none at all) keeps its
 * own record, so every hook a packet passes is still in the trace.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import type { TraceRecord } from '../../src/trace/record';

const HOOKS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** Bare hook records right after an accept record of the same packet at the same hook and time. */
function doubled(rs: readonly TraceRecord[]): TraceRecord[] {
  const out: TraceRecord[] = [];
  for (let i = 1; i < rs.length; i++) {
    const a = rs[i - 1]!, b = rs[i]!;
    if (!HOOKS.has(b.point) || b.verdict !== 'accept' || b.note !== undefined || b.rule !== undefined) continue;
    if (a.point === b.point && a.verdict === 'accept' && a.packet.id === b.packet.id && a.host === b.host && a.t === b.t) out.push(b);
  }
  return out;
}

const scenarios = readdirSync('scenarios').filter(f => f.startsWith('fw-') && f.endsWith('.yaml'));

describe('one record per hook a packet passes', () => {
  it.each(scenarios)('%s: no bare hook record repeats the accepting rule\'s', (f) => {
    const run = runScenarioText(readFileSync(`scenarios/${f}`, 'utf8'), f);
    const rs = run.world.records;
    // the scenario's tables do accept packets by rule or policy, so the check has something to check
    expect(rs.some(r => r.rule !== undefined && r.verdict === 'accept')).toBe(true);
    expect(doubled(rs).map(r => `${r.t} ${r.host} ${r.point} #${r.packet.id}`)).toEqual([]);
  });

  it('a hook whose handlers record nothing keeps its own record', () => {
    const f = 'tun-different-subnets.yaml';
    const run = runScenarioText(readFileSync(`scenarios/${f}`, 'utf8'), f);
    const rs = run.world.records;
    // the router forwards every packet of the run, with no table of its own: one bare FORWARD record each
    const fwd = rs.filter(r => r.host === 'router' && r.point === 'FORWARD' && r.verdict === 'accept');
    expect(fwd.length).toBeGreaterThan(10);
    expect(fwd.every(r => r.note === undefined && r.rule === undefined)).toBe(true);
  });
});
