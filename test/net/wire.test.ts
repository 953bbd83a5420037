/** net/wire.ts: bytes on the wire as Linux emits them, and back (decode(encode(p)) is p). */
import { describe, expect, it } from 'vitest';
import {
  WireError, decodeArp, decodeFrame, decodeIpv4, encodeArp, encodeFrame, encodeIpv4, fieldRanges,
  ipv4HeaderOk, quoteOf,
} from '../../src/net/wire';
import { ip4 } from '../../src/net/addr';
import { TCP_ACK, TCP_RST, TCP_SYN, ipv4TotalLength, tcpHeaderLength } from '../../src/net/packet';
import type { Icmp, Ipv4, Tcp } from '../../src/net/packet';
import {
  CLIENT, DIP, RIP, VIP, arpReply, arpRequest, clientSyn, dataTcp, echo, eth, ipv4, synTcp,
  recomputedChecksums, tunnelledSyn, udp,
} from './fixtures';

function roundTrip(p: Ipv4): Ipv4 {
  return decodeIpv4(encodeIpv4(p));
}

function allChecksumsZero(p: Ipv4): void {
  for (const s of recomputedChecksums(eth(p))) expect(s.value, s.what).toBe(0);
}

describe('TCP on the wire', () => {
  it('emits a 40-byte header for a SYN: MSS, SACK_PERM+TS, NOP+WS, as tcp_options_write', () => {
    const b = encodeIpv4(clientSyn);
    expect(b.length).toBe(60);
    expect(b[20 + 12]! >> 4).toBe(10);
    expect(Array.from(b.subarray(40, 60))).toEqual([
      2, 4, 0x05, 0xb4, // MSS 1460
      4, 2, 8, 10, 0, 0x01, 0xe2, 0x40, 0, 0, 0, 0, // SACK_PERM, TS 123456 0
      1, 3, 3, 7, // NOP, WS 7
    ]);
  });

  it('emits NOP NOP TS (32-byte header) on established segments', () => {
    const b = encodeIpv4(ipv4(CLIENT, VIP, dataTcp));
    expect(b[20 + 12]! >> 4).toBe(8);
    expect(Array.from(b.subarray(40, 44))).toEqual([1, 1, 8, 10]);
    expect(tcpHeaderLength(dataTcp)).toBe(32);
  });

  it('pads SACK_PERM alone with two NOPs and keeps tcpHeaderLength', () => {
    const t: Tcp = { ...synTcp, options: { mss: 536, sackPerm: true } };
    const b = encodeIpv4(ipv4(CLIENT, VIP, t));
    expect(Array.from(b.subarray(40, 48))).toEqual([2, 4, 2, 24, 1, 1, 4, 2]);
    expect(b.length).toBe(20 + tcpHeaderLength(t));
  });

  it.each([
    ['SYN with all options', synTcp],
    ['data segment with timestamps', dataTcp],
    ['bare RST without options', { proto: 'tcp', sport: 9001, dport: 40001, seq: 0, ack: 1001, flags: TCP_RST | TCP_ACK, window: 0, data: new Uint8Array(0) } as Tcp],
    ['urgent pointer and sequence numbers near 2^32', { ...dataTcp, seq: 0xffffffff, ack: 0x80000000, urg: 3, flags: 0x38 } as Tcp],
    ['SYN-ACK with MSS and WS only', { ...synTcp, flags: TCP_SYN | TCP_ACK, ack: 1001, options: { mss: 1400, wscale: 9 } } as Tcp],
  ])('round-trips a %s and its checksum verifies', (_, t) => {
    const p = ipv4(CLIENT, VIP, t);
    expect(roundTrip(p)).toEqual(p);
    allChecksumsZero(p);
  });
});

