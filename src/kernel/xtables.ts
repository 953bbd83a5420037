/**
 * kernel/xtables.ts: ip_tables, the x_tables IPv4 back end that iptables-legacy programs
 * (net/ipv4/netfilter/ip_tables.c). Each table is a set of chains of rules; a table module
 * registers its hooks at its priority (include/uapi/linux/netfilter_ipv4.h):
 *
 *   raw     -300  PREROUTING OUTPUT                         (iptable_raw.c)
 *   conntrack -200 PREROUTING OUTPUT (nf_conntrack_in), confirm last at INPUT POSTROUTING
 *   mangle  -150  PREROUTING INPUT FORWARD OUTPUT POSTROUTING (iptable_mangle.c)
 *   filter     0  INPUT FORWARD OUTPUT                      (iptable_filter.c)
 *   IPVS      98/99 at INPUT (after filter)
 *
 * ipt_do_table walks the hook's built-in chain rule by rule (linear, as legacy iptables does):
 * ip_packet_match on the fixed header fields, then every match, then the target. A matching
 * rule's counters go up before its target runs; falling off a built-in chain applies its
 * policy and counts there. Jumps push a return point (goto does not).
 * A table exists on a host from the first iptables command that names it (the module loads
 * then, as iptables' modprobe of iptable_<name> does); a host without tables pays nothing.
 * Not modelled: the nat and security tables, IP fragments (no -f match beyond the flag),
 * --tcp-option, matches and targets other than those listed in XtMatch and XtTarget.
 */
import { type Ipv4, type Tcp, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, ipv4TotalLength } from '../net/packet';
import type { Host, NetDevice } from './host';
import type { Skb } from './skb';
import { type DropReason, type Hook, type RuleHit, RST } from '../trace/record';
import { icmp } from '../trace/emit';
import { NF_ACCEPT, NF_STOLEN, type NfHookState, type NfVerdict } from './netfilter';
import { ipLocalOut } from './ip';
import { icmpErrorAllowed, icmpSend, defaultTtl } from './icmp';
import { ipRouteOutput, ipRouteOutputAnySrc } from './route';
import { saveRule } from './xtables_save';
import { IP_CT_UNTRACKED, ctStateBit, nfConntrackGet, nfConntrackPut } from './conntrack';
import { nfLogPacket } from './klog';

export type TableName = 'raw' | 'mangle' | 'filter';

/** Hook priorities of the table modules (enum nf_ip_hook_priorities). */
export const TABLE_PRIORITY: Readonly<Record<TableName, number>> = { raw: -300, mangle: -150, filter: 0 };

/** The hooks each table registers, in the order iptables lists its built-in chains. */
export const TABLE_HOOKS: Readonly<Record<TableName, readonly Hook[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};


// ipt_ip.invflags (include/uapi/linux/netfilter_ipv4/ip_tables.h)
export const IPT_INV_VIA_IN = 0x01;
export const IPT_INV_VIA_OUT = 0x02;
export const IPT_INV_SRCIP = 0x08;
export const IPT_INV_DSTIP = 0x10;
export const IPT_INV_FRAG = 0x20;
export const XT_INV_PROTO = 0x40;

// xt_tcp.invflags
export const XT_TCP_INV_SRCPT = 0x01;
export const XT_TCP_INV_DSTPT = 0x02;
export const XT_TCP_INV_FLAGS = 0x04;

/** The fixed part of a rule (struct ipt_ip). Interfaces: '' any; `wild` = a trailing '+'. */
export interface IptIp {
  src: number; smsk: number; dst: number; dmsk: number;
  iniface: string; inWild: boolean;
  outiface: string; outWild: boolean;
  proto: number;
  frag: boolean;
  invflags: number;
}

/** Conntrack state bits as xt_conntrack numbers them (XT_CONNTRACK_STATE_BIT). */
export const CT_STATE_INVALID = 1;
export const CT_STATE_ESTABLISHED = 2;
export const CT_STATE_RELATED = 4;
export const CT_STATE_NEW = 8;
export const CT_STATE_UNTRACKED = 1 << 6;

