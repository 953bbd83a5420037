/**
 * Firewalls on the TUN path: the four failures operators report, the three fixes of the
 * path-MTU black hole, REJECT's answers, LOG and connection tracking, from the shipped scenarios.
 */
import { describe, expect, it } from 'vitest';
import { CIP, DIP, RIP1, VIP, drops, runFile } from './helpers';
import type { Ipv4, Tcp } from '../../src/net/packet';
import { iptablesCounters } from '../../src/kernel/xtables';
import { klogLines } from '../../src/kernel/klog';
import { conntrackOf } from '../../src/kernel/conntrack';
import { explainDrop } from '../../src/trace/explain';
import { readFileSync } from 'node:fs';
import { confirmFindings, doctorScenarioText } from '../../src/world/doctor';

type Run = ReturnType<typeof runFile>;
const client = (run: Run, id: string) => run.clients.find(c => c.id === id)!;
const host = (run: Run, name: string) => run.world.hosts.get(name)!.host;
const answer = (run: Run, id: string) => client(run, id).reply.slice(client(run, id).greeting.length).trim();

describe('a router that drops IP protocol 4 (fw-ipip-blocked)', () => {
  const run = runFile('scenarios/fw-ipip-blocked.yaml');
  it('times every connection out and names the rule that dropped the tunnel', () => {
    expect(client(run, 'c1')).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    expect(client(run, 'c2')).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    const d = drops(run);
    expect(d.length).toBeGreaterThan(0);
    for (const r of d) {
      expect(r.host).toBe('router');
      expect(r.point).toBe('FORWARD');
      expect(r.reason).toMatchObject({ code: 'iptables', table: 'filter', chain: 'FORWARD', rule: 1, text: '-A FORWARD -p 4 -j DROP', target: 'DROP', proto: 4 });
      expect((r.packet.pkt as Ipv4).src).toBe(DIP);
    }
    expect(explainDrop(d[0].reason!).fix).toContain('iptables -I FORWARD -p 4 -j ACCEPT');
  });
  it('counts them on the rule, and no IP MIB counter moves', () => {
    expect(iptablesCounters(host(run, 'router'))).toEqual([['filter', 'FORWARD', '-p 4 -j DROP', drops(run).length]]);
    const snmp = host(run, 'router').snmp;
    for (const mib of ['IpInDiscards', 'IpOutNoRoutes', 'IpInAddrErrors', 'IcmpOutDestUnreachs']) expect(snmp.get(mib) ?? 0).toBe(0);
  });
});

describe('ICMP fragmentation-needed blocked: the path-MTU black hole and its three fixes', () => {
  it('answers the small request, never the large one; the rule counts the ICMP it drops', () => {
    const run = runFile('scenarios/fw-pmtu-blackhole.yaml');
    expect(answer(run, 'small')).toBe('RS2 bytes=200');
    expect(answer(run, 'large')).not.toContain('bytes=');
    const fw = drops(run).filter(r => r.reason?.code === 'iptables');
    expect(fw.length).toBeGreaterThan(0);
    expect(fw[0].reason).toMatchObject({ chain: 'FORWARD', rule: 1, text: '-A FORWARD -p icmp -m icmp --icmp-type 3/4 -j DROP', icmp: '3/4' });
    expect((fw[0].packet.pkt as Ipv4).src).toBe(VIP);
    expect(explainDrop(fw[0].reason!).message).toContain('black hole');
    expect(iptablesCounters(host(run, 'router'))[0][3]).toBe(fw.length);
  });
  for (const [file, why] of [
    ['fw-pmtu-fix-mss-clamp', 'the real server clamps its SYN-ACK MSS to 1440'],
    ['fw-pmtu-fix-route-mtu', 'the real server\'s route MTU 1480 makes it advertise MSS 1440'],
    ['fw-pmtu-fix-icmp-allowed', 'the ICMP reaches the client, which lowers its segment size'],
  ] as const) {
    it(`${file}: both requests are answered (${why})`, () => {
      const run = runFile(`scenarios/${file}.yaml`);
      expect(answer(run, 'small')).toBe('RS2 bytes=200');
      expect(answer(run, 'large')).toBe('RS1 bytes=6000');
      expect(drops(run).filter(r => r.reason?.code === 'iptables')).toEqual([]);
      if (file !== 'fw-pmtu-fix-icmp-allowed') {
        // The SYN-ACK the client receives carries MSS 1440.
        const synack = run.world.records.find(r => r.host === 'client' && r.verdict === 'rx' && r.packet.pkt.proto === 'ipv4' && (r.packet.pkt as Ipv4).payload.proto === 'tcp' && ((r.packet.pkt as Ipv4).payload as Tcp).flags === 0x12 && (r.packet.pkt as Ipv4).src === VIP && ((r.packet.pkt as Ipv4).payload as Tcp).dport === 40002);
        expect(((synack!.packet.pkt as Ipv4).payload as Tcp).options?.mss).toBe(1440);
      }
      if (file === 'fw-pmtu-fix-mss-clamp') expect(iptablesCounters(host(run, 'rs1'))).toEqual([['mangle', 'OUTPUT', '-p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss 1440', 1]]);
    });
  }
});

