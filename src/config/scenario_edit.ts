/**
 * config/scenario_edit.ts: add a traffic step to a scenario's text, as a person would type it,
 * leaving every other character as it was (comments, layout, the user's own lines). The browser
 * injects a fault this way, so what it ran is in the text: shareable, editable, never lost.
 */
import { parseDocument, isMap, isSeq, isScalar, type Node, type Pair } from 'yaml';
import { parseDuration } from './scenario';
import type { FaultKind } from '../trace/record';

/** A fault as one flow mapping: `{ fault: crash, host: rs1, at: 1.5s }`. */
export function faultStepText(f: { fault: FaultKind; host?: string; service?: string; link?: string; dev?: string; atNs: number }): string {
  const parts = [`fault: ${f.fault}`];
  if (f.link !== undefined) parts.push(`link: ${f.link}`);
  if (f.host !== undefined) parts.push(`host: ${f.host}`);
  if (f.dev !== undefined) parts.push(`dev: ${f.dev}`);
  if (f.service !== undefined) parts.push(`service: ${f.service}`);
  parts.push(`at: ${formatAt(f.atNs)}`);
  return `{ ${parts.join(', ')} }`;
}

/** A time as a scenario's `at:` reads it back exactly: in seconds when that is exact, else ns. */
export function formatAt(ns: number): string {
  const s = `${ns / 1e9}s`;
  return parseDuration(s) === ns && !s.includes('e') ? s : `${ns}ns`;
}

/**
 * The text with `step` (a flow mapping) added to `traffic:` where its time puts it: before the
 * first step with a later `at:` (the run starts timed steps in the order they are listed), else
 * last. A block list gets a `- ` line with the items' indentation; a flow list an item; a
 * scenario without traffic: gets the key at the end.
 */
export function insertTrafficStep(text: string, step: string, atNs: number): string {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const root = doc.contents;
  const traffic = isMap(root) ? (root.items as Pair[]).find(p => isScalar(p.key) && p.key.value === 'traffic') : undefined;
  const seq = traffic?.value as Node | null | undefined;
  if (!traffic || !seq || !isSeq(seq) || !seq.range) {
    if (traffic) return text; // traffic: is there but not a list: the parser reports it; nothing to add to
    return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}traffic:\n  - ${step}\n`;
  }
  const items = seq.items as Node[];
  const later = items.find(it => {
    if (!isMap(it)) return false;
    const at = it.get('at', true) as Node | undefined;
    const d = at && isScalar(at) ? parseDuration(String(at.value)) : null;
    return d !== null && d > atNs;
  });
  const flow = seq.flow === true;
  if (flow) {
    if (later?.range) return `${text.slice(0, later.range[0])}${step}, ${text.slice(later.range[0])}`;
    const last = items[items.length - 1];
    if (last?.range) return `${text.slice(0, last.range[1])}, ${step}${text.slice(last.range[1])}`;
    const close = text.lastIndexOf(']', seq.range[1]);
    return `${text.slice(0, close)}${step}${text.slice(close)}`;
  }
  // Block list: each item starts with "- " at the list's indentation.
  const lineStart = (off: number) => text.lastIndexOf('\n', off - 1) + 1;
  const first = items[0]!;
  const firstLine = lineStart(first.range![0]);
  const indent = /^[ \t]*/.exec(text.slice(firstLine))![0];
  const line = `${indent}- ${step}\n`;
  if (later?.range) {
    const at = lineStart(later.range[0]);
    return text.slice(0, at) + line + text.slice(at);
  }
  // After the last item: at the end of its last line.
  const last = items[items.length - 1]!;
  const end = last.range![1];
  let nl = text.indexOf('\n', Math.max(end - 1, 0));
  if (nl === -1) return `${text}\n${line.slice(0, -1)}\n`;
  // A block item's range may end after its newline; place after the line that holds its last character.
  const lastChar = text.slice(0, end).replace(/\s+$/, '').length;
  nl = text.indexOf('\n', lastChar);
  if (nl === -1) return `${text}\n${line}`;
  return text.slice(0, nl + 1) + line + text.slice(nl + 1);
}
