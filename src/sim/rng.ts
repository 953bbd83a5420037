/**
 * sim/rng.ts: seeded pseudo-random streams. Each named consumer gets its own stream whose
 * seed is derived from (run seed, name), so adding a consumer never shifts another's draws.
 * The generator is mulberry32 (32-bit state), the one the benchmark workload pins down.
 */

/** One stream of 32-bit draws. */
export class Rng {
  /** The state as a signed 32-bit integer (same bits as mulberry32's uint32; stays a small integer). */
  private a: number;

  constructor(seed: number) {
    this.a = seed | 0;
  }

  /** Next unsigned 32-bit integer (mulberry32). */
  nextU32(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform double in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Exponential draw with mean `mean` ns, rounded to whole ns as floor(e*M + 0.5). */
  expNs(mean: number): number {
    const v = 1.0 - this.nextU32() / 4294967296;
    return Math.floor(-Math.log(v) * mean + 0.5);
  }
}

/** FNV-1a over the UTF-16 code units of `s`, mixed with `seed`. */
function seedFor(seed: number, name: string): number {
  let h = (2166136261 ^ (seed >>> 0)) >>> 0;
  h = Math.imul(h, 16777619) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  }
  return h;
}

export class RngStreams {
  private readonly streams = new Map<string, Rng>();

  constructor(readonly seed: number) {}

  get(name: string): Rng {
    let r = this.streams.get(name);
    if (!r) {
      r = new Rng(seedFor(this.seed, name));
      this.streams.set(name, r);
    }
    return r;
  }
}
