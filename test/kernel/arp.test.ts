/**
 * arp_process and neigh_update as Linux 6.1 has them (net/ipv4/arp.c, net/core/neighbour.c):
 * the first of several replies wins within locktime, arp_accept decides whether an unsolicited
 * reply creates an entry, a gratuitous ARP overrides at once, a request whose sender is one of
 * our own addresses is a martian and is not answered, and iputils arping.
 */
import { describe, expect, it } from 'vitest';
import { World } from '../../src/world/world';
import { arping, type ArpingResult } from '../../src/kernel/neigh';
import { ipSend } from '../../src/kernel/ip';
import { EMPTY, IPPROTO_UDP } from '../../src/net/packet';
import { ip4 } from '../../src/net/addr';
import { NS_PER_MS, NS_PER_S } from '../../src/sim/engine';
import { klogLines } from '../../src/kernel/klog';

const VIP = ip4('10.0.0.6');

/** router 10.0.0.1, a 10.0.0.2 and b 10.0.0.3 on one segment; a and b both hold 10.0.0.6 (on lo). */
function lan(order: string[] = ['router', 'a', 'b']): World {
  const w = new World(1);
  for (const h of ['router', 'a', 'b']) w.addHost(h);
  w.addLink('lan', order.map(host => ({ host, dev: 'eth0' })), 50_000);
  const ok = (h: string, l: string) => expect(w.exec(h, l).exit, `${h}: ${l}`).toBe(0);
  ok('router', 'ip link set eth0 up'); ok('router', 'ip addr add 10.0.0.1/24 dev eth0');
  ok('a', 'ip link set eth0 up'); ok('a', 'ip addr add 10.0.0.2/24 dev eth0'); ok('a', 'ip addr add 10.0.0.6/32 dev lo');
  ok('b', 'ip link set eth0 up'); ok('b', 'ip addr add 10.0.0.3/24 dev eth0'); ok('b', 'ip addr add 10.0.0.6/32 dev lo');
  return w;
}
const mac = (w: World, h: string) => w.hosts.get(h)!.host.dev('eth0').mac;
const entry = (w: World) => w.hosts.get('router')!.host.neighLookup('eth0', VIP);
/** The router sends a datagram to the VIP: its neighbour layer resolves it. */
function sendToVip(w: World): void {
  const h = w.hosts.get('router')!.host;
  ipSend(h, { proto: 'ipv4', src: 0, dst: VIP, protocol: IPPROTO_UDP, ttl: 64, tos: 0, id: 1, df: false, payload: { proto: 'udp', sport: 5000, dport: 53, data: EMPTY } });
}
function runArping(w: World, host: string, o: Parameters<typeof arping>[1]): ArpingResult {
  let res: ArpingResult | null = null;
  expect(arping(w.hosts.get(host)!.host, o, r => { res = r; })).toBeNull();
  while (res === null && w.engine.step()) { /* until it exits */ }
  return res!;
}

