import { describe, expect, it } from 'vitest';
import { foScheduler } from '../../../src/ipvs/schedulers/fo';
import { lcScheduler } from '../../../src/ipvs/schedulers/lc';
import { nqScheduler } from '../../../src/ipvs/schedulers/nq';
import { ovfScheduler } from '../../../src/ipvs/schedulers/ovf';
import { sedScheduler } from '../../../src/ipvs/schedulers/sed';
import { wlcScheduler } from '../../../src/ipvs/schedulers/wlc';
import { rrScheduler } from '../../../src/ipvs/schedulers/rr';
import { IP_VS_DEST_F_OVERLOAD, type Dest, type Scheduler, type Service } from '../../../src/ipvs/types';
import { addDest, addDests, explainCtx, makeService, name, picks, pkt } from './helpers';

type Spec = [string, { weight?: number; active?: number; inact?: number; overload?: boolean }];

/** A service whose list order is exactly `spec` (first = head). */
function listOf(sched: Scheduler, spec: Spec[]): Service {
  const svc = makeService(sched);
  for (let i = spec.length - 1; i >= 0; i--) addDest(svc, spec[i]![0], spec[i]![1]);
  return svc;
}

const pick = (sched: Scheduler, spec: Spec[]): string => picks(listOf(sched, spec), 1)[0]!;

