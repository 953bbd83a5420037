import { describe, expect, test } from 'vitest';
import { makeHost, sh, shAll } from './helpers';
import { iptablesRestoreText, iptablesSaveText } from '../../src/config/iptables';
import { iptablesCounters } from '../../src/kernel/xtables';
import { klogLines } from '../../src/kernel/klog';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";

describe('iptables -S and iptables-save spell rules as iptables 1.8 prints them', () => {
  const cases: Array<[string, string]> = [
    ['-A FORWARD -p 4 -j DROP', '-A FORWARD -p 4 -j DROP'],
    ['-A INPUT -p icmp --icmp-type fragmentation-needed -j DROP', '-A INPUT -p icmp -m icmp --icmp-type 3/4 -j DROP'],
    ['-A INPUT -p icmp --icmp-type echo-request -j ACCEPT', '-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT'],
    ['-A INPUT -p icmp --icmp-type any -j ACCEPT', '-A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT'],
    ['-A INPUT -p icmp ! --icmp-type 3/4 -j DROP', '-A INPUT -p icmp -m icmp ! --icmp-type 3/4 -j DROP'],
    ['-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT', '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT'],
    ['-A INPUT -m conntrack --ctstate NEW,INVALID -j DROP', '-A INPUT -m conntrack --ctstate INVALID,NEW -j DROP'],
    ['-A INPUT -p tcp --dport 9001 -j REJECT', '-A INPUT -p tcp -m tcp --dport 9001 -j REJECT --reject-with icmp-port-unreachable'],
    ['-A INPUT -p tcp --dport 9001 -j REJECT --reject-with tcp-rst', '-A INPUT -p tcp -m tcp --dport 9001 -j REJECT --reject-with tcp-reset'],
    ['-A INPUT -p tcp --syn -j ACCEPT', '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT'],
    ['-A INPUT -p tcp --sport 1024:65535 --dport 22 -j ACCEPT', '-A INPUT -p tcp -m tcp --sport 1024:65535 --dport 22 -j ACCEPT'],
    ['-A INPUT -s 172.16.197.0/255.255.255.0 ! -d 10.1.2.3 -i eth0 -j ACCEPT', '-A INPUT -s 172.16.197.0/24 ! -d 10.1.2.3/32 -i eth0 -j ACCEPT'],
    ['-A INPUT -s 10.1.2.3/8 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -j ACCEPT'],
    ['-A FORWARD -o eth+ ! -p udp -j ACCEPT', '-A FORWARD -o eth+ ! -p udp -j ACCEPT'],
    ['-A INPUT -p udp -m multiport --dports 53,5000:5010 -j ACCEPT', '-A INPUT -p udp -m multiport --dports 53,5000:5010 -j ACCEPT'],
    ['-A INPUT -m comment --comment "allow the VIP" -j ACCEPT', '-A INPUT -m comment --comment "allow the VIP" -j ACCEPT'],
    ['-A INPUT -m comment --comment vip -j ACCEPT', '-A INPUT -m comment --comment vip -j ACCEPT'],
    ['-A INPUT -j LOG --log-prefix "fw: " --log-level info', '-A INPUT -j LOG --log-prefix "fw: " --log-level 6'],
    ['-A INPUT -p all -j ACCEPT', '-A INPUT -j ACCEPT'],
    ['-A INPUT -p 6 -j ACCEPT', '-A INPUT -p tcp -j ACCEPT'],
    ['-A INPUT', '-A INPUT'],
  ];
  for (const [cmd, want] of cases) {
    test(`iptables ${cmd} -> ${want}`, () => {
      const { ctx } = makeHost('h', ['eth0']);
      const r = sh(ctx, `iptables ${cmd}`);
      expect(r.stderr).toBe('');
      expect(r.exit).toBe(0);
      expect(sh(ctx, 'iptables -S INPUT').stdout.split('\n').concat(sh(ctx, 'iptables -S FORWARD').stdout.split('\n'))).toContain(want);
    });
  }

  test('TCPMSS in the mangle table: --set-mss and --clamp-mss-to-pmtu', () => {
    const { ctx } = makeHost('rs1', ['eth0']);
    shAll(ctx, [
      'iptables -t mangle -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss 1440',
      'iptables -t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
    ]);
    expect(sh(ctx, 'iptables -t mangle -S').stdout).toBe([
      '-P PREROUTING ACCEPT', '-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT', '-P POSTROUTING ACCEPT',
      '-A OUTPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss 1440',
      '-A POSTROUTING -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu', '',
    ].join('\n'));
  });
});

