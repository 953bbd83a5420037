#!/usr/bin/env node
// scripts/bench-compare.mjs: lvsim's `bench` command beside other engines' implementations of
// the lb-abstract workload (docs/bench.md), through a comparison driver that is not part of
// lvsim: its path comes from --driver PATH or $LVSIM_BENCH_DRIVER. Uses `node bin/lvsim.mjs
// bench` after bundling the CLI once (scripts/build-cli.mjs, so bin runs dist/cli.mjs rather
// than compiling through tsx); otherwise bundles src/cli/bench.ts alone into $TMPDIR. A
// benchmark command must not build on each call, so the build happens here, before any run.
//
//   node scripts/bench-compare.mjs --driver PATH [driver options, e.g. --reps 5 --scheduler rr]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let driver = process.env.LVSIM_BENCH_DRIVER || null;
const passed = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--driver') driver = args[++i] ?? '';
  else if (a.startsWith('--driver=')) driver = a.slice('--driver='.length);
  else passed.push(a);
}
if (!driver) {
  console.error('bench-compare: no comparison driver given: pass --driver PATH or set LVSIM_BENCH_DRIVER to a script that runs');
  console.error('  engines side by side (called as DRIVER [options] -- node bin/lvsim.mjs bench; see docs/bench.md)');
  process.exit(2);
}
if (!existsSync(driver) || !statSync(driver).isFile()) {
  console.error(`bench-compare: the comparison driver ${driver} is not a file`);
  process.exit(2);
}

let command;
if (existsSync(join(root, 'bin/lvsim.mjs'))) {
  if (existsSync(join(root, 'scripts/build-cli.mjs'))) {
    const b = spawnSync(process.execPath, [join(root, 'scripts/build-cli.mjs')], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
  command = ['node', join(root, 'bin/lvsim.mjs'), 'bench'];
} else {
  const out = join(tmpdir(), 'lvsim-bench-compare');
  mkdirSync(out, { recursive: true });
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'src/cli/bench.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(out, 'bench.mjs'),
    logLevel: 'warning',
  });
  writeFileSync(
    join(out, 'main.mjs'),
    "import { benchMain } from './bench.mjs';\nprocess.exitCode = await benchMain(process.argv.slice(2));\n",
  );
  command = ['node', join(out, 'main.mjs')];
  console.error(`bench-compare: bin/lvsim.mjs not found; using a bundle of src/cli/bench.ts in ${out}`);
}

const r = spawnSync(driver, [...passed, '--', ...command], { stdio: 'inherit' });
process.exit(r.status ?? 1);
