/**
 * ipvs/core.ts: ip_vs_in_hook at NF_INET_LOCAL_IN priority 99 (net/netfilter/ipvs/ip_vs_core.c),
 * which looks the client packet up in the connection table, schedules a new connection on
 * a miss, moves the TCP state, counts, and hands the packet to the connection's transmitter
 * (ipvs/bind_xmit.ts: tunnel, direct routing or NAT; NAT replies: ipvs/out.ts).
 * Also ip_vs_in_icmp: ICMP errors about our own IPIP packets are relayed to the client. Only IPv4 TCP/UDP virtual services are modelled (no fwmark, SCTP).
 */
import { ipVsSyncConn, syncBackup, syncMaster } from './sync';
import { formatEndpoint, formatIp4 } from '../net/addr';
import { type Icmp, type Ipv4, type Tcp, type Udp, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, ipv4TotalLength } from '../net/packet';
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { type NfVerdict, NF_ACCEPT, NF_STOLEN } from '../kernel/netfilter';
import { icmpErrorAllowed, icmpSend, nextId, defaultTtl } from '../kernel/icmp';
import { ipSend } from '../kernel/ip';
import { SILENT } from '../trace/record';
import { type ExplainCollector, icmp as icmpDisposition } from '../trace/emit';
import type { Conn, IpvsCtl } from './ctl';
import { type ExplainSink, type Service, destKey } from './types';
import type { Sysctls } from '../kernel/sysctl';
import type { Ip4 } from '../net/addr';
import { packetXmit } from './bind_xmit';
import { registerIpvsOutHook } from './out';

export const IP_VS_IN_HOOK_PRIORITY = 99;

const TCP_STATE_NAMES = ['NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK'];

export function connStateName(cp: Conn): string {
  return cp.protocol === IPPROTO_UDP ? 'UDP' : TCP_STATE_NAMES[cp.state] ?? String(cp.state);
}

/** The INPUT record of a packet IPVS takes (the filter table's own records say what it did). */
const noteTaken = (): string => `ip_vs_in_hook (LOCAL_IN priority ${IP_VS_IN_HOOK_PRIORITY}) takes it`;

const noteNoDest = (scheduler: string, service: string): string => `IPVS: ${scheduler}: ${service} - no destination available`;
const noteScheduled = (ip: Ipv4, scheduler: string, out: InOutcome): string => {
  const th = ip.payload as Tcp | Udp;
  return `new connection ${formatEndpoint(ip.src, th.sport)} -> ${formatEndpoint(ip.dst, th.dport)} scheduled by ${scheduler} to ${destKey(out.cp!.dest!)}${out.template ? ' (persistence template)' : ''}`;
};
/**
 * The hit note's start for an entry the sync daemon made without a real server (ip_vs_proc_conn):
 * what a run shows when a packet reaches one (the doctor's sync_backup_lacks_real_server).
 */
export const noteUnboundEntry = (daddr: number, dport: number): string =>
  `connection entry -> ${formatEndpoint(daddr, dport)} (synced, no real server bound here)`;
const noteHit = (cp: Conn, before: number): string =>
  `${cp.dest ? `connection entry -> ${destKey(cp.dest)}` : noteUnboundEntry(cp.daddr, cp.dport)} (${cp.protocol === IPPROTO_TCP ? `${TCP_STATE_NAMES[before]} -> ${connStateName(cp)}` : 'UDP'})`;
const notePmtu = (dst: number, mtu: number): string => `fragmentation needed for ${formatIp4(dst)}: path MTU ${mtu} remembered`;
const noteRelay = (icmp: Icmp, inner: Ipv4, th: Tcp | Udp): string =>
  `ICMP ${icmp.type}/${icmp.code} about tunnelled ${formatEndpoint(inner.src, th.sport)} -> ${formatEndpoint(inner.dst, th.dport)}: relayed to the client from ${formatIp4(inner.dst)}`;

