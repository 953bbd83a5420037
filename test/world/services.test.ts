/**
 * world/services.ts: a server process holds the connections it accepted until it closes them,
 * not for ever: a long run must not keep every connection it ever served (packet mode's
 * million-connection runs stay flat), and a process that exits closes what it still holds.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import { heldConnections } from '../../src/world/services';

const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');

function withTraffic(steps: string[]): string {
  const head = REF.slice(0, REF.indexOf('\ntraffic:') + 1).replace(/^until: .*$/m, '');
  return `${head}until: 20s\ntraffic:\n${steps.map(s => `  - ${s}`).join('\n')}\n`;
}

describe('a server process\'s connections', () => {
  it('are let go once it has closed them: twenty closed connections leave nothing held', () => {
    const steps = Array.from({ length: 20 }, (_, i) => `{ id: c${i}, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:${40001 + i}, at: ${1 + i * 0.1}s }`);
    const run = runScenarioText(withTraffic(steps), 'services.yaml');
    expect(run.clients.filter(c => c.ok).length).toBe(20);
    for (const rs of ['rs1', 'rs2']) expect(heldConnections(run.world.hosts.get(rs)!.host)).toBe(0);
  });

  it('stay held while open: a client holding its connection keeps one descriptor on its real server', () => {
    const run = runScenarioText(withTraffic(['{ id: h1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40100, mode: hold, at: 1s }']), 'services.yaml');
    const held = ['rs1', 'rs2'].map(rs => heldConnections(run.world.hosts.get(rs)!.host));
    expect(held.sort()).toEqual([0, 1]);
  });
});
