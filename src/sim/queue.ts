/**
 * sim/queue.ts: the engine's event set, a calendar queue for integer-nanosecond times.
 *
 * Order is exactly (time, insertion sequence): among equal times the event pushed first
 * comes out first, whatever the bucket geometry, so the geometry only changes speed.
 *
 *   time t ──> absolute bucket  a = floor(t / width)        width = 2^k ns
 *              window           cur <= a < cur + nb         nb = 2^m buckets, a ring
 *              ring slot        a & (nb - 1)  ─> sorted singly linked list of records
 *              beyond window    overflow: a binary heap on (time, seq), pulled into the
 *                               ring as the cursor moves on
 *
 * - Records live in a pool of parallel typed arrays (time, seq, next, code, generation)
 *   plus one object column (item), recycled through a free list: no allocation per event.
 * - A two-level bitmap of non-empty ring slots finds the next bucket with Math.clz32,
 *   so empty buckets cost almost nothing to skip.
 * - Every ring bucket holds only times of one absolute bucket, kept sorted by (time, seq);
 *   a push almost always appends at the tail (sequence numbers only grow), and the pop is
 *   the head of the cursor's bucket.
 * - The geometry adapts: when the population doubles or quarters, when the overflow heap
 *   grows, or when inserts walk far into their buckets, it is rebuilt from the pending events
 *   (width from the gaps between events near the head, as Brown's calendar queue does; bucket
 *   count from the population). A rebuild waits for at least `size` operations since the
 *   previous one, so its O(n log n) is amortised.
 * - Keys must be finite, >= 0 and below 2^53; times below the cursor are accepted (a rebuild
 *   moves the cursor back), but the engine never produces them.
 */

/** Slot index meaning "none". */
export const NIL = -1;

/** Tickets pack (generation, slot); slots stay below 2^SLOT_BITS so tickets stay exact. */
const SLOT_BITS = 26;
const SLOT_SPAN = 2 ** SLOT_BITS;
const GEN_MASK = 0x7ffffff; // 27 bits: ticket < 2^53

const MIN_BUCKETS = 64;
const MAX_BUCKETS = 1 << 22;

/** Index of the lowest set bit of a non-zero 32-bit integer. */
const ctz = (x: number): number => 31 - Math.clz32(x & -x);

const nextPow2 = (x: number): number => {
  let p = 1;
  while (p < x) p *= 2;
  return p;
};

export class EventQueue<T> {
  // ---- record pool (structure of arrays, indexed by slot) ----
  /** Event time (integer ns) per slot. */
  time: Float64Array;
  /** Insertion sequence number per slot. */
  seq: Float64Array;
  /** Small integer payload per slot (the engine's event code). */
  code: Int32Array;
  /** Object payload per slot. */
  item: (T | undefined)[];
  private next: Int32Array;
  private gen: Int32Array;
  private freeList: Int32Array;
  private freeTop = 0;
  private highWater = 0;
  private cap = 0;
  private nextSeq = 0;

  /** Events held (including any the owner has marked dead but not yet popped). */
  size = 0;

  // ---- calendar ring ----
  private shift = 10;
  private inv = 2 ** -10;
  private nb = MIN_BUCKETS;
  private mask = MIN_BUCKETS - 1;
  private cur = 0;
  private head: Int32Array;
  private tail: Int32Array;
  private bits: Int32Array;
  private summary: Int32Array;
  private ringCount = 0;

  // ---- overflow heap (slots ordered by (time, seq)) ----
  private ov: Int32Array;
  private ovCount = 0;

  // ---- adaptation ----
  private opsSinceRebuild = 0;
  /** opsSinceRebuild value at which push next looks at the geometry (at least `size` after a rebuild). */
  private nextCheck = 32;
  private walkSteps = 0;
  private sizeAtRebuild = 0;
  private ovAtRebuild = 0;
  /** Multiplies the wait before a mostly-overflow queue is rebuilt again (doubles while it does not help). */
  private backoff = 1;