describe('anti-spoofing on the real servers\' LAN drops the VIP-sourced reply (fw-antispoof-vip-reply)', () => {
  it('times out the connection to rs1 at the router; the dropped packet is the SYN-ACK from the VIP', () => {
    const run = runFile('scenarios/fw-antispoof-vip-reply.yaml');
    expect(client(run, 'c1')).toMatchObject({ ok: true, server: 'RS2' });
    expect(client(run, 'c2')).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    const d = drops(run);
    expect(d.length).toBeGreaterThan(0);
    for (const r of d) {
      expect(r.reason).toMatchObject({ code: 'iptables', chain: 'FORWARD', rule: 1, text: '-A FORWARD ! -s 172.16.197.0/24 -i eth3 -j DROP' });
      const p = r.packet.pkt as Ipv4;
      expect([p.src, p.dst]).toEqual([VIP, CIP]);
      expect((p.payload as Tcp).flags).toBe(0x12);
    }
  });
});

describe('a real server whose INPUT rejects the service port (fw-rs-input-reject)', () => {
  it('icmp-port-unreachable from the VIP: the client sees ECONNREFUSED', () => {
    const run = runFile('scenarios/fw-rs-input-reject.yaml');
    expect(client(run, 'c1')).toMatchObject({ ok: true, server: 'RS2' });
    expect(client(run, 'c2')).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    const d = drops(run);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ host: 'rs1', point: 'INPUT', reason: { code: 'iptables', target: 'REJECT', with: 'icmp-port-unreachable' } });
    const icmp = run.world.records.find(r => r.host === 'client' && r.verdict === 'rx' && r.packet.pkt.proto === 'ipv4' && (r.packet.pkt as Ipv4).protocol === 1);
    const p = icmp!.packet.pkt as Ipv4;
    expect([p.src, p.dst]).toEqual([VIP, CIP]);
    expect(p.payload).toMatchObject({ type: 3, code: 3 });
    expect(host(run, 'rs1').snmp.get('IcmpOutDestUnreachs')).toBe(1);
  });
  it('--reject-with tcp-reset answers with a RST from the VIP', () => {
    const run = runFile('scenarios/fw-rs-input-reject.yaml', { edit: t => t.replace('      iptables -A INPUT -p tcp --dport 9001 -j REJECT\n', '      iptables -A INPUT -p tcp --dport 9001 -j REJECT --reject-with tcp-reset\n') });
    expect(client(run, 'c2')).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    const rst = run.world.records.find(r => r.host === 'client' && r.verdict === 'rx' && r.packet.pkt.proto === 'ipv4' && (r.packet.pkt as Ipv4).payload.proto === 'tcp' && ((r.packet.pkt as Ipv4).payload as Tcp).flags & 0x04);
    const p = rst!.packet.pkt as Ipv4;
    expect([p.src, p.dst]).toEqual([VIP, CIP]);
    expect((p.payload as Tcp).flags).toBe(0x14);
    expect(host(run, 'rs1').snmp.get('TcpOutRsts')).toBe(1);
  });
});

