// Bundle the CLI for Node into dist/cli.mjs (bin/lvsim.mjs prefers it when it is current).
//   node scripts/build-cli.mjs [OUTDIR]     (default dist; the Dockerfile's build stage runs it)
import { build } from 'esbuild';

const outdir = process.argv[2] ?? 'dist';

// Two entries: the CLI, and the worker-thread module `lvsim compare` runs its sweeps in.
await build({
  entryPoints: { cli: 'src/cli/main.ts', compareWorker: 'src/cli/compareWorker.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
