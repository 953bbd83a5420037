/**
 * trace/text.ts: the tcpdump-style view of a record, as `lvsim run` prints it: time, host,
 * point, verdict, step, packet id, the packet outer header first, the note, and for a drop the
 * reason, the kernel check's message and the fix.
 */
import { summarize } from '../net/summary';
import type { TraceRecord } from './record';
import { explainDrop } from './explain';

/** Virtual ns as seconds with 6 decimals ("0.001234"). */
export function fmtTime(ns: number): string {
  const s = Math.floor(ns / 1e9);
  const us = Math.floor((ns % 1e9) / 1e3);
  return `${s}.${String(us).padStart(6, '0')}`;
}

/** One record as text; `step` is its step number (0: none). */
export function formatRecordText(r: TraceRecord, step = 0): string {
  const st = step ? `[${step}]` : '   ';
  const verdict = r.verdict === 'drop' ? 'DROP' : r.verdict;
  const head = `${fmtTime(r.t).padStart(11)}  ${r.host.padEnd(9)} ${String(r.point).padEnd(11)} ${verdict.padEnd(8)} ${st} #${String(r.packet.id).padEnd(4)} `;
  let line = head + summarize(r.packet.pkt, { verbose: false });
  if (r.note) line += `  -- ${r.note}`;
  if (r.reason) {
    const e = explainDrop(r.reason);
    line += `\n${' '.repeat(head.length)}reason: ${r.reason.code}: ${e.message}`;
    if (e.fix) line += `\n${' '.repeat(head.length)}fix: ${e.fix}`;
  }
  if (r.sched) line += `\n${' '.repeat(head.length)}why: ${r.sched.summary}`;
  return line;
}
