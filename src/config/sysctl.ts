/**
 * config/sysctl.ts: procps-ng's `sysctl` (4.0, Debian 12) and the sysctl.conf format it
 * loads with -p. An argument with '=' writes even without -w (procps-ng WriteSetting when
 * `-w || strchr(arg, '=')`); keys may use slashes (net/ipv4/ip_forward). Each failing key adds
 * -1 to the exit status, as procps-ng sums its return codes (one failure exits 255).
 * Messages are procps-ng's: "sysctl: cannot stat /proc/sys/...: No such file or directory",
 * "sysctl: setting key \"...\": Invalid argument".
 * Keys Linux has that the model does not (kernel.sysrq, vm.swappiness, net.core.rmem_max ...,
 * kernel/sysctl_linux.ts) are written with a warning and read back; a misspelt key is missing.
 * Not modelled: --system (use -p FILE), globs in key names, -b binary output.
 */
import type { Host } from '../kernel/host';
import type { Diagnostic } from './diag';
import type { FileError, Tool, ToolResult } from './tool';
import { ToolFail, runGuarded, globMatch } from './ip';
import { SYSCTL_RANGES } from '../kernel/sysctl';

/** Keys holding more than one integer (written with spaces or tabs between them). */
const MULTI = new Set(['net.ipv4.ip_local_port_range', 'net.ipv4.vs.sync_threshold']);

/** What a key accepts, for the diagnostic of a refused write: its kernel range, else an integer. */
export function acceptedValues(key: string): string {
  const r = SYSCTL_RANGES[key];
  if (r) return `a value ${key} accepts (an integer from ${r[0]} to ${r[1]})`;
  return MULTI.has(key) ? `a value ${key} accepts (two integers)` : `a value ${key} accepts (an integer)`;
}

/** "net/ipv4/ip_forward" -> "net.ipv4.ip_forward" (procps-ng slashdot: only when the key has a slash). */
export function normaliseKey(k: string): string {
  return k.includes('/') ? k.replace(/^\/+/, '').replace(/\./g, '\u0000').replace(/\//g, '.').replace(/\u0000/g, '/') : k;
}

/**
 * Write one key as the kernel's proc handler would take the text: proc_dointvec refuses
 * anything but an integer that fits in an int (EINVAL). Returns the error text (without
 * "sysctl: ") or null.
 */
export function writeSysctl(host: Host, key: string, value: string): string | null {
  if (host.sysctl.isUnmodelled(key)) { host.sysctl.setUnmodelled(key, value); return null; }
  if (!host.sysctl.has(key)) return `cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory`;
  const v = value.trim();
  if (!MULTI.has(key)) {
    const m = /^(-?)(\d+)$/.exec(v);
    const n = m ? Number(v) : NaN;
    if (!m || n > 2147483647 || n < -2147483648) return `setting key "${key}": Invalid argument`;
  }
  const err = host.sysctl.set(key, v);
  return err ? err.message : null;
}

/** The warning for a write to a key Linux has and lvsim does not model. */
export const unmodelledNote = (key: string): string =>
  `${key} is not modelled: the value is kept but changes nothing in the simulation`;

/** What `sysctl KEY` prints for an unmodelled key that was never written: lvsim does not know its value. */
export const unmodelledUnset = (key: string): string =>
  `lvsim: ${key} exists on Linux but is not modelled, and nothing in the scenario set it, so its value is unknown`;

export interface SysctlConfEntry {
  readonly key: string;
  readonly value: string;
  /** A leading '-': errors on this line are ignored. */
  readonly ignoreErrors: boolean;
  readonly line: number;
  readonly keyCol: number;
  readonly valueCol: number;
}

/**
 * Parse sysctl.conf text as procps-ng's Preload() reads it: blank lines and lines starting
 * with '#' or ';' are skipped; "key = value" with spaces around either side; a leading '-'
 * ignores a failure of that line. A line without '=' is "invalid syntax".
 */
export function parseSysctlConf(text: string, path: string): { entries: SysctlConfEntry[]; diagnostics: Diagnostic[] } {
  const entries: SysctlConfEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].replace(/\r$/, '');
    const lead = raw.length - raw.trimStart().length;
    const t = raw.trimStart();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    const eq = t.indexOf('=');
    if (eq < 0) {
      diagnostics.push({ file: path, line: n + 1, col: lead + 1, endCol: raw.length + 1, severity: 'error', found: t, expected: 'a line "key = value"', tool: `sysctl: ${path}(${n + 1}): invalid syntax, continuing...` });
      continue;
    }
    let keyPart = t.slice(0, eq);
    let ignoreErrors = false;
    let keyCol = lead + 1;
    if (keyPart.startsWith('-')) { ignoreErrors = true; keyPart = keyPart.slice(1); keyCol++; }
    const kLead = keyPart.length - keyPart.trimStart().length;
    const key = keyPart.trim();
    keyCol += kLead;
    const valRaw = t.slice(eq + 1);
    const value = valRaw.trim();
    const valueCol = lead + eq + 2 + (valRaw.length - valRaw.trimStart().length);
    if (key === '' || /\s/.test(key)) {
      diagnostics.push({ file: path, line: n + 1, col: keyCol, endCol: keyCol + Math.max(1, key.length), severity: 'error', found: key, expected: 'a key such as net.ipv4.ip_forward', tool: `sysctl: ${path}(${n + 1}): invalid syntax, continuing...` });
      continue;
    }
    if (value === '') {
      diagnostics.push({ file: path, line: n + 1, col: valueCol, endCol: valueCol + 1, severity: 'error', found: '', expected: `a value for ${key}`, tool: `sysctl: ${path}(${n + 1}): invalid syntax, continuing...` });
      continue;
    }
    entries.push({ key: normaliseKey(key), value, ignoreErrors, line: n + 1, keyCol, valueCol });
  }
  return { entries, diagnostics };
}

