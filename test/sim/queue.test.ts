/**
 * sim/queue.ts: the calendar queue pops in exactly (time, insertion sequence) order, checked
 * against a plain reference (linear scan for the least (key, seq)) over seeded random
 * operations: equal keys, zero delays, bursts, far-future keys up to ~2^50 ns, keys earlier
 * than the last pop, and sizes that make the queue rebuild its geometry in every direction.
 * Pops mix popSlot and discardFront.
 */
import { describe, expect, it } from 'vitest';
import { EventQueue, NIL } from '../../src/sim/queue';
import { Rng } from '../../src/sim/rng';

class Reference {
  private readonly entries: { key: number; seq: number; item: number }[] = [];
  private seq = 0;
  get size(): number {
    return this.entries.length;
  }
  push(key: number, item: number): void {
    this.entries.push({ key, seq: this.seq++, item });
  }
  private least(): number {
    let best = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const b = best < 0 ? undefined : this.entries[best]!;
      if (!b || e.key < b.key || (e.key === b.key && e.seq < b.seq)) best = i;
    }
    return best;
  }
  peekKey(): number {
    const i = this.least();
    return i < 0 ? Infinity : this.entries[i]!.key;
  }
  pop(): { key: number; item: number } | undefined {
    const i = this.least();
    if (i < 0) return undefined;
    const [e] = this.entries.splice(i, 1);
    return e;
  }
}

type KeyGen = (r: Rng, base: number) => number;

const mixedKeys: KeyGen = (r, base) => {
  const k = r.nextU32() % 10;
  if (k < 2) return base; // equal to the last pop: ties
  if (k < 4) return base + (r.nextU32() % 4); // a few distinct near keys, many equal
  if (k < 6) return base + r.expNs(1_000_000);
  if (k < 7) return base + 2_000_000_000; // fixed far delay, like TIME_WAIT
  if (k < 8) return base + r.nextU32() * 2 ** 18 + r.nextU32(); // up to ~2^50
  if (k < 9) return Math.max(0, base - (r.nextU32() % 5_000_000)); // earlier than the last pop
  return r.nextU32() * 2 ** 18; // anywhere in [0, 2^50)
};

function check(seed: number, ops: number, pushBias: number, keys: KeyGen): void {
  const r = new Rng(seed);
  const q = new EventQueue<number>(16);
  const ref = new Reference();
  let base = 0;
  let item = 0;
  for (let op = 0; op < ops; op++) {
    if (ref.size === 0 || r.next() < pushBias) {
      const burst = 1 + (r.nextU32() % 3);
      for (let j = 0; j < burst; j++) {
        const key = keys(r, base);
        q.push(key, item);
        ref.push(key, item);
        item++;
      }
    } else {
      expect(q.peekKey()).toBe(ref.peekKey());
      const want = ref.pop()!;
      // discardFront takes the same record as popSlot, only without moving the cursor
      const slot = r.nextU32() % 5 === 0 ? q.discardFront() : q.popSlot();
      expect(slot).not.toBe(NIL);
      expect([q.time[slot], q.item[slot]]).toEqual([want.key, want.item]);
      q.release(slot);
      base = want.key;
    }
    expect(q.size).toBe(ref.size);
  }
  while (ref.size > 0) {
    const want = ref.pop()!;
    expect(q.peekKey()).toBe(want.key);
    expect(q.pop()).toBe(want.item);
  }
  expect(q.pop()).toBeUndefined();
  expect(q.peekKey()).toBe(Infinity);
}

