// npm run bench: every benchmark lvsim has, figures printed, nothing asserted.
//  1. lb-abstract on the product's engine and wlc/rr (docs/bench.md), C = 1e5 and 1e6;
//  2. flow mode (1e5, 1e6 connections through the real IPVS table) and packet mode (the full
//     five-step path, trace off): connections per second and peak memory; and packet mode
//     with a 50-rule iptables firewall and conntrack on every host against none (medians of 3);
//  3. the scenario reader on the worst inputs under 1 MB (load or refuse, well under a second);
//  4. the browser app in headless Chromium (first render, fps with 200 packets, bundle size).
// For the side-by-side comparison with other engines: node scripts/bench-compare.mjs --driver PATH (docs/bench.md)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function step(title, cmd, args) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) console.log(`(${title}: exit ${r.status})`);
  return r.status === 0;
}

step('bundle the CLI (timings are of the bundled code)', 'node', ['scripts/build-cli.mjs']);
step('scenario reader on the worst inputs under 1 MB', 'npx', ['tsx', 'scripts/bench-parse.ts']);
step('lb-abstract (engine + scheduler)', 'node', ['bin/lvsim.mjs', 'bench-suite']);
step('flow and packet mode', 'node', ['--expose-gc', 'bin/lvsim.mjs', 'bench-flow']);
step('packet mode with a 50-rule firewall on every host vs none (medians of 3)', 'node', ['--expose-gc', 'bin/lvsim.mjs', 'bench-flow', '--flow', '', '--packet', '', '--packet-workload', '0', '--firewall', '1e5']);
if (existsSync('scripts/bench-ui.mjs')) step('browser', 'node', ['scripts/bench-ui.mjs']);
