/**
 * config/yaml.ts: read a YAML document for the scenario and workload parsers, with the limits
 * that keep any text cheap to load: at most MAX_TEXT_BYTES, at most MAX_DEPTH levels of
 * nesting (the YAML library recurses per level and a few thousand `{` exhaust its stack),
 * and duplicate keys found in one pass (the library's own check compares every pair of keys).
 * Syntax errors are reported where the library found them, once each.
 */
import { parseDocument, isMap, isScalar, visit, type Document, type Node, type Pair } from 'yaml';
import type { Diagnostic } from './diag';

export interface Pos { readonly line: number; readonly col: number; readonly endCol: number }

/** Largest scenario text read (UTF-16 code units, about a megabyte of YAML). */
export const MAX_TEXT_BYTES = 1 << 20;
/** Deepest nesting of mappings and lists accepted; real scenarios use fewer than ten. */
export const MAX_DEPTH = 64;
/**
 * Most entries (lines of YAML structure and flow items) accepted: the library's cost grows with
 * them (tens of microseconds each); the shipped scenarios have a few hundred.
 */
export const MAX_ENTRIES = 5_000;

/**
 * Offset -> 1-based line and column over the whole text. (The library's LineCounter only
 * learns the lines its lexer reached, which stops early in a stream of several documents.)
 */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  linePos(offset: number): { line: number; col: number } {
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }
}

export interface YamlRead {
  /** Null when the text was refused before parsing (too large, too deep). */
  readonly doc: Document.Parsed | null;
  readonly lc: LineIndex;
  readonly diagnostics: Diagnostic[];
  /** Position of a node, 1-based; a node without a range is placed at 1:1. */
  posOf(n: Node | null | undefined): Pos;
}

