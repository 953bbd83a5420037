import { describe, expect, test } from 'vitest';
import { makeHost, sh, shAll } from './helpers';
import { parseSysctlConf } from '../../src/config/sysctl';
import { runScenarioText } from '../../src/world/world';

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

describe('keys Linux has and lvsim does not model (kernel.sysrq, net.core.rmem_max ...)', () => {
  const KEYS = ['kernel.sysrq', 'net.core.rmem_max', 'net.ipv4.tcp_tw_reuse', 'net.ipv4.tcp_max_syn_backlog', 'net.ipv4.tcp_syncookies',
    'vm.swappiness', 'fs.file-max', 'kernel.panic', 'net.ipv4.route.min_pmtu', 'net.ipv6.conf.all.disable_ipv6', 'net.ipv4.neigh.default.gc_thresh3'];

  test('sysctl -w accepts them with a "not modelled" warning, and sysctl KEY reads back what was written', () => {
    const { ctx } = makeHost('h', ['eth0']);
    for (const k of KEYS) {
      const w = sh(ctx, `sysctl -w ${k}=7`);
      expect(w, k).toMatchObject({ exit: 0, stdout: `${k} = 7\n`, stderr: '' });
      expect(w.warnings, k).toEqual([{ word: 2, message: expect.stringMatching(/is not modelled: the value is kept but changes nothing/) }]);
      expect(sh(ctx, `sysctl ${k}`).stdout, k).toBe(`${k} = 7\n`);
      expect(sh(ctx, `sysctl -n ${k.replace(/\./g, '/')}`).stdout, k).toBe('7\n');
    }
    // Text values (the kernel's string sysctls) are kept as written.
    expect(sh(ctx, 'sysctl -w net.ipv4.tcp_congestion_control=bbr').exit).toBe(0);
    expect(sh(ctx, 'cat /proc/sys/net/ipv4/tcp_congestion_control').stdout).toBe('bbr\n');
    expect(sh(ctx, 'echo 1 > /proc/sys/vm/overcommit_memory').warnings).toHaveLength(1);
    expect(sh(ctx, 'sysctl vm.overcommit_memory').stdout).toBe('vm.overcommit_memory = 1\n');
  });

  test('reading one that was never set says lvsim does not know its value (not "cannot stat")', () => {
    const { ctx } = makeHost('h', ['eth0']);
    const r = sh(ctx, 'sysctl kernel.sysrq');
    expect(r.exit).toBe(1);
    expect(r.stderr).toMatch(/kernel\.sysrq exists on Linux but is not modelled/);
    expect(r.stderr).not.toMatch(/cannot stat/);
  });

  test('typos, unknown devices and made-up keys are still missing, in procps-ng\'s words', () => {
    const { ctx } = makeHost('h', ['eth0']);
    for (const k of ['net.ipv4.conf.all.rp_fliter', 'kernel.sysrqq', 'net.core.rmem_maximum', 'net.ipv6.conf.eth9.disable_ipv6',
      'net.ipv4.neigh.eth9.gc_stale_time', 'net.ipv4.neigh.eth0.gc_thresh1', 'vm.swapiness', 'net.bridge.bridge-nf-call-iptables']) {
      const r = sh(ctx, `sysctl -w ${k}=1`);
      expect(r.exit, k).toBe(255);
      expect(r.stderr, k).toBe(`sysctl: cannot stat /proc/sys/${k.replace(/\./g, '/')}: No such file or directory\n`);
    }
    expect(sh(ctx, 'sysctl -w net.ipv6.conf.eth0.disable_ipv6=1').exit).toBe(0);
  });

  test('sysctl -p: a production sysctl.conf loads, each unmodelled key is a warning at its line', () => {
    const conf = 'net.ipv4.conf.all.rp_filter = 0\nkernel.sysrq = 1\nnet.core.rmem_max = 16777216\nnet.ipv4.tcp_rmem = 4096 87380 16777216\n';
    const { ctx } = makeHost('h', ['eth0'], { '/etc/sysctl.conf': conf });
    const r = sh(ctx, 'sysctl -p');
    expect(r.exit).toBe(0);
    expect(r.stdout).toBe('net.ipv4.conf.all.rp_filter = 0\nkernel.sysrq = 1\nnet.core.rmem_max = 16777216\nnet.ipv4.tcp_rmem = 4096 87380 16777216\n');
    expect(r.fileErrors!.map(e => [e.line, e.col, e.found])).toEqual([[2, 1, 'kernel.sysrq'], [3, 1, 'net.core.rmem_max'], [4, 1, 'net.ipv4.tcp_rmem']]);
    expect(r.fileErrors![0]!.expected).toMatch(/not modelled/);
    expect(sh(ctx, 'sysctl net.ipv4.tcp_rmem').stdout).toBe('net.ipv4.tcp_rmem = 4096\t87380\t16777216\n');
  });
});

test('a scenario whose sysctl.conf sets kernel.sysrq loads with a warning at that line, not an error', () => {
  const text = 'hosts:\n  h:\n    files:\n      /etc/sysctl.conf: |\n        net.ipv4.ip_forward = 1\n        kernel.sysrq = 1\n    setup: |\n      sysctl -p\n      systemctl restart systemd-sysctl\nlinks:\n  - { name: lan, ends: [h:eth0] }\n';
  const run = runScenarioText(text, 's.yaml');
  expect(run.diagnostics.map(d => [d.severity, d.line, d.col, d.found])).toEqual([['warning', 6, 9, 'kernel.sysrq'], ['warning', 6, 9, 'kernel.sysrq']]);
  expect(run.world.exec('h', 'sysctl kernel.sysrq').stdout).toBe('kernel.sysrq = 1\n');
});

test('a sysctl.conf with a typo and an unmodelled key: the typo is an error, the other a warning, each at its line', () => {
  const text = 'hosts:\n  h:\n    files:\n      /etc/sysctl.conf: |\n        net.ipv4.conf.all.rp_fliter = 0\n        vm.swappiness = 10\n    setup: |\n      sysctl -p\nlinks:\n  - { name: lan, ends: [h:eth0] }\n';
  const run = runScenarioText(text, 's.yaml');
  expect(run.diagnostics.map(d => [d.severity, d.line, d.found])).toEqual([['error', 5, 'net.ipv4.conf.all.rp_fliter'], ['warning', 6, 'vm.swappiness']]);
});

test('systemctl restart systemd-sysctl: a typo is an error at its line of the file, an unmodelled key a warning', () => {
  const text = 'hosts:\n  h:\n    files:\n      /etc/sysctl.conf: |\n        net.ipv4.conf.all.rp_fliter = 0\n        vm.swappiness = 10\n    setup: |\n      systemctl restart systemd-sysctl\nlinks:\n  - { name: lan, ends: [h:eth0] }\n';
  const run = runScenarioText(text, 's.yaml');
  expect(run.diagnostics.map(d => [d.severity, d.line, d.found])).toEqual([['error', 5, 'net.ipv4.conf.all.rp_fliter'], ['warning', 6, 'vm.swappiness']]);
});
