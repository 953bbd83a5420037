/**
 * The keepalived vectors recorded with keepalived 2.2.7 on a real kernel (test/fixtures/oracle/v2,
 * ids ka-*), through the one replay engine (`lvsim replay`): `start` runs the recorded command
 * line on the host (keepalived -f ..., or a listener), `kill` is pkill, `check` reads who holds
 * the VIP and the router's entry, every step at its at_ms. keepalived's random checker warmup is
 * taken from the recorded run's log (when each checker first reported), so the snapshots the
 * vector calls racy come out as recorded; log lines match word for word, in order per checker and
 * for VRRP, within a second (a checker's within its warmup window).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { checkVector, replayJson, replayVector, type Vector } from '../../src/world/replay';
import { procs } from '../../src/kernel/proc';

const load = (id: string): Vector => {
  const c = checkVector(JSON.parse(readFileSync(`test/fixtures/oracle/v2/${id}.json`, 'utf8')));
  if (!c.ok) throw new Error(c.problems.map(p => `${p.path}: ${p.message}`).join('; '));
  return c.vector;
};
const clone = (v: Vector): Vector => JSON.parse(JSON.stringify(v));

describe('ka-tcpcheck-rs-down: TCP_CHECK takes a server with no service out and puts it back', () => {
  const v = load('ka-tcpcheck-rs-down');

  test.each([1, 2, 3])('seed %i: every step, the final table and the log as recorded', (seed) => {
    const r = replayVector(v, v.id, seed);
    expect(r.notModelled).toEqual([]);
    expect(r.diffs).toEqual([]);
    // RS2 out while its server is down, back after it started: the snapshots say so.
    const rs2 = (n: number) => r.steps.find(s => s.n === n)!.after['192.168.134.5:9001'];
    expect([rs2(3), rs2(4), rs2(6), rs2(10)]).toEqual([[1, 0, 0], undefined, undefined, [1, 0, 0]]);
    expect(r.steps.filter(s => s.rs !== null).map(s => s.rs)).toEqual(['172.16.197.3', '172.16.197.3', '192.168.134.5', '172.16.197.3']);
    // The log lines the vector keeps are keepalived's words, in the recorded order here.
    expect(r.observe!.log!.director!.map(l => l.msg)).toEqual(v.format === 'lvsim-oracle-vector/2' ? v.observe!.log!.director!.map(l => l.msg) : []);
    // The process's own lines (starting, activating checkers) are in the journal but not compared.
    const journal = procs(r.world.hosts.get('director')!.host).journal.map(e => e.msg);
    expect(journal.some(m => m.startsWith('Activating healthchecker'))).toBe(true);
    expect(r.observe!.log!.director!.some(l => l.msg.startsWith('Activating'))).toBe(false);
  });

  test('a log line other than keepalived writes is reported as a line diff', () => {
    const w = clone(v);
    if (w.format !== 'lvsim-oracle-vector/2') throw new Error('v2');
    // What inhibit_on_failure would have logged, for a server configured without it.
    const line = w.observe!.log!.director!.find(l => l.msg.startsWith('Removing service'))!;
    line.msg = 'Disabling service [192.168.134.5]:tcp:9001 of VS [172.16.29.6]:tcp:9001';
    const r = replayVector(w, w.id);
    expect(r.diffs.join('\n')).toContain('observe.log director (check [192.168.134.5]:tcp:9001) differ (- kernel only, + lvsim only):');
    expect(r.diffs.join('\n')).toContain('  - Disabling service [192.168.134.5]:tcp:9001 of VS [172.16.29.6]:tcp:9001');
    expect(r.diffs.join('\n')).toContain('  + Removing service [192.168.134.5]:tcp:9001 from VS [172.16.29.6]:tcp:9001');
  });
});

describe('ka-vrrp-failover: two directors, VRRP, the master crashes', () => {
  const v = load('ka-vrrp-failover');

  test.each([1, 2])('seed %i: VIP and router follow VRRP, the held connection is reset, new ones go through the backup', (seed) => {
    const r = replayVector(v, v.id, seed);
    expect(r.notModelled).toEqual([]);
    expect(r.diffs).toEqual([]);
    const at = (n: number) => r.steps.find(s => s.n === n)!;
    expect([at(4).vip_on, at(4).router_neigh_vip]).toEqual([['director:eth1'], null]);
    expect([at(12).vip_on, at(12).router_neigh_vip]).toEqual([['director2:eth1', 'director:eth1'], 'director2:eth1']);
    expect([at(13).ok, at(13).error]).toEqual([false, 'ECONNRESET']);
    expect(at(16).director2!.table.map(t => t[2]).sort()).toEqual(['203.0.113.11:41002', '203.0.113.12:41003']);
    expect(r.final_director2!['ipvsadm-Ln']).toBe(v.format === 'lvsim-oracle-vector/2' ? v.final_director2!['ipvsadm-Ln'] : '');
    // Adverts: dir until the kill, then dir2; ten gratuitous ARPs each (five, and five more 5 s later).
    expect(r.observe!.vrrp!.map(a => [a.from, a.src, a.vrid, a.prio])).toEqual([['director:eth1', '172.16.29.5', 51, 150], ['director2:eth1', '172.16.29.4', 51, 100]]);
    expect(r.observe!.vrrp![0]!.last_ms).toBeLessThan(11190 + 50);
    expect(r.observe!.garp!.filter(g => g.from === 'director2:eth1').length).toBe(10);
  });

  test('--json carries the keepalived fields: vip_on, router_neigh_vip, director2, final_director2, log, vrrp, garp', () => {
    const o = replayJson(replayVector(v, v.id)) as Record<string, any>;
    expect(Object.keys(o)).toEqual(['id', 'steps', 'final', 'final_director2', 'observe']);
    expect(o.steps[3]).toEqual(expect.objectContaining({ n: 4, vip_on: ['director:eth1'], router_neigh_vip: null }));
    expect(o.steps[2].director2).toEqual({ after: { '172.16.197.3:9001': [1, 0, 0], '192.168.134.5:9001': [1, 0, 0] }, table: [] });
    expect(o.steps[12]).toEqual(expect.objectContaining({ n: 13, ok: false, error: 'ECONNRESET' }));
    expect(Object.keys(o.observe)).toEqual(['nstat', 'icmp', 'martian_source_logged', 'route_mtu', 'log', 'vrrp', 'garp']);
    expect(o.observe.vrrp[0]).toEqual(expect.objectContaining({ from: 'director:eth1', vrid: 51, prio: 150, count: 8 }));
  });

  test('a check that disagrees, a failover at another time and a missing advert sender are reported', () => {
    const w = clone(v);
    if (w.format !== 'lvsim-oracle-vector/2') throw new Error('v2');
    const check = w.steps.find(s => s.n === 10)!;
    if (check.do !== 'check') throw new Error('check');
    check.expect = { vip_on: ['director2:eth1', 'director:eth1'], router_neigh_vip: 'director2:eth1' };
    for (const l of w.observe!.log!.director2!) if (l.at_ms > 14000) l.at_ms -= 2500;
    w.observe!.vrrp!.push({ from: 'router:br29', src: '172.16.29.1', vrid: 51, prio: 200, count: 3, first_ms: 5000, last_ms: 7000 });
    const r = replayVector(w, w.id);
    expect(r.diffs).toContain("step 10: expected the VIP on [director2:eth1, director:eth1], it is on [director:eth1]");
    expect(r.diffs).toContain("step 10: expected the router's neighbour entry for the VIP to hold director2:eth1's MAC, it holds director:eth1");
    expect(r.diffs.some(d => /^observe\.log director2 \(vrrp\): \d+ more than 1000 ms from the kernel's time, first "\(VI_1\) Receive advertisement timeout" at 12138 ms, lvsim 146\d\d ms$/.test(d))).toBe(true);
    expect(r.diffs).toContain('observe.vrrp: the kernel saw 3 adverts from router:br29 (172.16.29.1) vrid 51 prio 200, lvsim none');
  });
});

describe('what the replay does not model is refused, naming the field', () => {
  const v = load('ka-vrrp-failover');

  test('an unknown field, another daemon, a signal lvsim does not deliver, a UDP listener', () => {
    const w = clone(v) as any;
    w.steps[0].namespace = 'ns1';
    w.steps[1].daemon = 'conntrackd';
    w.steps.find((s: any) => s.do === 'kill').signal = 'STOP';
    w.observe.vrrp[0].auth = 'pass';
    w.hosts.rs1.listen.push({ proto: 'udp', port: 53, name: 'DNS' });
    const c = checkVector(w);
    if (!c.ok) throw new Error('still well formed');
    const r = replayVector(c.vector, w.id);
    expect(r.steps).toEqual([]);
    expect(r.diffs).toEqual([]);
    expect(r.notModelled).toEqual([
      'observe.vrrp[0].auth: a field lvsim does not know, so cannot answer',
      'steps[0].namespace: a field lvsim does not know, so cannot answer',
      'hosts.rs1.listen[1].proto: "udp" servers are not modelled (tcp is)',
      'steps[1].daemon: "conntrackd" is not modelled (keepalived is)',
      'steps[7].signal: "STOP" is not modelled (lvsim delivers HUP, INT, QUIT, KILL, USR1, USR2, TERM)',
    ]);
  });

  test('a malformed keepalived step is a vector error with its path', () => {
    const w = clone(v) as any;
    delete w.steps[7].process;
    w.steps[0].listen = { proto: 'tcp', port: 1, name: 'X' };
    const c = checkVector(w);
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.problems.map(p => p.path)).toEqual(expect.arrayContaining(['steps[7].process', 'steps[0].daemon']));
  });
});