  constructor(initialCapacity = 1024) {
    const c = Math.max(16, initialCapacity);
    this.cap = c;
    this.time = new Float64Array(c);
    this.seq = new Float64Array(c);
    this.code = new Int32Array(c);
    this.item = [];
    for (let i = 0; i < c; i++) this.item.push(undefined);
    this.next = new Int32Array(c);
    this.gen = new Int32Array(c);
    this.freeList = new Int32Array(c);
    this.ov = new Int32Array(64);
    this.head = new Int32Array(this.nb).fill(NIL);
    this.tail = new Int32Array(this.nb).fill(NIL);
    this.bits = new Int32Array(this.nb >>> 5);
    this.summary = new Int32Array(Math.max(1, this.nb >>> 10));
  }

  // ------------------------------------------------------------------ public API

  /** Take the next insertion sequence number (for events held outside the queue, in lanes). */
  takeSeq(): number {
    return this.nextSeq++;
  }

  /** Add `item` at time `key`; returns its slot (valid until popped). */
  push(key: number, item: T, code = 0): number {
    const slot = this.alloc();
    this.time[slot] = key;
    this.seq[slot] = this.nextSeq++;
    this.code[slot] = code;
    this.item[slot] = item;
    this.size++;
    if (++this.opsSinceRebuild >= this.nextCheck) this.maybeRebuild();
    this.place(slot, key);
    return slot;
  }

  /**
   * Unlink the earliest record and return its slot, or NIL when empty. The record's fields
   * stay readable until `release(slot)`; call it before pushing again to reuse the slot.
   */
  popSlot(): number {
    if (this.ringCount === 0) {
      if (this.ovCount === 0) return NIL;
      this.cur = Math.floor(this.time[this.ov[0]!]! * this.inv);
      this.pull();
    }
    let b = this.cur & this.mask;
    if (this.head[b]! < 0) {
      const f = this.findNext(b);
      this.cur += (f - b) & this.mask;
      if (this.ovCount !== 0) this.pull();
      b = f;
    }
    this.opsSinceRebuild++;
    return this.unlinkHead(b);
  }

  /** Take the first record of non-empty ring bucket `b` out of the ring. */
  private unlinkHead(b: number): number {
    const h = this.head[b]!;
    const nx = this.next[h]!;
    this.head[b] = nx;
    if (nx < 0) {
      this.tail[b] = NIL;
      this.clearBit(b);
    }
    this.ringCount--;
    this.size--;
    return h;
  }

  /** Return a popped slot to the pool (drops the item reference; stale tickets stop matching). */
  release(slot: number): void {
    this.item[slot] = undefined;
    this.gen[slot] = (this.gen[slot]! + 1) & GEN_MASK;
    this.freeList[this.freeTop++] = slot;
  }

  /** Earliest record's slot without removing it, or NIL. Does not move the cursor. */
  peekSlot(): number {
    if (this.ringCount !== 0) {
      const b = this.cur & this.mask;
      const h = this.head[b]!;
      return h >= 0 ? h : this.head[this.findNext(b)]!;
    }
    return this.ovCount !== 0 ? this.ov[0]! : NIL;
  }

  /**
   * Unlink the earliest record like popSlot, but leave the cursor where it is, so that keys
   * between the cursor and that record stay cheap to push (for dropping cancelled events
   * while only peeking). Returns its slot, or NIL; release it as after popSlot.
   */
  discardFront(): number {
    if (this.ringCount === 0) {
      if (this.ovCount === 0) return NIL;
      const s = this.ov[0]!;
      this.ovPop();
      this.size--;
      return s;
    }
    let b = this.cur & this.mask;
    if (this.head[b]! < 0) b = this.findNext(b);
    return this.unlinkHead(b);
  }

  /** Time of the earliest record, or Infinity. */
  peekKey(): number {
    const s = this.peekSlot();
    return s < 0 ? Infinity : this.time[s]!;
  }