describe('arp_process: neighbour updates', () => {
  it('keeps the first of two replies when both arrive within locktime (1 s)', () => {
    const w = lan();
    sendToVip(w);
    w.engine.run(10 * NS_PER_MS);
    expect(entry(w)).toMatchObject({ mac: mac(w, 'a'), state: 'REACHABLE' });
    const notes = w.records.filter(r => r.host === 'router' && r.point === 'arp' && r.verdict === 'consumed').map(r => r.note);
    expect(notes.some(n => /entry keeps .*within locktime 1000 ms: the first answer wins/.test(n ?? ''))).toBe(true);
  });

  it('whoever answers first wins: the order of arrival decides, not the host', () => {
    const w = lan(['router', 'b', 'a']);
    sendToVip(w);
    w.engine.run(10 * NS_PER_MS);
    expect(entry(w)!.mac).toBe(mac(w, 'b'));
  });

  it('takes the last reply when net.ipv4.neigh.eth0.locktime is 0', () => {
    const w = lan();
    expect(w.exec('router', 'sysctl -w net.ipv4.neigh.eth0.locktime=0').exit).toBe(0);
    expect(w.exec('router', 'sysctl -n net.ipv4.neigh.eth0.locktime').stdout).toBe('0\n');
    sendToVip(w);
    w.engine.run(10 * NS_PER_MS);
    // Equal times are not "after" the locktime: the second reply at the same instant still loses.
    expect(entry(w)!.mac).toBe(mac(w, 'a'));
    w.engine.run(w.engine.now + NS_PER_MS);
    runArping(w, 'router', { dev: 'eth0', target: VIP, count: 1 });
    // arping's replies update the existing entry; with locktime 0 the later one wins.
    expect(entry(w)!.mac).toBe(mac(w, 'b'));
  });

  it('once locktime has passed since the entry last changed, a different reply overrides (same-MAC replies do not restart it); an unsolicited reply creates nothing without arp_accept', () => {
    const w = lan();
    sendToVip(w);
    w.engine.run(2 * NS_PER_S);
    runArping(w, 'router', { dev: 'eth0', target: VIP, count: 1, broadcastOnly: true });
    // a's reply changes nothing (same MAC), so `updated` stays at the first resolution and b's overrides.
    expect(entry(w)!.mac).toBe(mac(w, 'b'));
    // No entry for 10.0.0.3 yet: b's address is not learned from its reply (arp_accept=0).
    const r = runArping(w, 'router', { dev: 'eth0', target: ip4('10.0.0.3'), count: 1 });
    expect(r.replies).toEqual([mac(w, 'b')]);
    expect(w.hosts.get('router')!.host.neighLookup('eth0', ip4('10.0.0.3'))).toBeUndefined();
    expect(w.exec('router', 'sysctl -w net.ipv4.conf.eth0.arp_accept=1').exit).toBe(0);
    runArping(w, 'router', { dev: 'eth0', target: ip4('10.0.0.3'), count: 1 });
    expect(w.hosts.get('router')!.host.neighLookup('eth0', ip4('10.0.0.3'))).toMatchObject({ mac: mac(w, 'b'), state: 'REACHABLE' });
  });

  it('a gratuitous ARP (arping -U) overrides an entry even within locktime', () => {
    const w = lan();
    sendToVip(w);
    w.engine.run(10 * NS_PER_MS);
    expect(entry(w)!.mac).toBe(mac(w, 'a'));
    const r = runArping(w, 'b', { dev: 'eth0', target: VIP, count: 1, unsolicited: 'U' });
    expect(r.sent).toBe(1);
    expect(entry(w)!.mac).toBe(mac(w, 'b'));
    runArping(w, 'a', { dev: 'eth0', target: VIP, count: 1, unsolicited: 'A' });
    expect(entry(w)!.mac).toBe(mac(w, 'a'));
  });

  it('does not answer a request whose sender is one of its own addresses (martian source), and logs it with log_martians', () => {
    const w = lan();
    // a asks for b's address from the VIP, which b also holds: b's input route refuses the sender.
    expect(w.exec('b', 'sysctl -w net.ipv4.conf.all.log_martians=1').exit).toBe(0);
    const r = runArping(w, 'a', { dev: 'eth0', target: ip4('10.0.0.3'), count: 2, src: VIP });
    expect(r.replies).toEqual([]);
    const log = klogLines(w.hosts.get('b')!.host).map(l => l.text);
    expect(log.filter(m => m === 'IPv4: martian source 10.0.0.3 from 10.0.0.6, on dev eth0')).toHaveLength(2);
    expect(log[1]).toMatch(/^ll header: 00000000: ff ff ff ff ff ff 02 00 .* 08 06$/);
    expect(w.exec('b', 'dmesg').stdout).toMatch(/^\[\s+\d+\.\d{6}\] IPv4: martian source 10\.0\.0\.3 from 10\.0\.0\.6, on dev eth0$/m);
  });

  it('with arp_ignore=1 answers only for addresses on the receiving device', () => {
    const w = lan();
    expect(w.exec('a', 'sysctl -w net.ipv4.conf.all.arp_ignore=1').exit).toBe(0);
    sendToVip(w);
    w.engine.run(10 * NS_PER_MS);
    expect(entry(w)!.mac).toBe(mac(w, 'b'));
  });
});

describe('arping (iputils)', () => {
  it('sends one request a second and unicasts to the last replier after the first answer', () => {
    const w = lan();
    const t0 = w.engine.now;
    const r = runArping(w, 'router', { dev: 'eth0', target: VIP, count: 3 });
    expect(r.sent).toBe(3);
    expect(r.broadcasts).toBe(1);
    expect(r.replies).toEqual([mac(w, 'a'), mac(w, 'b'), mac(w, 'b'), mac(w, 'b')]);
    expect(w.engine.now - t0).toBe(3 * NS_PER_S);
  });

  it('runs as a command: -I, -c, -w, output and exit status as iputils prints them', () => {
    const w = lan();
    const r = w.exec('router', 'arping -I eth0 -c 2 10.0.0.3');
    expect(r.exit).toBe(0);
    expect(r.stdout).toMatch(/^ARPING 10\.0\.0\.3 from 10\.0\.0\.1 eth0\nUnicast reply from 10\.0\.0\.3 \[([0-9A-F]{2}:){5}[0-9A-F]{2}\]  0\.100ms\n/);
    expect(r.stdout).toContain(`[${mac(w, 'b').toUpperCase()}]`);
    expect(r.stdout).toMatch(/Sent 2 probes \(1 broadcast\(s\)\)\nReceived 2 response\(s\)\n$/);
    const none = w.exec('router', 'arping -I eth0 -c 1 -w 1 10.0.0.99');
    expect(none.exit).toBe(1);
    expect(none.stdout).toMatch(/Received 0 response\(s\)/);
    expect(w.exec('router', 'arping -I eth9 -c 1 10.0.0.3')).toMatchObject({ exit: 2, stderr: 'arping: Device eth9 not available.\n' });
    expect(w.exec('router', 'arping -c 1')).toMatchObject({ exit: 2 });
    const u = w.exec('b', 'arping -U -I eth0 -c 1 10.0.0.6');
    expect(u.exit).toBe(0);
    expect(u.stdout).toMatch(/^ARPING 10\.0\.0\.6 from 10\.0\.0\.6 eth0\nSent 1 probes \(1 broadcast\(s\)\)\nReceived 0 response\(s\)\n$/);
  });
});
