import { describe, expect, test } from 'vitest';
import { makeHost, shAll } from '../config/helpers';
import { TCP_TIMEWAIT_NS, type TcpSock, table, tcpConnect, tcpV4Rcv } from '../../src/kernel/tcp';
import { EMPTY, IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_SYN } from '../../src/net/packet';
import { ip4 } from '../../src/net/addr';
import { NS_PER_MS, NS_PER_S } from '../../src/sim/engine';
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

describe('TCP retransmission timeout (tcp_rtt_estimator, __tcp_set_rto)', () => {
  /** A segment from the peer with a timestamp option echoing `tsecr`. */
  function rcvTs(host: Host, seq: number, ack: number, flags: number, tsecr: number): void {
    tcpV4Rcv(host, {
      id: host.ids.next(), dev: host.dev('eth0'),
      pkt: { proto: 'ipv4', src: PEER, dst: LOCAL, protocol: IPPROTO_TCP, ttl: 64, tos: 0, id: 0, df: true,
        payload: { proto: 'tcp', sport: 80, dport: 40000, seq: seq >>> 0, ack: ack >>> 0, flags, window: 502, data: EMPTY, options: { ts: [1, tsecr >>> 0] } } },
    });
  }
  const retrans = (host: Host): number => host.snmp.get('TcpRetransSegs') ?? 0;

  /** Connected with a 3 ms SYN -> SYN-ACK round trip (the first RTT sample), then 100 bytes sent. */
  function sentAfter3msHandshake(): { host: Host; s: TcpSock } {
    const { host, ctx } = makeHost('c', ['eth0']);
    shAll(ctx, ['ip link set eth0 up', 'ip addr add 10.0.0.1/24 dev eth0']);
    const s = tcpConnect(host, LOCAL, 40000, PEER, 80, {}) as TcpSock;
    host.engine.run(3 * NS_PER_MS);
    rcv(host, 1000, s.iss + 1, TCP_SYN | TCP_ACK);
    expect(s.state).toBe('ESTABLISHED');
    s.send(new Uint8Array(100));
    return { host, s };
  }

  test('after a 3 ms RTT the first retransmission comes srtt + tcp_rto_min = 203 ms later, in whole 4 ms jiffies (204 ms), then doubles', () => {
    const { host } = sentAfter3msHandshake();
    host.engine.run((3 + 204) * NS_PER_MS - 1);
    expect(retrans(host)).toBe(0);
    host.engine.run((3 + 204) * NS_PER_MS);
    expect(retrans(host)).toBe(1);
    host.engine.run((3 + 204 + 408) * NS_PER_MS - 1);
    expect(retrans(host)).toBe(1);
    host.engine.run((3 + 204 + 408) * NS_PER_MS);
    expect(retrans(host)).toBe(2);
  });

  test('an ACK of a retransmission gives no sequence sample (Karn); the echoed timestamp gives one', () => {
    // Without a timestamp: no sample, the backed-off timeout (408 ms) stays.
    const a = sentAfter3msHandshake();
    a.host.engine.run(300 * NS_PER_MS);
    expect(retrans(a.host)).toBe(1);
    a.s.send(new Uint8Array(10));
    rcv(a.host, 1001, a.s.sndNxt - 10, TCP_ACK);
    a.host.engine.run(300 * NS_PER_MS + 408 * NS_PER_MS - 1);
    expect(retrans(a.host)).toBe(1);
    a.host.engine.run(300 * NS_PER_MS + 408 * NS_PER_MS);
    expect(retrans(a.host)).toBe(2);

    // Echoing the retransmission's timestamp (sent at 207 ms): a 93 ms sample. srtt 3 -> 14.25 ms,
    // rttvar stays tcp_rto_min: 214.25 ms, 54 jiffies = 216 ms.
    const b = sentAfter3msHandshake();
    b.host.engine.run(300 * NS_PER_MS);
    const tsOffset = (b.s as unknown as { tsOffset: number }).tsOffset;
    b.s.send(new Uint8Array(10));
    rcvTs(b.host, 1001, b.s.sndNxt - 10, TCP_ACK, 207 + tsOffset);
    b.host.engine.run(300 * NS_PER_MS + 216 * NS_PER_MS - 1);
    expect(retrans(b.host)).toBe(1);
    b.host.engine.run(300 * NS_PER_MS + 216 * NS_PER_MS);
    expect(retrans(b.host)).toBe(2);
  });
});
