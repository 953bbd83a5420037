/**
 * npm run fuzz: the parser properties of test/fuzz/properties.ts on many generated inputs
 * (100,000 per parser; fewer for whole-scenario runs, each of which builds and runs a world).
 * Prints, per target: inputs, crashes (an exception), violations (a property that did not
 * hold), hangs (an input that took longer than HANG_MS), and the slowest input's time.
 * Exits 1 when anything was found, with the first few inputs that showed it.
 *
 *   npm run fuzz                     all targets, 100,000 inputs each
 *   npm run fuzz -- --runs 5000      fewer inputs
 *   npm run fuzz -- --only scenario  targets whose name contains the word
 *   npm run fuzz -- --seed 7         another sequence of inputs (default: 1)
 */
import fc from 'fast-check';
import { TARGETS } from '../test/fuzz/properties';

/** An input slower than this (ms) counts as a hang, unless the target sets its own. */
const HANG_MS = 1000;
const CHUNK = 2000;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(flag('runs') ?? 100_000);
const seed = Number(flag('seed') ?? 1);
const only = flag('only');
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run fuzz -- [--runs N] [--seed N] [--only NAME]\n');
  process.exit(2);
}

let found = 0;
process.stdout.write(`${'target'.padEnd(28)} ${'inputs'.padStart(8)} ${'crashes'.padStart(8)} ${'violations'.padStart(10)} ${'hangs'.padStart(6)} ${'slowest'.padStart(9)} ${'total'.padStart(8)}\n`);
for (const t of TARGETS) {
  if (only && !t.name.includes(only)) continue;
  const n = Math.min(runs, t.fuzzRuns ?? runs);
  let crashes = 0, violations = 0, hangs = 0, slowest = 0, done = 0;
  const started = performance.now();
  const examples: string[] = [];
  for (let chunk = 0; done < n; chunk++) {
    const inputs = fc.sample(t.arb, { numRuns: Math.min(CHUNK, n - done), seed: seed * 1_000_003 + chunk });
    for (const input of inputs) {
      const t0 = performance.now();
      let problem: string | null = null;
      let crashed = false;
      try {
        problem = t.check(input);
      } catch (e) {
        crashed = true;
        problem = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      if (ms > (t.hangMs ?? HANG_MS)) { hangs++; if (examples.length < 3) examples.push(`hang ${ms.toFixed(0)} ms: ${JSON.stringify(input).slice(0, 300)}`); }
      if (crashed) crashes++;
      else if (problem) violations++;
      if (problem && examples.length < 3) examples.push(`${crashed ? 'crash' : 'violation'}: ${problem}\n      input: ${JSON.stringify(input).slice(0, 300)}`);
      done++;
    }
  }
  found += crashes + violations + hangs;
  process.stdout.write(`${t.name.padEnd(28)} ${String(done).padStart(8)} ${String(crashes).padStart(8)} ${String(violations).padStart(10)} ${String(hangs).padStart(6)} ${`${slowest.toFixed(0)} ms`.padStart(9)} ${`${((performance.now() - started) / 1000).toFixed(0)} s`.padStart(8)}\n`);
  for (const e of examples) process.stdout.write(`    ${e}\n`);
}
process.exit(found ? 1 : 0);
