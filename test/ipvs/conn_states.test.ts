import { describe, expect, it } from 'vitest';
import { ACK, FIN, PSH, RST, S, SYN, counts, director, remaining, rs, tsvc, VIP } from './world';
import { Ipvs } from '../../src/ipvs/ipvs';
import { IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_NOOUTPUT, IP_VS_CONN_F_TUNNEL, TcpState } from '../../src/ipvs/ctl';
import { TCP_STATES, tcpNextState, TCP_DIR_INPUT_ONLY } from '../../src/ipvs/proto_tcp';

function oneServer() {
  const d = director();
  d.ipvs.addService(tsvc());
  d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
  return d;
}

describe('set_tcp_state (INPUT_ONLY table)', () => {
  it('follows a TUN connection as the director sees it (SYN, ACK, data, FIN, ACK) step by step', () => {
    const d = oneServer();
    const rs1 = d.dest('10.1.0.1');
    const r = d.send('203.0.113.7', 40000, SYN);
    expect(r.v).toBe('xmit');
    if (r.v !== 'xmit') return;
    const cp = r.conn;
    expect(cp.flags & (IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_NOOUTPUT)).toBe(IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_NOOUTPUT);
    expect(Ipvs.stateName(cp)).toBe('SYN_RECV');
    expect(counts(rs1)).toEqual([1, 0]);
    expect(remaining(d, cp)).toBe(60);

    d.wait(0.01);
    d.send('203.0.113.7', 40000, ACK);
    expect(Ipvs.stateName(cp)).toBe('ESTABLISHED');
    expect(counts(rs1)).toEqual([1, 0]);
    expect(remaining(d, cp)).toBe(900);

    d.send('203.0.113.7', 40000, ACK | PSH, { bytes: 100 });
    expect(Ipvs.stateName(cp)).toBe('ESTABLISHED');

    d.wait(1);
    d.send('203.0.113.7', 40000, FIN | ACK);
    expect(Ipvs.stateName(cp)).toBe('FIN_WAIT');
    expect(counts(rs1)).toEqual([0, 1]);
    expect(cp.flags & IP_VS_CONN_F_INACTIVE).toBeTruthy();
    expect(remaining(d, cp)).toBe(120);

    d.wait(0.5);
    d.send('203.0.113.7', 40000, ACK);
    expect(Ipvs.stateName(cp)).toBe('FIN_WAIT');
    expect(counts(rs1)).toEqual([0, 1]);

    // expires 120 s after the last packet, not after the FIN
    d.wait(119.9);
    expect(d.ipvs.conns.size).toBe(1);
    expect(counts(rs1)).toEqual([0, 1]);
    d.wait(0.2);
    expect(d.ipvs.conns.size).toBe(0);
    expect(counts(rs1)).toEqual([0, 0]);
    expect(d.engine.pending).toBe(0);
  });

  it('a held connection stays active 900 s, then counts inactive after its release', () => {
    const d = oneServer();
    const rs1 = d.dest('10.1.0.1');
    d.send('203.0.113.7', 40000, SYN);
    d.send('203.0.113.7', 40000, ACK);
    d.wait(600);
    expect(counts(rs1)).toEqual([1, 0]);
    d.send('203.0.113.7', 40000, FIN | ACK);
    expect(counts(rs1)).toEqual([0, 1]);
    d.wait(121);
    expect(counts(rs1)).toEqual([0, 0]);
  });

  it('an idle ESTABLISHED entry expires 900 s after its last packet', () => {
    const d = oneServer();
    d.send('203.0.113.7', 40000, SYN);
    d.send('203.0.113.7', 40000, ACK);
    d.wait(899.9);
    expect(d.ipvs.conns.size).toBe(1);
    d.wait(0.2);
    expect(d.ipvs.conns.size).toBe(0);
    expect(counts(d.dest('10.1.0.1'))).toEqual([0, 0]);
  });

  it('RST in ESTABLISHED -> CLOSE, inactive, 10 s', () => {
    const d = oneServer();
    d.send('203.0.113.7', 40000, SYN);
    const r = d.send('203.0.113.7', 40000, ACK);
    if (r.v !== 'xmit') throw new Error();
    d.send('203.0.113.7', 40000, RST | ACK);
    expect(Ipvs.stateName(r.conn)).toBe('CLOSE');
    expect(counts(d.dest('10.1.0.1'))).toEqual([0, 1]);
    expect(remaining(d, r.conn)).toBe(10);
    d.wait(10.1);
    expect(d.ipvs.conns.size).toBe(0);
  });

  it('a packet with no flags moves to CLOSE without a table lookup', () => {
    const d = oneServer();
    const r = d.send('203.0.113.7', 40000, SYN);
    if (r.v !== 'xmit') throw new Error();
    d.send('203.0.113.7', 40000, 0);
    expect(r.conn.state).toBe(TcpState.CLOSE);
  });

  it('a SYN that finds no entry and a non-SYN that finds none: only the SYN is scheduled', () => {
    const d = oneServer();
    expect(d.send('203.0.113.7', 40000, ACK).v).toBe('accept');
    expect(d.send('203.0.113.7', 40000, SYN | RST).v).toBe('accept');
    expect(d.ipvs.conns.size).toBe(0);
  });

  it('secure_tcp=3 uses tcp_states_dos: a SYN makes SYNACK', () => {
    const d = oneServer();
    d.sysctl.set('net.ipv4.vs.secure_tcp', '3');
    const r = d.send('203.0.113.7', 40000, SYN);
    if (r.v !== 'xmit') throw new Error();
    expect(Ipvs.stateName(r.conn)).toBe('SYNACK');
    expect(counts(d.dest('10.1.0.1'))).toEqual([1, 0]);
  });

  it('the INPUT_ONLY rows are those of tcp_states in net/netfilter/ipvs/ip_vs_proto_tcp.c', () => {
    const rows = TCP_STATES.slice(8).map((r) => r.join(','));
    expect(rows).toEqual([
      '3,1,1,3,3,3,3,3,3,3,3',
      '6,4,2,5,4,5,6,7,8,9,5',
      '1,1,2,1,4,5,6,7,6,9,1',
      '6,6,6,3,6,6,6,6,8,9,6',
    ]);
    expect(tcpNextState(TcpState.LAST_ACK, RST | ACK, TCP_DIR_INPUT_ONLY, false)).toBe(TcpState.LAST_ACK);
  });
});