describe('iptables -L', () => {
  test('numeric, verbose, with line numbers and a user chain', () => {
    const { ctx } = makeHost('h', ['eth0']);
    shAll(ctx, ['iptables -N SVC', 'iptables -A INPUT -i eth0 -p tcp --dport 9001 -j SVC', 'iptables -A SVC -s 203.0.113.0/24 -j ACCEPT', 'iptables -P INPUT DROP']);
    expect(sh(ctx, 'iptables -L -n -v --line-numbers').stdout).toBe([
      'Chain INPUT (policy DROP 0 packets, 0 bytes)',
      'num   pkts bytes target     prot opt in     out     source               destination         ',
      '1        0     0 SVC        6    --  eth0   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:9001',
      '',
      'Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)',
      'num   pkts bytes target     prot opt in     out     source               destination         ',
      '',
      'Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)',
      'num   pkts bytes target     prot opt in     out     source               destination         ',
      '',
      'Chain SVC (1 references)',
      'num   pkts bytes target     prot opt in     out     source               destination         ',
      '1        0     0 ACCEPT     0    --  *      *       203.0.113.0/24       0.0.0.0/0           ',
      '',
    ].join('\n'));
  });

  test('names and "anywhere" without -n', () => {
    const { ctx } = makeHost('h', ['eth0']);
    shAll(ctx, ['iptables -A INPUT -p icmp --icmp-type fragmentation-needed -j DROP']);
    expect(sh(ctx, 'iptables -L INPUT').stdout).toBe([
      'Chain INPUT (policy ACCEPT)',
      'target     prot opt source               destination         ',
      'DROP       icmp --  anywhere             anywhere             icmp fragmentation-needed',
      '',
    ].join('\n'));
    expect(sh(ctx, 'iptables -L INPUT -n').stdout.split('\n')[2]).toBe('DROP       1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 4');
  });
});

