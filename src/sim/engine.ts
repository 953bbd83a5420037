/**
 * sim/engine.ts: the discrete-event engine. Virtual time is an integer number of nanoseconds
 * held in a JS number (exact up to 2^53 ns, about 104 days). One event set ordered by
 * (time, sequence): among events at the same instant the one scheduled first runs first.
 * The event set is a calendar queue (sim/queue.ts: a ring of time buckets with an overflow
 * heap, adapting its bucket width to the event gaps) holding coded events in typed arrays;
 * test/sim/queue.test.ts checks it pop for pop against a plain reference queue (a linear scan
 * for the least (time, sequence)), so the queue's geometry can only change speed, never order.
 * The engine knows no packets; everything above it schedules plain callbacks or coded events.
 *
 * Two ways to schedule, sharing one sequence counter and one order:
 * - `at(at, fn)` / `after(delay, fn)`: a closure; returns an EventHandle for `cancel`.
 *   Costs one small handle object per event (the handle can be held, so it is never reused).
 * - `atCode(at, receiver, code)` / `afterCode(delay, receiver, code)`: calls
 *   `receiver.onEvent(code, now)`; nothing is allocated per event. Returns a numeric ticket
 *   for `cancelCode`. Hot paths (workloads, timers) use this form; `postCode(delay, receiver,
 *   code)` is the same for events never cancelled (frames on a link, socket wakeups).
 * - Lanes (`lane(delay)` + `postLane`, or `postAfter`; `stream()` + `postStream`): coded
 *   events that come in time order anyway, in ring buffers beside the queue; test/sim/lanes
 *   checks them against a reference too.
 */
import { EventQueue, NIL } from './queue';
import { RngStreams, type Rng } from './rng';

/** Integer nanoseconds of virtual time. */
export type Ns = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

/** A scheduled callback; `cancel` marks it dead (it is skipped when popped). */
export interface EventHandle {
  readonly at: Ns;
  cancelled: boolean;
}

/** An object that receives coded events: one long-lived receiver, many events, no closures. */
export interface EventReceiver {
  onEvent(code: number, now: Ns): void;
}

/** Ticket of a coded event, for `cancelCode`; valid while the event is pending. */
export type Ticket = number;

/**
 * The refusals of the scheduling calls, out of line: hot callers (a timer re-armed per packet)
 * stay small enough for the compiler to inline them.
 */
function pastTime(what: string, at: Ns, now: Ns): never {
  throw new RangeError(`cannot ${what} at ${at} ns: now is ${now} ns`);
}

function badCode(code: number): never {
  throw new RangeError(`event code must be a 31-bit non-negative integer, got ${code}`);
}

/** Queue codes below zero are the engine's own: a closure event, or a cancelled coded one. */
const CLOSURE = -1;
const DEAD = -2;

class ClosureEvent implements EventHandle {
  cancelled = false;
  constructor(
    readonly at: Ns,
    readonly fn: (now: Ns) => void,
  ) {}
}

type Item = ClosureEvent | EventReceiver;

/**
 * A lane: coded events posted a fixed `delay` after the moment they are posted. Virtual time
 * never goes back, so a lane is already in (time, sequence) order: a ring buffer, O(1) each
 * way, where the calendar queue would sort. Long runs post most of their events at a handful
 * of fixed delays (a round trip on one path, a connection timeout), so most events skip the
 * sort. Records carry sequence numbers from the queue's own counter, so the engine runs
 * events in exactly the order one queue would. A stream lane (delay NaN) takes records at
 * times of its caller's choosing, as long as they come in time order (a workload's arrivals).
 */
export class Lane {
  time = new Float64Array(64);
  seq = new Float64Array(64);
  code = new Int32Array(64);
  item: (EventReceiver | undefined)[] = new Array<EventReceiver | undefined>(64).fill(undefined);
  /** Ring slot of the first record, records held, and the absolute position of the first. */
  head = 0;
  count = 0;
  first = 0;
  /** Time of the last record pushed (records come in time order). */
  last = -Infinity;
  private mask = 63;

