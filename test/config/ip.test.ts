import { describe, expect, test } from 'vitest';
import { makeHost, sh, shAll } from './helpers';
import { ip4 } from '../../src/net/addr';

const RS = [
  'modprobe ipip', 'ip link set lo up', 'ip link set eth0 up', 'ip addr add 172.16.197.3/24 dev eth0',
  'ip route add default via 172.16.197.1', 'ip link set tunl0 up', 'ip addr add 172.16.29.6/32 dev tunl0',
];

function rs() {
  const h = makeHost('rs1', ['eth0']);
  shAll(h.ctx, RS);
  return h;
}

describe('ip address', () => {
  test('ip addr lists lo, eth0 and tunl0 as iproute2 6.1 prints them', () => {
    const { ctx, host } = rs();
    const mac = host.dev('eth0').mac;
    expect(sh(ctx, 'ip addr').stdout).toBe(
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n'
      + '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n'
      + '    inet 127.0.0.1/8 scope host lo\n'
      + '       valid_lft forever preferred_lft forever\n'
      + '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000\n'
      + `    link/ether ${mac} brd ff:ff:ff:ff:ff:ff\n`
      + '    inet 172.16.197.3/24 scope global eth0\n'
      + '       valid_lft forever preferred_lft forever\n'
      + '3: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000\n'
      + '    link/ipip 0.0.0.0 brd 0.0.0.0\n'
      + '    inet 172.16.29.6/32 scope global tunl0\n'
      + '       valid_lft forever preferred_lft forever\n');
  });

  // kernel/host.ts boots lo's 127.0.0.1/8 with no broadcast, as inetdev_event(NETDEV_UP) does.
  test('a booted host lists lo as "inet 127.0.0.1/8 scope host lo" (no brd)', () => {
    const { ctx } = makeHost();
    expect(sh(ctx, 'ip -4 addr show lo').stdout).toContain('    inet 127.0.0.1/8 scope host lo\n');
  });

  test('ip -4 addr show dev tunl0 omits the link line', () => {
    const { ctx } = rs();
    expect(sh(ctx, 'ip -4 addr show dev tunl0').stdout).toBe(
      '3: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000\n'
      + '    inet 172.16.29.6/32 scope global tunl0\n'
      + '       valid_lft forever preferred_lft forever\n');
  });

  test('a down device shows qdisc noop and state DOWN; brd + computes the broadcast', () => {
    const { ctx } = makeHost('h', ['eth1']);
    shAll(ctx, ['ip addr add 10.0.0.5/24 brd + dev eth1']);
    expect(sh(ctx, 'ip a s eth1').stdout).toContain('2: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000\n');
    expect(sh(ctx, 'ip a s eth1').stdout).toContain('    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth1\n');
  });

  test('a second address in the same subnet is secondary and listed after the primary', () => {
    const { ctx } = rs();
    shAll(ctx, ['ip addr add 172.16.197.10/24 dev eth0 label eth0:1']);
    const out = sh(ctx, 'ip -4 a show eth0').stdout;
    expect(out).toContain('    inet 172.16.197.3/24 scope global eth0\n       valid_lft forever preferred_lft forever\n    inet 172.16.197.10/24 scope global secondary eth0:1\n');
  });

  test('ip -br addr prints the brief table', () => {
    const { ctx } = rs();
    expect(sh(ctx, 'ip -br addr').stdout).toBe(
      'lo               UNKNOWN        127.0.0.1/8 \n'
      + 'eth0             UP             172.16.197.3/24 \n'
      + 'tunl0@NONE       UNKNOWN        172.16.29.6/32 \n');
  });

  test('ip addr del removes the address and its connected route; flush empties the device', () => {
    const { ctx, host } = rs();
    shAll(ctx, ['ip addr del 172.16.29.6/32 dev tunl0']);
    expect(host.dev('tunl0').addrs).toEqual([]);
    shAll(ctx, ['ip addr flush dev eth0']);
    expect(host.dev('eth0').addrs).toEqual([]);
    expect(host.mainRoutes().filter(r => r.proto === 'kernel')).toEqual([]);
  });

  test('errors are iproute2\'s, with its exit statuses', () => {
    const { ctx } = rs();
    const cases: Array<[string, number, string, number]> = [
      ['ip addr add 10.0.0.300/24 dev eth0', 1, 'Error: any valid prefix is expected rather than "10.0.0.300/24".\n', 3],
      ['ip -4 addr add 10.0.0.1/33 dev eth0', 1, 'Error: inet prefix is expected rather than "10.0.0.1/33".\n', 4],
      ['ip addr add 172.16.197.3/24 dev eth0', 2, 'RTNETLINK answers: File exists\n', 3],
      ['ip addr add 10.0.0.1/24 dev eth9', 1, 'Cannot find device "eth9"\n', 5],
      ['ip addr add 10.0.0.1/24', 1, 'Not enough information: "dev" argument is required.\n', 3],
      ['ip addr add 10.0.0.1/24 eth0', 255, 'Error: either "local" is duplicate, or "eth0" is a garbage.\n', 4],
      ['ip addr foo', 255, 'Command "foo" is unknown, try "ip addr help".\n', 2],
      ['ip addr del 10.9.9.9/24 dev eth0', 2, 'RTNETLINK answers: Cannot assign requested address\n', 3],
      ['ip addr add 10.0.0.1/24 dev', 255, 'Command line is not complete. Try option "help"\n', 4],
      ['ip addr add 10.0.0.1/24 dev eth0 label foo', 1, '"label" (foo) must match "dev" (eth0) or be prefixed by "dev" with a colon.\n', 7],
      ['ip foo', 255, 'Object "foo" is unknown, try "ip help".\n', 1],
      ['ip -x addr', 255, 'Option "-x" is unknown, try "ip -help".\n', 1],
      ['ip addr show dev eth9', 1, 'Device "eth9" does not exist.\n', 4],
    ];
    for (const [line, exit, stderr, word] of cases) {
      const r = sh(ctx, line);
      expect([line, r.exit, r.stderr]).toEqual([line, exit, stderr]);
      expect(r.errorAt?.word, line).toBe(word);
      expect(r.errorAt?.expected, line).toMatch(/\S/);
    }
  });
});

