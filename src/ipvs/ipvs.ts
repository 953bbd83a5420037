/**
 * ipvs/ipvs.ts: one network namespace's IPVS: the control plane of ip_vs_ctl.c (services,
 * destinations, the dest trash, timeouts, zeroing), connection creation and expiry of
 * ip_vs_core.c / ip_vs_conn.c (ip_vs_schedule, ip_vs_sched_persist, ip_vs_conn_new,
 * ip_vs_bind_dest / ip_vs_unbind_dest, ip_vs_conn_expire, ip_vs_check_template), and the
 * input-side state and statistics calls ip_vs_in_hook makes (ip_vs_set_state, ip_vs_in_stats,
 * ip_vs_conn_put). The hook itself (ipvs/core.ts) and the transmitter (ipvs/xmit.ts) sit on top.
 *
 * Timers: each entry has a Timer (mod_timer semantics: re-arming on every packet only moves a
 * deadline). Two more kernel timers are modelled: the dest trash timer (60 s period, only while
 * the trash is not empty, ip_vs_dest_trash_expire) and the delayed work that expires the
 * connections of deleted dests when expire_nodest_conn=1 (ip_vs_expire_nodest_conn_flush,
 * one jiffy after the delete). The 2-second estimator runs lazily (ipvs/estimator.ts), so a
 * run whose connections have all expired leaves an empty event queue.
 *
 * Caller contract (ipvs/core.ts): every entry schedule() returns must get its inStats / setState
 * / connPut like any packet (ip_vs_in_hook always ends with ip_vs_conn_put): an entry's timer is
 * first armed there. expireNow() is asynchronous as in the kernel (a timer event at the current
 * time), so after a reschedule the old entry still counts until that event runs.
 *
 * Not modelled: fwmark services, IPv6, persistence engines (--pe), FTP helpers (the FTP port
 * rules of service lookup and templates are kept), the sequence options of sync messages, the defense
 * strategies other than secure_tcp (drop_entry, drop_packet, am_droprate), conntrack.
 * HZ is 250 (Debian's 6.1 build): one jiffy = 4 ms.
 */
import type { Ip4 } from '../net/addr';
import { isMulticast } from '../net/addr';
import { NS_PER_MS, NS_PER_S, Timer, type Engine, type Ns } from '../sim/engine';
import type { Rng } from '../sim/rng';
import {
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_INACTIVE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_SYNC,
  IP_VS_CONN_F_FWD_MASK,
  IP_VS_CONN_F_NOOUTPUT,
  IP_VS_CONN_F_ONE_PACKET,
  IP_VS_CONN_F_TEMPLATE,
  IP_VS_CONN_F_TUNNEL,
  IpvsError,
  TcpState,
  type Conn,
  type ConnView,
  type DestSpec,
  type IpvsCtl,
  type ScheduleResult,
  type ServiceKey,
  type ServiceSpec,
  type Timeouts,
} from './ctl';
import { ConnEntry, ConnList, ConnTable, connKey } from './conn';
import { resetDestDst } from './xmit';
import { EstStats, estIndex, type ShownRates, type ShownStats } from './estimator';
import {
  CTPL_STATE_NAMES,
  IP_VS_CTPL_S_ASSURED,
  ProtoTimeouts,
  TCP_DIR_INPUT,
  TCP_DIR_INPUT_ONLY,
  TCP_DIR_OUTPUT,
  TCP_STATE_NAMES,
  UDP_STATE_NAME,
  tcpNextState,
  tcpStateActive,
  type IpvsDir,
} from './proto_tcp';
import { getScheduler as registryGet } from './schedulers/index';
import {
  IP_VS_DEST_F_AVAILABLE,
  IP_VS_DEST_F_OVERLOAD,
  IP_VS_SVC_F_HASHED,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  PROTO_NUM,
  type Dest,
  type ExplainSink,
  type FwdMethod,
  type Protocol,
  type SchedContext,
  type SchedPacket,
  type Scheduler,
  type Service,
} from './types';

/** One jiffy at HZ=250. */
export const JIFFY_NS: Ns = 4 * NS_PER_MS;
/** expire_later in ip_vs_conn_expire: an entry that still controls others lives 60 s more. */
export const EXPIRE_LATER_NS: Ns = 60 * NS_PER_S;
/** IP_VS_DEST_TRASH_PERIOD (120 s); the trash timer runs every half of it. */
export const DEST_TRASH_PERIOD_NS: Ns = 120 * NS_PER_S;

const FTPPORT = 21;
const FTPDATA = 20;
const INT_MAX_OVER_HZ = Math.floor(2147483647 / 250);

/** The sysctls IPVS reads (kernel/sysctl.ts Sysctls satisfies it). */
export interface SysctlReader {
  num(key: string): number;
  /** When present, absent net.ipv4.vs.* keys fall back to the kernel defaults. */
  has?(key: string): boolean;
  /** When present, changes whenever any value changes: lets readers cache (read per packet). */
  readonly gen?: number;
}

export interface IpvsOptions {
  /** Draws for twos (SchedContext.randomU32); default engine.rng('ipvs:twos'). */
  randomStream?: Rng;
  /** Scheduler registry (default: ipvs/schedulers/index.ts). */
  getScheduler?: (name: string) => Scheduler | null;
  /**
   * inet_addr_type() in this namespace: true when `a` is a local or unicast address. lvsim
   * already rejects 0.0.0.0/8, 255.255.255.255 and multicast; pass this to also reject the
   * host's subnet broadcast addresses.
   */
  isUnicastOrLocal?: (a: Ip4) => boolean;
  /** Phase of the 2-second estimator ticks (default: engine.now at construction). */
  estPhase?: Ns;
  /** Called when an entry is freed (ip_vs_conn_expire unlinked it). */
  onExpire?: (cp: Conn, dest: Dest | null) => void;
}

