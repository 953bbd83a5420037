/**
 * ipvs/ctl.ts: the contract of one host's IPVS, as ip_vs_ctl.c exposes it to ipvsadm
 * (the control plane) and as ip_vs_core.c uses it per packet (the data plane).
 * ipvs/ipvs.ts implements it; config/ipvsadm.ts drives the control half; ipvs/core.ts
 * (ip_vs_in_hook) and ipvs/xmit.ts (ip_vs_tunnel_xmit) drive the data half.
 */
import type { Ip4 } from '../net/addr';
import type { Ns } from '../sim/engine';
import type { Dest, ExplainSink, FwdMethod, Protocol, SchedPacket, Service } from './types';

/** What `ipvsadm -A/-E` sends (every field, with ipvsadm's defaults filled in: -E replaces). */
export interface ServiceSpec {
  readonly protocol: Protocol;
  readonly addr: Ip4;
  readonly port: number;
  readonly scheduler: string;
  /** Persistence timeout in seconds; undefined = not persistent. */
  readonly persistent?: number;
  /** Persistence netmask as a 32-bit mask (default 0xffffffff). */
  readonly netmask?: number;
  /** IP_VS_SVC_F_SCHED1..3 bits from -b. */
  readonly schedFlags?: number;
  /** -o one-packet scheduling. */
  readonly ops?: boolean;
}

export interface ServiceKey {
  readonly protocol: Protocol;
  readonly addr: Ip4;
  readonly port: number;
}

/** What `ipvsadm -a/-e` sends (ipvsadm has already forced port = service port for -g/-i). */
export interface DestSpec {
  readonly addr: Ip4;
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
}

export type IpvsErrno = 'EEXIST' | 'ENOENT' | 'ESRCH' | 'ERANGE' | 'EINVAL' | 'ENODEV';

/** A kernel rejection; config/ipvsadm.ts maps errno + operation to ipvsadm's message. */
export class IpvsError extends Error {
  constructor(readonly errno: IpvsErrno, message: string) {
    super(message);
  }
}

/** IP_VS_TCP_S_* (ip_vs_proto_tcp.c), in the kernel's numbering. */
export const enum TcpState {
  NONE = 0, ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK,
  LISTEN, SYNACK,
}

/** IP_VS_CONN_F_* bits used by the model. */
export const IP_VS_CONN_F_MASQ = 0x0000;
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
export const IP_VS_CONN_F_TUNNEL = 0x0002;
export const IP_VS_CONN_F_DROUTE = 0x0003;
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_NOOUTPUT = 0x0080;
export const IP_VS_CONN_F_INACTIVE = 0x0100;
/** Made by the sync daemon on a backup (ip_vs_sync.c). */
export const IP_VS_CONN_F_SYNC = 0x0020;
export const IP_VS_CONN_F_TEMPLATE = 0x1000;
export const IP_VS_CONN_F_ONE_PACKET = 0x2000;
export const IP_VS_CONN_F_NO_CPORT = 0x0800;

/** struct ip_vs_conn: one entry of the connection table (or a persistence template). */
export interface Conn {
  /** Creation order; a stable identity for views. */
  readonly id: number;
  readonly protocol: number;
  readonly caddr: Ip4;
  cport: number;
  readonly vaddr: Ip4;
  vport: number;
  readonly daddr: Ip4;
  readonly dport: number;
  /** Bound destination (null once unbound, or never bound: a synced entry whose real server this director lacks). */
  dest: Dest | null;
  /** TcpState for TCP; for templates 0 NONE / 1 ASSURED is shown; UDP shows "UDP". */
  state: number;
  flags: number;
  /** Timeout of the current state, ns; the timer is re-armed to now + timeout by connPut. */
  timeout: Ns;
  /** Absolute expiry of the entry's timer, ns (-1 when not armed; for -Lnc's countdown). */
  readonly expires: Ns;
  /** Template controlling this connection (persistence), if any. */
  control: Conn | null;
  /** Connections this template controls. */
  nControl: number;
  inPkts: number;
}

/** One row of `ipvsadm -Lnc` / /proc/net/ip_vs_conn. */
export interface ConnView {
  readonly protocol: 'TCP' | 'UDP';
  readonly state: string;
  readonly caddr: Ip4;
  readonly cport: number;
  readonly vaddr: Ip4;
  readonly vport: number;
  readonly daddr: Ip4;
  readonly dport: number;
  /** Remaining time in ns. */
  readonly expiresIn: Ns;
  readonly template: boolean;
}

