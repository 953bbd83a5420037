/**
 * trace/text.ts: the tcpdump-style view of a record, as `lvsim run` prints it: time, host,
 * point, verdict, step, packet id, the packet outer header first, the note, and for a drop the
 * reason, the kernel check's message and the fix.
 */
import { summarize } from '../net/summary';
import type { TraceRecord } from './record';
import { explainDrop } from './explain';
import { SECONDS, formatTime, type TimeUnit } from './time';

/** One record as text; `step` is its step number (0: none); `unit` the view's one time unit (time.ts). */
export function formatRecordText(r: TraceRecord, step = 0, unit: TimeUnit = SECONDS): string {
  const st = step ? `[${step}]` : '   ';
  const verdict = r.verdict === 'drop' ? 'DROP' : r.verdict;
  const head = `${formatTime(r.t, unit).padStart(11)}  ${r.host.padEnd(9)} ${String(r.point).padEnd(11)} ${verdict.padEnd(8)} ${st} #${String(r.packet.id).padEnd(4)} `;
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
