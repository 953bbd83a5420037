import { describe, expect, test } from 'vitest';
import { makeHost, shAll } from '../config/helpers';
import { fibLookup, ipRouteOutput, isSubnetBroadcast } from '../../src/kernel/route';
import { ip4 } from '../../src/net/addr';
import type { Host } from '../../src/kernel/host';

/** What a freshly built index answers (the cached one is dropped first). */
function fresh<T>(host: Host, f: () => T): T {
  const saved = host.fib;
  host.fib = null;
  const v = f();
  host.fib = saved;
  return v;
}

const probes = ['203.0.113.10', '203.0.113.20', '203.0.113.21', '203.0.113.99', '203.0.113.255', '10.1.0.5', '10.1.0.6', '127.0.0.5', '172.16.29.6', '8.8.8.8'].map(ip4);

function agree(host: Host): void {
  for (const a of probes) {
    expect(fibLookup(host, a), `fib ${a}`).toBe(fresh(host, () => fibLookup(host, a)));
    expect(host.isLocal(a)).toBe(fresh(host, () => host.isLocal(a)));
    expect(isSubnetBroadcast(host, a)).toBe(fresh(host, () => isSubnetBroadcast(host, a)));
    expect(ipRouteOutput(host, a)?.src ?? null).toBe(fresh(host, () => ipRouteOutput(host, a)?.src ?? null));
  }
}

describe('FIB index', () => {
  test('addresses added as /32 update the index in place and agree with a rebuilt one', () => {
    const { host, ctx } = makeHost('client', ['eth0']);
    shAll(ctx, ['ip link set eth0 up', 'ip addr add 203.0.113.10/24 dev eth0', 'ip route add default via 203.0.113.1']);
    agree(host);
    const before = host.routeGenBase;
    shAll(ctx, ['ip addr add 203.0.113.20/32 dev eth0', 'ip addr add 10.1.0.5/32 dev eth0']);
    // Only point changes: the index was not thrown away.
    expect(host.routeGenBase).toBe(before);
    expect(host.routePoints.map(r => r.dst)).toEqual([ip4('203.0.113.20'), ip4('10.1.0.5')]);
    agree(host);
    expect(fibLookup(host, ip4('10.1.0.5'))?.type).toBe('local');
    expect(fibLookup(host, ip4('10.1.0.6'))?.gw).toBe(ip4('203.0.113.1'));
    // A lookup cached before an address became local is answered as local afterwards.
    expect(fibLookup(host, ip4('10.1.0.6'))?.type).toBe('unicast');
    shAll(ctx, ['ip addr add 10.1.0.6/32 dev eth0']);
    expect(fibLookup(host, ip4('10.1.0.6'))?.type).toBe('local');
    expect(host.isLocal(ip4('10.1.0.6'))).toBe(true);
    agree(host);
  });

  test('deleting an address, a broadcast /32 and an MTU change rebuild it', () => {
    const { host, ctx } = makeHost('client', ['eth0']);
    shAll(ctx, ['ip link set eth0 up', 'ip addr add 203.0.113.10/24 dev eth0', 'ip addr add 10.1.0.5/32 dev eth0']);
    expect(fibLookup(host, ip4('10.1.0.5'))?.type).toBe('local');
    shAll(ctx, ['ip addr del 10.1.0.5/32 dev eth0']);
    expect(fibLookup(host, ip4('10.1.0.5'))).toBeNull();
    expect(host.hasAddr(ip4('10.1.0.5'))).toBe(false);
    agree(host);
    const base = host.routeGenBase;
    shAll(ctx, ['ip addr add 203.0.113.99/32 brd 203.0.113.99 dev eth0']);
    expect(host.routeGenBase).toBeGreaterThan(base);
    expect(isSubnetBroadcast(host, ip4('203.0.113.99'))).toBe(true);
    agree(host);
    expect(ipRouteOutput(host, ip4('203.0.113.50'))?.mtu).toBe(1500);
    shAll(ctx, ['ip link set eth0 mtu 1400']);
    expect(ipRouteOutput(host, ip4('203.0.113.50'))?.mtu).toBe(1400);
  });

  test('the source of a cached output route follows new addresses and devices coming up', () => {
    const { host, ctx } = makeHost('d', ['eth0', 'eth1', 'eth2']);
    shAll(ctx, ['ip link set eth0 up', 'ip addr add 10.0.0.2/24 dev eth0', 'ip link set eth1 up', 'ip route add 192.168.50.0/24 dev eth1']);
    expect(ipRouteOutput(host, ip4('192.168.50.7'))?.src).toBe(ip4('10.0.0.2'));
    // inet_select_addr: now eth1 has an address of its own.
    shAll(ctx, ['ip addr add 192.168.50.1/32 dev eth1']);
    expect(ipRouteOutput(host, ip4('192.168.50.7'))?.src).toBe(ip4('192.168.50.1'));
    agree(host);
  });

  test('a device with only /32s coming up is seen by the source selection fallback', () => {
    const { host, ctx } = makeHost('d', ['eth0', 'eth1', 'eth2']);
    shAll(ctx, ['ip addr add 172.16.0.9/32 dev eth0', 'ip link set eth1 up', 'ip link set eth2 up', 'ip addr add 10.0.0.2/24 dev eth2', 'ip route add 192.168.50.0/24 dev eth1']);
    expect(ipRouteOutput(host, ip4('192.168.50.7'))?.src).toBe(ip4('10.0.0.2'));
    shAll(ctx, ['ip link set eth0 up']);
    expect(ipRouteOutput(host, ip4('192.168.50.7'))?.src).toBe(fresh(host, () => ipRouteOutput(host, ip4('192.168.50.7'))?.src));
    expect(ipRouteOutput(host, ip4('192.168.50.7'))?.src).toBe(ip4('172.16.0.9'));
  });

  test('ip route flush takes effect on lookups', () => {
    const { host, ctx } = makeHost('client', ['eth0']);
    shAll(ctx, ['ip link set eth0 up', 'ip addr add 203.0.113.10/24 dev eth0', 'ip route add default via 203.0.113.1']);
    expect(fibLookup(host, ip4('8.8.8.8'))?.gw).toBe(ip4('203.0.113.1'));
    shAll(ctx, ['ip route flush default']);
    expect(fibLookup(host, ip4('8.8.8.8'))).toBeNull();
  });
});
