// npm run bench: every benchmark lvsim has, figures printed, nothing asserted.
//  1. lb-abstract on the product's engine and wlc/rr (docs/bench.md), C = 1e5 and 1e6;
//  2. flow mode (1e5, 1e6 connections through the real IPVS table) and packet mode (the full
//     five-step path, trace off): connections per second and peak memory; and packet mode
//     with a 50-rule iptables firewall and conntrack on every host against none (medians of 3);
//  3. the scenario reader on the worst inputs under 1 MB (load or refuse, well under a second);
//  4. the browser app in headless Chromium (first render, fps with 200 packets, bundle size).
// For the side-by-side comparison with other engines: node scripts/bench-compare.mjs --driver PATH (docs/bench.md)
//
//   npm run bench -- --before REF    also: flow mode at 1e6 connections as the commit REF has it,
//                                     run alternately with this tree's (3 each, medians), so a
//                                     speed-up is measured in one session on one machine
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function step(title, cmd, args) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) console.log(`(${title}: exit ${r.status})`);
  return r.status === 0;
}

step('bundle the CLI (timings are of the bundled code)', 'node', ['scripts/build-cli.mjs']);
step('scenario reader on the worst inputs under 1 MB', 'npx', ['tsx', 'scripts/bench-parse.ts']);
step('lb-abstract (engine + scheduler)', 'node', ['bin/lvsim.mjs', 'bench-suite']);
step('flow and packet mode', 'node', ['--expose-gc', 'bin/lvsim.mjs', 'bench-flow', '--flat', '1e7']);
step('packet mode with a 50-rule firewall on every host vs none (medians of 3)', 'node', ['--expose-gc', 'bin/lvsim.mjs', 'bench-flow', '--flow', '', '--packet', '', '--packet-workload', '0', '--firewall', '1e5']);
if (existsSync('scripts/bench-ui.mjs')) step('browser', 'node', ['scripts/bench-ui.mjs']);

const bi = process.argv.indexOf('--before');
if (bi >= 0) beforeAndAfter(process.argv[bi + 1]);

/** Flow mode, 1e6 connections: commit `ref` (exported and built in a temporary directory) against this tree. */
function beforeAndAfter(ref) {
  console.log(`\n== flow mode at 1e6 connections: ${ref} against this tree (alternating, medians of 3)`);
  const rev = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref ?? ''}^{commit}`], { encoding: 'utf8' });
  if (!ref || rev.status !== 0) { console.log(`(--before: ${ref ?? '(none)'} is not a commit of this repository)`); return; }
  const dir = mkdtempSync(join(tmpdir(), 'lvsim-before-'));
  try {
    const tar = spawnSync('sh', ['-c', `git archive ${rev.stdout.trim()} | tar -x -C "${dir}"`], { stdio: 'inherit' });
    if (tar.status !== 0) { console.log('(--before: git archive failed)'); return; }
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
    if (spawnSync('node', ['scripts/build-cli.mjs'], { cwd: dir, stdio: 'ignore' }).status !== 0) { console.log(`(--before: ${ref} does not build)`); return; }
    const args = ['--expose-gc', 'bin/lvsim.mjs', 'bench-flow', '--flow', '1e6', '--packet', '', '--packet-workload', '0', '--json'];
    const one = (cwd) => {
      const r = spawnSync('node', args, { cwd, encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      try { return JSON.parse(line).flow[0]; } catch { return null; }
    };
    const runs = { before: [], after: [] };
    for (let i = 0; i < 3; i++) {
      const b = one(dir), a = one('.');
      if (!b || !a) { console.log('(--before: a run printed no figures)'); return; }
      runs.before.push(b); runs.after.push(a);
    }
    const med = (xs, k) => xs.map((x) => x[k]).sort((p, q) => p - q)[1];
    for (const [name, xs] of Object.entries(runs)) {
      console.log(`${name.padEnd(7)} ${name === 'before' ? ref : 'this tree'}: ${med(xs, 'wallS').toFixed(2)} s, ${Math.round(med(xs, 'connPerS'))} conn/s, RSS peak ${med(xs, 'peakRssMiB').toFixed(0)} MiB  (runs: ${xs.map((x) => x.wallS.toFixed(2)).join(', ')} s)`);
    }
    console.log(`speed-up: ${(med(runs.after, 'connPerS') / med(runs.before, 'connPerS')).toFixed(2)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