/**
 * A client packet as ip_vs_in reads it: the lookup key, the TCP flags (-1 for UDP) and the IP
 * total length for the counters. Packet mode fills one from each skb; flow mode from its model
 * of the client's packets. One object is reused from packet to packet.
 */
export interface InPacket {
  protocol: number;
  saddr: Ip4;
  sport: number;
  daddr: Ip4;
  dport: number;
  flags: number;
  bytes: number;
}

/** ip_vs_in's answers: not ours (NF_ACCEPT); the entry's destination is unavailable (NF_DROP); no destination for a new connection (ip_vs_leave); a connection to transmit on. */
export const IN_ACCEPT = 0;
export const IN_UNAVAILABLE = 1;
export const IN_REFUSED = 2;
export const IN_CONN = 3;
export type InVerdict = typeof IN_ACCEPT | typeof IN_UNAVAILABLE | typeof IN_REFUSED | typeof IN_CONN;

/** What ip_vs_in found or made, beside its answer; reused from packet to packet. */
export class InOutcome {
  /** The connection (IN_CONN), or the one whose destination is unavailable. */
  cp: Conn | null = null;
  /** The service of a new connection or a refusal. */
  svc: Service | null = null;
  /** True when this packet scheduled the connection; `template` is its persistence template. */
  scheduled = false;
  template: Conn | null = null;
  /** The TCP state before this packet. */
  before = 0;
}

/** Where a scheduler's reasoning goes, when someone asks for it (a full trace, an explained connection). */
export interface Explainer {
  explainer(): ExplainSink | undefined;
}

/**
 * ip_vs_in for a TCP/UDP client packet (net/netfilter/ipvs/ip_vs_core.c), without transmit: the
 * connection table lookup, the reuse and no-destination checks, scheduling on a miss, then
 * ip_vs_in_stats and ip_vs_set_state. Packet mode (ipVsInHook) and flow mode (workload/flow.ts)
 * both decide through here; the caller transmits on IN_CONN and then calls ipVsInDone.
 */
export function ipVsIn(ipvs: IpvsCtl, sysctl: Sysctls, p: InPacket, out: InOutcome, explain?: Explainer): InVerdict {
  out.cp = null;
  out.svc = null;
  out.scheduled = false;
  out.template = null;
  const tcpFlags = p.flags < 0 ? null : p.flags;
  const isSyn = tcpFlags !== null && (tcpFlags & TCP_SYN) !== 0 && (tcpFlags & TCP_RST) === 0;
  let cp = ipvs.connInGet(p.protocol, p.saddr, p.sport, p.daddr, p.dport);
  if (cp && tcpFlags !== null && (tcpFlags & TCP_SYN) !== 0) {
    // ip_vs_in_hook: a new SYN (is_new_conn looks at SYN only) on an old entry may be rescheduled;
    // isNewConnExpected applies conn_reuse_mode (default 1).
    const dest = cp.dest;
    const nodest = dest !== null && dest.weight === 0 && sysctl.num('net.ipv4.vs.expire_nodest_conn') !== 0;
    if (nodest || ipvs.isNewConnExpected(cp)) {
      ipvs.expireNow(cp);
      cp = null;
    }
  }
  if (cp && cp.dest && !ipvs.destAvailable(cp.dest)) {
    if (sysctl.num('net.ipv4.vs.expire_nodest_conn') !== 0) {
      ipvs.expireNow(cp);
      cp = null;
    } else {
      out.cp = cp;
      return IN_UNAVAILABLE;
    }
  }
  if (!cp) {
    // tcp_conn_schedule: only a SYN (without RST) starts a connection unless sloppy_tcp.
    if (tcpFlags !== null && !isSyn && sysctl.num('net.ipv4.vs.sloppy_tcp') === 0) return IN_ACCEPT;
    const svc = ipvs.serviceFind(p.protocol, p.daddr, p.dport);
    if (!svc) return IN_ACCEPT;
    out.svc = svc;
    const res = ipvs.schedule(svc, p, explain?.explainer());
    if (!res.conn) return res.reason === 'ignored' ? IN_ACCEPT : IN_REFUSED;
    cp = res.conn;
    out.scheduled = true;
    out.template = res.template;
  }
  ipvs.inStats(cp, p.bytes);
  out.before = cp.state;
  ipvs.setState(cp, tcpFlags);
  out.cp = cp;
  return IN_CONN;
}