/** A match (struct xt_entry_match), by extension name, with its data as the kernel keeps it. */
export type XtMatch =
  | { name: 'tcp'; spts: [number, number]; dpts: [number, number]; flgMask: number; flgCmp: number; invflags: number }
  | { name: 'udp'; spts: [number, number]; dpts: [number, number]; invflags: number }
  /** ipt_icmp: type 0xff is "any"; codes an inclusive range. */
  | { name: 'icmp'; type: number; codeMin: number; codeMax: number; invert: boolean }
  /** xt_multiport revision 1: ports with range flags; `flags` source, destination or either. */
  | { name: 'multiport'; flags: 'sports' | 'dports' | 'ports'; ports: number[]; pflags: boolean[]; invert: boolean }
  /** xt_conntrack (the state match is its alias: `-m state --state`). */
  | { name: 'conntrack'; stateMask: number; invert: boolean; alias: boolean }
  | { name: 'comment'; comment: string };

export type RejectWith =
  | 'icmp-net-unreachable' | 'icmp-host-unreachable' | 'icmp-proto-unreachable' | 'icmp-port-unreachable'
  | 'icmp-net-prohibited' | 'icmp-host-prohibited' | 'tcp-reset' | 'icmp-admin-prohibited';

/** ICMP type 3 code for each REJECT type (ipt_REJECT.c reject_tg). */
export const REJECT_CODE: Readonly<Record<Exclude<RejectWith, 'tcp-reset'>, number>> = {
  'icmp-net-unreachable': 0, 'icmp-host-unreachable': 1, 'icmp-proto-unreachable': 2, 'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9, 'icmp-host-prohibited': 10, 'icmp-admin-prohibited': 13,
};

export type XtTarget =
  /** No -j: the rule only counts. */
  | { kind: 'none' }
  | { kind: 'verdict'; verdict: 'ACCEPT' | 'DROP' | 'RETURN' }
  | { kind: 'jump'; chain: string; goto: boolean }
  | { kind: 'REJECT'; with: RejectWith }
  | { kind: 'LOG'; prefix: string; level: number; flags: number }
  /** mss null: --clamp-mss-to-pmtu. */
  | { kind: 'TCPMSS'; mss: number | null }
  /** xt_CT in the raw table: --notrack (or the NOTRACK alias) leaves the packet untracked. */
  | { kind: 'CT'; notrack: boolean; alias: boolean };

export interface IptRule {
  readonly ip: IptIp;
  readonly matches: readonly XtMatch[];
  readonly target: XtTarget;
  pcnt: number;
  bcnt: number;
  /** Resolved user chain of a jump/goto target (set when the rule is committed). */
  jumpTo: Chain | null;
}

export interface Chain {
  name: string;
  /** The hook of a built-in chain; null for a user-defined chain. */
  readonly hook: Hook | null;
  policy: 'ACCEPT' | 'DROP';
  /** Policy counters (built-in chains). */
  pcnt: number;
  bcnt: number;
  rules: IptRule[];
}

export interface Table {
  readonly name: TableName;
  /** Built-in chains in hook order, then user chains sorted by name (libiptc keeps them so). */
  readonly chains: Chain[];
}

/** x_tables' jump stack bound (XT_MAX_TABLE_SIZE aside, ipt_do_table's stackpool). */
const MAX_JUMP_DEPTH = 64;

/** The tables of one host and the hooks they occupy. */
export class XtState {
  readonly tables = new Map<TableName, Table>();
  /** Rules using conntrack matches hold a reference on nf_conntrack (nf_ct_netns_get). */
  ctUsers = 0;
  /** Commits and table loads so far: the trace records the tables again when it moves (trace/state.ts). */
  commits = 0;
  private readonly stackChain: Chain[] = new Array(MAX_JUMP_DEPTH);
  private readonly stackIdx: number[] = new Array(MAX_JUMP_DEPTH).fill(0);
  /** Table names, newest first: the order of /proc/net/ip_tables_names (xt_register_table adds at the head). */
  private readonly order: TableName[] = [];
  constructor(readonly host: Host) {}

  /** The loaded tables in the order iptables-save prints them. */
  loadOrder(): Table[] {
    return this.order.map(n => this.tables.get(n)!);
  }