  constructor(readonly delay: Ns, readonly id: number) {}

  /** Append; returns the record's absolute position (for `kill`). */
  push(t: Ns, seq: number, receiver: EventReceiver, code: number): number {
    if (this.count > this.mask) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.last = t;
    this.time[i] = t;
    this.seq[i] = seq;
    this.code[i] = code;
    this.item[i] = receiver;
    return this.first + this.count++;
  }

  /** Drop the first record. */
  shift(): void {
    this.item[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    this.first++;
  }

  /** Mark the record at absolute position `pos` dead, if it is still held. */
  kill(pos: number): void {
    const k = pos - this.first;
    if (k < 0 || k >= this.count) return;
    const i = (this.head + k) & this.mask;
    this.code[i] = DEAD;
    this.item[i] = undefined;
  }

  private grow(): void {
    const n = (this.mask + 1) * 2;
    const time = new Float64Array(n), seq = new Float64Array(n), code = new Int32Array(n);
    const item = new Array<EventReceiver | undefined>(n).fill(undefined);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      time[k] = this.time[i]!;
      seq[k] = this.seq[i]!;
      code[k] = this.code[i]!;
      item[k] = this.item[i];
    }
    this.time = time;
    this.seq = seq;
    this.code = code;
    this.item = item;
    this.head = 0;
    this.mask = n - 1;
  }
}

/** Lanes an engine keeps at most; callers with more distinct delays fall back to the queue. */
const MAX_LANES = 32;

export class Engine {
  /** Current virtual time. Advances only in step() and run(). */
  now: Ns = 0;
  /** Events run so far (cancelled ones are not counted). */
  processed = 0;
  private readonly queue = new EventQueue<Item>();
  private readonly streams: RngStreams;
  private readonly lanes: Lane[] = [];
  /** Each lane's delay by id (NaN for a stream), for laneFor's scan. */
  private readonly delays = new Float64Array(MAX_LANES).fill(NaN);

  constructor(readonly seed: number = 1) {
    this.streams = new RngStreams(seed);
  }

  /** Run `fn` at absolute time `at` (never earlier than now). */
  at(at: Ns, fn: (now: Ns) => void): EventHandle {
    if (!(at >= this.now)) throw new RangeError(`cannot schedule at ${at} ns: now is ${this.now} ns`);
    const ev = new ClosureEvent(at, fn);
    this.queue.push(at, ev, CLOSURE);
    return ev;
  }

  /** Run `fn` after `delay` ns. */
  after(delay: Ns, fn: (now: Ns) => void): EventHandle {
    return this.at(this.now + delay, fn);
  }

  cancel(h: EventHandle | null | undefined): void {
    if (h) h.cancelled = true;
  }

  /**
   * Call `receiver.onEvent(code, at)` at absolute time `at` (never earlier than now).
   * `code` is a non-negative 31-bit integer of the receiver's choosing.
   */
  atCode(at: Ns, receiver: EventReceiver, code: number): Ticket {
    const q = this.queue;
    return q.ticket(q.push(this.checkCoded(at, code), receiver, code));
  }

  /** What atCode and postCode refuse: a time in the past, a code that is not 31-bit. Returns `at`. */
  private checkCoded(at: Ns, code: number): Ns {
    if (!(at >= this.now)) pastTime('schedule', at, this.now);
    if (!(code >= 0 && code <= 0x7fffffff && (code | 0) === code)) badCode(code);
    return at;
  }

  /**
   * `afterCode` for an event that is never cancelled: no ticket is made (a ticket above 2^30
   * is a heap number, so not making one keeps the commonest events allocation-free).
   */
  postCode(delay: Ns, receiver: EventReceiver, code: number): void {
    this.queue.push(this.checkCoded(this.now + delay, code), receiver, code);
  }

  /** `atCode(now + delay, receiver, code)`. */
  afterCode(delay: Ns, receiver: EventReceiver, code: number): Ticket {
    return this.atCode(this.now + delay, receiver, code);
  }