/**
 * Apply sysctl.conf text (sysctl -p, systemd-sysctl) as procps-ng does: every line is tried,
 * a refused one prints its own message and the others still apply. Returns stdout, stderr,
 * the procps return code and one FileError per refused line.
 */
export function loadSysctlConf(host: Host, text: string, path: string, quiet: boolean): { stdout: string; stderr: string; rc: number; errors: FileError[]; notes: FileError[] } {
  const { entries, diagnostics } = parseSysctlConf(text, path);
  let stdout = '';
  let stderr = '';
  let rc = 0;
  const errors: FileError[] = [];
  const notes: FileError[] = [];
  const all = [...entries.map(e => ({ line: e.line, e })), ...diagnostics.map(d => ({ line: d.line, d }))].sort((a, b) => a.line - b.line);
  for (const x of all) {
    if ('d' in x) {
      const msg = `sysctl: ${path}(${x.line}): invalid syntax, continuing...`;
      stderr += msg + '\n';
      errors.push({ path, line: x.d.line, col: x.d.col, endCol: x.d.endCol, found: x.d.found, expected: x.d.expected, tool: msg });
      continue;
    }
    const e = x.e;
    if (host.sysctl.isUnmodelled(e.key)) {
      notes.push({ path, line: e.line, col: e.keyCol, endCol: e.keyCol + e.key.length, found: e.key, expected: unmodelledNote(e.key), tool: `${e.key} = ${e.value}`, severity: 'warning' });
    }
    const err = writeSysctl(host, e.key, e.value);
    if (err) {
      if (!e.ignoreErrors) {
        stderr += `sysctl: ${err}\n`;
        rc = -1;
        const missing = err.startsWith('cannot stat');
        errors.push(missing
          ? { path, line: e.line, col: e.keyCol, endCol: e.keyCol + e.key.length, found: e.key, expected: 'an existing key (sysctl -a lists them; net.ipv4.vs.* appear once ip_vs is loaded)', tool: `sysctl: ${err}` }
          : { path, line: e.line, col: e.valueCol, endCol: e.valueCol + e.value.length, found: e.value, expected: acceptedValues(e.key), tool: `sysctl: ${err}` });
      }
      continue;
    }
    if (!quiet) stdout += `${e.key} = ${e.value}\n`;
  }
  return { stdout, stderr, rc, errors, notes };
}

const USAGE_HINT = "Try `sysctl --help' for more information.";