describe('LOG and connection tracking on a real server', () => {
  const STATEFUL = [
    'iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT',
    'iptables -A INPUT -i lo -j ACCEPT',
    'iptables -A INPUT -p 4 -j ACCEPT',
    'iptables -A INPUT -p tcp --dport 9001 -m conntrack --ctstate NEW -j LOG --log-prefix "new svc: "',
    'iptables -A INPUT -p tcp --dport 9001 -m conntrack --ctstate NEW -j ACCEPT',
    'iptables -P INPUT DROP',
  ];
  const edit = (t: string) => t.replace('      iptables -A INPUT -p tcp --dport 9001 -j REJECT\n', STATEFUL.map(l => `      ${l}\n`).join(''));
  const run = runFile('scenarios/fw-rs-input-reject.yaml', { edit });

  it('a stateful INPUT (ESTABLISHED,RELATED, then NEW to the service, policy DROP) lets the connection through', () => {
    expect(answer(run, 'c2')).toBe('RS1 bytes=0');
    expect(drops(run).filter(r => r.reason?.code === 'iptables')).toEqual([]);
    const counters = iptablesCounters(host(run, 'rs1'));
    expect(counters.map(c => c[2])).toEqual([
      '-m state --state RELATED,ESTABLISHED -j ACCEPT', '-i lo -j ACCEPT', '-p 4 -j ACCEPT',
      '-p tcp -m tcp --dport 9001 -m conntrack --ctstate NEW -j LOG --log-prefix "new svc: "',
      '-p tcp -m tcp --dport 9001 -m conntrack --ctstate NEW -j ACCEPT',
    ]);
    // The SYN is NEW (logged and accepted); the rest of the connection is ESTABLISHED. The outer
    // IPIP headers are tracked by the generic tracker and never answered (the replies go straight
    // to the client), so every outer packet is NEW and is accepted by the -p 4 rule.
    expect(counters[3][3]).toBe(1);
    expect(counters[4][3]).toBe(1);
    expect(counters[0][3]).toBeGreaterThan(2);
    expect(counters[2][3]).toBeGreaterThan(2);
  });

  it('LOG writes the SYN to the kernel log as nf_log_dump_ipv4_packet prints it', () => {
    const lines = klogLines(host(run, 'rs1')).map(l => l.text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^new svc: IN=tunl0 OUT= SRC=203\.0\.113\.10 DST=172\.16\.29\.6 LEN=60 TOS=0x00 PREC=0x00 TTL=62 ID=\d+ DF PROTO=TCP SPT=40002 DPT=9001 WINDOW=64240 RES=0x00 SYN URGP=0$/);
  });

  it('conntrack -L lists the TCP connection (TIME_WAIT after the close) and the IPIP flow (generic, protocol 4)', () => {
    const ct = conntrackOf(host(run, 'rs1'))!;
    const rows = ct.entries;
    const tcp = rows.find(r => r.proto === 6)!;
    expect(tcp).toMatchObject({ src: CIP, dst: VIP, sport: 40002, dport: 9001, rsrc: VIP, rdst: CIP });
    const ipip = rows.find(r => r.proto === 4)!;
    expect(ipip).toMatchObject({ src: DIP, dst: RIP1 });
    const out = run.world.exec('rs1', 'conntrack -L');
    expect(out.stdout).toMatch(/^tcp      6 \d+ (TIME_WAIT|CLOSE) src=203\.0\.113\.10 dst=172\.16\.29\.6 sport=40002 dport=9001 src=172\.16\.29\.6 dst=203\.0\.113\.10 sport=9001 dport=40002 \[ASSURED\] mark=0 use=1$/m);
    expect(out.stdout).toMatch(/^unknown  4 \d+ src=172\.16\.69\.15 dst=172\.16\.197\.3 \[UNREPLIED\] src=172\.16\.197\.3 dst=172\.16\.69\.15 mark=0 use=1$/m);
    expect(out.stderr).toBe(`conntrack v1.4.7 (conntrack-tools): ${rows.length} flow entries have been shown.\n`);
  });
});

describe('lvsim doctor reads the rule sets on the path (xtDryRun)', () => {
  for (const [file, host, rule, code] of [
    ['fw-ipip-blocked', 'router', 'iptables -A FORWARD -p 4 -j DROP', 'ipip_blocked'],
    ['fw-antispoof-vip-reply', 'router', 'iptables -A FORWARD -i eth3 ! -s 172.16.197.0/24 -j DROP', 'reply_dropped_by_antispoof'],
    ['fw-rs-input-reject', 'rs1', 'iptables -A INPUT -p tcp --dport 9001 -j REJECT', 'firewall_drops'],
    ['fw-pmtu-blackhole', 'router', 'iptables -A FORWARD -p icmp --icmp-type fragmentation-needed -j DROP', 'pmtu_blackhole'],
  ] as const) {
    it(`${file}: ${code} names the rule's line on ${host}, and the run's drop confirms it`, () => {
      const path = `scenarios/${file}.yaml`;
      const text = readFileSync(path, 'utf8');
      const { findings } = doctorScenarioText(text, path);
      const fw = findings.filter(f => f.code === code);
      expect(fw).toHaveLength(1);
      expect(fw[0]).toMatchObject({ severity: 'error', host });
      expect(text.split('\n')[fw[0].line - 1].trim()).toBe(rule);
      const run = runFile(path);
      expect(confirmFindings(fw, run.world.records)[0].record).not.toBeNull();
    });
  }
  it('a stateful rule set that lets the service through raises nothing', () => {
    const path = 'scenarios/fw-pmtu-fix-icmp-allowed.yaml';
    expect(doctorScenarioText(readFileSync(path, 'utf8'), path).findings.filter(f => f.severity === 'error')).toEqual([]);
  });
});