describe('ip link', () => {
  test('ip link set tunl0 up autoloads ipip (dev_load for netdev-tunl0)', () => {
    const { ctx, host } = makeHost();
    shAll(ctx, ['ip link set tunl0 up']);
    expect(host.modules.has('ipip')).toBe(true);
    expect(host.dev('tunl0').up).toBe(true);
  });

  test('ip link show prints mode DEFAULT and ip -s link adds the 6.1 statistics table', () => {
    const { ctx, host } = rs();
    const d = host.dev('eth0');
    d.stats.rxBytes = 10136; d.stats.rxPackets = 130; d.stats.txBytes = 123456789012; d.stats.txPackets = 7;
    expect(sh(ctx, 'ip -s link show eth0').stdout).toBe(
      '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\n'
      + `    link/ether ${d.mac} brd ff:ff:ff:ff:ff:ff\n`
      + '    RX:    bytes packets errors dropped  missed   mcast           \n'
      + '           10136     130      0       0       0       0 \n'
      + '    TX:    bytes packets errors dropped carrier collsns           \n'
      + '    123456789012       7      0       0       0       0 \n');
  });

  test('mtu, address and down', () => {
    const { ctx, host } = rs();
    shAll(ctx, ['ip link set dev tunl0 mtu 1400', 'ip link set eth0 address 02:aa:bb:cc:dd:ee', 'ip link set eth0 down']);
    expect(host.dev('tunl0').mtu).toBe(1400);
    expect(host.dev('eth0').mac).toBe('02:aa:bb:cc:dd:ee');
    expect(host.dev('eth0').up).toBe(false);
    expect(host.mainRoutes()).toEqual([]);
    expect(sh(ctx, 'ip link set eth0 mtu 20')).toMatchObject({ exit: 2, stderr: 'Error: mtu less than device minimum.\n' });
    expect(sh(ctx, 'ip link set eth0 mtu x')).toMatchObject({ exit: 255, stderr: 'Error: argument "x" is wrong: "mtu" value is invalid\n' });
    expect(sh(ctx, 'ip link set eth9 up')).toMatchObject({ exit: 1, stderr: 'Cannot find device "eth9"\n', errorAt: { word: 3 } });
    expect(sh(ctx, 'ip link set eth0 address zz')).toMatchObject({ exit: 1, stderr: '"zz" is invalid lladdr.\n' });
  });

  test('ip link add dummy and ipip; del; deleting tunl0 is a silent no-op', () => {
    const { ctx, host } = rs();
    shAll(ctx, ['ip link add dummy0 type dummy', 'ip link add tun1 type ipip local 172.16.197.3 remote 172.16.69.15', 'ip link set dummy0 up']);
    expect(host.dev('dummy0').up).toBe(true);
    expect(host.dev('tun1').tunnel).toEqual({ local: ip4('172.16.197.3'), remote: ip4('172.16.69.15'), ttl: 0 });
    expect(sh(ctx, 'ip link show tun1').stdout).toContain('    link/ipip 172.16.197.3 peer 172.16.69.15\n');
    expect(sh(ctx, 'ip link add dummy0 type dummy')).toMatchObject({ exit: 2, stderr: 'RTNETLINK answers: File exists\n' });
    expect(sh(ctx, 'ip link add x0 type foo')).toMatchObject({ exit: 2, stderr: 'Error: Unknown device type.\n' });
    shAll(ctx, ['ip link del dummy0', 'ip link delete tunl0']);
    expect(host.devices.has('dummy0')).toBe(false);
    expect(host.devices.has('tunl0')).toBe(true);
    expect(sh(ctx, 'ip link del lo')).toMatchObject({ exit: 2, stderr: 'RTNETLINK answers: Operation not supported\n' });
  });
});

