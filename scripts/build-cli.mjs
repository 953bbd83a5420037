// Bundle the CLI for Node into dist/cli.mjs (bin/lvsim.mjs prefers it when it is current).
import { build } from 'esbuild';

// Two entries: the CLI, and the worker-thread module `lvsim compare` runs its sweeps in.
await build({
  entryPoints: { cli: 'src/cli/main.ts', compareWorker: 'src/cli/compareWorker.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