type AnyStatsOwner = Service | Dest | 'total';

/** struct ip_vs_dest. */
export class DestEntry implements Dest {
  port: number;
  fwd: FwdMethod = 'tunnel';
  weight = 0;
  lastWeight = 0;
  uThreshold = 0;
  lThreshold = 0;
  flags = 0;
  activeconns = 0;
  inactconns = 0;
  persistconns = 0;
  svc: Service | null = null;
  /** dest->conn_flags: forwarding method | INACTIVE (| NOOUTPUT unless masq). */
  connFlags = 0;
  /** Entries bound to it (the kernel's refcnt minus the list's own reference). */
  refs = 0;
  /** dest->svc as the kernel keeps it: still the old service while in the trash. */
  owner: ServiceEntry | null = null;
  /** dest->protocol / vaddr / vport, fixed at creation (the trash match uses them). */
  readonly vprotocol: Protocol;
  readonly vaddr: Ip4;
  readonly vport: number;
  /** dest->idle_start in the trash; -1 = not yet seen idle. */
  idleStart: Ns = -1;

  constructor(readonly addr: Ip4, port: number, svc: ServiceEntry, readonly stats: EstStats) {
    this.port = port;
    this.vprotocol = svc.protocol;
    this.vaddr = svc.addr;
    this.vport = svc.port;
  }
}

/** struct ip_vs_service. */
export class ServiceEntry implements Service {
  flags = IP_VS_SVC_F_HASHED;
  timeout = 0;
  netmask = 0xffffffff;
  schedData: unknown = null;
  readonly dests: DestEntry[] = [];

  constructor(
    readonly protocol: Protocol,
    readonly addr: Ip4,
    readonly port: number,
    public scheduler: Scheduler,
    readonly stats: EstStats,
  ) {}
}

const NO_DEST: ScheduleResult = { conn: null, reason: 'no_dest' };
const IGNORED: ScheduleResult = { conn: null, reason: 'ignored' };

const svcKeyOf = (protocol: number, addr: Ip4, port: number): number => connKey(protocol, addr, port);

/** dest->conn_flags for a forwarding method (__ip_vs_update_dest). */
function connFlagsFor(fwd: FwdMethod): number {
  switch (fwd) {
    case 'tunnel':
      return IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_NOOUTPUT;
    case 'route':
      return IP_VS_CONN_F_DROUTE | IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_NOOUTPUT;
    case 'masq':
      return IP_VS_CONN_F_MASQ | IP_VS_CONN_F_INACTIVE;
  }
}

/** inet_addr_type() classes lvsim can tell without the routing table. */
function notUnicast(a: Ip4): boolean {
  return a >>> 24 === 0 || a >>> 0 === 0xffffffff || isMulticast(a);
}

export class Ipvs implements IpvsCtl {
  readonly services: ServiceEntry[] = [];
  /** ipvs->tot_stats. */
  readonly totals: EstStats;
  /** The connection table (`conns.size` = entries incl. templates). */
  readonly table: ConnTable;
  /** pd->timeout_table for TCP and UDP. */
  readonly proto = new ProtoTimeouts();
  /** Traces entry expiry; may be replaced at any time. With `table.recycle` the entry must not be kept past the call. */
  onExpire: ((cp: Conn, dest: Dest | null) => void) | undefined;

  private readonly svcMap = new Map<number, ServiceEntry>();
  private ftpsvcCounter = 0;
  private nullsvcCounter = 0;
  private nextConnId = 1;
  private readonly trash: DestEntry[] = [];
  private readonly trashTimer: Timer;
  private nodestWorkQueued = false;
  private readonly estPhase: Ns;
  private rng: Rng | null;
  private readonly lookupScheduler: (name: string) => Scheduler | null;
  private readonly isUnicastOrLocal: ((a: Ip4) => boolean) | undefined;
  private readonly ctx: SchedContext;
  private readonly onConnTimer = (cp: ConnEntry): void => this.connExpire(cp);

  constructor(
    private readonly engine: Engine,
    private readonly sysctl: SysctlReader,
    opts: IpvsOptions = {},
  ) {
    this.rng = opts.randomStream ?? null;
    this.lookupScheduler = opts.getScheduler ?? registryGet;
    this.isUnicastOrLocal = opts.isUnicastOrLocal;
    this.estPhase = opts.estPhase ?? engine.now;
    this.onExpire = opts.onExpire;
    this.table = new ConnTable(engine, this.onConnTimer);
    this.totals = new EstStats(this.estTick());
    this.trashTimer = new Timer(engine, () => this.destTrashExpire());
    this.ctx = {
      randomU32: () => (this.rng ??= this.engine.rng('ipvs:twos')).nextU32(),
      now: () => this.engine.now,
    };
  }

  /** ipvs->enable with hooks registered: at least one service exists. */
  get enabled(): boolean {
    return this.services.length > 0;
  }

  /** Every entry in creation order (`.size` counts templates too; `.has(cp)`: not yet freed). */
  get conns(): ConnList {
    return this.table.all;
  }

  /** The dests in the trash (deleted, still referenced or not yet freed). */
  get trashed(): readonly Dest[] {
    return this.trash;
  }

  // ------------------------------------------------------------------ sysctls

