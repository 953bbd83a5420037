import { describe, expect, it } from 'vitest';
import { dhHashkey, dhScheduler } from '../../../src/ipvs/schedulers/dh';
import { hash32, hsiphash32, sipKey32 } from '../../../src/ipvs/schedulers/hash';
import { IP_VS_MH_TAB_SIZE, MH_HASH1, MH_HASH2, mhHashkey, mhPermutation, mhScheduler, mhSlotCounts } from '../../../src/ipvs/schedulers/mh';
import { shHashkey, shScheduler, type ShState } from '../../../src/ipvs/schedulers/sh';
import { ip4 } from '../../../src/net/addr';
import {
  IP_VS_SVC_F_SCHED_MH_FALLBACK,
  IP_VS_SVC_F_SCHED_MH_PORT,
  IP_VS_SVC_F_SCHED_SH_FALLBACK,
  IP_VS_SVC_F_SCHED_SH_PORT,
  type Dest,
  type Service,
} from '../../../src/ipvs/types';
import { addDest, addDests, ctx, delDest, editDest, explainCtx, makeService, name, pkt, setOverload } from './helpers';

const M64 = (1n << 64n) - 1n;
const rolB = (x: bigint, b: number): bigint => ((x << BigInt(b)) | (x >> BigInt(64 - b))) & M64;
/** Independent BigInt SipHash-1-3 of a u32 (lib/siphash.c, 64-bit hsiphash). */
function sipRef(v: number, k0: bigint, k1: bigint): number {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rolB(v1, 13); v1 ^= v0; v0 = rolB(v0, 32);
    v2 = (v2 + v3) & M64; v3 = rolB(v3, 16); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rolB(v3, 21); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rolB(v1, 17); v1 ^= v2; v2 = rolB(v2, 32);
  };
  const b = (4n << 56n) | BigInt(v >>> 0);
  v3 ^= b; round(); v0 ^= b; v2 ^= 0xffn; round(); round(); round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
}

describe('hash_32', () => {
  it('takes the top bits of val * 0x61C88647 (reference values)', () => {
    expect(hash32(ip4('10.0.0.1'), 8)).toBe(39);
    expect(hash32(ip4('192.168.1.100'), 8)).toBe(89);
    expect(hash32(ip4('203.0.113.7'), 8)).toBe(124);
    expect(hash32(ip4('10.0.0.100'), 8)).toBe(248);
    expect(hash32(ip4('10.0.0.100'), 10)).toBe(993);
    expect(hash32((ip4('10.0.0.1') + 12345) >>> 0, 8)).toBe(134);
    expect(hash32((ip4('203.0.113.7') + 12345) >>> 0, 8)).toBe(219);
  });
});

describe('hsiphash (64-bit: SipHash-1-3 of a u32)', () => {
  it('matches the reference test vectors', () => {
    expect(hsiphash32(0x0a010053, MH_HASH1)).toBe(0x41cff02c);
    expect(hsiphash32(0x0a010053, MH_HASH2)).toBe(0x41ba9d68);
    expect(hsiphash32(0xcb007107, MH_HASH1)).toBe(0xa86e2c15);
  });
  it('agrees with a BigInt transcription on many inputs and keys', () => {
    let x = 0x12345678;
    for (let i = 0; i < 300; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const k0 = (x ^ 0x9e3779b9) >>> 0;
      const k1 = Math.imul(x, 7) >>> 0;
      expect(hsiphash32(x, sipKey32(k0, k1))).toBe(sipRef(x, BigInt(k0), BigInt(k1)));
    }
  });
});

