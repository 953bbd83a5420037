import { describe, expect, test } from 'vitest';
import { makeHost, sh } from './helpers';
import { runCommand, knownCommands, isReadOnly } from '../../src/config/commands';
import { splitLine, type SimpleCommand } from '../../src/config/shell';
import { Rng } from '../../src/sim/rng';

describe('nstat and netstat -s', () => {
  test('nstat -az prints every standard counter with nstat\'s columns', () => {
    const { ctx, host } = makeHost();
    host.count('IpInReceives', 24);
    host.count('TcpExtIPReversePathFilter', 3);
    const out = sh(ctx, 'nstat -az').stdout;
    expect(out.startsWith('#kernel\nIpInReceives                    24                 0.0\nIpInHdrErrors                   0                  0.0\n')).toBe(true);
    expect(out).toContain('TcpExtIPReversePathFilter       3                  0.0\n');
    expect(out).toContain('UdpNoPorts                      0                  0.0\n');
    expect(out).not.toContain('TcpCurrEstab');
    expect(out.indexOf('IpInReceives')).toBeLessThan(out.indexOf('IcmpInMsgs'));
    expect(out.indexOf('TcpActiveOpens')).toBeLessThan(out.indexOf('TcpExtSyncookiesSent'));
  });

  test('nstat -a without -z skips zeros; patterns select; IcmpMsg types follow the Icmp counters', () => {
    const { ctx, host } = makeHost();
    host.count('IcmpOutDestUnreachs', 2);
    host.count('IcmpOutMsgs', 2);
    expect(sh(ctx, 'nstat -a').stdout).toBe('#kernel\nIcmpOutMsgs                     2                  0.0\nIcmpOutDestUnreachs             2                  0.0\nIcmpMsgOutType3                 2                  0.0\n');
    expect(sh(ctx, "nstat -az 'Icmp*Dest*'").stdout).toBe('#kernel\nIcmpInDestUnreachs              0                  0.0\nIcmpOutDestUnreachs             2                  0.0\n');
  });

  test('nstat without -a prints what changed since its last run', () => {
    const { ctx, host } = makeHost();
    host.count('IpInReceives', 5);
    expect(sh(ctx, 'nstat').stdout).toBe('#kernel\nIpInReceives                    5                  0.0\n');
    host.count('IpInReceives', 2);
    expect(sh(ctx, 'nstat').stdout).toBe('#kernel\nIpInReceives                    2                  0.0\n');
    expect(sh(ctx, 'nstat').stdout).toBe('#kernel\n');
  });

  test('netstat -s groups counters in net-tools\' sentences', () => {
    const { ctx, host } = makeHost();
    host.count('IpInReceives', 24); host.count('IpInDelivers', 20); host.count('IpOutRequests', 19); host.count('IpInAddrErrors', 4);
    host.count('TcpExtIPReversePathFilter', 3); host.count('UdpNoPorts', 1); host.count('IcmpOutDestUnreachs', 1); host.count('IcmpOutMsgs', 1);
    const out = sh(ctx, 'netstat -s').stdout;
    expect(out.startsWith('Ip:\n    Forwarding: 2\n    24 total packets received\n    4 with invalid addresses\n    0 forwarded\n    0 incoming packets discarded\n    20 incoming packets delivered\n    19 requests sent out\nIcmp:\n')).toBe(true);
    expect(out).toContain('    1 ICMP messages sent\n    0 ICMP messages failed\n    ICMP output histogram:\n        destination unreachable: 1\n');
    expect(out).toContain('IcmpMsg:\n        OutType3: 1\n');
    expect(out).toContain('Udp:\n    0 packets received\n    1 packets to unknown port received\n');
    expect(out).toContain('TcpExt:\n    IPReversePathFilter: 3\nIpExt:\n');
    expect(sh(ctx, 'netstat -tn').exit).toBe(1);
  });
});