  /** The table, loading its module and registering its hooks on first use. */
  table(name: TableName): Table {
    let t = this.tables.get(name);
    if (t) return t;
    t = { name, chains: TABLE_HOOKS[name].map(h => ({ name: h, hook: h, policy: 'ACCEPT' as const, pcnt: 0, bcnt: 0, rules: [] })) };
    this.tables.set(name, t);
    this.order.unshift(name);
    this.commits++;
    this.host.modules.add('ip_tables');
    this.host.modules.add(`iptable_${name}`);
    const table = t;
    for (const hook of TABLE_HOOKS[name]) {
      const chain = t.chains.find(c => c.hook === hook)!;
      this.host.nf.register({ hook, priority: TABLE_PRIORITY[name], name: `iptable_${name}`, fn: (skb, state) => this.doTable(table, chain, skb, state) });
    }
    return t;
  }

  chain(t: Table, name: string): Chain | undefined {
    return t.chains.find(c => c.name === name);
  }

  /** Re-resolve jump targets and the conntrack reference after a change (a libiptc commit). */
  commit(): void {
    this.commits++;
    let ct = 0;
    for (const t of this.tables.values()) {
      for (const c of t.chains) {
        for (const r of c.rules) {
          r.jumpTo = r.target.kind === 'jump' ? this.chain(t, r.target.chain) ?? null : null;
          for (const m of r.matches) if (m.name === 'conntrack') ct++;
        }
      }
    }
    if (ct > 0 && this.ctUsers === 0) nfConntrackGet(this.host);
    if (ct === 0 && this.ctUsers > 0) nfConntrackPut(this.host);
    this.ctUsers = ct;
  }

  /**
   * ipt_do_table: walk `start` (the hook's built-in chain) and the chains it jumps to.
   * Returns the verdict; DROP and REJECT record the drop with the rule that made it.
   */
  doTable(t: Table, start: Chain, skb: Skb, state: NfHookState): NfVerdict {
    const host = this.host;
    let p = skb.pkt;
    const inName = state.in ? state.in.name : '';
    const outName = state.out ? state.out.name : '';
    let chain = start;
    let i = 0;
    let sp = 0;
    let len = -1;
    for (;;) {
      const rules = chain.rules;
      if (i >= rules.length) {
        if (chain.hook !== null || sp === 0) {
          // The built-in chain's end: its policy (a RETURN in a built-in chain ends here too).
          if (len < 0) len = ipv4TotalLength(p);
          start.pcnt++;
          start.bcnt += len;
          if (start.policy === 'ACCEPT') {
            host.emit.rule(skb, state.hook, 'accept', len, hitOf, t, start, -1);
            return NF_ACCEPT;
          }
          return this.verdictDrop(t, start, 0, null, skb, state);
        }
        sp--;
        chain = this.stackChain[sp];
        i = this.stackIdx[sp];
        continue;
      }
      const r = rules[i];
      if (!ipPacketMatch(r.ip, p, inName, outName) || !matchesAll(r.matches, skb)) { i++; continue; }
      if (len < 0) len = ipv4TotalLength(p);
      r.pcnt++;
      r.bcnt += len;
      const tg = r.target;
      // The trace names every rule that counts the packet; DROP and REJECT name theirs in the drop.
      switch (tg.kind) {
        case 'none':
          host.emit.rule(skb, state.hook, 'match', len, hitOf, t, chain, i);
          i++;
          continue;
        case 'verdict':
          if (tg.verdict === 'ACCEPT') {
            host.emit.rule(skb, state.hook, 'accept', len, hitOf, t, chain, i);
            return NF_ACCEPT;
          }
          if (tg.verdict === 'DROP') return this.verdictDrop(t, chain, i + 1, r, skb, state);
          host.emit.rule(skb, state.hook, 'match', len, hitOf, t, chain, i);
          // RETURN: in a built-in chain (or with nothing to return to) the policy decides.
          if (sp === 0) { i = rules.length; chain = start; continue; }
          sp--;
          chain = this.stackChain[sp];
          i = this.stackIdx[sp];
          continue;
        case 'jump': {
          const to = r.jumpTo;
          if (to !== null && !tg.goto && sp >= MAX_JUMP_DEPTH) return this.verdictDrop(t, chain, i + 1, r, skb, state);
          host.emit.rule(skb, state.hook, 'match', len, hitOf, t, chain, i);
          if (to === null) { i++; continue; }
          if (!tg.goto) {
            this.stackChain[sp] = chain;
            this.stackIdx[sp] = i + 1;
            sp++;
          }
          chain = to;
          i = 0;
          continue;
        }
        case 'LOG':
          host.emit.rule(skb, state.hook, 'match', len, hitOf, t, chain, i);
          nfLogPacket(host, tg.prefix, tg.level, skb.pkt, state.in, state.out, skb, tg.flags);
          i++;
          continue;
        case 'TCPMSS':
          host.emit.rule(skb, state.hook, 'match', len, hitOf, t, chain, i);
          // A new MSS option lengthens the packet: later rules count the new length (skb->len).
          if (tcpmssTg(host, skb, state, tg.mss)) { p = skb.pkt; len = -1; }
          i++;
          continue;
        case 'REJECT':
          return this.reject(t, chain, i + 1, r, tg.with, skb, state);
        case 'CT':
          host.emit.rule(skb, state.hook, 'match', len, hitOf, t, chain, i);
          // xt_ct_target: the untracked template; nf_conntrack_in then leaves the packet alone.
          if (tg.notrack) { skb.ct = null; skb.ctinfo = IP_CT_UNTRACKED; }
          i++;
          continue;
      }
    }
  }

