/**
 * trace/record.ts: the spine's vocabulary. Every point a packet passes on every host is one
 * record: virtual time, host, point, verdict, and (when the packet ends there) a drop reason
 * named after the kernel check, with what the kernel did about it (the disposition). These are
 * closed unions: a misspelled point, verdict or reason does not compile. The CLI prints the
 * records, the browser animates them, tests assert on them, pcapng export writes the device
 * records' frames; views never reach into the model. Knows packets (net/) and nothing else.
 */
import type { Arp, Ethernet, Ipv4 } from '../net/packet';
import type { Ip4 } from '../net/addr';

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

/** The named stages between the hooks. */
export type Stage = 'routing' | 'ipvs' | 'socket' | 'arp' | 'neigh' | 'icmp';
export const STAGES: readonly Stage[] = ['routing', 'ipvs', 'socket', 'arp', 'neigh', 'icmp'];

/** A device as a point ("eth0", "tunl0", "lo"): only devPoint() makes one, so a typo in a hook or stage name cannot pass for a device. */
export type DevPoint = string & { readonly __device: true };
export const devPoint = (name: string): DevPoint => name as DevPoint;

export type Point = Hook | Stage | DevPoint;

const NAMED: ReadonlySet<string> = new Set<string>([...HOOKS, ...STAGES]);
/** True when the point is a device (not a hook or a stage). */
export const isDevPoint = (p: Point): p is DevPoint => !NAMED.has(p);

/**
 * What happened at a point.
 * - rx / tx: a frame crossed a device (rx in, tx out; `frame` carries its Ethernet header).
 * - accept: a hook let it pass.   - local / forward / output: the routing decision.
 * - schedule / hit: IPVS made a new connection (with `sched`) or found an existing entry.
 * - encap / decap: IP-in-IP added (director) or removed (tunl0 on the real server).
 * - xmit: IPVS direct routing sent it on unchanged to the real server's MAC (ip_vs_dr_xmit).
 * - dnat / snat: IPVS NAT rewrote the destination to RIP:port (ip_vs_nat_xmit) or the
 *   reply's source back to VIP:port (handle_response).
 * - queued: waiting in the neighbour queue for ARP.   - send: a socket emitted it.
 * - match: an iptables rule matched and the chain walk went on (a jump, RETURN, LOG, TCPMSS,
 *   a rule without -j); the record's `rule` says which.
 * Terminal (exactly one per packet): deliver, consumed, drop.
 */
export type Verdict = PassVerdict | EndVerdict | 'drop';
/** The verdicts of a packet that goes on. */
export type PassVerdict =
  | 'rx' | 'tx' | 'accept' | 'local' | 'forward' | 'output'
  | 'schedule' | 'hit' | 'encap' | 'decap' | 'xmit' | 'dnat' | 'snat' | 'queued' | 'send' | 'match';
/** A packet that ends well: delivered to a socket, or consumed by the stack (ARP, ICMP). */
export type EndVerdict = 'deliver' | 'consumed';

export const TERMINAL_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>(['deliver', 'consumed', 'drop']);

/**
 * Why a packet was dropped, named after the kernel check that dropped it. `explainDrop`
 * (kernel/explain.ts) switches over `code` exhaustively, so every reason has a message and a fix.
 */
/** Why a device's neighbours were flushed (neigh_flush_dev's callers). */
export type NeighFlushCause = 'carrier' | 'down' | 'deleted' | 'noaddr' | 'changeaddr';

