/**
 * kernel/conntrack.ts: connection tracking (net/netfilter/nf_conntrack_core.c) as rule sets
 * see it. nf_conntrack_in runs at PREROUTING and OUTPUT (priority -200): it finds the entry
 * for the packet's tuple in either direction or makes a new, unconfirmed one, runs the
 * protocol tracker, and tags the skb with the entry and its ctinfo (NEW, ESTABLISHED,
 * RELATED, or none = INVALID). nf_confirm, last at INPUT and POSTROUTING, inserts a new
 * entry into the table, so a packet dropped on the way leaves nothing behind.
 *
 * Trackers: TCP (nf_conntrack_proto_tcp.c, the tcp_conntracks state table and
 * tcp_timeouts, net.netfilter.nf_conntrack_tcp_timeout_*), UDP, ICMP (echo by id; an error
 * quoting a tracked flow is RELATED to it, icmp_error_message), and the generic tracker for
 * everything else (IP-in-IP, protocol 4: one entry per address pair, 600 s).
 * The hooks are registered while something uses them (nf_ct_netns_get): a rule with
 * -m conntrack / -m state. IPVS resets an skb's entry when it sends it on
 * (ip_vs_tunnel_xmit_prepare -> nf_reset_ct), confirming it first when net.ipv4.vs.conntrack=1.
 * Expired entries are removed when met (nf_ct_is_expired on lookup) and not listed.
 * Not modelled: TCP window tracking (tcp_in_window), helpers and expectations, NAT, zones,
 * the loopback path keeping its entry (a packet looped back to this host is looked up again).
 */
