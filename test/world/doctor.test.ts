/**
 * The doctor reads each host's configuration the way the kernel will act on it. Each case is
 * a misconfiguration operators report, written on the reference topology; the doctor must
 * name the cause (code and host) before anything runs, and the run must confirm it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { confirmFindings, doctorScenarioText, type Finding } from '../../src/world/doctor';
import { runScenarioText } from '../../src/world/world';

const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');

/** The reference scenario with `from` replaced by `to` (each must occur). */
function variant(...edits: Array<[string | RegExp, string]>): string {
  let t = REF;
  for (const [from, to] of edits) {
    const next = t.replace(from, to);
    if (next === t) throw new Error(`edit not applied: ${from}`);
    t = next;
  }
  return t;
}

function errors(fs: readonly Finding[]): string[] {
  return fs.filter(f => f.severity === 'error').map(f => `${f.code}@${f.host}`);
}

describe('the reference scenario', () => {
  it('has no error, and one warning: full-size DF requests rely on ICMP fragmentation needed', () => {
    const { findings, diagnostics } = doctorScenarioText(REF, 'ref.yaml');
    expect(diagnostics).toEqual([]);
    expect(errors(findings)).toEqual([]);
    expect(findings.map(f => f.code)).toEqual(['tunnel_mtu_no_headroom']);
    expect(findings[0]!.message).toContain('rs1, rs2');
  });
});