  /**
   * The lane for events `delay` after their posting, or null when the engine already keeps
   * its most lanes (then post to the queue). For callers whose delays take few values.
   */
  lane(delay: Ns): Lane | null {
    const l = this.laneFor(delay);
    if (l !== null) return l;
    if (!(delay >= 0)) return null;
    return this.addLane(delay);
  }

  /** A new lane for `delay` (NaN: a stream), or null when the engine keeps its most lanes. */
  private addLane(delay: Ns): Lane | null {
    if (this.lanes.length >= MAX_LANES) return null;
    const made = new Lane(delay, this.lanes.length);
    this.lanes.push(made);
    this.delays[made.id] = delay;
    return made;
  }

  /** The lane the engine already keeps for `delay`, or null (makes none). */
  laneFor(delay: Ns): Lane | null {
    // A scan of at most MAX_LANES numbers beats hashing a float key.
    const d = this.delays;
    for (let i = 0, n = this.lanes.length; i < n; i++) if (d[i] === delay) return this.lanes[i]!;
    return null;
  }


  /** `postCode(lane.delay, receiver, code)` through the lane; returns its position for `cancelLane`. */
  postLane(lane: Lane, receiver: EventReceiver, code: number): number {
    return this.pushLane(lane, this.checkCoded(this.now + lane.delay, code), receiver, code);
  }

  /**
   * A lane for a stream of events its caller posts in time order at times of its choosing
   * (`postStream`), such as a workload's arrivals; null when the engine keeps its most lanes.
   */
  stream(): Lane | null {
    return this.addLane(NaN);
  }

  /**
   * `atCode(at, receiver, code)` without a ticket, through stream lane `lane` when `at` is no
   * earlier than the lane's last record (else through the queue: the order is the same).
   */
  postStream(lane: Lane | null, at: Ns, receiver: EventReceiver, code: number): void {
    this.checkCoded(at, code);
    if (lane !== null && !(at < lane.last)) this.pushLane(lane, at, receiver, code);
    else this.queue.push(at, receiver, code);
  }

  private pushLane(lane: Lane, at: Ns, receiver: EventReceiver, code: number): number {
    const pos = lane.push(at, this.queue.takeSeq(), receiver, code);
    if (lane.count === 1) this.heapAdd(lane);
    return pos;
  }

  /**
   * `postCode(delay, receiver, code)` for a caller whose delays take few values: through the
   * delay's lane while the engine has one to give, else the queue (same order either way).
   */
  postAfter(delay: Ns, receiver: EventReceiver, code: number): void {
    const lane = this.lane(delay);
    if (lane !== null) this.postLane(lane, receiver, code);
    else this.postCode(delay, receiver, code);
  }

  /** Cancel an event of lane `id` by its position; one that already ran is ignored. */
  cancelLane(id: number, pos: number): void {
    // A dead first record keeps its place in the heap until firstLane drops it.
    this.lanes[id]!.kill(pos);
  }

  /**
   * The non-empty lanes as a binary heap on their first records' (time, sequence): a lane's
   * key changes only when its first record goes, and that is always the top lane's.
   */
  private readonly heap: Lane[] = [];

  private static before(a: Lane, b: Lane): boolean {
    const ta = a.time[a.head]!;
    const tb = b.time[b.head]!;
    return ta < tb || (ta === tb && a.seq[a.head]! < b.seq[b.head]!);
  }

