/**
 * net/pcapng.ts: writes a trace's frames as a pcapng capture (the format of
 * draft-ietf-opsawg-pcapng) that Wireshark and tshark open as if tcpdump had run on every
 * device of every host at once. One Interface Description Block per "host:device", one
 * Enhanced Packet Block per frame, nanosecond timestamps. Pure bytes: no Node or DOM APIs,
 * so the browser's "download pcapng" and the CLI share it.
 */
import type { TraceRecord } from './record';
import { encodeFrame, encodeIpv4 } from '../net/wire';

/** LINKTYPE_ETHERNET: frames start with the Ethernet II header. */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW: packets start with the IP header, as tcpdump sees tunl0 (ARPHRD_TUNNEL). */
export const LINKTYPE_RAW = 101;
/** tcpdump's default snapshot length; every frame the model makes fits whole. */
export const SNAPLEN = 262144;
/**
 * Virtual time 0 is written as 2026-01-01T00:00:00Z, so Wireshark shows plausible dates
 * while the file stays the same byte for byte from run to run.
 */
export const EPOCH_OFFSET_NS = 1767225600n * 1_000_000_000n;

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;

const utf8 = new TextEncoder();

/** A block option: code and value, padded to 32 bits when written. */
interface Opt {
  readonly code: number;
  readonly value: Uint8Array;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function optsLength(opts: readonly Opt[]): number {
  if (!opts.length) return 0;
  let n = 4; // opt_endofopt
  for (const o of opts) n += 4 + pad4(o.value.length);
  return n;
}

/**
 * One block: type, total length, `body` (already a multiple of 4), options ending in
 * opt_endofopt, total length again. Little-endian throughout; the SHB's magic says so.
 */
function block(type: number, body: Uint8Array, opts: readonly Opt[]): Uint8Array {
  const len = 12 + body.length + optsLength(opts);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, len, true);
  b.set(body, 8);
  let o = 8 + body.length;
  if (opts.length) {
    for (const op of opts) {
      v.setUint16(o, op.code, true);
      v.setUint16(o + 2, op.value.length, true);
      b.set(op.value, o + 4);
      o += 4 + pad4(op.value.length);
    }
    v.setUint16(o, OPT_ENDOFOPT, true);
    v.setUint16(o + 2, 0, true);
    o += 4;
  }
  v.setUint32(o, len, true);
  return b;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Collects interfaces and packets, then writes one section: the Section Header Block, every
 * Interface Description Block, then the Enhanced Packet Blocks in the order given. IDBs come
 * first so that readers which want all interfaces up front (older libpcap) are content too.
 */
export class PcapngWriter {
  private readonly idbs: Uint8Array[] = [];
  private readonly epbs: Uint8Array[] = [];

  /** Declares a capture point ("director:eth0"); returns its interface id for packet(). */
  interface(name: string, linktype = LINKTYPE_ETHERNET): number {
    const body = new Uint8Array(8);
    const v = new DataView(body.buffer);
    v.setUint16(0, linktype, true);
    v.setUint16(2, 0, true);
    v.setUint32(4, SNAPLEN, true);
    this.idbs.push(block(BT_IDB, body, [
      { code: IF_NAME, value: utf8.encode(name) },
      // if_tsresol 9: timestamps count 10^-9 s, the simulator's own unit.
      { code: IF_TSRESOL, value: Uint8Array.of(9) },
    ]));
    return this.idbs.length - 1;
  }

  /**
   * Adds one packet seen on interface `ifId` at virtual time `tNs` (integer ns). `dir` sets
   * epb_flags' direction bits (inbound 1, outbound 2), shown by Wireshark as the direction.
   */
  packet(ifId: number, tNs: number, bytes: Uint8Array, dir?: 'in' | 'out'): void {
    if (!Number.isInteger(ifId) || ifId < 0 || ifId >= this.idbs.length) {
      throw new RangeError(`pcapng: interface ${ifId} was not declared`);
    }
    if (!Number.isSafeInteger(tNs) || tNs < 0) throw new RangeError(`pcapng: time ${tNs} ns is not a non-negative integer`);
    const ts = EPOCH_OFFSET_NS + BigInt(tNs);
    const body = new Uint8Array(20 + pad4(bytes.length));
    const v = new DataView(body.buffer);
    v.setUint32(0, ifId, true);
    // The timestamp is two 32-bit words, high first, each in the section's byte order.
    v.setUint32(4, Number(ts >> 32n), true);
    v.setUint32(8, Number(ts & 0xffffffffn), true);
    v.setUint32(12, bytes.length, true);
    v.setUint32(16, bytes.length, true);
    body.set(bytes, 20);
    const opts: Opt[] = dir ? [{ code: EPB_FLAGS, value: u32le(dir === 'in' ? 1 : 2) }] : [];
    this.epbs.push(block(BT_EPB, body, opts));
  }

  /** The whole capture file. */
  finish(): Uint8Array {
    const shbBody = new Uint8Array(16);
    const v = new DataView(shbBody.buffer);
    v.setUint32(0, BYTE_ORDER_MAGIC, true);
    v.setUint16(4, 1, true);
    v.setUint16(6, 0, true);
    // Section length unknown (-1): readers walk the blocks.
    v.setBigInt64(8, -1n, true);
    const shb = block(BT_SHB, shbBody, [{ code: SHB_USERAPPL, value: utf8.encode('lvsim') }]);
    return concat([shb, ...this.idbs, ...this.epbs]);
  }
}

/**
 * Every frame that crossed a device in `records`, in trace order: records with verdict rx
 * or tx. Those with `frame` go to an Ethernet interface named "host:dev"; rx/tx records on a
 * device without a frame (tunl0, which has no link-layer header) go to a raw-IP interface of
 * the same name, as tcpdump -i tunl0 captures them; a packet decapsulated onto tunl0 is
 * captured there as received. `only`: the "host:dev" interfaces to write (one capture per
 * interface, as tcpdump -i DEV -w FILE on that host); all of them when absent.
 */
export function traceToPcapng(records: readonly TraceRecord[], only?: ReadonlySet<string>): Uint8Array {
  const w = new PcapngWriter();
  const ids = new Map<string, number>();
  for (const r of records) {
    if (r.verdict !== 'rx' && r.verdict !== 'tx' && !(r.verdict === 'decap' && r.dev === r.point)) continue;
    const name = `${r.host}:${r.dev ?? r.point}`;
    if (only && !only.has(name)) continue;
    let bytes: Uint8Array;
    let linktype: number;
    if (r.frame) {
      bytes = encodeFrame(r.frame);
      linktype = LINKTYPE_ETHERNET;
    } else if (r.packet.pkt.proto === 'ipv4') {
      bytes = encodeIpv4(r.packet.pkt);
      linktype = LINKTYPE_RAW;
    } else continue;
    const key = `${linktype} ${name}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = w.interface(name, linktype);
      ids.set(key, id);
    }
    w.packet(id, r.t, bytes, r.verdict === 'tx' ? 'out' : 'in');
  }
  return w.finish();
}
