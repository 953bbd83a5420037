/**
 * The doctor reads each host's configuration the way the kernel will act on it. Each case is
 * a misconfiguration operators report, written on the reference topology; the doctor must
 * name the cause (code and host) before anything runs, and the run must confirm it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { confirmFindings, confirmedBy, doctorScenarioText, type Finding } from '../../src/world/doctor';
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

describe('the sync daemon\'s backup lacking a real server of the master (ip_vs_proc_conn keeps the entry unbound)', () => {
  const FILE = 'scenarios/keepalived-failover-sync-missing-rs.yaml';
  const MISSING = readFileSync(FILE, 'utf8');
  const SYNC = readFileSync('scenarios/keepalived-failover-sync.yaml', 'utf8');
  const HELD = [
    '  - { id: held, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:41001, mode: hold, at: 6s }',
    '  - { exec: echo c > /proc/sysrq-trigger, host: director, at: 10s }',
    '  - { release: held, at: 16s }',
    '',
  ].join('\n');
  /** `t` with `edit` applied to one host's section only (each replacement must apply). */
  const onHost = (t: string, host: string, ...edits: Array<[string | RegExp, string]>): string => {
    const i = t.indexOf(`  ${host}:\n`);
    const j = t.indexOf('\n  rs1:\n');
    let part = t.slice(i, j);
    for (const [from, to] of edits) {
      const next = part.replace(from, to);
      if (next === part) throw new Error(`edit not applied on ${host}: ${from}`);
      part = next;
    }
    return t.slice(0, i) + part + t.slice(j);
  };
  const withTraffic = (t: string, traffic = HELD) => t.slice(0, t.indexOf('traffic:')) + `traffic:\n${traffic}`;
  const sync = (fs: readonly Finding[]) => fs.filter(f => f.code.startsWith('sync_')).map(f => `${f.code}@${f.host}:${f.severity}`);
  const unboundDrops = (text: string) => runScenarioText(text, FILE).world.records.filter(r => r.host === 'director2' && r.reason?.code === 'ipvs_unbound_tunnel').length;

  it('names the cause on the shipped scenario: both directors, the service, the missing real server, the panic; at director2\'s virtual_server; the run confirms it with the panicking packet', () => {
    const { findings, diagnostics } = doctorScenarioText(MISSING, FILE);
    expect(diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect(sync(findings)).toEqual(['sync_backup_lacks_real_server@director2:error']);
    const f = findings.find(x => x.code === 'sync_backup_lacks_real_server')!;
    expect(f.message).toContain('director runs the master sync daemon');
    expect(f.message).toContain('director2 the backup');
    expect(f.message).toContain('192.168.134.5:9001 of 172.16.29.6:9001');
    expect(f.message).toMatch(/director2 panics \("Fatal exception in interrupt"\)/);
    expect(f.check).toMatch(/ip_vs_proc_conn/);
    expect(f.fix).toContain('real_server 192.168.134.5 9001');
    // The line: director2's virtual_server, not director's.
    const lines = MISSING.split('\n');
    expect(lines[f.line - 1]!.slice(f.col - 1)).toMatch(/^virtual_server 172\.16\.29\.6 9001 \{/);
    expect(f.line).toBeGreaterThan(MISSING.slice(0, MISSING.indexOf('  director2:')).split('\n').length);
    const run = runScenarioText(MISSING, FILE);
    const c = confirmFindings(findings, run.world.records).find(x => x.finding === f)!;
    expect(c.record).not.toBeNull();
    expect([c.record!.host, c.record!.reason?.code]).toEqual(['director2', 'ipvs_unbound_tunnel']);
    expect(run.world.hosts.get('director2')!.host.crashed).toBe(true);
  });

  it('no finding where the pools match (keepalived-failover-sync.yaml), nor for a shipped scenario other than the one that lacks it', () => {
    for (const file of readdirSync('scenarios').filter(x => x.endsWith('.yaml'))) {
      const path = `scenarios/${file}`;
      const got = sync(doctorScenarioText(readFileSync(path, 'utf8'), path).findings);
      expect(got, file).toEqual(path === FILE ? ['sync_backup_lacks_real_server@director2:error'] : []);
    }
  });

  it('different syncids: the backup ignores the master\'s messages (ip_vs_process_message), no finding and no unbound entry; a backup with syncid 0 takes every id', () => {
    const t = withTraffic(onHost(onHost(MISSING, 'director', ['--mcast-interface eth1', '--mcast-interface eth1 --syncid 5']), 'director2', ['--mcast-interface eth1', '--mcast-interface eth1 --syncid 6']));
    expect(sync(doctorScenarioText(t, FILE).findings)).toEqual([]);
    expect(unboundDrops(t)).toBe(0);
    const any = withTraffic(onHost(MISSING, 'director', ['--mcast-interface eth1', '--mcast-interface eth1 --syncid 5']));
    expect(sync(doctorScenarioText(any, FILE).findings)).toEqual(['sync_backup_lacks_real_server@director2:error']);
    expect(unboundDrops(any)).toBe(1);
  });

  it('net.ipv4.vs.backup_only=1 on the backup: IPVS never sees a packet there, no finding and no unbound entry reached', () => {
    const t = withTraffic(onHost(MISSING, 'director2', ['      ipvsadm --start-daemon backup', '      modprobe ip_vs\n      sysctl -w net.ipv4.vs.backup_only=1\n      ipvsadm --start-daemon backup']));
    expect(sync(doctorScenarioText(t, FILE).findings)).toEqual([]);
    expect(unboundDrops(t)).toBe(0);
  });

  it('master and backup on the same host (the master does not hear its own group), or on different segments: not applicable', () => {
    const same = withTraffic(onHost(onHost(MISSING, 'director', ['ipvsadm --start-daemon master --mcast-interface eth1', 'ipvsadm --start-daemon master --mcast-interface eth1\n      ipvsadm --start-daemon backup --mcast-interface eth1']),
      'director2', [/      ipvsadm --start-daemon backup --mcast-interface eth1\n/, '']));
    expect(sync(doctorScenarioText(same, FILE).findings)).toEqual([]);
    expect(unboundDrops(same)).toBe(0);
    const apart = withTraffic(onHost(MISSING, 'director', ['--mcast-interface eth1', '--mcast-interface eth0']));
    expect(sync(doctorScenarioText(apart, FILE).findings)).toEqual([]);
    expect(unboundDrops(apart)).toBe(0);
  });

  it('a backup with the real server under another forwarding method binds the entry (ip_vs_bind_dest: the method is the destination\'s): a note, not the unbound finding', () => {
    const t = onHost(SYNC, 'director2', ['lb_kind TUN', 'lb_kind DR']);
    const fs = doctorScenarioText(t, FILE).findings;
    expect(sync(fs)).toEqual(['sync_backup_fwd_method_differs@director2:info']);
    const m = fs.find(f => f.code === 'sync_backup_fwd_method_differs')!.message;
    expect(m).toContain('172.16.197.3:9001: tunnel on director, direct routing on director2');
    expect(m).toContain('192.168.134.5:9001: tunnel on director, direct routing on director2');
    expect(fs.some(f => f.code === 'sync_backup_lacks_real_server')).toBe(false);
  });

  it('a backup without the service but with another lacks all of its real servers; a backup with no service at all has IPVS off (ipvs->enable): nothing reaches the entries', () => {
    const other = withTraffic(onHost(MISSING, 'director2', ['virtual_server 172.16.29.6 9001 {', 'virtual_server 172.16.29.6 9002 {']));
    const fs = doctorScenarioText(other, FILE).findings;
    expect(sync(fs)).toEqual(['sync_backup_lacks_real_server@director2:error']);
    expect(fs.find(f => f.code === 'sync_backup_lacks_real_server')!.message).toContain('has no virtual service 172.16.29.6:9001 (real servers 192.168.134.5:9001, 172.16.197.3:9001)');
    expect(unboundDrops(other)).toBe(1);
    const none = withTraffic(onHost(MISSING, 'director2', [/        virtual_server 172\.16\.29\.6 9001 \{[\s\S]*?\n        \}\n/, '']));
    expect(sync(doctorScenarioText(none, FILE).findings)).toEqual([]);
    expect(unboundDrops(none)).toBe(0);
  });

  it('a pool programmed by ipvsadm on the backup: the finding is at its ipvsadm -A line and the fix is the missing ipvsadm -a', () => {
    const t = withTraffic(onHost(MISSING, 'director2',
      [/        virtual_server 172\.16\.29\.6 9001 \{[\s\S]*?\n        \}\n/, ''],
      ['      systemctl start keepalived\n', '      systemctl start keepalived\n      ipvsadm -A -t 172.16.29.6:9001 -s rr\n      ipvsadm -a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i\n']));
    const { findings } = doctorScenarioText(t, FILE);
    expect(sync(findings)).toEqual(['sync_backup_lacks_real_server@director2:error']);
    const f = findings.find(x => x.code === 'sync_backup_lacks_real_server')!;
    expect(t.split('\n')[f.line - 1]!.slice(f.col - 1)).toBe('ipvsadm -A -t 172.16.29.6:9001 -s rr');
    expect(f.fix).toBe('ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i   # on director2, the same pool as director');
    expect(unboundDrops(t)).toBe(1);
  });

  it('direct routing: a warning (the entry is forwarded unbound, on no counters), confirmed by the IPVS hit on the unbound entry', () => {
    // The failover topology with the real servers on the VIP's LAN (VIP on lo) and lb_kind DR.
    const dr = withTraffic(MISSING.replace(/  - \{ name: rs[12]-lan.*\n/g, '').replace('ends: [director:eth1, director2:eth1, router:eth2]', 'ends: [director:eth1, director2:eth1, router:eth2, rs1:eth0, rs2:eth0]')
      .replace(/      ip link set eth[34] up\n      ip addr add \S+ dev eth[34]\n/g, '')
      .replace(/lb_kind TUN/g, 'lb_kind DR').replace(/172\.16\.197\.3/g, '172.16.29.7').replace(/192\.168\.134\.5/g, '172.16.29.8')
      .replace(/via (172\.16\.197|192\.168\.134)\.1/g, 'via 172.16.29.1').replace(/        net\.ipv4\.conf\.tunl0\..*\n/g, '')
      .replace(/      modprobe ipip\n      ifconfig tunl0 172\.16\.29\.6 netmask 255\.255\.255\.255 up\n/g, '      ip addr add 172.16.29.6/32 dev lo\n'));
    const { findings } = doctorScenarioText(dr, FILE);
    expect(sync(findings)).toEqual(['sync_backup_lacks_real_server@director2:warn']);
    const f = findings.find(x => x.code === 'sync_backup_lacks_real_server')!;
    expect(f.message).toContain('connections synced to 172.16.29.8:9001 (direct routing) are forwarded unbound');
    expect(f.message).not.toContain('panics');
    const run = runScenarioText(dr, FILE);
    const c = confirmFindings(findings, run.world.records).find(x => x.finding === f)!;
    expect(c.record).not.toBeNull();
    expect([c.record!.host, c.record!.point, c.record!.verdict]).toEqual(['director2', 'ipvs', 'hit']);
    expect(c.record!.note).toMatch(/^connection entry -> 172\.16\.29\.8:9001 \(synced, no real server bound here\)/);
    expect(confirmedBy(c.record!)).toMatch(/^packet #\d+ at director2: connection entry -> 172\.16\.29\.8:9001 \(synced/);
    expect(run.clients.find(x => x.id === 'held')!.reply).toContain('RS2 bytes=0');
  });
});

describe('configurations that work are not reported as broken', () => {
  const lineAt = (text: string, f: Finding) => text.split('\n')[f.line - 1]!.slice(f.col - 1);

  describe('a persistent all-ports service (ipvsadm -A -t VIP:0 -p): the ports the clients connect to are checked, never port 0', () => {
    const PORT0 = variant([/      ipvsadm -A -t 172\.16\.29\.6:9001 -s rr\n.*\n.*\n/, '      ipvsadm -A -t 172.16.29.6:0 -s rr -p 60\n      ipvsadm -a -t 172.16.29.6:0 -r 172.16.197.3 -i\n      ipvsadm -a -t 172.16.29.6:0 -r 192.168.134.5 -i\n']);

    it('no finding names port 0, no error; the run connects on 9001 through it', () => {
      const { findings, diagnostics } = doctorScenarioText(PORT0, 'x.yaml');
      expect(diagnostics.filter(d => d.severity === 'error')).toEqual([]);
      expect(errors(findings)).toEqual([]);
      for (const f of findings) expect(`${f.message} ${f.fix} ${f.check}`).not.toMatch(/:0\b|port 0\b/);
      expect(runScenarioText(PORT0, 'x.yaml').clients.map(c => c.ok)).toEqual([true, true]);
    });

    it('a real server without a listener on the connect\'s port 9001 is still found, for port 9001', () => {
      const text = PORT0.replace(/    listen:\n      - \{ proto: tcp, port: 9001, name: RS1 \}\n/, '');
      const f = doctorScenarioText(text, 'x.yaml').findings.find(x => x.code === 'no_listener_on_vip' && x.host === 'rs1')!;
      expect(f.severity).toBe('error');
      expect(f.message).toContain('172.16.29.6:9001');
      expect(f.fix).toContain('port: 9001');
    });

    it('no connect to the VIP: nothing is known to connect, so no listener is checked', () => {
      const text = PORT0.replace(/    listen:\n      - \{ proto: tcp, port: 9001, name: RS1 \}\n/, '').replace(/connect: 172\.16\.29\.6:9001/g, 'connect: 198.51.100.9:9001');
      expect(doctorScenarioText(text, 'x.yaml').findings.filter(f => f.code === 'no_listener_on_vip')).toEqual([]);
    });
  });

  it('a UDP virtual service gets no TCP finding (SYN, RST, proto: tcp), only a note that its real servers are not checked', () => {
    const text = variant(['      ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i\n',
      '      ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i\n      ipvsadm -A -u 172.16.29.6:53 -s rr\n      ipvsadm -a -u 172.16.29.6:53 -r 172.16.197.3 -i\n']);
    const { findings } = doctorScenarioText(text, 'x.yaml');
    expect(errors(findings)).toEqual([]);
    expect(findings.filter(f => /\b53\b/.test(f.message + f.fix)).map(f => `${f.code}:${f.severity}`)).toEqual(['udp_service_not_checked:info']);
    const note = findings.find(f => f.code === 'udp_service_not_checked')!;
    expect(note.message).toContain('172.16.197.3:53');
    expect(lineAt(text, note)).toBe('ipvsadm -A -u 172.16.29.6:53 -s rr');
    // The TCP service's warning stays at the TCP service's line.
    expect(lineAt(text, findings.find(f => f.code === 'tunnel_mtu_no_headroom')!)).toBe('ipvsadm -A -t 172.16.29.6:9001 -s rr');
  });

  describe('a named ipip tunnel (ip tunnel add tunvip mode ipip local RIP): ip_tunnel_lookup picks it before tunl0', () => {
    const TUNVIP = variant(['      ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up\n      sysctl -p\n',
      '      ip tunnel add tunvip mode ipip local 172.16.197.3\n      ip addr add 172.16.29.6/32 dev tunvip\n      ip link set tunvip up\n      sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2\n']);

    it('no tunl0_down while tunl0 is down: the packet decapsulates onto tunvip, and the run agrees', () => {
      const { findings } = doctorScenarioText(TUNVIP, 'x.yaml');
      expect(errors(findings)).toEqual([]);
      const run = runScenarioText(TUNVIP, 'x.yaml');
      expect(run.clients.map(c => c.ok)).toEqual([true, true]);
      expect(run.world.records.some(r => r.host === 'rs1' && r.note?.includes('inner enters ip_rcv on tunvip'))).toBe(true);
    });

    it('tunvip left down: the finding names tunvip (not tunl0) at its setup line, and the run confirms it', () => {
      const text = TUNVIP.replace('      ip link set tunvip up\n', '');
      const { findings } = doctorScenarioText(text, 'x.yaml');
      expect(errors(findings)).toEqual(['tunnel_down@rs1']);
      const f = findings.find(x => x.code === 'tunnel_down')!;
      expect(f.message).toMatch(/^tunvip is down on rs1/);
      expect(f.fix).toBe('ip link set tunvip up   # on rs1');
      expect(lineAt(text, f)).toBe('ip addr add 172.16.29.6/32 dev tunvip');
      const c = confirmFindings(findings, runScenarioText(text, 'x.yaml').world.records).find(x => x.finding === f)!;
      expect(c.record?.reason?.code).toBe('tunnel_unmatched');
    });

    it('tunl0 down is at the setup line that configures tunl0, never a files: line', () => {
      const text = variant(['      ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up\n      sysctl -p\n',
        '      sysctl -p\n      ip addr add 172.16.29.6/32 dev tunl0\n      sysctl -w net.ipv4.conf.tunl0.rp_filter=0\n']);
      const f = doctorScenarioText(text, 'x.yaml').findings.find(x => x.code === 'tunl0_down')!;
      expect(f.host).toBe('rs1');
      expect(lineAt(text, f)).toBe('ip addr add 172.16.29.6/32 dev tunl0');
    });
  });

  describe('NAT with the real servers\' replies bypassing the director: a gateway fix only where one exists', () => {
    it('no director address on the real server\'s subnet: no route command (lvsim refuses "via 0.0.0.0" too), -i or a shared segment instead', () => {
      const file = 'scenarios/modes-nat-different-subnets.yaml';
      const fs = doctorScenarioText(readFileSync(file, 'utf8'), file).findings.filter(f => f.code === 'nat_reply_bypasses_director');
      expect(fs.map(f => f.host).sort()).toEqual(['rs1', 'rs2']);
      for (const f of fs) {
        expect(f.fix).not.toMatch(/0\.0\.0\.0|ip route/);
        expect(f.fix).toMatch(/share a segment/);
        expect(f.fix).toMatch(/ipvsadm -e -t 172\.16\.29\.6:9001 -r \S+:9001 -i/);
      }
    });

    it('a director address on-link for the real server: the fix routes through it, and applying it clears the finding', () => {
      const text = variant(['-r 172.16.197.3:9001 -i', '-r 172.16.197.3:9001 -m'],
        ['ends: [rs1:eth0, router:eth3]', 'ends: [rs1:eth0, router:eth3, director:eth2]'],
        ['      systemctl restart network\n', '      systemctl restart network\n      ip link set eth2 up\n      ip addr add 172.16.197.2/24 dev eth2\n']);
      const f = doctorScenarioText(text, 'x.yaml').findings.find(x => x.code === 'nat_reply_bypasses_director' && x.host === 'rs1')!;
      expect(f.fix).toMatch(/^ip route replace default via 172\.16\.197\.2 /);
      const fixed = text.replace('ip route add default via 172.16.197.1', 'ip route add default via 172.16.197.1\n      ip route replace default via 172.16.197.2');
      const after = doctorScenarioText(fixed, 'x.yaml');
      expect(after.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
      expect(after.findings.filter(x => x.code === 'nat_reply_bypasses_director')).toEqual([]);
    });
  });

  it('net.ipv4.vs.pmtu_disc=0: the director fragments the outer packet (ensure_mtu_is_adequate, ip_vs_tunnel_xmit clears DF), no ICMP to rely on; the run sends no frag-needed', () => {
    const text = variant(['      ipvsadm -C\n', '      ipvsadm -C\n      sysctl -w net.ipv4.vs.pmtu_disc=0\n'],
      ['src: 203.0.113.10:40002 }', 'src: 203.0.113.10:40002, send: 6000 }']);
    const { findings } = doctorScenarioText(text, 'x.yaml');
    expect(findings.map(f => `${f.code}:${f.severity}`)).toEqual(['tunnel_mtu_no_headroom:info']);
    const f = findings[0]!;
    expect(f.message).toMatch(/sends no ICMP "fragmentation needed" but fragments the outer packet/);
    expect(f.check).toMatch(/pmtu_disc = 0/);
    expect(f.check).not.toMatch(/answers ICMP/);
    expect(lineAt(text, f)).toBe('net.ipv4.vs.pmtu_disc=0');
    const run = runScenarioText(text, 'x.yaml');
    expect(run.world.records.filter(r => r.host === 'director' && r.reason?.code === 'frag_needed')).toEqual([]);
    expect(run.clients.map(c => c.ok)).toEqual([true, true]);
  });
});

describe('vrrp_peers_disagree: two keepalived instances for one VIP that cannot hear each other', () => {
  const FO = readFileSync('scenarios/keepalived-failover.yaml', 'utf8');
  /** keepalived-failover.yaml with director2's vrrp_instance changed by `edit` (its second occurrence of the line). */
  const second = (from: string, to: string) => { const i = FO.indexOf(from, FO.indexOf(from) + 1); return FO.slice(0, i) + to + FO.slice(i + from.length); };
  const peers = (text: string) => doctorScenarioText(text, 'vr.yaml').findings.filter(f => f.code === 'vrrp_peers_disagree');

  it('another advert_int, another virtual_router_id or another VIP list is an error at the second director\'s instance, with the fix', () => {
    const interval = peers(second('            advert_int 1\n', '            advert_int 3\n'));
    expect(interval.map(f => [f.severity, f.host, f.fix])).toEqual([['error', 'director2', "advert_int 1 in director2's vrrp_instance VI_1 (the same on both)"]]);
    expect(interval[0]!.message).toMatch(/different advert_int \(1 s on director, 3 s on director2\).*both become MASTER/);
    expect(second('            advert_int 1\n', '            advert_int 3\n').split('\n')[interval[0]!.line - 1]).toMatch(/vrrp_instance VI_1/);
    expect(peers(second('virtual_router_id 51', 'virtual_router_id 52')).map(f => f.fix)).toEqual(["virtual_router_id 51 in director2's vrrp_instance VI_1 (the same on both)"]);
    expect(peers(second('172.16.29.6/32 dev eth1', '172.16.29.6/32 dev eth1\n                172.16.29.7/32 dev eth1'))).toHaveLength(1);
  });

  it('the shipped pair agrees: no finding; and the run of a disagreeing pair ends with both MASTER', () => {
    expect(peers(FO)).toEqual([]);
    const text = second('            advert_int 1\n', '            advert_int 3\n');
    const run = runScenarioText(text.slice(0, text.indexOf('until:')) + 'until: 20s\ntraffic: []\n', 'vr.yaml');
    const hasVip = (h: string) => run.world.hosts.get(h)!.host.devices.get('eth1')!.addrs.some(a => a.prefixLen === 32);
    expect([hasVip('director'), hasVip('director2')]).toEqual([true, true]);
  });
});

describe('port_mapping_ignored on an all-ports service', () => {
  it('says the packets keep the client\'s port, and its fix names no port, and lvsim applies it without error', () => {
    const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');
    const text = REF.replace(/ipvsadm -A -t 172\.16\.29\.6:9001 -s rr\n/, 'ipvsadm -A -t 172.16.29.6:0 -s rr -p 60\n')
      .replace(/ipvsadm -a -t 172\.16\.29\.6:9001 -r 172\.16\.197\.3\S* -i/, 'ipvsadm -a -t 172.16.29.6:0 -r 172.16.197.3:8080 -i')
      .replace(/ipvsadm -a -t 172\.16\.29\.6:9001 -r 192\.168\.134\.5\S* -i/, 'ipvsadm -a -t 172.16.29.6:0 -r 192.168.134.5 -i');
    const f = doctorScenarioText(text, 'p.yaml').findings.filter(x => x.code === 'port_mapping_ignored');
    expect(f.map(x => [x.message, x.fix])).toEqual([[
      '172.16.197.3:8080 with -i: the port is ignored, packets arrive at the real server for 172.16.29.6 on the port each client connected to.',
      'ipvsadm -e -t 172.16.29.6:0 -r 172.16.197.3 -i   # and listen on the ports clients connect to on the real server',
    ]]);
    const fixed = text.replace('ipvsadm -a -t 172.16.29.6:0 -r 172.16.197.3:8080 -i\n', 'ipvsadm -a -t 172.16.29.6:0 -r 172.16.197.3:8080 -i\n      ipvsadm -e -t 172.16.29.6:0 -r 172.16.197.3 -i\n');
    const after = doctorScenarioText(fixed, 'p.yaml');
    expect(after.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
  });
});
