/**
 * trace/json.ts: a record as one JSON object (JSON Lines for `lvsim run --json`), keys in a
 * fixed order so the output is byte-identical run to run: seq, t, host, point, verdict, then
 * reason, disposition, step, dev, packet {id, layers}, cause, rule, note, sched.
 */
import { packetJson } from '../net/json';
import type { TraceRecord } from './record';

export function recordJson(r: TraceRecord, step = 0): Record<string, unknown> {
  const o: Record<string, unknown> = { seq: r.seq, t: r.t, host: r.host, point: r.point, verdict: r.verdict };
  if (r.reason) o.reason = r.reason.code;
  if (r.reason) o.reason_detail = r.reason;
  if (r.disposition) o.disposition = r.disposition;
  if (step) o.step = step;
  if (r.dev) o.dev = r.dev;
  o.packet = packetJson(r.packet.id, r.packet.pkt);
  if (r.cause !== undefined) o.cause = r.cause;
  if (r.rule) o.rule = r.rule;
  if (r.note) o.note = r.note;
  if (r.sched) o.sched = r.sched;
  return o;
}
