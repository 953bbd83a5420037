import { describe, expect, test } from 'vitest';
import { makeHost, sh, shAll } from './helpers';
import { ip4 } from '../../src/net/addr';

describe('ifconfig (SIOCSIFADDR semantics)', () => {
  test('an address without netmask gets the classful prefix, and ifconfig brings the device up', () => {
    const { ctx, host } = makeHost('rs1', ['eth0']);
    shAll(ctx, ['ifconfig eth0 172.16.29.6']);
    const d = host.dev('eth0');
    expect(d.up).toBe(true);
    expect(d.addrs).toMatchObject([{ addr: ip4('172.16.29.6'), prefixLen: 16, broadcast: ip4('172.16.255.255'), label: 'eth0' }]);
  });

  test('netmask 255.255.255.255 on tunl0 gives a /32 with no broadcast (not a broadcast device)', () => {
    const { ctx, host } = makeHost();
    shAll(ctx, ['ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up']);
    expect(host.dev('tunl0').addrs).toMatchObject([{ addr: ip4('172.16.29.6'), prefixLen: 32, broadcast: null }]);
    expect(host.mainRoutes().filter(r => r.dev === 'tunl0')).toEqual([]);
  });

  test('a second ifconfig on the same name replaces the address, not adds one', () => {
    const { ctx, host } = makeHost('h', ['eth0']);
    shAll(ctx, ['ifconfig eth0 10.0.0.1 netmask 255.255.255.0', 'ifconfig eth0 10.0.0.2 netmask 255.255.255.0 broadcast 10.0.0.255']);
    expect(host.dev('eth0').addrs).toMatchObject([{ addr: ip4('10.0.0.2'), prefixLen: 24, broadcast: ip4('10.0.0.255') }]);
  });

  test('lo:0 holds the VIP as an alias of lo; lo:0 down deletes it', () => {
    const { ctx, host } = makeHost();
    shAll(ctx, ['ifconfig lo:0 172.16.29.6 netmask 255.255.255.255 up']);
    expect(host.dev('lo').addrs.map(a => a.label)).toEqual(['lo', 'lo:0']);
    expect(host.isLocal(ip4('172.16.29.6'))).toBe(true);
    expect(sh(ctx, 'ifconfig lo:0').stdout).toBe(
      'lo:0: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n        inet 172.16.29.6  netmask 255.255.255.255\n        loop  txqueuelen 1000  (Local Loopback)\n\n');
    shAll(ctx, ['ifconfig lo:0 down']);
    expect(host.dev('lo').addrs.map(a => a.label)).toEqual(['lo']);
    expect(host.dev('lo').up).toBe(true);
  });

  test('the listing is net-tools 2.10\'s, sorted by name, only up devices without -a', () => {
    const { ctx, host } = makeHost('h', ['eth0', 'eth1']);
    shAll(ctx, ['ifconfig eth0 172.16.197.3 netmask 255.255.255.0', 'modprobe ipip']);
    const e = host.dev('eth0');
    e.stats.rxPackets = 3; e.stats.rxBytes = 2000; e.stats.txPackets = 1; e.stats.txBytes = 5 * 1024 * 1024 + 200;
    expect(sh(ctx, 'ifconfig').stdout).toBe(
      'eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n'
      + '        inet 172.16.197.3  netmask 255.255.255.0  broadcast 172.16.197.255\n'
      + `        ether ${e.mac}  txqueuelen 1000  (Ethernet)\n`
      + '        RX packets 3  bytes 2000 (1.9 KiB)\n'
      + '        RX errors 0  dropped 0  overruns 0  frame 0\n'
      + '        TX packets 1  bytes 5243080 (5.0 MiB)\n'
      + '        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n'
      + 'lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n'
      + '        inet 127.0.0.1  netmask 255.0.0.0\n'
      + '        loop  txqueuelen 1000  (Local Loopback)\n'
      + '        RX packets 0  bytes 0 (0.0 B)\n'
      + '        RX errors 0  dropped 0  overruns 0  frame 0\n'
      + '        TX packets 0  bytes 0 (0.0 B)\n'
      + '        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n');
    const all = sh(ctx, 'ifconfig -a').stdout;
    expect(all).toContain('eth1: flags=4098<BROADCAST,MULTICAST>  mtu 1500\n');
    expect(all).toContain('tunl0: flags=128<NOARP>  mtu 1480\n        tunnel   txqueuelen 1000  (IPIP Tunnel)\n');
    expect(all.indexOf('eth1:')).toBeLessThan(all.indexOf('lo:'));
  });

  test('errors name the device or the value', () => {
    const { ctx } = makeHost('h', ['eth0']);
    expect(sh(ctx, 'ifconfig eth9')).toMatchObject({ exit: 1, stderr: 'eth9: error fetching interface information: Device not found\n', errorAt: { word: 1 } });
    expect(sh(ctx, 'ifconfig eth9 10.0.0.1')).toMatchObject({ exit: 1, errorAt: { word: 1 } });
    expect(sh(ctx, 'ifconfig eth9 10.0.0.1').stderr).toMatch(/^SIOCSIFADDR: No such device\n/);
    expect(sh(ctx, 'ifconfig eth0 10.0.0.300')).toMatchObject({ exit: 1, stderr: "10.0.0.300: Unknown host\nifconfig: `--help' gives usage information.\n", errorAt: { word: 2 } });
    expect(sh(ctx, 'ifconfig eth0 10.0.0.1 netmask 255.0.255.0')).toMatchObject({ exit: 1, stderr: 'SIOCSIFNETMASK: Invalid argument\n', errorAt: { word: 4 } });
    expect(sh(ctx, 'ifconfig eth0 mtu 20')).toMatchObject({ exit: 1, stderr: 'SIOCSIFMTU: Invalid argument\n' });
    expect(sh(ctx, 'ifconfig eth0 netmask')).toMatchObject({ exit: 1, errorAt: { word: 2 } });
  });
});

