/**
 * sim/engine.ts: events run in (time, scheduling order), closures and coded events share one
 * order, cancelled events are skipped and not counted, and Timer behaves like the kernel's
 * mod_timer()/del_timer().
 */
import { describe, expect, it } from 'vitest';
import { Engine, Timer, type EventReceiver, type Ns } from '../../src/sim/engine';

class Recorder implements EventReceiver {
  readonly log: string[] = [];
  onEvent(code: number, now: Ns): void {
    this.log.push(`${now}:c${code}`);
  }
}

describe('Engine ordering', () => {
  it('runs events in time order and ties in the order they were scheduled', () => {
    const e = new Engine();
    const log: string[] = [];
    e.at(20, () => log.push('b'));
    e.at(10, () => log.push('a'));
    e.at(20, () => log.push('c'));
    e.at(20, () => log.push('d'));
    e.run();
    expect(log).toEqual(['a', 'b', 'c', 'd']);
    expect(e.now).toBe(20);
    expect(e.processed).toBe(4);
  });

  it('puts closures and coded events in one (time, sequence) order', () => {
    const e = new Engine();
    const r = new Recorder();
    e.atCode(5, r, 1);
    e.at(5, (now) => r.log.push(`${now}:fn`));
    e.atCode(5, r, 2);
    e.atCode(3, r, 0);
    e.run();
    expect(r.log).toEqual(['3:c0', '5:c1', '5:fn', '5:c2']);
  });

  it('orders postCode events with the rest, and refuses what atCode refuses', () => {
    const e = new Engine();
    const r = new Recorder();
    e.atCode(5, r, 1);
    e.postCode(5, r, 7);
    e.at(5, (now) => r.log.push(`${now}:fn`));
    e.postCode(2, r, 8);
    e.run();
    expect(r.log).toEqual(['2:c8', '5:c1', '5:c7', '5:fn']);
    expect(() => e.postCode(-1, r, 0)).toThrow(RangeError);
    expect(() => e.postCode(1, r, 1.5)).toThrow(RangeError);
  });

  it('runs an event scheduled for now, from inside a handler, after the ones already due', () => {
    const e = new Engine();
    const log: string[] = [];
    e.at(7, () => {
      log.push('first');
      e.after(0, () => log.push('zero-delay'));
    });
    e.at(7, () => log.push('second'));
    e.run();
    expect(log).toEqual(['first', 'second', 'zero-delay']);
  });

  it('keeps order for times far beyond a 32-bit ns counter', () => {
    const e = new Engine();
    const r = new Recorder();
    const big = 2 ** 50;
    e.atCode(big + 1, r, 2);
    e.atCode(big, r, 1);
    e.atCode(1, r, 0);
    e.atCode(big, r, 3);
    e.run();
    expect(r.log).toEqual(['1:c0', `${big}:c1`, `${big}:c3`, `${big + 1}:c2`]);
  });

  it('refuses to schedule in the past', () => {
    const e = new Engine();
    e.at(100, () => {});
    e.run();
    expect(() => e.at(99, () => {})).toThrow(RangeError);
    expect(() => e.atCode(99, new Recorder(), 0)).toThrow(RangeError);
    expect(() => e.atCode(NaN, new Recorder(), 0)).toThrow(RangeError);
    expect(() => e.atCode(100, new Recorder(), -1)).toThrow(RangeError);
    expect(() => e.atCode(100, new Recorder(), 1.5)).toThrow(RangeError);
  });
});

describe('Engine cancellation', () => {
  it('skips a cancelled closure and does not count it', () => {
    const e = new Engine();
    const log: string[] = [];
    const h = e.at(10, () => log.push('cancelled'));
    e.at(10, () => log.push('kept'));
    e.cancel(h);
    expect(h.cancelled).toBe(true);
    expect(e.pending).toBe(2);
    e.run();
    expect(log).toEqual(['kept']);
    expect(e.processed).toBe(1);
  });

  it('skips a cancelled coded event; a ticket that already ran is ignored', () => {
    const e = new Engine();
    const r = new Recorder();
    const t1 = e.atCode(1, r, 1);
    const t2 = e.atCode(2, r, 2);
    e.atCode(3, r, 3);
    e.cancelCode(t2);
    e.run(1);
    expect(r.log).toEqual(['1:c1']);
    e.cancelCode(t1); // already ran: its slot may now hold another event, which must survive
    const t4 = e.atCode(4, r, 4);
    expect(t4).not.toBe(t1);
    e.run();
    expect(r.log).toEqual(['1:c1', '3:c3', '4:c4']);
    expect(e.processed).toBe(3);
  });

  it('peekTime looks past cancelled events', () => {
    const e = new Engine();
    const h = e.at(5, () => {});
    e.atCode(9, new Recorder(), 0);
    expect(e.peekTime()).toBe(5);
    e.cancel(h);
    expect(e.peekTime()).toBe(9);
    e.run();
    expect(e.peekTime()).toBe(Infinity);
  });

  it('step runs exactly one live event', () => {
    const e = new Engine();
    const log: number[] = [];
    e.cancel(e.at(1, () => log.push(1)));
    e.at(2, () => log.push(2));
    expect(e.step()).toBe(true);
    expect(log).toEqual([2]);
    expect(e.now).toBe(2);
    expect(e.step()).toBe(false);
  });
});