describe('misconfigurations the doctor names before a packet moves', () => {
  const cases: Array<{ name: string; text: string; want: string; line?: RegExp }> = [
    {
      name: 'rp_filter=1 in conf.all on a real server (effective on tunl0 by max(all, tunl0))',
      text: variant([/net\.ipv4\.conf\.all\.rp_filter = 0/, 'net.ipv4.conf.all.rp_filter = 1']),
      want: 'rp_filter_strict_on_decap@rs1', line: /conf\.all\.rp_filter = 1/,
    },
    {
      name: 'the VIP on tunl0 with netmask 255.255.255.0, and a client in the VIP\'s subnet',
      text: variant([/ifconfig tunl0 172\.16\.29\.6 netmask 255\.255\.255\.255 up/, 'ifconfig tunl0 172.16.29.6 netmask 255.255.255.0 up'],
        ['ends: [director:eth1, router:eth2]', 'ends: [director:eth1, router:eth2, client2:eth0]'],
        ['  router:\n', '  client2:\n    role: client\n    setup: |\n      ip link set eth0 up\n      ip addr add 172.16.29.77/24 dev eth0\n      ip route add default via 172.16.29.1\n\n  router:\n'],
        [/src: 203\.0\.113\.10:40001 \}/, 'src: 203.0.113.10:40001 }\n  - { id: c3, connect: 172.16.29.6:9001, from: client2, src: 172.16.29.77:40003 }']),
      want: 'vip_not_host_route@rs1', line: /netmask 255\.255\.255\.0/,
    },
    {
      name: 'no VIP on the real server',
      text: variant([/ifconfig tunl0 172\.16\.29\.6 netmask 255\.255\.255\.255 up/, 'ip link set tunl0 up']),
      want: 'vip_missing_on_rs@rs1',
    },
    {
      name: 'ipip not loaded and tunl0 never touched',
      text: variant([/      modprobe ipip\n      ifconfig tunl0 172\.16\.29\.6 netmask 255\.255\.255\.255 up/, '      ip addr add 172.16.29.6/32 dev lo']),
      want: 'ipip_unavailable@rs1',
    },
    {
      name: 'the real server routes its replies via the director',
      text: variant(['ends: [rs1:eth0, router:eth3]', 'ends: [rs1:eth0, router:eth3, director:eth2]'],
        ['      systemctl restart network\n', '      systemctl restart network\n      ip link set eth2 up\n      ip addr add 172.16.197.2/24 dev eth2\n'],
        ['ip route add default via 172.16.197.1', 'ip route add default via 172.16.197.2']),
      want: 'rs_gateway_is_director@rs1',
    },
    {
      name: 'forgotten -i: ipvsadm defaults to direct routing, and the real servers are off-link',
      text: variant(['-r 172.16.197.3:9001 -i', '-r 172.16.197.3:9001']),
      want: 'fwd_method_needs_l2@director', line: /-r 172\.16\.197\.3:9001$/m,
    },
    {
      name: 'NAT across subnets: the real server replies by its own gateway',
      text: variant(['-r 172.16.197.3:9001 -i', '-r 172.16.197.3:9001 -m']),
      want: 'nat_reply_bypasses_director@rs1',
    },
    {
      name: 'nothing listens on the real server',
      text: variant([/    listen:\n      - \{ proto: tcp, port: 9001, name: RS1 \}\n/, '']),
      want: 'no_listener_on_vip@rs1',
    },
    {
      name: 'the service bound to the RIP only',
      text: variant(['{ proto: tcp, port: 9001, name: RS1 }', '{ proto: tcp, port: 9001, name: RS1, addr: 172.16.197.3 }']),
      want: 'no_listener_on_vip@rs1',
    },
    {
      name: 'the director without its VIP',
      text: variant([/IPADDR=172\.16\.29\.6/, 'IPADDR=172.16.29.7']),
      want: 'director_vip_missing@director',
    },
    {
      name: 'strict rp_filter on the director, whose route back to clients is via the DIP side',
      text: variant(['echo 1 > /proc/sys/net/ipv4/ip_forward', 'echo 1 > /proc/sys/net/ipv4/ip_forward\n      sysctl -w net.ipv4.conf.all.rp_filter=1']),
      want: 'director_rp_filter_asymmetric@director', line: /conf\.all\.rp_filter=1/,
    },
    {
      name: 'a router with strict rp_filter drops the VIP-sourced reply (anti-spoofing)',
      text: variant(['sysctl -w net.ipv4.ip_forward=1', 'sysctl -w net.ipv4.ip_forward=1\n      sysctl -w net.ipv4.conf.all.rp_filter=1']),
      want: 'reply_dropped_by_antispoof@router',
    },
    {
      name: 'TTL too low to be forwarded by IPVS',
      text: variant(['ip route add default via 203.0.113.1', 'ip route add default via 203.0.113.1\n      sysctl -w net.ipv4.ip_default_ttl=2']),
      want: 'ttl_exhausted@client',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.want}`, () => {
      const { findings, diagnostics } = doctorScenarioText(c.text, 'x.yaml');
      expect(diagnostics.filter(d => !/tunl0/.test(d.found + d.expected + (d.tool ?? '')) && d.severity === 'error')).toEqual([]);
      expect(errors(findings)).toContain(c.want);
      const f = findings.find(x => `${x.code}@${x.host}` === c.want)!;
      expect(f.fix.length).toBeGreaterThan(0);
      expect(f.check.length).toBeGreaterThan(0);
      if (c.line) expect(c.text.split('\n')[f.line - 1]).toMatch(c.line);
      // Every position is inside the file.
      for (const x of findings) {
        expect(x.line).toBeGreaterThanOrEqual(1);
        expect(x.line).toBeLessThanOrEqual(c.text.split('\n').length);
        expect(x.col).toBeGreaterThanOrEqual(1);
      }
    });
  }

  it('a real server on the VIP\'s LAN with arp_ignore=0 answers the router\'s ARP for the VIP', () => {
    const text = variant(
      ['ends: [director:eth1, router:eth2]', 'ends: [director:eth1, router:eth2, rs1:eth1]'],
      [/net\.ipv4\.conf\.all\.arp_ignore = 1/, 'net.ipv4.conf.all.arp_ignore = 0'],
      [/net\.ipv4\.conf\.tunl0\.arp_ignore = 1/, 'net.ipv4.conf.tunl0.arp_ignore = 0'],
      ['ip route add default via 172.16.197.1', 'ip route add default via 172.16.197.1\n      ip link set eth1 up\n      ip addr add 172.16.29.50/24 dev eth1'],
    );
    const { findings } = doctorScenarioText(text, 'x.yaml');
    expect(errors(findings)).toContain('rs_answers_arp_for_vip@rs1');
  });

  it('port mapping with -i is ignored by the tunnel (warning)', () => {
    const text = variant(['-r 172.16.197.3:9001 -i', '-r 172.16.197.3:8080 -i']);
    const { findings } = doctorScenarioText(text, 'x.yaml');
    const f = findings.find(x => x.code === 'port_mapping_ignored')!;
    expect(f.severity).toBe('warn');
    expect(text.split('\n')[f.line - 1]!.slice(f.col - 1)).toMatch(/^-r 172\.16\.197\.3:8080/);
  });

  it('persistence keeps clients on a drained (weight 0) server while expire_quiescent_template=0', () => {
    const text = variant(['ipvsadm -A -t 172.16.29.6:9001 -s rr', 'ipvsadm -A -t 172.16.29.6:9001 -s rr -p 300'],
      ['-r 192.168.134.5:9001 -i', '-r 192.168.134.5:9001 -i -w 0']);
    const { findings } = doctorScenarioText(text, 'x.yaml');
    expect(findings.map(f => f.code)).toContain('persistence_pins_drained_server');
  });
});

describe('every shipped scenario: the doctor and the run agree', () => {
  for (const file of readdirSync('scenarios').filter(f => f.endsWith('.yaml'))) {
    const path = `scenarios/${file}`;
    const text = readFileSync(path, 'utf8');
    if (/^workload:/m.test(text) && !/^traffic:/m.test(text)) continue;
    it(`${file}: every error is confirmed by a drop, every failed connection is explained`, () => {
      const { findings } = doctorScenarioText(text, path);
      const run = runScenarioText(text, path);
      const conf = confirmFindings(findings, run.world.records);
      for (const c of conf) {
        if (c.finding.severity !== 'error' || c.finding.proof === null) continue;
        expect(c.record, `${c.finding.code}@${c.finding.host} not confirmed`).not.toBeNull();
      }
      // A connection still retrying when the run ends has not completed either.
      const failed = run.clients.filter(c => c.ok !== true);
      if (failed.length) expect(errors(findings).length, `${failed.length} failed connection(s), no error finding`).toBeGreaterThan(0);
      // Where every connection completed (a hung transfer after the greeting still counts as
      // completed), an error must be one a drop of the run confirmed above.
      else expect(findings.filter(f => f.severity === 'error' && f.proof === null).map(f => `${f.code}@${f.host}`)).toEqual([]);
    });
  }
});
