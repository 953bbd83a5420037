#!/usr/bin/env node
// scripts/bench-compare.mjs: lvsim's `bench` command beside the peers, through
// ../shared/bench/compare.sh (CONTRACT.md). Uses `node bin/lvsim.mjs bench` when the CLI
// is there, after bundling it once (scripts/build-cli.mjs, so bin runs dist/cli.mjs rather
// than compiling through tsx); otherwise bundles src/cli/bench.ts alone into $TMPDIR. The
// contract forbids building on each call, so the build happens here, before any run.
//
//   node scripts/bench-compare.mjs [compare.sh options, e.g. --reps 5 --scheduler rr]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const compare = resolve(root, '../shared/bench/compare.sh');
if (!existsSync(compare)) {
  console.error(`bench-compare: ${compare} not found`);
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

const r = spawnSync(compare, [...process.argv.slice(2), '--', ...command], { stdio: 'inherit' });
process.exit(r.status ?? 1);
