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
  // The rule sets (counters are as at the last commit here: trace/firewall.ts adds the packets since).
  xtables: s.xtables.tables.map(t => [t.name, t.chains.map(c => [c.name, c.policy, c.rules.map(r => r.text)])]),
});

describe('hostStateAt', () => {
  for (const f of readdirSync('scenarios').filter(x => x.endsWith('.yaml')).sort()) {
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

/**
 * What a daemon changes by itself (keepalived's checkers adding, removing or inhibiting real
 * servers, VRRP adding and removing the VIP) is recorded when it happens, as the equivalent
 * command's change, attributed to the process: the state folded at any position is the one the
 * model had then. The run stopped at t is the same run as the whole one up to t (same seed).
 */
describe('daemon-made changes are configuration-change records', () => {
  const kaScenarios = readdirSync('scenarios').filter(x => /^keepalived-.*\.yaml$/.test(x)).sort();

  it('finds the keepalived scenarios', () => {
    expect(kaScenarios.length).toBeGreaterThanOrEqual(5);
  });

  for (const f of kaScenarios) {
    it(`${f}: at every second, hostStateAt equals the model's IPVS table, weights and addresses then`, () => {
      const path = `scenarios/${f}`;
      const text = readFileSync(path, 'utf8');
      const full = runScenarioText(text, path);
      const end = full.scenario.untilNs!;
      const json = (x: unknown) => JSON.stringify(x);
      let differed = 0;
      for (let t = 500e6; t <= end; t += 1e9) {
        const part = runScenarioText(text, path, { untilNs: t });
        // Deterministic: what was recorded up to t is the start of the whole run's changes.
        expect(json(full.world.changes.slice(0, part.world.changes.length))).toBe(json(part.world.changes));
        for (const wh of part.world.hosts.values()) {
          const folded = plain(hostStateAt(part.world.changes, wh.name, Infinity));
          const live = plain(snapshotHost(wh));
          expect([t / 1e6, wh.name, folded.services, folded.dests, folded.addrs]).toEqual([t / 1e6, wh.name, live.services, live.dests, live.addrs]);
          expect(folded, `${wh.name} at ${t / 1e6} ms`).toEqual(live);
        }
        // Without keepalived's records the state would differ: the daemon had done something by then.
        const dir = part.world.hosts.get('director')!;
        if (json(plain(hostStateAt(part.world.changes.filter(c => !c.by), 'director', Infinity))) !== json(plain(snapshotHost(dir)))) differed++;
      }
      expect(differed).toBeGreaterThan(0);
    });
  }

  it('keepalived-rs-down: the checker removes rs2 as ipvsadm -d would and puts it back as ipvsadm -a would, both as keepalived (Keepalived_healthcheckers)', () => {
    const path = 'scenarios/keepalived-rs-down.yaml';
    const run = runScenarioText(readFileSync(path, 'utf8'), path);
    const byKa = run.world.changes.filter(c => c.host === 'director' && c.by === 'keepalived (Keepalived_healthcheckers)');
    const lines = byKa.map(c => `${(c.t / 1e9).toFixed(1)}s ${describeChange(c.change, formatIp4)}`);
    expect(lines.some(l => / IPVS TCP 172\.16\.29\.6:9001: real server 192\.168\.134\.5:9001 deleted$/.test(l))).toBe(true);
    const del = byKa.find(c => c.change.kind === 'dest' && c.change.op === 'del')!;
    const add = byKa.find(c => c.change.kind === 'dest' && c.change.op === 'add' && c.t > del.t)!;
    expect(del.t).toBeGreaterThan(4e9);
    expect(add.t).toBeGreaterThan(14e9);
    // Before the removal, at it, after the return: the folded table has rs2, not, and has it again.
    const has = (seq: number) => hostStateAt(run.world.changes, 'director', seq).dests.get('TCP 172.16.29.6:9001')?.has('192.168.134.5:9001');
    expect([has(del.seq - 1), has(del.seq), has(add.seq)]).toEqual([true, false, true]);
    // The service itself and ip_vs: made by keepalived at its start, not by the command that started it.
    expect(byKa.some(c => c.change.kind === 'service' && c.change.op === 'add')).toBe(true);
    expect(byKa.some(c => c.change.kind === 'module' && c.change.name === 'ip_vs')).toBe(true);
  });

  it('keepalived-failover: VRRP adds the VIP on the master as ip addr add would, as keepalived (Keepalived_vrrp); the crash leaves it', () => {
    const path = 'scenarios/keepalived-failover.yaml';
    const run = runScenarioText(readFileSync(path, 'utf8'), path);
    const vip = ip4('172.16.29.6');
    const vipAdds = run.world.changes.filter(c => c.host.startsWith('director') && c.change.kind === 'addr' && c.change.op === 'add' && c.change.addr.addr === vip && c.change.addr.prefixLen === 32);
    expect(vipAdds.map(c => [c.host, c.change.kind === 'addr' ? c.change.dev : '', c.by])).toEqual([
      ['director', 'eth1', 'keepalived (Keepalived_vrrp)'],
      ['director2', 'eth1', 'keepalived (Keepalived_vrrp)'],
    ]);
    expect(vipAdds[1]!.t).toBeGreaterThan(10e9);
    const onEth1 = (host: string, seq: number) => (hostStateAt(run.world.changes, host, seq).addrs.get('eth1') ?? []).some(a => a.addr === vip);
    expect([onEth1('director2', vipAdds[1]!.seq - 1), onEth1('director2', vipAdds[1]!.seq), onEth1('director', Infinity)]).toEqual([false, true, true]);
  });
});

describe('inhibit_on_failure: weight 0 is recorded as ipvsadm -e ... -w 0 would be', () => {
  it('keepalived-rs-down with inhibit_on_failure on rs2: an edit to weight 0 and back to 1, by the checker, never a delete', () => {
    const path = 'scenarios/keepalived-rs-down.yaml';
    const text = readFileSync(path, 'utf8').replace(/(real_server 192\.168\.134\.5 9001 \{\n)(\s*)/, '$1$2inhibit_on_failure\n$2');
    expect(text).toContain('inhibit_on_failure');
    const run = runScenarioText(text, path);
    const rs2 = run.world.changes.filter(c => c.host === 'director' && c.change.kind === 'dest' && (c.change.op === 'del' ? c.change.key : c.change.dest.key) === '192.168.134.5:9001');
    expect(rs2.map(c => c.change.kind === 'dest' ? [c.change.op, c.change.op !== 'del' ? c.change.dest.weight : null, c.by] : [])).toEqual([
      ['add', 1, 'keepalived (Keepalived_healthcheckers)'],
      ['edit', 0, 'keepalived (Keepalived_healthcheckers)'],
      ['edit', 1, 'keepalived (Keepalived_healthcheckers)'],
    ]);
    const weight = (seq: number) => hostStateAt(run.world.changes, 'director', seq).dests.get('TCP 172.16.29.6:9001')!.get('192.168.134.5:9001')!.weight;
    expect([weight(rs2[1]!.seq - 1), weight(rs2[1]!.seq), weight(rs2[2]!.seq)]).toEqual([1, 0, 1]);
    expect(describeChange(rs2[1]!.change, formatIp4)).toBe('IPVS TCP 172.16.29.6:9001: real server 192.168.134.5:9001 edited (tunnel, weight 0)');
  });
});
