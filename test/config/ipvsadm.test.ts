/**
 * ipvsadm (ipvsadm 1.31 ipvsadm.c / libipvs.c) against the real ipvs/ipvs.ts: grammar, every
 * message ipvsadm.c and libipvs.c print (option legality, semantic checks, ipvs_strerror()), the
 * listings byte for byte, and the recorded kernel vectors' `ipvsadm -Ln` / `--stats` rebuilt
 * from their setup lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatIpvsadm,
  formatIp6,
  formatList,
  ipvsadmRestore,
  ipvsadmSave,
  parseIp6,
  parseIpvsadm,
  restoreLines,
  suggestScheduler,
} from '../../src/config/ipvsadm';
import { cmpDests, connRow, expireString, glibcMsort, largenum, listConn } from '../../src/config/ipvsadm_format';
import type { ConnView, IpvsCtl } from '../../src/ipvs/ctl';
import type { Dest } from '../../src/ipvs/types';
import { formatIp4, ip4 } from '../../src/net/addr';
import { director, words, type Director } from './ipvsadm_helpers';

const VIP = '172.16.29.6:9001';
const HEAD = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';

/** A director with the reference service: rr on VIP, two TUN real servers. */
function reference(): Director {
  const d = director();
  d.ok(`ipvsadm -A -t ${VIP} -s rr`);
  d.ok(`ipvsadm -a -t ${VIP} -r 172.16.197.3:9001 -i`);
  d.ok(`ipvsadm -a -t ${VIP} -r 192.168.134.5:9001 -i`);
  return d;
}

const dest = (d: Director, svc: string, rs: string): Dest => {
  const [a, p] = svc.split(':');
  const s = d.ipvs.findService({ protocol: 'tcp', addr: ip4(a!), port: Number(p) })!;
  return s.dests.find((x) => `${formatIp4(x.addr)}:${x.port}` === rs)!;
};

// ------------------------------------------------------------------------------------------

describe('recorded kernel vectors: ipvsadm -Ln from the director setup lines', () => {
  const dir = new URL('../fixtures/oracle/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  it('has vectors', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    const v = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as {
      hosts: Record<string, { setup: string[] }>;
      final: Record<string, string>;
    };
    it(`${f}: -Ln matches byte for byte with the counters set`, () => {
      const d = director();
      for (const line of v.hosts.director!.setup.filter((l) => l.startsWith('ipvsadm '))) d.ok(line);
      const want = v.final['ipvsadm-Ln']! + '\n';
      for (const m of want.matchAll(/^ {2}-> (\S+) +\S+ +(\d+) +(\d+) +(\d+) +$/gm)) {
        const x = dest(d, VIP, m[1]!);
        expect(x.weight).toBe(Number(m[2]));
        x.activeconns = Number(m[3]);
        x.inactconns = Number(m[4]);
      }
      expect(d.ok('ipvsadm -Ln')).toBe(want);
      expect(d.ok('ipvsadm -L -n')).toBe(want);
      expect(d.ok('ipvsadm --list --numeric')).toBe(want);
    });
    it(`${f}: --stats layout matches once the estimator publishes the counters`, () => {
      const d = director();
      for (const line of v.hosts.director!.setup.filter((l) => l.startsWith('ipvsadm '))) d.ok(line);
      const want = v.final['ipvsadm-stats']! + '\n';
      const rows = [...want.matchAll(/^(?:TCP {2}| {2}-> )(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$/gm)];
      for (const [i, m] of rows.entries()) {
        const stats = i === 0 ? d.ipvs.findService({ protocol: 'tcp', addr: ip4('172.16.29.6'), port: 9001 })!.stats : dest(d, VIP, m[1]!).stats;
        [stats.conns, stats.inpkts, stats.outpkts, stats.inbytes, stats.outbytes] = [2, 3, 4, 5, 6].map((k) => Number(m[k]));
      }
      d.engine.now += 2_000_000_000; // one estimator tick later
      expect(d.ok('ipvsadm -Ln --stats')).toBe(want);
    });
  }
});

// ------------------------------------------------------------------------------------------

describe('grammar: bundling, long options, optional -p argument', () => {
  it('bundles short options: -Ln, -Lnc, -At', () => {
    const d = reference();
    expect(d.ok('ipvsadm -Ln')).toBe(d.ok('ipvsadm -L -n'));
    expect(d.ok('ipvsadm -Lnc')).toBe('IPVS connection entries\npro expire state       source             virtual            destination\n');
    d.ok('ipvsadm -At 10.0.0.100:80 -s wlc');
    expect(d.ok('ipvsadm -Sn')).toContain('-A -t 10.0.0.100:80 -s wlc\n');
  });

  it('takes --opt=value and --opt value', () => {
    const a = parseIpvsadm(words('ipvsadm --add-service --tcp-service=10.0.0.1:80 --scheduler rr --persistent=600'));
    expect(a.ok && formatIpvsadm(a)).toBe('-A -t 10.0.0.1:80 -s rr -p 600');
  });

  it('-p alone means 360; -p takes the next word only when it does not start with -', () => {
    const cases: Array<[string, string]> = [
      ['ipvsadm -A -t 10.0.0.1:80 -p', '-A -t 10.0.0.1:80 -s wlc -p 360'],
      ['ipvsadm -A -t 10.0.0.1:80 -p -s rr', '-A -t 10.0.0.1:80 -s rr -p 360'],
      ['ipvsadm -A -t 10.0.0.1:80 -p 600', '-A -t 10.0.0.1:80 -s wlc -p 600'],
      ['ipvsadm -A -t 10.0.0.1:80 -p600', '-A -t 10.0.0.1:80 -s wlc -p 600'],
      ['ipvsadm -A -t 10.0.0.1:0 -p', '-A -t 10.0.0.1:0 -s wlc -p 360'],
      ['ipvsadm -A -t 10.0.0.1 --persistent', '-A -t 10.0.0.1:0 -s wlc -p 360'],
    ];
    for (const [line, want] of cases) {
      const p = parseIpvsadm(words(line));
      expect(p.ok && formatIpvsadm(p), line).toBe(want);
    }
  });

  it('accepts the order ipvsadm accepts: -s before -t, options after the service', () => {
    const p = parseIpvsadm(words('ipvsadm -A -s rr -t 10.0.0.1:80'));
    expect(p.ok && formatIpvsadm(p)).toBe('-A -t 10.0.0.1:80 -s rr');
  });

  it('-l is -L; --sort is a no-op; with no arguments it lists', () => {
    const d = reference();
    const want = d.ok('ipvsadm -Ln');
    expect(d.ok('ipvsadm -ln')).toBe(want);
    expect(d.ok('ipvsadm -Ln --sort')).toBe(want);
    expect(d.ok('ipvsadm')).toBe(want); // names are not resolved in lvsim
  });

  it('port names come from /etc/services', () => {
    const p = parseIpvsadm(words('ipvsadm -A -t 10.0.0.1:http'));
    expect(p.ok && formatIpvsadm(p)).toBe('-A -t 10.0.0.1:80 -s wlc');
    const u = parseIpvsadm(words('ipvsadm -A -u 10.0.0.1:domain -s sh'));
    expect(u.ok && formatIpvsadm(u)).toBe('-A -u 10.0.0.1:53 -s sh');
  });
});

