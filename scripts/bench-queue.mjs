#!/usr/bin/env node
// scripts/bench-queue.mjs: the event set alone, under the classic "hold" model (pop the
// earliest, push one later event) at several queue sizes and delay laws: lvsim's calendar
// queue (src/sim/queue.ts) beside a (time, seq) binary heap over typed arrays, the
// structure a hand-tuned JS engine uses. Bundles src/sim/queue.ts once with esbuild.
//
//   node scripts/bench-queue.mjs [ops per case, default 2000000]
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(tmpdir(), 'lvsim-bench-queue');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { queue: join(root, 'src/sim/queue.ts'), rng: join(root, 'src/sim/rng.ts') },
  bundle: true, platform: 'node', format: 'esm', outdir: out, logLevel: 'warning',
});
const { EventQueue } = await import(pathToFileURL(join(out, 'queue.js')).href);
const { Rng } = await import(pathToFileURL(join(out, 'rng.js')).href);

class Heap {
  constructor() { this.t = new Float64Array(1 << 10); this.s = new Float64Array(1 << 10); this.n = 0; this.seq = 0; }
  push(time) {
    if (this.n === this.t.length) { const t = new Float64Array(this.n * 2); t.set(this.t); this.t = t; const s = new Float64Array(this.n * 2); s.set(this.s); this.s = s; }
    const T = this.t, S = this.s, sq = this.seq++;
    let i = this.n++;
    while (i > 0) { const p = (i - 1) >> 1; if (T[p] < time || (T[p] === time && S[p] < sq)) break; T[i] = T[p]; S[i] = S[p]; i = p; }
    T[i] = time; S[i] = sq;
  }
  pop() {
    const T = this.t, S = this.s, top = T[0], n = --this.n;
    const time = T[n], sq = S[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1; if (c >= n) break;
      if (c + 1 < n && (T[c + 1] < T[c] || (T[c + 1] === T[c] && S[c + 1] < S[c]))) c++;
      if (time < T[c] || (time === T[c] && sq < S[c])) break;
      T[i] = T[c]; S[i] = S[c]; i = c;
    }
    T[i] = time; S[i] = sq;
    return top;
  }
}

const laws = {
  'exp 1ms': (r) => r.expNs(1_000_000),
  'lb mix': (r) => { const k = r.nextU32() % 3; return k === 0 ? r.expNs(1_000_000) : k === 1 ? r.expNs(160_000_000) : 2_000_000_000; },
  'bimodal us/900s': (r) => (r.nextU32() % 4 === 0 ? 900_000_000_000 + r.expNs(1e9) : r.expNs(20_000)),
};

function holdCalendar(n, ops, law) {
  const r = new Rng(1), q = new EventQueue();
  for (let i = 0; i < n; i++) q.push(law(r), null, 0);
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) { const s = q.popSlot(); const now = q.time[s]; q.release(s); q.push(now + law(r), null, 0); }
  return performance.now() - t0;
}
function holdHeap(n, ops, law) {
  const r = new Rng(1), q = new Heap();
  for (let i = 0; i < n; i++) q.push(law(r));
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) { const now = q.pop(); q.push(now + law(r)); }
  return performance.now() - t0;
}

const ops = Number(process.argv[2] ?? 2_000_000);
console.log('law              pending   calendar Mops/s   binary heap Mops/s');
for (const [name, law] of Object.entries(laws)) {
  for (const n of [100, 2_000, 100_000]) {
    const c = holdCalendar(n, ops, law), h = holdHeap(n, ops, law);
    console.log(`${name.padEnd(16)} ${String(n).padStart(7)}   ${(ops / c / 1e3).toFixed(1).padStart(15)}   ${(ops / h / 1e3).toFixed(1).padStart(18)}`);
  }
}