describe('ip_vs_lc_schedule', () => {
  it('A(a1)=256, B(i200)=200, C(i300)=300 -> B', () => {
    expect(pick(lcScheduler, [['10.0.0.1', { active: 1 }], ['10.0.0.2', { inact: 200 }], ['10.0.0.3', { inact: 300 }]])).toBe('10.0.0.2');
  });
  it('all zero, list RS3,RS2,RS1 -> RS3 (most recently added)', () => {
    const svc = makeService(lcScheduler);
    addDests(svc, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(picks(svc, 1)).toEqual(['10.0.0.3']);
  });
  it('A weight 0 with 0 conns, B(a2) -> B', () => {
    expect(pick(lcScheduler, [['10.0.0.1', { weight: 0 }], ['10.0.0.2', { active: 2 }]])).toBe('10.0.0.2');
  });
  it('ignores weight values other than 0', () => {
    expect(pick(lcScheduler, [['10.0.0.1', { weight: 100, active: 1 }], ['10.0.0.2', { weight: 1, inact: 255 }]])).toBe('10.0.0.2');
  });
  it('skips overloaded dests; null when none is left', () => {
    expect(pick(lcScheduler, [['10.0.0.1', { overload: true }], ['10.0.0.2', { active: 9 }]])).toBe('10.0.0.2');
    expect(pick(lcScheduler, [['10.0.0.1', { overload: true }], ['10.0.0.2', { weight: 0 }]])).toBe('none');
  });
});

describe('ip_vs_sed_schedule', () => {
  it('A(w1,a0), B(w10,a1) -> B (wlc would pick A)', () => {
    const spec: Spec[] = [['10.0.0.1', { weight: 1 }], ['10.0.0.2', { weight: 10, active: 1 }]];
    expect(pick(sedScheduler, spec)).toBe('10.0.0.2');
    expect(pick(wlcScheduler, spec)).toBe('10.0.0.1');
  });
  it('A(w1,a1), B(w3,a5): tie 2*3 = 6*1 keeps A', () => {
    expect(pick(sedScheduler, [['10.0.0.1', { weight: 1, active: 1 }], ['10.0.0.2', { weight: 3, active: 5 }]])).toBe('10.0.0.1');
  });
  it('A(w2,a0,i500), B(w1,a0) -> A (inactive ignored)', () => {
    expect(pick(sedScheduler, [['10.0.0.1', { weight: 2, inact: 500 }], ['10.0.0.2', { weight: 1 }]])).toBe('10.0.0.1');
  });
  it('weight 0 cannot win; overloaded skipped; null when none', () => {
    expect(pick(sedScheduler, [['10.0.0.1', { weight: 1, active: 50 }], ['10.0.0.2', { weight: 0 }]])).toBe('10.0.0.1');
    expect(pick(sedScheduler, [['10.0.0.1', { weight: 1, overload: true }], ['10.0.0.2', { weight: 1, active: 3 }]])).toBe('10.0.0.2');
    expect(pick(sedScheduler, [['10.0.0.1', { weight: 0 }]])).toBe('none');
  });
});

describe('ip_vs_nq_schedule', () => {
  it('A(w5,a3), B(w1,a0) -> B (idle)', () => {
    expect(pick(nqScheduler, [['10.0.0.1', { weight: 5, active: 3 }], ['10.0.0.2', { weight: 1 }]])).toBe('10.0.0.2');
  });
  it('A(w4,a1), B(OVERLOAD,a0), C(w2,a1) -> A', () => {
    expect(
      pick(nqScheduler, [['10.0.0.1', { weight: 4, active: 1 }], ['10.0.0.2', { overload: true }], ['10.0.0.3', { weight: 2, active: 1 }]]),
    ).toBe('10.0.0.1');
  });
  it('A(w1,a0,i900), B(w9,a0) -> A (first idle; inactconns ignored)', () => {
    expect(pick(nqScheduler, [['10.0.0.1', { weight: 1, inact: 900 }], ['10.0.0.2', { weight: 9 }]])).toBe('10.0.0.1');
  });
  it('an idle weight-0 dest is skipped', () => {
    expect(pick(nqScheduler, [['10.0.0.1', { weight: 0 }], ['10.0.0.2', { weight: 1, active: 4 }]])).toBe('10.0.0.2');
  });
});

describe('ip_vs_fo_schedule', () => {
  const spec: Spec[] = [['10.0.0.1', { weight: 5 }], ['10.0.0.2', { weight: 10 }], ['10.0.0.3', { weight: 10 }]];
  it('A(w5) B(w10) C(w10) -> B (tie keeps the earlier)', () => expect(pick(foScheduler, spec)).toBe('10.0.0.2'));
  it('B overloaded -> C', () => {
    const s2: Spec[] = spec.map(([a, o]) => [a, a === '10.0.0.2' ? { ...o, overload: true } : o]);
    expect(pick(foScheduler, s2)).toBe('10.0.0.3');
  });
  it('all weight 0 -> null', () => expect(pick(foScheduler, [['10.0.0.1', { weight: 0 }], ['10.0.0.2', { weight: 0 }]])).toBe('none'));
  it('ignores connection counts', () => expect(pick(foScheduler, [['10.0.0.1', { weight: 2, active: 1000 }], ['10.0.0.2', { weight: 1 }]])).toBe('10.0.0.1'));
});

describe('ip_vs_ovf_schedule', () => {
  it('A(w3,a3), B(w1,a0) -> A (3 > 3 is false)', () => {
    expect(pick(ovfScheduler, [['10.0.0.1', { weight: 3, active: 3 }], ['10.0.0.2', { weight: 1 }]])).toBe('10.0.0.1');
  });
  it('A(w3,a4), B(w1,a0) -> B', () => {
    expect(pick(ovfScheduler, [['10.0.0.1', { weight: 3, active: 4 }], ['10.0.0.2', { weight: 1 }]])).toBe('10.0.0.2');
  });
  it('A(w3,a4), B(w1,a2) -> null', () => {
    expect(pick(ovfScheduler, [['10.0.0.1', { weight: 3, active: 4 }], ['10.0.0.2', { weight: 1, active: 2 }]])).toBe('none');
  });
  it('fills the heaviest dest to weight + 1 active, then overflows', () => {
    const svc = listOf(ovfScheduler, [['10.0.0.1', { weight: 2 }], ['10.0.0.2', { weight: 1 }]]);
    expect(picks(svc, 6, undefined, undefined, true)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2', 'none']);
  });
});

/**
 * The connection layer's threshold rules (ip_vs_bind_dest / ip_vs_unbind_dest in
 * net/netfilter/ipvs/ip_vs_conn.c), done by hand here: OVERLOAD is
 * set on bind when u_threshold && total >= u_threshold, cleared on unbind by l_threshold, or
 * u*3/4, or unconditionally.
 */
function bind(d: Dest): void {
  d.activeconns++;
  if (d.uThreshold !== 0 && d.activeconns + d.inactconns >= d.uThreshold) d.flags |= IP_VS_DEST_F_OVERLOAD;
}
function unbind(d: Dest): void {
  d.activeconns--;
  const total = d.activeconns + d.inactconns;
  const clear = d.lThreshold !== 0 ? total < d.lThreshold : d.uThreshold !== 0 ? total * 4 < d.uThreshold * 3 : true;
  if (clear) d.flags &= ~IP_VS_DEST_F_OVERLOAD;
}

describe('thresholds and the OVERLOAD flag (set by the connection layer)', () => {
  it('wlc stops using a dest at its upper threshold and resumes below the lower one', () => {
    const svc = makeService(wlcScheduler);
    const b = addDest(svc, '10.0.0.2', { weight: 1 });
    const a = addDest(svc, '10.0.0.1', { weight: 10, u: 2, l: 1 });
    const out: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = wlcScheduler.schedule(svc, pkt(), explainCtx().ctx)!;
      bind(d);
      out.push(name(d));
    }
    // a (0 vs 0: tie keeps a), b (256*1 > 0*10), a (256*1 > 256*10 is false), then a is at u=2
    expect(out).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.2']);
    expect(a.flags & IP_VS_DEST_F_OVERLOAD).toBeTruthy();
    unbind(a); // total 1, not < l 1
    expect(picks(svc, 1)).toEqual(['10.0.0.2']);
    unbind(a); // total 0 < 1: cleared
    expect(picks(svc, 1)).toEqual(['10.0.0.1']);
    void b;
  });

  it('rr skips the overloaded dest; without l_threshold it clears at total*4 < u*3', () => {
    const svc = makeService(rrScheduler);
    const b = addDest(svc, '10.0.0.2');
    const a = addDest(svc, '10.0.0.1', { u: 4 });
    const run = (n: number): string[] => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const d = rrScheduler.schedule(svc, pkt(), explainCtx().ctx);
        if (d) bind(d);
        out.push(name(d));
      }
      return out;
    };
    a.activeconns = 2;
    expect(run(4)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.2']); // a reaches 4: overloaded
    expect(run(2)).toEqual(['10.0.0.2', '10.0.0.2']);
    unbind(a); // 3*4 < 12? no
    expect(run(1)).toEqual(['10.0.0.2']);
    unbind(a); // 2*4 < 12: cleared
    expect(run(2)).toEqual(['10.0.0.1', '10.0.0.2']);
    void b;
  });
});

describe('explain sinks', () => {
  it('every stateless scheduler writes exactly one summary and reports each dest', () => {
    for (const s of [lcScheduler, sedScheduler, nqScheduler, foScheduler, ovfScheduler, wlcScheduler]) {
      const svc = listOf(s, [['10.0.0.1', { weight: 1, active: 2 }], ['10.0.0.2', { weight: 0 }], ['10.0.0.3', { weight: 2, active: 1 }]]);
      const { ctx, rec } = explainCtx();
      s.schedule(svc, pkt(), ctx);
      expect(rec.summary, s.name).toHaveLength(1);
      expect(rec.candidates.length, s.name).toBe(3);
    }
  });
  it('null picks carry the kernel log text', () => {
    for (const s of [lcScheduler, sedScheduler, nqScheduler, foScheduler, ovfScheduler, wlcScheduler, rrScheduler]) {
      const svc = listOf(s, [['10.0.0.1', { weight: 0 }]]);
      const { ctx, rec } = explainCtx();
      expect(s.schedule(svc, pkt(), ctx), s.name).toBeNull();
      expect(rec.detail.error, s.name).toBe('no destination available');
      expect(rec.summary, s.name).toHaveLength(1);
    }
  });
});