/** Parse `text` as one YAML document, or refuse it with a diagnostic saying which limit it passed. */
export function readYaml(text: string, file: string): YamlRead {
  const lc = new LineIndex(text);
  const diagnostics: Diagnostic[] = [];
  const posOf = (n: Node | null | undefined): Pos => {
    const r = n?.range;
    if (!r) return { line: 1, col: 1, endCol: 2 };
    const a = lc.linePos(r[0]);
    const b = lc.linePos(r[1]);
    return { line: a.line, col: a.col, endCol: b.line === a.line ? Math.max(b.col, a.col + 1) : a.col + 1 };
  };
  const refuse = (at: number, found: string, expected: string): YamlRead => {
    const p = lc.linePos(at);
    diagnostics.push({ file, line: p.line, col: p.col, endCol: p.col + 1, severity: 'error', found, expected });
    return { doc: null, lc, diagnostics, posOf };
  };
  if (text.length > MAX_TEXT_BYTES) {
    return refuse(0, `${(text.length / 1e6).toFixed(1)} MB of text`, `a scenario under ${MAX_TEXT_BYTES / (1 << 20)} MB`);
  }
  const shape = scanStructure(text);
  if (shape?.limit === 'depth') return refuse(shape.at, `nesting deeper than ${MAX_DEPTH} levels`, `at most ${MAX_DEPTH} levels of nested mappings and lists`);
  if (shape?.limit === 'entries') return refuse(shape.at, `more than ${MAX_ENTRIES} entries`, `a scenario of at most ${MAX_ENTRIES} lines and list items (block scalars such as setup: | count once)`);

  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  const seen = new Set<string>();
  for (const e of [...doc.errors, ...doc.warnings]) {
    const p = lc.linePos(Math.min(e.pos[0], text.length));
    const message = e.message.split('\n')[0]!;
    const key = `${p.line}:${p.col}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Underline what the library points at, up to the end of that line; that text is what was
    // found, the library's message says what YAML expects there.
    const at = Math.min(e.pos[0], text.length);
    const lineEnd = text.indexOf('\n', at) === -1 ? text.length : text.indexOf('\n', at);
    const endCol = p.col + Math.max(1, Math.min(e.pos[1], lineEnd) - at);
    const span = (text.slice(at, Math.min(e.pos[1], lineEnd)).trim() || text.slice(at, lineEnd).trim());
    const found = span === '' ? 'the end of the line' : span.length > 40 ? `${span.slice(0, 40)}...` : span;
    diagnostics.push({ file, line: p.line, col: p.col, endCol, severity: e.name === 'YAMLWarning' ? 'warning' : 'error', found, expected: `valid YAML (${message})` });
  }
  // Duplicate keys: one pass per mapping with a set of its scalar keys.
  visit(doc, {
    Map(_, m) {
      if (!isMap(m)) return;
      const first = new Map<unknown, Node>();
      for (const it of m.items as Pair[]) {
        if (!isScalar(it.key)) continue;
        const prev = first.get(it.key.value);
        if (prev === undefined) { first.set(it.key.value, it.key); continue; }
        const p = posOf(it.key);
        diagnostics.push({ file, line: p.line, col: p.col, endCol: p.endCol, severity: 'error', found: String(it.key.value), expected: `a key used once in this mapping (first at line ${posOf(prev).line}; YAML: Map keys must be unique)` });
      }
    },
  });
  return { doc, lc, diagnostics, posOf };
}

/**
 * Where the text first passes MAX_DEPTH or MAX_ENTRIES, or null. A linear scan that over-counts
 * rather than under-counts: flow brackets and commas outside quotes and comments, plus block
 * levels from indentation and `- ` / `? ` entries. Block scalar bodies (after `|` or `>`) are skipped.
 */
function scanStructure(text: string): { limit: 'depth' | 'entries'; at: number } | null {
  const indents: number[] = [];
  let entries = 0;
  let flow = 0;
  let i = 0;
  const n = text.length;
  let blockScalarParent = -1; // indentation of the line that opened a | or > block, while inside it
  while (i < n) {
    // One physical line.
    let eol = text.indexOf('\n', i);
    if (eol === -1) eol = n;
    let j = i;
    while (j < eol && text[j] === ' ') j++;
    const blank = j === eol || text[j] === '#' || text[j] === '\r';
    if (blockScalarParent >= 0) {
      if (blank || j - i > blockScalarParent) { i = eol + 1; continue; }
      blockScalarParent = -1;
    }
    if (!blank && ++entries > MAX_ENTRIES) return { limit: 'entries', at: j };
    if (!blank && flow === 0) {
      let indent = j - i;
      while (indents.length && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      // "- - - x" and "? ? x" open one level per indicator.
      while (j + 1 < eol && (text[j] === '-' || text[j] === '?') && (text[j + 1] === ' ' || text[j + 1] === '\t')) {
        j += 2;
        while (j < eol && text[j] === ' ') j++;
        indent = j - i;
        indents.push(indent);
        if (indents.length > MAX_DEPTH) return { limit: 'depth', at: j };
      }
      if (indents.length > MAX_DEPTH) return { limit: 'depth', at: j };
    }
    // Flow brackets on this line, outside quotes and comments.
    let quote = '';
    let last = '';
    for (let k = j; k < eol; k++) {
      const c = text[k]!;
      if (quote === '"') { if (c === '\\') k++; else if (c === '"') quote = ''; continue; }
      if (quote === "'") { if (c === "'") quote = ''; continue; }
      if (c === '#' && (k === j || last === ' ' || last === '\t')) break;
      if ((c === '"' || c === "'") && (k === j || ' \t[{,:'.includes(last))) quote = c;
      else if (c === '[' || c === '{') { if (++flow + indents.length > MAX_DEPTH) return { limit: 'depth', at: k }; }
      else if ((c === ']' || c === '}') && flow > 0) flow--;
      else if (c === ',' && flow > 0 && ++entries > MAX_ENTRIES) return { limit: 'entries', at: k };
      if (c !== ' ' && c !== '\t') last = c;
    }
    // A double-quoted scalar may run over lines; single quotes too. Keep it simple: close at end of line.
    if (flow === 0 && quote === '' && /(?:^|[\s:-])[|>][-+0-9]*\s*(?:#.*)?\r?$/.test(text.slice(j, eol))) blockScalarParent = j - i;
    i = eol + 1;
  }
  return null;
}
