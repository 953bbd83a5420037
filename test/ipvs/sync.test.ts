import { describe, expect, test } from 'vitest';
import { makeHost, sh, shAll } from '../config/helpers';
import { decodeMessage, encodeMessage } from '../../src/ipvs/sync';
import { type Conn, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_NOOUTPUT, IP_VS_CONN_F_TEMPLATE, IP_VS_CONN_F_TUNNEL, TcpState } from '../../src/ipvs/ctl';
import { formatIp4, ip4 } from '../../src/net/addr';
import { Ipvs } from '../../src/ipvs/ipvs';
import type { Engine } from '../../src/sim/engine';
import type { ToolContext } from '../../src/config/tool';
import { IN_CONN, InOutcome, type InPacket, ipVsIn, ipVsInDone } from '../../src/ipvs/core';
import { TCP_ACK, TCP_FIN, TCP_SYN } from '../../src/net/packet';

describe('ip_vs_sync.c: the sync daemon as ipvsadm starts it', () => {
  test('--start-daemon / -L --daemon / --stop-daemon, with the kernel\'s errors', () => {
    const { ctx } = makeHost('director', ['eth0', 'eth1']);
    expect(sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth1').exit).toBe(0);
    expect(sh(ctx, 'ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 7').exit).toBe(0);
    expect(sh(ctx, 'ipvsadm -L --daemon').stdout).toBe('master sync daemon (mcast=eth1, syncid=0)\nbackup sync daemon (mcast=eth1, syncid=7)\n');
    const again = sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth1');
    expect([again.exit, again.stderr]).toEqual([255, 'File exists\n']);
    const nodev = sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth9');
    expect(nodev.exit).not.toBe(0);
    expect(sh(ctx, 'ipvsadm --stop-daemon master').exit).toBe(0);
    expect(sh(ctx, 'ipvsadm -L --daemon').stdout).toBe('backup sync daemon (mcast=eth1, syncid=7)\n');
    const none = sh(ctx, 'ipvsadm --stop-daemon master');
    expect([none.exit, none.stderr]).toEqual([255, 'No daemon is running\n']);
    expect(sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth1 --mcast-port 9000').stderr).toContain('not modelled');
  });

  test('a version 1 message (struct ip_vs_sync_mesg + ip_vs_sync_v4) decodes to what was encoded', () => {
    const c = { protocol: 6, flags: 0x0002, state: 1, caddr: ip4('203.0.113.10'), cport: 41001, vaddr: ip4('172.16.29.6'), vport: 9001, daddr: ip4('192.168.134.5'), dport: 9001, timeout: 900e9, control: null } as unknown as Conn;
    const b = encodeMessage(5, [c, c], 0);
    expect(b.length).toBe(8 + 2 * 36);
    expect([b[0], b[1], b[4], b[5]]).toEqual([0, 5, 2, 1]);
    const m = decodeMessage(b)!;
    expect(m.syncid).toBe(5);
    expect(m.conns[1]).toEqual({ protocol: 6, flags: 2, state: 1, caddr: c.caddr, cport: 41001, vaddr: c.vaddr, vport: 9001, daddr: c.daddr, dport: 9001, timeoutS: 900 });
    expect(decodeMessage(b.slice(0, 20))).toBeNull();
  });
});

/**
 * ip_vs_proc_conn (net/netfilter/ipvs/ip_vs_sync.c) on a backup that lacks the real server a
 * message names: ip_vs_conn_new with dest NULL, bound later by ip_vs_try_bind_dest.
 */
describe('ip_vs_proc_conn: an entry whose real server this director does not have', () => {
  const VIP = ip4('172.16.29.6');
  const RS1 = ip4('172.16.197.3');
  const RS2 = ip4('192.168.134.5');
  const CIP = ip4('203.0.113.10');
  const S = 1e9;
  // What ip_vs_proc_sync_conn passes on for the master's TUN entry: flags & IP_VS_CONN_F_BACKUP_MASK | IP_VS_CONN_F_SYNC.
  const F_SYNC = 0x0020;
  const msg = (state: number, timeoutS: number, extra = 0, daddr = RS2) => ({
    protocol: 6, flags: IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_NOOUTPUT | F_SYNC | extra, state,
    caddr: CIP, cport: 41001, vaddr: VIP, vport: 9001, daddr, dport: 9001, timeoutS,
  });
  function backup(): { ctx: ToolContext; ipvs: Ipvs; engine: Engine } {
    const { host, ctx } = makeHost('director2', ['eth0', 'eth1']);
    shAll(ctx, ['ipvsadm -A -t 172.16.29.6:9001 -s rr', 'ipvsadm -a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i']);
    return { ctx, ipvs: ctx.ipvs as Ipvs, engine: host.engine };
  }
  const at = (engine: Engine, t: number) => engine.run(Math.round(t * S));
  const lnc = (ctx: ToolContext, engine: Engine) => sh({ ...ctx, now: engine.now }, 'ipvsadm -Lnc').stdout;
  const realServers = (ipvs: Ipvs) => ipvs.services.flatMap(s => s.dests.map(d => [formatIp4(d.addr), d.activeconns, d.inactconns]));

  test('is kept unbound: ipvsadm -Lnc lists it with the state and timeout the message carried; no real server counts it', () => {
    const { ctx, ipvs, engine } = backup();
    ipvs.syncConnIn(msg(TcpState.ESTABLISHED, 900));
    expect(ipvs.conns.size).toBe(1);
    const cp = [...ipvs.conns][0]!;
    expect(cp.dest).toBeNull();
    // Not bound: it keeps the method the message named (ip_vs_bind_xmit on the message's flags).
    expect(cp.flags & IP_VS_CONN_F_FWD_MASK).toBe(IP_VS_CONN_F_TUNNEL);
    expect(lnc(ctx, engine)).toBe(
      'IPVS connection entries\npro expire state       source             virtual            destination\n'
      + 'TCP 15:00  ESTABLISHED 203.0.113.10:41001 172.16.29.6:9001   192.168.134.5:9001\n');
    expect(realServers(ipvs)).toEqual([['172.16.197.3', 0, 0]]);
    expect(sh(ctx, 'ipvsadm -Ln').stdout).not.toContain('192.168.134.5');
  });

  test('expires on its own timer: the message\'s timeout, re-armed by each later message for it', () => {
    const { ctx, ipvs, engine } = backup();
    ipvs.syncConnIn(msg(TcpState.ESTABLISHED, 900));
    at(engine, 500);
    ipvs.syncConnIn(msg(TcpState.FIN_WAIT, 120, IP_VS_CONN_F_INACTIVE));
    expect(lnc(ctx, engine)).toContain('TCP 02:00  FIN_WAIT    203.0.113.10:41001');
    at(engine, 619.9);
    expect(ipvs.conns.size).toBe(1);
    at(engine, 620.1);
    expect(ipvs.conns.size).toBe(0);
    expect(lnc(ctx, engine)).toBe('IPVS connection entries\npro expire state       source             virtual            destination\n');
    expect(engine.pending).toBe(0);
  });

  test('a message without a timeout (version 0) takes the protocol\'s timeout for its state', () => {
    const { ipvs, engine } = backup();
    ipvs.syncConnIn(msg(TcpState.FIN_WAIT, 0, IP_VS_CONN_F_INACTIVE));
    at(engine, 119.9);
    expect(ipvs.conns.size).toBe(1);
    at(engine, 120.1);
    expect(ipvs.conns.size).toBe(0);
  });

  test('adding the real server binds nothing; the entry\'s next message binds it (ip_vs_try_bind_dest): counters, and the method of the real server', () => {
    const { ctx, ipvs, engine } = backup();
    ipvs.syncConnIn(msg(TcpState.ESTABLISHED, 900));
    const cp = [...ipvs.conns][0]!;
    // The backup's real server is direct routing (-g): the entry will take that method when bound.
    shAll(ctx, ['ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -g']);
    expect(cp.dest).toBeNull();
    expect(realServers(ipvs)).toEqual([['192.168.134.5', 0, 0], ['172.16.197.3', 0, 0]]);
    at(engine, 30);
    ipvs.syncConnIn(msg(TcpState.ESTABLISHED, 900));
    expect(cp.dest && formatIp4(cp.dest.addr)).toBe('192.168.134.5');
    expect(realServers(ipvs)).toEqual([['192.168.134.5', 1, 0], ['172.16.197.3', 0, 0]]);
    expect(cp.flags & IP_VS_CONN_F_FWD_MASK).toBe(IP_VS_CONN_F_DROUTE);
    expect(sh(ctx, 'ipvsadm -Ln').stdout).toContain('  -> 192.168.134.5:9001           Route   1      1          0');
    // Bound, it moves between active and inactive as the master says, and leaves the counters when it expires.
    ipvs.syncConnIn(msg(TcpState.FIN_WAIT, 120, IP_VS_CONN_F_INACTIVE));
    expect(realServers(ipvs)).toEqual([['192.168.134.5', 0, 1], ['172.16.197.3', 0, 0]]);
    at(engine, 151);
    expect(ipvs.conns.size).toBe(0);
    expect(realServers(ipvs)).toEqual([['192.168.134.5', 0, 0], ['172.16.197.3', 0, 0]]);
  });

  test('bound by a message that says it is inactive: inactconns, as ip_vs_bind_dest keeps the activity flag of a synced entry', () => {
    const { ctx, ipvs } = backup();
    ipvs.syncConnIn(msg(TcpState.ESTABLISHED, 900));
    const cp = [...ipvs.conns][0];
    shAll(ctx, ['ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i']);
    ipvs.syncConnIn(msg(TcpState.TIME_WAIT, 120, IP_VS_CONN_F_INACTIVE));
    // The same entry, now bound (not a new one).
    expect([...ipvs.conns]).toEqual([cp]);
    expect(cp?.dest && formatIp4(cp.dest.addr)).toBe('192.168.134.5');
    expect(realServers(ipvs)).toEqual([['192.168.134.5', 0, 1], ['172.16.197.3', 0, 0]]);
    expect(cp!.flags & IP_VS_CONN_F_FWD_MASK).toBe(IP_VS_CONN_F_TUNNEL);
  });

  test('a persistence template synced without its real server is unbound too; the client\'s next SYN here finds it invalid (ip_vs_check_template) and is scheduled afresh', () => {
    const { ctx, ipvs, engine } = backup();
    shAll(ctx, ['ipvsadm -E -t 172.16.29.6:9001 -s rr -p 300']);
    ipvs.syncConnIn({ protocol: 6, flags: IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_NOOUTPUT | IP_VS_CONN_F_TEMPLATE | F_SYNC, state: 0, caddr: CIP, cport: 0, vaddr: VIP, vport: 9001, daddr: RS2, dport: 9001, timeoutS: 300 });
    expect(lnc(ctx, engine)).toContain('TCP 05:00  NONE        203.0.113.10:0     172.16.29.6:9001   192.168.134.5:9001');
    expect(ipvs.services[0]!.dests[0]!.persistconns).toBe(0);
    const out = new InOutcome();
    const p: InPacket = { protocol: 6, saddr: CIP, sport: 41002, daddr: VIP, dport: 9001, flags: TCP_SYN, bytes: 60 };
    expect(ipVsIn(ipvs, ctx.host.sysctl, p, out)).toBe(IN_CONN);
    expect(out.scheduled).toBe(true);
    expect(formatIp4(out.cp!.daddr)).toBe('172.16.197.3');
    ipVsInDone(ipvs, out.cp!);
    // The old template stays listed, re-hashed with ports 65535 so nothing finds it, until its timer ends it.
    expect(lnc(ctx, engine)).toContain('TCP 05:00  NONE        203.0.113.10:0     172.16.29.6:65535  192.168.134.5:65535');
  });

  test('a client packet on the unbound entry goes through ip_vs_in: the state moves, no real server counts it, the transmitter is the message\'s', () => {
    const { ctx, ipvs, engine } = backup();
    ipvs.syncConnIn(msg(TcpState.ESTABLISHED, 900));
    const p: InPacket = { protocol: 6, saddr: CIP, sport: 41001, daddr: VIP, dport: 9001, flags: TCP_FIN | TCP_ACK, bytes: 52 };
    const out = new InOutcome();
    expect(ipVsIn(ipvs, ctx.host.sysctl, p, out)).toBe(IN_CONN);
    expect(out.scheduled).toBe(false);
    expect(out.cp!.dest).toBeNull();
    expect(Ipvs.stateName(out.cp!)).toBe('FIN_WAIT');
    ipVsInDone(ipvs, out.cp!);
    expect(realServers(ipvs)).toEqual([['172.16.197.3', 0, 0]]);
    expect(ipvs.liveStats('total').inpkts).toBe(0);
    expect(lnc(ctx, engine)).toContain('TCP 02:00  FIN_WAIT    203.0.113.10:41001 172.16.29.6:9001   192.168.134.5:9001');
  });
});
