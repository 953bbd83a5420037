/**
 * The keepalived vectors recorded with keepalived 2.2.7 on a real kernel (test/fixtures/oracle/v2,
 * ids ka-*), driven step by step at their at_ms: `start` runs the recorded command line on the host
 * (keepalived -f ..., or a listener), `connect` and `wait` as in the other vectors. keepalived's
 * random checker warmup makes check times vary by up to delay_loop from run to run: the vector
 * marks that as racy, so snapshots inside those windows are not compared, and log lines are
 * compared per real server, in order and word for word.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { buildWorld } from '../../src/world/world';
import { vectorScenario, type Vector } from '../../src/world/replay';
import { startService } from '../../src/world/services';
import { type ClientResult, releaseClient, startClient } from '../../src/world/apps';
import { parseEndpoint } from '../../src/config/scenario';
import type { HostSpec } from '../../src/config/scenario';
import { procs } from '../../src/kernel/proc';
import { TraceLog } from '../../src/trace/sink';
import { destKey } from '../../src/ipvs/types';
import { formatIp4, ip4 } from '../../src/net/addr';

interface KaStep {
  n: number; at_ms: number; do: string; host?: string; cmd?: string; src?: string; id?: string; mode?: 'hold' | 'close';
  listen?: { proto: string; port: number; name: string };
  process?: string; signal?: string; ids?: string[];
  expect?: { ok?: boolean; rs?: string; error?: string; vip_on?: string[]; router_neigh_vip?: string | null };
  after?: Record<string, [number, number, number]>;
  table?: string[][];
}
interface KaVector {
  id: string; segments: string[][]; steps: KaStep[];
  hosts: Record<string, { setup: string[]; files?: Record<string, string>; listen?: Array<{ proto: string; port: number; name: string }> }>;
  final: { 'ipvsadm-Ln': string };
  final_director2?: { 'ipvsadm-Ln': string };
  observe: {
    log: Record<string, Array<{ at_ms: number; msg: string }>>;
    vrrp?: Array<{ from: string; src: string; vrid: number; prio: number; count: number; first_ms: number; last_ms: number }>;
    garp?: Array<{ at_ms: number; from: string; ip: string }>;
  };
}

function drive(v: KaVector, seed = 1) {
  const sc = vectorScenario(v as unknown as Vector, v.id);
  const hosts = new Map<string, HostSpec>();
  for (const [name, h] of sc.hosts) {
    const files = new Map(Object.entries(v.hosts[name].files ?? {}).map(([p, text]) => [p, { text, line: 1 }]));
    hosts.set(name, { ...h, files });
  }
  const { world, diagnostics } = buildWorld({ ...sc, hosts }, seed, new TraceLog());
  expect(diagnostics.filter(d => d.severity === 'error')).toEqual([]);
  const engine = world.engine;
  const clients = new Map<string, ClientResult>();
  const snapshots = new Map<number, { after: Record<string, [number, number, number]>; table: string[][]; vipOn: string[]; routerNeigh: string | null; released?: ClientResult }>();
  const VIP = ip4('172.16.29.6');
  /** Which host:interface owns a MAC (for the router's neighbour entry). */
  const macOwner = (mac: string | null): string | null => {
    if (!mac) return null;
    for (const [hn, wh] of world.hosts) for (const d of wh.host.devices.values()) if (d.mac === mac) return `${hn}:${d.name}`;
    return mac;
  };
  for (const st of v.steps) {
    engine.run(st.at_ms * 1e6);
    if (st.do === 'start' && st.cmd) expect(world.exec(st.host!, st.cmd).exit).toBe(0);
    else if (st.do === 'start' && st.listen) startService(world.hosts.get(st.host!)!.host, { proto: 'tcp', port: st.listen.port, name: st.listen.name, addr: 0 });
    else if (st.do === 'connect') {
      const ep = parseEndpoint(st.src!)!;
      let done = false;
      const r = startClient(world.hosts.get('client')!.host, st.id!, ep.addr, ep.port, ip4('172.16.29.6'), 9001, st.mode ?? 'close', 0, () => { done = true; }, 3e9);
      while (!done && engine.step()) { /* until the client is done */ }
      clients.set(st.id!, r);
    } else if (st.do === 'kill') {
      expect(world.exec(st.host!, `pkill -${st.signal} ${st.process}`).exit).toBe(0);
    } else if (st.do === 'release') {
      for (const id of st.ids ?? []) {
        const r = clients.get(id)!;
        let done = false;
        releaseClient(r, () => { done = true; });
        while (!done && engine.step()) { /* until closed or reset */ }
      }
    }
    const ipvs = world.hosts.get('director')!.ipvs;
    const after: Record<string, [number, number, number]> = {};
    for (const s of ipvs.services) for (const d of s.dests) after[destKey(d)] = [d.weight, d.activeconns, d.inactconns];
    const table = ipvs.connections().filter(c => !c.template).map(c => [c.protocol, c.state, `${formatIp4(c.caddr)}:${c.cport}`, `${formatIp4(c.vaddr)}:${c.vport}`, `${formatIp4(c.daddr)}:${c.dport}`]);
    const vipOn: string[] = [];
    for (const [hn, wh] of world.hosts) for (const d of wh.host.devices.values()) if (d.kind === 'ether' && d.addrs.some(a => a.addr === VIP && a.prefixLen === 32)) vipOn.push(`${hn}:${d.name}`);
    const router = world.hosts.get('router')?.host;
    const n = router ? [...router.neigh.values()].find(e => e.ip === VIP && e.mac) : undefined;
    snapshots.set(st.n, { after, table, vipOn: vipOn.sort(), routerNeigh: macOwner(n?.mac ?? null), released: st.do === 'release' ? clients.get(st.ids![0]) : undefined });
  }
  return { world, clients, snapshots };
}

