/**
 * kernel/trace.ts: the spine. Every point a packet passes on every host appends one record:
 * virtual time, host, point, verdict, and (when the packet ends there) a drop reason named
 * after the kernel check. The CLI prints these, the browser animates them, tests assert on
 * them, pcapng export writes the device records' frames. Views never reach into the model.
 */
import type { Ns } from '../sim/engine';
import type { Arp, Ethernet, Ipv4 } from '../net/packet';
import type { Ip4 } from '../net/addr';
import type { SchedExplain } from '../ipvs/types';

/**
 *  The points, in the order a packet meets them (net/ipv4/ip_input.c, ip_output.c):
 *
 *   dev rx --> PREROUTING --> routing --+--> INPUT --> [ipvs] --> socket | tunl0 (decap, re-enters at tunl0 rx)
 *                                       |
 *                                       +--> FORWARD ------------------------+
 *                                                                            v
 *   socket --> routing --> OUTPUT ---------------------------------> POSTROUTING --> neigh --> dev tx
 *
 *  IPVS takes new connections at INPUT (LOCAL_IN, priority 99, after the filter table) and
 *  re-emits the encapsulated packet through OUTPUT and POSTROUTING (ip_local_out).
 */
export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export const HOOKS: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** A device name ("eth0", "tunl0", "lo"), a hook, or one of the named stages. */
export type Point = Hook | 'routing' | 'ipvs' | 'socket' | 'arp' | 'neigh' | 'icmp' | string;

/**
 * What happened at a point.
 * - rx / tx: a frame crossed a device (rx in, tx out; `frame` carries its Ethernet header).
 * - accept: a hook let it pass.   - local / forward / output: the routing decision.
 * - schedule / hit: IPVS made a new connection (with `sched`) or found an existing entry.
 * - encap / decap: IP-in-IP added (director) or removed (tunl0 on the real server).
 * - queued: waiting in the neighbour queue for ARP.   - send: a socket emitted it.
 * Terminal (exactly one per packet): deliver, consumed, drop.
 */
export type Verdict =
  | 'rx' | 'tx' | 'accept' | 'local' | 'forward' | 'output'
  | 'schedule' | 'hit' | 'encap' | 'decap' | 'queued' | 'send'
  | 'deliver' | 'consumed' | 'drop';

export const TERMINAL_VERDICTS: ReadonlySet<Verdict> = new Set(['deliver', 'consumed', 'drop']);

/**
 * Why a packet was dropped, named after the kernel check that dropped it. `explainDrop`
 * (kernel/explain.ts) switches over `code` exhaustively, so every reason has a message and a fix.
 */
export type DropReason =
  /** fib_validate_source: reverse path does not use the input device (or loose mode on an address-less device). */
  | { code: 'rp_filter'; dev: string; effective: number; all: number; devValue: number; mode: 'strict' | 'loose-no-addr' | 'no-route' }
  /** ip_route_input_slow: martian source (own address, zeronet, loopback, multicast/broadcast). */
  | { code: 'martian_source'; dev: string; src: Ip4; why: 'local' | 'zeronet' | 'loopback' | 'multicast' | 'broadcast' }
  /** Input route: not local and forwarding is off on the input device (IpInAddrErrors). */
  | { code: 'forwarding_disabled'; dev: string; dst: Ip4 }
  /** No route to the destination (ENETUNREACH on output, host unreachable when forwarding). */
  | { code: 'no_route'; dst: Ip4 }
  /** ip_protocol_deliver_rcu: no handler for the protocol (ipip not loaded): ICMP 3/2. */
  | { code: 'protocol_unreachable'; protocol: number }
  /** tunnel4_rcv: ipip loaded but no tunnel device up matches (tunl0 down): ICMP 3/3. */
  | { code: 'tunnel_unmatched'; src: Ip4; dst: Ip4 }
  /** No socket for the destination port: TCP answers RST, UDP ICMP port unreachable. */
  | { code: 'no_listener'; proto: 'tcp' | 'udp'; port: number; reply: 'rst' | 'icmp' }
  /** ensure_mtu_is_adequate / ip_forward: DF set and the packet exceeds the MTU: ICMP 3/4. */
  | { code: 'frag_needed'; mtu: number; len: number }
  /** ip_forward / ip_vs decrement_ttl: TTL would reach 0: ICMP 11/0. */
  | { code: 'ttl_exceeded'; ttl: number }
  /** Neighbour resolution failed (no ARP reply after the solicit attempts). */
  | { code: 'arp_unresolved'; nexthop: Ip4; dev: string }
  /** __neigh_event_send: the queue of packets waiting for that neighbour is full; the oldest goes. */
  | { code: 'neigh_queue_full'; nexthop: Ip4; dev: string; qlen: number }
  /** The frame's destination MAC is not ours (PACKET_OTHERHOST). */
  | { code: 'otherhost'; dev: string }
  /** The device is down or has no link. */
  | { code: 'link_down'; dev: string }
  /** IPVS: the scheduler found no destination: ICMP port unreachable to the client. */
  | { code: 'ipvs_no_dest'; scheduler: string; service: string }
  /** IPVS: the connection's destination was deleted and expire_nodest_conn is 0. */
  | { code: 'ipvs_dest_unavailable'; dest: string }
  /** IPVS tunnel xmit: the route MTU minus 20 is below 68. */
  | { code: 'ipvs_mtu_too_small'; mtu: number }
  /** ip_tunnel_rcv: outer CE over a not-ECT inner packet. */
  | { code: 'ecn_decap'; tos: number }
  /** TCP: a segment no socket state accepts (for example an ACK to a closed connection). */
  | { code: 'tcp_invalid'; why: string }
  /** ICMP error about something this host does not know; nothing to do. */
  | { code: 'icmp_unmatched' }
  /** Nothing listens for this ARP target and no entry is waiting on it. */
  | { code: 'arp_ignored'; why: 'not_local' | 'arp_ignore' | 'arp_filter'; tpa: Ip4; dev: string; mode?: number };