describe('ip_vs_dh_schedule', () => {
  function three(): [Service, Dest[]] {
    const svc = makeService(dhScheduler);
    return [svc, addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3'])]; // list RS3, RS2, RS1
  }
  const to = (svc: Service, daddr: string): string => name(dhScheduler.schedule(svc, pkt('198.51.100.1', 1000, daddr), ctx()));

  it('hashes the destination address into buckets filled round robin in list order', () => {
    const [svc] = three();
    expect(dhHashkey(ip4('10.0.0.100'))).toBe(248);
    expect(to(svc, '10.0.0.100')).toBe('10.1.0.1');
    expect(to(svc, '10.0.0.1')).toBe('10.1.0.3');
    expect(to(svc, '203.0.113.7')).toBe('10.1.0.2');
  });
  it('every client of one VIP goes to the same real server', () => {
    const [svc] = three();
    for (const s of ['1.2.3.4', '5.6.7.8', '9.9.9.9']) expect(name(dhScheduler.schedule(svc, pkt(s, 1, '10.0.0.100'), ctx()))).toBe('10.1.0.1');
  });
  it('weight 0 or OVERLOAD gives null (no fallback), and an edit does not rebuild the table', () => {
    const [svc, [rs1]] = three();
    editDest(svc, rs1!, { weight: 0 });
    expect(to(svc, '10.0.0.100')).toBe('none');
    editDest(svc, rs1!, { weight: 7 });
    expect(to(svc, '10.0.0.100')).toBe('10.1.0.1');
    setOverload(rs1!, true);
    expect(to(svc, '10.0.0.100')).toBe('none');
  });
  it('a delete reassigns the buckets over the remaining list', () => {
    const [svc, [, rs2]] = three();
    delDest(svc, rs2!); // list RS3, RS1: bucket 248 is even
    expect(to(svc, '10.0.0.100')).toBe('10.1.0.3');
    expect(to(svc, '10.0.0.1')).toBe('10.1.0.1'); // 39 is odd
  });
  it('empty service gives null and explains the empty bucket', () => {
    const svc = makeService(dhScheduler);
    const { ctx: c, rec } = explainCtx();
    expect(dhScheduler.schedule(svc, pkt(), c)).toBeNull();
    expect(rec.detail).toMatchObject({ bucket: 248, entry: 'empty', error: 'no destination available' });
  });
});

describe('ip_vs_sh_schedule', () => {
  const from = (svc: Service, s: string, port = 12345): string => name(shScheduler.schedule(svc, pkt(s, port), ctx()));
  function three(flags = 0): [Service, Dest[]] {
    const svc = makeService(shScheduler, { flags });
    return [svc, addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3'])]; // table R3, R2, R1, R3 ...
  }

  it('list R3,R2,R1 weights 1: 10.0.0.1 -> R3, 192.168.1.100 -> R1, 203.0.113.7 -> R2', () => {
    const [svc] = three();
    expect(from(svc, '10.0.0.1')).toBe('10.1.0.3');
    expect(from(svc, '192.168.1.100')).toBe('10.1.0.1');
    expect(from(svc, '203.0.113.7')).toBe('10.1.0.2');
  });
  it('the source port is ignored without sh-port', () => {
    const [svc] = three();
    for (const p of [1, 2, 40000, 65535]) expect(from(svc, '203.0.113.7', p)).toBe('10.1.0.2');
  });
  it('each dest takes max(weight, 1) consecutive buckets: R2(w2), R1(w1) -> 10.0.0.1 in bucket 39 -> R2', () => {
    const svc = makeService(shScheduler);
    addDest(svc, '10.1.0.1', { weight: 1 });
    addDest(svc, '10.1.0.2', { weight: 2 });
    const b = (svc.schedData as ShState).buckets.slice(0, 6).map(name);
    expect(b).toEqual(['10.1.0.2', '10.1.0.2', '10.1.0.1', '10.1.0.2', '10.1.0.2', '10.1.0.1']);
    expect(from(svc, '10.0.0.1')).toBe('10.1.0.2');
  });
  it('a weight-0 dest still gets one bucket per round', () => {
    const svc = makeService(shScheduler);
    addDest(svc, '10.1.0.1', { weight: 2 });
    addDest(svc, '10.1.0.2', { weight: 0 });
    expect((svc.schedData as ShState).buckets.slice(0, 6).map(name)).toEqual(['10.1.0.2', '10.1.0.1', '10.1.0.1', '10.1.0.2', '10.1.0.1', '10.1.0.1']);
  });
  it('sh-port adds the source port before hashing: 10.0.0.1:12345 -> b134, 203.0.113.7:12345 -> b219', () => {
    expect(shHashkey(ip4('10.0.0.1'), 12345, 0)).toBe(134);
    expect(shHashkey(ip4('203.0.113.7'), 12345, 0)).toBe(219);
    const [svc] = three(IP_VS_SVC_F_SCHED_SH_PORT);
    expect(from(svc, '10.0.0.1')).toBe('10.1.0.1'); // 134 mod 3 = 2
    expect(from(svc, '203.0.113.7')).toBe('10.1.0.3'); // 219 mod 3 = 0
  });
  it('sh-fallback: R2 at weight 0, 203.0.113.7 (ih 124) probes bucket 248 -> R1', () => {
    const [svc, [, r2]] = three(IP_VS_SVC_F_SCHED_SH_FALLBACK);
    editDest(svc, r2!, { weight: 0 });
    const { ctx: c, rec } = explainCtx();
    expect(name(shScheduler.schedule(svc, pkt('203.0.113.7'), c))).toBe('10.1.0.1');
    expect(rec.detail).toMatchObject({ bucket: 124, fallback_bucket: 248, probes: 1 });
  });
  it('without sh-fallback the same client gets null', () => {
    const [svc, [, r2]] = three();
    editDest(svc, r2!, { weight: 0 });
    expect(from(svc, '203.0.113.7')).toBe('none');
    setOverload(r2!, false);
    editDest(svc, r2!, { weight: 1 });
    setOverload(r2!, true);
    expect(from(svc, '203.0.113.7')).toBe('none');
  });
  it('sh-fallback probes (offset + 2*ih) & 255 and walks on past unavailable buckets', () => {
    const [svc, [r1, r2]] = three(IP_VS_SVC_F_SCHED_SH_FALLBACK);
    setOverload(r2!, true);
    setOverload(r1!, true);
    // ih 124 (R2): probes 248 (R1, overloaded), 249 (R3) -> R3
    const { ctx: c, rec } = explainCtx();
    expect(name(shScheduler.schedule(svc, pkt('203.0.113.7'), c))).toBe('10.1.0.3');
    expect(rec.detail).toMatchObject({ fallback_bucket: 249, probes: 2 });
  });
  it('an edit that changes a weight rebuilds the table (upd_dest reassigns)', () => {
    const [svc, [r1]] = three();
    editDest(svc, r1!, { weight: 2 }); // table R3, R2, R1, R1, R3, R2, R1, R1 ... : period 4
    expect((svc.schedData as ShState).buckets.slice(0, 8).map(name)).toEqual(
      ['10.1.0.3', '10.1.0.2', '10.1.0.1', '10.1.0.1', '10.1.0.3', '10.1.0.2', '10.1.0.1', '10.1.0.1'],
    );
    expect(from(svc, '203.0.113.7')).toBe('10.1.0.3'); // 124 mod 4 = 0
  });
  it('a delete reassigns: list R3, R1 -> 203.0.113.7 (124, even) -> R3', () => {
    const [svc, [, r2]] = three();
    delDest(svc, r2!);
    expect(from(svc, '203.0.113.7')).toBe('10.1.0.3');
    expect(from(svc, '10.0.0.1')).toBe('10.1.0.1');
  });
  it('empty service: null', () => {
    expect(from(makeService(shScheduler), '10.0.0.1')).toBe('none');
  });
});

describe('ip_vs_mh_schedule', () => {
  function three(flags = 0): [Service, Dest[]] {
    const svc = makeService(mhScheduler, { flags });
    return [svc, addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3'])]; // list RS3, RS2, RS1
  }
  const from = (svc: Service, s: string, port = 0): string => name(mhScheduler.schedule(svc, pkt(s, port), ctx()));
  const counts = (svc: Service): number[] => svc.dests.map((d) => mhSlotCounts(svc).get(d) ?? 0);

  it('permutations and slot counts for RS1..RS3 weight 1 (reference)', () => {
    const [svc, [rs1, rs2, rs3]] = three();
    expect([rs3, rs2, rs1].map((d) => { const p = mhPermutation(d!, 1, 0); return [p.offset, p.skip]; })).toEqual([
      [2424, 45],
      [2769, 572],
      [310, 1461],
    ]);
    expect(counts(svc)).toEqual([1365, 1364, 1364]);
  });
  it('clients (port 0): 203.0.113.7 -> slot 1705 RS1; 198.51.100.20 -> 2366 RS1; 192.0.2.55 -> 3792 RS3', () => {
    const [svc] = three();
    const slot = (s: string): number => mhHashkey(ip4(s), 0, MH_HASH1, 0) % IP_VS_MH_TAB_SIZE;
    expect([slot('203.0.113.7'), slot('198.51.100.20'), slot('192.0.2.55')]).toEqual([1705, 2366, 3792]);
    expect([from(svc, '203.0.113.7', 5555), from(svc, '198.51.100.20'), from(svc, '192.0.2.55')]).toEqual(['10.1.0.1', '10.1.0.1', '10.1.0.3']);
  });
  it('deleting RS2 rebuilds: 2047 / 2046 slots, the three clients keep their servers', () => {
    const [svc, [, rs2]] = three();
    delDest(svc, rs2!);
    expect(counts(svc)).toEqual([2047, 2046]);
    expect([from(svc, '203.0.113.7'), from(svc, '198.51.100.20'), from(svc, '192.0.2.55')]).toEqual(['10.1.0.1', '10.1.0.1', '10.1.0.3']);
  });
  it('weights RS2=3, RS1=1 give 3 and 1 turns: 3070 / 1023 slots', () => {
    const svc = makeService(mhScheduler);
    addDest(svc, '10.1.0.1', { weight: 1 });
    addDest(svc, '10.1.0.2', { weight: 3 });
    expect(counts(svc)).toEqual([3070, 1023]);
  });
  it('large weights are shifted down: turns = (lw / gcd) >> (fls(max/gcd) - 6)', () => {
    const svc = makeService(mhScheduler);
    addDest(svc, '10.1.0.1', { weight: 1 });
    const b = addDest(svc, '10.1.0.2', { weight: 200 }); // fls(200) = 8, rshift 2: turns 50 and (0 -> 1)
    expect(mhPermutation(b, 1, 2).turns).toBe(50);
    expect(mhPermutation(svc.dests[1]!, 1, 2).turns).toBe(1);
    const [nb, na] = counts(svc);
    expect(nb! + na!).toBe(IP_VS_MH_TAB_SIZE);
    expect(nb! / na!).toBeGreaterThan(40);
  });
  it('quiescing RS1 (weight 0, last_weight 1) keeps its slots: null without mh-fallback', () => {
    const [svc, [rs1]] = three();
    editDest(svc, rs1!, { weight: 0 });
    expect(rs1!.lastWeight).toBe(1);
    expect(counts(svc)).toEqual([1365, 1364, 1364]);
    expect(from(svc, '203.0.113.7')).toBe('none');
    expect(from(svc, '192.0.2.55')).toBe('10.1.0.3');
  });
  it('mh-fallback, RS1 quiesced, client 203.0.113.7: ih 1705 -> re-hash with roffset 1705 -> slot 434 -> RS2', () => {
    const [svc, [rs1]] = three(IP_VS_SVC_F_SCHED_MH_FALLBACK);
    editDest(svc, rs1!, { weight: 0 });
    const { ctx: c, rec } = explainCtx();
    expect(name(mhScheduler.schedule(svc, pkt('203.0.113.7'), c))).toBe('10.1.0.2');
    expect(rec.detail).toMatchObject({ slot: 1705, fallback_slot: 434, probes: 1 });
  });
  it('mh-fallback also steps over OVERLOADed dests', () => {
    const [svc, [rs1]] = three(IP_VS_SVC_F_SCHED_MH_FALLBACK);
    setOverload(rs1!, true);
    expect(from(svc, '203.0.113.7')).toBe('10.1.0.2');
  });
  it('mh-port hashes addr + source port', () => {
    const [svc] = three(IP_VS_SVC_F_SCHED_MH_PORT);
    const results = new Set<string>();
    for (const port of [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]) {
      const { ctx: c, rec } = explainCtx();
      const d = mhScheduler.schedule(svc, pkt('203.0.113.7', port), c);
      expect(rec.detail.slot).toBe(hsiphash32((ip4('203.0.113.7') + port) >>> 0, MH_HASH1) % IP_VS_MH_TAB_SIZE);
      results.add(name(d));
    }
    expect(results.size).toBeGreaterThan(1);
  });
  it('all last weights 0: the table is empty and every client gets null', () => {
    const svc = makeService(mhScheduler);
    addDest(svc, '10.1.0.1', { weight: 0 });
    expect(counts(svc)).toEqual([0]);
    expect(from(svc, '203.0.113.7')).toBe('none');
    editDest(svc, svc.dests[0]!, { weight: 2 });
    expect(from(svc, '203.0.113.7')).toBe('10.1.0.1');
  });
});