  private verdictDrop(t: Table, chain: Chain, rule: number, r: IptRule | null, skb: Skb, _state: NfHookState): NfVerdict {
    const reason: DropReason = {
      code: 'iptables', table: t.name, chain: chain.name, rule,
      text: r ? saveRule(chain.name, r) : `-P ${chain.name} DROP`, target: 'DROP',
      proto: skb.pkt.protocol, icmp: icmpTypeCode(skb.pkt),
    };
    return { verdict: 'drop', reason };
  }

  /** ipt_REJECT reject_tg: answer (ICMP or RST), then drop; the drop is traced before the answer is sent. */
  private reject(t: Table, chain: Chain, rule: number, r: IptRule, w: RejectWith, skb: Skb, state: NfHookState): NfVerdict {
    const host = this.host;
    const reason: DropReason = {
      code: 'iptables', table: t.name, chain: chain.name, rule, text: saveRule(chain.name, r), target: 'REJECT', with: w,
      proto: skb.pkt.protocol, icmp: icmpTypeCode(skb.pkt),
    };
    if (w === 'tcp-reset') {
      const sent = skb.pkt.payload.proto === 'tcp' && !(skb.pkt.payload.flags & TCP_RST) && !skb.pkt.fragOffset;
      host.emit.drop(skb, state.hook, reason, sent ? RST : undefined);
      if (sent) nfSendReset(host, skb);
    } else {
      const allowed = icmpErrorAllowed(skb.pkt);
      host.emit.drop(skb, state.hook, reason, allowed ? icmp(3, REJECT_CODE[w]) : undefined);
      if (allowed) icmpSend(host, skb, 3, REJECT_CODE[w]);
    }
    return NF_STOLEN;
  }
}

/** The rule `i` of a chain (-1: its policy) as the trace names it. */
const hitOf = (t: Table, chain: Chain, i: number): Omit<RuleHit, 'bytes'> => i < 0
  ? { table: t.name, chain: chain.name, rule: 0, text: `-P ${chain.name} ${chain.policy}` }
  : { table: t.name, chain: chain.name, rule: i + 1, text: saveRule(chain.name, chain.rules[i]) };
const noteMss = (old: number | undefined, mss: number): string => `TCPMSS: MSS ${old ?? 'absent'} -> ${mss}`;

/** "type/code" of an ICMP packet (for the explanation of a drop), else null. */
function icmpTypeCode(p: Ipv4): string | null {
  return p.protocol === IPPROTO_ICMP && p.payload.proto === 'icmp' ? `${p.payload.type}/${p.payload.code}` : null;
}

