/**
 * trace/sink.ts: where records go. A full sink keeps every record (the CLI, the browser, the
 * tests); a counting sink keeps only the outcomes (deliver, consumed, drop by reason), for
 * runs with the trace off. The emitter (trace/emit.ts) asks `full` once and decides for the
 * whole packet path, so the path itself never checks.
 */
import type { EventRecord, TraceRecord } from './record';
import type { ChangeRecord } from './state';

export type NewRecord = Omit<TraceRecord, 'seq'>;

export interface TraceSink {
  /** True: every record and configuration change is wanted. False: drops are recorded, other outcomes tallied. */
  readonly full: boolean;
  record(r: NewRecord): void;
  /** An outcome that is not a drop, counted without a record (only called when not full). */
  tally(verdict: 'deliver' | 'consumed'): void;
  /** A configuration change on a host (only called when full). */
  change(c: Omit<ChangeRecord, 'seq'>): void;
  /** A host or daemon event (record.ts DaemonEvent; only called when full). */
  event(e: Omit<EventRecord, 'seq'>): void;
}

/** Keeps every record and every configuration change in memory; the default for CLI runs and the browser. */
export class TraceLog implements TraceSink {
  readonly full = true;
  readonly records: TraceRecord[] = [];
  /** Configuration changes; each one's `seq` is the number of packet records before it. */
  readonly changes: ChangeRecord[] = [];
  record(r: NewRecord): void {
    (r as { seq?: number }).seq = this.records.length;
    this.records.push(r as TraceRecord);
  }
  tally(): void { /* a full log records deliver and consumed */ }
  change(c: Omit<ChangeRecord, 'seq'>): void {
    this.changes.push({ ...c, seq: this.records.length });
  }
  /** Host and daemon events; each one's `seq` is the number of packet records before it. */
  readonly events: EventRecord[] = [];
  event(e: Omit<EventRecord, 'seq'>): void {
    this.events.push({ ...e, seq: this.records.length });
  }
}

/** Keeps no record but counts outcomes: for fast runs with the trace off. */
export class CountingSink implements TraceSink {
  readonly full: boolean = false;
  delivered = 0;
  consumed = 0;
  dropped = 0;
  readonly drops = new Map<string, number>();
  tally(verdict: 'deliver' | 'consumed'): void {
    if (verdict === 'deliver') this.delivered++;
    else this.consumed++;
  }
  record(r: NewRecord): void {
    if (r.verdict === 'deliver') this.delivered++;
    else if (r.verdict === 'consumed') this.consumed++;
    else if (r.verdict === 'drop') {
      this.dropped++;
      const c = r.reason?.code ?? 'unknown';
      this.drops.set(c, (this.drops.get(c) ?? 0) + 1);
    }
  }
  change(_c: Omit<ChangeRecord, 'seq'>): void { /* configuration history is part of a full trace only */ }
  event(_e: Omit<EventRecord, 'seq'>): void { /* so are host and daemon events */ }
}
