/**
 * workload/check.ts: every problem of a scenario text at once, as `lvsim run` and the compare
 * runs would find them: the file's structure (scenario.ts), its workload: section (spec.ts), and
 * the command lines, which only the tools can judge, run against the hosts as a run builds them
 * (setup lines, then the traffic steps' exec: lines at their time). It lives here, not in
 * config/, because it needs the world and the workload parser above config in the layering.
 */
import { type Diagnostic, tidyDiagnostics } from '../config/diag';
import { parseScenario } from '../config/scenario';
import { runScenario } from '../world/world';
import { parseWorkload } from './spec';

export interface CheckOptions {
  /** Seed for the run that checks the command lines (default: the scenario's). */
  readonly seed?: number;
}

/**
 * All diagnostics of a scenario text: schema errors and command-line errors together, in file
 * order, each once. Never throws. The editor's live check and `lvsim run` report the same list.
 */
export function scenarioDiagnostics(text: string, file: string, opts: CheckOptions = {}): Diagnostic[] {
  const parsed = parseScenario(text, file);
  const workload = parseWorkload(text, file);
  let runDiags: readonly Diagnostic[] = [];
  try {
    // Command lines are judged by running them: a refused text has no hosts and runs nothing.
    runDiags = runScenario(parsed.scenario, { seed: opts.seed }).diagnostics;
  } catch (e) {
    runDiags = [{ file, line: 1, col: 1, endCol: 2, severity: 'error', found: e instanceof Error ? e.message : String(e), expected: 'a scenario lvsim can run (this is a bug in lvsim)' }];
  }
  const all = [...parsed.diagnostics, ...workload.diagnostics, ...runDiags];
  // Stable sort by position: the order a reader meets them in the file.
  const ordered = all.map((d, i) => ({ d, i })).sort((a, b) => a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i).map(x => x.d);
  return tidyDiagnostics(ordered);
}
