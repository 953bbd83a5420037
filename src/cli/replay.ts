/**
 * cli/replay.ts: `lvsim replay <vector.json> [--json]`. Exit 0 when everything matches the
 * vector, 1 with a readable diff otherwise, 2 for a file it cannot read.
 */
import { readFileSync } from 'node:fs';
import { formatDiagnostic } from '../config/diag';
import { replayVector, vectorError, type Vector } from '../world/replay';

export function replayMain(argv: readonly string[]): number {
  const json = argv.includes('--json');
  const unknown = argv.filter(a => a.startsWith('-') && a !== '--json');
  const files = argv.filter(a => !a.startsWith('-'));
  if (unknown.length || files.length !== 1) {
    process.stderr.write(`lvsim replay: usage: lvsim replay <vector.json> [--json]${unknown.length ? ` (unknown option ${unknown[0]})` : ''}\n`);
    return 2;
  }
  let v: Vector;
  try {
    v = JSON.parse(readFileSync(files[0], 'utf8')) as Vector;
  } catch (e) {
    process.stderr.write(`lvsim replay: cannot read ${files[0]}: ${(e as Error).message}\n`);
    return 2;
  }
  const bad = vectorError(v);
  if (bad) {
    process.stderr.write(`lvsim replay: ${files[0]}: ${bad}\n`);
    return 2;
  }
  const r = replayVector(v, files[0]);
  for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (json) {
    const out = { id: r.id, steps: r.steps.map(s => ({ n: s.n, ok: s.ok, rs: s.rs, error: s.error, after: s.after })), final: r.final };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    const lines: string[] = [`replay ${r.id}: ${v.steps.length} steps`];
    for (const [i, s] of r.steps.entries()) {
      const st = v.steps[i];
      const what = st.do === 'connect' ? `connect ${st.src} (${st.mode ?? 'close'})` : st.do === 'release' ? `release ${st.id}` : `exec ${st.cmd ?? st.command}`;
      const res = st.do === 'connect' ? (s.ok ? `-> ${s.rs}` : `failed ${s.error}`) : s.ok ? 'ok' : `failed ${s.error}`;
      const after = Object.entries(s.after).map(([k, c]) => `${k} [${c.join(',')}]`).join('  ');
      lines.push(`${String(s.n).padStart(3)} ${s.diffs.length ? 'DIFF' : 'ok  '} ${what.padEnd(42)} ${res.padEnd(18)} ${after}`);
    }
    lines.push('', r.final['ipvsadm-Ln'], '', r.final['ipvsadm-Lnc'], '', r.final['ipvsadm-stats'], '');
    lines.push(r.diffs.length ? `${r.diffs.length} difference(s) from the kernel:\n${r.diffs.join('\n')}` : 'matches the kernel vector');
    process.stdout.write(lines.join('\n') + '\n');
  }
  return r.diffs.length ? 1 : 0;
}