  /** Remove and return the earliest item (convenience form of popSlot + release). */
  pop(): T | undefined {
    const s = this.popSlot();
    if (s < 0) return undefined;
    const it = this.item[s];
    this.release(s);
    return it;
  }

  /** A number naming the record in `slot` for as long as it is pending. */
  ticket(slot: number): number {
    return this.gen[slot]! * SLOT_SPAN + slot;
  }

  /** The slot a ticket names if that record is still pending, else NIL. */
  slotOf(ticket: number): number {
    if (!(ticket >= 0) || ticket !== Math.floor(ticket)) return NIL;
    const slot = ticket % SLOT_SPAN;
    if (slot >= this.highWater) return NIL;
    return Math.floor(ticket / SLOT_SPAN) === this.gen[slot] ? slot : NIL;
  }

  // ------------------------------------------------------------------ pool

  private alloc(): number {
    if (this.freeTop > 0) return this.freeList[--this.freeTop]!;
    if (this.highWater === this.cap) this.growPool();
    return this.highWater++;
  }

  private growPool(): void {
    const c = this.cap * 2;
    if (c > SLOT_SPAN) throw new RangeError(`event queue: more than ${SLOT_SPAN} pending events`);
    const grow = <A extends Float64Array | Int32Array>(a: A, make: (n: number) => A): A => {
      const b = make(c);
      b.set(a);
      return b;
    };
    this.time = grow(this.time, (n) => new Float64Array(n));
    this.seq = grow(this.seq, (n) => new Float64Array(n));
    this.code = grow(this.code, (n) => new Int32Array(n));
    this.next = grow(this.next, (n) => new Int32Array(n));
    this.gen = grow(this.gen, (n) => new Int32Array(n));
    this.freeList = grow(this.freeList, (n) => new Int32Array(n));
    for (let i = this.cap; i < c; i++) this.item.push(undefined);
    this.cap = c;
  }

  // ------------------------------------------------------------------ ring

  /** Put a record (not linked anywhere) into the ring or the overflow heap. */
  private place(slot: number, t: number): void {
    const a = Math.floor(t * this.inv);
    const rel = a - this.cur;
    if (rel >= 0 && rel < this.nb) {
      this.insert(slot, a & this.mask);
    } else if (rel >= this.nb) {
      this.ovPush(slot);
    } else if (this.ringCount === 0) {
      // earlier than the cursor with nothing in the ring: the overflow stays beyond the window
      this.cur = a;
      this.insert(slot, a & this.mask);
    } else {
      // earlier than the cursor: rebuild around the new minimum (the engine never does this)
      this.rebuild(slot);
    }
  }

  /** Link `slot` into ring bucket `b`, keeping (time, seq) order. */
  private insert(slot: number, b: number): void {
    this.ringCount++;
    const next = this.next;
    const tl = this.tail[b]!;
    if (tl < 0) {
      this.head[b] = slot;
      this.tail[b] = slot;
      next[slot] = NIL;
      this.bits[b >>> 5]! |= 1 << (b & 31);
      this.summary[b >>> 10]! |= 1 << ((b >>> 5) & 31);
      return;
    }
    const time = this.time, seq = this.seq;
    const t = time[slot]!;
    const tt = time[tl]!;
    if (tt < t || (tt === t && seq[tl]! < seq[slot]!)) {
      next[tl] = slot;
      next[slot] = NIL;
      this.tail[b] = slot;
      return;
    }
    const s = seq[slot]!;
    let p = NIL;
    let c = this.head[b]!;
    let steps = 0;
    // the tail is later than the new record, so the walk stops before running off the end
    while (time[c]! < t || (time[c] === t && seq[c]! < s)) {
      p = c;
      c = next[c]!;
      steps++;
    }
    this.walkSteps += steps;
    if (this.walkSteps > this.walkLimit()) this.nextCheck = 0; // look at the next push
    next[slot] = c;
    if (p < 0) this.head[b] = slot;
    else next[p] = slot;
  }