describe('ip route', () => {
  test('ip route lists the default first, with iproute2\'s trailing space', () => {
    const { ctx } = rs();
    expect(sh(ctx, 'ip route').stdout).toBe(
      'default via 172.16.197.1 dev eth0 \n'
      + '172.16.197.0/24 dev eth0 proto kernel scope link src 172.16.197.3 \n');
  });

  test('static, blackhole, unreachable, metric and mtu routes print as iproute2 does', () => {
    const { ctx } = rs();
    shAll(ctx, [
      'ip route add 10.0.0.0/8 via 172.16.197.254 metric 100', 'ip route add blackhole 192.0.2.0/24', 'ip route add unreachable 198.51.100.0/24',
      'ip r add 10.1.0.0/16 dev eth0 proto static', 'ip route add 10.2.0.0/16 via 172.16.197.1 mtu 1400',
    ]);
    expect(sh(ctx, 'ip route show').stdout).toBe(
      'default via 172.16.197.1 dev eth0 \n'
      + '10.0.0.0/8 via 172.16.197.254 dev eth0 metric 100 \n'
      + '10.1.0.0/16 dev eth0 proto static scope link \n'
      + '10.2.0.0/16 via 172.16.197.1 dev eth0 mtu 1400 \n'
      + '172.16.197.0/24 dev eth0 proto kernel scope link src 172.16.197.3 \n'
      + 'blackhole 192.0.2.0/24 \n'
      + 'unreachable 198.51.100.0/24 \n');
  });

  test('ip route get names the gateway, device and source', () => {
    const { ctx } = rs();
    expect(sh(ctx, 'ip route get 203.0.113.10').stdout).toBe('203.0.113.10 via 172.16.197.1 dev eth0 src 172.16.197.3 uid 0 \n    cache \n');
    expect(sh(ctx, 'ip route get 172.16.197.1').stdout).toBe('172.16.197.1 dev eth0 src 172.16.197.3 uid 0 \n    cache \n');
    expect(sh(ctx, 'ip route get 172.16.29.6').stdout).toBe('local 172.16.29.6 dev lo src 172.16.29.6 uid 0 \n    cache <local> \n');
    expect(sh(ctx, 'ip route get 203.0.113.10 from 172.16.29.6').stdout).toBe('203.0.113.10 from 172.16.29.6 via 172.16.197.1 dev eth0 src 172.16.29.6 uid 0 \n    cache \n');
  });

  test('replace, change, del, flush', () => {
    const { ctx, host } = rs();
    shAll(ctx, ['ip route replace default via 172.16.197.2', 'ip route del default']);
    expect(host.mainRoutes().some(r => r.len === 0)).toBe(false);
    shAll(ctx, ['ip route add 10.0.0.0/8 via 172.16.197.9', 'ip route change 10.0.0.0/8 via 172.16.197.8']);
    expect(host.mainRoutes().find(r => r.len === 8)?.gw).toBe(ip4('172.16.197.8'));
    shAll(ctx, ['ip route flush dev eth0']);
    expect(host.mainRoutes()).toEqual([]);
  });

  test('route errors', () => {
    const { ctx } = rs();
    const cases: Array<[string, number, string, number]> = [
      ['ip route add default via 172.16.197.1', 2, 'RTNETLINK answers: File exists\n', 3],
      ['ip route add 10.0.0.0/8 via 9.9.9.9', 2, 'Error: Nexthop has invalid gateway.\n', 5],
      ['ip route del 10.9.0.0/16', 2, 'RTNETLINK answers: No such process\n', 3],
      ['ip route add 10.0.0.300/8 dev eth0', 1, 'Error: any valid prefix is expected rather than "10.0.0.300/8".\n', 3],
      ['ip route add 10.0.0.0/8 via 1.2.3', 1, 'Error: inet address is expected rather than "1.2.3".\n', 5],
      ['ip route add 10.0.0.0/8 dev eth9', 1, 'Cannot find device "eth9"\n', 5],
      ['ip route add 10.0.0.0/8 dev eth0 metric x', 255, 'Error: argument "x" is wrong: "metric" value is invalid\n', 7],
      ['ip route add 10.0.0.0/8 dev eth0 src 1.1.1.1', 2, 'Error: Invalid prefsrc address.\n', 7],
      ['ip route change 10.8.0.0/16 dev eth0', 2, 'RTNETLINK answers: No such file or directory\n', 3],
      ['ip route get 10.0.0.1 from 9.9.9.9', 2, 'RTNETLINK answers: Invalid argument\n', 0],
      ['ip route bogus', 255, 'Command "bogus" is unknown, try "ip route help".\n', 2],
    ];
    for (const [line, exit, stderr, word] of cases) {
      const r = sh(ctx, line);
      expect([line, r.exit, r.stderr, r.errorAt?.word]).toEqual([line, exit, stderr, word]);
    }
    shAll(ctx, ['ip link set eth0 down']);
    expect(sh(ctx, 'ip route add 10.0.0.0/8 dev eth0')).toMatchObject({ exit: 2, stderr: 'Error: Nexthop device is not up.\n' });
    expect(sh(ctx, 'ip route get 203.0.113.10')).toMatchObject({ exit: 2, stderr: 'RTNETLINK answers: Network is unreachable\n' });
  });
});