  /** net.ipv4.vs.<name>, with the kernel default when the key is absent. */
  private vs(name: string, dflt: number): number {
    const gen = this.sysctl.gen;
    if (gen !== undefined && gen === this.vsGen) {
      const v = this.vsCache.get(name);
      if (v !== undefined) return v;
    } else if (gen !== undefined) {
      this.vsCache.clear();
      this.vsGen = gen;
    }
    const key = `net.ipv4.vs.${name}`;
    const v = this.sysctl.has !== undefined && !this.sysctl.has(key) ? dflt : this.sysctl.num(key);
    if (gen !== undefined) this.vsCache.set(name, v);
    return v;
  }
  private readonly vsCache = new Map<string, number>();
  private vsGen = -1;

  private estTick(): number {
    return estIndex(this.engine.now, this.estPhase);
  }

  // ------------------------------------------------------------------ control plane

  findService(k: ServiceKey): ServiceEntry | null {
    return this.svcMap.get(svcKeyOf(PROTO_NUM[k.protocol], k.addr, k.port)) ?? null;
  }

  private needService(k: ServiceKey, msg: string): ServiceEntry {
    const svc = this.findService(k);
    if (svc === null) throw new IpvsError('ESRCH', msg);
    return svc;
  }

  private needScheduler(name: string): Scheduler {
    const s = this.lookupScheduler(name);
    if (s === null) throw new IpvsError('ENOENT', `Scheduler module ip_vs_${name} not found`);
    return s;
  }

  private static applySpec(svc: ServiceEntry, s: ServiceSpec): void {
    const persistent = s.persistent !== undefined;
    svc.flags =
      IP_VS_SVC_F_HASHED |
      (persistent ? IP_VS_SVC_F_PERSISTENT : 0) |
      (s.ops ? IP_VS_SVC_F_ONEPACKET : 0) |
      (s.schedFlags ?? 0);
    svc.timeout = persistent ? s.persistent! : 0;
    svc.netmask = (s.netmask ?? 0xffffffff) >>> 0;
  }

  /** ip_vs_add_service. */
  addService(s: ServiceSpec): void {
    if (this.findService(s) !== null) throw new IpvsError('EEXIST', 'Service already exists');
    const sched = this.needScheduler(s.scheduler);
    const svc = new ServiceEntry(s.protocol, s.addr >>> 0, s.port, sched, new EstStats(this.estTick()));
    Ipvs.applySpec(svc, s);
    sched.initService?.(svc); // ip_vs_bind_scheduler
    if (svc.port === FTPPORT) this.ftpsvcCounter++;
    else if (svc.port === 0) this.nullsvcCounter++;
    this.services.push(svc);
    this.svcMap.set(svcKeyOf(PROTO_NUM[svc.protocol], svc.addr, svc.port), svc);
  }

  /** ip_vs_edit_service: every field replaced; a different scheduler is unbound and the new one bound. */
  editService(s: ServiceSpec): void {
    const svc = this.needService(s, 'No such service');
    const sched = this.needScheduler(s.scheduler);
    Ipvs.applySpec(svc, s);
    const old = svc.scheduler;
    if (sched !== old && sched.name !== old.name) {
      old.doneService?.(svc); // ip_vs_unbind_scheduler
      svc.scheduler = sched;
      sched.initService?.(svc); // ip_vs_bind_scheduler
    }
  }

  /** ip_vs_del_service. */
  delService(k: ServiceKey): void {
    this.delServiceEntry(this.needService(k, 'No such service'));
  }

  /** __ip_vs_del_service: unbind the scheduler, then unlink every dest (no del_dest) into the trash. */
  private delServiceEntry(svc: ServiceEntry): void {
    svc.scheduler.doneService?.(svc);
    while (svc.dests.length > 0) {
      const dest = svc.dests[0]!;
      this.unlinkDest(svc, dest, false);
      this.delDestEntry(dest);
    }
    if (svc.port === FTPPORT) this.ftpsvcCounter--;
    else if (svc.port === 0) this.nullsvcCounter--;
    this.svcMap.delete(svcKeyOf(PROTO_NUM[svc.protocol], svc.addr, svc.port));
    this.services.splice(this.services.indexOf(svc), 1);
  }

  /** ip_vs_flush. */
  flush(): void {
    for (const svc of this.services.slice()) this.delServiceEntry(svc);
  }

  private static lookupDest(svc: ServiceEntry, addr: Ip4, port: number): DestEntry | null {
    for (const d of svc.dests) if (d.addr === addr >>> 0 && d.port === port) return d;
    return null;
  }

  private static checkDestSpec(d: DestSpec): void {
    if (!(d.weight >= 0)) throw new IpvsError('ERANGE', 'server weight less than zero');
    if (d.lThreshold > d.uThreshold) throw new IpvsError('ERANGE', 'lower threshold is higher than upper threshold');
  }

  /** ip_vs_add_dest: from the trash if it is there (counters kept), else ip_vs_new_dest. */
  addDest(k: ServiceKey, d: DestSpec): void {
    const svc = this.needService(k, 'Service not defined');
    Ipvs.checkDestSpec(d);
    const addr = d.addr >>> 0;
    if (Ipvs.lookupDest(svc, addr, d.port) !== null) throw new IpvsError('EEXIST', 'Destination already exists');
    let dest = this.trashGetDest(svc, addr, d.port);
    if (dest !== null) {
      dest.stats.start(this.estTick());
    } else {
      if (notUnicast(addr) || (this.isUnicastOrLocal !== undefined && !this.isUnicastOrLocal(addr))) {
        throw new IpvsError('EINVAL', 'destination address is not a local or unicast address');
      }
      dest = new DestEntry(addr, d.port, svc, new EstStats(this.estTick()));
    }
    this.updateDest(svc, dest, d, true);
  }