  private heapAdd(l: Lane): void {
    const h = this.heap;
    let i = h.length;
    h.push(l);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!Engine.before(l, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = l;
  }

  /** Drop the top lane's first record and restore the heap. */
  private shiftTop(): void {
    const h = this.heap;
    const top = h[0]!;
    top.shift();
    let l = top;
    if (top.count === 0) {
      l = h.pop()!;
      if (h.length === 0) return;
    }
    // sift `l` down from the root
    const n = h.length;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && Engine.before(h[c + 1]!, h[c]!)) c++;
      if (!Engine.before(h[c]!, l)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = l;
  }

  /**
   * The lane whose first live record comes before every other pending event, or null (the
   * queue's comes first, or nothing is pending). Drops dead records at the fronts.
   */
  private firstLane(): Lane | null {
    const h = this.heap;
    let best: Lane;
    for (;;) {
      if (h.length === 0) return null;
      best = h[0]!;
      if (best.code[best.head]! !== DEAD) break;
      this.shiftTop();
    }
    const bt = best.time[best.head]!;
    const bs = best.seq[best.head]!;
    const q = this.queue;
    for (;;) {
      const s = q.peekSlot();
      if (s === NIL) return best;
      if (this.isDead(s)) {
        q.release(q.discardFront());
        continue;
      }
      const t = q.time[s]!;
      return t < bt || (t === bt && q.seq[s]! < bs) ? null : best;
    }
  }

  /** Run the first record of the top lane `l` (live: firstLane dropped the dead ones). */
  private dispatchLane(l: Lane): void {
    const i = l.head;
    const at = l.time[i]!;
    const code = l.code[i]!;
    const item = l.item[i]!;
    this.shiftTop();
    this.now = at;
    this.processed++;
    item.onEvent(code, at);
  }

  /** Cancel a pending coded event; a ticket whose event already ran (or was cancelled) is ignored. */
  cancelCode(ticket: Ticket): void {
    const q = this.queue;
    const slot = q.slotOf(ticket);
    if (slot === NIL || q.code[slot]! < 0) return;
    q.code[slot] = DEAD;
    q.item[slot] = undefined;
  }

  /** Pending events, including cancelled ones not yet popped. */
  get pending(): number {
    let n = this.queue.size;
    for (const l of this.lanes) n += l.count;
    return n;
  }

  /** Time of the next event that will run, or Infinity. Drops cancelled events at the front. */
  peekTime(): Ns {
    if (this.lanes.length !== 0) {
      const l = this.firstLane();
      if (l !== null) return l.time[l.head]!;
    }
    const q = this.queue;
    for (;;) {
      const s = q.peekSlot();
      if (s === NIL) return Infinity;
      if (!this.isDead(s)) return q.time[s]!;
      q.release(q.discardFront());
    }
  }

  private isDead(slot: number): boolean {
    const q = this.queue;
    const code = q.code[slot]!;
    return code === DEAD || (code === CLOSURE && (q.item[slot] as ClosureEvent).cancelled);
  }

  /** Run the earliest event. Returns false when the queue is empty. */
  step(): boolean {
    const q = this.queue;
    for (;;) {
      if (this.lanes.length !== 0) {
        const l = this.firstLane();
        if (l !== null) {
          this.dispatchLane(l);
          return true;
        }
      }
      const slot = q.popSlot();
      if (slot === NIL) return false;
      if (this.dispatch(slot)) return true;
    }
  }

  /** Run until the queue is empty or the next event is later than `until`. */
  run(until: Ns = Infinity): void {
    const q = this.queue;
    if (until === Infinity) {
      for (;;) {
        // Lanes appear as events first post to them.
        if (this.lanes.length !== 0) {
          const l = this.firstLane();
          if (l !== null) {
            this.dispatchLane(l);
            continue;
          }
        }
        const slot = q.popSlot();
        if (slot === NIL) break; // and every lane is empty: firstLane found no live record
        this.dispatch(slot);
      }
      return;
    }
    while (this.peekTime() <= until) this.step();
    if (until > this.now) this.now = until;
  }

  /** Release a popped slot and run its event; false if it was cancelled. */
  private dispatch(slot: number): boolean {
    const q = this.queue;
    const at = q.time[slot]!;
    const code = q.code[slot]!;
    const item = q.item[slot]!;
    q.release(slot);
    if (code >= 0) {
      this.now = at;
      this.processed++;
      (item as EventReceiver).onEvent(code, at);
      return true;
    }
    if (code === CLOSURE && !(item as ClosureEvent).cancelled) {
      this.now = at;
      this.processed++;
      (item as ClosureEvent).fn(at);
      return true;
    }
    return false;
  }

  /** A named PRNG stream; a new consumer never shifts another's draws. */
  rng(name: string): Rng {
    return this.streams.get(name);
  }
}

/**
 * A re-armable timer with the kernel's mod_timer() semantics: re-arming later than the
 * pending expiry only moves a deadline (no queue work); the pending event notices and
 * re-queues itself. Uses coded events, so arming allocates nothing. (TimerSet is the same
 * timer for many owners at once, kept in arrays.)
 */
export class Timer implements EventReceiver {
  private expires: Ns = -1;
  /** Ticket of the queued event (-1: none) and the time it is queued for. */
  private ticket: Ticket = -1;
  private queuedAt: Ns = -1;

