/**
 * Faults during a run (world/faults.ts): a host crashes and boots again as a fresh kernel, a
 * running host reboots, a service stops and starts, a link loses and regains carrier. A boot
 * loses the kernel's runtime state (IPVS table and connections, neighbours, addresses and routes
 * added by hand, sysctls written at run time) and keeps the host's files and NICs; the setup lines
 * run again and the services start. keepalived re-joins VRRP and, preempting, takes the VIP back.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText, type Run } from '../../src/world/world';
import { TraceLog } from '../../src/trace/sink';
import type { DaemonEvent } from '../../src/trace/record';
import { badConservation } from '../fuzz/properties';

const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');
const KA = readFileSync('scenarios/keepalived-rs-down.yaml', 'utf8');
const FAILOVER = readFileSync('scenarios/keepalived-failover.yaml', 'utf8');

/** A scenario's text with its traffic: replaced. */
function withTraffic(text: string, steps: string[], until = '30s'): string {
  const head = text.slice(0, text.indexOf('\ntraffic:') + 1).replace(/^until: .*$/m, '');
  return `${head}until: ${until}\ntraffic:\n${steps.map(s => `  - ${s}`).join('\n')}\n`;
}
const out = (run: Run, host: string, command: string, at: number) =>
  run.execs.find(e => e.host === host && e.command === command && e.at === at * 1e9)!.result.stdout;
const events = (run: Run) => (run.world.trace as TraceLog).events.map(e => ({ t: e.t / 1e9, host: e.host, ...e.event }));
const vrrp = (run: Run) => events(run).filter((e): e is { t: number; host: string } & Extract<DaemonEvent, { kind: 'vrrp' }> => e.kind === 'vrrp').map(e => `${e.t.toFixed(6)} ${e.host} ${e.from}->${e.to}`);

describe('a crashed host boots again as a fresh kernel', () => {
  const run = runScenarioText(withTraffic(REF, [
    '{ id: c1, connect: 172.16.29.6:9001, from: client, mode: hold, at: 1s }',
    '{ exec: ip addr add 10.1.1.1/32 dev eth0, host: director, at: 2s }',
    '{ exec: ip route add 10.3.0.0/16 via 172.16.69.1, host: director, at: 2s }',
    '{ exec: ipvsadm -a -t 172.16.29.6:9001 -r 10.2.2.2:9001 -i, host: director, at: 2s }',
    '{ exec: sysctl -w net.ipv4.conf.all.arp_ignore=1, host: director, at: 2s }',
    '{ exec: ipvsadm -Lnc, host: director, at: 2.5s }',
    '{ exec: ip link show eth0, host: director, at: 2.5s }',
    '{ fault: crash, host: director, at: 3s }',
    '{ fault: boot, host: director, at: 4s }',
    '{ exec: ip -br addr show, host: director, at: 4s }',
    '{ exec: ip route show, host: director, at: 4s }',
    '{ exec: ipvsadm -Ln, host: director, at: 4s }',
    '{ exec: ipvsadm -Lnc, host: director, at: 4s }',
    '{ exec: ip neigh show, host: director, at: 4s }',
    '{ exec: sysctl net.ipv4.conf.all.arp_ignore net.ipv4.ip_forward, host: director, at: 4s }',
    '{ exec: ip link show eth0, host: director, at: 4s }',
    '{ id: c2, connect: 172.16.29.6:9001, from: client, at: 5s }',
  ]), 'boot.yaml');

  it('applies the faults without a diagnostic', () => {
    expect(run.diagnostics).toEqual([]);
    expect(events(run).filter(e => e.kind === 'host').map(e => `${e.t} ${e.host} ${(e as { op: string }).op}`)).toEqual(['3 director crash', '4 director boot']);
  });

  it('loses what was added at run time: the address, the route, the real server, the sysctl, the connections, the neighbours', () => {
    expect(out(run, 'director', 'ipvsadm -Lnc', 2.5)).toMatch(/ESTABLISHED +203\.0\.113\.10:\d+ +172\.16\.29\.6:9001/);
    expect(out(run, 'director', 'ip -br addr show', 4)).not.toContain('10.1.1.1');
    expect(out(run, 'director', 'ip route show', 4)).not.toContain('10.3.0.0/16');
    expect(out(run, 'director', 'ipvsadm -Ln', 4)).not.toContain('10.2.2.2');
    expect(out(run, 'director', 'ipvsadm -Lnc', 4)).not.toMatch(/ESTABLISHED/);
    expect(out(run, 'director', 'ip neigh show', 4)).toBe('');
    expect(out(run, 'director', 'sysctl net.ipv4.conf.all.arp_ignore net.ipv4.ip_forward', 4)).toBe('net.ipv4.conf.all.arp_ignore = 0\nnet.ipv4.ip_forward = 1\n');
  });

  it('keeps its files and NICs: the ifcfg addresses, the setup lines\' table and the same MAC', () => {
    const addrs = out(run, 'director', 'ip -br addr show', 4);
    expect(addrs).toMatch(/eth0 +UP +172\.16\.69\.15\/24/);
    expect(addrs).toMatch(/eth1 +UP +172\.16\.29\.6\/24/);
    expect(out(run, 'director', 'ip route show', 4)).toContain('default via 172.16.69.1 dev eth0');
    const ln = out(run, 'director', 'ipvsadm -Ln', 4);
    expect(ln).toContain('TCP  172.16.29.6:9001 rr');
    expect(ln).toMatch(/-> 172\.16\.197\.3:9001 +Tunnel +1/);
    expect(ln).toMatch(/-> 192\.168\.134\.5:9001 +Tunnel +1/);
    const mac = (s: string) => /link\/ether (\S+)/.exec(s)![1];
    expect(mac(out(run, 'director', 'ip link show eth0', 4))).toBe(mac(out(run, 'director', 'ip link show eth0', 2.5)));
  });

  it('serves new connections after the boot, and records nothing from the old kernel', () => {
    const c2 = run.clients.find(c => c.id === 'c2')!;
    expect(c2.ok).toBe(true);
    expect(run.world.records.some(r => r.host === 'director' && r.reason?.code === 'host_crashed')).toBe(false);
  });
});