describe('ip neigh', () => {
  test('add, show, replace, del and flush, in iproute2\'s layout', () => {
    const { ctx, host } = rs();
    shAll(ctx, ['ip neigh add 172.16.197.1 lladdr 02:00:00:00:01:01 dev eth0 nud reachable']);
    host.neighSet('eth0', ip4('172.16.197.9'), '02:00:00:00:01:09', 'STALE');
    const n = host.neighLookup('eth0', ip4('172.16.197.9'))!;
    n.state = 'FAILED'; n.mac = null;
    expect(sh(ctx, 'ip neigh').stdout).toBe('172.16.197.1 dev eth0 lladdr 02:00:00:00:01:01 REACHABLE\n172.16.197.9 dev eth0  FAILED\n');
    expect(sh(ctx, 'ip n show dev eth0').stdout).toBe('172.16.197.1 lladdr 02:00:00:00:01:01 REACHABLE\n172.16.197.9  FAILED\n');
    expect(sh(ctx, 'ip neigh add 172.16.197.1 lladdr 02:00:00:00:01:01 dev eth0')).toMatchObject({ exit: 2, stderr: 'RTNETLINK answers: File exists\n' });
    shAll(ctx, ['ip neigh replace 172.16.197.1 lladdr 02:00:00:00:01:02 dev eth0']);
    expect(host.neighLookup('eth0', ip4('172.16.197.1'))).toMatchObject({ mac: '02:00:00:00:01:02', state: 'PERMANENT' });
    shAll(ctx, ['ip neigh flush dev eth0']);
    expect(host.neighLookup('eth0', ip4('172.16.197.9'))).toBeUndefined();
    expect(host.neighLookup('eth0', ip4('172.16.197.1'))).toBeDefined();
    shAll(ctx, ['ip neigh del 172.16.197.1 dev eth0']);
    expect(sh(ctx, 'ip neigh del 172.16.197.1 dev eth0')).toMatchObject({ exit: 2, stderr: 'RTNETLINK answers: No such file or directory\n' });
    expect(sh(ctx, 'ip neigh del 172.16.197.1')).toMatchObject({ exit: 255, stderr: 'Device and destination are required arguments.\n' });
  });
});

describe('ip tunnel', () => {
  test('ip tunnel show prints the fallback device as iproute2 does', () => {
    const { ctx } = rs();
    expect(sh(ctx, 'ip tunnel show').stdout).toBe('tunl0: any/ip remote any local any ttl inherit nopmtudisc\n');
  });

  test('add, change and del an ipip tunnel; tunl0 cannot be deleted', () => {
    const { ctx, host } = rs();
    shAll(ctx, ['ip tunnel add tun1 mode ipip local 172.16.197.3 remote 172.16.69.15 ttl 64']);
    expect(sh(ctx, 'ip tunnel show tun1').stdout).toBe('tun1: ip/ip remote 172.16.69.15 local 172.16.197.3 ttl 64\n');
    shAll(ctx, ['ip tunnel change tun1 remote 172.16.69.16']);
    expect(host.dev('tun1').tunnel?.remote).toBe(ip4('172.16.69.16'));
    expect(sh(ctx, 'ip tunnel add tun1 mode ipip remote 1.2.3.4')).toMatchObject({ exit: 1, stderr: 'add tunnel "tunl0" failed: File exists\n' });
    expect(sh(ctx, 'ip tunnel del tunl0')).toMatchObject({ exit: 1, stderr: 'delete tunnel "tunl0" failed: Operation not permitted\n' });
    shAll(ctx, ['ip tunnel del tun1']);
    expect(host.devices.has('tun1')).toBe(false);
    expect(sh(ctx, 'ip tunnel add tun2 mode gre remote 1.2.3.4').exit).toBe(1);
  });
});
