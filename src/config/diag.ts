/**
 * config/diag.ts: what every parser reports. A diagnostic names the place (file:line:col),
 * what was found, what was expected, and where the real tool would refuse the line, the
 * tool's own message (ipvsadm's "Service already exists", ip's "RTNETLINK answers: ...").
 */
export interface Diagnostic {
  readonly file: string;
  /** 1-based line and column of the offending token. */
  readonly line: number;
  readonly col: number;
  /** Column just past the token (for underlining in the editor). */
  readonly endCol: number;
  readonly severity: 'error' | 'warning';
  /** What was there, verbatim ("172.16.29.6:90o1"). */
  readonly found: string;
  /** What would have been accepted ("an address:port such as 172.16.29.6:9001"). */
  readonly expected: string;
  /** The real tool's message, when it would have refused the line. */
  readonly tool?: string;
}

/** "scenarios/x.yaml:12:7: error: found '90o1', expected a port number (ipvsadm: ...)". */
export function formatDiagnostic(d: Diagnostic): string {
  const tool = d.tool ? `\n    ${d.tool}` : '';
  // A warning's `expected` carries its message: the line was accepted.
  if (d.severity === 'warning') return `${d.file}:${d.line}:${d.col}: warning: ${quote(d.found)}: ${d.expected}${tool}`;
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: found ${quote(d.found)}, expected ${d.expected}${tool}`;
}

function quote(s: string): string {
  return s === '' ? 'nothing' : `'${s}'`;
}

/** Most diagnostics one parse reports; past this the text is not what the parser was meant for. */
export const MAX_DIAGNOSTICS = 200;

/** Drop exact repeats and keep at most MAX_DIAGNOSTICS, the last one saying how many more there were. */
export function tidyDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  let more = 0;
  for (const d of diags) {
    const k = `${d.file}\0${d.line}\0${d.col}\0${d.severity}\0${d.found}\0${d.expected}\0${d.tool ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (out.length < MAX_DIAGNOSTICS) out.push(d);
    else more++;
  }
  if (more) {
    const last = out[out.length - 1]!;
    out.push({ file: last.file, line: last.line, col: last.col, endCol: last.endCol, severity: 'error', found: `${more} more problems`, expected: `a scenario; only the first ${MAX_DIAGNOSTICS} problems are listed` });
  }
  return out;
}