describe('IPv4 on the wire', () => {
  it('writes version/IHL 0x45, total length, DF, TTL, protocol and addresses', () => {
    const b = encodeIpv4(clientSyn);
    expect(b[0]).toBe(0x45);
    expect((b[2]! << 8) | b[3]!).toBe(60);
    expect((b[4]! << 8) | b[5]!).toBe(4242);
    expect(b[6]).toBe(0x40);
    expect(b[8]).toBe(63);
    expect(b[9]).toBe(6);
    expect(Array.from(b.subarray(12, 20))).toEqual([203, 0, 113, 10, 172, 16, 29, 6]);
    expect(ipv4HeaderOk(b)).toBe(true);
  });

  it('round-trips TOS, MF and fragment offset (a fragment carries raw bytes)', () => {
    const frag = ipv4(CLIENT, VIP, { proto: 'raw', data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
      { protocol: 6, df: false, mf: true, fragOffset: 185, tos: 0xb8 });
    const b = encodeIpv4(frag);
    expect((b[6]! << 8) | b[7]!).toBe(0x2000 | 185);
    expect(roundTrip(frag)).toEqual(frag);
  });

  it('round-trips UDP with its checksum', () => {
    const p = ipv4(CLIENT, VIP, udp);
    expect(roundTrip(p)).toEqual(p);
    allChecksumsZero(p);
  });

  it('round-trips an unknown protocol as raw payload', () => {
    const p = ipv4(CLIENT, VIP, { proto: 'raw', data: Uint8Array.of(9, 9, 9) }, { protocol: 47 });
    expect(roundTrip(p)).toEqual(p);
  });

  it('ignores Ethernet padding past the total length', () => {
    const b = encodeFrame(eth(ipv4(CLIENT, VIP, udp)));
    const padded = new Uint8Array(b.length + 10);
    padded.set(b);
    expect(decodeFrame(padded)).toEqual(eth(ipv4(CLIENT, VIP, udp)));
  });

  it('rejects a datagram cut shorter than its total length with a WireError', () => {
    const b = encodeIpv4(clientSyn).subarray(0, 50);
    expect(() => decodeIpv4(b)).toThrow(WireError);
    expect(() => decodeIpv4(b)).toThrow(/total length 60 exceeds the 50 bytes/);
  });
});

describe('IP-in-IP on the wire', () => {
  it('encodes the outer header (protocol 4) followed by the inner packet byte for byte', () => {
    const outer = encodeIpv4(tunnelledSyn);
    const inner = encodeIpv4(clientSyn);
    expect(outer.length).toBe(80);
    expect(outer[9]).toBe(4);
    expect((outer[2]! << 8) | outer[3]!).toBe(80);
    expect(outer.subarray(20)).toEqual(inner);
  });

  it('round-trips the tunnelled SYN and every checksum verifies', () => {
    expect(roundTrip(tunnelledSyn)).toEqual(tunnelledSyn);
    expect(decodeFrame(encodeFrame(eth(tunnelledSyn)))).toEqual(eth(tunnelledSyn));
    allChecksumsZero(tunnelledSyn);
  });

  it('round-trips IP-in-IP-in-IP', () => {
    const p = ipv4(ip4('10.9.9.9'), ip4('10.8.8.8'), tunnelledSyn);
    expect(roundTrip(p)).toEqual(p);
  });
});

describe('ICMP on the wire', () => {
  it('round-trips an echo request with ident, sequence and data', () => {
    const p = ipv4(CLIENT, VIP, echo);
    expect(roundTrip(p)).toEqual(p);
    allChecksumsZero(p);
  });

  it('round-trips protocol unreachable quoting the whole tunnelled packet', () => {
    const err: Icmp = { proto: 'icmp', type: 3, code: 2, ...quoteOf(tunnelledSyn) };
    expect(err.quotedLen).toBe(80);
    const p = ipv4(RIP, DIP, err, { df: false, ttl: 64 });
    expect(roundTrip(p)).toEqual(p);
    allChecksumsZero(p);
    // The quote is the offending packet's bytes.
    expect(encodeIpv4(p).subarray(28)).toEqual(encodeIpv4(tunnelledSyn));
  });

  it('writes the next-hop MTU of fragmentation needed into bytes 6-7', () => {
    const big = ipv4(CLIENT, VIP, { ...dataTcp, data: new Uint8Array(1448) });
    expect(ipv4TotalLength(big)).toBe(1500);
    const err: Icmp = { proto: 'icmp', type: 3, code: 4, mtu: 1480, ...quoteOf(big) };
    const b = encodeIpv4(ipv4(DIP, CLIENT, err));
    expect(b[20]).toBe(3);
    expect(b[21]).toBe(4);
    expect((b[26]! << 8) | b[27]!).toBe(1480);
    expect(b.length).toBe(20 + 8 + 548);
  });

  it('quotes at most 548 bytes and reads a truncated quote with zeros past its end', () => {
    const big = ipv4(CLIENT, VIP, { ...dataTcp, data: new Uint8Array(1448).fill(0xaa) });
    const q = quoteOf(big);
    expect(q.quotedLen).toBe(548);
    // The quoted header keeps the original total length; fields inside the quote are real.
    expect(ipv4TotalLength(q.quoted)).toBe(1500);
    const t = q.quoted.payload as Tcp;
    expect([t.sport, t.dport, t.seq, t.ack, t.flags, t.window]).toEqual([40001, 9001, 1001, 0xfedcba98, dataTcp.flags, 502]);
    expect(t.data.subarray(0, 548 - 52).every((x) => x === 0xaa)).toBe(true);
    expect(t.data.subarray(548 - 52).every((x) => x === 0)).toBe(true);
    // And round-trips through bytes.
    const p = ipv4(DIP, CLIENT, { proto: 'icmp', type: 3, code: 4, mtu: 1480, ...q });
    expect(roundTrip(p)).toEqual(p);
    // Re-encoded, the quote is the original's first 548 bytes except the TCP checksum,
    // which is recomputed over the zero-filled data (the real data is gone).
    const quoteBytes = encodeIpv4(p).subarray(28, 28 + 548);
    const orig = encodeIpv4(big).subarray(0, 548);
    const differ = [...quoteBytes.keys()].filter((i) => quoteBytes[i] !== orig[i]);
    expect(differ.every((i) => i === 36 || i === 37)).toBe(true);
  });

  it('quotes the original bytes exactly when the error holds the whole original packet', () => {
    const big = ipv4(CLIENT, VIP, { ...dataTcp, data: new Uint8Array(1448).fill(0xaa) });
    const p = ipv4(DIP, CLIENT, { proto: 'icmp', type: 3, code: 4, mtu: 1480, quoted: big, quotedLen: 548 });
    expect(encodeIpv4(p).subarray(28)).toEqual(encodeIpv4(big).subarray(0, 548));
    allChecksumsZero(p);
    // Decoding gives the normal form quoteOf makes.
    expect((roundTrip(p).payload as Icmp).quoted).toEqual(quoteOf(big).quoted);
  });

  it('reads an 8-byte TCP quote as ports and seq, the rest zero', () => {
    const err: Icmp = { proto: 'icmp', type: 11, code: 0, quoted: clientSyn, quotedLen: 28 };
    const back = roundTrip(ipv4(VIP, CLIENT, err));
    const m = back.payload as Icmp;
    expect(m.quotedLen).toBe(28);
    const t = m.quoted!.payload as Tcp;
    expect([t.sport, t.dport, t.seq, t.ack, t.flags, t.options]).toEqual([40001, 9001, 1000, 0, 0, undefined]);
    expect(ipv4TotalLength(m.quoted!)).toBe(60);
    // Stable: a second trip gives the same object.
    expect(roundTrip(back)).toEqual(back);
  });

  it('reads a truncated IP-in-IP quote down to the inner header', () => {
    const big = ipv4(DIP, RIP, ipv4(CLIENT, VIP, { ...dataTcp, data: new Uint8Array(1448) }));
    const q = quoteOf(big);
    expect(q.quoted.payload.proto).toBe('ipv4');
    const inner = q.quoted.payload as Ipv4;
    expect([inner.src, inner.dst]).toEqual([CLIENT, VIP]);
    expect((inner.payload as Tcp).sport).toBe(40001);
    expect(ipv4TotalLength(q.quoted)).toBe(1520);
  });
});

describe('ARP and Ethernet on the wire', () => {
  it('encodes an Ethernet/IPv4 ARP request as 28 bytes and round-trips request and reply', () => {
    const b = encodeArp(arpRequest);
    expect(Array.from(b.subarray(0, 8))).toEqual([0, 1, 8, 0, 6, 4, 0, 1]);
    expect(decodeArp(b)).toEqual(arpRequest);
    expect(decodeFrame(encodeFrame(eth(arpReply)))).toEqual(eth(arpReply));
  });

  it('writes destination MAC, source MAC, ethertype 0x0800 in that order', () => {
    const b = encodeFrame(eth(clientSyn, '02:aa:bb:cc:dd:ee', 'ff:ff:ff:ff:ff:ff'));
    expect(Array.from(b.subarray(0, 14))).toEqual([255, 255, 255, 255, 255, 255, 2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 8, 0]);
  });

  it('refuses an unknown ethertype', () => {
    const b = encodeFrame(eth(arpRequest));
    b[12] = 0x86; b[13] = 0xdd;
    expect(() => decodeFrame(b)).toThrow(/ethertype 0x86dd/);
  });
});

describe('fieldRanges for the hex pane', () => {
  it('lists eth, outer ipv4, inner ipv4 and tcp fields at their byte offsets, outer first', () => {
    const r = fieldRanges(eth(tunnelledSyn));
    const at = (layer: number, field: string) => r.find((x) => x.layer === layer && x.field === field);
    expect(at(0, 'dst')).toMatchObject({ layerName: 'eth', start: 0, end: 6 });
    expect(at(1, 'protocol')).toMatchObject({ layerName: 'ipv4', start: 23, end: 24 });
    expect(at(2, 'src')).toMatchObject({ layerName: 'ipv4', start: 14 + 20 + 12, end: 14 + 20 + 16 });
    expect(at(3, 'sport')).toMatchObject({ layerName: 'tcp', start: 54, end: 56 });
    expect(at(3, 'wscale')).toMatchObject({ start: 54 + 37, end: 54 + 40 });
    const layers = r.map((x) => x.layer);
    expect([...layers].sort((a, b) => a - b)).toEqual(layers);
    for (const x of r) expect(x.end).toBeLessThanOrEqual(encodeFrame(eth(tunnelledSyn)).length);
  });

  it('points at the bytes the field holds', () => {
    const frame = eth(tunnelledSyn);
    const b = encodeFrame(frame);
    const ttl = fieldRanges(frame).find((x) => x.layer === 2 && x.field === 'ttl')!;
    expect(b[ttl.start]).toBe(clientSyn.ttl);
    const seq = fieldRanges(frame).find((x) => x.field === 'seq')!;
    expect(new DataView(b.buffer).getUint32(seq.start)).toBe(1000);
  });

  it('cuts quoted fields at the end of the quote and names quoted layers', () => {
    const err: Icmp = { proto: 'icmp', type: 11, code: 0, quoted: clientSyn, quotedLen: 28 };
    const frame = eth(ipv4(VIP, CLIENT, err));
    const r = fieldRanges(frame);
    const len = encodeFrame(frame).length;
    expect(len).toBe(14 + 20 + 8 + 28);
    expect(r.find((x) => x.field === 'seq')).toMatchObject({ layerName: 'tcp (quoted)', start: 14 + 28 + 24, end: 14 + 28 + 28 });
    expect(r.find((x) => x.layerName === 'tcp (quoted)' && x.field === 'ack')).toBeUndefined();
    for (const x of r) expect(x.end).toBeLessThanOrEqual(len);
  });
});
