/**
 * `lvsim replay` as a user runs it on recorded vectors of both formats: exit 0 on a match, 1 with
 * a readable diff (or a plain statement of what is not modelled yet), 2 for a file that is not
 * a well-formed vector, each problem at its JSON path and never a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const lvsim = (...args: string[]) => spawnSync('node', ['bin/lvsim.mjs', ...args], { encoding: 'utf8' });
const V2 = 'test/fixtures/oracle/v2';

describe('lvsim replay (format 2)', () => {
  it('matches a version-2 vector and prints the observations', () => {
    const r = lvsim('replay', `${V2}/tunl0-down.json`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/replay tunl0-down \(format 2\): 1 steps/);
    expect(r.stdout).toMatch(/failed ECONNREFUSED/);
    expect(r.stdout).toMatch(/nstat rs1: IcmpOutDestUnreachs 1/);
    expect(r.stdout).toMatch(/director:eth0 out 172\.16\.29\.6 > 203\.0\.113\.10 ICMP 3\/3/);
    expect(r.stdout).toMatch(/matches the kernel vector\n$/);
  });

  it('--json: one object in the form the format gives', () => {
    const r = lvsim('replay', `${V2}/mtu-df.json`, '--json');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.id).toBe('mtu-df');
    expect(o.steps[0]).toMatchObject({ n: 1, ok: true, rs: '172.16.197.3', error: null, pmtu: 1480, snd_mss: 1428, server_bytes: 20000 });
    expect(o.observe.route_mtu).toEqual({ client: 1480, director: null });
    expect(o.observe.icmp).toContainEqual({ at: 'client:c0', dir: 'in', src: '172.16.29.6', dst: '203.0.113.10', type: 3, code: 4, mtu: 1480 });
  });

  it('exit 1 with a readable diff when lvsim and the recording differ', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const v = JSON.parse(readFileSync(`${V2}/rpf-strict-all-only.json`, 'utf8'));
    v.observe.nstat.rs1.TcpExtIPReversePathFilter = 0;
    v.steps[0].expect = { ok: true, rs: '172.16.197.3' };
    writeFileSync(join(dir, 'v.json'), JSON.stringify(v));
    const r = lvsim('replay', join(dir, 'v.json'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/step 1: expected an answer from 172\.16\.197\.3, the connection failed with ETIMEDOUT/);
    expect(r.stdout).toMatch(/observe\.nstat rs1 TcpExtIPReversePathFilter: kernel 0, lvsim 2 \(compared as zero or not zero\)/);
  });

  it('replays the firewall vector through iptables and the keepalived vectors through keepalived (exit 0), and refuses what is not modelled (exit 1)', () => {
    const fw = lvsim('replay', `${V2}/fw-ipip-blocked.json`);
    expect(fw.stdout).toMatch(/matches the kernel vector/);
    expect(fw.status).toBe(0);
    const ka = lvsim('replay', `${V2}/ka-vrrp-failover.json`);
    expect(ka.status).toBe(0);
    expect(ka.stdout).toMatch(/^ 12 ok   @ 17955 ms  who holds the VIP +VIP on \[director2:eth1, director:eth1\], router's entry director2:eth1 /m);
    expect(ka.stdout).toMatch(/^ 13 ok   @ 18237 ms  release c5 +failed ECONNRESET/m);
    expect(ka.stdout).toMatch(/^VRRP adverts from director2:eth1 \(172\.16\.29\.4\) vrid 51 prio 100: 6, /m);
    expect(ka.stdout).toMatch(/matches the kernel vector/);
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const v = JSON.parse(readFileSync(`${V2}/ka-vrrp-failover.json`, 'utf8'));
    v.steps[7].signal = 'STOP';
    writeFileSync(join(dir, 'v.json'), JSON.stringify(v));
    const r = lvsim('replay', join(dir, 'v.json'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/not replayed: this vector needs what lvsim does not model yet:\n  - steps\[7\]\.signal: "STOP" is not modelled/);
    expect(r.stderr).not.toMatch(/at .*\.(ts|js|mjs):\d+/);
  });

  it('exit 2 with JSON paths for a malformed vector, never a TypeError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const cases: Array<[(v: any) => void, RegExp]> = [
      [v => { delete v.steps[0].src; }, /steps\[0\]\.src: found nothing/],
      [v => { v.steps[0].src = 5; }, /steps\[0\]\.src: found 5/],
    ];
    for (const [edit, want] of cases) {
      const v = JSON.parse(readFileSync(`${V2}/rpf-strict-all-only.json`, 'utf8'));
      edit(v);
      writeFileSync(join(dir, 'v.json'), JSON.stringify(v));
      const r = lvsim('replay', join(dir, 'v.json'));
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr).not.toMatch(/TypeError|at .*\.(ts|js|mjs):\d+/);
    }
    writeFileSync(join(dir, 'n.json'), 'null');
    expect(lvsim('replay', join(dir, 'n.json')).stderr).toMatch(/format: found nothing|: found null/);
  });
});
