/**
 * config/shell.ts: split a command line the way a POSIX shell would for the simple lines
 * users paste (words, single and double quotes, backslash escapes, `#` comments, `>`/`>>`
 * output and `<` input redirections, `;` and `&&` between commands), keeping each word's column so errors can
 * point at it. No expansion ($VAR, globs) is done: those are reported, not guessed.
 */

export interface Word {
  /** The word after quote removal. */
  readonly text: string;
  /** 1-based column of the word's first character in the source line. */
  readonly col: number;
  /** Column just past its last character. */
  readonly endCol: number;
}

/**
 * One simple command: its words and an optional redirection, output (`echo 1 > /proc/...`)
 * or input (`iptables-restore < /etc/sysconfig/iptables`: stdin read from a file).
 */
export interface SimpleCommand {
  readonly words: Word[];
  readonly redirect?: { readonly op: '>' | '>>' | '<'; readonly target: Word };
}

export type SplitResult =
  | { readonly ok: true; readonly commands: SimpleCommand[] }
  | { readonly ok: false; readonly col: number; readonly found: string; readonly expected: string };

/** Split one line (already joined across backslash-newlines) into simple commands. */
export function splitLine(line: string, firstCol = 1): SplitResult {
  const commands: SimpleCommand[] = [];
  let words: Word[] = [];
  let redirect: SimpleCommand['redirect'];
  let pendingRedirect: '>' | '>>' | '<' | null = null;
  let pendingCol = 0;
  let i = 0;
  const n = line.length;

  const endCommand = (): SplitResult | null => {
    if (pendingRedirect) return { ok: false, col: pendingCol + firstCol - 1, found: pendingRedirect, expected: 'a file name after the redirection' };
    if (words.length) commands.push(redirect ? { words, redirect } : { words });
    words = [];
    redirect = undefined;
    return null;
  };

  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') break;
    if (c === ';' || (c === '&' && line[i + 1] === '&')) {
      const err = endCommand();
      if (err) return err;
      i += c === ';' ? 1 : 2;
      continue;
    }
    if (c === '<' && (line[i + 1] === '<' || line[i + 1] === '(' || line[i + 1] === '&' || line[i + 1] === '>')) {
      // Here-documents, here-strings, process substitution and descriptor duplication.
      const op = line[i + 1] === '<' ? (line[i + 2] === '<' ? '<<<' : '<<') : '<' + line[i + 1];
      return { ok: false, col: i + firstCol, found: op, expected: 'a simple command (only `< FILE` input redirection is run; here-documents and process substitution are not)' };
    }
    if (c === '|' || c === '&' || c === '`' || c === '(' || c === ')') {
      return { ok: false, col: i + firstCol, found: c === '|' && line[i + 1] === '|' ? '||' : c, expected: 'a simple command (pipes, background jobs and subshells are not run)' };
    }
    if (c === '>' || c === '<') {
      if (pendingRedirect) return { ok: false, col: i + firstCol, found: c, expected: 'a file name after the redirection' };
      // One redirection per command is modelled: stdin from a file, or stdout to one.
      if (redirect) return { ok: false, col: i + firstCol, found: c, expected: `one redirection per command (this one already has ${redirect.op} ${redirect.target.text})` };
      pendingRedirect = c === '<' ? '<' : line[i + 1] === '>' ? '>>' : '>';
      pendingCol = i + 1;
      i += pendingRedirect.length;
      continue;
    }
    // A word: runs until unquoted whitespace or an operator.
    const start = i;
    let text = '';
    while (i < n) {
      const d = line[i];
      if (d === ' ' || d === '\t' || d === '\r' || d === ';' || d === '>' || d === '|' || d === '<' || d === '`' || d === '(' || d === ')') break;
      if (d === '&') break;
      if (d === '#' && i === start) break;
      if (d === "'") {
        const close = line.indexOf("'", i + 1);
        if (close < 0) return { ok: false, col: i + firstCol, found: line.slice(i), expected: "a closing single quote (')" };
        text += line.slice(i + 1, close);
        i = close + 1;
        continue;
      }
      if (d === '"') {
        let j = i + 1;
        let s = '';
        while (j < n && line[j] !== '"') {
          if (line[j] === '\\' && j + 1 < n && '"\\$`'.includes(line[j + 1])) { s += line[j + 1]; j += 2; continue; }
          s += line[j++];
        }
        if (j >= n) return { ok: false, col: i + firstCol, found: line.slice(i), expected: 'a closing double quote (")' };
        text += s;
        i = j + 1;
        continue;
      }
      if (d === '\\' && i + 1 < n) { text += line[i + 1]; i += 2; continue; }
      text += d;
      i++;
    }
    const word: Word = { text, col: start + firstCol, endCol: i + firstCol };
    if (pendingRedirect) {
      redirect = { op: pendingRedirect, target: word };
      pendingRedirect = null;
    } else {
      words.push(word);
    }
  }
  const err = endCommand();
  if (err) return err;
  return { ok: true, commands };
}

/**
 * Join physical lines ending in a backslash into logical lines, remembering where each
 * logical line starts. Returns [text, firstLine] pairs (1-based line numbers).
 */
export function logicalLines(text: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  const phys = text.split('\n');
  let acc = '';
  let startLine = 0;
  for (let k = 0; k < phys.length; k++) {
    const l = phys[k];
    if (acc === '') startLine = k + 1;
    if (l.endsWith('\\')) {
      acc += l.slice(0, -1) + ' ';
      continue;
    }
    acc += l;
    out.push({ text: acc, line: startLine });
    acc = '';
  }
  if (acc) out.push({ text: acc, line: startLine });
  return out;
}
