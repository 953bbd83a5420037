/**
 * cli/format.ts: how the CLI prints a trace. Human form: one line per record (time, host,
 * point, verdict, step, the packet outer header first); JSON Lines: one record per line with
 * stable keys (t, host, point, verdict, reason, step, packet {id, layers}).
 */
import { packetJson } from '../net/json';
import { summarize } from '../net/summary';
import type { TraceRecord } from '../kernel/trace';
import { explainDrop } from '../kernel/explain';
import { TERMINAL_VERDICTS } from '../kernel/trace';
import { formatDiagnostic } from '../config/diag';
import type { Run } from '../world/world';

const STEP_LABEL = ['', '1 request reaches the director', '2 IPVS schedules', '3 IPIP to the real server', '4 decapsulated on the real server', '5 reply straight to the client'];

export function stepTitle(step: number): string {
  return STEP_LABEL[step] ?? '';
}

/** Virtual ns as seconds with 6 decimals ("0.001234"). */
export function fmtTime(ns: number): string {
  const s = Math.floor(ns / 1e9);
  const us = Math.floor((ns % 1e9) / 1e3);
  return `${s}.${String(us).padStart(6, '0')}`;
}

export function formatRecordText(r: TraceRecord): string {
  const step = r.step ? `[${r.step}]` : '   ';
  const verdict = r.verdict === 'drop' ? 'DROP' : r.verdict;
  const head = `${fmtTime(r.t).padStart(11)}  ${r.host.padEnd(9)} ${String(r.point).padEnd(11)} ${verdict.padEnd(8)} ${step} #${String(r.packet.id).padEnd(4)} `;
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

/** One JSON object per record; key order fixed so output is byte-identical run to run. */
export function recordJson(r: TraceRecord): Record<string, unknown> {
  const o: Record<string, unknown> = { seq: r.seq, t: r.t, host: r.host, point: r.point, verdict: r.verdict };
  if (r.reason) o.reason = r.reason.code;
  if (r.reason) o.reason_detail = r.reason;
  if (r.step) o.step = r.step;
  if (r.dev) o.dev = r.dev;
  o.packet = packetJson(r.packet.id, r.packet.pkt);
  if (r.cause !== undefined) o.cause = r.cause;
  if (r.note) o.note = r.note;
  if (r.sched) o.sched = r.sched;
  return o;
}

/** The scenario's diagnostics, then how many lines did not apply. */
export function formatDiagnostics(run: Run): string[] {
  const out = run.diagnostics.map(formatDiagnostic);
  if (run.notApplied.length) out.push(`${run.notApplied.length} line(s) not applied; the rest of the scenario loaded.`);
  return out;
}

/**
 * What `lvsim run` prints: the header, the diagnostics, one line per record with the step
 * banners, then what became of each client connection and a count of the drops by reason.
 * The golden traces under test/golden are this text.
 */
export function formatRunText(run: Run, opts: { quiet?: boolean } = {}): string {
  const records = run.world.records;
  const out: string[] = [];
  out.push(`lvsim: ${run.scenario.name} (seed ${run.world.engine.seed})`);
  out.push(...formatDiagnostics(run));
  if (!opts.quiet) {
    out.push(`${'time(s)'.padStart(11)}  ${'host'.padEnd(9)} ${'point'.padEnd(11)} ${'verdict'.padEnd(8)} step packet`);
    let lastStep = 0;
    for (const r of records) {
      if (r.step && r.step !== lastStep && r.step > lastStep) out.push(`  ---- step ${stepTitle(r.step)} ----`);
      if (r.step) lastStep = r.step === 5 && r.verdict === 'deliver' ? 0 : r.step;
      out.push(formatRecordText(r));
    }
  }
  out.push('');
  out.push('connections:');
  for (const c of run.clients) {
    const res = c.ok ? `ok, answered by ${c.server}${c.greeting ? `: ${c.greeting.trim()}` : ''}` : c.ok === false ? `failed: ${c.error}` : `still ${c.state}`;
    out.push(`  ${c.id} ${c.src || '?'} -> ${c.dst}: ${res}`);
  }
  const drops = records.filter(r => r.verdict === 'drop');
  const ended = records.filter(r => TERMINAL_VERDICTS.has(r.verdict)).length;
  out.push(`packets: ${new Set(records.map(r => r.packet.id)).size}, ended ${ended} (${drops.length} dropped)`);
  const byCode = new Map<string, number>();
  for (const d of drops) byCode.set(d.reason!.code, (byCode.get(d.reason!.code) ?? 0) + 1);
  for (const [code, n] of byCode) {
    const ex = explainDrop(drops.find(d => d.reason!.code === code)!.reason!);
    out.push(`  ${n} x ${code}: ${ex.message}${ex.fix ? `\n      fix: ${ex.fix}` : ''}`);
  }
  return out.join('\n') + '\n';
}
