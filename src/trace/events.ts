/**
 * trace/events.ts: host and daemon events (record.ts DaemonEvent) as a person reads them, and
 * what kind of mark each is on a timeline. Pure: the CLI and the browser's timeline share it.
 */
import { formatIp4 } from '../net/addr';
import type { DaemonEvent, EventRecord } from './record';

/** A timeline lane: host faults, health checks and the pool, VRRP and the VIP. */
export type EventLane = 'fault' | 'check' | 'vrrp';

/** What a mark shows: its lane, whether it is bad news, and one line. */
export interface EventMark {
  readonly lane: EventLane;
  /** bad: something failed or went away; good: it came back; info: neither. */
  readonly tone: 'bad' | 'good' | 'info';
  readonly text: string;
}

/** One line for an event (without its time and host). */
export function describeEvent(e: DaemonEvent): string {
  switch (e.kind) {
    case 'host': return e.op === 'crash' ? 'kernel panic: the host crashed' : e.op === 'boot' ? 'booted (a fresh kernel; setup lines run again)' : 'rebooted (orderly shutdown, then a fresh kernel)';
    case 'fault': {
      const what: Record<typeof e.fault, string> = {
        'crash': 'crash', 'boot': 'boot', 'reboot': 'reboot', 'service-stop': 'service stopped', 'service-start': 'service started',
        'link-down': 'link down (no carrier)', 'link-up': 'link up (carrier back)',
      };
      return `fault: ${what[e.fault]}: ${e.target}`;
    }
    case 'check': return `${e.checker} on ${e.rs} ${e.ok ? 'succeeded' : 'failed'} (VS ${e.vs})`;
    case 'pool': {
      const verb = { remove: 'removed from', add: 'added to', disable: 'weight 0 in', enable: 'weight restored in' }[e.op];
      return `keepalived: real server ${e.rs} ${verb} VS ${e.vs}`;
    }
    case 'vrrp': return `VRRP ${e.instance}: ${e.from} -> ${e.to}${e.to === 'MASTER' ? `, takes ${e.vips.map(formatIp4).join(', ')}` : e.from === 'MASTER' ? `, releases ${e.vips.map(formatIp4).join(', ')}` : ''}`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}

/** How a timeline shows an event. */
export function eventMark(r: EventRecord): EventMark {
  const e = r.event;
  const text = `${r.host}: ${describeEvent(e)}`;
  switch (e.kind) {
    case 'host': return { lane: 'fault', tone: e.op === 'crash' ? 'bad' : 'good', text };
    case 'fault': return { lane: 'fault', tone: e.fault.endsWith('up') || e.fault.endsWith('start') || e.fault === 'boot' ? 'good' : 'bad', text };
    case 'check': return { lane: 'check', tone: e.ok ? 'good' : 'bad', text };
    case 'pool': return { lane: 'check', tone: e.op === 'add' || e.op === 'enable' ? 'good' : 'bad', text };
    case 'vrrp': return { lane: 'vrrp', tone: e.to === 'MASTER' ? 'good' : e.to === 'FAULT' ? 'bad' : 'info', text };
    default: {
      const never: never = e;
      return never;
    }
  }
}