const load = (id: string): KaVector => JSON.parse(readFileSync(`test/fixtures/oracle/v2/${id}.json`, 'utf8'));
const sortRows = (t: string[][]) => t.map(r => r.join(' ')).sort();

describe('ka-tcpcheck-rs-down: TCP_CHECK takes a server with no service out and puts it back', () => {
  const v = load('ka-tcpcheck-rs-down');
  // The windows the vector calls racy: RS2's first check (1 s + warmup up to 3 s after start)
  // and its first check after its server started (up to delay_loop later).
  const RACY = new Set([3, 4, 10]);

  test.each([1, 2, 3])('seed %i: snapshots, clients, final table and log lines match', (seed) => {
    const { world, clients, snapshots } = drive(v, seed);
    for (const st of v.steps) {
      if (st.expect?.rs) expect([st.n, clients.get(st.id!)?.ok, formatIp4(ip4(st.expect.rs))]).toEqual([st.n, true, st.expect.rs]);
      if (RACY.has(st.n)) continue;
      if (st.after) expect([st.n, snapshots.get(st.n)!.after]).toEqual([st.n, st.after]);
      if (st.table) expect([st.n, sortRows(snapshots.get(st.n)!.table)]).toEqual([st.n, sortRows(st.table)]);
    }
    const rsOf = (r: ClientResult) => (r.server === 'RS1' ? '172.16.197.3' : r.server === 'RS2' ? '192.168.134.5' : null);
    expect(v.steps.filter(s => s.do === 'connect').map(s => rsOf(clients.get(s.id!)!))).toEqual(v.steps.filter(s => s.do === 'connect').map(s => s.expect!.rs));
    expect(world.exec('director', 'ipvsadm -Ln').stdout.replace(/\n$/, '')).toBe(v.final['ipvsadm-Ln']);

    // Log lines: what the recording kept (checks, pool and quorum changes), per real server in order.
    const kept = (m: string) => !m.startsWith('Activating healthchecker') && m !== 'Initializing ipvs';
    const ours = procs(world.hosts.get('director')!.host).journal.filter(e => e.ident === 'Keepalived_healthcheckers' && kept(e.msg));
    const want = v.observe.log.director;
    for (const rip of ['172.16.197.3', '192.168.134.5']) {
      expect(ours.filter(e => e.msg.includes(`[${rip}]`)).map(e => e.msg)).toEqual(want.filter(e => e.msg.includes(`[${rip}]`)).map(e => e.msg));
    }
    expect(ours.map(e => e.msg).sort()).toEqual(want.map(e => e.msg).sort());
    // Timing: quorum as keepalived comes up (within a second); RS2 back within delay_loop + a check after its server started.
    const at = (list: Array<{ t: number; msg: string }>, p: string) => list.find(e => e.msg.startsWith(p))!.t;
    const wantT = want.map(e => ({ t: e.at_ms, msg: e.msg }));
    const ourT = ours.map(e => ({ t: e.t / 1e6, msg: e.msg }));
    expect(Math.abs(at(ourT, 'Gained quorum') - at(wantT, 'Gained quorum'))).toBeLessThan(1000);
    const started = v.steps.find(s => s.do === 'start' && s.listen)!.at_ms;
    expect(at(ourT, 'Adding service')).toBeGreaterThan(started);
    expect(at(ourT, 'Adding service') - started).toBeLessThan(3100);
  });
});