export type DropReason =
  /** fib_validate_source: reverse path does not use the input device (or loose mode on an address-less device). */
  | { code: 'rp_filter'; dev: string; effective: number; all: number; devValue: number; mode: 'strict' | 'loose-no-addr' | 'no-route' }
  /** ip_route_input_slow: martian source (own address, zeronet, loopback, multicast/broadcast). */
  | { code: 'martian_source'; dev: string; src: Ip4; why: 'local' | 'zeronet' | 'loopback' | 'multicast' | 'broadcast' }
  /** Input route: not local and forwarding is off on the input device (IpInAddrErrors). */
  | { code: 'forwarding_disabled'; dev: string; dst: Ip4 }
  /**
   * No route to the destination (ENETUNREACH on output, host unreachable when forwarding).
   * `tunnel`: the route led into an ipip device without a remote endpoint (ip_tunnel_xmit's
   * NBMA case loops back into it); `connected` when that route is the prefix route of an
   * address on the device (a VIP given a netmask instead of /32).
   */
  | { code: 'no_route'; dst: Ip4; tunnel?: string; connected?: { addr: Ip4; prefixLen: number } }
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
  /**
   * neigh_flush_dev: the device's neighbours went, with the packets waiting on them for ARP,
   * because it lost its carrier (neigh_carrier_down), was set down or deleted, or lost its last
   * address (arp_ifdown), or its MAC address changed (neigh_changeaddr).
   */
  | { code: 'neigh_flushed'; nexthop: Ip4; dev: string; cause: NeighFlushCause }
  /** The frame's destination MAC is not ours (PACKET_OTHERHOST). */
  | { code: 'otherhost'; dev: string }
  /** A multicast frame for a group this host did not join: the NIC's multicast filter drops it. */
  | { code: 'mc_not_joined'; dev: string; mac: string }
  /** The device is down or has no link. */
  | { code: 'link_down'; dev: string }
  /**
   * The host's kernel has panicked: its NIC still has carrier and takes frames off the wire, but
   * no kernel code runs to receive them (and nothing it still holds is sent).
   */
  | { code: 'host_crashed'; host: string; dev: string }
  /** IPVS: the scheduler found no destination: ICMP port unreachable to the client. */
  | { code: 'ipvs_no_dest'; scheduler: string; service: string }
  /** IPVS: the connection's destination was deleted and expire_nodest_conn is 0. */
  | { code: 'ipvs_dest_unavailable'; dest: string }
  /** __ip_vs_get_out_rt (decrement_ttl): TTL 1 when IPVS would send it on; ICMP 11/0 from the VIP. */
  | { code: 'ipvs_ttl_exceeded'; ttl: number; method: 'route' | 'masq'; rip: Ip4; gateway: Ip4 | null }
  /** __ip_vs_get_out_rt (crosses_local_route_boundary): a loopback source may not leave the host. */
  | { code: 'ipvs_crosses_local'; dst: Ip4; src: Ip4 }
  /** ip_vs_nat_xmit: a packet from the network may not be DNATed to a loopback real server. */
  | { code: 'ipvs_dnat_loopback'; dst: Ip4 }
  /** ip_vs_out (nat_icmp_send=1): a packet from a NAT real server's service port matches no connection. */
  | { code: 'ipvs_nat_no_conn'; src: Ip4; sport: number }
  /** tcp_v4_rcv: no socket for a segment that is not a SYN (an answer nobody here waits for): RST. */
  | { code: 'tcp_no_socket'; src: Ip4; sport: number; port: number; flags: number }
  /**
   * ip_vs_tunnel_xmit on an entry the sync daemon made without a real server: the kernel
   * dereferences cp->dest (tun_type), oopses in softirq and panics; the packet dies with it.
   */
  | { code: 'ipvs_unbound_tunnel'; rip: Ip4 }
  /** IPVS tunnel xmit: the route MTU minus 20 is below 68. */
  | { code: 'ipvs_mtu_too_small'; mtu: number }
  /** ip_tunnel_rcv: outer CE over a not-ECT inner packet. */
  | { code: 'ecn_decap'; tos: number }
  /** TCP: a segment no socket state accepts (for example an ACK to a closed connection). */
  | { code: 'tcp_invalid'; why: string }
  /** ICMP error about something this host does not know; nothing to do. */
  | { code: 'icmp_unmatched' }
  /** arp_process (ip_route_input_noref): the request's sender address is one of ours: not answered. */
  | { code: 'arp_sender_local'; spa: Ip4; tpa: Ip4; dev: string }
  /**
   * ipt_do_table: an iptables rule (DROP, REJECT) or a built-in chain's policy (rule 0) dropped
   * it; `text` is the rule as iptables-save prints it. REJECT also answered (`with`).
   */
  | { code: 'iptables'; table: string; chain: string; rule: number; text: string; target: 'DROP' | 'REJECT'; with?: string; proto: number; icmp: string | null }
  /** Nothing listens for this ARP target and no entry is waiting on it. */
  | { code: 'arp_ignored'; why: 'not_local' | 'arp_ignore' | 'arp_filter'; tpa: Ip4; dev: string; mode?: number };

export type DropCode = DropReason['code'];

/**
 * What the kernel did with a dropped packet besides freeing it: nothing, an ICMP error to its
 * sender (icmp_send: type/code, and the MTU for fragmentation needed), or a TCP reset
 * (tcp_v4_send_reset). A drop whose ICMP icmp_send refused (about an ICMP error, from a
 * broadcast source) is silent.
 */
export type Disposition =
  | { readonly kind: 'silent' }
  | { readonly kind: 'icmp'; readonly type: number; readonly code: number; readonly mtu?: number }
  | { readonly kind: 'rst' };

