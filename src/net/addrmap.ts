/**
 * net/addrmap.ts: a hash map keyed by IPv4 address, for the per-packet lookups (FIB caches,
 * local addresses, learned path MTUs). A Map keyed by a number above 2^30 hashes a boxed
 * heap number, and boxing one from an unboxed field allocates; here keys stay in an Int32Array
 * (open addressing, linear probing, Fibonacci hashing), so a lookup allocates nothing.
 * Iteration order is not insertion order; views that list entries sort them.
 */
import type { Ip4 } from './addr';

const EMPTY = 0;
const FULL = 1;
const GONE = 2;

export class AddrMap<V> {
  // Set by allocate(), which the constructor calls.
  private keys!: Int32Array;
  private vals!: (V | undefined)[];
  private state!: Uint8Array;
  private shift!: number;
  /** Slots not EMPTY (entries and tombstones). */
  private used!: number;
  /** Entries held. */
  size!: number;

  constructor(capacity = 16) {
    this.allocate(capacity * 2);
  }

  /** An empty table of at least `min` slots (a power of two, 16 or more). */
  private allocate(min: number): void {
    let cap = 16;
    while (cap < min) cap *= 2;
    this.keys = new Int32Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.state = new Uint8Array(cap);
    this.shift = 32 - Math.log2(cap);
    this.used = 0;
    this.size = 0;
  }

  private slot(k: number): number {
    const mask = this.keys.length - 1;
    let i = Math.imul(k, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const s = this.state[i]!;
      if (s === EMPTY) return -1;
      if (s === FULL && this.keys[i] === k) return i;
      i = (i + 1) & mask;
    }
  }

  get(addr: Ip4): V | undefined {
    const i = this.slot(addr | 0);
    return i < 0 ? undefined : this.vals[i];
  }

  has(addr: Ip4): boolean {
    return this.slot(addr | 0) >= 0;
  }

  set(addr: Ip4, v: V): this {
    const k = addr | 0;
    const i = this.slot(k);
    if (i >= 0) { this.vals[i] = v; return this; }
    if ((this.used + 1) * 2 > this.keys.length) this.rehash(this.size + 1);
    const mask = this.keys.length - 1;
    let j = Math.imul(k, 0x9e3779b1) >>> this.shift;
    while (this.state[j] === FULL) j = (j + 1) & mask;
    if (this.state[j] === EMPTY) this.used++;
    this.state[j] = FULL;
    this.keys[j] = k;
    this.vals[j] = v;
    this.size++;
    return this;
  }

  delete(addr: Ip4): boolean {
    const i = this.slot(addr | 0);
    if (i < 0) return false;
    this.state[i] = GONE;
    this.vals[i] = undefined;
    this.size--;
    return true;
  }

  clear(): void {
    this.state.fill(EMPTY);
    this.vals.fill(undefined);
    this.used = 0;
    this.size = 0;
  }

  *entries(): IterableIterator<[Ip4, V]> {
    for (let i = 0; i < this.keys.length; i++) if (this.state[i] === FULL) yield [this.keys[i]! >>> 0, this.vals[i]!];
  }

  /** Grow (or just drop tombstones) so that `n` entries fill at most a quarter. */
  private rehash(n: number): void {
    const { keys, vals, state } = this;
    this.allocate(n * 4);
    for (let i = 0; i < keys.length; i++) if (state[i] === FULL) this.set(keys[i]!, vals[i]!);
  }
}