describe('ka-vrrp-failover: two directors, VRRP, the master crashes', () => {
  const v = load('ka-vrrp-failover');

  test.each([1, 2])('seed %i: VIP and router follow VRRP, the held connection is reset, new ones go through the backup', (seed) => {
    const { world, clients, snapshots } = drive(v, seed);
    for (const st of v.steps) {
      const got = snapshots.get(st.n)!;
      if (st.do === 'check') expect([st.n, got.vipOn, got.routerNeigh]).toEqual([st.n, [...st.expect!.vip_on!].sort(), st.expect!.router_neigh_vip]);
      if (st.do === 'connect') expect([st.n, clients.get(st.id!)!.ok, clients.get(st.id!)!.server]).toEqual([st.n, true, st.expect!.rs === '172.16.197.3' ? 'RS1' : 'RS2']);
      if (st.do === 'release' && st.expect) expect([st.n, got.released!.error]).toEqual([st.n, st.expect.error]);
      if (st.after) expect([st.n, got.after]).toEqual([st.n, st.after]);
      if (st.table) expect([st.n, sortRows(got.table)]).toEqual([st.n, sortRows(st.table)]);
    }
    expect(world.exec('director', 'ipvsadm -Ln').stdout.replace(/\n$/, '')).toBe(v.final['ipvsadm-Ln']);
    expect(world.exec('director2', 'ipvsadm -Ln').stdout.replace(/\n$/, '')).toBe(v.final_director2!['ipvsadm-Ln']);

    // keepalived's VRRP log lines, in order and word for word, times within a second.
    for (const h of ['director', 'director2']) {
      const want = v.observe.log[h].filter(e => e.msg.startsWith('(VI_1)') || e.msg.startsWith('Sending gratuitous'));
      const ours = procs(world.hosts.get(h)!.host).journal.filter(e => e.ident === 'Keepalived_vrrp');
      expect(ours.map(e => e.msg)).toEqual(want.map(e => e.msg));
      ours.forEach((e, i) => expect([h, e.msg, Math.abs(e.t / 1e6 - want[i].at_ms) < 1000]).toEqual([h, e.msg, true]));
    }

    // Adverts and gratuitous ARPs seen on the router's VIP-side port.
    const routerDev = 'br29';
    const rx = world.records.filter(x => x.host === 'router' && x.point === routerDev && x.verdict === 'rx');
    const adverts = rx.filter(x => x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 112);
    for (const w of v.observe.vrrp!) {
      const mine = adverts.filter(x => x.packet.pkt.proto === 'ipv4' && formatIp4(x.packet.pkt.src) === w.src);
      expect([w.src, mine.length]).toEqual([w.src, w.count]);
      expect(Math.abs(mine[0].t / 1e6 - w.first_ms)).toBeLessThan(1000);
    }
    const garps = rx.filter(x => x.packet.pkt.proto === 'arp' && x.packet.pkt.spa === x.packet.pkt.tpa);
    expect(garps.length).toBe(v.observe.garp!.length);
  });
});
