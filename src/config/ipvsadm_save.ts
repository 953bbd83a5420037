/**
 * config/ipvsadm_save.ts: `ipvsadm -S` / ipvsadm-save (list_all with FMT_RULE) and
 * `ipvsadm -R` / ipvsadm-restore (restore_table() reading config_stream_read() lines).
 *
 * Restore, as ipvsadm 1.31 does it: each stdin line is split on blanks and tabs (no quoting),
 * everything from a `#` on is a comment, a line with no words is skipped, and the words run as
 * one ipvsadm invocation. A usage error (exit 2) or an unparsable line (exit 255) ends the whole
 * restore there, because ipvsadm's fail() calls exit(); a kernel refusal prints its message and
 * carries on with the next line, and the exit status is the last line's.
 */
import type { IpvsCtl } from '../ipvs/ctl';
import type { Word } from './shell';
import type { FileError, ToolResult } from './tool';
import { listAll } from './ipvsadm_format';

/** `ipvsadm -S [-n]`: the FMT_RULE listing, sorted, no version line. */
export function saveRules(ipvs: IpvsCtl, numeric: boolean): string {
  return listAll(ipvs, { rule: true, numeric });
}

/** One stdin line split as config_stream_read() does, with columns for diagnostics. */
export function restoreWords(line: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '#') break;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    while (i < line.length && !' \t\r#'.includes(line[i]!)) i++;
    words.push({ text: line.slice(start, i), col: start + 1, endCol: i + 1 });
  }
  return words;
}

/** What one restored line did. */
export interface RestoreLine {
  /** 1-based line number in stdin. */
  readonly line: number;
  /** The line's words (without the synthetic argv[0]). */
  readonly words: readonly Word[];
  readonly result: ToolResult;
}

export interface RestoreOutcome {
  /** The whole `ipvsadm -R` result (stdout/stderr concatenated, exit status as ipvsadm's). */
  readonly result: ToolResult;
  /** Every line that ran, in order (the last one may have ended the restore). */
  readonly lines: readonly RestoreLine[];
}

/**
 * restore_table(): run each line through `run` (ipvsadm's process_options with
 * reading_stdin = 1). `program` is argv[0], which ipvsadm reuses for every line; `fatal` says
 * the line ended the process (fail(), tryhelp_exit(), exit(1) in a listing).
 * `commandWord` is the index of -R in the outer argv, where the restore's errorAt points.
 * `path`, when stdin is a declared file (`< FILE`, ipvsadm.service), places each refused
 * line at its line of that file.
 */
export function restore(
  text: string,
  program: Word,
  commandWord: number,
  run: (argv: readonly Word[]) => { result: ToolResult; fatal: boolean },
  path?: string,
): RestoreOutcome {
  const lines: RestoreLine[] = [];
  let stdout = '';
  let stderr = '';
  let exit = 0;
  let firstError: { line: number; col: number; expected: string } | null = null;
  const fileErrors: FileError[] = [];
  const phys = text.split('\n');
  if (phys.length && phys[phys.length - 1] === '') phys.pop();
  for (let n = 0; n < phys.length; n++) {
    const words = restoreWords(phys[n]!);
    if (words.length === 0) continue;
    const argv: Word[] = [{ text: program.text, col: 0, endCol: 0 }, ...words];
    const { result: r, fatal } = run(argv);
    lines.push({ line: n + 1, words, result: r });
    stdout += r.stdout;
    stderr += r.stderr;
    exit = r.exit;
    if (r.exit !== 0 && r.errorAt) {
      const w = (r.errorAt.word >= 1 ? words[r.errorAt.word - 1] : words[0]) ?? words[words.length - 1]!;
      firstError ??= { line: n + 1, col: w.col, expected: r.errorAt.expected };
      if (path !== undefined) {
        fileErrors.push({ path, line: n + 1, col: w.col, endCol: w.endCol, found: w.text, expected: r.errorAt.expected, tool: r.stderr.trim() });
      }
    }
    // fail() and tryhelp_exit() exit the process: the rest of stdin is not read.
    if (fatal) break;
  }
  const result: ToolResult = {
    exit,
    stdout,
    stderr,
    ...(exit !== 0 && firstError
      ? { errorAt: { word: commandWord, expected: `stdin line ${firstError.line}, column ${firstError.col}: ${firstError.expected}` } }
      : {}),
    ...(fileErrors.length ? { fileErrors } : {}),
  };
  return { result, lines };
}
