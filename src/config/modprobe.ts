/**
 * config/modprobe.ts: kmod's modprobe, rmmod and lsmod for the modules the model knows
 * (KNOWN_MODULES in kernel/host.ts). Loading ipip brings tunnel4 and ip_tunnel and creates
 * tunl0; ip_vs_<sched> brings ip_vs. Messages are kmod 30's; the kernel release in them is
 * the oracle's (Debian 6.1).
 * Not modelled: module parameters, reference counts from users other than dependent modules.
 */
import { KernelError, KNOWN_MODULES } from '../kernel/host';
import type { Tool, ToolResult } from './tool';

export const KERNEL_RELEASE = '6.1.0-56-amd64';

/** Plausible module sizes for lsmod (Debian 6.1 amd64 builds). */
const SIZES: Record<string, number> = {
  ipip: 20480, tunnel4: 16384, ip_tunnel: 32768, ip_vs: 196608, nf_conntrack: 188416, iptable_filter: 16384, dummy: 16384,
};

/** Modules that depend on each module (lsmod's "Used by"). */
function holders(mods: ReadonlySet<string>, m: string): string[] {
  if (m === 'tunnel4' || m === 'ip_tunnel') return mods.has('ipip') ? ['ipip'] : [];
  if (m === 'ip_vs') return [...mods].filter(x => x.startsWith('ip_vs_')).reverse();
  return [];
}

function fail(exit: number, stderr: string, word: number, expected: string): ToolResult {
  return { exit, stdout: '', stderr: stderr + '\n', errorAt: { word, expected } };
}

export const modprobe: Tool = (argv, ctx) => {
  let remove = false;
  let quiet = false;
  let verbose = false;
  const names: Array<{ name: string; at: number }> = [];
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i].text;
    if (w === '-r' || w === '--remove') remove = true;
    else if (w === '-q' || w === '--quiet') quiet = true;
    else if (w === '-v' || w === '--verbose') verbose = true;
    else if (w === '-a' || w === '--all' || w === '-b' || w === '--use-blacklist' || w === '-f' || w === '--force') { /* accepted */ }
    else if (w.startsWith('-')) return fail(1, `modprobe: unrecognized option '${w}'`, i, 'an option such as -r, -q, -v');
    else if (w.includes('=')) { if (names.length === 0) return fail(1, `modprobe: FATAL: Module ${w} not found in directory /lib/modules/${KERNEL_RELEASE}`, i, 'a module name'); }
    else names.push({ name: w, at: i });
  }
  if (names.length === 0) return fail(1, 'modprobe: ERROR: missing parameters. See -h.', 0, 'a module name such as ipip');
  // Without -r or -a, only the first name is a module; the rest are its parameters.
  const targets = remove ? names : [names[0]];
  let out = '';
  for (const { name, at } of targets) {
    const m = name.replace(/-/g, '_');
    if (remove) {
      if (!KNOWN_MODULES.has(m)) { if (quiet) continue; return fail(1, `modprobe: FATAL: Module ${name} not found.`, at, 'a loaded module (lsmod)'); }
      if (!ctx.host.modules.has(m)) { if (quiet) continue; return fail(1, `modprobe: FATAL: Module ${name} is not in kernel.`, at, 'a loaded module (lsmod)'); }
      if (verbose) out += `rmmod ${m}\n`;
      ctx.host.rmmod(m);
      continue;
    }
    if (!KNOWN_MODULES.has(m)) {
      if (quiet) return { exit: 1, stdout: '', stderr: '', errorAt: { word: at, expected: `a module the model knows: ${[...KNOWN_MODULES].join(', ')}` } };
      return fail(1, `modprobe: FATAL: Module ${name} not found in directory /lib/modules/${KERNEL_RELEASE}`, at, `a module the model knows: ${[...KNOWN_MODULES].join(', ')}`);
    }
    if (verbose && !ctx.host.modules.has(m)) out += `insmod /lib/modules/${KERNEL_RELEASE}/kernel/net/ipv4/${m}.ko \n`;
    try { ctx.host.modprobe(m); } catch (e) {
      if (e instanceof KernelError) return fail(1, `modprobe: ERROR: could not insert '${m}': ${e.message}`, at, 'a module that loads');
      throw e;
    }
  }
  return { exit: 0, stdout: out, stderr: '' };
};

export const rmmod: Tool = (argv, ctx) => {
  const names = argv.slice(1).map((w, k) => ({ name: w.text, at: k + 1 })).filter(x => !x.name.startsWith('-'));
  if (names.length === 0) return fail(1, 'rmmod: ERROR: missing module name.', 0, 'a module name');
  for (const { name, at } of names) {
    const m = name.replace(/-/g, '_');
    if (!ctx.host.modules.has(m)) return fail(1, `rmmod: ERROR: Module ${name} is not currently loaded`, at, 'a loaded module (lsmod)');
    const users = holders(ctx.host.modules, m);
    if (users.length) return fail(1, `rmmod: ERROR: Module ${m} is in use by: ${users.join(' ')}`, at, `remove ${users.join(', ')} first (or modprobe -r ${m})`);
    ctx.host.rmmod(m);
  }
  return { exit: 0, stdout: '', stderr: '' };
};

export const lsmod: Tool = (argv, ctx) => {
  if (argv.length > 1) return fail(1, 'Usage: lsmod', 1, 'no arguments');
  let out = 'Module                  Size  Used by\n';
  for (const m of [...ctx.host.modules].reverse()) {
    const h = holders(ctx.host.modules, m);
    out += `${m.padEnd(19)} ${String(SIZES[m] ?? 16384).padStart(8)}  ${h.length}${h.length ? ' ' + h.join(',') : ''}\n`;
  }
  return { exit: 0, stdout: out, stderr: '' };
};