describe('a crashed host\'s NIC has carrier but nothing answers', () => {
  const run = runScenarioText(withTraffic(REF, [
    '{ fault: crash, host: rs2, at: 500ms }',
    '{ id: c1, connect: 172.16.29.6:9001, from: client, timeout: 3s, at: 1s }',
    '{ id: c2, connect: 172.16.29.6:9001, from: client, timeout: 3s, at: 1.1s }',
    '{ fault: boot, host: rs2, at: 10s }',
    '{ id: c3, connect: 172.16.29.6:9001, from: client, at: 11s }',
    '{ id: c4, connect: 172.16.29.6:9001, from: client, at: 11.1s }',
  ]), 'crash.yaml');

  it('takes frames off the wire and drops them as host_crashed; the router\'s ARP for it goes unanswered', () => {
    const crashed = run.world.records.filter(r => r.reason?.code === 'host_crashed');
    expect(crashed.length).toBeGreaterThan(0);
    expect(crashed.every(r => r.host === 'rs2' && r.dev === 'eth0')).toBe(true);
    expect(crashed.some(r => r.packet.pkt.proto === 'arp')).toBe(true);
    expect(run.world.records.some(r => r.host === 'router' && r.reason?.code === 'arp_unresolved')).toBe(true);
    expect(run.world.records.some(r => r.reason?.code === 'link_down')).toBe(false);
    expect(run.clients.filter(c => c.ok).length).toBe(3);
    expect(run.clients.find(c => !c.ok)!.error).toBe('ETIMEDOUT');
  });

  it('runs its listener again after the boot: both real servers answer', () => {
    expect(['c3', 'c4'].map(id => run.clients.find(c => c.id === id)!.server).sort()).toEqual(['RS1', 'RS2']);
  });
});