  /**
   * `fire` is a callback, or a receiver that gets `onEvent(code, now)`: an object with many
   * timers (a socket) then needs no closure per timer.
   */
  constructor(private readonly engine: Engine, private readonly fire: ((now: Ns) => void) | EventReceiver, private readonly code = 0) {}

  get armed(): boolean {
    return this.expires >= 0;
  }

  get expiry(): Ns {
    return this.expires;
  }

  /** Arm (or re-arm) to fire at absolute time `at`. */
  mod(at: Ns): void {
    if (!(at >= this.engine.now)) pastTime('arm a timer', at, this.engine.now);
    this.expires = at;
    if (this.ticket >= 0) {
      if (this.queuedAt <= at) return;
      this.engine.cancelCode(this.ticket);
    }
    this.queue(at);
  }

  del(): void {
    this.expires = -1;
    if (this.ticket >= 0) this.engine.cancelCode(this.ticket);
    this.ticket = -1;
  }

  /** The queued event: fire, or re-queue at the deadline if it moved later. */
  onEvent(_code: number, now: Ns): void {
    this.ticket = -1;
    if (this.expires < 0) return;
    if (this.expires > now) {
      this.queue(this.expires);
      return;
    }
    this.expires = -1;
    const f = this.fire;
    if (typeof f === 'function') f(now);
    else f.onEvent(this.code, now);
  }

  private queue(at: Ns): void {
    this.ticket = this.engine.atCode(at, this, 0);
    this.queuedAt = at;
  }
}

/** TimerSet's columns, per timer: deadline, time queued for, queue ticket or lane position. */
const T_DEADLINE = 0;
const T_QUEUED_AT = 1;
const T_WHERE = 2;
/** The engine's lane id it is queued in, or -1 (the queue). */
const T_LANE = 3;
const T_STRIDE = 4;
/** The longest delay a lazily queued timer moves lanes for (see TimerSet.modAfter). */
const LAZY_MOVE_MAX: Ns = 300 * NS_PER_S;

/**
 * Many timers with Timer's semantics (mod_timer, lazy re-arm), named by a small index and
 * kept side by side in one array: a connection table arms one per entry on every packet, and
 * a million entries' deadlines in their own objects would cost a cache miss each (a timer's
 * whole state is half a cache line here). `fire(index, now)` runs at expiry. `modAfter`
 * queues through the engine's lane for the delay, for delays that take few values.
 */
export class TimerSet implements EventReceiver {
  private t = new Float64Array(64 * T_STRIDE).fill(-1);
  private cap = 64;

  constructor(private readonly engine: Engine, private readonly fire: (index: number, now: Ns) => void) {}

  /** Make room for timers 0..n-1 (new ones disarmed). */
  reserve(n: number): void {
    if (n <= this.cap) return;
    let c = this.cap;
    while (c < n) c *= 2;
    const t = new Float64Array(c * T_STRIDE).fill(-1);
    t.set(this.t);
    this.t = t;
    this.cap = c;
  }

  armed(i: number): boolean {
    return this.t[i * T_STRIDE + T_DEADLINE]! >= 0;
  }

  expiry(i: number): Ns {
    return this.t[i * T_STRIDE + T_DEADLINE]!;
  }

