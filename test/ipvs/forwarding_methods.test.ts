/**
 * Direct routing (-g) and NAT (-m) through the whole packet path, named after the kernel
 * functions that do them (net/netfilter/ipvs/ip_vs_xmit.c, ip_vs_core.c, ip_vs_proto_tcp.c),
 * on the shipped scenarios/modes-*.yaml and the kernel-recorded vectors of the forwarding
 * methods in test/fixtures/oracle/v2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIp4, ip4 } from '../../src/net/addr';
import { encodeIpv4 } from '../../src/net/wire';
import { internetChecksum, transportChecksum } from '../../src/net/checksum';
import { IPPROTO_IPIP, type Ipv4, type Tcp } from '../../src/net/packet';
import type { TraceRecord } from '../../src/trace/record';
import { explainDrop } from '../../src/trace/explain';
import { checkVector, replayVector, type Vector } from '../../src/world/replay';
import { runSteps } from '../../src/cli/format';
import { CIP, REF, VIP, runFile } from '../world/helpers';

const DR_FAR = 'scenarios/modes-dr-different-subnets.yaml';
const NAT_FAR = 'scenarios/modes-nat-different-subnets.yaml';
const DR_LAN = 'scenarios/modes-dr-same-lan.yaml';
const NAT_GW = 'scenarios/modes-nat-rs-gateway-director.yaml';

const tcpOf = (r: TraceRecord): Tcp | null => {
  const p = r.packet.pkt;
  return p.proto === 'ipv4' && p.payload.proto === 'tcp' ? p.payload : null;
};
const ipOf = (r: TraceRecord): Ipv4 => r.packet.pkt as Ipv4;
const isSyn = (r: TraceRecord) => (tcpOf(r)?.flags ?? 0) === 0x02;
const macOf = (run: ReturnType<typeof runFile>, host: string, dev: string) => run.world.hosts.get(host)!.host.dev(dev).mac;
const exec = (run: ReturnType<typeof runFile>, cmd: string) => run.execs.find(e => e.command === cmd)!.result.stdout;

describe('ip_vs_dr_xmit', () => {
  it('sends the client packet CIP -> VIP unchanged but for its TTL to the on-link real server\'s MAC (IP_VS_RT_MODE_KNOWN_NH)', () => {
    const run = runFile(DR_LAN);
    expect(run.clients.map(c => c.ok)).toEqual([true, true]);
    const rx = run.world.records.find(r => r.host === 'director' && r.verdict === 'rx' && r.dev === 'eth1' && isSyn(r))!;
    const tx = run.world.records.find(r => r.host === 'director' && r.verdict === 'tx' && r.packet.id === rx.packet.id)!;
    expect(tx.dev).toBe('eth1');
    expect(formatIp4(ipOf(tx).src)).toBe('203.0.113.10');
    expect(ipOf(tx).dst).toBe(VIP);
    expect(ipOf(tx).ttl).toBe(ipOf(rx).ttl - 1);
    expect(tcpOf(tx)!.dport).toBe(9001);
    expect([macOf(run, 'rs1', 'eth0'), macOf(run, 'rs2', 'eth0')]).toContain(tx.frame!.dst);
  });

  it('resolves the real server with an ARP request from the director\'s primary address, not the VIP', () => {
    const run = runFile(DR_LAN);
    const asks = run.world.records.filter(r => r.host === 'director' && r.point === 'arp' && r.verdict === 'send' && r.packet.pkt.proto === 'arp' && r.packet.pkt.op === 1);
    const forRs = asks.filter(r => r.packet.pkt.proto === 'arp' && r.packet.pkt.tpa === ip4('172.16.29.7'));
    expect(forRs.length).toBeGreaterThan(0);
    for (const r of forRs) expect(r.packet.pkt.proto === 'arp' && formatIp4(r.packet.pkt.spa)).toBe('172.16.29.5');
  });

  it('lets the real server answer from the VIP on lo, straight to the client: no reply passes the director', () => {
    const run = runFile(DR_LAN);
    const replies = run.world.records.filter(r => r.packet.pkt.proto === 'ipv4' && ipOf(r).src === VIP && ipOf(r).dst === CIP && r.verdict === 'send');
    expect(new Set(replies.map(r => r.host))).toEqual(new Set(['rs1', 'rs2']));
    expect(run.world.records.some(r => r.host === 'director' && r.packet.pkt.proto === 'ipv4' && ipOf(r).src === VIP && ipOf(r).dst === CIP)).toBe(false);
  });

  it('lists Route and the input-only TCP states (FIN_WAIT after the client\'s close), as the kernel does', () => {
    const run = runFile(DR_LAN);
    expect(exec(run, 'ipvsadm -Ln')).toContain('  -> 172.16.29.7:9001             Route   1      0          1         ');
    const lnc = exec(run, 'ipvsadm -Lnc');
    expect(lnc.match(/FIN_WAIT/g)?.length).toBe(2);
  });

  it('sends the packet to the gateway\'s MAC when the real server is not on-link; the gateway routes it back by the VIP until decrement_ttl drops it (not an ARP failure)', () => {
    const run = runFile(DR_FAR);
    const c = run.clients[0]!;
    expect(c.ok).toBe(false);
    expect(c.error).toBe('EHOSTUNREACH');
    const out = run.world.records.filter(r => r.host === 'director' && r.verdict === 'tx' && r.dev === 'eth0' && isSyn(r));
    expect(out.length).toBeGreaterThan(20);
    for (const r of out) {
      expect(r.frame!.dst).toBe(macOf(run, 'router', 'eth1'));
      expect(ipOf(r).dst).toBe(VIP);
    }
    const drops = run.world.records.filter(r => r.verdict === 'drop');
    expect(drops.map(d => d.reason!.code)).toEqual(['ipvs_ttl_exceeded']);
    expect(drops[0]!.host).toBe('director');
    expect(drops[0]!.reason).toMatchObject({ ttl: 1, method: 'route', gateway: ip4('172.16.69.1') });
    const ex = explainDrop(drops[0]!.reason!);
    expect(ex.check).toBe('__ip_vs_get_out_rt (decrement_ttl)');
    expect(ex.fix).toContain('-i');
    // ICMP time exceeded from the VIP (the packet's input route was local when decrement_ttl ran).
    const icmp = run.world.records.find(r => r.host === 'client' && r.point === 'icmp')!;
    expect(ipOf(icmp).src).toBe(VIP);
    expect(ipOf(icmp).payload).toMatchObject({ type: 11, code: 0 });
    expect(run.world.records.some(r => r.reason?.code === 'arp_unresolved')).toBe(false);
  });

  it('never tunnels a destination whose method is not tunnel (ipvsadm\'s default -g)', () => {
    const run = runFile(DR_FAR);
    expect(run.world.records.some(r => r.packet.pkt.proto === 'ipv4' && ipOf(r).protocol === IPPROTO_IPIP)).toBe(false);
    expect(exec(run, 'ipvsadm -Ln')).toContain('Route');
    expect(exec(run, 'ipvsadm -Lnc')).toContain('SYN_RECV');
  });

  it('gets no answer to its ARP request when it asks from the VIP, which a DR real server holds on lo (martian sender)', () => {
    const run = runFile(DR_LAN, { edit: t => t.replace('ip addr add 172.16.29.5/24 dev eth1\n      ip addr add 172.16.29.6/32 dev eth1', 'ip addr add 172.16.29.6/24 dev eth1') });
    expect(run.clients.every(c => c.ok === false && c.error === 'EHOSTUNREACH')).toBe(true);
    const refused = run.world.records.filter(r => r.reason?.code === 'arp_sender_local');
    expect(new Set(refused.map(r => r.host))).toEqual(new Set(['rs1', 'rs2']));
    expect(explainDrop(refused[0]!.reason!).fix).toContain('/32');
    expect(run.world.records.some(r => r.host === 'director' && r.reason?.code === 'arp_unresolved')).toBe(true);
    // ipv4_link_failure on a packet IPVS already routed: icmp_send picks the source by the route
    // back to the client (the skb's route is no longer the local one of the VIP).
    const unreach = run.world.records.find(r => r.host === 'director' && r.point === 'socket' && r.verdict === 'send' && ipOf(r).payload.proto === 'icmp')!;
    expect(ipOf(unreach).payload).toMatchObject({ type: 3, code: 1 });
    expect(formatIp4(ipOf(unreach).src)).toBe('172.16.69.15');
  });
});

describe('ip_vs_nat_xmit', () => {
  it('rewrites the destination to RIP:port, the mapped port included, and keeps the client\'s source', () => {
    const run = runFile(NAT_GW);
    expect(run.clients.map(c => c.ok)).toEqual([true, true]);
    const dnat = run.world.records.filter(r => r.host === 'director' && r.verdict === 'dnat');
    const mapped = dnat.find(r => formatIp4(ipOf(r).dst) === '172.16.69.21')!;
    expect(tcpOf(mapped)!.dport).toBe(8080);
    expect(ipOf(mapped).src).toBe(CIP);
    expect(run.clients[0]!.greeting).toContain('local=172.16.69.21:8080');
  });

  it('sends the rewritten packet with valid IP and TCP checksums', () => {
    const run = runFile(NAT_GW);
    const tx = run.world.records.filter(r => r.host === 'director' && r.verdict === 'tx' && r.dev === 'eth0' && r.packet.pkt.proto === 'ipv4' && ipOf(r).src === CIP);
    expect(tx.length).toBeGreaterThan(4);
    for (const r of tx) {
      const p = ipOf(r);
      const bytes = encodeIpv4(p);
      expect(internetChecksum(bytes, 0, 20)).toBe(0);
      expect(transportChecksum(p.src, p.dst, 6, bytes, 20)).toBe(0);
    }
  });

  it('cannot help when the real servers answer by their own gateway: the client gets a SYN-ACK from RIP and answers RST (tcp_v4_rcv, no socket)', () => {
    const run = runFile(NAT_FAR);
    expect(run.clients[0]!.ok).toBe(false);
    expect(run.clients[0]!.error).toBe('ETIMEDOUT');
    const d = run.world.records.filter(r => r.verdict === 'drop');
    expect(new Set(d.map(r => `${r.host} ${r.reason!.code}`))).toEqual(new Set(['client tcp_no_socket']));
    expect(formatIp4((d[0]!.reason as { src: number }).src)).toBe('192.168.134.5');
    expect(explainDrop(d[0]!.reason!).fix).toContain('through the director');
    expect(run.world.records.some(r => r.host === 'client' && r.point === 'socket' && r.verdict === 'send' && ((tcpOf(r)?.flags ?? 0) & 0x04) !== 0)).toBe(true);
    expect(run.world.hosts.get('client')!.host.snmp.get('TcpOutRsts')).toBeGreaterThan(0);
    expect(exec(run, 'ipvsadm -Lnc')).toContain('SYN_RECV');
  });
});

describe('ip_vs_out_hook (handle_response at FORWARD)', () => {
  it('rewrites the reply\'s source back to VIP:vport, so the client sees the VIP answer', () => {
    const run = runFile(NAT_GW);
    const snat = run.world.records.filter(r => r.host === 'director' && r.verdict === 'snat');
    expect(snat.length).toBeGreaterThan(0);
    for (const r of snat) {
      expect(ipOf(r).src).toBe(VIP);
      expect(tcpOf(r)!.sport).toBe(9001);
    }
    const atClient = run.world.records.filter(r => r.host === 'client' && r.verdict === 'rx' && r.packet.pkt.proto === 'ipv4' && tcpOf(r));
    expect(atClient.every(r => ipOf(r).src === VIP)).toBe(true);
  });

  it('moves the connection through the full TCP state table (TIME_WAIT after the client\'s close) and counts the replies', () => {
    const run = runFile(NAT_GW);
    expect(exec(run, 'ipvsadm -Lnc').match(/TIME_WAIT/g)?.length).toBe(2);
    expect(exec(run, 'ipvsadm -Ln')).toContain('  -> 172.16.69.21:8080            Masq    1      0          1         ');
    const stats = exec(run, 'ipvsadm -Ln --stats').split('\n').find(l => l.startsWith('TCP'))!.trim().split(/\s+/);
    expect(Number(stats[4])).toBeGreaterThan(0); // OutPkts
  });

  it('leaves replies of tunnelled connections alone (they never pass the director)', () => {
    const run = runFile(REF);
    expect(run.world.records.some(r => r.verdict === 'snat' || r.verdict === 'dnat')).toBe(false);
  });
});

describe('ip_rt_send_redirect', () => {
  it('sends a NAT real server an ICMP redirect to the router when its reply leaves by the interface it came in on, at most once per rate-limit interval', () => {
    const run = runFile(NAT_GW);
    const sent = run.world.records.filter(r => r.host === 'director' && r.verdict === 'tx' && r.packet.pkt.proto === 'ipv4' && ipOf(r).payload.proto === 'icmp');
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      expect(ipOf(r).payload).toMatchObject({ type: 5, code: 1, gateway: ip4('172.16.69.1') });
      expect(formatIp4(ipOf(r).src)).toBe('172.16.69.15');
    }
    // Each real server sent several replies within a few ms: the first is redirected at once,
    // the next only after ip_rt_redirect_load << 1 (40 ms).
    const perRs = new Map<number, number>();
    for (const r of sent) perRs.set(ipOf(r).dst, (perRs.get(ipOf(r).dst) ?? 0) + 1);
    expect([...perRs.values()]).toEqual([1, 1]);
    const got = run.world.records.filter(r => r.point === 'icmp' && r.verdict === 'consumed' && (r.host === 'rs1' || r.host === 'rs2'));
    expect(got.length).toBe(2);
  });
});

describe('step lists of the forwarding methods (trace/steps.ts)', () => {
  const titles = (run: ReturnType<typeof runFile>) => {
    const steps = runSteps(run);
    return { steps, of: (r: TraceRecord) => steps.of(r.seq) };
  };

  it('labels a DR run with the DR steps: IPVS\'s xmit and the director\'s output are step 3, the real server step 4, the reply step 5', () => {
    const run = runFile(DR_LAN);
    const { steps, of } = titles(run);
    expect(steps.list.method).toBe('dr');
    const xmit = run.world.records.find(r => r.verdict === 'xmit')!;
    expect(of(xmit)).toBe(3);
    expect(of(run.world.records.find(r => r.host === 'director' && r.verdict === 'tx' && r.packet.id === xmit.packet.id)!)).toBe(3);
    expect(of(run.world.records.find(r => r.host === 'director' && r.point === 'PREROUTING' && r.packet.id === xmit.packet.id)!)).toBe(1);
    expect(of(run.world.records.find(r => (r.host === 'rs1' || r.host === 'rs2') && r.verdict === 'deliver' && r.packet.id === xmit.packet.id)!)).toBe(4);
    expect(of(run.world.records.find(r => r.host === 'client' && r.verdict === 'rx' && r.packet.pkt.proto === 'ipv4' && ipOf(r).src === VIP)!)).toBe(5);
    expect(steps.title(3)).toBe('3 sent unchanged to the real server\'s MAC');
  });

  it('labels a NAT run with the NAT steps: DNAT 3, the reply into the director 4, SNAT and on 5', () => {
    const run = runFile(NAT_GW);
    const { steps, of } = titles(run);
    expect(steps.list.method).toBe('nat');
    expect(of(run.world.records.find(r => r.verdict === 'dnat')!)).toBe(3);
    const snat = run.world.records.find(r => r.verdict === 'snat')!;
    expect(of(snat)).toBe(5);
    expect(of(run.world.records.find(r => r.host === 'director' && r.verdict === 'rx' && r.packet.id === snat.packet.id)!)).toBe(4);
    expect(of(run.world.records.find(r => r.host === 'client' && r.verdict === 'rx' && r.packet.id === snat.packet.id)!)).toBe(5);
  });

  it('keeps the TUN steps for the tunnelled reference scenario', () => {
    expect(runSteps(runFile(REF)).list.method).toBe('tun');
  });
});

/** A recorded vector of the forwarding-method group, checked against the vector schema. */
function replayable(file: string): Vector {
  const c = checkVector(JSON.parse(readFileSync(`test/fixtures/oracle/v2/${file}`, 'utf8')));
  if (!c.ok) throw new Error(`${file}: ${c.problems.map(p => `${p.path}: ${p.message}`).join('; ')}`);
  return c.vector;
}

