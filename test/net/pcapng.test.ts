/** net/pcapng.ts: block framing, interfaces and timestamps of the capture file, read back by hand. */
import { describe, expect, it } from 'vitest';
import { EPOCH_OFFSET_NS, LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapngWriter, traceToPcapng } from '../../src/trace/pcapng';
import { encodeFrame, encodeIpv4 } from '../../src/net/wire';
import { type TraceRecord, devPoint } from '../../src/trace/record';
import { arpRequest, clientSyn, eth, tunnelledSyn } from './fixtures';

interface Block { type: number; body: DataView; start: number; len: number }

/** Splits a little-endian pcapng file into blocks, checking each block's framing. */
function blocks(file: Uint8Array): Block[] {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: Block[] = [];
  for (let o = 0; o < file.length;) {
    const type = v.getUint32(o, true);
    const len = v.getUint32(o + 4, true);
    expect(len % 4, `block at ${o} is 32-bit aligned`).toBe(0);
    expect(len).toBeGreaterThanOrEqual(12);
    expect(v.getUint32(o + len - 4, true), `trailing length of block at ${o}`).toBe(len);
    out.push({ type, body: new DataView(file.buffer, file.byteOffset + o + 8, len - 12), start: o, len });
    o += len;
  }
  return out;
}

/** Options starting at `off` in a block body, up to opt_endofopt (which must be present). */
function options(body: DataView, off: number): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (let o = off; ;) {
    expect(o + 4).toBeLessThanOrEqual(body.byteLength);
    const code = body.getUint16(o, true);
    const len = body.getUint16(o + 2, true);
    if (code === 0) {
      expect(len).toBe(0);
      expect(o + 4, 'opt_endofopt ends the options').toBe(body.byteLength);
      return m;
    }
    m.set(code, new Uint8Array(body.buffer, body.byteOffset + o + 4, len));
    o += 4 + ((len + 3) & ~3);
  }
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('pcapng writer', () => {
  const w = new PcapngWriter();
  const a = w.interface('director:eth0');
  const r = w.interface('realserver:tunl0', LINKTYPE_RAW);
  const syn = encodeFrame(eth(tunnelledSyn));
  w.packet(a, 1_500_000_123, syn, 'out');
  w.packet(r, 1_500_090_000, encodeIpv4(clientSyn), 'in');
  w.packet(a, 7, encodeFrame(eth(arpRequest)));
  const file = w.finish();
  const bs = blocks(file);

  it('starts with a Section Header Block: magic 1a2b3c4d, version 1.0, unknown section length', () => {
    expect(bs[0]!.type).toBe(0x0a0d0d0a);
    const b = bs[0]!.body;
    expect(b.getUint32(0, true)).toBe(0x1a2b3c4d);
    expect([b.getUint16(4, true), b.getUint16(6, true)]).toEqual([1, 0]);
    expect(b.getBigInt64(8, true)).toBe(-1n);
    expect(text(options(b, 16).get(4))).toBe('lvsim');
  });

  it('describes each capture point with linktype, snaplen, if_name and if_tsresol 9', () => {
    const idbs = bs.filter((b) => b.type === 1);
    expect(idbs).toHaveLength(2);
    expect(idbs.map((b) => b.body.getUint16(0, true))).toEqual([LINKTYPE_ETHERNET, LINKTYPE_RAW]);
    for (const b of idbs) expect(b.body.getUint32(4, true)).toBe(262144);
    const o = options(idbs[0]!.body, 8);
    expect(text(o.get(2))).toBe('director:eth0');
    expect(Array.from(o.get(9)!)).toEqual([9]);
    expect(text(options(idbs[1]!.body, 8).get(2))).toBe('realserver:tunl0');
  });

  it('writes Enhanced Packet Blocks with ns timestamps from the epoch offset, whole bytes, direction flags', () => {
    const epbs = bs.filter((b) => b.type === 6);
    expect(epbs).toHaveLength(3);
    const e = epbs[0]!.body;
    expect(e.getUint32(0, true)).toBe(0);
    const ts = (BigInt(e.getUint32(4, true)) << 32n) | BigInt(e.getUint32(8, true));
    expect(ts).toBe(EPOCH_OFFSET_NS + 1_500_000_123n);
    expect(ts / 1_000_000_000n).toBe(BigInt(Date.UTC(2026, 0, 1) / 1000) + 1n);
    expect([e.getUint32(12, true), e.getUint32(16, true)]).toEqual([syn.length, syn.length]);
    expect(new Uint8Array(e.buffer, e.byteOffset + 20, syn.length)).toEqual(syn);
    const flags = options(e, 20 + ((syn.length + 3) & ~3)).get(2)!;
    expect(new DataView(flags.buffer, flags.byteOffset, 4).getUint32(0, true)).toBe(2);
    expect(epbs[1]!.body.getUint32(0, true)).toBe(1);
    // No direction: no options at all, so the block ends with the padded packet.
    expect(epbs[2]!.body.byteLength).toBe(20 + 44);
  });

  it('refuses a packet on an undeclared interface or at a fractional time', () => {
    const w2 = new PcapngWriter();
    expect(() => w2.packet(0, 0, syn)).toThrow(/interface 0/);
    w2.interface('x:eth0');
    expect(() => w2.packet(0, 0.5, syn)).toThrow(/time/);
  });
});