describe('print(parse(x)) is the normal form ipvsadm -S prints', () => {
  const roundTrips: Array<[string, string]> = [
    ['-A -t 172.16.29.6:9001 -s rr', '-A -t 172.16.29.6:9001 -s rr'],
    ['-A -t 172.16.29.6:9001', '-A -t 172.16.29.6:9001 -s wlc'],
    ['-A -u 10.0.0.100:53 -s sh -b sh-port,sh-fallback', '-A -u 10.0.0.100:53 -s sh -b sh-fallback,sh-port'],
    ['-A -t 10.0.0.100:80 -s mh -b mh-port', '-A -t 10.0.0.100:80 -s mh -b mh-port'],
    ['-A -t 10.0.0.100:80 -s rr -b flag-3,flag-1', '-A -t 10.0.0.100:80 -s rr -b flag-1,flag-3'],
    ['-A -t 10.0.0.100:80 -s rr -p 300 -M 255.255.255.0', '-A -t 10.0.0.100:80 -s rr -p 300 -M 255.255.255.0'],
    ['-A -u 10.0.0.100:53 -s rr -o', '-A -u 10.0.0.100:53 -s rr -o'],
    ['-a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i', '-a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i -w 1 --tun-type ipip'],
    ['-a -t 172.16.29.6:9001 -r 172.16.197.3 -i -w 4', '-a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i -w 4 --tun-type ipip'],
    ['-a -t 172.16.29.6:9001 -r 172.16.197.3:8080 -i', '-a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i -w 1 --tun-type ipip'],
    ['-a -t 172.16.29.6:9001 -r 172.16.197.3:8080', '-a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -g -w 1'],
    ['-a -t 172.16.29.6:9001 -r 172.16.197.3:8080 -m -w 0', '-a -t 172.16.29.6:9001 -r 172.16.197.3:8080 -m -w 0'],
  ];
  for (const [line, normal] of roundTrips) {
    it(`${line}`, () => {
      const p = parseIpvsadm(words(`ipvsadm ${line}`));
      expect(p.ok && formatIpvsadm(p)).toBe(normal);
      // Applying it and saving prints the same line.
      const d = director();
      if (line.startsWith('-a')) d.ok(`ipvsadm -A -t ${VIP}`);
      d.ok(`ipvsadm ${line}`);
      expect(d.ok('ipvsadm -S -n').split('\n')).toContain(normal);
      // And the normal form parses to itself.
      const again = parseIpvsadm(words(`ipvsadm ${normal}`));
      expect(again.ok && formatIpvsadm(again)).toBe(normal);
    });
  }

  it('other commands print their options in table order', () => {
    const cases: Array<[string, string]> = [
      ['-D -t 10.0.0.1:80', '-D -t 10.0.0.1:80'],
      ['-d -t 10.0.0.1:80 -r 10.1.0.1:8080', '-d -t 10.0.0.1:80 -r 10.1.0.1:8080'],
      ['-d -t 10.0.0.1:80 -r 10.1.0.1', '-d -t 10.0.0.1:80 -r 10.1.0.1:80'],
      ['-C', '-C'],
      ['-Z', '-Z'],
      ['-Z -u 10.0.0.1:53', '-Z -u 10.0.0.1:53'],
      ['--set 0 120 300', '--set 0 120 300'],
      ['-Lcn', '-L -n -c'],
      ['-L --stats', '-L --stats'],
      ['-L --exact --rate -n', '-L -n --rate --exact'],
      ['-L -t 10.0.0.1:80 --thresholds', '-L -t 10.0.0.1:80 --thresholds'],
      ['-S -n', '-S -n'],
      ['-R', '-R'],
      ['-A -s rr -f 7', '-A -f 7 -s rr'],
      ['-A -f 7 -6 -p', '-A -f 7 -6 -s wlc -p 360'],
      ['-A -t [2001:db8::1]:80 -s rr', '-A -t [2001:db8::1]:80 -s rr'],
      ['-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue --tun-port 6080 --tun-csum', '-a -t 10.0.0.1:80 -r 10.1.0.1:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum'],
      ['-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gre', '-a -t 10.0.0.1:80 -r 10.1.0.1:80 -i -w 1 --tun-type gre --tun-nocsum'],
      ['-e -t 10.0.0.1:80 -r 10.1.0.1 -x 10 -y 5', '-e -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1 -x 10 -y 5'],
      ['--start-daemon master --syncid 3', '--start-daemon master --mcast-interface eth0 --syncid 3'],
    ];
    for (const [line, want] of cases) {
      const p = parseIpvsadm(words(`ipvsadm ${line}`));
      expect(p.ok ? formatIpvsadm(p) : p.stderr, line).toBe(want);
    }
  });
});

