import { describe, expect, test } from 'vitest';
import { makeHost, sh } from '../config/helpers';
import { decodeMessage, encodeMessage } from '../../src/ipvs/sync';
import type { Conn } from '../../src/ipvs/ctl';
import { ip4 } from '../../src/net/addr';

describe('ip_vs_sync.c: the sync daemon as ipvsadm starts it', () => {
  test('--start-daemon / -L --daemon / --stop-daemon, with the kernel\'s errors', () => {
    const { ctx } = makeHost('director', ['eth0', 'eth1']);
    expect(sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth1').exit).toBe(0);
    expect(sh(ctx, 'ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 7').exit).toBe(0);
    expect(sh(ctx, 'ipvsadm -L --daemon').stdout).toBe('master sync daemon (mcast=eth1, syncid=0)\nbackup sync daemon (mcast=eth1, syncid=7)\n');
    const again = sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth1');
    expect([again.exit, again.stderr]).toEqual([255, 'File exists\n']);
    const nodev = sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth9');
    expect(nodev.exit).not.toBe(0);
    expect(sh(ctx, 'ipvsadm --stop-daemon master').exit).toBe(0);
    expect(sh(ctx, 'ipvsadm -L --daemon').stdout).toBe('backup sync daemon (mcast=eth1, syncid=7)\n');
    const none = sh(ctx, 'ipvsadm --stop-daemon master');
    expect([none.exit, none.stderr]).toEqual([255, 'No daemon is running\n']);
    expect(sh(ctx, 'ipvsadm --start-daemon master --mcast-interface eth1 --mcast-port 9000').stderr).toContain('not modelled');
  });

  test('a version 1 message (struct ip_vs_sync_mesg + ip_vs_sync_v4) decodes to what was encoded', () => {
    const c = { protocol: 6, flags: 0x0002, state: 1, caddr: ip4('203.0.113.10'), cport: 41001, vaddr: ip4('172.16.29.6'), vport: 9001, daddr: ip4('192.168.134.5'), dport: 9001, timeout: 900e9, control: null } as unknown as Conn;
    const b = encodeMessage(5, [c, c], 0);
    expect(b.length).toBe(8 + 2 * 36);
    expect([b[0], b[1], b[4], b[5]]).toEqual([0, 5, 2, 1]);
    const m = decodeMessage(b)!;
    expect(m.syncid).toBe(5);
    expect(m.conns[1]).toEqual({ protocol: 6, flags: 2, state: 1, caddr: c.caddr, cport: 41001, vaddr: c.vaddr, vport: 9001, daddr: c.daddr, dport: 9001, timeoutS: 900 });
    expect(decodeMessage(b.slice(0, 20))).toBeNull();
  });
});
