/**
 * Wireshark must read lvsim's captures as it reads tcpdump's: no truncation, no malformed
 * packets, every checksum correct, IP-in-IP dissected down to the inner TCP. Runs tshark when
 * it is installed (CI installs it); otherwise says so and skips.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { traceToPcapng } from '../../src/trace/pcapng';
import { quoteOf } from '../../src/net/wire';
import { type TraceRecord, devPoint } from '../../src/trace/record';
import type { Ipv4 } from '../../src/net/packet';
import {
  CLIENT, DIP, RIP, VIP, arpReply, arpRequest, clientSyn, dataTcp, echo, eth, ipv4, tunnelledSyn, udp,
} from './fixtures';

function haveTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const present = haveTshark();
if (!present) console.warn('tshark not found: skipping the Wireshark dissection tests (apt-get install tshark)');

const CHECKS = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
// ICMP checksums are always checked by Wireshark's ICMP dissector (no preference to turn on).

describe.skipIf(!present)('tshark reads the pcapng export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsim-pcapng-'));
  afterAll(() => { if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); });

  /** stdout; fails on a non-zero exit or anything on stderr but the running-as-root notice. */
  function tshark(file: string, args: string[]): string {
    const r = spawnSync('tshark', ['-r', file, ...CHECKS, ...args], { encoding: 'utf8' });
    const stderr = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Running as user')).join('\n');
    expect(stderr, 'tshark stderr').toBe('');
    expect(r.status, 'tshark exit status').toBe(0);
    return r.stdout;
  }

  function write(name: string, recs: TraceRecord[]): string {
    const f = join(dir, name);
    writeFileSync(f, traceToPcapng(recs));
    return f;
  }

  let seq = 0;
  const rec = (host: string, dev: string, verdict: 'rx' | 'tx', t: number, pkt: Ipv4 | typeof arpRequest, framed = true): TraceRecord => ({
    seq: seq++, t, host, point: devPoint(dev), dev, verdict, packet: { id: 1, pkt },
    ...(framed ? { frame: eth(pkt) } : {}),
  });

  it('dissects the director\'s IPIP frame: outer protocol 4 DIP -> RIP around the client SYN', () => {
    const f = write('ipip.pcapng', [rec('director', 'eth1', 'tx', 1_000_000_123, tunnelledSyn)]);
    const v = tshark(f, ['-V']);
    for (const bad of ['appears to have been cut short', 'Malformed', 'Bad checksum', '[incorrect', 'Expert Info (Error']) {
      expect(v, `tshark says "${bad}"`).not.toContain(bad);
    }
    expect(v).toContain('Protocol: IPIP (4)');
    expect(v).toContain('Internet Protocol Version 4, Src: 172.16.69.15, Dst: 172.16.197.3');
    expect(v).toContain('Internet Protocol Version 4, Src: 203.0.113.10, Dst: 172.16.29.6');
    expect(v).toContain('Transmission Control Protocol, Src Port: 40001, Dst Port: 9001');
    expect(v).toContain('Header Checksum: 0x');
    expect(v).toMatch(/Checksum: 0x[0-9a-f]{4} \[correct\]/);
    expect(v).toContain('Maximum segment size: 1460 bytes');
    expect(v).toContain('Interface name: director:eth1');

    const fields = tshark(f, ['-T', 'fields', '-e', 'ip.proto', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'tcp.srcport',
      '-e', 'tcp.flags.syn', '-e', 'frame.interface_name', '-e', 'frame.time_epoch']).trim();
    const [proto, src, dst, sport, syn, ifname, epoch] = fields.split('\t');
    expect(proto).toBe('4,6');
    expect(src).toBe('172.16.69.15,203.0.113.10');
    expect(dst).toBe('172.16.197.3,172.16.29.6');
    expect(sport).toBe('40001');
    expect(syn).toMatch(/^(1|True)$/);
    expect(ifname).toBe('director:eth1');
    // Nanosecond resolution: 2026-01-01T00:00:01.000000123Z.
    expect(epoch).toBe('1767225601.000000123');
  });

  it('dissects a whole flow (ARP, UDP, echo, data, tunl0 raw IP, ICMP errors) without a warning', () => {
    const big = ipv4(CLIENT, VIP, { ...dataTcp, data: new Uint8Array(1448).fill(0x61) });
    const fragNeeded = ipv4(DIP, CLIENT, { proto: 'icmp', type: 3, code: 4, mtu: 1480, ...quoteOf(big) }, { df: false });
    const protoUnreach = ipv4(RIP, DIP, { proto: 'icmp', type: 3, code: 2, ...quoteOf(tunnelledSyn) }, { df: false });
    const ttlExceeded = ipv4(DIP, CLIENT, { proto: 'icmp', type: 11, code: 0, quoted: clientSyn, quotedLen: 28 }, { df: false });
    const f = write('flow.pcapng', [
      rec('director', 'eth0', 'tx', 10, arpRequest),
      rec('router', 'eth0', 'tx', 20, arpReply),
      rec('client', 'eth0', 'tx', 30, ipv4(CLIENT, VIP, udp)),
      rec('client', 'eth0', 'tx', 40, ipv4(CLIENT, VIP, echo)),
      rec('client', 'eth0', 'tx', 50, ipv4(CLIENT, VIP, dataTcp)),
      rec('realserver', 'tunl0', 'rx', 60, clientSyn, false),
      rec('client', 'eth0', 'tx', 70, big),
      rec('director', 'eth0', 'tx', 80, fragNeeded),
      rec('realserver', 'eth0', 'tx', 90, protoUnreach),
      rec('director', 'eth0', 'tx', 100, ttlExceeded),
    ]);
    const v = tshark(f, ['-V']);
    for (const bad of ['appears to have been cut short', 'Malformed', '[incorrect']) {
      expect(v, `tshark says "${bad}"`).not.toContain(bad);
    }
    // Wireshark checks the TCP checksum of a quote cut at 548 bytes as if the quote were the
    // whole segment, so it flags the quoted segment of the frag-needed error; it does the same
    // with the kernel's own bytes (the quote here is byte for byte what icmp_send sends but
    // for that checksum, see wire.ts). Every other checksum must be correct.
    const notFragNeeded = tshark(f, ['-V', '-Y', '!(icmp.type == 3 && icmp.code == 4)']);
    expect(notFragNeeded).not.toContain('Bad checksum');
    const fn = tshark(f, ['-V', '-Y', 'icmp.type == 3 && icmp.code == 4']);
    expect(fn.match(/Expert Info \(Error\/Checksum\): Bad checksum/g) ?? []).toHaveLength(1);
    expect(fn).toMatch(/Transmission Control Protocol[^\n]*\n(.*\n)*\s+Checksum: 0x[0-9a-f]{4} incorrect/);
    const lines = tshark(f, []).trim().split('\n').filter((l) => !l.startsWith('Running as'));
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/Who has 172\.16\.69\.1\? Tell 172\.16\.69\.15/);
    expect(lines[1]).toMatch(/172\.16\.69\.1 is at 02:00:00:00:45:01/);
    expect(lines[3]).toMatch(/Echo \(ping\) request/);
    expect(lines[5]).toMatch(/203\.0\.113\.10 → 172\.16\.29\.6 .*TCP.*40001 → 9001 \[SYN\]/);
    expect(lines[7]).toMatch(/Destination unreachable \(Fragmentation needed\)/);
    expect(lines[8]).toMatch(/Destination unreachable \(Protocol unreachable\)/);
    expect(lines[9]).toMatch(/Time-to-live exceeded/);
    const mtu = tshark(f, ['-Y', 'icmp.type == 3 && icmp.code == 4', '-T', 'fields', '-e', 'icmp.mtu']).trim();
    expect(mtu).toBe('1480');
  });
});
