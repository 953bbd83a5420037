/**
 * config/fwd_method.ts: one scenario, another forwarding method. Rewrites the method flag of
 * every `ipvsadm -a` / `-e` (--add-server / --edit-server) line in a scenario's text to -i, -g
 * or -m, keeping everything else as typed, so the same topology can be run as TUN, DR and NAT
 * (the browser's mode switch). A line without a method flag is ipvsadm's default, -g.
 */
import type { FwdMethod } from '../ipvs/types';

const FLAG: Record<FwdMethod, string> = { tunnel: '-i', route: '-g', masq: '-m' };
const METHOD_WORDS = new Map<string, FwdMethod>([
  ['-i', 'tunnel'], ['--ipip', 'tunnel'], ['-g', 'route'], ['--gatewaying', 'route'], ['-m', 'masq'], ['--masquerading', 'masq'],
]);
const DEST_CMD = /(^|[\s;|&])ipvsadm\s+(?:[^#\n]*\s)?(-a|--add-server|-e|--edit-server)(\s|$)/;

/** The destination lines of a scenario: index in `lines`, and the method each names. */
function destLines(lines: readonly string[]): Array<{ i: number; method: FwdMethod }> {
  const out: Array<{ i: number; method: FwdMethod }> = [];
  lines.forEach((l, i) => {
    const code = l.replace(/#.*$/, '');
    if (!DEST_CMD.test(code)) return;
    let method: FwdMethod = 'route';
    for (const w of code.trim().split(/\s+/)) { const m = METHOD_WORDS.get(w); if (m) method = m; }
    out.push({ i, method });
  });
  return out;
}

/** The method all destination lines use, 'mixed' when they differ, null when there are none. */
export function scenarioFwdMethod(text: string): FwdMethod | 'mixed' | null {
  const ds = destLines(text.split('\n'));
  if (ds.length === 0) return null;
  return ds.every(d => d.method === ds[0]!.method) ? ds[0]!.method : 'mixed';
}

/** The scenario with every destination line using `method`; `changed` counts the lines rewritten. */
export function withFwdMethod(text: string, method: FwdMethod): { text: string; changed: number } {
  const lines = text.split('\n');
  let changed = 0;
  for (const { i, method: was } of destLines(lines)) {
    if (was === method) continue;
    const line = lines[i]!;
    const hash = line.indexOf('#');
    const code = hash < 0 ? line : line.slice(0, hash);
    const rest = hash < 0 ? '' : line.slice(hash);
    // Drop the old flag (with its leading space), then put the new one after the -r argument.
    let next = code.replace(/\s(-i|--ipip|-g|--gatewaying|-m|--masquerading)(?=\s|$)/g, '');
    next = /\s(-r|--real-server)\s+\S+/.test(next)
      ? next.replace(/(\s(?:-r|--real-server)\s+\S+)/, `$1 ${FLAG[method]}`)
      : `${next.replace(/\s+$/, '')} ${FLAG[method]}`;
    lines[i] = next + (rest ? (next.endsWith(' ') ? '' : ' ') + rest : '');
    changed++;
  }
  return { text: lines.join('\n'), changed };
}