/** The `sysctl` tool. */
export const sysctl: Tool = (argv, ctx) => {
  const warnings: Array<{ word: number; message: string }> = [];
  const r = sysctlRun(argv, ctx, warnings);
  return warnings.length && r.exit === 0 ? { ...r, warnings } : r;
};

function sysctlRun(argv: Parameters<Tool>[0], ctx: Parameters<Tool>[1], warnings: Array<{ word: number; message: string }>): ToolResult {
  return runGuarded('sysctl', () => {
    const host = ctx.host;
    let write = false, quiet = false, valuesOnly = false, namesOnly = false, all = false, load = false, ignore = false;
    let pattern: RegExp | null = null;
    const params: Array<{ text: string; at: number }> = [];
    let i = 1;
    for (; i < argv.length; i++) {
      const w = argv[i].text;
      if (w === '--') { i++; break; }
      if (w.startsWith('--')) {
        const [name, val] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, null];
        const long: Record<string, () => void> = {
          '--write': () => { write = true; }, '--quiet': () => { quiet = true; }, '--values': () => { valuesOnly = true; },
          '--names': () => { namesOnly = true; }, '--all': () => { all = true; }, '--ignore': () => { ignore = true; },
          '--load': () => { load = true; if (val !== null) params.push({ text: val, at: i }); },
        };
        if (name === '--pattern') {
          const p = val ?? argv[++i]?.text;
          if (p === undefined) throw new ToolFail(1, `sysctl: option '--pattern' requires an argument\n${USAGE_HINT}`, i - 1, 'a regular expression');
          try { pattern = new RegExp(p); } catch { throw new ToolFail(1, `sysctl: unable to compile regex: ${p}`, i, 'a valid regular expression'); }
          continue;
        }
        if (name === '--system') throw new ToolFail(1, 'lvsim: sysctl --system is not modelled; use sysctl -p FILE', i, 'sysctl -p FILE');
        const f = long[name];
        if (!f) throw new ToolFail(1, `sysctl: unrecognized option '${w}'\n${USAGE_HINT}`, i, 'an option such as -w, -q, -n, -a, -p');
        f();
        continue;
      }
      if (w.startsWith('-') && w.length > 1) {
        for (let k = 1; k < w.length; k++) {
          const c = w[k];
          if (c === 'w') write = true;
          else if (c === 'q') quiet = true;
          else if (c === 'n') valuesOnly = true;
          else if (c === 'N') namesOnly = true;
          else if (c === 'a' || c === 'A' || c === 'X') all = true;
          else if (c === 'e') ignore = true;
          else if (c === 'b') valuesOnly = true;
          else if (c === 'p') { load = true; if (k + 1 < w.length) { params.push({ text: w.slice(k + 1), at: i }); break; } }
          else if (c === 'r') {
            const p = k + 1 < w.length ? w.slice(k + 1) : argv[++i]?.text;
            if (p === undefined) throw new ToolFail(1, `sysctl: option requires an argument -- 'r'\n${USAGE_HINT}`, i - 1, 'a regular expression');
            try { pattern = new RegExp(p); } catch { throw new ToolFail(1, `sysctl: unable to compile regex: ${p}`, i, 'a valid regular expression'); }
            break;
          } else if (c === 'V') return 'sysctl from procps-ng 4.0.2\n';
          else if (c === 'h') return 'Usage:\n sysctl [options] [variable[=value] ...]\n';
          else throw new ToolFail(1, `sysctl: invalid option -- '${c}'\n${USAGE_HINT}`, i, 'an option such as -w, -q, -n, -a, -p');
        }
        continue;
      }
      params.push({ text: w, at: i });
    }
    for (; i < argv.length; i++) params.push({ text: argv[i].text, at: i });

    const show = (key: string): string => {
      const v = host.sysctl.get(key) ?? '';
      if (namesOnly) return `${key}\n`;
      if (valuesOnly) return `${v}\n`;
      return `${key} = ${v}\n`;
    };

    if (load) {
      const files = params.length ? params : [{ text: '/etc/sysctl.conf', at: 0 }];
      let out = '';
      let err = '';
      let rc = 0;
      let firstBad = -1;
      let openFailed = false;
      const fileErrors: FileError[] = [];
      const notes: FileError[] = [];
      for (const f of files) {
        const text = ctx.files.get(f.text);
        if (text === undefined) {
          err += `sysctl: cannot open "${f.text}": No such file or directory\n`;
          rc = -1;
          openFailed = true;
          if (firstBad < 0) firstBad = f.at;
          continue;
        }
        const r = loadSysctlConf(host, text, f.text, quiet);
        out += r.stdout;
        err += r.stderr;
        fileErrors.push(...r.errors);
        notes.push(...r.notes);
        if (r.rc) { rc = -1; if (firstBad < 0) firstBad = f.at; }
      }
      // Each refused line is reported where it is in its file; a file that could not be opened, at its argument.
      // Keys Linux has and lvsim does not model: accepted, each noted at its line (a warning),
      // in line order with the refused ones.
      const all = [...fileErrors, ...notes].sort((a, b) => (a.path === b.path ? a.line - b.line : 0));
      if (rc || err) throw new ToolFail(rc ? 255 : 0, err, Math.max(0, firstBad), 'a sysctl.conf the kernel accepts', out, openFailed ? undefined : all);
      if (notes.length) throw new ToolFail(0, '', 0, '', out, notes);
      return out;
    }

    if (all) {
      let out = '';
      for (const k of host.sysctl.keys()) if (!pattern || pattern.test(k)) out += show(k);
      return out;
    }

    if (params.length === 0) throw new ToolFail(1, `sysctl: no variables specified\n${USAGE_HINT}`, 0, 'a key such as net.ipv4.ip_forward, or -a');

    let out = '';
    let err = '';
    let rc = 0;
    let firstBad: { at: number; expected: string } | null = null;
    for (const p of params) {
      const eq = p.text.indexOf('=');
      if (write || eq >= 0) {
        if (eq < 0) {
          err += `sysctl: "${p.text}" must be of the form name=value\n`;
          rc -= 1;
          firstBad ??= { at: p.at, expected: 'name=value' };
          continue;
        }
        const key = normaliseKey(p.text.slice(0, eq));
        const value = p.text.slice(eq + 1);
        if (key === '') {
          err += `sysctl: malformed setting "${p.text}"\n`;
          rc -= 1;
          firstBad ??= { at: p.at, expected: 'name=value' };
          continue;
        }
        if (host.sysctl.isUnmodelled(key)) warnings.push({ word: p.at, message: unmodelledNote(key) });
        const e = writeSysctl(host, key, value);
        if (e) {
          if (ignore && e.startsWith('cannot stat')) continue;
          err += `sysctl: ${e}\n`;
          rc -= 1;
          firstBad ??= { at: p.at, expected: e.startsWith('cannot stat') ? 'an existing key (sysctl -a lists them)' : acceptedValues(key) };
          continue;
        }
        if (!quiet) out += namesOnly ? `${key}\n` : valuesOnly ? `${value}\n` : `${key} = ${value}\n`;
        continue;
      }
      const key = normaliseKey(p.text);
      if (host.sysctl.isUnmodelled(key)) {
        const v = host.sysctl.getUnmodelled(key);
        if (v === undefined) throw new ToolFail(1, unmodelledUnset(key), p.at, `a key lvsim models, or set ${key} first (sysctl -w ${key}=VALUE)`, out);
        if (pattern && !pattern.test(key)) continue;
        out += namesOnly ? `${key}\n` : valuesOnly ? `${v}\n` : `${key} = ${v}\n`;
        continue;
      }
      if (!host.sysctl.has(key)) {
        if (ignore) continue;
        err += `sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory\n`;
        rc -= 1;
        firstBad ??= { at: p.at, expected: 'an existing key (sysctl -a lists them)' };
        continue;
      }
      if (pattern && !pattern.test(key)) continue;
      out += show(key);
    }
    if (firstBad) throw new ToolFail(rc & 255, err, firstBad.at, firstBad.expected, out);
    return out;
  }, () => new ToolFail(1, 'sysctl: internal error', 0, 'a key'));
}

/** For lvsim exec: which sysctl invocations only read. */
export function sysctlReadOnly(argv: readonly string[]): boolean {
  return !argv.slice(1).some(w => w.includes('=') || /^-[a-zA-Z]*[wp]/.test(w) || w === '--write' || w.startsWith('--load'));
}

export type { ToolResult };
