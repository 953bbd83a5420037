import { describe, expect, it } from 'vitest';
import { lblcScheduler } from '../../../src/ipvs/schedulers/lblc';
import { lblcrScheduler, type LblcrTable } from '../../../src/ipvs/schedulers/lblcr';
import type { Service } from '../../../src/ipvs/types';
import { addDest, addDests, ctx, delDest, editDest, explainCtx, makeService, name, pkt, setOverload } from './helpers';

const S = 1_000_000_000;
const H = 3600 * S;
const at = (svc: Service, t: number, daddr = '10.0.0.100'): string => name(svc.scheduler.schedule(svc, pkt('198.51.100.9', 4000, daddr), ctx([], t)));

describe('ip_vs_lblc_schedule', () => {
  it('VIP 10.0.0.100 -> bucket 993; first connection by wlc (RS3), then the entry sticks', () => {
    const svc = makeService(lblcScheduler);
    const [rs1, , rs3] = addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    const { ctx: c, rec } = explainCtx();
    expect(name(lblcScheduler.schedule(svc, pkt(), c))).toBe('10.1.0.3');
    expect(rec.detail).toMatchObject({ bucket: 993, entry: 'none' });
    rs3!.activeconns = 1; // wlc would now prefer RS2, the entry keeps RS3 (1 > 1 is false)
    expect(at(svc, S)).toBe('10.1.0.3');
    void rs1;
  });

  it('rebinds when the cached dest is overloaded: RS3(w1,a2) while RS1(w4,a1) has 1*2 < 4', () => {
    const svc = makeService(lblcScheduler);
    const [rs1, rs2, rs3] = addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    rs1!.weight = 4;
    expect(at(svc, 0)).toBe('10.1.0.3');
    rs3!.activeconns = 2;
    rs2!.activeconns = 2;
    rs1!.activeconns = 1;
    expect(at(svc, S)).toBe('10.1.0.1'); // wlc: 512/1, 512/1, 256/4
    rs3!.activeconns = 0;
    expect(at(svc, 2 * S)).toBe('10.1.0.1'); // the entry now points at RS1
  });

  it('keeps an overloaded-by-count dest when no server is under half load', () => {
    const svc = makeService(lblcScheduler);
    const [rs1, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
    expect(at(svc, 0)).toBe('10.1.0.2');
    rs2!.activeconns = 5;
    rs1!.activeconns = 1; // 1*2 < 1 is false
    expect(at(svc, S)).toBe('10.1.0.2');
  });

  it('the OVERLOAD flag is not consulted for the cached dest but wlc skips it', () => {
    const svc = makeService(lblcScheduler);
    const [, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
    expect(at(svc, 0)).toBe('10.1.0.2');
    setOverload(rs2!, true);
    expect(at(svc, S)).toBe('10.1.0.2');
    editDest(svc, rs2!, { weight: 0 }); // weight 0 is: rebind by wlc
    expect(at(svc, 2 * S)).toBe('10.1.0.1');
  });

  it('a deleted (not AVAILABLE) dest is rejected and the entry rebound', () => {
    const svc = makeService(lblcScheduler);
    const [, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
    expect(at(svc, 0)).toBe('10.1.0.2');
    delDest(svc, rs2!);
    expect(at(svc, S)).toBe('10.1.0.1');
  });

  it('entries live per destination address', () => {
    const svc = makeService(lblcScheduler);
    const [rs1, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
    expect(at(svc, 0, '10.0.0.100')).toBe('10.1.0.2');
    rs2!.activeconns = 1;
    expect(at(svc, 0, '10.0.0.101')).toBe('10.1.0.1');
    rs1!.activeconns = 1;
    expect([at(svc, S, '10.0.0.100'), at(svc, S, '10.0.0.101')]).toEqual(['10.1.0.2', '10.1.0.1']);
  });

  it('the full check every 30 min drops entries unused for lblc_expiration (24 h)', () => {
    const mk = (): Service => {
      const svc = makeService(lblcScheduler);
      const [rs1, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
      expect(at(svc, 0)).toBe('10.1.0.2');
      rs2!.inactconns = 10; // wlc would pick RS1 if asked
      void rs1;
      return svc;
    };
    expect(at(mk(), 24 * H - 1)).toBe('10.1.0.2'); // full check at 23h30 keeps it
    expect(at(mk(), 24 * H + 1)).toBe('10.1.0.1'); // full check at exactly 24h drops it
    const kept = mk();
    expect(at(kept, 12 * H)).toBe('10.1.0.2'); // lastuse refreshed
    expect(at(kept, 24 * H + 1)).toBe('10.1.0.2');
    expect(at(kept, 48 * H + 31 * 60 * S)).toBe('10.1.0.1'); // lastuse 24h+1ns: dropped by the 48h30 full check
  });

  it('explains a cache hit and a rebind', () => {
    const svc = makeService(lblcScheduler);
    const [, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
    at(svc, 0);
    const hit = explainCtx([], S);
    lblcScheduler.schedule(svc, pkt(), hit.ctx);
    expect(hit.rec.detail.entry).toBe('10.1.0.2:80');
    expect(hit.rec.summary[0]).toContain('already bound');
    editDest(svc, rs2!, { weight: 0 });
    const miss = explainCtx([], 2 * S);
    expect(name(lblcScheduler.schedule(svc, pkt(), miss.ctx))).toBe('10.1.0.1');
    expect(miss.rec.summary[0]).toContain('weight 0');
  });
});

describe('ip_vs_lblcr_schedule', () => {
  const set = (svc: Service): string[] => [...(svc.schedData as LblcrTable).map.values()][0]!.set.list.map(name);

  it('set {RS1}; RS1(w1,a2) overloaded while RS2(w4,a0) idle -> wlc picks RS2 and the set becomes {RS2, RS1}', () => {
    const svc = makeService(lblcrScheduler);
    const rs2 = addDest(svc, '10.1.0.2', { weight: 4, active: 5 });
    const rs1 = addDest(svc, '10.1.0.1', { weight: 1 });
    expect(at(svc, 0)).toBe('10.1.0.1');
    expect(set(svc)).toEqual(['10.1.0.1']);
    rs1.activeconns = 2;
    rs2.activeconns = 0;
    expect(at(svc, S)).toBe('10.1.0.2');
    expect(set(svc)).toEqual(['10.1.0.2', '10.1.0.1']);
    // set_min over {RS2, RS1}: RS2 0/4 vs RS1 512/1
    expect(at(svc, 2 * S)).toBe('10.1.0.2');
    rs2.activeconns = 3; // 768/4 = 192 < 512: still RS2
    expect(at(svc, 3 * S)).toBe('10.1.0.2');
    rs1.activeconns = 0;
    expect(at(svc, 4 * S)).toBe('10.1.0.1');
  });

  it('set_min skips deleted (not AVAILABLE) and OVERLOADed members', () => {
    const svc = makeService(lblcrScheduler);
    const [rs1, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
    expect(at(svc, 0)).toBe('10.1.0.2');
    delDest(svc, rs2!);
    expect(at(svc, S)).toBe('10.1.0.1');
    expect(set(svc)).toEqual(['10.1.0.1', '10.1.0.2']);
    setOverload(rs1!, true);
    expect(at(svc, 2 * S)).toBe('none');
  });

  it('after lblcr_expiration without changes, the most loaded member is dropped from a set of two', () => {
    const svc = makeService(lblcrScheduler);
    const rs2 = addDest(svc, '10.1.0.2', { weight: 4, active: 5 });
    const rs1 = addDest(svc, '10.1.0.1', { weight: 1 });
    at(svc, 0);
    rs1.activeconns = 2;
    rs2.activeconns = 0;
    expect(at(svc, S)).toBe('10.1.0.2'); // set {RS2, RS1}, lastmod 1 s
    expect(at(svc, 24 * H + S)).toBe('10.1.0.2'); // not after lastmod + 24 h yet (equal)
    expect(set(svc)).toEqual(['10.1.0.2', '10.1.0.1']);
    expect(at(svc, 24 * H + S + 1)).toBe('10.1.0.2');
    expect(set(svc)).toEqual(['10.1.0.2']); // set_max = RS1 (512/1 > 0/4)
  });

  it('no entry and nothing available: null', () => {
    const svc = makeService(lblcrScheduler);
    addDest(svc, '10.1.0.1', { weight: 0 });
    expect(at(svc, 0)).toBe('none');
  });
});
