/**
 * cli/doctor.ts: `lvsim doctor SCENARIO [--json]`: what will break, and why, before a packet
 * moves. Exit 1 when an error is found, 0 otherwise, 2 for bad input.
 */
import { readFileSync } from 'node:fs';
import { formatDiagnostic } from '../config/diag';
import { confirmFindings, confirmedBy, doctorScenarioText, formatFinding } from '../world/doctor';
import { checkExpectations, describeExpectation } from '../world/expect';
import type { Run } from '../world/world';

export function doctorMain(argv: readonly string[]): number {
  const files = argv.filter(a => !a.startsWith('-'));
  const bad = argv.filter(a => a.startsWith('-') && a !== '--json');
  if (bad.length) { process.stderr.write(`lvsim: unknown option ${bad[0]} for doctor (expected --json)\n`); return 2; }
  if (files.length !== 1) { process.stderr.write('lvsim: doctor needs one scenario file: lvsim doctor scenarios/tun-different-subnets.yaml\n'); return 2; }
  const file = files[0]!;
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { process.stderr.write(`lvsim: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}\n`); return 2; }
  const { findings, diagnostics } = doctorScenarioText(text, file);
  const errors = findings.filter(f => f.severity === 'error').length;
  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ file, findings: findings.map(({ proof: _p, ...f }) => f), diagnostics }, null, 2) + '\n');
  } else {
    const out: string[] = [];
    for (const d of diagnostics) out.push(formatDiagnostic(d));
    for (const f of findings) out.push(formatFinding(f));
    const warns = findings.filter(f => f.severity === 'warn').length;
    const infos = findings.length - errors - warns;
    out.push(findings.length === 0 ? `${file}: no problems found` : `${file}: ${errors} error(s), ${warns} warning(s), ${infos} note(s)`);
    process.stdout.write(out.join('\n') + '\n');
  }
  if (diagnostics.some(d => d.severity === 'error')) return 2;
  return errors > 0 ? 1 : 0;
}

/**
 * The part of `lvsim run`'s report that the doctor and the scenario's expectations add: each
 * finding with the packet that confirms it (or that the run did not exercise it), and each
 * `expect:` with its verdict. `failed` is true when an expectation was not met.
 */
export function runFindings(run: Run, text: string): { lines: string[]; failed: boolean } {
  const lines: string[] = [];
  const { findings } = doctorScenarioText(text, run.scenario.file, run.world.engine.seed);
  const conf = confirmFindings(findings, run.world.records);
  if (conf.length) {
    lines.push('');
    lines.push('doctor:');
    for (const c of conf) {
      const f = c.finding;
      const r = c.record;
      const proof = r ? `confirmed: ${confirmedBy(r)}` : f.proof ? 'not exercised by this run' : 'not visible as a drop';
      lines.push(`  ${f.file}:${f.line}:${f.col}: ${f.severity} ${f.code} [${f.host}]: ${proof}`);
    }
  }
  const ex = checkExpectations(run);
  if (ex.length) {
    lines.push('');
    lines.push('expectations:');
    for (const e of ex) {
      lines.push(`  ${e.pass ? 'pass' : 'FAIL'} ${e.id}: expected ${describeExpectation(e.expect)}, got ${e.got} (${run.scenario.file}:${e.expect.pos.line}:${e.expect.pos.col})`);
    }
  }
  return { lines, failed: ex.some(e => !e.pass) };
}