  /** ip_vs_edit_dest. */
  editDest(k: ServiceKey, d: DestSpec): void {
    const svc = this.needService(k, 'Service not defined');
    Ipvs.checkDestSpec(d);
    const dest = Ipvs.lookupDest(svc, d.addr, d.port);
    if (dest === null) throw new IpvsError('ENOENT', 'No such destination');
    this.updateDest(svc, dest, d, false);
  }

  /** __ip_vs_update_dest. */
  private updateDest(svc: ServiceEntry, dest: DestEntry, d: DestSpec, add: boolean): void {
    if (add || d.weight !== 0) dest.lastWeight = d.weight;
    dest.weight = d.weight;
    dest.fwd = d.fwd;
    dest.connFlags = connFlagsFor(d.fwd);
    if (dest.owner !== svc) {
      if (dest.owner !== null) dest.stats.zero(this.estTick()); // bound to another service before
      dest.owner = svc;
    }
    dest.svc = svc;
    dest.flags |= IP_VS_DEST_F_AVAILABLE;
    if (d.uThreshold === 0 || d.uThreshold > dest.uThreshold) dest.flags &= ~IP_VS_DEST_F_OVERLOAD;
    dest.uThreshold = d.uThreshold;
    dest.lThreshold = d.lThreshold;
    // __ip_vs_dst_cache_reset: the next packet routes afresh and binds the source it gets then.
    resetDestDst(dest);
    if (add) {
      svc.dests.unshift(dest); // list_add_rcu at the head
      svc.scheduler.addDest?.(svc, dest);
    } else {
      svc.scheduler.updDest?.(svc, dest);
    }
  }

  /** ip_vs_del_dest. */
  delDest(k: ServiceKey, d: { addr: Ip4; port: number }): void {
    const svc = this.needService(k, 'Service not defined');
    const dest = Ipvs.lookupDest(svc, d.addr, d.port);
    if (dest === null) throw new IpvsError('ENOENT', 'No such destination');
    this.unlinkDest(svc, dest, true);
    this.delDestEntry(dest);
  }

  /** __ip_vs_unlink_dest: clear AVAILABLE, unlink, then del_dest when `svcupd`. */
  private unlinkDest(svc: ServiceEntry, dest: DestEntry, svcupd: boolean): void {
    dest.flags &= ~IP_VS_DEST_F_AVAILABLE;
    const i = svc.dests.indexOf(dest);
    if (i >= 0) svc.dests.splice(i, 1);
    if (svcupd) svc.scheduler.delDest?.(svc, dest);
  }

  /** __ip_vs_del_dest: stop the estimator, move to the trash, queue the nodest flush. */
  private delDestEntry(dest: DestEntry): void {
    dest.stats.stop(this.estTick());
    dest.svc = null;
    if (this.trash.length === 0) this.trashTimer.mod(this.engine.now + DEST_TRASH_PERIOD_NS / 2);
    this.trash.unshift(dest);
    dest.idleStart = -1;
    if (this.vs('expire_nodest_conn', 0) !== 0 && !this.nodestWorkQueued) {
      this.nodestWorkQueued = true;
      this.engine.after(JIFFY_NS, () => {
        this.nodestWorkQueued = false;
        this.expireNodestConnFlush();
      });
    }
  }

  /** ip_vs_trash_get_dest. */
  private trashGetDest(svc: ServiceEntry, addr: Ip4, port: number): DestEntry | null {
    for (let i = 0; i < this.trash.length; i++) {
      const d = this.trash[i]!;
      if (d.addr === addr && d.port === port && d.vprotocol === svc.protocol && d.vaddr === svc.addr && d.vport === svc.port) {
        this.trash.splice(i, 1);
        if (this.trash.length === 0) this.trashTimer.del();
        return d;
      }
    }
    return null;
  }

  /** ip_vs_dest_trash_expire: free dests unreferenced for a whole trash period. */
  private destTrashExpire(): void {
    const now = this.engine.now;
    for (let i = this.trash.length - 1; i >= 0; i--) {
      const d = this.trash[i]!;
      if (d.refs > 0) continue;
      if (d.idleStart >= 0) {
        if (now < d.idleStart + DEST_TRASH_PERIOD_NS) continue;
      } else {
        d.idleStart = now;
        continue;
      }
      this.trash.splice(i, 1);
      d.owner = null;
    }
    if (this.trash.length > 0) this.trashTimer.mod(now + DEST_TRASH_PERIOD_NS / 2);
  }

  /** ip_vs_expire_nodest_conn_flush: expire the entries of deleted dests now. */
  private expireNodestConnFlush(): void {
    for (const cp of [...this.table.all]) {
      if (!cp.hashed) continue;
      const dest = cp.dest;
      if (dest === null || (dest.flags & IP_VS_DEST_F_AVAILABLE) !== 0) continue;
      if (cp.nControl > 0) continue;
      const ctl = cp.control as ConnEntry | null;
      this.connDel(cp);
      if (ctl !== null && ctl.nControl === 0) this.connDel(ctl);
    }
  }

  /** -Z: ip_vs_zero_service, or ip_vs_zero_all (services, their dests and the totals). */
  zero(k?: ServiceKey): void {
    const tick = this.estTick();
    const zeroSvc = (svc: ServiceEntry): void => {
      for (const d of svc.dests) d.stats.zero(tick);
      svc.stats.zero(tick);
    };
    if (k !== undefined) {
      zeroSvc(this.needService(k, 'No such service'));
      return;
    }
    for (const svc of this.services) zeroSvc(svc);
    this.totals.zero(tick);
  }

