/**
 * trace/emit.ts: the one way anything records. Each host has an Emitter bound to its name and
 * the engine's clock; the packet path calls it at every point and it alone decides, from its
 * sink, whether to build a record (a full trace) or only count the outcome. Notes are built
 * lazily: a note is a string or a function of up to three arguments, called only when the
 * record is kept, so the counting path builds no strings and allocates no closures.
 *
 *   emit.pass(skb, 'routing', 'local', dev, noteLocal, dst, devName)   a point the packet passes
 *   emit.device(skb, 'eth0', 'rx', frame)                              a frame crossing a device
 *   emit.end(skb, 'socket', 'deliver', undefined, note)                the packet ends well
 *   emit.drop(skb, 'FORWARD', reason, icmp(11, 0))                    the packet is dropped, and what was sent back
 *   emit.rule(skb, 'INPUT', 'accept', len, hitOf, table, chain, i)    an iptables rule (or policy) matched
 */
import type { Arp, Ethernet, Ipv4 } from '../net/packet';
import {
  type DaemonEvent, type DevPoint, type Disposition, type DropReason, type EndVerdict, type Hook, type PassVerdict, type Point,
  type RuleHit, type SchedCandidate, type SchedExplain, type Stage, SILENT, isDevPoint,
} from './record';
import { ruleHitText } from './firewall';
import type { TraceSink } from './sink';
import type { ConfigChange } from './state';

/** What a record is about: an skb satisfies it (id, datagram, cause). */
export interface Traced {
  readonly id: number;
  readonly pkt: Ipv4 | Arp;
  readonly cause?: number;
}

/** A note, or how to build it from up to three values. */
export type Note<A, B, C> = string | ((a: A, b: B, c: C) => string);

export interface Clock {
  readonly now: number;
}

/** ICMP error as a drop's disposition (type/code, and the MTU for fragmentation needed). */
export function icmp(type: number, code: number, mtu?: number): Disposition {
  return mtu === undefined ? { kind: 'icmp', type, code } : { kind: 'icmp', type, code, mtu };
}

export class Emitter {
  private readonly full: boolean;

  constructor(private readonly sink: TraceSink, private readonly clock: Clock, readonly host: string) {
    this.full = sink.full;
  }

  /**
   * The last record was an accept at a hook, by one of its handlers (an iptables rule or
   * policy, conntrack): the packet and the hook, so that the hook's own "passed" record can
   * fold into it (hookPassed). Any other record clears it.
   */
  private acceptedId = -1;
  private acceptedAt: Hook | null = null;

  /** A point the packet passes and goes on from (kept in a full trace only). */
  pass<A, B, C>(p: Traced, point: Hook | Stage, verdict: PassVerdict, dev?: string, note?: Note<A, B, C>, a?: A, b?: B, c?: C): void {
    if (!this.full) return;
    this.acceptedId = verdict === 'accept' ? p.id : -1;
    this.acceptedAt = point as Hook;
    this.sink.record({
      t: this.clock.now, host: this.host, point, verdict, packet: { id: p.id, pkt: p.pkt }, dev,
      note: typeof note === 'function' ? note(a as A, b as B, c as C) : note, cause: p.cause,
    });
  }

  /**
   * An iptables rule or a built-in chain's policy matched at `hook` (ipt_do_table counted it):
   * `accept` when it let the packet through, `match` when the walk goes on (jump, RETURN, LOG,
   * TCPMSS, no target). `which` names the rule from the kernel's objects, called only when the
   * trace keeps records; the note is the rule as `iptables -S` prints it.
   */
  rule<A, B, C>(p: Traced, hook: Hook, verdict: 'accept' | 'match', bytes: number, which: (a: A, b: B, c: C) => Omit<RuleHit, 'bytes'>, a: A, b: B, c: C): void {
    if (!this.full) return;
    this.acceptedId = verdict === 'accept' ? p.id : -1;
    this.acceptedAt = hook;
    const w = which(a, b, c);
    const rule: RuleHit = { table: w.table, chain: w.chain, rule: w.rule, text: w.text, bytes };
    this.sink.record({
      t: this.clock.now, host: this.host, point: hook, verdict, packet: { id: p.id, pkt: p.pkt }, rule, note: ruleHitText(rule), cause: p.cause,
    });
  }

  /**
   * Every handler of `hook` accepted the packet (nf_hook_slow went through): a record, unless
   * the last handler's own accept record (the rule or policy that let it through) already says
   * so for this packet at this hook.
   */
  hookPassed(p: Traced, hook: Hook): void {
    if (!this.full) return;
    if (this.acceptedId === p.id && this.acceptedAt === hook) {
      this.acceptedId = -1;
      return;
    }
    this.pass(p, hook, 'accept');
  }

