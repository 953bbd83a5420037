/**
 * The lvsim command as a newcomer runs it: run, --json, --pcap (checked with tshark), exec,
 * replay exit codes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REF = 'scenarios/tun-different-subnets.yaml';
const lvsim = (...args: string[]) => spawnSync('node', ['bin/lvsim.mjs', ...args], { encoding: 'utf8' });
const hasTshark = spawnSync('sh', ['-c', 'command -v tshark']).status === 0;

describe('lvsim run', () => {
  it('prints the five steps, labelled, and both connections answered', () => {
    const r = lvsim('run', REF);
    expect(r.status).toBe(0);
    for (const s of ['on the way to the director', "step 1 the request enters the director's PREROUTING", 'step 2 routed as local, to INPUT', 'step 3 IPVS at INPUT wraps DIP -> RIP around it', 'step 4 through POSTROUTING and the "tunnel" to the real server', 'step 5 decapsulated on the real server, the reply straight to the client']) {
      expect(r.stdout).toContain(s);
    }
    expect(r.stdout).toMatch(/c1 203\.0\.113\.10:40001 -> 172\.16\.29\.6:9001: ok, answered by RS2/);
    expect(r.stdout).toMatch(/c2 203\.0\.113\.10:40002 -> 172\.16\.29\.6:9001: ok, answered by RS1/);
    expect(r.stdout).toMatch(/IP 172\.16\.69\.15 > 192\.168\.134\.5: IP 203\.0\.113\.10\.40001 > 172\.16\.29\.6\.9001: Flags \[S\]/);
  });

  it('--json writes one record per line with the documented fields, identical twice', () => {
    const a = lvsim('run', REF, '--json', '--seed', '3');
    const b = lvsim('run', REF, '--json', '--seed', '3');
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const lines = a.stdout.trim().split('\n').map(l => JSON.parse(l));
    const encap = lines.find(l => l.host === 'director' && l.point === 'eth0' && l.verdict === 'tx' && l.packet.layers[0].protocol === 4);
    expect(encap.step).toBe(4);
    expect(encap.packet.layers.map((x: { proto: string }) => x.proto)).toEqual(['ipv4', 'ipv4', 'tcp']);
    expect(encap.packet.layers[0]).toMatchObject({ src: '172.16.69.15', protocol: 4, ttl: 62, df: true, id: 0 });
    expect(encap.packet.layers[1]).toMatchObject({ src: '203.0.113.10', dst: '172.16.29.6', protocol: 6 });
    expect(encap.packet.layers[2]).toMatchObject({ sport: 40001, dport: 9001, flags: 'SYN' });
    for (const l of lines) expect(Object.keys(l).slice(0, 5)).toEqual(['seq', 't', 'host', 'point', 'verdict']);
  });

  it('says which file, line and column are wrong, and runs the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, readFileSync(REF, 'utf8').replace('ipvsadm -A -t 172.16.29.6:9001 -s rr', 'ipvsadm -A -t 172.16.29.6:9001 -s rrr'));
    const r = lvsim('run', f, '--quiet');
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`${f.replace(/[.]/g, '\\.')}:\\d+:\\d+: error: found 'rrr'`));
    expect(r.stdout).toMatch(/line\(s\) not applied/);
  });

  it('an answered connection that never closed is "still closing", not ok; a step after it "never started"; exit 1', () => {
    // A stateful firewall on the director drops the client's lone FIN (conntrack: INVALID, the
    // IPVS packets are untracked): c1 is answered but never finishes, so c2 never starts.
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const f = join(dir, 'fin.yaml');
    writeFileSync(f, readFileSync(REF, 'utf8').replace(/^until: .*$/m, '').replace('      ipvsadm -C\n',
      '      iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT\n      iptables -A INPUT -p tcp --dport 9001 -m state --state NEW -j ACCEPT\n      iptables -A INPUT -j DROP\n      ipvsadm -C\n')
      .replace('traffic:\n', 'until: 30s\ntraffic:\n'));
    const r = lvsim('run', f, '--quiet');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^ {2}c1 203\.0\.113\.10:40001 -> 172\.16\.29\.6:9001: still closing after RS\d's greeting: the exchange had not finished when the run stopped$/m);
    expect(r.stdout).toMatch(/^ {2}c2 -> 172\.16\.29\.6:9001: never started \(the step before it had not finished when the run stopped\)$/m);
  });

  it('a held connection whose release never closes is ok for its step, with the release noted, and exit 1', () => {
    const r = lvsim('run', 'scenarios/keepalived-failover-sync-missing-rs.yaml', '--quiet');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^ {2}held 203\.0\.113\.10:41001 -> 172\.16\.29\.6:9001: ok, answered by RS2: RS2 local=\S+ peer=\S+; released, but the close had not finished when the run stopped$/m);
  });

  it('refuses unknown options and missing files with exit 2', () => {
    expect(lvsim('run', REF, '--frobnicate').status).toBe(2);
    expect(lvsim('run', 'no-such.yaml').status).toBe(2);
    expect(lvsim('nonsense').status).toBe(2);
  });
});

describe('lvsim run --pcap', () => {
  it.runIf(hasTshark)('writes a pcapng that tshark reads without warnings, with the IPIP nesting dissected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const f = join(dir, 'ref.pcapng');
    expect(lvsim('run', REF, '--pcap', f, '--quiet').status).toBe(0);
    const all = spawnSync('tshark', ['-r', f, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'], { encoding: 'utf8' });
    expect(all.status).toBe(0);
    // As root tshark warns that it runs as root; nothing else may appear.
    expect(all.stderr.split('\n').filter(l => l && !/Running as user "root"/.test(l))).toEqual([]);
    expect(all.stdout).not.toMatch(/Malformed|Bad checksum|cut short/);
    const fields = execFileSync('tshark', ['-r', f, '-Y', 'ip.proto == 4', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.proto', '-e', 'tcp.dstport'], { encoding: 'utf8' });
    const first = fields.trim().split('\n')[0].split('\t');
    expect(first[0]).toBe('director:eth0');
    expect(first[1]).toBe('172.16.69.15,203.0.113.10');
    expect(first[2]).toBe('192.168.134.5,172.16.29.6');
    expect(first[3]).toBe('4,6');
    expect(first[4]).toBe('9001');
    const ifaces = execFileSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' });
    expect(new Set(ifaces.trim().split('\n'))).toContain('rs1:eth0');
  });
});

describe('lvsim exec', () => {
  it('ipvsadm -Ln on the director prints what the real ipvsadm prints, byte for byte', () => {
    const r = lvsim('exec', REF, '--host', 'director', '--', 'ipvsadm', '-Ln');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      'TCP  172.16.29.6:9001 rr\n' +
      '  -> 172.16.197.3:9001            Tunnel  1      0          0         \n' +
      '  -> 192.168.134.5:9001           Tunnel  1      0          0         \n');
  });

  it('ipvsadm -Lnc after the connections lists them in FIN_WAIT counting down from 2 minutes', () => {
    const r = lvsim('exec', REF, '--host', 'director', '--at', '1s', '--', 'ipvsadm', '-Lnc');
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toBe('IPVS connection entries');
    expect(rows[1]).toBe('pro expire state       source             virtual            destination');
    expect(rows.slice(2).map(l => l.replace(/ \d\d:\d\d /, ' MM:SS '))).toEqual([
      'TCP MM:SS  FIN_WAIT    203.0.113.10:40001 172.16.29.6:9001   192.168.134.5:9001',
      'TCP MM:SS  FIN_WAIT    203.0.113.10:40002 172.16.29.6:9001   172.16.197.3:9001',
    ]);
    expect(rows[2]).toMatch(/^TCP 01:5\d  /);
  });

  it('shows the reverse-path filter counter on a misconfigured real server', () => {
    const r = lvsim('exec', 'scenarios/misconfig-rp-filter-all.yaml', '--host', 'rs1', '--', 'nstat', '-az');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/TcpExtIPReversePathFilter\s+[1-9]/);
  });

  it('refuses commands that would change the host', () => {
    const r = lvsim('exec', REF, '--host', 'director', '--', 'ipvsadm', '-C');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/read-only/);
  });

  it('says a read-only tool lvsim does not have (ss, arp) is not modelled, not that it would change the host', () => {
    for (const argv of [['ss', '-tan'], ['arp', '-n']]) {
      const r = lvsim('exec', REF, '--host', 'director', '--', ...argv);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^lvsim: ${argv[0]} is not modelled`));
      expect(r.stderr).not.toMatch(/would change the host/);
    }
    expect(lvsim('exec', REF, '--host', 'director', '--', 'arp', '-n').stderr).toContain('ip neigh');
  });

  it('accepts every ipvsadm listing option as read-only, --nosort included', () => {
    const r = lvsim('exec', REF, '--host', 'director', '--', 'ipvsadm', '-Ln', '--nosort');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('TCP  172.16.29.6:9001 rr');
    expect(lvsim('exec', REF, '--host', 'director', '--', 'ipvsadm', '-Z').status).toBe(2);
  });

  it('a misspelt --host gets a did-you-mean', () => {
    const r = lvsim('exec', REF, '--host', 'dirctor', '--', 'ip', 'route');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no host 'dirctor'.*did you mean 'director'\?/);
  });

  it('exits 2 when the scenario has errors, as run and doctor do, after printing the output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, readFileSync(REF, 'utf8').replace('ipvsadm -A -t 172.16.29.6:9001 -s rr', 'ipvsadm -A -t 172.16.29.6:9001 -s rrr'));
    const r = lvsim('exec', f, '--host', 'director', '--', 'ip', '-br', 'addr');
    expect(r.stderr).toMatch(/error: found 'rrr'/);
    expect(r.stdout).toContain('172.16.69.15/24');
    expect(r.status).toBe(2);
  });
});

describe('lvsim replay', () => {
  it('exits 0 on a matching vector, 1 with a diff on a mismatch, 2 on an unreadable file', () => {
    expect(lvsim('replay', 'test/fixtures/oracle/baseline.json').status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const v = JSON.parse(readFileSync('test/fixtures/oracle/baseline.json', 'utf8'));
    v.final['ipvsadm-Ln'] = v.final['ipvsadm-Ln'].replace(' rr\n', ' wrr\n');
    writeFileSync(join(dir, 'v.json'), JSON.stringify(v));
    const bad = lvsim('replay', join(dir, 'v.json'));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/final ipvsadm -Ln differs/);
    writeFileSync(join(dir, 'x.json'), '{not json');
    expect(lvsim('replay', join(dir, 'x.json')).status).toBe(2);
    const j = lvsim('replay', 'test/fixtures/oracle/baseline.json', '--json');
    const o = JSON.parse(j.stdout);
    expect(o.id).toBe('baseline');
    expect(o.steps[0]).toMatchObject({ n: 1, ok: true, rs: '192.168.134.5', error: null, after: { '192.168.134.5:9001': [1, 0, 1] } });
    expect(Object.keys(o.final)).toEqual(['ipvsadm-Ln', 'ipvsadm-Lnc', 'ipvsadm-stats']);
  });
});

describe('lvsim bench-flow', () => {
  it('reports flow and packet figures as JSON, from any directory', () => {
    const r = spawnSync('node', [`${process.cwd()}/bin/lvsim.mjs`, 'bench-flow', '--flow', '2000', '--packet', '2000', '--packet-workload', '500', '--json'], { encoding: 'utf8', cwd: '/tmp' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { flow: Array<{ connections: number }>; packet: Array<{ kind: string; connections: number; delivered: number; dropped: number }> };
    expect(out.flow.map(f => f.connections)).toEqual([2000]);
    expect(out.packet.map(p => [p.kind, p.connections])).toEqual([['five-step', 2000], ['workload', 500]]);
    // The reference connection: every packet delivered, nothing dropped.
    expect(out.packet[0]!.dropped).toBe(0);
    expect(out.packet[0]!.delivered).toBe(2000 * 13);
  });

  it('bad options and unreadable or broken scenarios: a message and a non-zero exit, no stack trace', () => {
    const bad = lvsim('bench-flow', '--packet', 'abc');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("lvsim bench-flow: --packet must be a whole number from 1 to 1e9 (such as 100000 or 1e5), got 'abc'\n");
    const missing = lvsim('bench-flow', '--scenario', 'no-such.yaml');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read no-such.yaml');
    const broken = lvsim('bench-flow', '--scenario', 'test/fixtures/twenty-mistakes.yaml', '--flow', '100', '--packet', '', '--packet-workload', '0');
    expect(broken.stderr).not.toContain('    at ');
  });
});