  /** ip_vs_set_timeout: 0 leaves a value unchanged. */
  setTimeouts(t: Timeouts): void {
    for (const v of [t.tcp, t.tcpfin, t.udp]) {
      if (!Number.isInteger(v) || v < 0 || v > INT_MAX_OVER_HZ) throw new IpvsError('EINVAL', 'timeout out of range');
    }
    if (t.tcp) this.proto.tcp[TcpState.ESTABLISHED] = t.tcp * NS_PER_S;
    if (t.tcpfin) this.proto.tcp[TcpState.FIN_WAIT] = t.tcpfin * NS_PER_S;
    if (t.udp) this.proto.udp = t.udp * NS_PER_S;
  }

  timeouts(): Timeouts {
    return {
      tcp: Math.floor(this.proto.tcp[TcpState.ESTABLISHED]! / NS_PER_S),
      tcpfin: Math.floor(this.proto.tcp[TcpState.FIN_WAIT]! / NS_PER_S),
      udp: Math.floor(this.proto.udp / NS_PER_S),
    };
  }

  // ------------------------------------------------------------------ listings

  /** The state column of /proc/net/ip_vs_conn (ip_vs_state_name). */
  static stateName(cp: Conn): string {
    if (cp.flags & IP_VS_CONN_F_TEMPLATE) return CTPL_STATE_NAMES[cp.state & IP_VS_CTPL_S_ASSURED]!;
    if (cp.protocol === 17) return UDP_STATE_NAME;
    return TCP_STATE_NAMES[cp.state] ?? 'ERR!';
  }

  connections(): ConnView[] {
    const now = this.engine.now;
    const rows: ConnView[] = [];
    for (const cp of this.table.all) {
      rows.push({
        protocol: cp.protocol === 17 ? 'UDP' : 'TCP',
        state: Ipvs.stateName(cp),
        caddr: cp.caddr,
        cport: cp.cport,
        vaddr: cp.vaddr,
        vport: cp.vport,
        daddr: cp.daddr,
        dport: cp.dport,
        expiresIn: cp.armed ? Math.max(0, cp.expires - now) : cp.timeout,
        template: cp.isTemplate,
      });
    }
    return rows;
  }

  private statsOf(obj: AnyStatsOwner): EstStats | null {
    if (obj === 'total') return this.totals;
    return obj.stats instanceof EstStats ? obj.stats : null;
  }

  /** --stats: the estimator's copy minus the -Z zero point. `'total'` = ipvs->tot_stats. */
  shownStats(obj: AnyStatsOwner): ShownStats {
    const s = this.statsOf(obj);
    if (s === null) {
      const l = (obj as Service | Dest).stats;
      return { conns: l.conns, inpkts: l.inpkts, outpkts: l.outpkts, inbytes: l.inbytes, outbytes: l.outbytes };
    }
    return s.shown(this.estTick());
  }