describe('iptables errors, worded as iptables 1.8.9 (legacy) words them', () => {
  const cases: Array<[string, string, number]> = [
    ['iptables -A INPUT -p tcp --dport 80x -j ACCEPT', "iptables v1.8.9 (legacy): invalid port/service `80x' specified\n" + TRY, 2],
    ['iptables -A INPUT --dport 80 -j ACCEPT', 'iptables v1.8.9 (legacy): unknown option "--dport"\n' + TRY, 2],
    ['iptables -A FORWARD -p ipip -j DROP', 'iptables v1.8.9 (legacy): unknown protocol "ipip" specified\n' + TRY, 2],
    ['iptables -A INPUT -j FOO', "iptables v1.8.9 (legacy): Couldn't load target `FOO':No such file or directory\n\n" + TRY, 2],
    ['iptables -A INPUT -m foo', "iptables v1.8.9 (legacy): Couldn't load match `foo':No such file or directory\n\n" + TRY, 2],
    ['iptables -A PREROUTING -j DROP', 'iptables: No chain/target/match by that name.\n', 1],
    ['iptables -D INPUT 3', 'iptables: Index of deletion too big.\n', 1],
    ['iptables -D INPUT -p tcp -j ACCEPT', 'iptables: Bad rule (does a matching rule exist in that chain?).\n', 1],
    ['iptables -t mangle -A PREROUTING -j REJECT', "iptables: Invalid argument. Run `dmesg' for more information.\n", 1],
    ['iptables -A INPUT -j REJECT --reject-with tcp-reset', "iptables: Invalid argument. Run `dmesg' for more information.\n", 1],
    ['iptables -A INPUT -p icmp --icmp-type bogus -j DROP', "iptables v1.8.9 (legacy): Unknown ICMP type `bogus'\n" + TRY, 2],
    ['iptables -A INPUT -p icmp -j DROP -m icmp', 'iptables v1.8.9 (legacy): icmp: option "--icmp-type" must be specified\n\n' + TRY, 2],
    ['iptables -A INPUT -A OUTPUT -j DROP', 'iptables v1.8.9 (legacy): Cannot use -A with -A\n' + TRY, 2],
    ['iptables -L -s 1.2.3.4', "iptables v1.8.9 (legacy): Illegal option `-s' with this command\n" + TRY, 2],
    ['iptables -A INPUT -o eth0 -j DROP', "iptables v1.8.9 (legacy): Can't use -o with INPUT\n\n" + TRY, 2],
    ['iptables -P INPUT REJECT', "iptables: Bad policy name. Run `dmesg' for more information.\n", 1],
    ['iptables -A INPUT -s 1.2.3 -j DROP', "iptables v1.8.9 (legacy): host/network `1.2.3' not found\n" + TRY, 2],
    ['iptables -A INPUT -m state --state NEWISH -j DROP', 'iptables v1.8.9 (legacy): Bad state "NEWISH"\n' + TRY, 2],
    ['iptables -A INPUT foo', "Bad argument `foo'\n" + TRY, 2],
    ['iptables -t foo -L', "iptables v1.8.9 (legacy): can't initialize iptables table `foo': Table does not exist (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.\n", 3],
    ['iptables -N INPUT', 'iptables: Chain already exists.\n', 1],
    ['iptables -X INPUT', "iptables: Can't delete built-in chain. Run `dmesg' for more information.\n", 1],
    ['iptables -I INPUT 5 -j ACCEPT', 'iptables: Index of insertion too big.\n', 1],
    ['iptables -A INPUT -p tcp -j TCPMSS --set-mss 1400', "iptables: Invalid argument. Run `dmesg' for more information.\n", 1],
  ];
  for (const [line, err, exit] of cases) {
    test(line, () => {
      const { ctx } = makeHost('h', ['eth0']);
      const r = sh(ctx, line);
      expect(r.stderr).toBe(err);
      expect(r.exit).toBe(exit);
      expect(r.errorAt).toBeDefined();
    });
  }

  test('a refused rule leaves the table as it was, and the kernel says why in dmesg', () => {
    const { host, ctx } = makeHost('h', ['eth0']);
    shAll(ctx, ['iptables -A INPUT -p tcp --dport 22 -j ACCEPT']);
    sh(ctx, 'iptables -t filter -A INPUT -j REJECT --reject-with tcp-reset');
    expect(sh(ctx, 'iptables -S INPUT').stdout).toBe('-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n');
    expect(klogLines(host).map(l => l.text)).toEqual(['ipt_REJECT: TCP_RESET invalid for non-tcp']);
  });

  test('a jump loop is refused (ELOOP)', () => {
    const { ctx } = makeHost('h', ['eth0']);
    shAll(ctx, ['iptables -N A', 'iptables -N B', 'iptables -A INPUT -j A', 'iptables -A A -j B']);
    const r = sh(ctx, 'iptables -A B -j A');
    expect(r.stderr).toBe('iptables: Too many levels of symbolic links.\n');
    expect(sh(ctx, 'iptables -S B').stdout).toBe('-N B\n');
  });
});

