import { describe, expect, test } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { makeHost, sh, shAll } from './helpers';
import { fibLookup } from '../../src/kernel/route';
import { ip4 } from '../../src/net/addr';

const ORACLE = new URL('../fixtures/oracle/', import.meta.url).pathname;

interface Vector { hosts: Record<string, { setup: string[] }>; segments: string[][] }

function vectors(): Array<[string, Vector]> {
  return readdirSync(ORACLE).filter(f => f.endsWith('.json')).map(f => [f, JSON.parse(readFileSync(`${ORACLE}/${f}`, 'utf8')) as Vector]);
}

/** The interfaces a host has in the vector's segments ("host:iface"). */
function ifaces(v: Vector, host: string): string[] {
  return v.segments.flat().filter(s => s.startsWith(host + ':')).map(s => s.slice(host.length + 1));
}

describe('oracle setup lines configure a host', () => {
  for (const [file, v] of vectors()) {
    for (const [name, h] of Object.entries(v.hosts)) {
      test(`${file} ${name}: every line exits 0`, () => {
        const { ctx } = makeHost(name, ifaces(v, name));
        for (const line of h.setup) {
          if (line.startsWith('ipvsadm')) continue;
          const r = sh(ctx, line);
          expect(r.stderr, line).toBe('');
          expect(r.exit, line).toBe(0);
        }
      });
    }
  }

  test('the real-server recipe leaves tunl0 up with the VIP, rp_filter off and arp knobs set', () => {
    const { host, ctx } = makeHost('rs1', ['eth0']);
    shAll(ctx, [
      'modprobe ipip', 'ip link set lo up', 'ip link set eth0 up', 'ip addr add 172.16.197.3/24 dev eth0',
      'ip route add default via 172.16.197.1', 'ip link set tunl0 up', 'ip addr add 172.16.29.6/32 dev tunl0',
      'sysctl -w net.ipv4.conf.tunl0.rp_filter=0 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.tunl0.arp_ignore=1 net.ipv4.conf.tunl0.arp_announce=2 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2',
    ]);
    const tunl0 = host.dev('tunl0');
    expect(tunl0.up).toBe(true);
    expect(tunl0.addrs.map(a => [a.addr, a.prefixLen])).toEqual([[ip4('172.16.29.6'), 32]]);
    expect(host.isLocal(ip4('172.16.29.6'))).toBe(true);
    expect(fibLookup(host, ip4('203.0.113.10'))?.gw).toBe(ip4('172.16.197.1'));
    expect(host.sysctl.confMax('tunl0', 'rp_filter')).toBe(0);
    expect(host.sysctl.confMax('eth0', 'arp_ignore')).toBe(1);
    expect(host.sysctl.confMax('eth0', 'arp_announce')).toBe(2);
    expect(host.modules.has('tunnel4')).toBe(true);
  });

  test('sysctl -qw on the router sets ip_forward and prints nothing', () => {
    const { host, ctx } = makeHost('router', ['r-cli']);
    const r = sh(ctx, 'sysctl -qw net.ipv4.ip_forward=1');
    expect(r).toEqual({ exit: 0, stdout: '', stderr: '' });
    expect(host.sysctl.get('net.ipv4.ip_forward')).toBe('1');
    expect(host.sysctl.devconf('r-cli', 'forwarding')).toBe(1);
  });
});

describe('the classic LVS-TUN real-server recipe, pasted verbatim', () => {
  const sysctlConf = [
    '# LVS-TUN real server',
    'net.ipv4.conf.tunl0.rp_filter = 0',
    'net.ipv4.conf.all.rp_filter = 0',
    'net.ipv4.conf.all.arp_ignore = 1',
    'net.ipv4.conf.all.arp_announce = 2',
    'net.ipv4.conf.tunl0.arp_ignore = 1',
    'net.ipv4.conf.tunl0.arp_announce = 2',
    '',
  ].join('\n');

  test('echo to ip_forward, modprobe, ifconfig tunl0 and sysctl -p', () => {
    const { host, ctx } = makeHost('rs1', ['eth0'], { '/etc/sysctl.conf': sysctlConf });
    shAll(ctx, ['echo 1 > /proc/sys/net/ipv4/ip_forward', 'modprobe ipip', 'ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up']);
    const r = sh(ctx, 'sysctl -p');
    expect(r.exit).toBe(0);
    expect(r.stdout).toBe([
      'net.ipv4.conf.tunl0.rp_filter = 0', 'net.ipv4.conf.all.rp_filter = 0', 'net.ipv4.conf.all.arp_ignore = 1',
      'net.ipv4.conf.all.arp_announce = 2', 'net.ipv4.conf.tunl0.arp_ignore = 1', 'net.ipv4.conf.tunl0.arp_announce = 2', '',
    ].join('\n'));
    expect(host.sysctl.get('net.ipv4.ip_forward')).toBe('1');
    expect(host.dev('tunl0').up).toBe(true);
    expect(host.dev('tunl0').addrs.map(a => a.prefixLen)).toEqual([32]);
    expect(host.sysctl.confMax('tunl0', 'arp_ignore')).toBe(1);
  });

  test('ifconfig tunl0 without modprobe autoloads ipip as the netdev-tunl0 alias does', () => {
    const { host, ctx } = makeHost();
    shAll(ctx, ['ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up']);
    expect(host.modules.has('ipip')).toBe(true);
    expect(host.dev('tunl0').up).toBe(true);
  });

  test('sysctl -p before modprobe ipip fails on the tunl0 keys, as on Linux', () => {
    const { ctx } = makeHost('rs1', ['eth0'], { '/etc/sysctl.conf': sysctlConf });
    const r = sh(ctx, 'sysctl -p');
    expect(r.exit).toBe(255);
    expect(r.stderr).toBe(
      'sysctl: cannot stat /proc/sys/net/ipv4/conf/tunl0/rp_filter: No such file or directory\n'
      + 'sysctl: cannot stat /proc/sys/net/ipv4/conf/tunl0/arp_ignore: No such file or directory\n'
      + 'sysctl: cannot stat /proc/sys/net/ipv4/conf/tunl0/arp_announce: No such file or directory\n');
    expect(r.stdout).toContain('net.ipv4.conf.all.rp_filter = 0\n');
  });
});