  private clearBit(b: number): void {
    const w = b >>> 5;
    const v = this.bits[w]! & ~(1 << (b & 31));
    this.bits[w] = v;
    if (v === 0) this.summary[w >>> 5]! &= ~(1 << (w & 31));
  }

  /** First non-empty ring slot at or after `b`, going round the ring (ringCount > 0). */
  private findNext(b: number): number {
    const bits = this.bits;
    const w = b >>> 5;
    const m = bits[w]! & (-1 << (b & 31));
    if (m !== 0) return (w << 5) | ctz(m);
    let r = this.nextWord(w + 1);
    if (r < 0) r = this.nextWord(0);
    return (r << 5) | ctz(bits[r]!);
  }

  /** First non-zero bitmap word at index >= `from`, or NIL (no wrap). */
  private nextWord(from: number): number {
    const words = this.nb >>> 5;
    if (from >= words) return NIL;
    const summary = this.summary;
    let s = from >>> 5;
    let m = summary[s]! & (-1 << (from & 31));
    while (m === 0) {
      if (++s >= summary.length) return NIL;
      m = summary[s]!;
    }
    return (s << 5) | ctz(m);
  }

  /** Move overflow records that are now inside the window into the ring. */
  private pull(): void {
    const limit = this.cur + this.nb;
    const time = this.time;
    while (this.ovCount !== 0) {
      const s = this.ov[0]!;
      const a = Math.floor(time[s]! * this.inv);
      if (a >= limit) return;
      this.ovPop();
      this.insert(s, a & this.mask);
    }
  }

  // ------------------------------------------------------------------ overflow heap

  private before(a: number, b: number): boolean {
    const ta = this.time[a]!, tb = this.time[b]!;
    return ta < tb || (ta === tb && this.seq[a]! < this.seq[b]!);
  }

