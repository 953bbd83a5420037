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

export class Engine {
  /** Current virtual time. Advances only in step() and run(). */
  now: Ns = 0;
  /** Events run so far (cancelled ones are not counted). */
  processed = 0;
  private readonly queue = new EventQueue<Item>();
  private readonly streams: RngStreams;

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
    if (!(at >= this.now)) throw new RangeError(`cannot schedule at ${at} ns: now is ${this.now} ns`);
    if (!(code >= 0 && code <= 0x7fffffff && (code | 0) === code)) throw new RangeError(`event code must be a 31-bit non-negative integer, got ${code}`);
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
    return this.queue.size;
  }

  /** Time of the next event that will run, or Infinity. Drops cancelled events at the front. */
  peekTime(): Ns {
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
        const slot = q.popSlot();
        if (slot === NIL) break;
        this.dispatch(slot);
      }
      return;
    }
    while (this.peekTime() <= until) this.dispatch(q.popSlot());
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
 * re-queues itself. IPVS re-arms a connection's timer on every packet, so this matters.
 * Uses coded events, so arming allocates nothing.
 */
export class Timer implements EventReceiver {
  private expires: Ns = -1;
  /** Ticket of the queued event (-1: none) and the time it is queued for. */
  private ticket: Ticket = -1;
  private queuedAt: Ns = -1;

  /**
   * `fire` is a callback, or a receiver that gets `onEvent(code, now)`: an object with many
   * timers (a connection entry, a socket) then needs no closure per timer.
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
    if (!(at >= this.engine.now)) throw new RangeError(`cannot arm a timer at ${at} ns: now is ${this.engine.now} ns`);
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
