/**
 * The topology's tunnel and reply routes: drawn from the hops the run's packets took, with a
 * route end (an arrowhead) only at the real servers the tunnel reaches and at the client the
 * reply reaches; the route lit at a step is the one the player's connection takes; a method
 * that never tunnels or never replies from a real server draws no such route.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRunView } from '../../src/ui/model';
import { routeNear, routesOf } from '../../src/ui/topology';
import { withFwdMethod } from '../../src/config/fwd_method';

const FILE = 'scenarios/tun-different-subnets.yaml';
const text = readFileSync(FILE, 'utf8');

describe('topology routes', () => {
  const tun = buildRunView(text, FILE);
  const routes = routesOf(tun);

  it('ends the tunnel at each real server and the reply at the client, never at the router', () => {
    const ends = (k: string) => routes.filter(r => r.kind === k && r.end).map(r => `${r.from}>${r.to}`).sort();
    expect(ends('tunnel')).toEqual(['router>rs1', 'router>rs2']);
    expect(ends('reply')).toEqual(['router>client']);
    // The hops that carry on (director to router, real server to router) have no arrowhead.
    expect(routes.filter(r => !r.end).map(r => `${r.kind} ${r.from}>${r.to}`).sort()).toEqual(['reply rs1>router', 'reply rs2>router', 'tunnel director>router']);
  });

  it('lights the route of the connection on screen: to the real server that answers it', () => {
    // The first connection is tunnelled to the real server that decapsulates and answers it.
    const answering = tun.records[tun.firstOfStep[5]!]!.host;
    expect(answering).toBe('rs2');
    for (const step of [3, 4]) {
      const lit = [...routeNear(routes, 'tunnel', tun.firstOfStep[step]!)].map(i => routes[i]!);
      expect(lit.filter(r => r.end).map(r => r.to), `step ${step}`).toEqual([answering]);
    }
    const reply = [...routeNear(routes, 'reply', tun.firstOfStep[5]!)].map(i => `${routes[i]!.from}>${routes[i]!.to}`);
    expect(reply.sort()).toEqual(['router>client', 'rs2>router']);
  });

  it('draws no tunnel and no reply route for DR or NAT on this topology (neither happens there)', () => {
    for (const m of ['route', 'masq'] as const) {
      const run = buildRunView(withFwdMethod(text, m).text, FILE);
      // DR: the director's own ICMP from the VIP is no real-server reply.
      if (m === 'route') expect(run.flights.some(f => f.kind === 'reply')).toBe(true);
      expect(routesOf(run), m).toEqual([]);
    }
  });
});
