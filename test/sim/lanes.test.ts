/**
 * sim/engine.ts lanes and TimerSet: whatever mix of the queue (atCode, postCode, closures),
 * fixed-delay lanes (postAfter, postLane), stream lanes (postStream) and cancellations a
 * caller makes, events run in exactly the (time, scheduling order) one plain queue would give;
 * and a TimerSet fires each timer once, at its deadline, however it was re-armed (mod,
 * modAfter, del) and whichever lane or queue its event waited in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, NS_PER_S, TimerSet, type EventReceiver, type Ns } from '../../src/sim/engine';

/** A small deterministic PRNG for the decisions taken inside handlers. */
function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pending { t: Ns; seq: number; id: number; dead: boolean; cancel: (() => void) | null }

/**
 * Drive an engine with random scheduling from inside its own events and check each event it
 * runs against a reference: the live pending event with the least (time, sequence), where
 * every scheduling call takes the next sequence number.
 */
function checkAgainstReference(seed: number, events: number): void {
  const rnd = prng(seed);
  const e = new Engine(1);
  const delays = [0, 1000, 2500, 7000];
  const stream = e.stream();
  let streamLast = 0;
  const pending: Pending[] = [];
  let seq = 0;
  let nextId = 0;
  let ran = 0;
  const ranIds: number[] = [];
  const expected: number[] = [];

  const receiver: EventReceiver = { onEvent: (code) => handle(code) };

  /** The reference's record of a scheduling call; `cancel` null for events that have no ticket. */
  function take(t: Ns, cancel: ((p: Pending) => void) | null): Pending {
    const p: Pending = { t, seq: seq++, id: nextId++, dead: false, cancel: null };
    if (cancel !== null) p.cancel = () => { p.dead = true; cancel(p); };
    pending.push(p);
    return p;
  }

  function schedule(): void {
    const kind = Math.floor(rnd() * 6);
    const now = e.now;
    switch (kind) {
      case 0: { // queue, with a ticket
        const t = now + Math.floor(rnd() * 5000);
        const p = take(t, () => e.cancelCode(ticket));
        const ticket = e.atCode(t, receiver, p.id);
        break;
      }
      case 1: { // queue, no ticket
        const d = Math.floor(rnd() * 5000);
        take(now + d, null);
        e.postCode(d, receiver, nextId - 1);
        break;
      }
      case 2: { // closure
        const t = now + Math.floor(rnd() * 5000);
        const p = take(t, () => e.cancel(h));
        const id = p.id;
        const h = e.at(t, () => handle(id));
        break;
      }
      case 3: case 4: { // a fixed-delay lane, cancellable by position
        const d = delays[Math.floor(rnd() * delays.length)]!;
        const lane = e.lane(d)!;
        const p = take(now + d, () => e.cancelLane(lane.id, pos));
        const pos = e.postLane(lane, receiver, p.id);
        break;
      }
      case 5: { // the stream: in order mostly, sometimes earlier than its last (then the queue)
        const t = rnd() < 0.8 ? Math.max(now, streamLast) + Math.floor(rnd() * 3000) : now + Math.floor(rnd() * 1000);
        streamLast = Math.max(streamLast, t);
        take(t, null);
        e.postStream(stream, t, receiver, nextId - 1);
        break;
      }
    }
  }

  function handle(id: number): void {
    ranIds.push(id);
    ran++;
    // what the reference says comes next
    let best: Pending | null = null;
    for (const p of pending) if (!p.dead && (best === null || p.t < best.t || (p.t === best.t && p.seq < best.seq))) best = p;
    expected.push(best!.id);
    best!.dead = true;
    pending.splice(pending.indexOf(best!), 1);
    if (ran >= events) return;
    const n = Math.floor(rnd() * 3) + (pending.length < 4 ? 1 : 0);
    for (let i = 0; i < n; i++) schedule();
    if (rnd() < 0.2) {
      const cancellable = pending.filter((p) => !p.dead && p.cancel !== null);
      if (cancellable.length) {
        const p = cancellable[Math.floor(rnd() * cancellable.length)]!;
        p.cancel!();
        pending.splice(pending.indexOf(p), 1);
      }
    }
  }

  for (let i = 0; i < 8; i++) schedule();
  e.run();
  expect(ranIds).toEqual(expected);
  expect(pending.filter((p) => !p.dead)).toEqual([]);
}