describe('iptables-save and iptables-restore round-trip', () => {
  const RULES = [
    'iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    'iptables -A INPUT -i lo -j ACCEPT',
    'iptables -N SVC',
    'iptables -A INPUT -p tcp -m multiport --dports 22,9001 -j SVC',
    'iptables -A SVC -s 203.0.113.0/24 -m comment --comment "clients \\"net\\"" -j ACCEPT',
    'iptables -A SVC -j LOG --log-prefix "svc drop: "',
    'iptables -A SVC -j DROP',
    'iptables -A INPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT',
    'iptables -A INPUT -p 4 -j ACCEPT',
    'iptables -P INPUT DROP',
    'iptables -t mangle -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss 1440',
    'iptables -t raw -A PREROUTING -s 192.0.2.0/24 -j DROP',
  ];

  test('save, restore on a fresh host, save again: the same text', () => {
    const a = makeHost('a', ['eth0']);
    shAll(a.ctx, RULES);
    const saved = iptablesSaveText(a.host, false, 0);
    const b = makeHost('b', ['eth0']);
    const r = iptablesRestoreText(b.host, saved);
    expect(r).toEqual({ ok: true, stderr: '' });
    // Each table's block is the same; the blocks come newest table first (/proc/net/ip_tables_names),
    // and restore loads them in file order, so the order of the blocks is reversed.
    const blocks = (t: string) => t.split('# Generated').filter(Boolean).sort();
    expect(blocks(iptablesSaveText(b.host, false, 0))).toEqual(blocks(saved));
    for (const t of ['filter', 'mangle', 'raw']) expect(sh(b.ctx, `iptables -t ${t} -S`).stdout).toBe(sh(a.ctx, `iptables -t ${t} -S`).stdout);
  });

  test('restore -c keeps the counters; without -c they start at zero', () => {
    const text = '*filter\n:INPUT ACCEPT [5:300]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[7:420] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n';
    const a = makeHost('a', ['eth0']);
    expect(iptablesRestoreText(a.host, text, { counters: true }).ok).toBe(true);
    expect(iptablesCounters(a.host)).toEqual([['filter', 'INPUT', '-p tcp -m tcp --dport 22 -j ACCEPT', 7]]);
    expect(sh(a.ctx, 'iptables -L INPUT -v -n -x').stdout.split('\n')[0]).toBe('Chain INPUT (policy ACCEPT 5 packets, 300 bytes)');
    const b = makeHost('b', ['eth0']);
    expect(iptablesRestoreText(b.host, text).ok).toBe(true);
    expect(iptablesCounters(b.host)[0][3]).toBe(0);
  });

  test('a bad line fails the restore with its line number and changes nothing', () => {
    const a = makeHost('a', ['eth0']);
    shAll(a.ctx, ['iptables -A INPUT -j ACCEPT']);
    const r = iptablesRestoreText(a.host, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 80x -j ACCEPT\nCOMMIT\n');
    expect(r.ok).toBe(false);
    expect(r.stderr).toBe("iptables-restore v1.8.9 (legacy): invalid port/service `80x' specified\nError occurred at line: 3\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n");
    expect(sh(a.ctx, 'iptables -S INPUT').stdout).toBe('-P INPUT ACCEPT\n-A INPUT -j ACCEPT\n');
    expect(iptablesRestoreText(a.host, '*filter\n-A INPUT -j ACCEPT\n').stderr).toBe('iptables-restore: COMMIT expected at line 3\n');
  });

  test('systemctl restart iptables loads /etc/sysconfig/iptables', () => {
    const file = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 9001 -j REJECT --reject-with tcp-reset\nCOMMIT\n';
    const { ctx } = makeHost('rs1', ['eth0'], { '/etc/sysconfig/iptables': file });
    shAll(ctx, ['iptables -A INPUT -j ACCEPT']);
    expect(sh(ctx, 'systemctl restart iptables').exit).toBe(0);
    expect(sh(ctx, 'iptables -S INPUT').stdout).toBe('-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 9001 -j REJECT --reject-with tcp-reset\n');
    const none = makeHost('rs2', ['eth0']);
    expect(sh(none.ctx, 'systemctl restart iptables').exit).toBe(1);
  });
});

describe('the benchmark firewall', () => {
  test('is 50 rules that iptables-restore accepts', async () => {
    const { BENCH_FIREWALL } = await import('../../src/cli/benchFlow');
    const { host } = makeHost('h', ['eth0']);
    expect(iptablesRestoreText(host, BENCH_FIREWALL)).toEqual({ ok: true, stderr: '' });
    expect(iptablesCounters(host)).toHaveLength(50);
  });
});