describe('keepalived after a boot', () => {
  it('re-joins VRRP as BACKUP and takes the VIP back by preemption; the router follows', () => {
    const run = runScenarioText(readFileSync('scenarios/keepalived-crash-boot.yaml', 'utf8'), 'scenarios/keepalived-crash-boot.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(vrrp(run)).toEqual([
      '0.250000 director INIT->BACKUP', '0.250000 director2 INIT->BACKUP',
      '3.664062 director BACKUP->MASTER',
      '11.273537 director2 BACKUP->MASTER',
      // Booted at 16 s: keepalived starts (0.25 s), then 3 x advert_int + (256 - 150) / 256 s without
      // an advert of at least its priority: the lower ones from director2 are discarded.
      '16.250000 director INIT->BACKUP',
      '19.664062 director BACKUP->MASTER',
      '19.664162 director2 MASTER->BACKUP',
    ]);
    const mac = (h: string) => run.world.hosts.get(h)!.host.devices.get('eth1')!.mac;
    expect(out(run, 'router', 'ip neigh show 172.16.29.6', 13)).toContain(`lladdr ${mac('director2')} `);
    expect(out(run, 'router', 'ip neigh show 172.16.29.6', 21)).toContain(`lladdr ${mac('director')} `);
    expect(out(run, 'director', 'ip -br addr show dev eth1', 17)).not.toContain('172.16.29.6');
    expect(out(run, 'director', 'ip -br addr show dev eth1', 21)).toContain('172.16.29.6/32');
    expect(out(run, 'director', 'ipvsadm -Ln', 21)).toMatch(/-> 172\.16\.197\.3:9001 +Tunnel +1/);
    expect(run.clients.map(c => [c.id, c.ok])).toEqual([['c1', true], ['c2', true], ['c3', true]]);
  });

  it('a reboot stops keepalived first: its priority-0 advert hands over after the skew time, not 3 x advert_int', () => {
    const run = runScenarioText(withTraffic(FAILOVER, ['{ fault: reboot, host: director, at: 8s }'], '14s'), 'reboot.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(events(run).filter(e => e.kind === 'host').map(e => `${e.t} ${e.host} ${(e as { op: string }).op}`)).toEqual(['8 director reboot']);
    const v = vrrp(run);
    expect(v).toContain('8.000000 director MASTER->STOP');
    // (256 - 100) / 256 x 1 s after the priority-0 advert reached it (100 us on the LAN).
    expect(v).toContain('8.609475 director2 BACKUP->MASTER');
    expect(v).toContain('8.250000 director INIT->BACKUP');
    expect(v).toContain('11.664062 director BACKUP->MASTER');
  });
});