export const SILENT: Disposition = Object.freeze({ kind: 'silent' });
export const RST: Disposition = Object.freeze({ kind: 'rst' });

/** One candidate destination as the scheduler saw it. */
export interface SchedCandidate {
  readonly dest: string;
  readonly weight: number;
  readonly activeconns: number;
  readonly inactconns: number;
  readonly overloaded: boolean;
  /** The cost the scheduler computed, when it has one (wlc overhead, sed's active+1 ...). */
  readonly cost?: number;
  /** Why it was passed over ("weight 0", "overloaded", "cost 768/2 > 522/1" ...). */
  readonly skipped?: string;
}

/** The scheduler's inputs and reasoning for one decision ("why this real server?"). */
export interface SchedExplain {
  readonly scheduler: string;
  readonly chosen: string | null;
  readonly candidates: readonly SchedCandidate[];
  /** Scheduler-specific: hash bucket, table slot, cw/mw/di, the twos draw ... */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
  /** One sentence a person can read. */
  readonly summary: string;
}

/**
 * An iptables rule, or a built-in chain's policy (rule 0), that matched a packet in
 * ipt_do_table: its counters went up by one packet and `bytes` before its target ran.
 */
export interface RuleHit {
  readonly table: string;
  readonly chain: string;
  /** 1-based position in the chain; 0 for the policy. */
  readonly rule: number;
  /** As `iptables -S` prints it: "-A INPUT -p tcp -m tcp --dport 9001 -j ACCEPT", "-P INPUT ACCEPT". */
  readonly text: string;
  readonly bytes: number;
}

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
  readonly t: number;
  readonly host: string;
  readonly point: Point;
  readonly verdict: Verdict;
  readonly packet: TracePacket;
  /** Set on device records: the whole frame as it crossed the device (for pcapng and the hex pane). */
  readonly frame?: Ethernet;
  /** The device at device points, and at neigh, arp and routing points. */
  readonly dev?: string;
  /** On every drop: the kernel check, and what was sent back. */
  readonly reason?: DropReason;
  readonly disposition?: Disposition;
  /** One line of detail: the route chosen, the socket, the state change. */
  readonly note?: string;
  /** At a hook: the iptables rule or policy that matched (an iptables drop names it in `reason`). */
  readonly rule?: RuleHit;
  /** At IPVS schedule (and a refusal): the scheduler's inputs and costs. */
  readonly sched?: SchedExplain;
  /** Packet this one was made from or answers (ICMP error, RST, clone of a broadcast). */
  readonly cause?: number;
}

/** The faults a scenario can declare (a traffic step `fault: KIND`) and the browser can inject. */
export const FAULT_KINDS = ['crash', 'boot', 'reboot', 'service-stop', 'service-start', 'link-down', 'link-up'] as const;
export type FaultKind = typeof FAULT_KINDS[number];

/**
 * Something on a host that is not a packet, for the views that show a run over time (the
 * timeline): the host crashed or booted, a declared fault was injected, a keepalived health
 * check changed its verdict, keepalived took a real server out of the pool or put it back, a VRRP
 * instance changed state. Recorded where it happens (kernel/panic.ts, world/, the daemons), beside
 * the log line it matches; addresses and pool entries the daemons change are configuration
 * changes (trace/state.ts), not these.
 */
export type DaemonEvent =
  /** A declared fault (service or link); a crash or a boot is a `host` event. */
  | { readonly kind: 'fault'; readonly fault: FaultKind; readonly target: string }
  /** The kernel panicked, or a fresh kernel booted (`reboot`: after an orderly shutdown). */
  | { readonly kind: 'host'; readonly op: 'crash' | 'boot' | 'reboot' }
  /** A keepalived checker's verdict changed (update_svr_checker_state): `rs` and `vs` as keepalived names them. */
  | { readonly kind: 'check'; readonly ok: boolean; readonly checker: string; readonly rs: string; readonly vs: string }
  /** keepalived changed the pool (perform_svr_state): removed or added, or with inhibit_on_failure weight 0 or back. */
  | { readonly kind: 'pool'; readonly op: 'remove' | 'add' | 'disable' | 'enable'; readonly rs: string; readonly vs: string }
  /** A VRRP instance changed state; `vips` are the addresses it holds as MASTER. */
  | { readonly kind: 'vrrp'; readonly instance: string; readonly from: string; readonly to: string; readonly vips: readonly Ip4[] };

/** A DaemonEvent as the trace keeps it: `seq` is the number of packet records before it. */
export interface EventRecord {
  readonly seq: number;
  readonly t: number;
  readonly host: string;
  readonly event: DaemonEvent;
}
