/**
 * ipvs/types.ts: the IPVS objects schedulers and the connection table share, shaped like
 * struct ip_vs_service / ip_vs_dest / ip_vs_conn (include/net/ip_vs.h).
 */
import type { Ip4 } from '../net/addr';

/** IP_VS_DEST_F_AVAILABLE / IP_VS_DEST_F_OVERLOAD. */
export const IP_VS_DEST_F_AVAILABLE = 0x1;
export const IP_VS_DEST_F_OVERLOAD = 0x2;

/** Service flags (include/uapi/linux/ip_vs.h). */
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
export const IP_VS_SVC_F_HASHED = 0x0002;
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
export const IP_VS_SVC_F_SCHED1 = 0x0008;
export const IP_VS_SVC_F_SCHED2 = 0x0010;
export const IP_VS_SVC_F_SCHED3 = 0x0020;
export const IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2;
export const IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2;

export type Protocol = 'tcp' | 'udp';
export const PROTO_NUM: Record<Protocol, number> = { tcp: 6, udp: 17 };

/** Forwarding method (-g droute, -i ipip, -m masq). lvsim forwards only tunnel; others are parsed and listed. */
export type FwdMethod = 'tunnel' | 'route' | 'masq';

/** Per-object statistics (struct ip_vs_stats / ip_vs_kstats). */
export interface IpvsStats {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

export function newStats(): IpvsStats {
  return { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
}

/** struct ip_vs_dest: a real server of one service. */
export interface Dest {
  readonly addr: Ip4;
  /** Real-server port (ipvsadm forces the service port for -i and -g). */
  port: number;
  fwd: FwdMethod;
  weight: number;
  /** "Latest non-0 weight" (mh only). */
  lastWeight: number;
  /** Upper / lower connection thresholds (-x / -y); 0 = unset. */
  uThreshold: number;
  lThreshold: number;
  /** IP_VS_DEST_F_* bits. */
  flags: number;
  activeconns: number;
  inactconns: number;
  persistconns: number;
  stats: IpvsStats;
  /** Owning service (null once deleted and in the trash). */
  svc: Service | null;
}

/** struct ip_vs_service: a virtual service <proto, VIP, vport> (fwmark services are not modelled). */
export interface Service {
  readonly protocol: Protocol;
  readonly addr: Ip4;
  readonly port: number;
  /** IP_VS_SVC_F_* bits. */
  flags: number;
  /** Persistence timeout in seconds (when IP_VS_SVC_F_PERSISTENT). */
  timeout: number;
  /** Persistence netmask (-M), as a 32-bit mask. */
  netmask: number;
  scheduler: Scheduler;
  /** Scheduler private state (the kernel's svc->sched_data). */
  schedData: unknown;
  /** Destinations in kernel list order: the most recently added first (list_add_rcu at the head). */
  dests: Dest[];
  stats: IpvsStats;
}

/** What a scheduler may look at in the packet (ip_vs_iphdr + ports). */
export interface SchedPacket {
  readonly saddr: Ip4;
  readonly daddr: Ip4;
  readonly sport: number;
  readonly dport: number;
  readonly protocol: number;
}

// The scheduler's explanation is part of the trace's vocabulary (trace/record.ts).
import type { SchedCandidate, SchedExplain } from '../trace/record';
export type { SchedCandidate, SchedExplain };

/** Collects an explanation while a scheduler runs; absent on the hot path. */
export interface ExplainSink {
  candidate(c: SchedCandidate): void;
  detail(key: string, value: string | number | boolean): void;
  summary(text: string): void;
}

/** Context a scheduler gets besides the service and packet (the kernel's helpers). */
export interface SchedContext {
  /** Seeded random draws (twos); from the engine's named stream "ipvs:twos". */
  randomU32(): number;
  /** Current virtual time (lblc/lblcr entries). */
  now(): number;
  explain?: ExplainSink;
}

/**
 * struct ip_vs_scheduler. Callbacks mirror the kernel's: init_service when bound,
 * add_dest / del_dest / upd_dest after the list changed, done_service when unbound.
 */
export interface Scheduler {
  readonly name: string;
  initService?(svc: Service): void;
  doneService?(svc: Service): void;
  addDest?(svc: Service, dest: Dest): void;
  delDest?(svc: Service, dest: Dest): void;
  updDest?(svc: Service, dest: Dest): void;
  /** Pick a destination for a new connection, or null ("no destination available"). */
  schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): Dest | null;
}

export const destKey = (d: { addr: Ip4; port: number }): string => {
  const a = d.addr;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${d.port}`;
};

export const isOverloaded = (d: Dest): boolean => (d.flags & IP_VS_DEST_F_OVERLOAD) !== 0;

/** ip_vs_dest_conn_overhead(): (activeconns << 8) + inactconns. */
export const connOverhead = (d: Dest): number => d.activeconns * 256 + d.inactconns;
