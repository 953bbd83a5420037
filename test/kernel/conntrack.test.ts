/**
 * nf_conntrack as rule sets see it: the TCP tracker's states and timeouts, RELATED ICMP errors,
 * INVALID packets, the generic tracker for IP-in-IP, and IPVS's net.ipv4.vs.conntrack.
 */
import { describe, expect, it } from 'vitest';
import { makeHost, sh, shAll } from '../config/helpers';
import { ip4 } from '../../src/net/addr';
import { type Ipv4, type Tcp, IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/net/packet';
import type { Skb } from '../../src/kernel/skb';
import { conntrackOf, ctStateBit, IP_CT_NEW } from '../../src/kernel/conntrack';
import { CT_STATE_ESTABLISHED, CT_STATE_INVALID, CT_STATE_NEW, CT_STATE_RELATED } from '../../src/kernel/xtables';
import { runFile } from '../world/helpers';

const A = ip4('10.0.0.1');
const B = ip4('10.0.0.2');

function tcp(src: number, dst: number, sport: number, dport: number, flags: number): Ipv4 {
  const t: Tcp = { proto: 'tcp', sport, dport, seq: 1, ack: 1, flags, window: 100, data: new Uint8Array(0) };
  return { proto: 'ipv4', src, dst, protocol: IPPROTO_TCP, ttl: 64, tos: 0, id: 0, df: true, payload: t };
}

/** A host with conntrack in use (a state rule), and a function that passes a packet through PREROUTING and INPUT. */
function tracked() {
  const { host, ctx } = makeHost('h', ['eth0']);
  shAll(ctx, ['iptables -A INPUT -m state --state INVALID -j DROP']);
  const dev = host.dev('eth0');
  const pass = (p: Ipv4): { skb: Skb; state: number; tcp: string | null } => {
    const skb: Skb = { id: 1, pkt: p, dev };
    host.nf.run(skb, 'PREROUTING', dev, null);
    const state = ctStateBit(skb);
    host.nf.run(skb, 'INPUT', dev, null);
    return { skb, state, tcp: skb.ct ? ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'][skb.ct.tcpState] : null };
  };
  return { host, ctx, pass };
}

describe('nf_conntrack_in and the TCP tracker (tcp_conntracks)', () => {
  it('a handshake and close: NEW, ESTABLISHED both ways, then FIN_WAIT, LAST_ACK, TIME_WAIT', () => {
    const { host, pass } = tracked();
    expect(pass(tcp(A, B, 1000, 80, TCP_SYN))).toMatchObject({ state: CT_STATE_NEW, tcp: 'SYN_SENT' });
    expect(pass(tcp(B, A, 80, 1000, TCP_SYN | TCP_ACK))).toMatchObject({ state: CT_STATE_ESTABLISHED, tcp: 'SYN_RECV' });
    expect(pass(tcp(A, B, 1000, 80, TCP_ACK))).toMatchObject({ state: CT_STATE_ESTABLISHED, tcp: 'ESTABLISHED' });
    expect(pass(tcp(A, B, 1000, 80, TCP_FIN | TCP_ACK))).toMatchObject({ tcp: 'FIN_WAIT' });
    expect(pass(tcp(B, A, 80, 1000, TCP_FIN | TCP_ACK))).toMatchObject({ tcp: 'LAST_ACK' });
    expect(pass(tcp(A, B, 1000, 80, TCP_ACK))).toMatchObject({ tcp: 'TIME_WAIT' });
    const [c] = conntrackOf(host)!.entries;
    expect(c.expires - host.engine.now).toBe(120e9);
    expect(sh({ host, ipvs: null as never, now: 0, files: new Map() }, 'conntrack -L').stdout)
      .toBe('tcp      6 120 TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1000 [ASSURED] mark=0 use=1\n');
  });

  it('an unanswered SYN lives nf_conntrack_tcp_timeout_syn_sent seconds; the sysctl changes it', () => {
    const { host, ctx, pass } = tracked();
    shAll(ctx, ['sysctl -w net.netfilter.nf_conntrack_tcp_timeout_syn_sent=30']);
    pass(tcp(A, B, 1000, 80, TCP_SYN));
    expect(sh(ctx, 'conntrack -L').stdout).toBe('tcp      6 30 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=80 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1000 mark=0 use=1\n');
    host.engine.run(31e9);
    expect(sh({ ...ctx, now: host.engine.now }, 'conntrack -L').stdout).toBe('');
  });

  it('established entries last nf_conntrack_tcp_timeout_established (5 days)', () => {
    const { host, pass } = tracked();
    pass(tcp(A, B, 1000, 80, TCP_SYN));
    pass(tcp(B, A, 80, 1000, TCP_SYN | TCP_ACK));
    pass(tcp(A, B, 1000, 80, TCP_ACK));
    expect(conntrackOf(host)!.entries[0].expires).toBe(432000e9);
  });

  it('a RST or a FIN without an entry is INVALID (tcp_new refuses it); a bare ACK is picked up (nf_conntrack_tcp_loose)', () => {
    const { pass, ctx } = tracked();
    expect(pass(tcp(A, B, 1, 80, TCP_RST)).state).toBe(CT_STATE_INVALID);
    expect(pass(tcp(A, B, 2, 80, TCP_FIN)).state).toBe(CT_STATE_INVALID);
    expect(pass(tcp(A, B, 3, 80, TCP_ACK))).toMatchObject({ state: CT_STATE_NEW, tcp: 'ESTABLISHED' });
    shAll(ctx, ['sysctl -w net.netfilter.nf_conntrack_tcp_loose=0']);
    expect(pass(tcp(A, B, 4, 80, TCP_ACK)).state).toBe(CT_STATE_INVALID);
    // The INVALID rule counted the three refused packets.
    expect(sh(ctx, 'iptables -L INPUT -v -n -x').stdout.split('\n')[2]).toMatch(/^\s+3\s+120 DROP/);
  });

  it('a dropped first packet leaves no entry (nf_confirm never runs)', () => {
    const { host, ctx, pass } = tracked();
    shAll(ctx, ['iptables -I INPUT -p tcp --dport 81 -j DROP']);
    pass(tcp(A, B, 1000, 81, TCP_SYN));
    expect(conntrackOf(host)!.entries).toEqual([]);
  });

  it('an ICMP error quoting a tracked flow is RELATED; one quoting nothing tracked is INVALID', () => {
    const { host, pass } = tracked();
    pass(tcp(A, B, 1000, 80, TCP_SYN));
    const err = (q: Ipv4): Ipv4 => ({ proto: 'ipv4', src: ip4('10.0.0.254'), dst: A, protocol: 1, ttl: 64, tos: 0, id: 0, df: false, payload: { proto: 'icmp', type: 3, code: 4, mtu: 1400, quoted: q, quotedLen: 28 } });
    expect(pass(err(tcp(A, B, 1000, 80, TCP_ACK))).state).toBe(CT_STATE_RELATED);
    expect(pass(err(tcp(A, B, 9999, 80, TCP_ACK))).state).toBe(CT_STATE_INVALID);
    expect(conntrackOf(host)!.entries).toHaveLength(1);
    void IP_CT_NEW;
  });
});

describe('conntrack beside IPVS (net.ipv4.vs.conntrack)', () => {
  // A counting rule (no target) is enough to bring conntrack's hooks in.
  const COUNT_INVALID = '      iptables -A INPUT -m conntrack --ctstate INVALID\n';
  const withRule = (t: string, extra = '') => t.replace('      ipvsadm -C\n', `      ipvsadm -C\n${COUNT_INVALID}${extra}`);
  const REF = 'scenarios/tun-different-subnets.yaml';

  it('vs.conntrack=0: client connections are never confirmed on the director; the tunnel is tracked as protocol 4', () => {
    const run = runFile(REF, { edit: t => withRule(t) });
    expect(run.clients.map(c => c.state)).toEqual(['closed', 'closed']);
    const rows = conntrackOf(run.world.hosts.get('director')!.host)!.entries;
    expect(rows.filter(r => r.proto === 6)).toEqual([]);
    expect(rows.filter(r => r.proto === 4).map(r => r.dst).sort()).toEqual([ip4('172.16.197.3'), ip4('192.168.134.5')].sort());
    // Each packet is looked up afresh: the client's FIN, with no entry to belong to, is INVALID (tcp_new refuses FIN).
    expect(run.world.exec('director', 'iptables -L INPUT -v -n -x').stdout.split('\n')[2]).toMatch(/^\s+2\s+\d+\s+0 /);
  });

  it('vs.conntrack=1: IPVS confirms them (ip_vs_confirm_conntrack); the director sees one direction only, so the client\'s ACK in SYN_SENT is INVALID', () => {
    // The entry stays SYN_SENT (the ACKs are refused), so it would expire 120 s after the SYN: keep it for the listing.
    const run = runFile(REF, { edit: t => withRule(t, '      sysctl -w net.ipv4.vs.conntrack=1 net.netfilter.nf_conntrack_tcp_timeout_syn_sent=1000\n') });
    const out = run.world.exec('director', 'conntrack -L').stdout;
    expect(out).toMatch(/^tcp      6 \d+ SYN_SENT src=203\.0\.113\.10 dst=172\.16\.29\.6 sport=40001 dport=9001 \[UNREPLIED\] /m);
    const invalid = Number(run.world.exec('director', 'iptables -L INPUT -v -n -x').stdout.split('\n')[2].trim().split(/\s+/)[0]);
    expect(invalid).toBeGreaterThan(2);
  });
});

describe('the raw table\'s NOTRACK / CT --notrack (xt_CT)', () => {
  it('leaves the packet untracked: no entry, and -m state --state UNTRACKED matches it', () => {
    const { host, ctx, pass } = tracked();
    shAll(ctx, ['iptables -t raw -A PREROUTING -p tcp --dport 9001 -j NOTRACK', 'iptables -t raw -A PREROUTING -p tcp --dport 9002 -j CT --notrack', 'iptables -I INPUT -m state --state UNTRACKED']);
    expect(pass(tcp(A, B, 1000, 9001, TCP_SYN)).state).toBe(1 << 6);
    expect(pass(tcp(A, B, 1000, 9002, TCP_SYN)).state).toBe(1 << 6);
    expect(pass(tcp(A, B, 1000, 9003, TCP_SYN)).state).toBe(CT_STATE_NEW);
    expect(conntrackOf(host)!.entries.map(e => e.dport)).toEqual([9003]);
    expect(sh(ctx, 'iptables -t raw -S PREROUTING').stdout).toBe('-P PREROUTING ACCEPT\n-A PREROUTING -p tcp -m tcp --dport 9001 -j NOTRACK\n-A PREROUTING -p tcp -m tcp --dport 9002 -j CT --notrack\n');
    expect(sh(ctx, 'iptables -S INPUT').stdout.split('\n')[1]).toBe('-A INPUT -m state --state UNTRACKED');
    expect(sh(ctx, 'iptables -t raw -L PREROUTING -n').stdout.split('\n').slice(2, 4)).toEqual([
      'CT         6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:9001 NOTRACK',
      'CT         6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:9002 CT notrack',
    ]);
  });
  it('is refused outside the raw table, as xt_CT\'s checkentry refuses it', () => {
    const { ctx } = makeHost('h', ['eth0']);
    expect(sh(ctx, 'iptables -A INPUT -j NOTRACK').stderr).toBe("iptables: Invalid argument. Run `dmesg' for more information.\n");
    expect(sh(ctx, 'dmesg').stdout).toContain('x_tables: ip_tables: CT target: only valid in raw table, not filter');
  });
});