describe('kernel vectors of the forwarding methods', () => {
  it('dr-samelan-dirprimary: the same real server, -Ln, -Lnc (FIN_WAIT) and --stats as Linux 6.1', () => {
    const v = replayable('dr-samelan-dirprimary.json');
    const r = replayVector(v, 'dr-samelan-dirprimary.json');
    expect(r.diagnostics).toEqual([]);
    expect(r.diffs).toEqual([]);
    expect(r.final['ipvsadm-Ln']).toBe(v.final!['ipvsadm-Ln']);
    expect(r.final['ipvsadm-stats']).toBe(v.final!['ipvsadm-stats']);
    expect(r.steps.map(s => s.rs)).toEqual(['172.16.29.7', '172.16.29.7']);
    // The frames the kernel saw on director:eth1: CIP -> VIP untouched, to LAN5's MAC.
    const lan5 = r.world.hosts.get('lan5')!.host.dev('eth0').mac;
    const tx = r.world.records.filter(x => x.host === 'director' && x.verdict === 'tx' && x.dev === 'eth1' && x.packet.pkt.proto === 'ipv4' && ipOf(x).dst === VIP);
    expect(tx.length).toBeGreaterThan(0);
    expect(tx.every(x => x.frame!.dst === lan5)).toBe(true);
    expect(r.world.records.filter(x => x.verdict === 'drop' && x.packet.pkt.proto === 'ipv4')).toEqual([]);
  });

  it('nat-rs-gw-dip: DNAT to DIP6, SNAT of the replies, TIME_WAIT rows and the ICMP redirects the kernel sent', () => {
    const v = replayable('nat-rs-gw-dip.json');
    const r = replayVector(v, 'nat-rs-gw-dip.json');
    expect(r.diagnostics).toEqual([]);
    expect(r.diffs).toEqual([]);
    expect(r.steps.map(s => s.rs)).toEqual(['172.16.69.20', '172.16.69.20', '172.16.69.20', '172.16.69.20']);
    // The send step: 20000 bytes through the NAT director, path MTU 1500 (MSS 1448).
    expect(r.steps[3]).toMatchObject({ server_bytes: 20000, pmtu: 1500, snd_mss: 1448 });
    const rows = r.final['ipvsadm-Lnc'].split('\n').slice(2);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/^TCP 01:5\d  TIME_WAIT   203\.0\.113\.1\d:4100\d 172\.16\.29\.6:9001   172\.16\.69\.20:9001$/);
    expect(r.final['ipvsadm-Ln']).toContain('  -> 172.16.69.20:9001            Masq    1      0          4         ');
    // observe.icmp: redirects 5/1 from 172.16.69.15 to 172.16.69.20, out of director:eth0 and into dip6:eth0.
    const seen = (host: string, verdict: 'tx' | 'rx') => r.world.records.some(x => x.host === host && x.dev === 'eth0' && x.verdict === verdict
      && x.packet.pkt.proto === 'ipv4' && ipOf(x).payload.proto === 'icmp' && (ipOf(x).payload as { type: number }).type === 5
      && formatIp4(ipOf(x).src) === '172.16.69.15' && formatIp4(ipOf(x).dst) === '172.16.69.20');
    expect(seen('director', 'tx')).toBe(true);
    expect(seen('dip6', 'rx')).toBe(true);
    // No other ICMP error on the sniffed interfaces, and the counters the vector shows at zero stay zero.
    expect(r.world.records.some(x => x.verdict === 'tx' && x.packet.pkt.proto === 'ipv4' && ipOf(x).payload.proto === 'icmp' && (ipOf(x).payload as { type: number }).type !== 5)).toBe(false);
    for (const h of ['director', 'dip6', 'client']) {
      const snmp = r.world.hosts.get(h)!.host.snmp;
      for (const k of ['IpInAddrErrors', 'IpOutNoRoutes', 'IcmpOutDestUnreachs', 'TcpExtIPReversePathFilter', 'TcpOutRsts']) expect(snmp.get(k) ?? 0, `${h} ${k}`).toBe(0);
    }
  });
});