describe('Engine.run(until)', () => {
  it('runs events up to and including `until`, then sets now to `until`', () => {
    const e = new Engine();
    const log: number[] = [];
    for (const t of [5, 10, 15]) e.at(t, (now) => log.push(now));
    e.run(10);
    expect(log).toEqual([5, 10]);
    expect(e.now).toBe(10);
    e.run(12);
    expect(e.now).toBe(12);
    e.at(13, (now) => log.push(now)); // between now and the pending event
    e.run();
    expect(log).toEqual([5, 10, 13, 15]);
  });

  it('does not run a live event beyond `until` when a cancelled one is due before it', () => {
    const e = new Engine();
    const log: number[] = [];
    e.cancel(e.at(5, () => log.push(5)));
    e.at(20, () => log.push(20));
    e.run(10);
    expect(log).toEqual([]);
    expect(e.now).toBe(10);
  });
});

describe('Timer (mod_timer / del_timer)', () => {
  it('fires once at its expiry', () => {
    const e = new Engine();
    const fired: number[] = [];
    const t = new Timer(e, (now) => fired.push(now));
    t.mod(100);
    expect(t.armed).toBe(true);
    expect(t.expiry).toBe(100);
    e.run();
    expect(fired).toEqual([100]);
    expect(t.armed).toBe(false);
  });

  it('re-arming later queues no new event and fires at the new deadline', () => {
    const e = new Engine();
    const fired: number[] = [];
    const t = new Timer(e, (now) => fired.push(now));
    t.mod(100);
    t.mod(300);
    t.mod(250);
    expect(e.pending).toBe(1);
    e.run();
    expect(fired).toEqual([250]);
  });

  it('re-arming earlier fires at the earlier time, once', () => {
    const e = new Engine();
    const fired: number[] = [];
    const t = new Timer(e, (now) => fired.push(now));
    t.mod(300);
    t.mod(100);
    e.run();
    expect(fired).toEqual([100]);
    expect(e.processed).toBe(1);
  });

  it('del() stops it; mod() after del() arms it again', () => {
    const e = new Engine();
    const fired: number[] = [];
    const t = new Timer(e, (now) => fired.push(now));
    t.mod(100);
    t.del();
    expect(t.armed).toBe(false);
    e.run(150);
    expect(fired).toEqual([]);
    t.mod(200);
    e.run();
    expect(fired).toEqual([200]);
  });

  it('can be re-armed from its own callback (a periodic timer)', () => {
    const e = new Engine();
    const fired: number[] = [];
    const t: Timer = new Timer(e, (now) => {
      fired.push(now);
      if (fired.length < 3) t.mod(now + 10);
    });
    t.mod(10);
    e.run();
    expect(fired).toEqual([10, 20, 30]);
  });

  it('keeps its place among same-time events by when it was (re-)queued', () => {
    const e = new Engine();
    const log: string[] = [];
    const t = new Timer(e, () => log.push('timer'));
    t.mod(50);
    e.at(50, () => log.push('event'));
    e.run();
    expect(log).toEqual(['timer', 'event']);
  });
});

describe('Engine.rng', () => {
  it('gives the same named stream for the same seed', () => {
    expect(new Engine(3).rng('x').nextU32()).toBe(new Engine(3).rng('x').nextU32());
    expect(new Engine(3).rng('x').nextU32()).not.toBe(new Engine(4).rng('x').nextU32());
  });
});

describe('Engine after peeking past cancelled events', () => {
  it('still orders events scheduled between now and a dropped cancelled event', () => {
    const e = new Engine();
    const log: number[] = [];
    for (let i = 0; i < 100; i++) e.at(1_000 + i * 1_000_000, (now) => log.push(now));
    e.run(1_000);
    const far = e.at(5_000_000_000, () => log.push(-1));
    e.at(6_000_000_000, (now) => log.push(now));
    e.cancel(far);
    e.run(3_000_000_000); // drains the near events; peekTime then drops the cancelled one
    expect(e.peekTime()).toBe(6_000_000_000);
    e.at(3_500_000_000, (now) => log.push(now));
    e.at(3_500_000_000, (now) => log.push(now + 1));
    e.run();
    expect(log.slice(-3)).toEqual([3_500_000_000, 3_500_000_001, 6_000_000_000]);
    expect(log).toHaveLength(103);
  });
});