  /** Arm (or re-arm) timer `i` to fire at absolute time `at`. */
  mod(i: number, at: Ns): void {
    if (!(at >= this.engine.now)) pastTime('arm a timer', at, this.engine.now);
    if (this.setDeadline(i, at)) this.queue(i, at);
  }

  /**
   * mod(i, now + delay), queued (when it must be) in the engine's lane for `delay`. A delay of
   * at most LAZY_MOVE_MAX moves the timer to its deadline in that delay's lane (the old record
   * dies where it is), so it fires once, at the deadline, and never early: an entry's last
   * state (FIN_WAIT, TIME_WAIT, CLOSE) sets its timer a few times and then waits for it, and
   * an early event 120 s on would find the timer's record long out of cache. Longer delays
   * (ESTABLISHED's 900 s, re-armed by every packet) wait lazily where they are queued: moving
   * them would leave a dead record per packet for 15 minutes.
   */
  modAfter(i: number, delay: Ns): void {
    const e = this.engine;
    const at = e.now + delay;
    if (!this.setDeadline(i, at, delay)) return;
    const lane = delay >= 0 ? e.lane(delay) : null;
    if (lane === null) this.queue(i, at);
    else this.queueLane(i, lane, at);
  }

  /**
   * The new deadline of timer `i`; true when it must be queued (not queued, or queued later
   * than `at`, then taken out). Queued for exactly `at`: nothing to do. Queued earlier: lazy
   * (the event re-queues itself), unless `delay` (modAfter's) is at most LAZY_MOVE_MAX: then
   * it is taken out to move.
   */
  private setDeadline(i: number, at: Ns, delay: Ns = NaN): boolean {
    const t = this.t;
    const o = i * T_STRIDE;
    t[o + T_DEADLINE] = at;
    if (t[o + T_WHERE]! >= 0) {
      const queuedAt = t[o + T_QUEUED_AT]!;
      // NaN (mod) compares false: lazy
      if (queuedAt === at || (queuedAt < at && !(delay <= LAZY_MOVE_MAX))) return false;
      this.unqueue(i);
    }
    return true;
  }

  del(i: number): void {
    this.t[i * T_STRIDE + T_DEADLINE] = -1;
    this.unqueue(i);
  }

  private unqueue(i: number): void {
    const o = i * T_STRIDE;
    const where = this.t[o + T_WHERE]!;
    if (where < 0) return;
    const lane = this.t[o + T_LANE]!;
    if (lane >= 0) this.engine.cancelLane(lane, where);
    else this.engine.cancelCode(where);
    this.t[o + T_WHERE] = -1;
    this.t[o + T_LANE] = -1;
  }

  /** Timer `i`'s queued event: fire, or re-queue at the deadline if it moved later. */
  onEvent(i: number, now: Ns): void {
    const t = this.t;
    const o = i * T_STRIDE;
    t[o + T_WHERE] = -1;
    t[o + T_LANE] = -1;
    const d = t[o + T_DEADLINE]!;
    if (d < 0) return;
    if (d > now) {
      // Re-armed since it was queued: through a lane when one has exactly the delay left.
      const lane = this.engine.laneFor(d - now);
      if (lane === null) this.queue(i, d);
      else this.queueLane(i, lane, d);
      return;
    }
    t[o + T_DEADLINE] = -1;
    this.fire(i, now);
  }

  private queue(i: number, at: Ns): void {
    const o = i * T_STRIDE;
    this.t[o + T_WHERE] = this.engine.atCode(at, this, i);
    this.t[o + T_QUEUED_AT] = at;
  }

  /** Queue timer `i` in `lane`, whose delay from now ends at `at`. */
  private queueLane(i: number, lane: Lane, at: Ns): void {
    const o = i * T_STRIDE;
    this.t[o + T_WHERE] = this.engine.postLane(lane, this, i);
    this.t[o + T_QUEUED_AT] = at;
    this.t[o + T_LANE] = lane.id;
  }
}