// ------------------------------------------------------------------------------------------

/** [command line, exit, stderr, text of the word errorAt points at]. */
type ErrCase = [string, number, string, string];

function expectError(d: Director, [line, exit, stderr, at]: ErrCase): void {
  const argv = words(line);
  const r = d.run(line);
  expect({ exit: r.exit, stderr: r.stderr }, line).toEqual({ exit, stderr });
  expect(r.errorAt, line).toBeDefined();
  expect(argv[r.errorAt!.word]!.text, line).toBe(at);
  expect(r.errorAt!.expected.length, line).toBeGreaterThan(0);
}

describe('§2.1 command/option legality (exit 2, in option-table order)', () => {
  const cases: ErrCase[] = [
    ['ipvsadm -A -s rr', 2, "You need to supply the 'service-address' option for the 'add-service' command\n", '-A'],
    ['ipvsadm -a -t 10.0.0.1:80 -i', 2, "You need to supply the 'real-server' option for the 'add-server' command\n", '-a'],
    ['ipvsadm -A -t 10.0.0.1:80 -r 10.1.0.1', 2, "Illegal 'real-server' option with the 'add-service' command\n", '-r'],
    ['ipvsadm -A -t 10.0.0.1:80 -w 3', 2, "Illegal 'weight' option with the 'add-service' command\n", '-w'],
    ['ipvsadm -D -t 10.0.0.1:80 -s rr', 2, "Illegal 'scheduler' option with the 'delete-service' command\n", '-s'],
    ['ipvsadm -C -n', 2, "Illegal 'numeric' option with the 'flush' command\n", '-n'],
    ['ipvsadm -L -s rr', 2, "Illegal 'scheduler' option with the 'list' command\n", '-s'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -s rr', 2, "Illegal 'scheduler' option with the 'add-server' command\n", '-s'],
    ['ipvsadm -d -t 10.0.0.1:80 -r 10.1.0.1 -i', 2, "Illegal 'forwarding-method' option with the 'delete-server' command\n", '-i'],
    ['ipvsadm -S -c', 2, "Illegal 'connection' option with the 'save' command\n", '-c'],
    ['ipvsadm -Z -n', 2, "Illegal 'numeric' option with the 'zero' command\n", '-n'],
    ['ipvsadm -R -n', 2, "Illegal 'numeric' option with the 'restore' command\n", '-n'],
    ['ipvsadm --set 1 2 3 -n', 2, "Illegal 'numeric' option with the 'set' command\n", '-n'],
    ['ipvsadm -L -c -t 10.0.0.1:80', 2, "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n", '-t'],
    ['ipvsadm -L --timeout -c', 2, "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n", '--timeout'],
    ['ipvsadm -L --daemon --timeout', 2, "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n", '--daemon'],
    ['ipvsadm -A -t 10.0.0.1:80 -s rr -s wlc', 2, "multiple 'scheduler' options specified\n", '-s'],
    ['ipvsadm -A -t 10.0.0.1:80 -u 10.0.0.1:80', 2, "multiple 'service-address' options specified\n", '-u'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i -g', 2, "multiple 'forwarding-method' options specified\n", '-g'],
    ['ipvsadm -L -A', 2, "invalid option `-A'\n", '-A'],
    ['ipvsadm -A -t 10.0.0.1:80 -L', 2, "invalid option `-L'\n", '-L'],
    ['ipvsadm -L -h', 2, "invalid option `-h'\n", '-h'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -m --tun-type ipip', 2, 'Tunnel options conflict with forward method\n', '--tun-type'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 --tun-port 5555', 2, 'Tunnel options conflict with forward method\n', '--tun-port'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue', 2, "You need to supply the 'tun-port' option for the 'gue' tunnel type\n", '--tun-type'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-port 5555', 2, "Illegal 'tun-port' option with the 'ipip' tunnel type\n", '--tun-port'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gre --tun-remcsum', 2, "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n", '--tun-remcsum'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum', 2, "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n", '--tun-csum'],
  ];
  for (const c of cases) it(c[2].trim(), () => expectError(director(), c));
});

describe('§2.2 semantic checks in ipvsadm', () => {
  const cases: ErrCase[] = [
    ['ipvsadm -A -t 10.0.0.1 -s rr', 2, 'Zero port specified for non-persistent service\n', '10.0.0.1'],
    ['ipvsadm -E -t 10.0.0.1:0', 2, 'Zero port specified for non-persistent service\n', '10.0.0.1:0'],
    ['ipvsadm -A -t 10.0.0.1:53 -o', 2, 'One-Packet Scheduling is only for UDP virtual services\n', '-o'],
    ['ipvsadm -A -t 172.16.29.6:90o1', 2, 'illegal virtual server address[:port] specified\n', '172.16.29.6:90o1'],
    ['ipvsadm -A -t 9001', 2, 'illegal virtual server address[:port] specified\n', '9001'],
    ['ipvsadm -A -t www.example.com:80', 2, 'illegal virtual server address[:port] specified\n', 'www.example.com:80'],
    ['ipvsadm -A -t 10.0.0.1:65536', 2, 'illegal virtual server address[:port] specified\n', '10.0.0.1:65536'],
    ['ipvsadm -A -t 10.0.0.1:', 2, 'illegal virtual server address[:port] specified\n', '10.0.0.1:'],
    ['ipvsadm -A -t [2001:db8::1]', 2, 'illegal virtual server address[:port] specified\n', '[2001:db8::1]'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.300', 2, 'illegal real server address[:port] specified\n', '10.1.0.300'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -w 65536', 2, 'illegal weight specified\n', '65536'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -w abc', 2, 'illegal weight specified\n', 'abc'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -x -1', 2, 'illegal u_threshold specified\n', '-1'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -y 2147483648', 2, 'illegal l_threshold specified\n', '2147483648'],
    ['ipvsadm -A -t 10.0.0.1:80 -p 0', 2, "invalid timeout value `0' specified\n", '0'],
    ['ipvsadm -A -t 10.0.0.1:80 -p 2678401', 2, "invalid timeout value `2678401' specified\n", '2678401'],
    ['ipvsadm -A -t 10.0.0.1:80 -p 5m', 2, "invalid timeout value `5m' specified\n", '5m'],
    ['ipvsadm --set 900 120', 2, '--set option requires 3 timeout values\n', '120'],
    ['ipvsadm --set 900 120 x', 2, "invalid timeout value `x' specified\n", 'x'],
    ['ipvsadm --set 900 120 2678401', 2, "invalid timeout value `2678401' specified\n", '2678401'],
    ['ipvsadm -A -f 0', 2, "invalid fwmark value `0' specified\n", '0'],
    ['ipvsadm -A -f 4294967296', 2, "invalid fwmark value `4294967296' specified\n", '4294967296'],
    ['ipvsadm -A -t 10.0.0.1:80 -6', 2, '-6 used before -f\n\n', '-6'],
    ['ipvsadm -A -t 10.0.0.1:80 -p -M 255.255.255.256', 2, 'illegal virtual server persistent mask specified\n', '255.255.255.256'],
    ['ipvsadm -A -f 1 -6 -p -M 129', 2, 'illegal ipv6 netmask specified\n', '129'],
    ['ipvsadm -A -t 10.0.0.1:80 -b flag-4', 2, "invalid scheduler flag `flag-4'\n", 'flag-4'],
    ['ipvsadm -A -t 10.0.0.1:80 -b sh-port', 2, "incompatible scheduler flag `sh-port'\n", 'sh-port'],
    ['ipvsadm -A -t 10.0.0.1:80 -s sh -b mh-fallback', 2, "incompatible scheduler flag `mh-fallback'\n", 'mh-fallback'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type vxlan', 2, 'illegal tunnel type specified\n', 'vxlan'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue --tun-port 0', 2, 'illegal tunnel port specified\n', '0'],
    ['ipvsadm -a -t 10.0.0.1:80 -r [2001:db8::2]:80', 2, 'Different address family is allowed only for tunneling servers\n', '[2001:db8::2]:80'],
    ['ipvsadm -L foo', 2, 'unexpected argument foo\n', 'foo'],
    ['ipvsadm --set 1 2 3 4', 2, 'unexpected argument 4\n', '4'],
    ['ipvsadm -L --stats -c', 2, 'options conflicts in the list command\n', '--stats'],
    ['ipvsadm -L --timeout --rate', 2, 'options conflicts in the list command\n', '--rate'],
    ['ipvsadm -L --daemon --persistent-conn', 2, 'options conflicts in the list command\n', '--persistent-conn'],
    ['ipvsadm --start-daemon primary', 2, 'illegal start-daemon parameter specified\n', 'primary'],
    ['ipvsadm --stop-daemon primary', 2, 'illegal start_daemon specified\n', 'primary'],
    ['ipvsadm --start-daemon master --mcast-group 10.0.0.1', 2, "invalid IPv4 mcast-group `10.0.0.1'\n", '10.0.0.1'],
  ];
  for (const c of cases) it(`${c[0]} -> ${c[2].trim()}`, () => expectError(director(), c));

  const TRY = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";
  const unparsable: ErrCase[] = [
    ['ipvsadm -n -L', 255, TRY, '-n'],
    ['ipvsadm foo', 255, TRY, 'foo'],
    ['ipvsadm --frobnicate', 255, TRY, '--frobnicate'],
    ['ipvsadm -Lq', 255, `-Lq: unknown option\n${TRY}`, '-Lq'],
    ['ipvsadm -L --frobnicate', 255, `--frobnicate: unknown option\n${TRY}`, '--frobnicate'],
    ['ipvsadm -A -t', 255, `-t: missing argument\n${TRY}`, '-t'],
    ['ipvsadm -L --numeric=yes', 255, `--numeric=yes: option does not take an argument\n${TRY}`, '--numeric=yes'],
  ];
  for (const c of unparsable) it(`${c[0]} is unparsable (exit 255)`, () => expectError(director(), c));

  it('a required argument is taken even when it starts with - (popt)', () => {
    expectError(director(), ['ipvsadm -A -t -s rr', 2, 'illegal virtual server address[:port] specified\n', '-s']);
  });
});

describe('strict numbers and addresses (lvsim is stricter than strtol/inet_aton)', () => {
  const bad = ['80x', ' 80', '+80', '-0', '0x50', '8 0', ''];
  for (const b of bad) {
    it(`port '${b}' is an error`, () => {
      const r = director().ipvs;
      void r;
      const argv = [...words('ipvsadm -A -s rr -t'), { text: `10.0.0.1:${b}`, col: 20, endCol: 30 }];
      const p = parseIpvsadm(argv);
      expect(p.ok).toBe(false);
      if (!p.ok) {
        expect(p.stderr).toBe('illegal virtual server address[:port] specified\n');
        expect(p.errorAt.word).toBe(5);
      }
    });
    it(`weight '${b}' is an error`, () => {
      const argv = [...words('ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -w'), { text: b, col: 40, endCol: 43 }];
      const p = parseIpvsadm(argv);
      expect(!p.ok && p.stderr).toBe('illegal weight specified\n');
    });
  }
  for (const a of ['10.1', '010.0.0.1', '10.0.0.1 ', '1.2.3.4.5', 'localhost']) {
    it(`address '${a}' is an error`, () => {
      const argv = [...words('ipvsadm -A -s rr -t'), { text: `${a}:80`, col: 20, endCol: 30 }];
      const p = parseIpvsadm(argv);
      expect(!p.ok && p.stderr).toBe('illegal virtual server address[:port] specified\n');
    });
  }
  it('says what a port should look like, at the port', () => {
    const d = director();
    const r = d.run('ipvsadm -A -t 172.16.29.6:90o1 -s rr');
    expect(r.errorAt).toEqual({ word: 3, expected: "a port number 0-65535 or a service name after ':', as in 172.16.29.6:9001" });
  });
});

describe('§2.3 kernel refusals: ipvs_strerror() per operation, exit 255', () => {
  const cases: Array<[string, string, string]> = [
    [`ipvsadm -A -t ${VIP} -s wlc`, 'Service already exists\n', VIP],
    ['ipvsadm -A -t 10.0.0.1:80 -s wrl', 'Scheduler or persistence engine not found\n', 'wrl'],
    [`ipvsadm -E -t ${VIP} -s nope`, 'Scheduler or persistence engine not found\n', 'nope'],
    ['ipvsadm -A -t 10.0.0.1:80 --pe foo', 'Scheduler or persistence engine not found\n', 'foo'],
    ['ipvsadm -E -t 10.0.0.1:80 -s rr', 'No such service\n', '10.0.0.1:80'],
    ['ipvsadm -D -t 10.0.0.1:80', 'No such service\n', '10.0.0.1:80'],
    ['ipvsadm -Z -t 10.0.0.1:80', 'No such service\n', '10.0.0.1:80'],
    ['ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1 -i', 'Service not defined\n', '10.0.0.1:80'],
    ['ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.1 -i', 'Service not defined\n', '10.0.0.1:80'],
    ['ipvsadm -d -t 10.0.0.1:80 -r 10.1.0.1', 'Service not defined\n', '10.0.0.1:80'],
    [`ipvsadm -a -t ${VIP} -r 172.16.197.3 -i -w 3`, 'Destination already exists\n', '172.16.197.3'],
    [`ipvsadm -e -t ${VIP} -r 10.9.9.9 -i`, 'No such destination\n', '10.9.9.9'],
    [`ipvsadm -d -t ${VIP} -r 10.9.9.9`, 'No such destination\n', '10.9.9.9'],
    [`ipvsadm -a -t ${VIP} -r 10.9.9.9 -i -y 5`, 'Numerical result out of range\n', '5'],
    [`ipvsadm -a -t ${VIP} -r 10.9.9.9 -i -x 5 -y 6`, 'Numerical result out of range\n', '6'],
    [`ipvsadm -a -t ${VIP} -r 224.0.0.5 -i`, 'Invalid operation.  Possibly wrong module version, address not unicast, ...\n', '224.0.0.5'],
    [`ipvsadm -a -t ${VIP} -r 0.0.0.0 -i`, 'Invalid operation.  Possibly wrong module version, address not unicast, ...\n', '0.0.0.0'],
    ['ipvsadm --stop-daemon master', 'No daemon is running\n', '--stop-daemon'],
  ];
  for (const [line, msg, at] of cases) it(`${line} -> ${msg.trim()}`, () => expectError(reference(), [line, 255, msg, at]));

  it('suggests a close scheduler name, and only a close one', () => {
    const r = reference().run('ipvsadm -A -t 10.0.0.1:80 -s wrl');
    expect(r.errorAt!.expected).toBe("a scheduler: rr, wrr, lc, wlc, sed, nq, dh, sh, lblc, lblcr, mh, fo, ovf, twos (did you mean 'wrr'?)");
    expect(suggestScheduler('RR')).toEqual(['rr']);
    expect(suggestScheduler('lblcrr')).toEqual(['lblcr']);
    expect(suggestScheduler('roundrobin')).toEqual([]);
    expect(reference().run('ipvsadm -A -t 10.0.0.1:80 -s roundrobin').errorAt!.expected).toBe(
      'a scheduler: rr, wrr, lc, wlc, sed, nq, dh, sh, lblc, lblcr, mh, fo, ovf, twos',
    );
  });

  it('a kernel refusal leaves the table as it was', () => {
    const d = reference();
    const before = d.ok('ipvsadm -Ln');
    d.run(`ipvsadm -a -t ${VIP} -r 10.9.9.9 -i -y 5`);
    d.run('ipvsadm -E -t 172.16.29.6:9001 -s nope');
    expect(d.ok('ipvsadm -Ln')).toBe(before);
  });

  it('refuses what lvsim does not model, at the word', () => {
    const d = reference();
    const cases: Array<[string, string]> = [
      ['ipvsadm -A -f 5 -s rr', '5'],
      ['ipvsadm -A --sctp-service 10.0.0.1:80', '10.0.0.1:80'],
      ['ipvsadm -A -t [2001:db8::1]:80', '[2001:db8::1]:80'],
      [`ipvsadm -a -t ${VIP} -r [2001:db8::2]:80 -i`, '[2001:db8::2]:80'],
      [`ipvsadm -a -t ${VIP} -r 10.9.9.9 -i --tun-type gue --tun-port 6080`, 'gue'],
      ['ipvsadm -A -t 10.0.0.1:80 -p --pe sip', 'sip'],
      ['ipvsadm --start-daemon master', '--start-daemon'],
    ];
    for (const [line, at] of cases) {
      const r = d.run(line);
      expect(r.exit, line).toBe(255);
      expect(r.stderr, line).toMatch(/^lvsim: .* not modelled\n$/);
      expect(words(line)[r.errorAt!.word]!.text, line).toBe(at);
    }
  });
});

// ------------------------------------------------------------------------------------------

describe('-a/-e/-E semantics', () => {
  it('forces the real-server port to the service port for -g and -i, keeps it for -m', () => {
    const d = director();
    d.ok('ipvsadm -A -t 10.0.0.100:80 -s rr');
    d.ok('ipvsadm -a -t 10.0.0.100:80 -r 10.1.0.1:8080 -i');
    d.ok('ipvsadm -a -t 10.0.0.100:80 -r 10.1.0.2:8080 -g');
    d.ok('ipvsadm -a -t 10.0.0.100:80 -r 10.1.0.3:8080 -m');
    expect(d.ok('ipvsadm -Ln')).toBe(
      HEAD +
        'TCP  10.0.0.100:80 rr\n' +
        '  -> 10.1.0.1:80                  Tunnel  1      0          0         \n' +
        '  -> 10.1.0.2:80                  Route   1      0          0         \n' +
        '  -> 10.1.0.3:8080                Masq    1      0          0         \n',
    );
  });

  it('-e replaces: without -i the server becomes -g, without -w its weight is 1 again', () => {
    const d = reference();
    d.ok(`ipvsadm -e -t ${VIP} -r 172.16.197.3 -i -w 5 -x 10 -y 2`);
    expect(d.ok(`ipvsadm -L -n -t ${VIP} --thresholds`)).toContain('  -> 172.16.197.3:9001            10         2          0          0         \n');
    d.ok(`ipvsadm -e -t ${VIP} -r 172.16.197.3`);
    expect(d.ok('ipvsadm -Ln')).toContain('  -> 172.16.197.3:9001            Route   1      0          0         \n');
    expect(d.ok(`ipvsadm -L -n -t ${VIP} --thresholds`)).toContain('  -> 172.16.197.3:9001            0          0          0          0         \n');
  });

  it('-E replaces: without -s the scheduler is wlc, without -p persistence is gone', () => {
    const d = reference();
    d.ok(`ipvsadm -E -t ${VIP} -s sh -p 600 -M 255.255.255.0 -b sh-port`);
    expect(d.ok('ipvsadm -Ln').split('\n')[3]).toBe('TCP  172.16.29.6:9001 sh (sh-port) persistent 600 mask 255.255.255.0');
    d.ok(`ipvsadm -E -t ${VIP}`);
    expect(d.ok('ipvsadm -Ln').split('\n')[3]).toBe('TCP  172.16.29.6:9001 wlc');
  });

  it('-b sh-* needs -s sh (the default wlc is checked too), whatever the option order', () => {
    const d = director();
    d.ok('ipvsadm -A -u 10.0.0.100:53 -b sh-fallback,sh-port -s sh -o');
    expect(d.ok('ipvsadm -Ln')).toBe(HEAD + 'UDP  10.0.0.100:53 sh (sh-fallback,sh-port) ops\n');
    expect(d.run('ipvsadm -A -u 10.0.0.100:54 -b sh-port').stderr).toBe("incompatible scheduler flag `sh-port'\n");
  });

  it('-d with an explicit port other than the service port does not find a -i server', () => {
    const d = reference();
    expect(d.run(`ipvsadm -d -t ${VIP} -r 172.16.197.3:80`).stderr).toBe('No such destination\n');
    d.ok(`ipvsadm -d -t ${VIP} -r 172.16.197.3`);
    expect(d.ok('ipvsadm -Ln')).toBe(HEAD + 'TCP  172.16.29.6:9001 rr\n  -> 192.168.134.5:9001           Tunnel  1      0          0         \n');
  });
});

describe('§3 listings', () => {
  it('sorts services and servers with the unsigned-difference-as-int comparator', () => {
    const d = director();
    d.ok('ipvsadm -A -t 10.0.0.1:80 -s rr');
    d.ok('ipvsadm -A -t 200.0.0.1:80 -s rr');
    d.ok('ipvsadm -A -u 10.0.0.1:53 -s rr');
    d.ok('ipvsadm -A -t 10.0.0.1:22 -s rr');
    for (const rs of ['10.1.0.2', '192.168.0.1', '10.1.0.1']) d.ok(`ipvsadm -a -t 10.0.0.1:80 -r ${rs} -i`);
    const svcLines = d.ok('ipvsadm -Ln').split('\n').filter((l) => /^(TCP|UDP)/.test(l));
    // 200.0.0.1 - 10.0.0.1 = 0xBE000000 wraps negative: 200.0.0.1 sorts first.
    expect(svcLines).toEqual(['TCP  200.0.0.1:80 rr', 'TCP  10.0.0.1:22 rr', 'TCP  10.0.0.1:80 rr', 'UDP  10.0.0.1:53 rr']);
    const rsLines = d.ok('ipvsadm -Ln').split('\n').filter((l) => l.startsWith('  -> 1'));
    expect(rsLines.map((l) => l.split(/\s+/)[2])).toEqual(['192.168.0.1:80', '10.1.0.1:80', '10.1.0.2:80']);
    // --nosort: kernel list order, most recently added server first.
    const unsorted = d.ok('ipvsadm -Ln --nosort').split('\n').filter((l) => l.startsWith('  -> 1'));
    expect(unsorted.map((l) => l.split(/\s+/)[2])).toEqual(['10.1.0.1:80', '192.168.0.1:80', '10.1.0.2:80']);
  });

  it('glibc msort: a non-transitive comparator still gives merge-sort order', () => {
    const mk = (a: string): Dest => ({ addr: ip4(a), port: 80 }) as Dest;
    const sort = (xs: string[]): string[] => glibcMsort(xs.map(mk), cmpDests).map((d) => formatIp4(d.addr));
    // 200 < 10 (wraps), 10 < 100, 100 < 200: the input order decides.
    expect(sort(['200.0.0.1', '10.0.0.1', '100.0.0.1'])).toEqual(['200.0.0.1', '10.0.0.1', '100.0.0.1']);
    expect(sort(['100.0.0.1', '10.0.0.1', '200.0.0.1'])).toEqual(['100.0.0.1', '200.0.0.1', '10.0.0.1']);
    expect(sort(['10.0.0.3', '10.0.0.1', '10.0.0.2'])).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('-L -t VIP:port lists only that service, without the version line', () => {
    const d = reference();
    d.ok('ipvsadm -A -t 10.0.0.1:80');
    expect(d.ok(`ipvsadm -L -n -t ${VIP}`)).toBe(
      'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  172.16.29.6:9001 rr\n' +
        '  -> 172.16.197.3:9001            Tunnel  1      0          0         \n' +
        '  -> 192.168.134.5:9001           Tunnel  1      0          0         \n',
    );
    const r = d.run('ipvsadm -L -n -t 10.0.0.2:80');
    expect([r.exit, r.stderr]).toEqual([1, 'No such service\n']);
  });

  it('--stats, --rate, --exact, --thresholds, --persistent-conn, --tun-info titles', () => {
    const d = reference();
    const second = (f: string): string => d.ok(`ipvsadm -Ln ${f}`).split('\n').slice(1, 3).join('\n');
    expect(second('--stats')).toBe('Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port');
    expect(second('--rate')).toBe('Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port');
    expect(second('--thresholds')).toBe('Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port');
    expect(second('--persistent-conn')).toBe('Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port');
    expect(second('--tun-info')).toBe('Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn');
    expect(d.ok('ipvsadm -Ln --rate').split('\n')[4]).toBe('  -> 172.16.197.3:9001                   0        0        0        0        0');
    expect(d.ok('ipvsadm -Ln --persistent-conn').split('\n')[4]).toBe('  -> 172.16.197.3:9001            1         0           0          0         ');
  });

  it('print_largenum: 9 columns, K/M/G/T, --exact widens', () => {
    expect(largenum(99999999, false)).toBe(' 99999999');
    expect(largenum(100000000, false)).toBe('  100000K');
    expect(largenum(1234567890, false)).toBe('    1234M');
    expect(largenum(100000000000, false)).toBe('     100G');
    expect(largenum(123456789012345, false)).toBe('     123T');
    expect(largenum(1234567890, true)).toBe(' 1234567890');
    expect(largenum(7, true)).toBe('        7');
  });

  it('-Lnc: header, rows, MM:SS from whole seconds, minutes not capped', () => {
    const conn = (over: Partial<ConnView>): ConnView => ({
      protocol: 'TCP', state: 'ESTABLISHED', caddr: ip4('203.0.113.7'), cport: 51234, vaddr: ip4('10.0.0.100'), vport: 80,
      daddr: ip4('10.1.0.1'), dport: 80, expiresIn: 898_999_000_000, template: false, ...over,
    });
    const fake = {
      connections: () => [
        conn({}),
        conn({ state: 'NONE', cport: 0, expiresIn: 359_999_999_999, template: true }),
        conn({ protocol: 'UDP', state: 'UDP', cport: 40000, vport: 53, daddr: ip4('10.1.0.2'), dport: 53, expiresIn: 299_000_000_001 }),
      ],
    } as unknown as IpvsCtl;
    expect(listConn(fake, {})).toBe(
      'IPVS connection entries\n' +
        'pro expire state       source             virtual            destination\n' +
        'TCP 14:58  ESTABLISHED 203.0.113.7:51234  10.0.0.100:80      10.1.0.1:80\n' +
        'TCP 05:59  NONE        203.0.113.7:0      10.0.0.100:80      10.1.0.1:80\n' +
        'UDP 04:59  UDP         203.0.113.7:40000  10.0.0.100:53      10.1.0.2:53\n',
    );
    expect(expireString(7200e9)).toBe('120:00');
    expect(expireString(-5e9)).toBe('00:00');
    expect(expireString(999_999_999)).toBe('00:00');
    expect(connRow(conn({ expiresIn: 1e9 }))).toBe('TCP 00:01  ESTABLISHED 203.0.113.7:51234  10.0.0.100:80      10.1.0.1:80\n');
    expect(formatList(fake, { connection: true, persistentConn: true }, 0).split('\n')[1]).toBe(
      'pro expire state       source             virtual            destination        pe name          pe_data',
    );
  });

  it('--timeout, --set, --daemon', () => {
    const d = director();
    expect(d.ok('ipvsadm -L --timeout')).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
    d.ok('ipvsadm --set 600 0 30');
    expect(d.ok('ipvsadm -L --timeout')).toBe('Timeout (tcp tcpfin udp): 600 120 30\n');
    expect(d.ok('ipvsadm -L --daemon')).toBe('');
  });

  it('formatList serves views with the same text', () => {
    const d = reference();
    expect(formatList(d.ipvs, { numeric: true }, 0)).toBe(d.ok('ipvsadm -Ln'));
    expect(formatList(d.ipvs, { stats: true }, 0)).toBe(d.ok('ipvsadm -Ln --stats'));
    expect(formatList(d.ipvs, { timeout: true }, 0)).toBe(d.ok('ipvsadm -L --timeout'));
    expect(() => formatList(d.ipvs, { service: { protocol: 'udp', addr: 1, port: 1 } }, 0)).toThrow();
  });
});

// ------------------------------------------------------------------------------------------

describe('-Z, -C, -D, -h, -v', () => {
  it('-C clears the table, -D deletes one service', () => {
    const d = reference();
    d.ok('ipvsadm -A -u 10.0.0.1:53');
    d.ok(`ipvsadm -D -t ${VIP}`);
    expect(d.ok('ipvsadm -Ln')).toBe(HEAD + 'UDP  10.0.0.1:53 wlc\n');
    d.ok('ipvsadm -C');
    expect(d.ok('ipvsadm -Ln')).toBe(HEAD);
  });

  it('-Z zeroes one service or all', () => {
    const d = reference();
    for (const x of d.ipvs.services[0]!.dests) x.stats.conns = 5;
    d.engine.now += 2e9; // the estimator publishes 5
    const row = (): string => d.ok('ipvsadm -Ln --stats').split('\n')[4]!;
    expect(row()).toBe('  -> 172.16.197.3:9001                   5        0        0        0        0');
    d.ok(`ipvsadm -Z -t ${VIP}`);
    expect(row()).toBe('  -> 172.16.197.3:9001                   0        0        0        0        0');
    for (const x of d.ipvs.services[0]!.dests) x.stats.conns = 7;
    d.engine.now += 2e9;
    expect(row()).toBe('  -> 172.16.197.3:9001                   2        0        0        0        0');
    d.ok('ipvsadm -Z');
    expect(row()).toBe('  -> 172.16.197.3:9001                   0        0        0        0        0');
  });

  it('-h prints usage to stdout and exits 0; -v prints the version', () => {
    const d = director();
    const h = d.run('ipvsadm -h --whatever');
    expect(h.exit).toBe(0);
    expect(h.stdout.split('\n')[0]).toBe('ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)');
    expect(h.stdout).toContain('  ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n');
    expect(d.ok('ipvsadm --help')).toBe(h.stdout);
    expect(d.ok('ipvsadm -v')).toBe('ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n');
    expect(d.ok('ipvsadm --version')).toBe(d.ok('ipvsadm -v'));
  });
});

describe('-S / ipvsadm-save and -R / ipvsadm-restore', () => {
  const saved =
    '-A -t 10.0.0.100:80 -s wlc -p 360 -M 255.255.255.0\n' +
    '-a -t 10.0.0.100:80 -r 10.1.0.1:80 -i -w 2 --tun-type ipip\n' +
    '-a -t 10.0.0.100:80 -r 10.1.0.2:80 -g -w 1\n' +
    '-A -u 10.0.0.100:53 -s sh -b sh-fallback\n' +
    '-a -u 10.0.0.100:53 -r 10.1.0.3:5353 -m -w 0\n';

  it('restores what it saved, and saves it back the same', () => {
    const d = director();
    const r = d.run('ipvsadm -R', saved);
    expect([r.exit, r.stderr]).toEqual([0, '']);
    expect(d.ok('ipvsadm -S -n')).toBe(saved);
    expect(d.ok('ipvsadm -S')).toBe(saved); // no name resolution in lvsim
    expect(ipvsadmSave(words('ipvsadm-save -n'), d.ctx()).stdout).toBe(saved);
    const e = director();
    expect(ipvsadmRestore(words('ipvsadm-restore'), e.ctx(saved)).exit).toBe(0);
    expect(e.ok('ipvsadm-save'.replace('ipvsadm-save', 'ipvsadm -Sn'))).toBe(saved);
  });

  it('skips blank lines and # comments', () => {
    const d = director();
    expect(d.run('ipvsadm -R', '# rules\n\n-A -t 10.0.0.1:80 -s rr # web\n   \n').exit).toBe(0);
    expect(d.ok('ipvsadm -Sn')).toBe('-A -t 10.0.0.1:80 -s rr\n');
  });

  it('a kernel refusal on a line prints its message and goes on; the exit status is the last line\'s', () => {
    const d = director();
    const r = d.run('ipvsadm -R', '-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n');
    expect([r.exit, r.stderr]).toEqual([0, 'Service already exists\n']);
    expect(d.ok('ipvsadm -Sn')).toBe('-A -t 10.0.0.1:80 -s wlc\n-A -t 10.0.0.2:80 -s wlc\n');
    const e = director();
    const r2 = e.run('ipvsadm -R', '-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n');
    expect(r2.exit).toBe(255);
    expect(r2.errorAt).toEqual({ word: 1, expected: expect.stringMatching(/^stdin line 2, column 7: a virtual service that does not exist yet/) });
  });

  it('a usage error ends the restore at that line (fail() exits), with the line number', () => {
    const d = director();
    const out = restoreLines('-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80 -w 3\n-A -t 10.0.0.3:80\n', d.ctx());
    expect(out.result.exit).toBe(2);
    expect(out.result.stderr).toBe("Illegal 'weight' option with the 'add-service' command\n");
    expect(out.lines.map((l) => l.line)).toEqual([1, 2]);
    expect(out.lines[1]!.words[out.lines[1]!.result.errorAt!.word - 1]!).toMatchObject({ text: '-w', col: 19 });
    expect(out.result.errorAt!.expected).toMatch(/^stdin line 2, column 19: /);
    expect(d.ok('ipvsadm -Sn')).toBe('-A -t 10.0.0.1:80 -s wlc\n');
  });

  it('-R inside restored input is refused', () => {
    const d = director();
    const r = d.run('ipvsadm -R', '-R\n-A -t 10.0.0.1:80\n');
    expect([r.exit, r.stderr]).toEqual([255, "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"]);
    expect(d.ok('ipvsadm -Sn')).toBe('');
  });
});

describe('IPv6 text as inet_pton / inet_ntop', () => {
  const cases: Array<[string, string]> = [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
  ];
  for (const [i, o] of cases) it(`${i} -> ${o}`, () => expect(formatIp6(parseIp6(i)!)).toBe(o));
  for (const bad of ['1:::2', '1::2::3', ':1', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1.2.3.4']) {
    it(`rejects ${bad}`, () => expect(parseIp6(bad)).toBeNull());
  }
});