  /** --rate: ip_vs_read_estimator. */
  shownRates(obj: AnyStatsOwner): ShownRates {
    const s = this.statsOf(obj);
    if (s === null) return { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
    return s.rates(this.estTick());
  }

  /** Live counters minus the zero point (what the next estimator tick will publish). */
  liveStats(obj: AnyStatsOwner): ShownStats {
    const s = this.statsOf(obj);
    if (s === null) return this.shownStats(obj);
    return s.live();
  }

  // ------------------------------------------------------------------ data plane

  /** ip_vs_service_find (fwmark services not modelled). */
  serviceFind(protocol: number, vaddr: Ip4, vport: number): ServiceEntry | null {
    const map = this.svcMap;
    let svc = map.get(svcKeyOf(protocol, vaddr, vport));
    if (svc !== undefined) return svc;
    if (this.ftpsvcCounter > 0 && protocol === 6) {
      const unpriv = this.sysctl.has?.('net.ipv4.ip_unprivileged_port_start')
        ? this.sysctl.num('net.ipv4.ip_unprivileged_port_start')
        : 1024;
      if (vport === FTPDATA || vport >= unpriv) {
        svc = map.get(svcKeyOf(protocol, vaddr, FTPPORT));
        if (svc !== undefined) return svc;
      }
    }
    if (this.nullsvcCounter > 0) {
      svc = map.get(svcKeyOf(protocol, vaddr, 0));
      if (svc !== undefined) return svc;
    }
    return null;
  }

  connInGet(protocol: number, caddr: Ip4, cport: number, vaddr: Ip4, vport: number): ConnEntry | null {
    return this.table.inGet(protocol, caddr, cport, vaddr, vport);
  }

  connOutGet(protocol: number, daddr: Ip4, dport: number, caddr: Ip4, cport: number): ConnEntry | null {
    return this.table.outGet(protocol, daddr, dport, caddr, cport);
  }

  hasRealService(protocol: number, daddr: Ip4, dport: number): boolean {
    // ip_vs_has_real_service: a NAT destination with this address and port in any service.
    for (const s of this.services) {
      if (PROTO_NUM[s.protocol] !== protocol) continue;
      for (const d of s.dests) if (d.addr === daddr && d.port === dport && d.fwd === 'masq') return true;
    }
    return false;
  }

  private schedCtx(explain: ExplainSink | undefined): SchedContext {
    if (explain === undefined) return this.ctx;
    return { randomU32: this.ctx.randomU32, now: this.ctx.now, explain };
  }

  /** ip_vs_schedule (and ip_vs_sched_persist for -p), then ip_vs_conn_stats. */
  schedule(service: Service, pkt: SchedPacket, explain?: ExplainSink): ScheduleResult {
    const svc = service as ServiceEntry;
    const cport = pkt.sport;
    const vport = pkt.dport;
    // never schedule active FTPDATA connections
    if (cport === FTPDATA) return IGNORED;
    if (svc.flags & IP_VS_SVC_F_PERSISTENT) return this.schedPersist(svc, pkt, explain);
    // non-persistent: port zero only supported in persistent services -> ip_vs_leave
    if (vport !== svc.port) return svc.port === FTPPORT ? IGNORED : NO_DEST;
    const dest = svc.scheduler.schedule(svc, pkt, this.schedCtx(explain)) as DestEntry | null;
    if (dest === null) return NO_DEST;
    const flags = svc.flags & IP_VS_SVC_F_ONEPACKET && pkt.protocol === 17 ? IP_VS_CONN_F_ONE_PACKET : 0;
    const cp = this.connNew(pkt.protocol, pkt.saddr, cport, pkt.daddr, vport, dest.addr, dest.port || vport, flags, dest);
    this.connStats(cp, svc);
    return { conn: cp, template: null };
  }

  /** ip_vs_sched_persist. */
  private schedPersist(svc: ServiceEntry, pkt: SchedPacket, explain: ExplainSink | undefined): ScheduleResult {
    const vport = pkt.dport;
    const snet = (pkt.saddr & svc.netmask) >>> 0;
    // template <proto, snet, 0, vaddr, vport'>: vport' = 0 for FTP and port-zero services
    const tvport = vport === svc.port && svc.port !== FTPPORT ? vport : 0;
    let ct = this.table.ctInGet(pkt.protocol, snet, pkt.daddr, tvport);
    let dest: DestEntry;
    if (ct === null || !this.checkTemplate(ct)) {
      const d = svc.scheduler.schedule(svc, pkt, this.schedCtx(explain)) as DestEntry | null;
      if (d === null) return NO_DEST;
      dest = d;
      const tdport = vport === svc.port && svc.port !== FTPPORT ? dest.port : 0;
      ct = this.connNew(pkt.protocol, snet, 0, pkt.daddr, tvport, dest.addr, tdport, IP_VS_CONN_F_TEMPLATE, dest);
      ct.timeout = svc.timeout * NS_PER_S;
    } else {
      dest = ct.dest as DestEntry;
    }
    const dport = vport === svc.port && dest.port ? dest.port : vport;
    const flags = svc.flags & IP_VS_SVC_F_ONEPACKET && pkt.protocol === 17 ? IP_VS_CONN_F_ONE_PACKET : 0;
    const cp = this.connNew(pkt.protocol, pkt.saddr, pkt.sport, pkt.daddr, vport, dest.addr, dport, flags, dest);
    cp.control = ct; // ip_vs_control_add
    ct.nControl++;
    this.connPut(ct);
    this.connStats(cp, svc);
    return { conn: cp, template: ct };
  }

  /**
   * ip_vs_check_template: a template whose dest is gone (not AVAILABLE), or has weight 0 with
   * expire_quiescent_template=1, is invalidated: re-hashed with vport/dport 0xffff so no lookup
   * finds it again; it stays listed until its timer ends it.
   */
  private checkTemplate(ct: ConnEntry): boolean {
    const dest = ct.dest;
    if (
      dest === null ||
      (dest.flags & IP_VS_DEST_F_AVAILABLE) === 0 ||
      (dest.weight === 0 && this.vs('expire_quiescent_template', 0) !== 0)
    ) {
      if (ct.vport !== 0xffff && this.table.unhash(ct)) {
        ct.dport = 0xffff;
        ct.vport = 0xffff;
        ct.cport = 0;
        this.table.hash(ct);
      }
      return false;
    }
    return true;
  }

  /**
   * ip_vs_proc_conn (net/netfilter/ipvs/ip_vs_sync.c): an entry from the master. An existing
   * entry to another real server is expired and replaced (unless the message only says it went
   * inactive: that is the old one's farewell, ignored). An existing entry takes the message's
   * activity flag, and if it has no destination yet, ip_vs_try_bind_dest binds it now. A new
   * entry is bound to the destination ip_vs_find_dest finds; when there is none (this director
   * has no such real server) ip_vs_conn_new makes it unbound: listed, counted in the table,
   * expiring on its timer, on no real server's counters, until a later message for it finds the
   * real server. Then state, timeout and in_pkts (sync_threshold) from the message.
   */
  syncConnIn(e: { protocol: number; flags: number; state: number; caddr: Ip4; cport: number; vaddr: Ip4; vport: number; daddr: Ip4; dport: number; timeoutS: number }): void {
    const template = (e.flags & IP_VS_CONN_F_TEMPLATE) !== 0;
    let cp: ConnEntry | null = template ? this.table.ctInGet(e.protocol, e.caddr, e.vaddr, e.vport) : this.table.inGet(e.protocol, e.caddr, e.cport, e.vaddr, e.vport);
    if (cp && !template && (cp.dport !== e.dport || cp.daddr !== e.daddr)) {
      if (e.flags & IP_VS_CONN_F_INACTIVE) return;
      this.expireNow(cp);
      cp = null;
    }
    if (cp) {
      const dest = cp.dest as DestEntry | null;
      if (((cp.flags ^ e.flags) & IP_VS_CONN_F_INACTIVE) && !template && dest) {
        if (e.flags & IP_VS_CONN_F_INACTIVE) { dest.activeconns--; dest.inactconns++; } else { dest.activeconns++; dest.inactconns--; }
      }
      // IP_VS_CONN_F_BACKUP_UPD_MASK: only INACTIVE and SEQ_MASK come from the message.
      cp.flags = (e.flags & IP_VS_CONN_F_INACTIVE) | (cp.flags & ~IP_VS_CONN_F_INACTIVE);
      if (!dest) this.tryBindDest(cp);
    } else {
      cp = this.connNew(e.protocol, e.caddr, e.cport, e.vaddr, e.vport, e.daddr, e.dport, e.flags, this.findDest(e.protocol, e.vaddr, e.vport, e.daddr, e.dport));
    }
    cp.inPkts = 3; // sysctl_sync_threshold
    cp.state = e.state;
    // Capped where nanoseconds stay exact integers (about 104 days; the kernel: MAX_SCHEDULE_TIMEOUT / HZ).
    if (e.timeoutS > 0) cp.timeout = Math.min(e.timeoutS, Math.floor(Number.MAX_SAFE_INTEGER / NS_PER_S)) * NS_PER_S;
    // A version 0 message carries no timeout: the protocol's timeout for the state (3 min for a template).
    else if (template) cp.timeout = 3 * 60 * NS_PER_S;
    else cp.timeout = e.protocol === 17 ? this.proto.udp : this.proto.tcp[e.state] ?? 3 * 60 * NS_PER_S;
    this.connPut(cp);
  }

  /** ip_vs_find_dest (ip_vs_ctl.c): the service by <protocol, vaddr, vport>, then its real server <daddr, dport>. */
  private findDest(protocol: number, vaddr: Ip4, vport: number, daddr: Ip4, dport: number): DestEntry | null {
    const svc = this.serviceFind(protocol, vaddr, vport);
    return svc ? Ipvs.lookupDest(svc, daddr, dport) : null;
  }

  /**
   * ip_vs_try_bind_dest (ip_vs_conn.c), which only the sync code calls: an unbound entry whose
   * real server now exists is bound to it (the counters by its activity flag, the forwarding
   * method and so the transmitter, ip_vs_bind_xmit, from the destination). Adding the real server
   * (ip_vs_add_dest) binds nothing by itself: the entry's next sync message does.
   */
  private tryBindDest(cp: ConnEntry): void {
    const dest = this.findDest(cp.protocol, cp.vaddr, cp.vport, cp.daddr, cp.dport);
    if (dest !== null && cp.dest === null) this.bindDest(cp, dest);
  }

  /**
   * ip_vs_conn_new: state NONE, timeout 3 s, bound to `dest` (ip_vs_bind_dest; none: the entry
   * keeps the flags it was given, forwarding method included), hashed (unless one-packet).
   */
  private connNew(
    protocol: number, caddr: Ip4, cport: number, vaddr: Ip4, vport: number,
    daddr: Ip4, dport: number, flags: number, dest: DestEntry | null,
  ): ConnEntry {
    const cp = this.table.alloc(this.nextConnId++, protocol, caddr >>> 0, cport, vaddr >>> 0, vport, daddr >>> 0, dport, flags);
    if (dest !== null) this.bindDest(cp, dest);
    if ((cp.flags & IP_VS_CONN_F_ONE_PACKET) === 0) {
      this.table.hash(cp);
    }
    return cp;
  }

  /** ip_vs_bind_dest: inactconns++ (persistconns++ for a template), then the u_threshold check. */
  private bindDest(cp: ConnEntry, dest: DestEntry): void {
    dest.refs++;
    let cf = dest.connFlags;
    if (cp.protocol !== 17) cf &= ~IP_VS_CONN_F_ONE_PACKET;
    if (cp.flags & IP_VS_CONN_F_SYNC) {
      // Created by the sync daemon: keep the activity flag it came with; the method is the dest's.
      if ((cp.flags & IP_VS_CONN_F_TEMPLATE) === 0) cf &= ~IP_VS_CONN_F_INACTIVE;
      cp.flags &= ~(IP_VS_CONN_F_FWD_MASK | IP_VS_CONN_F_NOOUTPUT);
    }
    cp.flags |= cf;
    cp.dest = dest;
    if ((cp.flags & IP_VS_CONN_F_TEMPLATE) === 0) {
      if ((cp.flags & IP_VS_CONN_F_INACTIVE) === 0) dest.activeconns++;
      else dest.inactconns++;
    } else {
      dest.persistconns++;
    }
    if (dest.uThreshold !== 0 && dest.activeconns + dest.inactconns >= dest.uThreshold) {
      dest.flags |= IP_VS_DEST_F_OVERLOAD;
    }
  }

  /** ip_vs_unbind_dest: the counter goes down, then OVERLOAD may clear (l_threshold, else 3/4 of u_threshold). */
  private unbindDest(cp: ConnEntry): DestEntry | null {
    const dest = cp.dest as DestEntry | null;
    if (dest === null) return null;
    if ((cp.flags & IP_VS_CONN_F_TEMPLATE) === 0) {
      if (cp.flags & IP_VS_CONN_F_INACTIVE) dest.inactconns--;
      else dest.activeconns--;
    } else {
      dest.persistconns--;
    }
    const total = dest.activeconns + dest.inactconns;
    if (dest.lThreshold !== 0) {
      if (total < dest.lThreshold) dest.flags &= ~IP_VS_DEST_F_OVERLOAD;
    } else if (dest.uThreshold !== 0) {
      if (total * 4 < dest.uThreshold * 3) dest.flags &= ~IP_VS_DEST_F_OVERLOAD;
    } else {
      dest.flags &= ~IP_VS_DEST_F_OVERLOAD;
    }
    dest.refs--;
    cp.dest = null;
    return dest;
  }

  /** ip_vs_conn_stats: conns++ on dest, service and totals. */
  private connStats(cp: ConnEntry, svc: ServiceEntry): void {
    const k = this.estTick();
    (cp.dest as DestEntry).stats.addConn(k);
    svc.stats.addConn(k);
    this.totals.addConn(k);
  }

  /** ip_vs_set_state for an input packet. */
  setState(cp: Conn, tcpFlags: number | null): void {
    this.setStateDir(cp, 'input', tcpFlags);
  }

  /** ip_vs_set_state in any direction (tcp_state_transition / udp_state_transition). */
  setStateDir(conn: Conn, dir: IpvsDir, tcpFlags: number | null): void {
    const cp = conn as ConnEntry;
    if (cp.protocol === 6) {
      if (tcpFlags !== null) this.setTcpState(cp, dir, tcpFlags);
    } else if (cp.protocol === 17) {
      cp.timeout = this.proto.udp;
    }
  }

  /** set_tcp_state: table lookup, counter move on an active/inactive change, ASSURED, timeout. */
  private setTcpState(cp: ConnEntry, dir: IpvsDir, flags: number): void {
    let off = dir === 'output' ? TCP_DIR_OUTPUT : dir === 'input_only' ? TCP_DIR_INPUT_ONLY : TCP_DIR_INPUT;
    if (cp.flags & IP_VS_CONN_F_NOOUTPUT) {
      if (off === TCP_DIR_OUTPUT) cp.flags &= ~IP_VS_CONN_F_NOOUTPUT;
      else off = TCP_DIR_INPUT_ONLY;
    }
    const newState = tcpNextState(cp.state, flags, off, this.vs('secure_tcp', 0) === 3);
    if (newState !== cp.state) {
      const dest = cp.dest;
      if (dest !== null) {
        const active = tcpStateActive(newState);
        if ((cp.flags & IP_VS_CONN_F_INACTIVE) === 0 && !active) {
          dest.activeconns--;
          dest.inactconns++;
          cp.flags |= IP_VS_CONN_F_INACTIVE;
        } else if ((cp.flags & IP_VS_CONN_F_INACTIVE) !== 0 && active) {
          dest.activeconns++;
          dest.inactconns--;
          cp.flags &= ~IP_VS_CONN_F_INACTIVE;
        }
      }
      if (newState === TcpState.ESTABLISHED) {
        // ip_vs_control_assure_ct
        const ct = cp.control;
        if (ct !== null && ct.flags & IP_VS_CONN_F_TEMPLATE) ct.state |= IP_VS_CTPL_S_ASSURED;
      }
    }
    cp.state = newState;
    cp.timeout = this.proto.tcp[newState]!;
  }

  /** ip_vs_in_stats: only while the dest is AVAILABLE (cp->in_pkts is the hook's to count). */
  inStats(conn: Conn, bytes: number): void {
    const dest = conn.dest as DestEntry | null;
    if (dest === null || (dest.flags & IP_VS_DEST_F_AVAILABLE) === 0) return;
    const k = this.estTick();
    dest.stats.addIn(k, bytes);
    (dest.svc as ServiceEntry).stats.addIn(k, bytes);
    this.totals.addIn(k, bytes);
  }

  /** ip_vs_out_stats: the reply direction's packet and byte counters (NAT). */
  outStats(conn: Conn, bytes: number): void {
    const dest = conn.dest as DestEntry | null;
    if (dest === null || (dest.flags & IP_VS_DEST_F_AVAILABLE) === 0) return;
    const k = this.estTick();
    dest.stats.addOut(k, bytes);
    (dest.svc as ServiceEntry).stats.addOut(k, bytes);
    this.totals.addOut(k, bytes);
  }

  /** ip_vs_conn_put: re-arm to now + timeout; a one-packet entry expires at once. */
  connPut(conn: Conn): void {
    const cp = conn as ConnEntry;
    if (cp.flags & IP_VS_CONN_F_ONE_PACKET && !cp.armed) {
      this.connExpire(cp);
      return;
    }
    cp.modAfter(cp.timeout);
  }

  /**
   * ip_vs_conn_expire_now: mod_timer_pending(now), so the entry expires in a timer event at the
   * current time, after the packet being processed (which may already have a fresh entry).
   */
  expireNow(conn: Conn): void {
    const cp = conn as ConnEntry;
    const now = this.engine.now;
    if (cp.armed && cp.expires > now) cp.mod(now);
  }

  /** ip_vs_conn_del: if the timer was pending, expire now (synchronously). */
  private connDel(cp: ConnEntry): void {
    if (!cp.armed) return;
    cp.del();
    this.connExpire(cp);
  }

  /** ip_vs_conn_expire: +60 s while controlling others, else unlink, release the template, unbind. */
  private connExpire(cp: ConnEntry): void {
    if (cp.nControl > 0) {
      cp.timeout = EXPIRE_LATER_NS;
      cp.mod(this.engine.now + EXPIRE_LATER_NS);
      return;
    }
    this.table.unhash(cp);
    cp.del();
    const ct = cp.control;
    if (ct !== null) {
      cp.control = null; // ip_vs_control_del
      ct.nControl--;
    }
    const dest = this.unbindDest(cp);
    this.onExpire?.(cp, dest);
    this.table.free(cp);
  }

  /** is_new_conn_expected with conn_reuse_mode: TIME_WAIT/CLOSE (and FIN_WAIT+NOOUTPUT with bit 2), uncontrolled TCP only. */
  isNewConnExpected(conn: Conn): boolean {
    const mode = this.vs('conn_reuse_mode', 1);
    if (mode === 0) return false;
    if (conn.control !== null) return false;
    if (conn.protocol !== 6) return false;
    const s = conn.state;
    return (
      s === TcpState.TIME_WAIT ||
      s === TcpState.CLOSE ||
      ((mode & 2) !== 0 && s === TcpState.FIN_WAIT && (conn.flags & IP_VS_CONN_F_NOOUTPUT) !== 0)
    );
  }

  destAvailable(d: Dest): boolean {
    return (d.flags & IP_VS_DEST_F_AVAILABLE) !== 0;
  }
}