export interface Timeouts {
  /** Seconds; ESTABLISHED, FIN_WAIT and UDP as `ipvsadm --set` sees them. */
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

/** Outcome of scheduling a new connection (ip_vs_schedule / ip_vs_sched_persist). */
export type ScheduleResult =
  | { readonly conn: Conn; readonly template: Conn | null }
  /** The scheduler returned NULL: ICMP port unreachable to the client (ip_vs_leave). */
  | { readonly conn: null; readonly reason: 'no_dest' }
  /** Not schedulable (e.g. port mismatch on a non-persistent service): NF_ACCEPT. */
  | { readonly conn: null; readonly reason: 'ignored' };

export interface IpvsCtl {
  /** True once a service exists: the hooks are registered only then (ipvs->enable). */
  readonly enabled: boolean;
  /** Services in kernel order (insertion order is fine). */
  readonly services: readonly Service[];

  // --- control plane (ipvsadm) ---
  addService(s: ServiceSpec): void;
  editService(s: ServiceSpec): void;
  delService(k: ServiceKey): void;
  flush(): void;
  addDest(k: ServiceKey, d: DestSpec): void;
  editDest(k: ServiceKey, d: DestSpec): void;
  delDest(k: ServiceKey, d: { addr: Ip4; port: number }): void;
  /** -Z: zero one service's counters, or all. */
  zero(k?: ServiceKey): void;
  /** --set tcp tcpfin udp (seconds; 0 leaves a value unchanged). */
  setTimeouts(t: Timeouts): void;
  timeouts(): Timeouts;
  /** Rows for -Lnc, in a stable order. */
  connections(): ConnView[];
  /** Counters as --stats shows them: the estimator's copy, refreshed every 2 s. */
  shownStats(obj: Service | Dest): { conns: number; inpkts: number; outpkts: number; inbytes: number; outbytes: number };
  /** Rates as --rate shows them (cps, inpps, outpps, inbps, outbps). */
  shownRates(obj: Service | Dest): { cps: number; inpps: number; outpps: number; inbps: number; outbps: number };
  findService(k: ServiceKey): Service | null;

  // --- data plane (ip_vs_in_hook) ---
  /** ip_vs_service_find: exact <proto, VIP, vport>, then port 0. */
  serviceFind(protocol: number, vaddr: Ip4, vport: number): Service | null;
  /** ip_vs_conn_in_get: the entry for a client flow, or null. Templates never match. */
  connInGet(protocol: number, caddr: Ip4, cport: number, vaddr: Ip4, vport: number): Conn | null;
  /** ip_vs_conn_out_get: the entry a reply RIP:rport -> CIP:cport belongs to, or null. */
  connOutGet(protocol: number, daddr: Ip4, dport: number, caddr: Ip4, cport: number): Conn | null;
  /** ip_vs_has_real_service: is <daddr, dport> a NAT destination of some service. */
  hasRealService(protocol: number, daddr: Ip4, dport: number): boolean;
  /** ip_vs_schedule / ip_vs_sched_persist, then ip_vs_conn_stats. */
  schedule(svc: Service, pkt: SchedPacket, explain?: ExplainSink): ScheduleResult;
  /** ip_vs_set_state for an input packet: TCP flags (INPUT_ONLY table for TUN/DR), or null for UDP. */
  setState(cp: Conn, tcpFlags: number | null): void;
  /** ip_vs_set_state in a given direction (the reply side uses 'output'). */
  setStateDir(cp: Conn, dir: 'input' | 'output' | 'input_only', tcpFlags: number | null): void;
  /** ip_vs_out_stats: reply packet and byte counters on dest, service and totals. */
  outStats(cp: Conn, bytes: number): void;
  /** ip_vs_in_stats: packet and byte counters on dest, service and totals. */
  inStats(cp: Conn, bytes: number): void;
  /** ip_vs_conn_put: re-arm the entry's timer to now + its state's timeout. */
  connPut(cp: Conn): void;
  /** ip_vs_conn_expire_now. */
  expireNow(cp: Conn): void;
  /** is_new_conn_expected(): a SYN on this entry should get a fresh scheduling decision. */
  isNewConnExpected(cp: Conn): boolean;
  /** Is the destination still in a service (IP_VS_DEST_F_AVAILABLE). */
  destAvailable(d: Dest): boolean;

  // --- sync daemon (ip_vs_sync.c), backup side ---
  /** ip_vs_proc_conn: add or update the entry a sync message describes (ipvs/sync.ts). */
  syncConnIn(e: {
    protocol: number; flags: number; state: number; caddr: Ip4; cport: number; vaddr: Ip4; vport: number;
    daddr: Ip4; dport: number; timeoutS: number;
  }): void;
}
