import { describe, expect, test } from 'vitest';
import { makeHost, shAll } from '../config/helpers';
import { ipSend } from '../../src/kernel/ip';
import { UNRES_QLEN } from '../../src/kernel/neigh';
import { CountingSink } from '../../src/trace/sink';
import { EMPTY, IPPROTO_UDP } from '../../src/net/packet';
import { ip4 } from '../../src/net/addr';
import { NS_PER_S } from '../../src/sim/engine';

describe('neighbour queue', () => {
  test('at most unres_qlen packets wait for ARP; the oldest are dropped first, the rest when resolution fails', () => {
    const { host, ctx } = makeHost('h', ['eth0']);
    shAll(ctx, ['ip link set eth0 up', 'ip addr add 10.0.0.1/24 dev eth0']);
    const sink = new CountingSink();
    host.setTraceSink(sink);
    const sent = UNRES_QLEN + 4;
    for (let i = 0; i < sent; i++) {
      ipSend(host, { proto: 'ipv4', src: 0, dst: ip4('10.0.0.9'), protocol: IPPROTO_UDP, ttl: 64, tos: 0, id: i, df: false, payload: { proto: 'udp', sport: 5000, dport: 53, data: EMPTY } });
    }
    expect(sink.drops.get('neigh_queue_full')).toBe(4);
    expect(host.neighLookup('eth0', ip4('10.0.0.9'))!.queue.length).toBe(UNRES_QLEN);
    host.engine.run(5 * NS_PER_S);
    expect(sink.drops.get('arp_unresolved')).toBe(UNRES_QLEN);
  });
});