/** The end of ip_vs_in for a connection: count the packet (in_pkts, for the sync daemon) and release the entry (ip_vs_conn_put). */
export function ipVsInDone(ipvs: IpvsCtl, cp: Conn): void {
  cp.inPkts++;
  ipvs.connPut(cp);
}

/** The trace's collector for the scheduler's reasoning (none when the trace only counts), kept for the record. */
class TraceExplainer implements Explainer {
  last: ExplainCollector | undefined = undefined;
  constructor(private readonly host: Host) {}
  explainer(): ExplainCollector | undefined {
    return (this.last = this.host.emit.explainer());
  }
}

/** ip_vs_in_hook's per-host scratch: the packet view, the outcome and the explainer, reused from packet to packet. */
interface HookState {
  readonly p: InPacket;
  readonly out: InOutcome;
  /** Null when the "why this server" records are off. */
  readonly ex: TraceExplainer | null;
}

/** Register IPVS on a host's LOCAL_IN hook. `explain` turns on the "why this server" records. */
export function registerIpvsHooks(host: Host, ipvs: IpvsCtl, opts: { explain?: boolean } = {}): void {
  const st: HookState = {
    p: { protocol: 0, saddr: 0, sport: 0, daddr: 0, dport: 0, flags: -1, bytes: 0 },
    out: new InOutcome(),
    ex: opts.explain ?? true ? new TraceExplainer(host) : null,
  };
  host.nf.register({
    hook: 'INPUT', priority: IP_VS_IN_HOOK_PRIORITY, name: 'ip_vs_in_hook',
    fn: (skb) => ipVsInHook(host, ipvs, skb, st),
  });
  registerIpvsOutHook(host, ipvs);
}

/** ip_vs_in_hook: ip_vs_in on the skb, its trace records, and the tunnel transmitter. */
function ipVsInHook(host: Host, ipvs: IpvsCtl, skb: Skb, st: HookState): NfVerdict {
  if (skb.ipvsProperty || !ipvs.enabled) return NF_ACCEPT;
  // sysctl_backup_only: a director running the backup sync daemon with backup_only=1 leaves
  // every packet to its own stack (a pure backup). Flow mode runs no sync daemon.
  if (syncBackup(ipvs) && host.sysctl.num('net.ipv4.vs.backup_only') !== 0) return NF_ACCEPT;
  const ip = skb.pkt;
  if (ip.protocol === IPPROTO_ICMP) return ipVsInIcmp(host, ipvs, skb);
  if (ip.protocol !== IPPROTO_TCP && ip.protocol !== IPPROTO_UDP) return NF_ACCEPT;
  const th = ip.payload as Tcp | Udp;
  const { p, out, ex } = st;
  p.protocol = ip.protocol;
  p.saddr = ip.src;
  p.sport = th.sport;
  p.daddr = ip.dst;
  p.dport = th.dport;
  p.flags = th.proto === 'tcp' ? th.flags : -1;
  p.bytes = ipv4TotalLength(ip);
  if (ex) ex.last = undefined;
  const v = ipVsIn(ipvs, host.sysctl, p, out, ex ?? undefined);
  const sched = ex?.last;
  if (v === IN_ACCEPT) return NF_ACCEPT;
  const cp = out.cp;
  if (v === IN_UNAVAILABLE) return { verdict: 'drop', reason: { code: 'ipvs_dest_unavailable', dest: destKey(cp!.dest!) } };
  host.emit.pass(skb, 'INPUT', 'accept', undefined, noteTaken);
  const svc = out.svc;
  if (v === IN_REFUSED) {
    // ip_vs_leave: ICMP port unreachable to the client, drop.
    const service = `${th.proto.toUpperCase()} ${formatEndpoint(svc!.addr, svc!.port)}`;
    const d = icmpErrorAllowed(ip) ? icmpDisposition(3, 3) : SILENT;
    host.emit.decision(skb, sched, svc!.scheduler.name, null, { code: 'ipvs_no_dest', scheduler: svc!.scheduler.name, service }, d, noteNoDest, svc!.scheduler.name, service);
    if (d !== SILENT) icmpSend(host, skb, 3, 3);
    return NF_STOLEN;
  }
  if (out.scheduled) host.emit.decision(skb, sched, svc!.scheduler.name, sched ? destKey(cp!.dest!) : null, null, SILENT, noteScheduled, ip, svc!.scheduler.name, out);
  else host.emit.pass(skb, 'ipvs', 'hit', undefined, noteHit, cp!, out.before);
  // An entry the sync daemon made without a real server (ip_vs_proc_conn) still has the
  // transmitter of the method its message named (ip_vs_conn_new -> ip_vs_bind_xmit).
  const verdict = packetXmit(host, skb, cp!);
  ipVsInDone(ipvs, cp!);
  // ip_vs_in: with a master sync daemon, ip_vs_sync_conn decides whether to tell the backups.
  if (syncMaster(ipvs)) ipVsSyncConn(host, ipvs, cp!, cp!.inPkts);
  return verdict;
}

