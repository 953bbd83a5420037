/**
 * cli/format.ts: what `lvsim run` prints around the trace views (trace/text.ts, trace/json.ts):
 * the header, diagnostics, the step banners, and the summary of connections and drops.
 */
import type { TraceRecord } from '../trace/record';
import { TERMINAL_VERDICTS } from '../trace/record';
import { explainDrop } from '../trace/explain';
import { formatRecordText } from '../trace/text';
import { type StepIndex, stepIndexOf } from '../trace/steps';
import { timeUnitFor } from '../trace/time';
import { formatDiagnostic } from '../config/diag';
import type { Run } from '../world/world';
import { clientOutcome } from '../world/apps';
import { notStarted } from '../world/expect';
import { formatEndpoint } from '../net/addr';
import { describeEvent } from '../trace/events';
import { TraceLog } from '../trace/sink';

/** The step index of a run's trace. */
export function runSteps(run: Run): StepIndex {
  return stepIndexOf(run.world.records, run.world.changes);
}

/** The scenario's diagnostics, then how many lines did not apply. */
export function formatDiagnostics(run: Run): string[] {
  const out = run.diagnostics.map(formatDiagnostic);
  if (run.notApplied.length) out.push(`${run.notApplied.length} line(s) not applied; the rest of the scenario loaded.`);
  return out;
}

/**
 * What `lvsim run` prints: the header, the diagnostics, one line per record with the step
 * banners, then what became of each client connection, the run's timeline (crashes, boots,
 * faults, health-check verdicts, pool and VRRP changes), the scenario's exec steps with their
 * output, and a count of the drops by reason.
 * The golden traces under test/golden are this text.
 */
export function formatRunText(run: Run, opts: { quiet?: boolean } = {}): string {
  const records: readonly TraceRecord[] = run.world.records;
  const steps = runSteps(run);
  const out: string[] = [];
  out.push(`lvsim: ${run.scenario.name} (seed ${run.world.engine.seed})`);
  out.push(...formatDiagnostics(run));
  if (!opts.quiet) {
    // One unit for the whole column, chosen from how long the run lasted.
    const unit = timeUnitFor(records.length ? records[records.length - 1]!.t : 0);
    out.push(`${`time(${unit.symbol})`.padStart(11)}  ${'host'.padEnd(9)} ${'point'.padEnd(11)} ${'verdict'.padEnd(8)} step packet`);
    // A banner where the flow moves on; a new request starts over after the reply is delivered.
    let last = 0;
    for (const r of records) {
      const step = steps.of(r.seq);
      const rank = step || (steps.onTheWay(r.seq) ? 0.5 : 0);
      if (rank > last) out.push(step ? `  ---- step ${steps.title(step)} ----` : `  ---- ${steps.list.onTheWay} ----`);
      if (rank) last = step === 5 && r.verdict === 'deliver' ? 0 : rank;
      out.push(formatRecordText(r, step, unit));
    }
  }
  out.push('');
  out.push('connections:');
  for (const c of run.clients) {
    const o = clientOutcome(c);
    const res = o.verdict === 'ok' ? `${o.text}${c.greeting ? `: ${c.greeting.trim()}` : ''}${o.releaseUnfinished ? '; released, but the close had not finished when the run stopped' : ''}`
      : o.verdict === 'failed' && c.server ? `${o.text}: the exchange never completed` : o.text;
    out.push(`  ${c.id} ${c.src || '?'} -> ${c.dst}: ${res}`);
  }
  for (const t of notStarted(run)) out.push(`  ${t.id} -> ${formatEndpoint(t.dst, t.dport)}: never started (the step before it had not finished when the run stopped)`);
  const events = run.world.trace instanceof TraceLog ? run.world.trace.events : [];
  if (events.length) {
    out.push('');
    out.push('timeline:');
    for (const e of events) out.push(`  ${(e.t / 1e9).toFixed(6)} ${e.host}: ${describeEvent(e.event)}`);
  }
  for (const e of run.execs) {
    // The scenario's own exec steps (ipvsadm -Lnc during a run, ...), with what they printed.
    out.push('');
    out.push(`${(e.at / 1e9).toFixed(6)} ${e.host}# ${e.command}`);
    const text = (e.result.stdout + e.result.stderr).replace(/\n$/, '');
    if (text) out.push(text);
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