describe('traceToPcapng', () => {
  const base = { packet: { id: 1, pkt: clientSyn } };
  const recs: TraceRecord[] = [
    { seq: 0, t: 100, host: 'router', point: devPoint('eth1'), dev: 'eth1', verdict: 'tx', frame: eth(clientSyn), ...base },
    { seq: 1, t: 200, host: 'director', point: devPoint('eth0'), dev: 'eth0', verdict: 'rx', frame: eth(clientSyn), ...base },
    { seq: 2, t: 210, host: 'director', point: 'PREROUTING', verdict: 'accept', ...base },
    { seq: 3, t: 300, host: 'director', point: devPoint('eth0'), dev: 'eth0', verdict: 'tx', frame: eth(tunnelledSyn), packet: { id: 1, pkt: tunnelledSyn } },
    { seq: 4, t: 400, host: 'realserver', point: devPoint('tunl0'), dev: 'tunl0', verdict: 'rx', ...base },
  ];
  const bs = blocks(traceToPcapng(recs));

  it('writes one interface per host:device in order of first appearance, before the packets', () => {
    const names = bs.filter((b) => b.type === 1).map((b) => text(options(b.body, 8).get(2)));
    expect(names).toEqual(['router:eth1', 'director:eth0', 'realserver:tunl0']);
    expect(bs.map((b) => b.type)).toEqual([0x0a0d0d0a, 1, 1, 1, 6, 6, 6, 6]);
  });

  it('writes device records in trace order, skipping hook records, tunl0 as raw IP', () => {
    const epbs = bs.filter((b) => b.type === 6).map((b) => ({
      ifId: b.body.getUint32(0, true), low: b.body.getUint32(8, true), len: b.body.getUint32(12, true),
    }));
    const low = Number((EPOCH_OFFSET_NS & 0xffffffffn));
    expect(epbs.map((e) => e.ifId)).toEqual([0, 1, 1, 2]);
    expect(epbs.map((e) => e.low - low)).toEqual([100, 200, 300, 400]);
    expect(epbs.map((e) => e.len)).toEqual([74, 74, 94, 60]);
  });

  it('is byte-for-byte the same for the same trace', () => {
    expect(traceToPcapng(recs)).toEqual(traceToPcapng(recs));
  });

  it('writes one interface alone when asked (a capture per interface), and a packet decapsulated onto tunl0 as received there', () => {
    const one = blocks(traceToPcapng(recs, new Set(['director:eth0'])));
    expect(one.filter(b => b.type === 1).map(b => text(options(b.body, 8).get(2)))).toEqual(['director:eth0']);
    expect(one.filter(b => b.type === 6)).toHaveLength(2);
    const decap: TraceRecord = { seq: 5, t: 500, host: 'rs', point: devPoint('tunl0'), dev: 'tunl0', verdict: 'decap', ...base };
    const tun = blocks(traceToPcapng([decap], new Set(['rs:tunl0'])));
    expect(tun.filter(b => b.type === 6).map(b => b.body.getUint32(12, true))).toEqual([60]);
  });
});