/**
 * ip_vs_in_icmp for an error quoting one of our IPIP packets to a known destination: find the
 * client connection from the inner header, update the path MTU on FRAG_NEEDED, and relay an
 * error to the client from the VIP (MTU - 20 for fragmentation-needed). NF_STOLEN.
 */
function ipVsInIcmp(host: Host, ipvs: IpvsCtl, skb: Skb): NfVerdict {
  const icmp = skb.pkt.payload as Icmp;
  if (icmp.type !== 3 && icmp.type !== 4 && icmp.type !== 11) return NF_ACCEPT;
  const outer = icmp.quoted;
  if (!outer || outer.protocol !== IPPROTO_IPIP || outer.payload.proto !== 'ipv4') return NF_ACCEPT;
  const inner = outer.payload;
  const th = inner.payload;
  if (th.proto !== 'tcp' && th.proto !== 'udp') return NF_ACCEPT;
  const cp = ipvs.connInGet(inner.protocol, inner.src, th.sport, inner.dst, th.dport);
  if (!cp || !cp.dest || cp.daddr !== outer.dst) return NF_ACCEPT;
  host.emit.pass(skb, 'INPUT', 'accept', undefined, noteTaken);
  let relay: Icmp;
  if (icmp.type === 3 && icmp.code === 4) {
    const mtu = (icmp.mtu ?? 0) - 20;
    host.learnPmtu(outer.dst, icmp.mtu ?? 0);
    if (!inner.df || mtu <= 88) {
      host.emit.end(skb, 'ipvs', 'consumed', undefined, notePmtu, outer.dst, icmp.mtu ?? 0);
      return NF_STOLEN;
    }
    relay = { proto: 'icmp', type: 3, code: 4, mtu, quoted: inner, quotedLen: Math.min(ipv4TotalLength(inner), 548) };
  } else {
    relay = { proto: 'icmp', type: icmp.type, code: icmp.code, quoted: inner, quotedLen: Math.min(ipv4TotalLength(inner), 548) };
  }
  host.emit.end(skb, 'ipvs', 'consumed', undefined, noteRelay, icmp, inner, th);
  host.count('IcmpOutMsgs');
  host.count(relay.type === 3 ? 'IcmpOutDestUnreachs' : 'IcmpOutTimeExcds');
  ipSend(host, { proto: 'ipv4', src: inner.dst, dst: inner.src, protocol: IPPROTO_ICMP, ttl: defaultTtl(host), tos: 0xc0, id: nextId(host), df: false, payload: relay }, skb.id);
  return NF_STOLEN;
}

export { TCP_ACK, TCP_FIN };
