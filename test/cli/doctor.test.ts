/**
 * `lvsim doctor` and `lvsim run --check` as an operator uses them in CI: findings with
 * file:line:col, exit 1 on an error finding or an unmet expectation, 2 on bad input.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const lvsim = (...args: string[]) => spawnSync('node', ['bin/lvsim.mjs', ...args], { encoding: 'utf8' });

describe('lvsim doctor', () => {
  it('finds no error in the reference scenario (exit 0)', () => {
    const r = lvsim('doctor', 'scenarios/tun-different-subnets.yaml');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('0 error(s)');
  });

  it('names rp_filter on the decapsulating device, at the line that sets it, with the fix (exit 1)', () => {
    const r = lvsim('doctor', 'scenarios/misconfig-rp-filter-all.yaml');
    expect(r.status).toBe(1);
    const m = /^scenarios\/misconfig-rp-filter-all\.yaml:(\d+):(\d+): error rp_filter_strict_on_decap \[rs1\]$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const line = readFileSync('scenarios/misconfig-rp-filter-all.yaml', 'utf8').split('\n')[Number(m![1]) - 1]!;
    expect(line.slice(Number(m![2]) - 1)).toMatch(/^net\.ipv4\.conf\.all\.rp_filter = 1/);
    expect(r.stdout).toContain('fix: sysctl -w net.ipv4.conf.all.rp_filter=0');
  });

  it('--json gives code, severity, host, position, check and fix for each finding', () => {
    const r = lvsim('doctor', 'scenarios/misconfig-tunl0-down.yaml', '--json');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    const f = j.findings.find((x: { code: string }) => x.code === 'tunl0_down');
    expect(f).toMatchObject({ severity: 'error', host: 'rs1', file: 'scenarios/misconfig-tunl0-down.yaml' });
    expect(f.line).toBeGreaterThan(0);
    expect(f.check).toMatch(/ipip_rcv/);
    expect(f.fix).toMatch(/ip link set tunl0 up/);
  });

  it('--json: the sync backup lacking a real server, with the same keys as every finding (no proof), at director2\'s virtual_server (exit 1)', () => {
    const file = 'scenarios/keepalived-failover-sync-missing-rs.yaml';
    const r = lvsim('doctor', file, '--json');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['file', 'findings', 'diagnostics']);
    const f = j.findings.find((x: { code: string }) => x.code === 'sync_backup_lacks_real_server');
    expect(Object.keys(f).sort()).toEqual(['check', 'code', 'col', 'file', 'fix', 'host', 'line', 'message', 'severity']);
    expect(f).toMatchObject({ severity: 'error', host: 'director2', file });
    expect(readFileSync(file, 'utf8').split('\n')[f.line - 1]!.slice(f.col - 1)).toMatch(/^virtual_server 172\.16\.29\.6 9001/);
    expect(f.check).toMatch(/ip_vs_proc_conn/);
    expect(f.message).toMatch(/director runs the master sync daemon .* director2 the backup .* lacks real server\(s\) 192\.168\.134\.5:9001 of 172\.16\.29\.6:9001/);
    expect(f.fix).toContain('real_server 192.168.134.5 9001');
  });

  it('configurations that work exit 0: an all-ports persistent service (VIP:0 -p), a UDP service (a note, no TCP error)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-doctor-'));
    const ref = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');
    const port0 = ref.replace(/      ipvsadm -A -t 172\.16\.29\.6:9001 -s rr\n.*\n.*\n/,
      '      ipvsadm -A -t 172.16.29.6:0 -s rr -p 60\n      ipvsadm -a -t 172.16.29.6:0 -r 172.16.197.3 -i\n      ipvsadm -a -t 172.16.29.6:0 -r 192.168.134.5 -i\n');
    expect(port0).not.toBe(ref);
    writeFileSync(join(dir, 'port0.yaml'), port0);
    const r0 = lvsim('doctor', join(dir, 'port0.yaml'));
    expect(r0.stdout).not.toMatch(/no_listener_on_vip|port 0\b/);
    expect(r0.status).toBe(0);
    const udp = ref.replace('      ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i\n',
      '      ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i\n      ipvsadm -A -u 172.16.29.6:53 -s rr\n      ipvsadm -a -u 172.16.29.6:53 -r 172.16.197.3 -i\n');
    writeFileSync(join(dir, 'udp.yaml'), udp);
    const ru = lvsim('doctor', join(dir, 'udp.yaml'));
    expect(ru.stdout).toMatch(/: info udp_service_not_checked \[director\]/);
    expect(ru.stdout).not.toMatch(/SYN for 172\.16\.29\.6:53|answered with a RST|proto: tcp, port: 53/);
    expect(ru.status).toBe(0);
  });

  it('NAT across subnets: no gateway command where no director address is on-link (exit 1)', () => {
    const r = lvsim('doctor', 'scenarios/modes-nat-different-subnets.yaml');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error nat_reply_bypasses_director \[rs1\]/);
    expect(r.stdout).not.toContain('via 0.0.0.0');
  });

  it('bad input: a missing file, no file, an unknown option (exit 2)', () => {
    expect(lvsim('doctor', '/nonexistent.yaml').status).toBe(2);
    expect(lvsim('doctor').status).toBe(2);
    const r = lvsim('doctor', 'scenarios/tun-different-subnets.yaml', '--jsno');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--jsno');
  });
});

describe('lvsim run --check', () => {
  it('exits 1 and names the unmet expectation of a lab exercise, confirming the doctor\'s finding', () => {
    const r = lvsim('run', '--quiet', '--check', 'scenarios/lab/rp-filter-all.yaml');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL c2: expected ok, got failed: ETIMEDOUT \(scenarios\/lab\/rp-filter-all\.yaml:\d+:\d+\)/);
    expect(r.stdout).toMatch(/error rp_filter_strict_on_decap \[rs1\]: confirmed: packet #\d+ dropped at rs1 \(rp_filter\)/);
  });

  it('confirms the sync backup finding with the packet that panics the new master; the scenario\'s expectations hold (exit 0)', () => {
    const r = lvsim('run', '--quiet', '--check', 'scenarios/keepalived-failover-sync-missing-rs.yaml');
    expect(r.stdout).toMatch(/error sync_backup_lacks_real_server \[director2\]: confirmed: packet #\d+ dropped at director2 \(ipvs_unbound_tunnel\)/);
    expect(r.stdout).toMatch(/pass held: expected ok, answered by rs2/);
    expect(r.stdout).toMatch(/pass c2: expected fail with ETIMEDOUT/);
    expect(r.status).toBe(0);
  });

  it('exits 0 when every expectation is met', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-check-'));
    const fixed = readFileSync('scenarios/lab/rp-filter-all.yaml', 'utf8').replace('net.ipv4.conf.all.rp_filter = 1', 'net.ipv4.conf.all.rp_filter = 0');
    writeFileSync(join(dir, 'fixed.yaml'), fixed);
    const r = lvsim('run', '--quiet', '--check', join(dir, 'fixed.yaml'));
    expect(r.stdout).toMatch(/pass c1/);
    expect(r.stdout).toMatch(/pass c2/);
    expect(r.status).toBe(0);
  });
});
