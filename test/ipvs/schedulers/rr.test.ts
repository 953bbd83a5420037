import { describe, expect, it } from 'vitest';
import { rrScheduler } from '../../../src/ipvs/schedulers/rr';
import { addDest, addDests, ctx, delDest, editDest, explainCtx, makeService, name, picks, pkt, setOverload } from './helpers';

describe('ip_vs_rr_schedule', () => {
  it('walks the list in kernel order: most recently added first', () => {
    const svc = makeService(rrScheduler);
    addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    expect(picks(svc, 7)).toEqual(['10.1.0.3', '10.1.0.2', '10.1.0.1', '10.1.0.3', '10.1.0.2', '10.1.0.1', '10.1.0.3']);
  });

  it('skips a dest set to weight 0 after the first pick (reference example)', () => {
    const svc = makeService(rrScheduler);
    const [, rs2] = addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    expect(picks(svc, 1)).toEqual(['10.1.0.3']);
    editDest(svc, rs2!, { weight: 0 });
    expect(picks(svc, 4)).toEqual(['10.1.0.1', '10.1.0.3', '10.1.0.1', '10.1.0.3']);
  });

  it('ignores weights other than 0', () => {
    const svc = makeService(rrScheduler);
    addDest(svc, '10.1.0.1', { weight: 5 });
    addDest(svc, '10.1.0.2', { weight: 1 });
    expect(picks(svc, 4)).toEqual(['10.1.0.2', '10.1.0.1', '10.1.0.2', '10.1.0.1']);
  });

  it('skips overloaded dests and returns null when nothing is eligible', () => {
    const svc = makeService(rrScheduler);
    const [a, b] = addDests(svc, ['10.1.0.1', '10.1.0.2']);
    setOverload(b!, true);
    expect(picks(svc, 2)).toEqual(['10.1.0.1', '10.1.0.1']);
    setOverload(a!, true);
    expect(picks(svc, 1)).toEqual(['none']);
    setOverload(b!, false);
    expect(picks(svc, 2)).toEqual(['10.1.0.2', '10.1.0.2']);
  });

  it('returns null on an empty service', () => {
    const svc = makeService(rrScheduler);
    expect(picks(svc, 1)).toEqual(['none']);
  });

  it('moves the cursor to the previous node when the current one is deleted (list A,B,C, cursor B, delete B: next is C)', () => {
    const svc = makeService(rrScheduler);
    const [c, b] = addDests(svc, ['10.1.0.3', '10.1.0.2', '10.1.0.1']); // list A(.1), B(.2), C(.3)
    expect(picks(svc, 2)).toEqual(['10.1.0.1', '10.1.0.2']);
    delDest(svc, b!);
    expect(picks(svc, 3)).toEqual(['10.1.0.3', '10.1.0.1', '10.1.0.3']);
    void c;
  });

  it('deleting the head-most dest while it is the cursor goes back to the list head', () => {
    const svc = makeService(rrScheduler);
    const [, , a] = addDests(svc, ['10.1.0.3', '10.1.0.2', '10.1.0.1']);
    expect(picks(svc, 1)).toEqual(['10.1.0.1']);
    delDest(svc, a!);
    expect(picks(svc, 3)).toEqual(['10.1.0.2', '10.1.0.3', '10.1.0.2']);
  });

  it('a dest added mid-run is linked at the head: seen after the walk wraps', () => {
    const svc = makeService(rrScheduler);
    addDests(svc, ['10.1.0.1', '10.1.0.2']); // list .2, .1
    expect(picks(svc, 1)).toEqual(['10.1.0.2']);
    addDest(svc, '10.1.0.3'); // list .3, .2, .1 with cursor still on .2
    expect(picks(svc, 4)).toEqual(['10.1.0.1', '10.1.0.3', '10.1.0.2', '10.1.0.1']);
  });

  it('deleting a dest before the cursor does not disturb the walk', () => {
    const svc = makeService(rrScheduler);
    const [, , c3] = addDests(svc, ['10.1.0.1', '10.1.0.2', '10.1.0.3']); // list .3 .2 .1
    expect(picks(svc, 2)).toEqual(['10.1.0.3', '10.1.0.2']);
    delDest(svc, c3!);
    expect(picks(svc, 3)).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.1']);
  });

  it('re-picks the cursor dest itself when it is the only eligible one', () => {
    const svc = makeService(rrScheduler);
    addDests(svc, ['10.1.0.1']);
    const b = addDest(svc, '10.1.0.2', { weight: 0 });
    expect(picks(svc, 3)).toEqual(['10.1.0.1', '10.1.0.1', '10.1.0.1']);
    void b;
  });

  it('explains the pick and the skipped dests', () => {
    const svc = makeService(rrScheduler);
    addDest(svc, '10.1.0.1');
    addDest(svc, '10.1.0.2', { weight: 0 });
    const { ctx: c, rec } = explainCtx();
    expect(name(rrScheduler.schedule(svc, pkt(), c))).toBe('10.1.0.1');
    expect(rec.candidates.map((x) => [x.dest, x.skipped])).toEqual([
      ['10.1.0.2:80', 'weight 0'],
      ['10.1.0.1:80', undefined],
    ]);
    expect(rec.detail.cursor).toBe('head');
    expect(rec.summary).toHaveLength(1);
    void ctx;
  });
});
