/**
 * A host's console at a point of the run: the command sees the kernel state of that moment,
 * and commands that would change the host are refused.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { HostConsole, completeLine, consoleRefusal, isReadOnlyLine } from '../../src/world/console';
import { NS_PER_MS } from '../../src/sim/engine';

const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');

describe('the console at the player\'s position', () => {
  const c = new HostConsole(REF, 'ref.yaml');
  it('ipvsadm -Lnc lists nothing before the first SYN, both entries once the connections ran', () => {
    const before = c.exec('director', 'ipvsadm -Lnc', 0);
    expect(before.exit).toBe(0);
    expect(before.stdout).not.toMatch(/^TCP/m);
    const after = c.exec('director', 'ipvsadm -Lnc', 50 * NS_PER_MS);
    expect(after.stdout.match(/^TCP .*172\.16\.29\.6:9001/gm)).toHaveLength(2);
  });

  it('nstat on a real server counts the decapsulated packets only after they arrived', () => {
    const early = c.exec('rs1', 'nstat -az IpInReceives', 0).stdout;
    const late = c.exec('rs1', 'nstat -az IpInReceives', 50 * NS_PER_MS).stdout;
    const n = (s: string) => Number(/IpInReceives\s+(\d+)/.exec(s)?.[1] ?? NaN);
    expect(n(early)).toBe(0);
    expect(n(late)).toBeGreaterThan(0);
  });

  it('refuses what would change the host, and unknown hosts, with exit 2', () => {
    expect(isReadOnlyLine('ipvsadm -C')).toBe(false);
    expect(isReadOnlyLine('ip route')).toBe(true);
    const r = c.exec('director', 'sysctl -w net.ipv4.ip_forward=0', 0);
    expect(r.exit).toBe(2);
    expect(r.stderr).toContain('would change the host');
    expect(c.exec('nosuch', 'ip route', 0).exit).toBe(2);
  });

  it('ipvsadm: every listing option of ipvsadm.c is read-only; commands that change the table are not', () => {
    for (const l of ['ipvsadm', 'ipvsadm -Ln --nosort', 'ipvsadm -L -n --exact --stats', 'ipvsadm -Lnc', 'ipvsadm -Ln --rate', 'ipvsadm -Ln --thresholds --persistent-conn',
      'ipvsadm -Ln -t 172.16.29.6:9001', 'ipvsadm -S -n', 'ipvsadm --list --numeric --sort', 'ipvsadm -L --timeout', 'ipvsadm -L --daemon', '/sbin/ipvsadm -Ln --nosort']) {
      expect(consoleRefusal(l), l).toBeNull();
    }
    for (const l of ['ipvsadm -C', 'ipvsadm -Z', 'ipvsadm -R', 'ipvsadm -A -t 1.2.3.4:80', 'ipvsadm --set 1 2 3', 'ipvsadm -d -t 172.16.29.6:9001 -r 172.16.197.3']) {
      expect(consoleRefusal(l)?.reason, l).toBe('changes-host');
    }
  });

  it('a tool lvsim does not have is "not modelled", with what to use instead', () => {
    expect(consoleRefusal('ss -tan')).toMatchObject({ reason: 'not-modelled', message: expect.stringMatching(/^ss is not modelled \(IPVS connections: ipvsadm -Lnc/) });
    expect(consoleRefusal('sudo arp -n')).toMatchObject({ reason: 'not-modelled', message: expect.stringContaining('ip neigh') });
    expect(c.exec('director', 'ss -ltn', 0)).toMatchObject({ exit: 2, stderr: expect.stringMatching(/^lvsim: ss is not modelled/) });
  });

  it('completes the common forms and command names', () => {
    expect(completeLine('ipvsadm -L')).toEqual(expect.arrayContaining(['ipvsadm -Ln', 'ipvsadm -Lnc']));
    expect(completeLine('nst')).toContain('nstat -az');
    expect(completeLine('ipvsadm-s')).toContain('ipvsadm-save');
  });
});
