/**
 * trace/firewall.ts: a host's iptables rules and counters at any trace position, from the trace
 * alone. The last iptables configuration change (trace/state.ts: the tables after a commit,
 * counters included) gives the rule set; every rule a packet matched since then (a record's
 * `rule`, or an iptables drop's reason) adds one packet and its bytes, as ipt_do_table's
 * ADD_COUNTER did (net/ipv4/netfilter/ip_tables.c). Between two commits the rule set is fixed,
 * so a rule number means the same rule throughout.
 */
import { ipv4TotalLength } from '../net/packet';
import type { RuleHit, TraceRecord } from './record';
import { type ChangeRecord, NO_XTABLES, type XtablesState } from './state';

/** What names a rule: a RuleHit or an iptables drop reason. */
type RuleName = Pick<RuleHit, 'table' | 'chain' | 'rule' | 'text'>;

/** "filter INPUT rule 3: -A INPUT -p tcp -m tcp --dport 9001 -j ACCEPT", or "filter INPUT: policy ACCEPT". */
export function ruleHitText(h: RuleName): string {
  return h.rule === 0 ? `${h.table} ${h.chain}: policy ${h.text.slice(h.text.lastIndexOf(' ') + 1)}` : `${h.table} ${h.chain} rule ${h.rule}: ${h.text}`;
}

/** The rule (or policy) a record says matched its packet: the record's `rule`, or the one an iptables drop names; else null. */
export function ruleHitOf(r: TraceRecord): RuleHit | null {
  if (r.rule) return r.rule;
  const why = r.reason;
  if (!why || why.code !== 'iptables' || r.packet.pkt.proto !== 'ipv4') return null;
  return { table: why.table, chain: why.chain, rule: why.rule, text: why.text, bytes: ipv4TotalLength(r.packet.pkt) };
}

/** True when a record is one of `host`'s rule matches (cheap: no object built). */
function isHit(r: TraceRecord, host: string): boolean {
  return r.host === host && (r.rule !== undefined || (r.reason !== undefined && r.reason.code === 'iptables'));
}

/** The last iptables change of `host` in force at record `position` (the commit the rule set is from), or null. */
export function xtablesChangeAt(changes: readonly ChangeRecord[], host: string, position: number): ChangeRecord | null {
  let last: ChangeRecord | null = null;
  for (const c of changes) {
    if (c.seq > position) break;
    if (c.host === host && c.change.kind === 'iptables') last = c;
  }
  return last;
}

/**
 * `host`'s iptables tables with every counter as it stood once record `position` was written
 * (a packet recorded later is not counted yet). Position Infinity gives the end of the run.
 */
export function xtablesAt(records: readonly TraceRecord[], changes: readonly ChangeRecord[], host: string, position: number): XtablesState {
  const last = xtablesChangeAt(changes, host, position);
  if (!last || last.change.kind !== 'iptables' || last.change.xtables.tables.length === 0) return NO_XTABLES;
  const base = last.change.xtables;
  const from = last.seq;
  const pcnt = new Map<string, number>();
  const bcnt = new Map<string, number>();
  const end = Math.min(position, records.length - 1);
  for (let i = from; i <= end; i++) {
    const r = records[i]!;
    if (!isHit(r, host)) continue;
    const h = ruleHitOf(r)!;
    const k = `${h.table} ${h.chain} ${h.rule}`;
    pcnt.set(k, (pcnt.get(k) ?? 0) + 1);
    bcnt.set(k, (bcnt.get(k) ?? 0) + h.bytes);
  }
  if (pcnt.size === 0) return base;
  return {
    commits: base.commits,
    tables: base.tables.map(t => ({
      name: t.name,
      chains: t.chains.map(c => {
        const pk = `${t.name} ${c.name} 0`;
        return {
          name: c.name, policy: c.policy, pcnt: c.pcnt + (pcnt.get(pk) ?? 0), bcnt: c.bcnt + (bcnt.get(pk) ?? 0),
          rules: c.rules.map((r, i) => {
            const k = `${t.name} ${c.name} ${i + 1}`;
            return { text: r.text, pcnt: r.pcnt + (pcnt.get(k) ?? 0), bcnt: r.bcnt + (bcnt.get(k) ?? 0) };
          }),
        };
      }),
    })),
  };
}