describe('runCommand', () => {
  test('unknown commands fail as bash does, with a did-you-mean', () => {
    const { ctx } = makeHost();
    const r = sh(ctx, 'ipvsdam -Ln');
    expect(r.exit).toBe(127);
    expect(r.stderr).toBe('bash: ipvsdam: command not found\n');
    expect(r.errorAt?.word).toBe(0);
    expect(r.errorAt?.expected).toMatch(/^"ipvsadm"\? \(one of: .*ifconfig.*\)$/);
    expect(sh(ctx, 'ifconfgi').errorAt?.expected).toMatch(/^"ifconfig"\?/);
    expect(sh(ctx, 'frobnicate').errorAt?.expected).toMatch(/^one of: /);
  });

  test('knownCommands lists every tool', () => {
    expect(knownCommands()).toEqual(['arping', 'cat', 'conntrack', 'dmesg', 'echo', 'ifconfig', 'ip', 'iptables', 'iptables-legacy', 'iptables-legacy-restore',
      'iptables-legacy-save', 'iptables-restore', 'iptables-save', 'ipvsadm', 'ipvsadm-restore', 'ipvsadm-save', 'journalctl', 'kill', 'killall',
      'lsmod', 'modprobe', 'netstat', 'nstat', 'pidof', 'pkill', 'ps', 'rmmod', 'route', 'service', 'sysctl', 'systemctl', 'tcpdump', 'true']);
  });

  test('paths and sudo find the same tool; true and : do nothing', () => {
    const { ctx, host } = makeHost('h', ['eth0']);
    expect(sh(ctx, '/sbin/ip link set eth0 up').exit).toBe(0);
    expect(host.dev('eth0').up).toBe(true);
    expect(sh(ctx, 'sudo ip link set eth9 up')).toMatchObject({ exit: 1, errorAt: { word: 4 } });
    expect(sh(ctx, 'true')).toEqual({ exit: 0, stdout: '', stderr: '' });
    expect(sh(ctx, ':')).toEqual({ exit: 0, stdout: '', stderr: '' });
  });

  test('isReadOnly separates listings from changes', () => {
    const ro = (l: string): boolean => { const s = splitLine(l); if (!s.ok) throw new Error(l); return isReadOnly(s.commands[0]); };
    for (const l of ['ip addr', 'ip -4 a s', 'ip route get 1.2.3.4', 'ip -s link', 'ifconfig', 'ifconfig -a', 'ifconfig eth0', 'route -n', 'sysctl net.ipv4.ip_forward',
      'sysctl -a', 'cat /proc/sys/net/ipv4/ip_forward', 'lsmod', 'nstat -az', 'netstat -s', 'ipvsadm -Ln', 'ipvsadm -L -n --stats', 'ipvsadm-save -n', 'echo hi',
      'ip tunnel show', 'ip neigh'] ) expect(ro(l), l).toBe(true);
    for (const l of ['ip addr add 1.2.3.4/32 dev lo', 'ip link set eth0 up', 'ip route flush dev eth0', 'ifconfig eth0 1.2.3.4', 'route add default gw 1.2.3.4',
      'sysctl -w a=1', 'sysctl a=1', 'sysctl -p', 'echo 1 > /proc/sys/net/ipv4/ip_forward', 'modprobe ipip', 'ipvsadm -A -t 1.2.3.4:80', 'ipvsadm -C',
      'systemctl restart network', 'frobnicate', 'ip neigh flush dev eth0'] ) expect(ro(l), l).toBe(false);
  });
});

describe('garbage never crashes a tool', () => {
  const TOKENS = ['ip', 'ifconfig', 'route', 'sysctl', 'modprobe', 'rmmod', 'lsmod', 'systemctl', 'service', 'echo', 'cat', 'nstat', 'netstat', 'ipvsadm',
    'addr', 'add', 'del', 'link', 'set', 'up', 'down', 'route', 'get', 'neigh', 'tunnel', 'show', 'flush', 'dev', 'via', 'default', 'mtu', 'lladdr', 'nud',
    'metric', 'src', 'table', 'type', 'dummy', 'ipip', 'local', 'remote', 'ttl', 'mode', 'label', 'brd', '+', '-', 'netmask', 'broadcast', 'gw', '-net',
    '-host', '-n', '-w', '-p', '-a', '-q', '-r', '-4', '-s', '-br', '-d', 'eth0', 'lo', 'tunl0', 'lo:0', 'eth9', '10.0.0.1', '10.0.0.1/24', '0.0.0.0/0',
    '255.255.255.255', '10.0.0.300', '1.2.3.4/33', '999999999999999999999', '-1', '0', '', ' ', '=', 'net.ipv4.ip_forward=1', 'net/ipv4/ip_forward',
    'a=b=c', '/proc/sys/net/ipv4/ip_forward', 'restart', 'network', '\u00e9th0', '\u{1F600}', '\u0000', 'x'.repeat(300), '--', '--pattern', '[', '(',
    'nan', 'Infinity', '0x10', '1e3', '02:00:00:00:00:01', 'zz:zz', 'permanent', 'reachable', '172.16.29.6'];

  test('5000 seeded random command lines all return a ToolResult', () => {
    const rng = new Rng(20240601);
    for (let n = 0; n < 5000; n++) {
      const { ctx } = makeHost('g', ['eth0'], { '/etc/sysctl.conf': 'net.ipv4.ip_forward = 1\nbad line\n', '/etc/sysconfig/network-scripts/ifcfg-eth0': 'IPADDR=10.0.0.1\n' });
      for (let c = 0; c < 3; c++) {
        const len = 1 + rng.int(0, 7 - 1);
        const words = Array.from({ length: len }, (_, k) => {
          const t = k === 0 && rng.next() < 0.8 ? TOKENS[rng.int(0, 14 - 1)] : TOKENS[rng.int(0, TOKENS.length - 1)];
          return { text: t, col: 1 + k * 10, endCol: 1 + k * 10 + t.length };
        });
        const cmd: SimpleCommand = rng.next() < 0.1 ? { words, redirect: { op: '>', target: { text: TOKENS[rng.int(0, TOKENS.length - 1)], col: 99, endCol: 100 } } } : { words };
        const r = runCommand(cmd, ctx);
        expect(typeof r.exit).toBe('number');
        expect(typeof r.stdout).toBe('string');
        expect(typeof r.stderr).toBe('string');
        if (r.exit !== 0) {
          expect(r.errorAt, words.map(w => w.text).join(' ')).toBeDefined();
          expect(r.errorAt!.word).toBeGreaterThanOrEqual(0);
          expect(r.errorAt!.word).toBeLessThanOrEqual(words.length);
        }
        expect(r.stderr, words.map(w => w.text).join(' ')).not.toMatch(/internal error/);
      }
    }
  });
});