export type DropCode = DropReason['code'];

/** The packet a record is about: the same id follows an skb through encapsulation. */
export interface TracePacket {
  readonly id: number;
  /** The IP datagram or ARP message at this point (outer header first when encapsulated). */
  readonly pkt: Ipv4 | Arp;
}

export interface TraceRecord {
  /** Position in the trace (0-based). */
  readonly seq: number;
  /** Virtual time in ns. */
  readonly t: Ns;
  readonly host: string;
  readonly point: Point;
  readonly verdict: Verdict;
  readonly packet: TracePacket;
  /** Set on device records: the whole frame as it crossed the device (for pcapng and the hex pane). */
  readonly frame?: Ethernet;
  /** The device at device, neigh and routing points. */
  readonly dev?: string;
  readonly reason?: DropReason;
  /** 1..5 where the record belongs to a step of the TUN flow (world/steps.ts). */
  step?: 1 | 2 | 3 | 4 | 5;
  /** One line of detail: the route chosen, the socket, the state change. */
  readonly note?: string;
  /** At IPVS schedule: the scheduler's inputs and costs. */
  readonly sched?: SchedExplain;
  /** Packet this one was made from or answers (ICMP error, RST, clone of a broadcast). */
  readonly cause?: number;
}

/** Receives records as they happen. */
export interface TraceSink {
  /**
   * True when only the outcomes matter: the hot path then records drops only, and tells
   * deliver and consumed verdicts to `tally` without building a record.
   */
  readonly terminalOnly?: boolean;
  record(r: Omit<TraceRecord, 'seq'>): void;
  tally?(verdict: 'deliver' | 'consumed'): void;
}

/** Keeps every record in memory; the default sink for CLI runs and the browser. */
export class TraceLog implements TraceSink {
  readonly records: TraceRecord[] = [];
  record(r: Omit<TraceRecord, 'seq'>): void {
    (r as unknown as { seq: number }).seq = this.records.length;
    this.records.push(r as TraceRecord);
  }
}

/** Drops every record but counts terminal verdicts: for fast runs with the trace off. */
export class CountingSink implements TraceSink {
  readonly terminalOnly: boolean = true;
  delivered = 0;
  consumed = 0;
  dropped = 0;
  readonly drops = new Map<string, number>();
  tally(verdict: 'deliver' | 'consumed'): void {
    if (verdict === 'deliver') this.delivered++;
    else this.consumed++;
  }
  record(r: Omit<TraceRecord, 'seq'>): void {
    if (r.verdict === 'deliver') this.delivered++;
    else if (r.verdict === 'consumed') this.consumed++;
    else if (r.verdict === 'drop') {
      this.dropped++;
      const c = r.reason?.code ?? 'unknown';
      this.drops.set(c, (this.drops.get(c) ?? 0) + 1);
    }
  }
}