describe('EventQueue ordering', () => {
  it('pops ties in insertion order', () => {
    const q = new EventQueue<string>();
    for (const s of ['a', 'b', 'c']) q.push(5, s);
    q.push(3, 'x');
    q.push(5, 'd');
    expect([q.pop(), q.pop(), q.pop(), q.pop(), q.pop(), q.pop()]).toEqual(['x', 'a', 'b', 'c', 'd', undefined]);
  });

  it('keeps FIFO among equal keys that arrive from the far-future overflow and from direct pushes', () => {
    const q = new EventQueue<number>();
    const far = 2 ** 45;
    q.push(far, 0); // beyond the window: overflow heap
    for (let i = 1; i < 200; i++) q.push(i * 1000, -i); // near events, forcing geometry changes
    q.push(far, 1);
    for (let i = 1; i < 200; i++) expect(q.pop()).toBe(-i);
    q.push(far, 2); // pushed when the far key is inside the window
    expect([q.pop(), q.pop(), q.pop()]).toEqual([0, 1, 2]);
  });

  it('accepts keys earlier than the last pop', () => {
    const q = new EventQueue<number>();
    q.push(1_000_000_000, 1);
    q.push(2_000_000_000, 2);
    expect(q.pop()).toBe(1);
    q.push(10, 0);
    q.push(1_500_000_000, 3);
    expect([q.pop(), q.pop(), q.pop()]).toEqual([0, 3, 2]);
  });

  it('matches the reference on mixed random operations', () => {
    for (let seed = 1; seed <= 6; seed++) check(seed, 6000, 0.5, mixedKeys);
  });

  it('matches the reference while growing to thousands of events and draining', () => {
    check(11, 12_000, 0.62, mixedKeys);
  });

  it('matches the reference with monotone keys in a narrow range (dense buckets)', () => {
    check(21, 10_000, 0.55, (r, base) => base + (r.nextU32() % 8));
  });

  it('matches the reference with huge keys only', () => {
    check(31, 5000, 0.55, (r) => r.nextU32() * 2 ** 18 + (r.nextU32() % 3));
  });

  it('matches the reference on an lb-abstract-like mix (1 ms arrivals, 160 ms holds, 2 s waits)', () => {
    check(41, 20_000, 0.5, (r, base) => {
      const k = r.nextU32() % 3;
      return base + (k === 0 ? r.expNs(1_000_000) : k === 1 ? r.expNs(160_000_000) : 2_000_000_000);
    });
  });
});

describe('EventQueue geometry', () => {
  it('matches the reference on a dense burst of near-equal times beside a band of far timers', () => {
    check(51, 12_000, 0.6, (r, base) => (r.nextU32() % 4 === 0 ? base + 900_000_000_000 + r.expNs(1e9) : base + r.expNs(3)));
  });

  it('stays in order through a rebuild forced by keys below the cursor', () => {
    const q = new EventQueue<number>();
    for (let i = 0; i < 500; i++) q.push(1_000_000 + i * 1000, i);
    for (let i = 0; i < 100; i++) expect(q.pop()).toBe(i);
    q.push(5, -1); // far below the cursor, with the ring populated
    q.push(1_000_000 + 100 * 1000, 1000); // ties with item 100, pushed later
    expect(q.pop()).toBe(-1);
    expect(q.pop()).toBe(100);
    expect(q.pop()).toBe(1000);
    for (let i = 101; i < 500; i++) expect(q.pop()).toBe(i);
    expect(q.size).toBe(0);
  });
});

describe('EventQueue tickets', () => {
  it('names a pending record and stops matching once it is released', () => {
    const q = new EventQueue<string>();
    const slot = q.push(7, 'a');
    const t = q.ticket(slot);
    expect(q.slotOf(t)).toBe(slot);
    const popped = q.popSlot();
    expect(popped).toBe(slot);
    q.release(popped);
    expect(q.slotOf(t)).toBe(NIL);
    const again = q.push(8, 'b'); // reuses the slot with a new generation
    expect(again).toBe(slot);
    expect(q.slotOf(t)).toBe(NIL);
    expect(q.slotOf(q.ticket(again))).toBe(again);
    expect(q.slotOf(-1)).toBe(NIL);
    expect(q.slotOf(1.5)).toBe(NIL);
  });
});