/** ip_packet_match (ip_tables.c): addresses under their masks, interfaces, protocol, fragment flag. */
export function ipPacketMatch(ip: IptIp, p: Ipv4, inName: string, outName: string): boolean {
  const inv = ip.invflags;
  if ((((p.src & ip.smsk) >>> 0) !== ip.src) !== ((inv & IPT_INV_SRCIP) !== 0)) return false;
  if ((((p.dst & ip.dmsk) >>> 0) !== ip.dst) !== ((inv & IPT_INV_DSTIP) !== 0)) return false;
  if (ip.iniface !== '' && ifaceMatches(ip.iniface, ip.inWild, inName) === ((inv & IPT_INV_VIA_IN) !== 0)) return false;
  if (ip.outiface !== '' && ifaceMatches(ip.outiface, ip.outWild, outName) === ((inv & IPT_INV_VIA_OUT) !== 0)) return false;
  if (ip.proto !== 0 && ((p.protocol !== ip.proto) !== ((inv & XT_INV_PROTO) !== 0))) return false;
  if (ip.frag && ((!p.fragOffset) !== ((inv & IPT_INV_FRAG) !== 0))) return false;
  return true;
}

function ifaceMatches(name: string, wild: boolean, dev: string): boolean {
  return wild ? dev.startsWith(name) : dev === name;
}

function inRange(v: number, r: readonly [number, number], invert: boolean): boolean {
  return (v >= r[0] && v <= r[1]) !== invert;
}

/** Every match of a rule, in order (a rule matches when all do). */
function matchesAll(ms: readonly XtMatch[], skb: Skb): boolean {
  for (let k = 0; k < ms.length; k++) if (!matchOne(ms[k], skb)) return false;
  return true;
}

function matchOne(m: XtMatch, skb: Skb): boolean {
  const p = skb.pkt;
  const l4 = p.payload;
  switch (m.name) {
    case 'tcp':
      // tcp_mt: non-first fragments never match; no TCP header, no match (hotdrop).
      if (p.fragOffset || p.protocol !== IPPROTO_TCP || l4.proto !== 'tcp') return false;
      return inRange(l4.sport, m.spts, (m.invflags & XT_TCP_INV_SRCPT) !== 0)
        && inRange(l4.dport, m.dpts, (m.invflags & XT_TCP_INV_DSTPT) !== 0)
        && (((l4.flags & m.flgMask) === m.flgCmp) !== ((m.invflags & XT_TCP_INV_FLAGS) !== 0));
    case 'udp':
      if (p.fragOffset || p.protocol !== IPPROTO_UDP || l4.proto !== 'udp') return false;
      return inRange(l4.sport, m.spts, (m.invflags & XT_TCP_INV_SRCPT) !== 0)
        && inRange(l4.dport, m.dpts, (m.invflags & XT_TCP_INV_DSTPT) !== 0);
    case 'icmp': {
      if (p.fragOffset || p.protocol !== IPPROTO_ICMP || l4.proto !== 'icmp') return false;
      // icmp_type_code_match: type 0xff matches every type.
      const hit = m.type === 0xff || (l4.type === m.type && l4.code >= m.codeMin && l4.code <= m.codeMax);
      return hit !== m.invert;
    }
    case 'multiport': {
      if (p.fragOffset || (l4.proto !== 'tcp' && l4.proto !== 'udp')) return false;
      return multiportMatch(m.ports, m.pflags, m.flags, l4.sport, l4.dport) !== m.invert;
    }
    case 'conntrack':
      return ((ctStateBit(skb) & m.stateMask) !== 0) !== m.invert;
    case 'comment':
      return true;
  }
}

/** ports_match_v1 (xt_multiport.c). */
function multiportMatch(ports: readonly number[], pflags: readonly boolean[], flags: 'sports' | 'dports' | 'ports', s: number, d: number): boolean {
  for (let i = 0; i < ports.length; i++) {
    const lo = ports[i];
    if (pflags[i]) {
      const hi = ports[++i];
      if (flags !== 'dports' && s >= lo && s <= hi) return true;
      if (flags !== 'sports' && d >= lo && d <= hi) return true;
    } else {
      if (flags !== 'dports' && s === lo) return true;
      if (flags !== 'sports' && d === lo) return true;
    }
  }
  return false;
}

/**
 * xt_TCPMSS tcpmss_tg4 / tcpmss_mangle_packet: on a SYN, lower the MSS option to the set
 * value or to the path MTU minus 40 (the smaller of the output route's and the reverse
 * route's MTU); never raise it. A SYN without the option gets one (at most 536, RFC 879).
 */