describe('services and links', () => {
  it('a service stopped and started by a fault: the check fails, the pool loses it, then gets it back', () => {
    const run = runScenarioText(withTraffic(KA, [
      '{ fault: service-stop, host: rs2, service: rs2d, at: 4s }',
      '{ fault: service-start, host: rs2, service: rs2d, at: 14s }',
    ], '22s'), 'svc.yaml');
    expect(run.diagnostics).toEqual([]);
    const ev = events(run).filter(e => e.kind !== 'vrrp' && !(e.kind === 'check' && e.ok && e.t < 4));
    expect(ev.map(e => `${e.host} ${e.kind} ${JSON.stringify({ ...e, t: undefined, host: undefined, kind: undefined })}`)).toEqual([
      'rs2 fault {"fault":"service-stop","target":"rs2:rs2d"}',
      'director check {"ok":false,"checker":"TCP_CHECK","rs":"[192.168.134.5]:tcp:9001","vs":"[172.16.29.6]:tcp:9001"}',
      'director pool {"op":"remove","rs":"[192.168.134.5]:tcp:9001","vs":"[172.16.29.6]:tcp:9001"}',
      'rs2 fault {"fault":"service-start","target":"rs2:rs2d"}',
      'director check {"ok":true,"checker":"TCP_CHECK","rs":"[192.168.134.5]:tcp:9001","vs":"[172.16.29.6]:tcp:9001"}',
      'director pool {"op":"add","rs":"[192.168.134.5]:tcp:9001","vs":"[172.16.29.6]:tcp:9001"}',
    ]);
  });

  it('a link down takes carrier from every end: the check through it fails; back up, it passes again', () => {
    const run = runScenarioText(withTraffic(KA, [
      '{ fault: link-down, link: rs1-lan, at: 4s }',
      '{ exec: ip link show eth0, host: rs1, at: 5s }',
      '{ fault: link-up, host: rs1, dev: eth0, at: 12s }',
      '{ fault: link-up, host: router, dev: eth3, at: 12s }',
    ], '22s'), 'link.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(out(run, 'rs1', 'ip link show eth0', 5)).toMatch(/NO-CARRIER/);
    const rs1 = events(run).filter(e => (e.kind === 'check' || e.kind === 'pool') && e.rs.startsWith('[172.16.197.3]') && e.t >= 4);
    expect(rs1.map(e => e.kind === 'check' ? `check ${e.ok}` : `pool ${(e as { op: string }).op}`)).toEqual(['check false', 'pool remove', 'check true', 'pool add']);
    expect(run.world.records.some(r => r.host === 'router' && r.dev === 'eth3' && r.reason?.code === 'link_down')).toBe(true);
  });

  it('refuses a fault that cannot apply, at the step, and runs the rest', () => {
    const text = withTraffic(REF, ['{ fault: boot, host: rs1, at: 1s }', '{ fault: crash, host: rs1, at: 2s }', '{ fault: crash, host: rs1, at: 3s }', '{ fault: reboot, host: rs1, at: 4s }', '{ id: c1, connect: 172.16.29.6:9001, from: client, at: 5s }']);
    const run = runScenarioText(text, 'refuse.yaml');
    const base = text.split('\n').indexOf('traffic:') + 2;
    expect(run.diagnostics.map(d => [d.line, d.col, d.found, d.expected])).toEqual([
      [base, 5, 'rs1 is running', 'a crashed host (a running one reboots: { fault: reboot, host: rs1 })'],
      [base + 2, 5, 'rs1 already crashed', 'a running host (boot it first: { fault: boot, host: rs1 })'],
      [base + 3, 5, 'rs1 has crashed', 'a running host (a crashed one boots: { fault: boot, host: rs1 })'],
    ]);
    expect(run.clients).toHaveLength(1);
  });
});

describe('carrier loss and the neighbour table (neigh_carrier_down)', () => {
  const steps = (evict: boolean) => [
    '{ id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001, at: 1s }',
    '{ id: c2, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40002, at: 1.5s }',
    '{ exec: ip neigh replace 172.16.197.99 lladdr 02:00:00:00:00:99 nud permanent dev eth3, host: router, at: 2s }',
    ...(evict ? [] : ['{ exec: sysctl -w net.ipv4.conf.eth3.arp_evict_nocarrier=0, host: router, at: 2s }']),
    '{ exec: ip neigh show dev eth3, host: router, at: 3s }',
    '{ fault: link-down, link: rs1-lan, at: 4s }',
    '{ exec: ip neigh show dev eth3, host: router, at: 5s }',
    '{ exec: ip neigh show dev eth1, host: router, at: 5s }',
  ];

  it('losing carrier flushes the device\'s neighbours but the PERMANENT ones; other devices keep theirs', () => {
    const run = runScenarioText(withTraffic(REF, steps(true)), 'carrier.yaml');
    expect(run.diagnostics).toEqual([]);
    const before = out(run, 'router', 'ip neigh show dev eth3', 3);
    const after = out(run, 'router', 'ip neigh show dev eth3', 5);
    expect(before).toMatch(/^172\.16\.197\.3 lladdr/m);
    expect(after).not.toMatch(/172\.16\.197\.3/);
    expect(after).toMatch(/^172\.16\.197\.99 lladdr 02:00:00:00:00:99 PERMANENT/m);
    expect(out(run, 'router', 'ip neigh show dev eth1', 5)).toMatch(/^172\.16\.69\.15 lladdr/m);
  });

  it('with arp_evict_nocarrier=0 on the device the entries stay', () => {
    const run = runScenarioText(withTraffic(REF, steps(false)), 'carrier.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(out(run, 'router', 'ip neigh show dev eth3', 5)).toMatch(/^172\.16\.197\.3 lladdr/m);
  });
});

describe('a device set down, deleted or left without an address (arp_ifdown)', () => {
  // 172.16.29.99 answers no ARP on the VIP LAN: the router queues the client's SYN on eth2 for
  // it and retries its solicitation (3 x 1 s) while the device changes under it at 1.5 s.
  const waiting = (change: string) => runScenarioText(withTraffic(REF, [
    '{ exec: ip neigh replace 172.16.29.98 lladdr 02:00:00:00:00:98 nud permanent dev eth2, host: router, at: 500ms }',
    '{ id: c1, connect: 172.16.29.99:9001, from: client, src: 203.0.113.10:40001, at: 1s }',
    `{ exec: ${change}, host: router, at: 1.5s }`,
    '{ exec: ip neigh show dev eth2, host: router, at: 1.6s }',
  ], '10s'), 'ifdown.yaml');
  const syn = (run: Run) => run.world.records.filter(r => r.host === 'router' && r.packet.id === 1).at(-1);

  it('ip link set down flushes every neighbour, PERMANENT too, and ends the packets queued on them', () => {
    const run = waiting('ip link set eth2 down');
    expect(run.diagnostics).toEqual([]);
    expect(out(run, 'router', 'ip neigh show dev eth2', 1.6)).toBe('');
    expect(syn(run)).toMatchObject({ t: 1.5e9, verdict: 'drop', reason: { code: 'neigh_flushed', dev: 'eth2', cause: 'down' } });
    expect(run.world.records.filter(r => r.host === 'router' && r.t > 1.5e9 && r.point === 'arp')).toEqual([]);
    expect(badConservation(run.world.records)).toBeNull();
  });

  it('deleting the last address does the same (fib_inetaddr_event); deleting one of two does not', () => {
    const run = waiting('ip addr del 172.16.29.1/24 dev eth2');
    expect(run.diagnostics).toEqual([]);
    expect(out(run, 'router', 'ip neigh show dev eth2', 1.6)).toBe('');
    expect(syn(run)).toMatchObject({ t: 1.5e9, verdict: 'drop', reason: { code: 'neigh_flushed', cause: 'noaddr' } });
    expect(badConservation(run.world.records)).toBeNull();
    const two = runScenarioText(withTraffic(REF, [
      '{ exec: ip addr add 172.16.29.2/24 dev eth2, host: router, at: 500ms }',
      '{ exec: ip neigh replace 172.16.29.98 lladdr 02:00:00:00:00:98 nud permanent dev eth2, host: router, at: 500ms }',
      '{ exec: ip addr del 172.16.29.2/24 dev eth2, host: router, at: 1.5s }',
      '{ exec: ip neigh show dev eth2, host: router, at: 1.6s }',
    ], '3s'), 'ifdown.yaml');
    expect(two.diagnostics).toEqual([]);
    expect(out(two, 'router', 'ip neigh show dev eth2', 1.6)).toMatch(/^172\.16\.29\.98 lladdr 02:00:00:00:00:98 PERMANENT/m);
  });

  it('a new MAC address flushes the device\'s neighbours too (neigh_changeaddr)', () => {
    const run = waiting('ip link set eth2 address 02:00:00:00:01:02');
    expect(run.diagnostics).toEqual([]);
    expect(out(run, 'router', 'ip neigh show dev eth2', 1.6)).toBe('');
    expect(syn(run)).toMatchObject({ t: 1.5e9, verdict: 'drop', reason: { code: 'neigh_flushed', cause: 'changeaddr' } });
    expect(badConservation(run.world.records)).toBeNull();
  });

  it('losing carrier keeps the PERMANENT entry where setting the device down does not', () => {
    const run = runScenarioText(withTraffic(REF, [
      '{ exec: ip neigh replace 172.16.29.98 lladdr 02:00:00:00:00:98 nud permanent dev eth2, host: router, at: 500ms }',
      '{ fault: link-down, link: vip-lan, at: 1s }',
      '{ exec: ip neigh show dev eth2, host: router, at: 1.1s }',
      '{ exec: ip link set eth2 down, host: router, at: 1.2s }',
      '{ exec: ip neigh show dev eth2, host: router, at: 1.3s }',
    ], '3s'), 'ifdown.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(out(run, 'router', 'ip neigh show dev eth2', 1.1)).toMatch(/^172\.16\.29\.98 .*PERMANENT/m);
    expect(out(run, 'router', 'ip neigh show dev eth2', 1.3)).toBe('');
  });
});

describe('a panicked kernel runs nothing', () => {
  it('no TCP retransmission leaves a crashed host', () => {
    // The client connects to an address no one answers on the VIP LAN, so its SYN is retransmitted
    // (RTO) and the router retries ARP; the client crashes before its first retransmission.
    const run = runScenarioText(withTraffic(REF, [
      '{ id: c1, connect: 172.16.29.99:9001, from: client, src: 203.0.113.10:40001, at: 1s }',
      '{ fault: crash, host: client, at: 1.5s }',
    ], '10s'), 'crash-timers.yaml');
    expect(run.diagnostics).toEqual([]);
    const after = run.world.records.filter(r => r.host === 'client' && r.t > 1.5e9);
    // only frames arriving at its NIC, taken by no one
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter(r => !(r.verdict === 'rx' || (r.verdict === 'drop' && r.reason?.code === 'host_crashed'))).map(r => `${r.t} ${r.point} ${r.verdict}`)).toEqual([]);
    expect(run.world.records.some(r => r.host === 'client' && r.t < 1.5e9 && r.point === 'socket')).toBe(true);
    expect(badConservation(run.world.records)).toBeNull();
  });

  it('a packet waiting for ARP when the kernel panics ends there, and no ARP retry follows', () => {
    // The client's first SYN waits for the router's ARP reply (200 us each way); it crashes in between.
    const run = runScenarioText(withTraffic(REF, [
      '{ id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001, at: 1s }',
      '{ fault: crash, host: client, at: 1.0001s }',
    ], '10s'), 'crash-arp.yaml');
    expect(run.diagnostics).toEqual([]);
    const syn = run.world.records.filter(r => r.host === 'client' && r.packet.id === 1);
    expect(syn.at(-1)).toMatchObject({ t: 1.0001e9, verdict: 'drop', reason: { code: 'host_crashed' }, note: 'lost with the kernel' });
    expect(run.world.records.filter(r => r.host === 'client' && r.t > 1.0001e9 && r.point === 'arp')).toEqual([]);
    expect(badConservation(run.world.records)).toBeNull();
  });
});

describe('a step with at: runs at that time', () => {
  it('whatever the steps before it are doing: a fault listed after two connections, at a time before the second starts', () => {
    // c1 closes at about 7.6 ms and c2 starts 1 ms later; the crash of rs2 at 2.2 ms comes first.
    const run = runScenarioText(withTraffic(REF, [
      '{ id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001 }',
      '{ id: c2, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40002 }',
      '{ fault: crash, host: rs2, at: 2.2ms }',
      '{ exec: ipvsadm -Ln, host: director, at: 1ms }',
    ], '3s'), 'at.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(events(run).filter(e => e.kind === 'host').map(e => `${e.t} ${e.host}`)).toEqual(['0.0022 rs2']);
    expect(run.execs.map(e => e.at)).toEqual([1e6]);
    // c1 was scheduled to rs2 (rr) and its SYN reaches rs2 after the crash: it never connects.
    expect(run.clients.find(c => c.id === 'c1')!.server).toBeNull();
  });
});

describe('conservation across faults', () => {
  it('ends every packet exactly once when hosts crash, boot and reboot mid-connection and links go down', () => {
    const runs: string[][] = [];
    for (const h of ['director', 'rs1', 'rs2', 'router', 'client']) {
      for (const [a, b] of [[0, 400], [150, 900], [300, 1500]]) {
        runs.push(['{ connect: 172.16.29.6:9001, from: client, at: 100us, mode: hold }', '{ connect: 172.16.29.6:9001, from: client, at: 200us, send: 20000 }',
          `{ fault: crash, host: ${h}, at: ${a}us }`, `{ fault: boot, host: ${h}, at: ${b}us }`, '{ connect: 172.16.29.6:9001, from: client, at: 1600us }']);
      }
      // Rebooted while a packet waits for ARP in its neighbour queue.
      runs.push(['{ connect: 172.16.29.6:9001, from: client, at: 100us, send: 3000 }', `{ fault: reboot, host: ${h}, at: 100us }`, '{ connect: 172.16.29.6:9001, from: client, at: 1600us }']);
    }
    for (const l of ['dip-lan', 'rs1-lan', 'client-lan']) runs.push(['{ connect: 172.16.29.6:9001, from: client, at: 100us, send: 20000 }', `{ fault: link-down, link: ${l}, at: 300us }`, `{ fault: link-up, link: ${l}, at: 900us }`]);
    for (const steps of runs) {
      const run = runScenarioText(withTraffic(REF, steps, '3s'), 'gen.yaml');
      expect([steps.join(' '), run.diagnostics.length, badConservation(run.world.records)]).toEqual([steps.join(' '), 0, null]);
    }
  });
});
