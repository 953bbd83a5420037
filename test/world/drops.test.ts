/**
 * Each way the kernel model drops a packet on the TUN path, named after the kernel behaviour,
 * from the shipped scenarios (and small edits of the reference one).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REF, drops, runFile } from './helpers';
import { TERMINAL_VERDICTS } from '../../src/trace/record';
import type { Icmp, Ipv4 } from '../../src/net/packet';
import { explainDrop } from '../../src/trace/explain';

const client = (run: ReturnType<typeof runFile>, id: string) => run.clients.find(c => c.id === id)!;

describe('real server input checks', () => {
  it('drops the decapsulated packet when rp_filter=1 via conf.all on the real server (silent; client times out)', () => {
    const run = runFile('scenarios/misconfig-rp-filter-all.yaml');
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d.length).toBeGreaterThan(0);
    expect(d.every(r => r.reason?.code === 'rp_filter' && r.point === 'routing')).toBe(true);
    expect(d[0].reason).toMatchObject({ code: 'rp_filter', dev: 'tunl0', effective: 1, all: 1, devValue: 0, mode: 'strict' });
    expect(run.world.hosts.get('rs1')!.host.snmp.get('TcpExtIPReversePathFilter')).toBe(d.length);
    expect(client(run, 'c2')).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    expect(client(run, 'c1')).toMatchObject({ ok: true, server: 'RS2' });
    // No ICMP: the filter drops silently.
    expect(run.world.records.some(r => r.host === 'rs1' && r.packet.pkt.proto === 'ipv4' && (r.packet.pkt as Ipv4).protocol === 1)).toBe(false);
  });

  it('drops the decapsulated packet when rp_filter=1 only on conf.tunl0 (effective value is the max)', () => {
    const run = runFile('scenarios/misconfig-rp-filter-tunl0.yaml');
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d[0].reason).toMatchObject({ code: 'rp_filter', dev: 'tunl0', effective: 1, all: 0, devValue: 1 });
    expect(client(run, 'c2').error).toBe('ETIMEDOUT');
  });

  it('accepts it with rp_filter=2 (loose) because tunl0 holds the VIP', () => {
    const run = runFile('scenarios/rp-filter-loose.yaml');
    expect(drops(run)).toEqual([]);
    expect(run.clients.every(c => c.ok)).toBe(true);
  });

  it('drops it in loose mode when tunl0 has no address (VIP on lo)', () => {
    const run = runFile(REF, {
      edit: t => t.replace('net.ipv4.conf.all.rp_filter = 0', 'net.ipv4.conf.all.rp_filter = 2')
        .replace('      ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up\n      sysctl -p\n    listen:\n      - { proto: tcp, port: 9001, name: RS1 }',
          '      ip link set tunl0 up\n      ip addr add 172.16.29.6/32 dev lo\n      sysctl -p\n    listen:\n      - { proto: tcp, port: 9001, name: RS1 }'),
    });
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d[0].reason).toMatchObject({ code: 'rp_filter', dev: 'tunl0', effective: 2, mode: 'loose-no-addr' });
  });

  it('drops it as not local when the VIP is not on the real server (forwarding off: IpInAddrErrors, no ICMP)', () => {
    const run = runFile('scenarios/misconfig-no-vip.yaml');
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d[0].reason).toMatchObject({ code: 'forwarding_disabled', dev: 'tunl0' });
    expect(run.world.hosts.get('rs1')!.host.snmp.get('IpInAddrErrors')).toBe(d.length);
    expect(client(run, 'c2').error).toBe('ETIMEDOUT');
  });

  it('answers ICMP protocol unreachable when ipip is not loaded; the director relays it and connect fails with ENOPROTOOPT', () => {
    const run = runFile('scenarios/misconfig-no-ipip.yaml');
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d.map(r => r.reason?.code)).toEqual(['protocol_unreachable']);
    const icmpFromRs = run.world.records.find(r => r.host === 'rs1' && r.point === 'eth0' && r.verdict === 'tx' && (r.packet.pkt as Ipv4).protocol === 1);
    const icmp = (icmpFromRs!.packet.pkt as Ipv4).payload as Icmp;
    expect([icmp.type, icmp.code]).toEqual([3, 2]);
    const relay = run.world.records.find(r => r.host === 'client' && r.point === 'icmp');
    expect((relay!.packet.pkt as Ipv4).src).toBe((relay!.packet.pkt as Ipv4).src);
    expect(client(run, 'c2')).toMatchObject({ ok: false, error: 'ENOPROTOOPT' });
    expect(run.world.hosts.get('rs1')!.host.snmp.get('IpInUnknownProtos')).toBe(1);
  });

  it('answers ICMP port unreachable when tunl0 is down; the client gets ECONNREFUSED at once', () => {
    const run = runFile('scenarios/misconfig-tunl0-down.yaml');
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d.map(r => r.reason?.code)).toEqual(['tunnel_unmatched']);
    const c2 = client(run, 'c2');
    expect(c2).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(c2.doneAt! - c2.startedAt).toBeLessThan(10_000_000);
    // The director relays from the VIP.
    const relay = run.world.records.find(r => r.host === 'director' && r.point === 'ipvs' && r.verdict === 'consumed');
    expect(relay?.note).toMatch(/relayed to the client from 172\.16\.29\.6/);
  });

  it('answers RST when nothing listens on the VIP port (from the VIP, straight to the client)', () => {
    const run = runFile('scenarios/misconfig-no-listener.yaml');
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d[0].reason).toMatchObject({ code: 'no_listener', proto: 'tcp', port: 9001, reply: 'rst' });
    expect(client(run, 'c2').error).toBe('ECONNREFUSED');
    expect(run.world.records.some(r => r.host === 'director' && (r.packet.pkt as Ipv4).src === (d[0].packet.pkt as Ipv4).dst && (r.packet.pkt as Ipv4).protocol === 6)).toBe(false);
  });
});

describe('director and path checks', () => {
  it('drops the client SYN at the director when rp_filter=1 there (reverse path via eth0, SYN on eth1)', () => {
    const run = runFile('scenarios/misconfig-director-rp-filter.yaml');
    const d = drops(run);
    expect(d.length).toBeGreaterThan(0);
    expect(d.every(r => r.host === 'director' && r.reason?.code === 'rp_filter')).toBe(true);
    expect(d[0].reason).toMatchObject({ dev: 'eth1', all: 1 });
    expect(run.clients.every(c => c.error === 'ETIMEDOUT')).toBe(true);
  });

  it('tunnel transmit without a route to the real server drops at ipvs (no_route)', () => {
    const run = runFile(REF, { edit: t => t.replace('        GATEWAY=172.16.69.1\n', '') });
    const d = drops(run).filter(r => r.host === 'director');
    expect(d.length).toBeGreaterThan(0);
    expect(d[0]).toMatchObject({ point: 'ipvs', reason: { code: 'no_route' } });
  });

  it('sends ICMP fragmentation needed (MTU 1480, from the VIP) for a DF packet over the tunnel MTU, and the transfer completes', () => {
    const run = runFile('scenarios/mtu-frag-needed.yaml');
    const d = drops(run);
    expect(d.length).toBeGreaterThan(0);
    expect(d.every(r => r.host === 'director' && r.point === 'ipvs' && r.reason?.code === 'frag_needed')).toBe(true);
    expect(d[0].reason).toMatchObject({ mtu: 1480, len: 1500 });
    const icmpAtClient = run.world.records.find(r => r.host === 'client' && r.point === 'icmp');
    const p = icmpAtClient!.packet.pkt as Ipv4;
    expect(p.src).toBe(0xac101d06);
    expect((p.payload as Icmp).mtu).toBe(1480);
    expect(run.clients[0]).toMatchObject({ ok: true });
    expect(run.clients[0].reply).toMatch(/bytes=6000\n$/);
    // After path-MTU discovery the client's segments fit: 1480-byte packets with 1428 bytes of data.
    const resent = run.world.records.filter(r => r.host === 'client' && r.point === 'eth0' && r.verdict === 'tx' && (r.packet.pkt as Ipv4).protocol === 6);
    expect(resent.some(r => { const t = (r.packet.pkt as Ipv4).payload as { data: Uint8Array }; return t.data.length === 1428; })).toBe(true);
  });

  it('a router link with a smaller MTU: the router tells the director, the director tells the client MTU - 20', () => {
    const run = runFile('scenarios/mtu-frag-needed.yaml', { edit: t => t.replace('{ name: rs2-lan,    ends: [rs2:eth0, router:eth4], latency: 500us }', '{ name: rs2-lan,    ends: [rs2:eth0, router:eth4], latency: 500us, mtu: 1400 }') });
    const atRouter = drops(run).filter(r => r.host === 'router');
    expect(atRouter[0]?.reason).toMatchObject({ code: 'frag_needed', mtu: 1400 });
    const relayed = run.world.records.filter(r => r.host === 'client' && r.point === 'icmp').map(r => ((r.packet.pkt as Ipv4).payload as Icmp).mtu);
    expect(relayed).toContain(1380);
    expect(run.clients[0].ok).toBe(true);
  });

  it('neighbour resolution fails when the real server\'s gateway does not answer ARP (arp_unresolved after 3 probes)', () => {
    const run = runFile('scenarios/misconfig-rs-gateway-missing.yaml');
    const d = drops(run).filter(r => r.host === 'rs1');
    expect(d[0].reason).toMatchObject({ code: 'arp_unresolved', dev: 'eth0' });
    const probes = run.world.records.filter(r => r.host === 'rs1' && r.point === 'arp' && r.verdict === 'send' && /who-has 172\.16\.197\.254/.test(r.note ?? ''));
    expect(probes.length).toBeGreaterThanOrEqual(3);
    // arp_announce=2: the request is sent from eth0's own address, not the VIP.
    expect(probes[0].note).toMatch(/tell 172\.16\.197\.3 \(arp_announce=2\)/);
  });

  it('expires the TTL at the director\'s decrement_ttl and answers time exceeded', () => {
    const run = runFile('scenarios/ttl-expiry.yaml');
    const d = drops(run);
    expect(d[0]).toMatchObject({ host: 'director', point: 'ipvs', reason: { code: 'ttl_exceeded', ttl: 1 } });
    expect(run.clients[0]).toMatchObject({ ok: false, error: 'EHOSTUNREACH' });
  });
});

describe('conservation over every shipped scenario', () => {
  for (const f of readdirSync('scenarios').filter(f => f.endsWith('.yaml'))) {
    it(`every packet of ${f} ends exactly once, and every drop has an explanation`, () => {
      const run = runFile(`scenarios/${f}`);
      const ends = new Map<number, number>();
      for (const r of run.world.records) {
        if (!ends.has(r.packet.id)) ends.set(r.packet.id, 0);
        if (TERMINAL_VERDICTS.has(r.verdict)) ends.set(r.packet.id, ends.get(r.packet.id)! + 1);
        if (r.verdict === 'drop') expect(explainDrop(r.reason!).message.length).toBeGreaterThan(10);
      }
      const bad = [...ends].filter(([, n]) => n !== 1);
      expect(bad).toEqual([]);
    });
  }
});