describe('route (net-tools)', () => {
  function host() {
    const h = makeHost('rs1', ['eth0']);
    shAll(h.ctx, ['ip link set eth0 up', 'ip addr add 172.16.197.3/24 dev eth0']);
    return h;
  }

  test('route add default gw, -net and -host; route -n prints /proc/net/route\'s view', () => {
    const { ctx } = host();
    shAll(ctx, [
      'route add default gw 172.16.197.1', 'route add -net 10.0.0.0 netmask 255.0.0.0 gw 172.16.197.254 metric 5',
      'route add -host 192.0.2.7 dev eth0', 'route add -net 198.51.100.0/24 reject',
    ]);
    expect(sh(ctx, 'route -n').stdout).toBe(
      'Kernel IP routing table\n'
      + 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n'
      + '0.0.0.0         172.16.197.1    0.0.0.0         UG    0      0        0 eth0\n'
      + '10.0.0.0        172.16.197.254  255.0.0.0       UG    5      0        0 eth0\n'
      + '172.16.197.0    0.0.0.0         255.255.255.0   U     0      0        0 eth0\n'
      + '192.0.2.7       0.0.0.0         255.255.255.255 UH    0      0        0 eth0\n'
      + '198.51.100.0    0.0.0.0         255.255.255.0   U!    0      0        0 -\n');
    expect(sh(ctx, 'route').stdout.split('\n')[2]).toMatch(/^default /);
  });

  test('route del removes; kernel refusals are perror() of the ioctl with exit 7', () => {
    const { ctx, host: h } = host();
    shAll(ctx, ['route add default gw 172.16.197.1 dev eth0', 'route del default']);
    expect(h.mainRoutes().some(r => r.len === 0)).toBe(false);
    expect(sh(ctx, 'route del default')).toMatchObject({ exit: 7, stderr: 'SIOCDELRT: No such process\n' });
    expect(sh(ctx, 'route add default gw 9.9.9.9')).toMatchObject({ exit: 7, stderr: 'SIOCADDRT: Network is unreachable\n', errorAt: { word: 4 } });
    shAll(ctx, ['route add default gw 172.16.197.1']);
    expect(sh(ctx, 'route add default gw 172.16.197.1')).toMatchObject({ exit: 7, stderr: 'SIOCADDRT: File exists\n' });
    expect(sh(ctx, 'route add -net 10.0.0.1 netmask 255.0.0.0 dev eth0').stderr).toMatch(/^route: netmask doesn't match route address\n/);
    expect(sh(ctx, 'route add -net 10.0.0.0 netmask 255.0.0.0 dev eth9')).toMatchObject({ exit: 7, stderr: 'SIOCADDRT: No such device\n' });
    expect(sh(ctx, 'route add -net 10.0.0.x dev eth0')).toMatchObject({ exit: 1, stderr: '10.0.0.x: Unknown host\n' });
    expect(sh(ctx, 'route frob').exit).toBe(4);
  });
});
