/**
 * sim/engine.ts: the discrete-event engine. Virtual time is an integer number of nanoseconds
 * held in a JS number (exact up to 2^53 ns, about 104 days). One queue ordered by
 * (time, sequence): among events at the same instant the one scheduled first runs first.
 * The engine knows no packets; everything above it schedules plain callbacks.
 */
import { EventQueue } from './queue';
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

interface Event extends EventHandle {
  fn: (now: Ns) => void;
}

export class Engine {
  /** Current virtual time. Advances only in step(). */
  now: Ns = 0;
  /** Events run so far (cancelled ones are not counted). */
  processed = 0;
  private readonly queue = new EventQueue<Event>();
  private readonly streams: RngStreams;

  constructor(readonly seed: number = 1) {
    this.streams = new RngStreams(seed);
  }

  /** Run `fn` at absolute time `at` (never earlier than now). */
  at(at: Ns, fn: (now: Ns) => void): EventHandle {
    if (!(at >= this.now)) throw new RangeError(`cannot schedule at ${at} ns: now is ${this.now} ns`);
    const ev: Event = { at, fn, cancelled: false };
    this.queue.push(at, ev);
    return ev;
  }

  /** Run `fn` after `delay` ns. */
  after(delay: Ns, fn: (now: Ns) => void): EventHandle {
    return this.at(this.now + delay, fn);
  }

  cancel(h: EventHandle | null | undefined): void {
    if (h) h.cancelled = true;
  }

  /** Pending events, including cancelled ones not yet popped. */
  get pending(): number {
    return this.queue.size;
  }

  /** Time of the next pending event, or Infinity. */
  peekTime(): Ns {
    return this.queue.size ? this.queue.peekKey() : Infinity;
  }

  /** Run the earliest event. Returns false when the queue is empty. */
  step(): boolean {
    for (;;) {
      if (this.queue.size === 0) return false;
      const at = this.queue.peekKey();
      const ev = this.queue.pop()!;
      if (ev.cancelled) continue;
      this.now = at;
      this.processed++;
      ev.fn(at);
      return true;
    }
  }

  /** Run until the queue is empty or the next event is later than `until`. */
  run(until: Ns = Infinity): void {
    while (this.queue.size && this.queue.peekKey() <= until) this.step();
    if (until !== Infinity && until > this.now) this.now = until;
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
 */
export class Timer {
  private expires: Ns = -1;
  private handle: EventHandle | null = null;

  constructor(private readonly engine: Engine, private readonly fire: (now: Ns) => void) {}

  get armed(): boolean {
    return this.expires >= 0;
  }

  get expiry(): Ns {
    return this.expires;
  }

  /** Arm (or re-arm) to fire at absolute time `at`. */
  mod(at: Ns): void {
    this.expires = at;
    if (this.handle && !this.handle.cancelled && this.handle.at <= at) return;
    this.engine.cancel(this.handle);
    this.handle = this.engine.at(at, this.onEvent);
  }

  del(): void {
    this.expires = -1;
    this.engine.cancel(this.handle);
    this.handle = null;
  }

  private readonly onEvent = (now: Ns): void => {
    if (this.expires < 0) return;
    if (this.expires > now) {
      this.handle = this.engine.at(this.expires, this.onEvent);
      return;
    }
    this.expires = -1;
    this.handle = null;
    this.fire(now);
  };
}