function tcpmssTg(host: Host, skb: Skb, state: NfHookState, mss: number | null): boolean {
  const p = skb.pkt;
  if (p.payload.proto !== 'tcp' || !(p.payload.flags & TCP_SYN)) return false;
  const tcp = p.payload;
  let newmss: number;
  if (mss === null) {
    const out = state.out ? ipRouteOutputAnySrc(host, p.dst) : null;
    const back = ipRouteOutputAnySrc(host, p.src);
    const outMtu = out ? out.mtu : 65535;
    const inMtu = back ? back.mtu : 65535;
    newmss = Math.min(outMtu, inMtu) - 40;
  } else newmss = mss;
  const old = tcp.options?.mss;
  if (old === undefined) newmss = Math.min(newmss, 536);
  else if (old <= newmss) return false;
  const t: Tcp = { ...tcp, options: { ...tcp.options, mss: newmss } };
  skb.pkt = { ...p, payload: t };
  host.emit.pass(skb, state.hook, 'accept', undefined, noteMss, old, newmss);
  return old === undefined;
}

/**
 * nf_send_reset (net/ipv4/netfilter/nf_reject_ipv4.c): a RST from the packet's destination
 * back to its source: seq = the offending ACK's ack_seq, or ACK of everything it carried.
 * Never in answer to a RST or a non-first fragment.
 */
function nfSendReset(host: Host, skb: Skb): void {
  const p = skb.pkt;
  if (p.payload.proto !== 'tcp' || p.fragOffset) return;
  const oth = p.payload;
  if (oth.flags & TCP_RST) return;
  const hasAck = (oth.flags & TCP_ACK) !== 0;
  const seqLen = oth.data.length + (oth.flags & TCP_SYN ? 1 : 0) + (oth.flags & TCP_FIN ? 1 : 0);
  const rst: Tcp = {
    proto: 'tcp', sport: oth.dport, dport: oth.sport,
    seq: hasAck ? oth.ack : 0, ack: hasAck ? 0 : (oth.seq + seqLen) >>> 0,
    flags: hasAck ? TCP_RST : TCP_RST | TCP_ACK, window: 0, data: new Uint8Array(0),
  };
  const pkt: Ipv4 = { proto: 'ipv4', src: p.dst, dst: p.src, protocol: IPPROTO_TCP, ttl: defaultTtl(host), tos: 0, id: 0, df: true, payload: rst };
  // ip_route_me_harder: the route back; a forwarded packet's destination is not ours, so any source.
  const rt = host.isLocal(p.dst) ? ipRouteOutput(host, p.src, p.dst) : ipRouteOutputAnySrc(host, p.src);
  if (!rt) return;
  host.count('TcpOutRsts');
  const out: Skb = { id: host.ids.next(), pkt, dev: null, cause: skb.id };
  host.emit.pass(out, 'socket', 'send', undefined, 'REJECT --reject-with tcp-reset');
  ipLocalOut(host, out, { ...rt, src: p.dst } as Parameters<typeof ipLocalOut>[2]);
}

// --- per-host state -------------------------------------------------------------------

const states = new WeakMap<Host, XtState>();

/** The host's ip_tables state (created empty: no table and no hook until one is named). */
export function xtOf(host: Host): XtState {
  let s = states.get(host);
  if (!s) { s = new XtState(host); states.set(host, s); }
  return s;
}

/** The host's ip_tables state if any table was ever loaded, else null. */
export function xtIfLoaded(host: Host): XtState | null {
  const s = states.get(host);
  return s && s.tables.size > 0 ? s : null;
}

/**
 * Every rule's packet counter on a host, as `iptables-save -c` orders them: tables as
 * iptables-save prints them, chains in listing order, rules in order. Each row is
 * [table, chain, rule spec without "-A CHAIN ", packets]; an empty list when the host has
 * no rules. (The form of a kernel vector's observe.iptables_counters.)
 */
export function iptablesCounters(host: Host): Array<[string, string, string, number]> {
  const out: Array<[string, string, string, number]> = [];
  const s = xtIfLoaded(host);
  if (!s) return out;
  for (const t of s.loadOrder()) {
    for (const c of t.chains) {
      for (const r of c.rules) out.push([t.name, c.name, saveRule(c.name, r).slice(`-A ${c.name} `.length), r.pcnt]);
    }
  }
  return out;
}

