import { describe, expect, test } from 'vitest';
import { makeHost, sh, shAll } from './helpers';
import { parseSysctlConf } from '../../src/config/sysctl';

describe('sysctl (procps-ng)', () => {
  test('reads print "key = value"; -n prints the value; slash keys print with dots', () => {
    const { ctx } = makeHost();
    expect(sh(ctx, 'sysctl net.ipv4.ip_forward').stdout).toBe('net.ipv4.ip_forward = 0\n');
    expect(sh(ctx, 'sysctl -n net.ipv4.ip_forward').stdout).toBe('0\n');
    expect(sh(ctx, 'sysctl net/ipv4/conf/all/rp_filter').stdout).toBe('net.ipv4.conf.all.rp_filter = 0\n');
    expect(sh(ctx, 'sysctl -N net.ipv4.ip_forward').stdout).toBe('net.ipv4.ip_forward\n');
  });

  test('an argument with = writes even without -w; several pairs in one call; -q silences', () => {
    const { ctx, host } = makeHost('h', ['eth0']);
    expect(sh(ctx, 'sysctl net.ipv4.ip_forward=1').stdout).toBe('net.ipv4.ip_forward = 1\n');
    expect(sh(ctx, 'sysctl -w net.ipv4.conf.all.rp_filter=2 net/ipv4/conf/eth0/rp_filter=1').stdout)
      .toBe('net.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.eth0.rp_filter = 1\n');
    expect(host.sysctl.confMax('eth0', 'rp_filter')).toBe(2);
    expect(sh(ctx, 'sysctl -q -w net.ipv4.conf.all.rp_filter=0')).toEqual({ exit: 0, stdout: '', stderr: '' });
  });

  test('sysctl -a lists every key sorted; --pattern and -r filter by regex', () => {
    const { ctx, host } = makeHost('h', ['eth0']);
    const all = sh(ctx, 'sysctl -a').stdout.split('\n').filter(Boolean);
    expect(all.length).toBe(host.sysctl.keys().length);
    expect(all).toContain('net.ipv4.conf.eth0.arp_ignore = 0');
    expect(sh(ctx, "sysctl -a --pattern '\\.rp_filter$'").stdout).toBe(
      'net.ipv4.conf.all.rp_filter = 0\nnet.ipv4.conf.default.rp_filter = 0\nnet.ipv4.conf.eth0.rp_filter = 0\nnet.ipv4.conf.lo.rp_filter = 0\n');
    expect(sh(ctx, "sysctl -a -r '^net.ipv4.ip_forward'").stdout).toBe('net.ipv4.ip_forward = 0\n');
  });

  test('errors are procps-ng\'s; each failed key counts -1 in the exit status', () => {
    const { ctx } = makeHost();
    expect(sh(ctx, 'sysctl net.ipv4.conf.eth9.rp_filter')).toMatchObject({
      exit: 255, stderr: 'sysctl: cannot stat /proc/sys/net/ipv4/conf/eth9/rp_filter: No such file or directory\n', errorAt: { word: 1 },
    });
    expect(sh(ctx, 'sysctl -w net.ipv4.ip_forward=yes')).toMatchObject({ exit: 255, stderr: 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n', errorAt: { word: 2 } });
    expect(sh(ctx, 'sysctl -w net.ipv4.ip_forward=99999999999')).toMatchObject({ exit: 255, stderr: 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n' });
    const two = sh(ctx, 'sysctl -w a.b=1 net.ipv4.ip_forward=1 c.d=2');
    expect(two.exit).toBe(254);
    expect(two.stdout).toBe('net.ipv4.ip_forward = 1\n');
    expect(sh(ctx, 'sysctl -w net.ipv4.ip_forward')).toMatchObject({ exit: 255, stderr: 'sysctl: "net.ipv4.ip_forward" must be of the form name=value\n' });
    expect(sh(ctx, 'sysctl')).toMatchObject({ exit: 1, stderr: "sysctl: no variables specified\nTry `sysctl --help' for more information.\n" });
    expect(sh(ctx, 'sysctl -k')).toMatchObject({ exit: 1, stderr: "sysctl: invalid option -- 'k'\nTry `sysctl --help' for more information.\n" });
    expect(sh(ctx, 'sysctl -e net.ipv4.conf.eth9.rp_filter')).toEqual({ exit: 0, stdout: '', stderr: '' });
  });

  test('sysctl -p reads /etc/sysctl.conf by default, or the files named', () => {
    const conf = '# comment\n; also a comment\n\n  net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.arp_ignore=1\n-net.ipv4.conf.eth9.rp_filter = 1\n';
    const { ctx, host } = makeHost('h', [], { '/etc/sysctl.conf': conf, '/etc/sysctl.d/90-lvs.conf': 'net.ipv4.conf.all.arp_announce = 2\n' });
    expect(sh(ctx, 'sysctl -p')).toEqual({ exit: 0, stdout: 'net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.arp_ignore = 1\n', stderr: '' });
    expect(sh(ctx, 'sysctl -p /etc/sysctl.d/90-lvs.conf').stdout).toBe('net.ipv4.conf.all.arp_announce = 2\n');
    expect(host.sysctl.get('net.ipv4.conf.all.arp_announce')).toBe('2');
    expect(sh(ctx, 'sysctl -p /etc/nope.conf')).toMatchObject({ exit: 255, stderr: 'sysctl: cannot open "/etc/nope.conf": No such file or directory\n', errorAt: { word: 2 } });
  });

  test('parseSysctlConf points at the line and column of bad lines', () => {
    const { entries, diagnostics } = parseSysctlConf('net.ipv4.ip_forward = 1\n  garbage here\nnet.ipv4.conf.all.rp_filter =\n-  net.ipv4.conf.all.arp_ignore = 1\n', '/etc/sysctl.conf');
    expect(entries).toEqual([
      { key: 'net.ipv4.ip_forward', value: '1', ignoreErrors: false, line: 1, keyCol: 1, valueCol: 23 },
      { key: 'net.ipv4.conf.all.arp_ignore', value: '1', ignoreErrors: true, line: 4, keyCol: 4, valueCol: 35 },
    ]);
    expect(diagnostics.map(d => [d.line, d.col, d.expected, d.tool])).toEqual([
      [2, 3, 'a line "key = value"', 'sysctl: /etc/sysctl.conf(2): invalid syntax, continuing...'],
      [3, 30, 'a value for net.ipv4.conf.all.rp_filter', 'sysctl: /etc/sysctl.conf(3): invalid syntax, continuing...'],
    ]);
  });
});

describe('echo > /proc/sys and cat', () => {
  test('echo 1 > /proc/sys/net/ipv4/ip_forward turns forwarding on for every device', () => {
    const { ctx, host } = makeHost('h', ['eth0']);
    expect(sh(ctx, 'echo 1 > /proc/sys/net/ipv4/ip_forward')).toEqual({ exit: 0, stdout: '', stderr: '' });
    expect(host.sysctl.devconf('eth0', 'forwarding')).toBe(1);
    expect(sh(ctx, 'cat /proc/sys/net/ipv4/ip_forward').stdout).toBe('1\n');
    shAll(ctx, ['echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter', 'echo "2" >/proc/sys/net/ipv4/conf/eth0/rp_filter']);
    expect(host.sysctl.devconf('eth0', 'rp_filter')).toBe(2);
  });

  test('bash\'s messages for a missing file and a refused value', () => {
    const { ctx } = makeHost();
    expect(sh(ctx, 'echo 1 > /proc/sys/net/ipv4/conf/tunl0/rp_filter')).toMatchObject({
      exit: 1, stderr: 'bash: /proc/sys/net/ipv4/conf/tunl0/rp_filter: No such file or directory\n', errorAt: { word: 2 },
    });
    expect(sh(ctx, 'echo abc > /proc/sys/net/ipv4/ip_forward')).toMatchObject({ exit: 1, stderr: 'bash: echo: write error: Invalid argument\n', errorAt: { word: 1 } });
    expect(sh(ctx, 'echo hi > /etc/motd').exit).toBe(1);
    expect(sh(ctx, 'cat /proc/sys/nope')).toMatchObject({ exit: 1, stderr: 'cat: /proc/sys/nope: No such file or directory\n', errorAt: { word: 1 } });
  });

  test('plain echo prints; cat prints declared files', () => {
    const { ctx } = makeHost('h', [], { '/etc/sysctl.conf': 'net.ipv4.ip_forward = 1\n' });
    expect(sh(ctx, 'echo hello  world').stdout).toBe('hello world\n');
    expect(sh(ctx, 'echo -n x').stdout).toBe('x');
    expect(sh(ctx, 'cat /etc/sysctl.conf').stdout).toBe('net.ipv4.ip_forward = 1\n');
  });
});

describe('modprobe, rmmod, lsmod (kmod)', () => {
  test('modprobe ipip creates tunl0 down with tunnel4 and ip_tunnel; lsmod shows the users', () => {
    const { ctx, host } = makeHost();
    shAll(ctx, ['modprobe ipip']);
    expect(host.dev('tunl0').up).toBe(false);
    expect(sh(ctx, 'lsmod').stdout).toBe(
      'Module                  Size  Used by\nipip                   20480  0\nip_tunnel              32768  1 ipip\ntunnel4                16384  1 ipip\n');
    expect(sh(ctx, 'rmmod tunnel4')).toMatchObject({ exit: 1, stderr: 'rmmod: ERROR: Module tunnel4 is in use by: ipip\n' });
    shAll(ctx, ['modprobe -r ipip']);
    expect(host.devices.has('tunl0')).toBe(false);
    expect(host.modules.size).toBe(0);
  });

  test('unknown and unloaded modules fail as kmod does', () => {
    const { ctx } = makeHost();
    expect(sh(ctx, 'modprobe ipipp')).toMatchObject({ exit: 1, stderr: 'modprobe: FATAL: Module ipipp not found in directory /lib/modules/6.1.0-56-amd64\n', errorAt: { word: 1 } });
    expect(sh(ctx, 'rmmod ipip')).toMatchObject({ exit: 1, stderr: 'rmmod: ERROR: Module ipip is not currently loaded\n' });
    expect(sh(ctx, 'modprobe -r ipip')).toMatchObject({ exit: 1, stderr: 'modprobe: FATAL: Module ipip is not in kernel.\n' });
    expect(sh(ctx, 'modprobe')).toMatchObject({ exit: 1, stderr: 'modprobe: ERROR: missing parameters. See -h.\n' });
    expect(sh(ctx, 'modprobe -q nosuch')).toMatchObject({ exit: 1, stderr: '' });
  });

  test('modprobe ip_vs_wlc loads ip_vs and its sysctls', () => {
    const { ctx, host } = makeHost();
    shAll(ctx, ['modprobe ip_vs_wlc']);
    expect(host.modules.has('ip_vs')).toBe(true);
    expect(sh(ctx, 'sysctl net.ipv4.vs.expire_nodest_conn').stdout).toBe('net.ipv4.vs.expire_nodest_conn = 0\n');
  });
});