import { type Ipv4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../net/packet';
import { formatIp4 } from '../net/addr';
import type { Host } from './host';
import type { Skb } from './skb';
import type { Ns } from '../sim/engine';
import { NF_ACCEPT, type NfVerdict } from './netfilter';
import type { Hook } from '../trace/record';
import { CT_STATE_ESTABLISHED, CT_STATE_INVALID, CT_STATE_NEW, CT_STATE_RELATED, CT_STATE_UNTRACKED } from './xtables';

// enum ip_conntrack_info
export const IP_CT_ESTABLISHED = 0;
export const IP_CT_RELATED = 1;
export const IP_CT_NEW = 2;
export const IP_CT_ESTABLISHED_REPLY = 3;
export const IP_CT_RELATED_REPLY = 4;
export const IP_CT_UNTRACKED = 7;

/** enum tcp_conntrack, in the kernel's order (the state table's columns). */
export const TCP_CT_NAMES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'] as const;
const sNO = 0, sSS = 1, sSR = 2, sES = 3, sFW = 4, sCW = 5, sLA = 6, sTW = 7, sCL = 8, sS2 = 9, sIV = 10, sIG = 11;

/** tcp_conntracks[dir][index][state]: index SYN, SYN-ACK, FIN, ACK, RST, none. */
const TCP_CONNTRACKS: readonly (readonly (readonly number[])[])[] = [
  [ // original
    [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [ // reply
    [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

/** The sysctl of each TCP state's timeout (tcp_timeouts[]); SYN_SENT2 shares syn_sent's. */
const TCP_TIMEOUT_KEYS = [
  'close', 'syn_sent', 'syn_recv', 'established', 'fin_wait', 'close_wait', 'last_ack', 'time_wait', 'close', 'syn_sent',
].map(k => `net.netfilter.nf_conntrack_tcp_timeout_${k}`);

/** get_conntrack_index. */
function tcpIndex(flags: number): number {
  if (flags & TCP_RST) return 4;
  if (flags & TCP_SYN) return flags & TCP_ACK ? 1 : 0;
  if (flags & TCP_FIN) return 2;
  if (flags & TCP_ACK) return 3;
  return 5;
}

// ct->status bits
const IPS_SEEN_REPLY = 2;
const IPS_ASSURED = 4;
const IPS_CONFIRMED = 8;

/** struct nf_conn, with the two tuples flattened (for ICMP, sport is the echo id, dport type/code). */
export interface NfConn {
  readonly proto: number;
  readonly src: number; readonly dst: number; readonly sport: number; readonly dport: number;
  readonly rsrc: number; readonly rdst: number; readonly rsport: number; readonly rdport: number;
  status: number;
  /** TCP tracker state (index into TCP_CT_NAMES). */
  tcpState: number;
  /** Absolute expiry time (ns). */
  expires: Ns;
}

const NS = 1_000_000_000;

/**
 * The host's table of confirmed entries, in insertion order (the kernel's hash order is random).
 * gc_worker's part: every so many insertions one pass drops the expired entries, so a long run
 * keeps only live ones (amortized constant work per insertion).
 */
export class ConntrackTable {
  private readonly all = new Set<NfConn>();
  /** Tuple hash -> entries (both directions are hashed). */
  private readonly hash = new Map<number, NfConn[]>();
  private untilGc = 64;
  /** Users of the hooks (nf_ct_netns_get). */
  users = 0;
  constructor(readonly host: Host) {}

  get size(): number { return this.all.size; }

  /** find's answer, reused from lookup to lookup (read it before the next find). */
  private readonly hit: { ct: NfConn; reply: boolean } = { ct: null as unknown as NfConn, reply: false };

  /** __nf_conntrack_find_get: the entry with this tuple in either direction; dir 1 = reply. */
  find(proto: number, src: number, dst: number, sport: number, dport: number, now: Ns): { readonly ct: NfConn; readonly reply: boolean } | null {
    const b = this.hash.get(tupleHash(proto, src, dst, sport, dport));
    if (!b) return null;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c.proto !== proto) continue;
      const orig = c.src === src && c.dst === dst && c.sport === sport && c.dport === dport;
      const rep = !orig && c.rsrc === src && c.rdst === dst && c.rsport === sport && c.rdport === dport;
      if (!orig && !rep) continue;
      if (c.expires <= now) { this.remove(c); return null; }
      this.hit.ct = c;
      this.hit.reply = rep;
      return this.hit;
    }
    return null;
  }

  insert(c: NfConn): void {
    c.status |= IPS_CONFIRMED;
    this.all.add(c);
    this.bucket(tupleHash(c.proto, c.src, c.dst, c.sport, c.dport)).push(c);
    this.bucket(tupleHash(c.proto, c.rsrc, c.rdst, c.rsport, c.rdport)).push(c);
    if (--this.untilGc <= 0) {
      this.expire(this.host.engine.now);
      this.untilGc = Math.max(64, this.all.size >> 2);
    }
  }

  remove(c: NfConn): void {
    if (!this.all.delete(c)) return;
    this.unhash(tupleHash(c.proto, c.src, c.dst, c.sport, c.dport), c);
    this.unhash(tupleHash(c.proto, c.rsrc, c.rdst, c.rsport, c.rdport), c);
  }

  /** Live entries (expired ones are dropped first), as `conntrack -L` lists them. */
  live(now: Ns): NfConn[] {
    this.expire(now);
    return [...this.all];
  }

  get entries(): NfConn[] {
    return [...this.all];
  }

  flush(): number {
    const n = this.all.size;
    this.all.clear();
    this.hash.clear();
    return n;
  }

  private expire(now: Ns): void {
    for (const c of this.all) if (c.expires <= now) this.remove(c);
  }

  private unhash(h: number, c: NfConn): void {
    const b = this.hash.get(h);
    if (!b) return;
    const k = b.indexOf(c);
    if (k >= 0) b.splice(k, 1);
    if (b.length === 0) this.hash.delete(h);
  }

  private bucket(h: number): NfConn[] {
    let b = this.hash.get(h);
    if (!b) { b = []; this.hash.set(h, b); }
    return b;
  }
}

function tupleHash(proto: number, src: number, dst: number, sport: number, dport: number): number {
  // Symmetric in nothing: each direction is hashed on its own, as the kernel hashes both tuples.
  // A signed 32-bit result: a small integer to V8, so the Map key is never a boxed number.
  const h = src ^ Math.imul(dst, 0x9e3779b1);
  return h ^ Math.imul((sport << 16) | dport, 0x85ebca6b) ^ proto;
}

const tables = new WeakMap<Host, ConntrackTable>();

/** The host's conntrack table (the module loads with it), or null when nf_conntrack never loaded. */
export function conntrackOf(host: Host): ConntrackTable | null {
  return tables.get(host) ?? null;
}

function ensureTable(host: Host): ConntrackTable {
  let t = tables.get(host);
  if (!t) {
    host.modprobe('nf_conntrack');
    t = new ConntrackTable(host);
    tables.set(host, t);
  }
  return t;
}

/** `modprobe nf_conntrack` or `conntrack -L`: the table exists (no hooks yet). */
export function nfConntrackLoad(host: Host): ConntrackTable {
  return ensureTable(host);
}

/** nf_ct_netns_get: a user of conntrack appears; the first one registers the hooks. */
export function nfConntrackGet(host: Host): void {
  const t = ensureTable(host);
  if (t.users++ > 0) return;
  host.nf.register({ hook: 'PREROUTING', priority: -200, name: 'nf_conntrack_in', fn: (skb, st) => traced(t, skb, st.hook) });
  host.nf.register({ hook: 'OUTPUT', priority: -200, name: 'nf_conntrack_in', fn: (skb, st) => traced(t, skb, st.hook) });
  host.nf.register({ hook: 'INPUT', priority: 0x7fffffff, name: 'nf_confirm', fn: skb => nfConfirm(t, skb) });
  host.nf.register({ hook: 'POSTROUTING', priority: 0x7fffffff, name: 'nf_confirm', fn: skb => nfConfirm(t, skb) });
}

/** nf_ct_netns_put: the last user gone, the hooks go. */
export function nfConntrackPut(host: Host): void {
  const t = tables.get(host);
  if (!t || t.users === 0) return;
  if (--t.users > 0) return;
  host.nf.unregister('nf_conntrack_in', 'PREROUTING');
  host.nf.unregister('nf_conntrack_in', 'OUTPUT');
  host.nf.unregister('nf_confirm', 'INPUT');
  host.nf.unregister('nf_confirm', 'POSTROUTING');
}

/** The xt_conntrack state bit of an skb (conntrack_mt: no entry and not untracked = INVALID). */
export function ctStateBit(skb: Skb): number {
  const ct = skb.ct;
  if (ct) {
    const info = skb.ctinfo ?? IP_CT_NEW;
    const base = info >= IP_CT_ESTABLISHED_REPLY ? info - IP_CT_ESTABLISHED_REPLY : info;
    return base === IP_CT_ESTABLISHED ? CT_STATE_ESTABLISHED : base === IP_CT_RELATED ? CT_STATE_RELATED : CT_STATE_NEW;
  }
  return skb.ctinfo === IP_CT_UNTRACKED ? CT_STATE_UNTRACKED : CT_STATE_INVALID;
}

/** nf_reset_ct: the skb leaves its entry (IPVS transmit, tunnel decapsulation). */
export function nfResetCt(skb: Skb): void {
  if (skb.ct !== undefined || skb.ctinfo !== undefined) { skb.ct = null; skb.ctinfo = undefined; }
}

/**
 * ip_vs_tunnel_xmit_prepare's conntrack part: with net.ipv4.vs.conntrack=1 the connection's
 * entry is confirmed (ip_vs_confirm_conntrack); either way the skb then leaves it.
 */
export function ipVsXmitCt(host: Host, skb: Skb): void {
  if (skb.ct && host.sysctl.num('net.ipv4.vs.conntrack') === 1) {
    const t = tables.get(host);
    if (t && !(skb.ct.status & IPS_CONFIRMED)) t.insert(skb.ct);
  }
  nfResetCt(skb);
}

/**
 * ip_vs_send_or_cont's conntrack part (direct routing and NAT): without net.ipv4.vs.conntrack
 * the packet leaves untracked (ip_vs_notrack); with it, it keeps its entry.
 * Not modelled: ip_vs_update_conntrack's rewrite of a NAT entry's reply tuple.
 */
export function ipVsSendOrContCt(host: Host, skb: Skb): void {
  if (host.sysctl.num('net.ipv4.vs.conntrack') === 1) return;
  if (skb.ct !== undefined || skb.ctinfo !== undefined) { skb.ct = null; skb.ctinfo = IP_CT_UNTRACKED; }
}

/** Seconds from a net.netfilter sysctl, as ns. */
function timeout(host: Host, key: string): Ns {
  return host.sysctl.num(key) * NS;
}

const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);
/** invmap of icmp_invert_tuple: request type -> reply type + 1 (0 = none). */
const ICMP_REPLY: Readonly<Record<number, number>> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 };
const ICMP_NEW_OK = new Set([8, 13, 15, 17]);

const STATE_NAME: Readonly<Record<number, string>> = { 0: 'ESTABLISHED', 1: 'RELATED', 2: 'NEW', 3: 'ESTABLISHED (reply)', 4: 'RELATED (reply)', 7: 'UNTRACKED' };

/** nf_conntrack_in, and (full trace only) a record of the state it gave the packet. */
function traced(t: ConntrackTable, skb: Skb, hook: Hook): NfVerdict {
  const v = nfConntrackIn(t, skb);
  t.host.emit.pass(skb, hook, 'accept', undefined, noteCt, skb);
  return v;
}

const noteCt = (skb: Skb): string => {
  const ct = skb.ct;
  const state = ct ? STATE_NAME[skb.ctinfo ?? IP_CT_NEW] : skb.ctinfo === IP_CT_UNTRACKED ? 'UNTRACKED' : 'INVALID (no entry: the tracker refused the packet)';
  return `conntrack: ${state}${ct && ct.proto === IPPROTO_TCP ? `, tcp ${TCP_CT_NAMES[ct.tcpState]}` : ''}`;
};

/** nf_conntrack_in. */
function nfConntrackIn(t: ConntrackTable, skb: Skb): NfVerdict {
  // A packet that already carries an entry (or is untracked) is not looked at again.
  if (skb.ct || skb.ctinfo === IP_CT_UNTRACKED) return NF_ACCEPT;
  const host = t.host;
  const now = host.engine.now;
  const p = skb.pkt;
  const l4 = p.payload;
  skb.ct = null;
  skb.ctinfo = undefined;
  let sport = 0, dport = 0, rsport = 0, rdport = 0;
  if (p.protocol === IPPROTO_TCP && l4.proto === 'tcp') { sport = l4.sport; dport = l4.dport; rsport = dport; rdport = sport; }
  else if (p.protocol === IPPROTO_UDP && l4.proto === 'udp') { sport = l4.sport; dport = l4.dport; rsport = dport; rdport = sport; }
  else if (p.protocol === IPPROTO_ICMP && l4.proto === 'icmp') {
    if (ICMP_ERRORS.has(l4.type)) return icmpError(t, skb, l4.quoted ?? null, now);
    const rt = ICMP_REPLY[l4.type];
    sport = l4.ident ?? 0; dport = (l4.type << 8) | l4.code;
    rsport = sport; rdport = rt === undefined ? dport : (rt << 8) | l4.code;
  }
  const hit = t.find(p.protocol, p.src, p.dst, sport, dport, now);
  let ct: NfConn;
  let reply = false;
  if (hit) {
    ct = hit.ct;
    reply = hit.reply;
  } else {
    // init_conntrack: a new entry, unless the tracker refuses to start one from this packet.
    let tcpState = sNO;
    if (p.protocol === IPPROTO_TCP && l4.proto === 'tcp') {
      tcpState = TCP_CONNTRACKS[0][tcpIndex(l4.flags)][sNO];
      // tcp_new: only a SYN starts one, or (nf_conntrack_tcp_loose) an ACK picked up mid-stream.
      if (tcpState === sIV || (tcpState === sES && host.sysctl.num('net.netfilter.nf_conntrack_tcp_loose') === 0)) return NF_ACCEPT;
    } else if (p.protocol === IPPROTO_ICMP && l4.proto === 'icmp' && !ICMP_NEW_OK.has(l4.type)) {
      return NF_ACCEPT;
    }
    ct = { proto: p.protocol, src: p.src, dst: p.dst, sport, dport, rsrc: p.dst, rdst: p.src, rsport, rdport, status: 0, tcpState: sNO, expires: now };
  }
  // The protocol tracker (nf_conntrack_handle_packet).
  if (p.protocol === IPPROTO_TCP && l4.proto === 'tcp') {
    const old = ct.tcpState;
    const next = TCP_CONNTRACKS[reply ? 1 : 0][tcpIndex(l4.flags)][old];
    if (next === sIV) return NF_ACCEPT; // invalid: the skb goes on without an entry
    if (next === sSS && !reply && (old === sTW || old === sCL) && hit) {
      // tcp_packet: a SYN reopening a closed connection kills the old entry and looks up again.
      t.remove(ct);
      return nfConntrackIn(t, skb);
    }
    if (next !== sIG) {
      ct.tcpState = next;
      let to = timeout(host, TCP_TIMEOUT_KEYS[next]);
      const unack = timeout(host, 'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged');
      if (!(ct.status & IPS_SEEN_REPLY) && to > unack) to = unack;
      else if (!(ct.status & IPS_ASSURED) && (old === sSR || old === sES) && next === sES) ct.status |= IPS_ASSURED;
      ct.expires = now + to;
    }
  } else if (p.protocol === IPPROTO_UDP) {
    // udp_packet: the stream timeout (and ASSURED) once both directions were seen.
    if (ct.status & IPS_SEEN_REPLY || reply) { ct.expires = now + timeout(host, 'net.netfilter.nf_conntrack_udp_timeout_stream'); ct.status |= IPS_ASSURED; }
    else ct.expires = now + timeout(host, 'net.netfilter.nf_conntrack_udp_timeout');
  } else if (p.protocol === IPPROTO_ICMP) {
    ct.expires = now + timeout(host, 'net.netfilter.nf_conntrack_icmp_timeout');
  } else {
    ct.expires = now + timeout(host, 'net.netfilter.nf_conntrack_generic_timeout');
  }
  if (reply) ct.status |= IPS_SEEN_REPLY;
  skb.ct = ct;
  skb.ctinfo = reply ? IP_CT_ESTABLISHED_REPLY : ct.status & IPS_SEEN_REPLY ? IP_CT_ESTABLISHED : IP_CT_NEW;
  return NF_ACCEPT;
}

/** icmp_error_message: an error is RELATED to the entry of the packet it quotes, else INVALID. */
function icmpError(t: ConntrackTable, skb: Skb, q: Ipv4 | null, now: Ns): NfVerdict {
  if (!q) return NF_ACCEPT;
  let sport = 0, dport = 0;
  const l4 = q.payload;
  if ((q.protocol === IPPROTO_TCP && l4.proto === 'tcp') || (q.protocol === IPPROTO_UDP && l4.proto === 'udp')) { sport = l4.sport; dport = l4.dport; }
  else if (q.protocol === IPPROTO_ICMP && l4.proto === 'icmp') { sport = l4.ident ?? 0; dport = (l4.type << 8) | l4.code; }
  const hit = t.find(q.protocol, q.src, q.dst, sport, dport, now);
  if (!hit) return NF_ACCEPT;
  skb.ct = hit.ct;
  // The quoted packet went the entry's original way: the error travels the reply way.
  skb.ctinfo = hit.reply ? IP_CT_RELATED : IP_CT_RELATED_REPLY;
  return NF_ACCEPT;
}

/** nf_confirm / __nf_conntrack_confirm: a new entry joins the table when its first packet gets through. */
function nfConfirm(t: ConntrackTable, skb: Skb): NfVerdict {
  const ct = skb.ct;
  if (ct && !(ct.status & IPS_CONFIRMED) && skb.ctinfo === IP_CT_NEW) {
    // Another packet of the same tuple may have confirmed one meanwhile (a clash): keep that one.
    if (!t.find(ct.proto, ct.src, ct.dst, ct.sport, ct.dport, t.host.engine.now)) t.insert(ct);
  }
  return NF_ACCEPT;
}

const PROTO_NAME: Readonly<Record<number, string>> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

/** One `conntrack -L` line (conntrack-tools' default output format). */
export function conntrackLine(c: NfConn, now: Ns): string {
  const secs = Math.max(0, Math.floor((c.expires - now) / NS));
  const name = PROTO_NAME[c.proto] ?? 'unknown';
  let s = `${name.padEnd(8)} ${c.proto} ${secs} `;
  if (c.proto === IPPROTO_TCP) s += `${TCP_CT_NAMES[c.tcpState]} `;
  const tuple = (src: number, dst: number, sp: number, dp: number): string => {
    let x = `src=${formatIp4(src)} dst=${formatIp4(dst)} `;
    if (c.proto === IPPROTO_TCP || c.proto === IPPROTO_UDP) x += `sport=${sp} dport=${dp} `;
    else if (c.proto === IPPROTO_ICMP) x += `type=${dp >> 8} code=${dp & 0xff} id=${sp} `;
    return x;
  };
  s += tuple(c.src, c.dst, c.sport, c.dport);
  if (!(c.status & IPS_SEEN_REPLY)) s += '[UNREPLIED] ';
  s += tuple(c.rsrc, c.rdst, c.rsport, c.rdport);
  if (c.status & IPS_ASSURED) s += '[ASSURED] ';
  return s + 'mark=0 use=1';
}