/** Rule constructor with the kernel's defaults for the fixed part. */
export function newRule(ip: Partial<IptIp>, matches: XtMatch[], target: XtTarget): IptRule {
  return {
    ip: { src: 0, smsk: 0, dst: 0, dmsk: 0, iniface: '', inWild: false, outiface: '', outWild: false, proto: 0, frag: false, invflags: 0, ...ip },
    matches, target, pcnt: 0, bcnt: 0, jumpTo: null,
  };
}

export type { NetDevice };

// --- what a rule set would do, without running it (lvsim doctor) ---------------------------

/** Stands for "some conntrack entry" when a dry run asks for ESTABLISHED or NEW. */
const DRY_CT = {} as NonNullable<Skb['ct']>;

/**
 * The verdict the host's tables would give `pkt` at `hook`, in priority order (raw, mangle,
 * filter), without counting, logging or answering: the iptables drop that would happen, or
 * null when every table lets it through. Conntrack matches see `ctinfo` (IP_CT_NEW = 2 for
 * a flow's first packet, IP_CT_ESTABLISHED_REPLY = 3 for its answer).
 */
export function xtDryRun(host: Host, pkt: Ipv4, hook: Hook, inDev: NetDevice | null, outDev: NetDevice | null, ctinfo: number): Extract<DropReason, { code: 'iptables' }> | null {
  const s = xtIfLoaded(host);
  if (!s) return null;
  const skb: Skb = { id: 0, pkt, dev: inDev, ct: DRY_CT, ctinfo };
  const tables = [...s.tables.values()].filter(t => TABLE_HOOKS[t.name].includes(hook)).sort((a, b) => TABLE_PRIORITY[a.name] - TABLE_PRIORITY[b.name]);
  for (const t of tables) {
    const start = t.chains.find(c => c.hook === hook)!;
    const v = dryChain(t, start, skb, inDev ? inDev.name : '', outDev ? outDev.name : '', 0);
    if (v !== null && v.kind === 'drop') return v.reason;
    if ((v === null || v.kind === 'return') && start.policy === 'DROP') {
      return { code: 'iptables', table: t.name, chain: start.name, rule: 0, text: `-P ${start.name} DROP`, target: 'DROP', proto: pkt.protocol, icmp: icmpTypeCode(pkt) };
    }
  }
  return null;
}

type DryVerdict = { kind: 'accept' } | { kind: 'drop'; reason: Extract<DropReason, { code: 'iptables' }> } | { kind: 'return' };

/** One chain of a dry run: null when it falls off its end (policy or return to the caller). */
function dryChain(t: Table, c: Chain, skb: Skb, inName: string, outName: string, depth: number): DryVerdict | null {
  if (depth > MAX_JUMP_DEPTH) return null;
  for (let i = 0; i < c.rules.length; i++) {
    const r = c.rules[i];
    if (!ipPacketMatch(r.ip, skb.pkt, inName, outName) || !matchesAll(r.matches, skb)) continue;
    const tg = r.target;
    switch (tg.kind) {
      case 'verdict':
        if (tg.verdict === 'ACCEPT') return { kind: 'accept' };
        if (tg.verdict === 'RETURN') return { kind: 'return' };
        return { kind: 'drop', reason: { code: 'iptables', table: t.name, chain: c.name, rule: i + 1, text: saveRule(c.name, r), target: 'DROP', proto: skb.pkt.protocol, icmp: icmpTypeCode(skb.pkt) } };
      case 'REJECT':
        return { kind: 'drop', reason: { code: 'iptables', table: t.name, chain: c.name, rule: i + 1, text: saveRule(c.name, r), target: 'REJECT', with: tg.with, proto: skb.pkt.protocol, icmp: icmpTypeCode(skb.pkt) } };
      case 'jump': {
        const to = t.chains.find(x => x.name === tg.chain);
        if (!to) continue;
        const v = dryChain(t, to, skb, inName, outName, depth + 1);
        if (v !== null && v.kind !== 'return') return v;
        if (tg.goto) return null;
        continue;
      }
      default: continue;
    }
  }
  return null;
}
