/**
 * Configuration over time: every change to a host (address, route, link, sysctl, module, IPVS
 * service and destination) is a record with its host, time and trace position, and
 * hostStateAt folds them back into the configuration a host had at any record.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import { snapshotHost } from '../../src/world/snapshot';
import { hostStateAt, describeChange, type HostState } from '../../src/trace/state';
import { formatIp4, ip4 } from '../../src/net/addr';
import { REF } from '../world/helpers';

const plain = (s: HostState) => ({
  links: [...s.links.values()], addrs: [...s.addrs.entries()].filter(([, v]) => v.length > 0).sort(([a], [b]) => a.localeCompare(b)), routes: [...s.routes].map(r => JSON.stringify(r)).sort(),
  sysctl: [...s.sysctl.entries()].sort(), modules: [...s.modules].sort(), services: [...s.services.values()],
  dests: [...s.dests.entries()].map(([k, v]) => [k, [...v.values()]]),
});

describe('hostStateAt', () => {
  // Not yet recorded: what a daemon changes by itself (keepalived's checkers adding, editing and
  // removing destinations); the world records changes after commands only. Those scenarios are
  // left out here until the daemons record theirs.
  const daemonDriven = (f: string): boolean => /keepalived/.test(readFileSync(`scenarios/${f}`, 'utf8'));
  for (const f of readdirSync('scenarios').filter(x => x.endsWith('.yaml') && !daemonDriven(x)).sort()) {
    it(`${f}: the changes folded to the end of the run give every host's final configuration`, () => {
      const path = `scenarios/${f}`;
      const run = runScenarioText(readFileSync(path, 'utf8'), path);
      for (const wh of run.world.hosts.values()) {
        expect(plain(hostStateAt(run.world.changes, wh.name, Infinity)), wh.name).toEqual(plain(snapshotHost(wh)));
      }
    });
  }

  const base = readFileSync(REF, 'utf8').replace(/traffic:[\s\S]*$/, '');
  const text = base + [
    'traffic:',
    '  - { id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001 }',
    '  - { exec: "ip addr add 172.16.69.20/24 dev eth0", host: director }',
    '  - { exec: "ipvsadm -e -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i -w 3", host: director }',
    '  - { id: c2, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40002 }',
    '',
  ].join('\n');
  const run = runScenarioText(text, REF);
  const recs = run.world.records;
  const changes = run.world.changes;

  it('records a mid-run address change on its host, at the time and position of the exec step', () => {
    const c = changes.find(x => x.change.kind === 'addr' && x.change.op === 'add' && x.change.addr.addr === ip4('172.16.69.20'));
    expect(c).toBeDefined();
    expect(c!.host).toBe('director');
    expect(c!.t).toBeGreaterThan(0);
    // Every record before the change is earlier than it, every record from it on is not.
    expect(recs[c!.seq - 1]!.t).toBeLessThanOrEqual(c!.t);
    expect(recs[c!.seq]!.t).toBeGreaterThanOrEqual(c!.t);
    expect(describeChange(c!.change, formatIp4)).toBe('address 172.16.69.20/24 added to eth0');
  });

  it('the director has the address from the exec step on, not before', () => {
    const c = changes.find(x => x.change.kind === 'addr' && x.change.addr.addr === ip4('172.16.69.20'))!;
    const has = (pos: number) => (hostStateAt(changes, 'director', pos).addrs.get('eth0') ?? []).some(a => a.addr === ip4('172.16.69.20'));
    expect(has(0)).toBe(false);
    expect(has(c.seq - 1)).toBe(false);
    expect(has(c.seq)).toBe(true);
    expect(has(recs.length - 1)).toBe(true);
    // Its subnet route comes with it, and other hosts are untouched.
    const routes = (pos: number) => hostStateAt(changes, 'director', pos).routes.filter(r => r.src === ip4('172.16.69.20')).length;
    expect(routes(c.seq - 1)).toBe(0);
    expect(routes(c.seq)).toBeGreaterThan(0);
    expect(plain(hostStateAt(changes, 'rs1', c.seq - 1))).toEqual(plain(hostStateAt(changes, 'rs1', c.seq)));
  });

  it('records the destination edit as an IPVS change, and the weight before and after', () => {
    const c = changes.find(x => x.change.kind === 'dest' && x.change.op === 'edit')!;
    expect(c).toBeDefined();
    expect(describeChange(c.change, formatIp4)).toBe('IPVS TCP 172.16.29.6:9001: real server 172.16.197.3:9001 edited (tunnel, weight 3)');
    const weight = (pos: number) => hostStateAt(changes, 'director', pos).dests.get('TCP 172.16.29.6:9001')!.get('172.16.197.3:9001')!.weight;
    expect(weight(c.seq - 1)).toBe(1);
    expect(weight(c.seq)).toBe(3);
  });

  it('the setup is recorded at position 0 and time 0 (modules, sysctls and the IPVS service included)', () => {
    const setup = changes.filter(x => x.seq === 0 && x.t === 0 && x.host === 'rs1');
    expect(setup.some(x => x.change.kind === 'module' && x.change.name === 'ipip')).toBe(true);
    expect(setup.some(x => x.change.kind === 'sysctl' && x.change.key === 'net.ipv4.conf.tunl0.arp_ignore' && x.change.value === '1')).toBe(true);
    const s0 = hostStateAt(changes, 'director', 0);
    expect([...s0.services.keys()]).toEqual(['TCP 172.16.29.6:9001']);
    expect([...s0.dests.get('TCP 172.16.29.6:9001')!.keys()]).toEqual(['192.168.134.5:9001', '172.16.197.3:9001']);
  });
});