  private ovPush(slot: number): void {
    if (this.ovCount === this.ov.length) {
      const g = new Int32Array(this.ov.length * 2);
      g.set(this.ov);
      this.ov = g;
    }
    const ov = this.ov;
    let i = this.ovCount++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.before(ov[p]!, slot)) break;
      ov[i] = ov[p]!;
      i = p;
    }
    ov[i] = slot;
  }

  private ovPop(): void {
    const ov = this.ov;
    const n = --this.ovCount;
    if (n === 0) return;
    const x = ov[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(ov[c + 1]!, ov[c]!)) c++;
      if (this.before(x, ov[c]!)) break;
      ov[i] = ov[c]!;
      i = c;
    }
    ov[i] = x;
  }

  // ------------------------------------------------------------------ adaptation

  /** Rebuild if the geometry no longer fits; otherwise look again in 32 operations. */
  private maybeRebuild(): void {
    if (this.needsRebuild()) this.rebuild();
    else this.nextCheck = this.opsSinceRebuild + 32;
  }

  private needsRebuild(): boolean {
    const n = this.size;
    if (n > 2 * this.sizeAtRebuild + 64) return true; // population doubled
    if (n < this.sizeAtRebuild >>> 2 && this.nb > MIN_BUCKETS) return true; // population quartered
    if (this.ovCount > 2 * this.ovAtRebuild + 64) return true; // window too short
    if (this.walkSteps > this.walkLimit()) return true; // buckets too wide
    // mostly beyond the window; backs off while rebuilding does not change that
    if (this.mostlyOverflow() && this.opsSinceRebuild >= n * this.backoff) return true;
    return false;
  }

  /** Walking beyond 4 steps per operation, once the excess would have paid for a rebuild. */
  private walkLimit(): number {
    return 4 * this.opsSinceRebuild + this.size + 64;
  }

  private mostlyOverflow(): boolean {
    return this.ovCount > 64 && this.ovCount > 3 * this.ringCount;
  }

  /**
   * Re-derive the geometry from the pending records and re-place them all.
   * Width (as in Brown's calendar queue): about 3 mean gaps between consecutive events near
   * the head, gaps over twice the mean left out, rounded to a power of two; if the head is
   * one instant, the whole population is sampled instead. Buckets: at least the
   * population, more (up to 4x) to let the window reach the 90th-percentile event; the rest
   * waits in the overflow heap.
   */
  private rebuild(first: number = NIL): void {
    const n = this.ringCount + this.ovCount + (first === NIL ? 0 : 1);
    // Every ring record is earlier than every overflow record, the ring read from the cursor
    // round is in order, and the heap pops in order: the records come out sorted, no sort.
    // `first`, an unplaced record earlier than the cursor's bucket, goes before them all.
    const order = new Int32Array(n);
    let k = 0;
    if (first !== NIL) order[k++] = first;
    for (let i = 0, b = this.cur & this.mask; i < this.nb; i++, b = (b + 1) & this.mask) {
      for (let s = this.head[b]!; s >= 0; s = this.next[s]!) order[k++] = s;
    }
    while (this.ovCount !== 0) {
      order[k++] = this.ov[0]!;
      this.ovPop();
    }
    const time = this.time;

    let shift = 0;
    let nb = MIN_BUCKETS;
    if (n > 1) {
      const t0 = time[order[0]!]!;
      const width = this.headWidth(order, Math.min(n, 256)) || this.headWidth(order, n);
      while (shift < 52 && 2 ** (shift + 0.5) < width) shift++;
      const base = Math.min(MAX_BUCKETS, Math.max(MIN_BUCKETS, nextPow2(n)));
      const reach = time[order[Math.floor(0.9 * (n - 1))]!]! - t0;
      nb = base;
      while (nb < 4 * base && nb < MAX_BUCKETS && nb * 2 ** shift <= reach) nb *= 2;
    }

    this.nb = nb;
    this.mask = nb - 1;
    this.shift = shift;
    this.inv = 2 ** -shift;
    if (this.head.length !== nb) {
      this.head = new Int32Array(nb);
      this.tail = new Int32Array(nb);
      this.bits = new Int32Array(nb >>> 5);
      this.summary = new Int32Array(Math.max(1, nb >>> 10));
    } else {
      this.bits.fill(0);
      this.summary.fill(0);
    }
    this.head.fill(NIL);
    this.tail.fill(NIL);
    this.ringCount = 0;
    this.ovCount = 0;
    this.cur = n > 0 ? Math.floor(time[order[0]!]! * this.inv) : 0;
    // in (time, seq) order, so every bucket is built by appends and the heap by leaf pushes
    for (let i = 0; i < n; i++) {
      const s = order[i]!;
      const a = Math.floor(time[s]! * this.inv);
      if (a - this.cur < nb) this.insert(s, a & this.mask);
      else this.ovPush(s);
    }
    this.opsSinceRebuild = 0;
    this.nextCheck = Math.max(32, n);
    this.walkSteps = 0;
    this.sizeAtRebuild = n;
    this.ovAtRebuild = this.ovCount;
    this.backoff = this.mostlyOverflow() ? Math.min(this.backoff * 2, 1024) : 1;
  }

  /**
   * 3 x the mean gap between consecutive records among the first m of `order`, gaps over
   * twice the mean left out (about three events per bucket, ties included); 0 when those m
   * records all share one time and more are available.
   */
  private headWidth(order: Int32Array, m: number): number {
    const time = this.time;
    const mean = (time[order[m - 1]!]! - time[order[0]!]!) / (m - 1);
    if (mean === 0) return m < order.length ? 0 : 1;
    let sum = 0;
    let cnt = 0;
    for (let i = 1; i < m; i++) {
      const g = time[order[i]!]! - time[order[i - 1]!]!;
      if (g <= 2 * mean) {
        sum += g;
        cnt++;
      }
    }
    return sum > 0 ? (3 * sum) / cnt : 1;
  }

  /** Bucket geometry, for tests and diagnostics. */
  get geometry(): { readonly width: number; readonly buckets: number; readonly overflow: number } {
    return { width: 2 ** this.shift, buckets: this.nb, overflow: this.ovCount };
  }
}