describe('lanes keep the one queue order', () => {
  it('a random mix of queue, lane, stream and closure events, with cancellations, runs in (time, sequence) order', () => {
    fc.assert(fc.property(fc.integer(), (seed) => checkAgainstReference(seed, 400)), { numRuns: 150 });
  });

  it('a stream lane takes events in time order and sends an earlier one through the queue', () => {
    const e = new Engine(1);
    const log: string[] = [];
    const r: EventReceiver = { onEvent: (code, now) => log.push(`${now}:${code}`) };
    const s = e.stream()!;
    e.postStream(s, 10, r, 1);
    e.postStream(s, 30, r, 2);
    e.postStream(s, 20, r, 3); // earlier than the stream's last: the queue
    e.atCode(20, r, 4);
    e.postStream(s, 30, r, 5);
    e.run();
    expect(log).toEqual(['10:1', '20:3', '20:4', '30:2', '30:5']);
    expect(() => e.postStream(s, 5, r, 6)).toThrow(RangeError);
  });

  it('a cancelled first record of a lane does not hold back the lanes behind it', () => {
    const e = new Engine(1);
    const log: number[] = [];
    const r: EventReceiver = { onEvent: (code) => log.push(code) };
    const a = e.lane(100)!;
    const b = e.lane(200)!;
    const pa = e.postLane(a, r, 1); // t=100
    e.postLane(b, r, 2); // t=200
    e.cancelLane(a.id, pa);
    e.atCode(150, r, 3);
    e.run();
    expect(log).toEqual([3, 2]);
    expect(e.processed).toBe(2);
  });
});

describe('TimerSet', () => {
  /** Random arming from inside timer callbacks and other events; each fire must be at its deadline. */
  function checkTimers(seed: number): void {
    const rnd = prng(seed);
    const e = new Engine(1);
    const N = 12;
    const deadline = new Array<number>(N).fill(-1);
    const fired: [number, Ns][] = [];
    const timers = new TimerSet(e, (i, now) => {
      fired.push([i, now]);
      expect(deadline[i]).toBe(now);
      deadline[i] = -1;
      act();
    });
    const delays = [50, 120, 900, 333];
    let ops = 0;
    function act(): void {
      if (++ops > 600) return;
      const i = Math.floor(rnd() * N);
      const k = rnd();
      if (k < 0.4) {
        const d = delays[Math.floor(rnd() * delays.length)]!;
        timers.modAfter(i, d);
        deadline[i] = e.now + d;
      } else if (k < 0.8) {
        const at = e.now + Math.floor(rnd() * 1000);
        timers.mod(i, at);
        deadline[i] = at;
      } else {
        timers.del(i);
        deadline[i] = -1;
      }
      expect(timers.armed(i)).toBe(deadline[i]! >= 0);
      expect(timers.expiry(i)).toBe(deadline[i]);
    }
    timers.reserve(N);
    const tick: EventReceiver = {
      onEvent: () => {
        act();
        act();
        if (ops < 600) e.postAfter(37, tick, 0);
      },
    };
    e.postAfter(37, tick, 0);
    e.run();
    // every timer still armed when the events ran out would have fired: none is left
    expect(deadline.every((d) => d === -1)).toBe(true);
    expect(fired.length).toBeGreaterThan(0);
  }

  it('fires each timer once, at its deadline, however it was re-armed', () => {
    fc.assert(fc.property(fc.integer(), (seed) => checkTimers(seed)), { numRuns: 100 });
  });

  it('a timer whose delay changes moves to the new lane and fires at its deadline with no early event', () => {
    const e = new Engine(1);
    const fired: Ns[] = [];
    const t = new TimerSet(e, (_i, now) => fired.push(now));
    t.reserve(1);
    const r: EventReceiver = { onEvent: (code) => { if (code === 1) t.modAfter(0, 120); } };
    t.modAfter(0, 60); // queued at 60 in the 60 lane
    e.atCode(10, r, 1); // at 10: 120 later, a new delay: moves to the 120 lane, deadline 130
    e.run();
    expect(fired).toEqual([130]);
    expect(e.processed).toBe(2); // the handler and the one timer event: nothing fired early at 60
  });

  it('a timer re-armed later with the same short delay moves to its deadline: one event, no early one', () => {
    const e = new Engine(1);
    const fired: Ns[] = [];
    const t = new TimerSet(e, (_i, now) => fired.push(now));
    t.reserve(1);
    const r: EventReceiver = { onEvent: () => t.modAfter(0, 100) };
    t.modAfter(0, 100); // queued at 100 in the 100 lane
    e.atCode(25, r, 0); // deadline 125: the record at 100 dies, a new one waits for 125
    e.run();
    expect(fired).toEqual([125]);
    expect(e.processed).toBe(2); // the handler and the one timer event
  });

  it('a timer re-armed with the same long delay waits lazily and re-queues through a lane with exactly the delay left', () => {
    const e = new Engine(1);
    const fired: Ns[] = [];
    const t = new TimerSet(e, (_i, now) => fired.push(now));
    t.reserve(1);
    const long = 900 * NS_PER_S; // ESTABLISHED's: longer than any delay a timer moves for
    e.lane(25); // some caller's lane with delay 25
    const r: EventReceiver = { onEvent: () => t.modAfter(0, long) };
    t.modAfter(0, long); // queued at 900 s
    e.atCode(25, r, 0); // deadline 900 s + 25: lazy; at 900 s the event finds 25 left: the 25 lane
    e.run();
    expect(fired).toEqual([long + 25]);
    expect(e.processed).toBe(3);
  });
});
