/** net/checksum.ts: RFC 1071 checksums, known answers and verification over encoded frames. */
import { describe, expect, it } from 'vitest';
import { fold, internetChecksum, sum16, transportChecksum } from '../../src/net/checksum';
import { encodeIpv4 } from '../../src/net/wire';
import { ip4 } from '../../src/net/addr';
import { IPPROTO_UDP } from '../../src/net/packet';
import type { Ipv4 } from '../../src/net/packet';
import { CLIENT, VIP, clientSyn, dataTcp, echo, eth, ipv4, recomputedChecksums, tunnelledSyn, udp } from './fixtures';

describe('Internet checksum (RFC 1071)', () => {
  it('sums the RFC 1071 section 3 example words to ddf2 and complements to 220d', () => {
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(fold(sum16(b)) ^ 0xffff).toBe(0xddf2);
    expect(internetChecksum(b)).toBe(0x220d);
  });

  it('pads an odd trailing byte with a zero low byte', () => {
    expect(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56))).toBe(~(0x1234 + 0x5600) & 0xffff);
  });

  it('writes b861 into the classic header 4500 0073 0000 4000 4011 .... c0a8 0001 c0a8 00c7', () => {
    // 115-byte UDP datagram, DF, TTL 64, id 0, 192.168.0.1 -> 192.168.0.199.
    const p = ipv4(ip4('192.168.0.1'), ip4('192.168.0.199'),
      { proto: 'udp', sport: 1, dport: 2, data: new Uint8Array(115 - 28) }, { id: 0, ttl: 64, df: true });
    const b = encodeIpv4(p);
    expect(Array.from(b.subarray(0, 20), (x) => x.toString(16).padStart(2, '0')).join(''))
      .toBe('4500007300004000' + '4011b861' + 'c0a80001c0a800c7');
    expect(internetChecksum(b, 0, 20)).toBe(0);
  });

  it('verifies (recomputes to 0) over every header of TCP, UDP, ICMP and IP-in-IP frames', () => {
    for (const pkt of [clientSyn, tunnelledSyn, ipv4(CLIENT, VIP, dataTcp), ipv4(CLIENT, VIP, udp), ipv4(CLIENT, VIP, echo)]) {
      const sums = recomputedChecksums(eth(pkt));
      expect(sums.length).toBeGreaterThanOrEqual(2);
      for (const s of sums) expect(s, s.what).toEqual({ what: s.what, value: 0 });
    }
  });

  it('sends a UDP checksum that computes to 0 as ffff (RFC 768)', () => {
    // Find a payload whose checksum comes out 0: adjust two bytes so the sum is ffff.
    const base = ipv4(ip4('10.0.0.1'), ip4('10.0.0.2'), { proto: 'udp', sport: 7, dport: 7, data: new Uint8Array(2) });
    const b0 = encodeIpv4(base);
    const c0 = transportChecksum(base.src, base.dst, IPPROTO_UDP, (() => { const x = b0.slice(20); x[6] = 0; x[7] = 0; return x; })());
    // Adding c0 to the data word makes the folded sum ffff, so the computed checksum is 0.
    const data = Uint8Array.of(c0 >> 8, c0 & 0xff);
    const p: Ipv4 = { ...base, payload: { proto: 'udp', sport: 7, dport: 7, data } };
    const b = encodeIpv4(p);
    expect((b[26]! << 8) | b[27]!).toBe(0xffff);
    expect(transportChecksum(p.src, p.dst, IPPROTO_UDP, b, 20, b.length)).toBe(0);
  });
});
