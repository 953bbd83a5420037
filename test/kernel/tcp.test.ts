import { describe, expect, test } from 'vitest';
import { makeHost, shAll } from '../config/helpers';
import { TCP_TIMEWAIT_NS, type TcpSock, table, tcpConnect, tcpV4Rcv } from '../../src/kernel/tcp';
import { EMPTY, IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_SYN } from '../../src/net/packet';
import { ip4 } from '../../src/net/addr';
import { NS_PER_S } from '../../src/sim/engine';
import type { Host } from '../../src/kernel/host';

const LOCAL = ip4('10.0.0.1');
const PEER = ip4('10.0.0.2');

/** A segment from the peer, handed to tcp_v4_rcv as if it had come in on eth0. */
function rcv(host: Host, seq: number, ack: number, flags: number): void {
  tcpV4Rcv(host, {
    id: host.ids.next(), dev: host.dev('eth0'),
    pkt: { proto: 'ipv4', src: PEER, dst: LOCAL, protocol: IPPROTO_TCP, ttl: 64, tos: 0, id: 0, df: true,
      payload: { proto: 'tcp', sport: 80, dport: 40000, seq: seq >>> 0, ack: ack >>> 0, flags, window: 502, data: EMPTY } },
  });
}

function established(): { host: Host; s: TcpSock; closed: () => number } {
  const { host, ctx } = makeHost('c', ['eth0']);
  shAll(ctx, ['ip link set eth0 up', 'ip addr add 10.0.0.1/24 dev eth0']);
  let closed = 0;
  const s = tcpConnect(host, LOCAL, 40000, PEER, 80, { onClosed: () => { closed++; } }) as TcpSock;
  rcv(host, 1000, s.iss + 1, TCP_SYN | TCP_ACK);
  expect(s.state).toBe('ESTABLISHED');
  return { host, s, closed: () => closed };
}

const hashed = (host: Host, s: TcpSock): boolean => table(host).socks.get(s.laddr, s.lport, s.raddr, s.rport) === s;

describe('TCP TIME_WAIT', () => {
  test('FIN_WAIT2 -> TIME_WAIT: closed once; a retransmitted FIN restarts the 60 s period', () => {
    const { host, s, closed } = established();
    s.shutdown();
    expect(s.state).toBe('FIN_WAIT1');
    rcv(host, 1001, s.sndNxt, TCP_FIN | TCP_ACK);
    expect(s.state).toBe('TIME_WAIT');
    host.engine.run(30 * NS_PER_S);
    rcv(host, 1001, s.sndNxt, TCP_FIN | TCP_ACK); // our last ACK was lost: the peer sends its FIN again
    host.engine.run(30 * NS_PER_S + TCP_TIMEWAIT_NS - 1);
    expect(hashed(host, s)).toBe(true);
    host.engine.run(30 * NS_PER_S + TCP_TIMEWAIT_NS + 1);
    expect(hashed(host, s)).toBe(false);
    expect(s.state).toBe('CLOSED');
    expect(closed()).toBe(1);
  });

  test('CLOSING -> TIME_WAIT (simultaneous close): one TIME_WAIT period, closed once', () => {
    const { host, s, closed } = established();
    s.shutdown();
    const finSeq = s.sndNxt - 1;
    rcv(host, 1001, finSeq, TCP_FIN | TCP_ACK); // their FIN crosses ours: it does not ACK our FIN
    expect(s.state).toBe('CLOSING');
    rcv(host, 1002, s.sndNxt, TCP_ACK);
    expect(s.state).toBe('TIME_WAIT');
    const pending = host.engine.pending;
    host.engine.run(TCP_TIMEWAIT_NS + NS_PER_S);
    expect(hashed(host, s)).toBe(false);
    expect(closed()).toBe(1);
    expect(pending).toBeGreaterThan(0);
  });
});
