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