  /** A frame received or sent on a device, or IP-in-IP added/removed there. */
  device<A, B, C>(p: Traced, dev: string, verdict: 'rx' | 'tx' | 'encap' | 'decap', frame?: Ethernet, note?: Note<A, B, C>, a?: A, b?: B, c?: C): void {
    if (!this.full) return;
    this.acceptedId = -1;
    this.sink.record({
      t: this.clock.now, host: this.host, point: dev as DevPoint, verdict, packet: { id: p.id, pkt: p.pkt }, frame, dev,
      note: typeof note === 'function' ? note(a as A, b as B, c as C) : note, cause: p.cause,
    });
  }

  /** The packet ends well (delivered to a socket, consumed by the stack): a record, or a tally. */
  end<A, B, C>(p: Traced, point: Point, verdict: EndVerdict, dev?: string, note?: Note<A, B, C>, a?: A, b?: B, c?: C): void {
    if (!this.full) { this.sink.tally(verdict); return; }
    this.acceptedId = -1;
    this.sink.record({
      t: this.clock.now, host: this.host, point, verdict, packet: { id: p.id, pkt: p.pkt }, dev,
      note: typeof note === 'function' ? note(a as A, b as B, c as C) : note, cause: p.cause,
    });
  }

  /** The packet is dropped for `reason` (always recorded), answered as `disposition` says. */
  drop<A, B, C>(p: Traced, point: Point, reason: DropReason, disposition: Disposition = SILENT, note?: Note<A, B, C>, a?: A, b?: B, c?: C): void {
    this.acceptedId = -1;
    this.sink.record({
      t: this.clock.now, host: this.host, point, verdict: 'drop', packet: { id: p.id, pkt: p.pkt },
      dev: isDevPoint(point) ? point : undefined, reason, disposition,
      note: this.full ? (typeof note === 'function' ? note(a as A, b as B, c as C) : note) : undefined, cause: p.cause,
    });
  }

  /** A scheduler's decision at IPVS: a new connection (`reason` null) or a refusal, with its explanation. */
  decision<A, B, C>(p: Traced, sched: ExplainCollector | undefined, scheduler: string, chosen: string | null, reason: DropReason | null, disposition: Disposition, note: Note<A, B, C>, a?: A, b?: B, c?: C): void {
    if (!this.full && reason === null) return;
    this.acceptedId = -1;
    this.sink.record({
      t: this.clock.now, host: this.host, point: 'ipvs', verdict: reason === null ? 'schedule' : 'drop', packet: { id: p.id, pkt: p.pkt },
      reason: reason ?? undefined, disposition: reason === null ? undefined : disposition,
      sched: sched?.build(scheduler, chosen),
      note: this.full ? (typeof note === 'function' ? note(a as A, b as B, c as C) : note) : undefined, cause: p.cause,
    });
  }

  /** A collector for the scheduler's reasoning when the trace keeps it, else undefined (the scheduler then explains nothing). */
  explainer(): ExplainCollector | undefined {
    return this.full ? new ExplainCollector() : undefined;
  }

  /** A configuration change on this host (address, route, link, sysctl, module, IPVS table); `by` a daemon that made it. */
  change(c: ConfigChange, by?: string): void {
    if (this.full) this.sink.change({ t: this.clock.now, host: this.host, change: c, ...(by !== undefined ? { by } : {}) });
  }

  /**
   * Whoever records the host's configuration (world/world.ts): told when a daemon changed it
   * outside any command, so the change is recorded when it happens, attributed to the daemon.
   */
  onConfig: ((by: string) => void) | null = null;

  /** A daemon (`by`) changed the host's configuration (an IPVS destination, an address ...). */
  configChanged(by: string): void {
    if (this.full) this.onConfig?.(by);
  }

  /** A host or daemon event on this host (a crash, a boot, a health check's verdict, a VRRP transition). */
  event(e: DaemonEvent): void {
    if (this.full) this.sink.event({ t: this.clock.now, host: this.host, event: e });
  }
}

/** Collects a scheduler's explanation (the scheduler's ExplainSink) into a SchedExplain. */
export class ExplainCollector {
  readonly candidates: SchedCandidate[] = [];
  readonly details: Record<string, string | number | boolean> = {};
  text = '';
  candidate(c: SchedCandidate): void { this.candidates.push(c); }
  detail(k: string, v: string | number | boolean): void { this.details[k] = v; }
  summary(t: string): void { this.text = t; }
  build(scheduler: string, chosen: string | null): SchedExplain {
    return { scheduler, chosen, candidates: this.candidates, detail: this.details, summary: this.text || (chosen ? `${scheduler} chose ${chosen}` : `${scheduler}: no destination available`) };
  }
}