describe('UDP (udp_state_transition)', () => {
  it('shows UDP, stays inactive, 300 s or --set udp', () => {
    const d = director();
    const svc = { protocol: 'udp' as const, addr: VIP, port: 53, scheduler: 'rr' };
    d.ipvs.addService(svc);
    d.ipvs.addDest(svc, rs('10.1.0.1', {}, 53));
    const r = d.send('203.0.113.7', 5000, 0, { proto: 17, vport: 53 });
    if (r.v !== 'xmit') throw new Error();
    expect(Ipvs.stateName(r.conn)).toBe('UDP');
    expect(counts(d.dest('10.1.0.1', 53))).toEqual([0, 1]);
    expect(remaining(d, r.conn)).toBe(300);
    d.ipvs.setTimeouts({ tcp: 0, tcpfin: 0, udp: 30 });
    d.send('203.0.113.7', 5000, 0, { proto: 17, vport: 53 });
    expect(remaining(d, r.conn)).toBe(30);
    expect(d.ipvs.connections()[0]!.state).toBe('UDP');
  });
});

describe('conn_reuse_mode (is_new_conn_expected)', () => {
  function closed(flagsToEnd: number[]) {
    const d = oneServer();
    d.ipvs.addDest(tsvc(), rs('10.1.0.2'));
    const first = d.send('203.0.113.7', 40000, SYN);
    if (first.v !== 'xmit') throw new Error();
    for (const f of flagsToEnd) d.send('203.0.113.7', 40000, f);
    return { d, first };
  }

  it('reschedules a SYN that hits an entry in CLOSE', () => {
    const { d, first } = closed([ACK, RST]);
    const again = d.send('203.0.113.7', 40000, SYN);
    if (again.v !== 'xmit') throw new Error();
    expect(again.conn).not.toBe(first.conn);
    expect(again.rs).not.toBe(first.rs); // rr moved on
    // the old entry is expired by a timer event at the same instant
    expect(d.ipvs.conns.size).toBe(2);
    d.wait(0);
    expect(d.ipvs.conns.size).toBe(1);
    expect(d.ipvs.connInGet(6, first.conn.caddr, 40000, VIP, 80)).toBe(again.conn);
  });

  it('reschedules in TIME_WAIT (FIN from SYN_RECV)', () => {
    const { d, first } = closed([FIN]);
    expect(first.conn.state).toBe(TcpState.TIME_WAIT);
    const again = d.send('203.0.113.7', 40000, SYN);
    if (again.v !== 'xmit') throw new Error();
    expect(again.conn).not.toBe(first.conn);
  });

  it('does not reschedule in FIN_WAIT with the default mode 1: the old entry goes back to SYN_RECV', () => {
    const { d, first } = closed([ACK, FIN | ACK]);
    expect(first.conn.state).toBe(TcpState.FIN_WAIT);
    const again = d.send('203.0.113.7', 40000, SYN);
    if (again.v !== 'xmit') throw new Error();
    expect(again.conn).toBe(first.conn);
    expect(Ipvs.stateName(first.conn)).toBe('SYN_RECV');
    expect(counts(d.dest(first.rs))).toEqual([1, 0]);
  });

  it('reschedules in FIN_WAIT when bit 2 of conn_reuse_mode is set', () => {
    const { d, first } = closed([ACK, FIN | ACK]);
    d.sysctl.set('net.ipv4.vs.conn_reuse_mode', '3');
    const again = d.send('203.0.113.7', 40000, SYN);
    if (again.v !== 'xmit') throw new Error();
    expect(again.conn).not.toBe(first.conn);
  });

  it('conn_reuse_mode=0 never reschedules', () => {
    const { d, first } = closed([ACK, RST]);
    d.sysctl.set('net.ipv4.vs.conn_reuse_mode', '0');
    const again = d.send('203.0.113.7', 40000, SYN);
    if (again.v !== 'xmit') throw new Error();
    expect(again.conn).toBe(first.conn);
  });
});

describe('ipvsadm --set (ip_vs_set_timeout)', () => {
  it('changes ESTABLISHED and FIN_WAIT timeouts for later transitions; 0 keeps a value', () => {
    const d = oneServer();
    expect(d.ipvs.timeouts()).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
    d.ipvs.setTimeouts({ tcp: 900, tcpfin: 5, udp: 0 });
    expect(d.ipvs.timeouts()).toEqual({ tcp: 900, tcpfin: 5, udp: 300 });
    const r = d.send('203.0.113.7', 40000, SYN);
    if (r.v !== 'xmit') throw new Error();
    d.send('203.0.113.7', 40000, ACK);
    d.send('203.0.113.7', 40000, FIN | ACK);
    expect(remaining(d, r.conn)).toBe(5);
    d.wait(5.01);
    expect(d.ipvs.conns.size).toBe(0);
  });

  it('rejects negative values with EINVAL', () => {
    const d = oneServer();
    expect(() => d.ipvs.setTimeouts({ tcp: -1, tcpfin: 0, udp: 0 })).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
  });
});

void S;
