/**
 * daemons/keepalived/healthcheck.ts: keepalived's health-check process (Keepalived_healthcheckers):
 * it programs IPVS from the virtual_server blocks through the same control API ipvsadm uses
 * (keepalived/check/ipwrapper.c `init_services`, ipvswrapper.c `ipvs_cmd`) and runs TCP_CHECK
 * and HTTP_GET as ordinary TCP connections from this host to RIP:port (check_tcp.c, check_http.c),
 * so they follow the host's routing, not the tunnel: a real server without the VIP passes.
 * Pool changes follow `update_svr_checker_state` / `perform_svr_state` / `update_quorum_state`:
 * removal (or weight 0 with inhibit_on_failure), re-adding, quorum and the sorry server. Log lines
 * are keepalived's own words.
 * Simplified: one checker per real server is the common case and is what the timing was checked
 * against; several checkers on one server combine as keepalived combines them (num_failed_checkers).
 */
import { formatIp4, type Ip4 } from '../../net/addr';
import type { Engine, EventHandle, Ns } from '../../sim/engine';
import { NS_PER_S } from '../../sim/engine';
import type { Rng } from '../../sim/rng';
import type { Host } from '../../kernel/host';
import { type TcpSock, tcpConnect } from '../../kernel/tcp';
import { IpvsError, type DestSpec, type IpvsCtl, type ServiceSpec } from '../../ipvs/ctl';
import type { FwdMethod } from '../../ipvs/types';
import type { KaChecker, KaConfig, KaRealServer, KaVirtualServer } from '../../config/keepalived';
import { type IpvsCmd, type LvsSyncdConfig, ipvsSyncdCmd, ipvsTalkError } from './ipvswrapper';

/** Who the changes the checker process makes are recorded as. */
export const HEALTHCHECKERS = 'keepalived (Keepalived_healthcheckers)';

/** BOOTSTRAP_DELAY (check_api.c): every checker starts 1 s plus its random warmup after registration. */
export const BOOTSTRAP_DELAY_NS = 1 * NS_PER_S;
/** Default delay_before_retry and retry of a checker (check_api.c `queue_checker`). */
const DEFAULT_DELAY_BEFORE_RETRY_NS = 1 * NS_PER_S;
const DEFAULT_RETRY = 1;

/** A real server as keepalived keeps it: what it programs (the ipvsadm -a fields) and its check state. */
interface Server extends DestSpec {
  inhibit: boolean;
  /** ISALIVE(rs). */
  alive: boolean;
  /** In the kernel's table (rs->set). */
  set: boolean;
  numFailedCheckers: number;
}

interface Vs {
  readonly conf: KaVirtualServer;
  readonly rs: Server[];
  readonly sorry: Server | null;
  quorumStateUp: boolean;
}

const FWD: Record<'NAT' | 'DR' | 'TUN', FwdMethod> = { NAT: 'masq', DR: 'route', TUN: 'tunnel' };

/** "[172.16.29.6]:tcp:9001" (FMT_VS, FMT_RS, FMT_CHK). */
const fmt = (addr: Ip4, proto: string, port: number) => `[${formatIp4(addr)}]:${proto.toLowerCase()}:${port}`;

type Cmd = 'ADD' | 'DEL' | 'ADD_DEST' | 'DEL_DEST' | 'EDIT_DEST';
const TALK: Record<Cmd, IpvsCmd> = {
  ADD: 'IP_VS_SO_SET_ADD', DEL: 'IP_VS_SO_SET_DEL', ADD_DEST: 'IP_VS_SO_SET_ADDDEST', DEL_DEST: 'IP_VS_SO_SET_DELDEST', EDIT_DEST: 'IP_VS_SO_SET_EDITDEST',
};

export interface HealthcheckEnv {
  readonly host: Host;
  readonly ipvs: IpvsCtl;
  readonly rng: Rng;
  readonly log: (msg: string) => void;
}

/**
 * Warmups taken instead of drawn, per host: a replay of a recorded run gives that run's (its
 * log has when each checker first reported). `plan(chk, i)` for the i-th checker, whose target is
 * `chk` ("[RIP]:tcp:port"), returns ns or null to draw as keepalived does.
 */
const warmupPlans = new WeakMap<Host, (chk: string, i: number) => Ns | null>();
export function planWarmups(host: Host, plan: ((chk: string, i: number) => Ns | null) | null): void {
  if (plan) warmupPlans.set(host, plan); else warmupPlans.delete(host);
}

export class Healthchecker {
  private readonly engine: Engine;
  private readonly vss: Vs[] = [];
  private readonly checkers: Checker[] = [];
  private stopped = false;
  /** The process is gone: nothing it started may act or log any more. */
  get dead(): boolean { return this.stopped; }

  /** checker_ipvs_syncd_needed: lvs_sync_daemon without `inst`, so this process runs both sync daemons. */
  private readonly syncd: LvsSyncdConfig | null;

  constructor(readonly env: HealthcheckEnv, cfg: KaConfig) {
    this.engine = env.host.engine;
    const sd = cfg.lvsSyncd;
    this.syncd = sd && sd.inst === null ? { ifname: sd.ifname, syncid: sd.syncid ?? 0 } : null;
    for (const conf of cfg.virtualServers) {
      const rs = conf.realServers.map(r => this.server(conf, r.addr, r.port, r.fwd, r.weight, r.inhibit, r.uThreshold, r.lThreshold));
      const ss = conf.sorryServer;
      const vs: Vs = { conf, rs, sorry: ss ? this.server(conf, ss.addr, ss.port, ss.fwd, 1, ss.inhibit, 0, 0) : null, quorumStateUp: false };
      this.vss.push(vs);
      conf.realServers.forEach((r, i) => { for (const c of r.checkers) this.checkers.push(new Checker(this, vs, vs.rs[i], conf, r, c)); });
    }
  }

  private server(vs: KaVirtualServer, addr: Ip4, port: number, fwd: 'NAT' | 'DR' | 'TUN' | null, weight: number, inhibit: boolean, u: number, l: number): Server {
    return { addr, port, fwd: FWD[fwd ?? vs.lbKind], weight, uThreshold: u, lThreshold: l, inhibit, alive: false, set: false, numFailedCheckers: 0 };
  }

  /** Timers this process has armed: dropped when it dies. */
  private readonly timers = new Set<EventHandle>();
  /** Sockets open now (a check in flight). */
  readonly socks = new Set<TcpSock>();

  after(delay: Ns, fn: () => void): void {
    const h = this.engine.after(delay, () => { this.timers.delete(h); if (!this.stopped) fn(); });
    this.timers.add(h);
  }

  /** init_services, then register_checkers_thread. */
  start(): void {
    this.env.log('Initializing ipvs');
    // ipvs_start -> ipvs_init: libipvs loads ip_vs when the kernel does not have it yet.
    if (!this.env.host.modules.has('ip_vs')) this.env.host.modprobe('ip_vs');
    if (this.syncd) {
      // start_check: daemons left by a keepalived that died go first (errors ignored), then both start.
      ipvsSyncdCmd(this.env, 'IP_VS_SO_SET_STOPDAEMON', this.syncd, ['master', 'backup'], true);
      ipvsSyncdCmd(this.env, 'IP_VS_SO_SET_STARTDAEMON', this.syncd, ['master', 'backup'], false);
    }
    // set_quorum_states: before any server is alive, no quorum.
    for (const vs of this.vss) vs.quorumStateUp = this.liveWeight(vs) >= vs.conf.quorum + vs.conf.hysteresis;
    for (const c of this.checkers) if (c.retry > 0) c.retryIt = c.retry;
    for (const vs of this.vss) this.initServiceVs(vs);
    const plan = warmupPlans.get(this.env.host);
    this.checkers.forEach((c, i) => {
      this.env.log(`Activating healthchecker for service ${c.rsName} for VS ${c.vsName}`);
      // warmup * random() / RAND_MAX
      const drawn = c.warmupNs ? Math.floor(c.warmupNs * this.env.rng.next()) : 0;
      const planned = plan?.(c.chkName, i) ?? null;
      const warmup = planned === null ? drawn : Math.min(Math.max(0, Math.round(planned)), c.warmupNs);
      this.after(BOOTSTRAP_DELAY_NS + warmup, () => c.run());
    });
  }

  /**
   * The process ends. SIGTERM (`graceful`): clear_services takes every real server out and deletes
   * each virtual server. SIGKILL: nothing is undone, the table stays as it was.
   */
  stop(graceful: boolean): void {
    if (this.stopped) return;
    if (graceful) {
      for (const vs of this.vss) {
        if (vs.sorry?.set) { const inh = vs.sorry.inhibit; vs.sorry.inhibit = false; this.ipvsCmd('DEL_DEST', vs, vs.sorry); vs.sorry.inhibit = inh; vs.sorry.alive = false; }
        for (const rs of vs.rs) {
          // clear_service_rs: when stopping, every real server is logged, set or not.
          this.env.log(`Shutting down ${rs.inhibit && !rs.alive ? '(inhibited) ' : ''}service ${this.rsName(vs, rs)} from VS ${this.vsName(vs)}`);
          if (!rs.set) continue;
          const inh = rs.inhibit;
          rs.inhibit = false;
          this.ipvsCmd('DEL_DEST', vs, rs);
          rs.inhibit = inh;
          rs.alive = false;
        }
        this.ipvsCmd('DEL', vs, null);
      }
      // checker_terminate_phase2: the sync daemons this process started stop (errors ignored).
      if (this.syncd) ipvsSyncdCmd(this.env, 'IP_VS_SO_SET_STOPDAEMON', this.syncd, ['master', 'backup'], true);
    }
    this.stopped = true;
    for (const h of this.timers) this.engine.cancel(h);
    this.timers.clear();
    for (const s of this.socks) s.abort();
    this.socks.clear();
  }

  vsName(vs: Vs): string { return fmt(vs.conf.addr, vs.conf.protocol, vs.conf.port); }
  rsName(vs: Vs, rs: Server): string { return fmt(rs.addr, vs.conf.protocol, rs.port); }

  /** weigh_live_realservers. */
  private liveWeight(vs: Vs): number {
    let n = 0;
    for (const rs of vs.rs) if (rs.alive) n += rs.weight;
    return n;
  }

  /** init_service_vs: the service, its real servers, the quorum. */
  private initServiceVs(vs: Vs): void {
    this.ipvsCmd('ADD', vs, null);
    for (const rs of vs.rs) {
      // Not alpha mode: every real server goes in at once, alive until a check says otherwise.
      if ((!rs.numFailedCheckers && !rs.alive) || (rs.inhibit && !rs.set)) {
        this.ipvsCmd('ADD_DEST', vs, rs);
        if (!rs.numFailedCheckers) rs.alive = true;
      }
    }
    this.updateQuorumState(vs, true);
    const ss = vs.sorry;
    if (ss && ss.inhibit && !ss.set) {
      // Make sure the sorry server is configured with weight 0.
      ss.numFailedCheckers = 1;
      this.ipvsCmd('ADD_DEST', vs, ss);
      ss.numFailedCheckers = 0;
    }
  }

  /** update_quorum_state. */
  private updateQuorumState(vs: Vs, init: boolean): void {
    const weightSum = this.liveWeight(vs);
    const { quorum, hysteresis } = vs.conf;
    const threshold = quorum + (vs.quorumStateUp ? -1 : 1) * hysteresis;
    if (!vs.quorumStateUp && weightSum >= threshold) {
      vs.quorumStateUp = true;
      this.env.log(`Gained quorum ${quorum}+${hysteresis}=${threshold} <= ${weightSum} for VS ${this.vsName(vs)}`);
      const ss = vs.sorry;
      if (ss && ss.alive) {
        this.env.log(`${ss.inhibit ? 'Disabling' : 'Removing'} sorry server ${this.rsName(vs, ss)} from VS ${this.vsName(vs)}`);
        this.ipvsCmd('DEL_DEST', vs, ss);
        ss.alive = false;
        this.performQuorumState(vs, true);
      }
      return;
    }
    if ((vs.quorumStateUp && (!weightSum || weightSum < threshold)) || (init && !vs.quorumStateUp && vs.sorry && !vs.sorry.alive)) {
      vs.quorumStateUp = false;
      this.env.log(`${init ? 'Starting with quorum down' : 'Lost quorum'} ${quorum}-${hysteresis}=${threshold} > ${weightSum} for VS ${this.vsName(vs)}`);
      const ss = vs.sorry;
      if (ss && !ss.alive) {
        this.env.log(`${ss.inhibit ? 'Enabling' : 'Adding'} sorry server ${this.rsName(vs, ss)} to VS ${this.vsName(vs)}`);
        this.performQuorumState(vs, false);
        this.ipvsCmd('ADD_DEST', vs, ss);
        ss.alive = true;
      }
    }
  }

  /** perform_quorum_state: add or remove the alive real servers. */
  private performQuorumState(vs: Vs, add: boolean): void {
    this.env.log(`${add ? 'Adding alive servers to' : 'Removing alive servers from'} the pool for VS ${this.vsName(vs)}`);
    for (const rs of vs.rs) {
      if (!rs.alive) continue;
      if (add) rs.alive = false;
      this.ipvsCmd(add ? 'ADD_DEST' : 'DEL_DEST', vs, rs);
      rs.alive = true;
    }
  }

  /** perform_svr_state: a real server goes up or down. */
  private performSvrState(alive: boolean, vs: Vs, rs: Server): boolean {
    if (rs.alive === alive) return true;
    const verb = alive ? (rs.inhibit ? 'Enabl' : 'Add') : rs.inhibit ? 'Disabl' : 'Remov';
    this.env.log(`${verb}ing service ${this.rsName(vs, rs)} ${rs.inhibit ? 'of' : alive ? 'to' : 'from'} VS ${this.vsName(vs)}`);
    this.env.host.emit.event({ kind: 'pool', op: alive ? (rs.inhibit ? 'enable' : 'add') : rs.inhibit ? 'disable' : 'remove', rs: this.rsName(vs, rs), vs: this.vsName(vs) });
    // Change only if we have quorum or no sorry server.
    if (vs.quorumStateUp || !vs.sorry || !vs.sorry.alive) {
      if (!this.ipvsCmd(alive ? 'ADD_DEST' : 'DEL_DEST', vs, rs)) return false;
    }
    rs.alive = alive;
    this.updateQuorumState(vs, false);
    return true;
  }

  /** update_svr_checker_state. */
  updateSvrCheckerState(alive: boolean, c: Checker): void {
    // The verdict the log line before this call gave, for the run's timeline (trace/record.ts DaemonEvent).
    if (c.isUp !== alive || !c.hasRun) this.env.host.emit.event({ kind: 'check', ok: alive, checker: c.conf.kind, rs: c.rsName, vs: c.vsName });
    if (c.isUp === alive) {
      c.hasRun = true;
      return;
    }
    c.hasRun = true;
    const rs = c.rs;
    if (alive) {
      if (rs.numFailedCheckers <= 1 && !this.performSvrState(true, c.vs, rs)) return;
    } else if (rs.numFailedCheckers === 0 && !this.performSvrState(false, c.vs, rs)) return;
    // set_checker_state
    c.isUp = alive;
    if (!alive) rs.numFailedCheckers++;
    else if (rs.numFailedCheckers) rs.numFailedCheckers--;
  }

  /** ipvs_cmd: the inhibit rules, then the call ipvsadm would make. False when the kernel refused. */
  private ipvsCmd(cmd: Cmd, vs: Vs, rs: Server | null): boolean {
    const c = vs.conf;
    const spec: ServiceSpec = {
      protocol: c.protocol === 'UDP' ? 'udp' : 'tcp',
      addr: c.addr,
      port: c.port,
      scheduler: c.lbAlgo,
      ...(c.persistenceTimeout !== null ? { persistent: c.persistenceTimeout } : {}),
      netmask: c.persistenceTimeout !== null && c.persistenceGranularity !== null ? c.persistenceGranularity >>> 0 : 0xffffffff,
      schedFlags: c.flags & 0x38,
      ops: (c.flags & 0x0004) !== 0,
    };
    const key = { protocol: spec.protocol, addr: spec.addr, port: spec.port };
    let op = cmd;
    let weight = rs?.weight ?? 0;
    if (rs) {
      if (op === 'DEL_DEST' && rs.inhibit) { weight = 0; op = 'EDIT_DEST'; }
      else if (op === 'ADD_DEST' && rs.inhibit && rs.set) op = 'EDIT_DEST';
      else if (op === 'ADD_DEST' && !rs.set) {
        rs.set = true;
        if (rs.inhibit && rs.numFailedCheckers) weight = 0;
      } else if (op === 'DEL_DEST' && rs.set) rs.set = false;
    }
    // Direct routing and tunnelling keep the service's port (ipvswrapper.c).
    const d: DestSpec | null = rs ? { addr: rs.addr, port: rs.fwd === 'masq' ? rs.port : c.port, fwd: rs.fwd, weight, uThreshold: rs.uThreshold, lThreshold: rs.lThreshold } : null;
    let talk: IpvsCmd = TALK[op];
    try {
      if (op === 'ADD') this.env.ipvs.addService(spec);
      else if (op === 'DEL') this.env.ipvs.delService(key);
      else if (d) {
        if (op === 'ADD_DEST') this.env.ipvs.addDest(key, d);
        else if (op === 'EDIT_DEST') {
          try {
            this.env.ipvs.editDest(key, d);
          } catch (e) {
            // ipvs_talk: an edit of a real server that is not there (deleted by hand) adds it.
            if (!(e instanceof IpvsError) || e.errno !== 'ENOENT') throw e;
            talk = 'IP_VS_SO_SET_ADDDEST';
            this.env.ipvs.addDest(key, d);
          }
        } else this.env.ipvs.delDest(key, { addr: d.addr, port: d.port });
      }
      // The table changed as the ipvsadm line would change it: recorded now, as the checker's.
      this.env.host.emit.configChanged(HEALTHCHECKERS);
      return true;
    } catch (e) {
      if (!(e instanceof IpvsError)) throw e;
      this.env.log(ipvsTalkError(talk, e.errno, { protocol: spec.protocol, addr: spec.addr, port: spec.port, dest: talk === 'IP_VS_SO_SET_ADD' || talk === 'IP_VS_SO_SET_DEL' || !d ? undefined : d }));
      // ipvs_talk logs every refusal, but counts adding what exists and deleting what is gone as done.
      return (e.errno === 'EEXIST' && (talk === 'IP_VS_SO_SET_ADD' || talk === 'IP_VS_SO_SET_ADDDEST'))
        || (e.errno === 'ENOENT' && (talk === 'IP_VS_SO_SET_DEL' || talk === 'IP_VS_SO_SET_DELDEST'));
    }
  }
}

/**
 * One TCP_CHECK or HTTP_GET. `retryIt` starts at `retry`: "for non alpha mode, one failure is
 * enough initially" (check_data.c), so a server that fails its first check leaves at once.
 */
class Checker {
  isUp = true;
  hasRun = false;
  retryIt = 0;
  readonly retry: number;
  readonly delayLoopNs: number;
  readonly delayBeforeRetryNs: number;
  readonly warmupNs: number;
  readonly connectTimeoutNs: number;
  readonly dst: Ip4;
  readonly dport: number;
  readonly rsName: string;
  readonly vsName: string;
  readonly chkName: string;
  /** HTTP_GET: the url being checked, and the one that failed (check_http.c url_it, failed_url). */
  private urlIt = 0;
  private failedUrl: number | null = null;

  constructor(private readonly hc: Healthchecker, readonly vs: Vs, readonly rs: Server, vsc: KaVirtualServer, rsc: KaRealServer, readonly conf: KaChecker) {
    // Defaults from the real server, then the virtual server (check_data.c validate_check_config).
    const rsDelayLoop = rsc.delayLoopNs ?? vsc.delayLoopNs;
    const rsRetry = rsc.retry ?? vsc.retry;
    const rsDbr = rsc.delayBeforeRetryNs ?? vsc.delayBeforeRetryNs;
    const rsWarmup = rsc.warmupNs ?? vsc.warmupNs;
    this.retry = conf.retry ?? rsRetry ?? DEFAULT_RETRY;
    this.delayLoopNs = conf.delayLoopNs ?? rsDelayLoop;
    this.warmupNs = conf.warmupNs ?? rsWarmup ?? this.delayLoopNs;
    this.delayBeforeRetryNs = conf.delayBeforeRetryNs ?? rsDbr ?? DEFAULT_DELAY_BEFORE_RETRY_NS;
    this.connectTimeoutNs = conf.connectTimeoutNs ?? rsc.connectTimeoutNs ?? vsc.connectTimeoutNs;
    this.dst = conf.connectIp ?? rsc.addr;
    this.dport = conf.connectPort ?? rsc.port;
    this.rsName = hc.rsName(vs, rs);
    this.vsName = hc.vsName(vs);
    this.chkName = fmt(this.dst, vsc.protocol, this.dport);
  }

  private get log() { return this.hc.env.log; }

  run(): void {
    if (this.conf.kind === 'TCP_CHECK') this.tcpConnect();
    else this.httpConnect();
  }

  /** Open the check connection; `done` hears success, refusal or connect_timeout. */
  private connect(onConnected: (s: TcpSock, finish: (ok: boolean, why: string) => void) => void, onData: ((s: TcpSock, d: Uint8Array) => void) | null, epilog: (ok: boolean, why: string) => void): void {
    const host = this.hc.env.host;
    let over = false;
    let timer: EventHandle | null = null;
    let sock: TcpSock | null = null;
    const finish = (ok: boolean, why: string) => {
      if (over || this.hc.dead) return;
      over = true;
      if (timer) host.engine.cancel(timer);
      if (sock) { this.hc.socks.delete(sock); sock.abort(); }
      epilog(ok, why);
    };
    const armTimeout = (why: string) => {
      if (timer) host.engine.cancel(timer);
      timer = host.engine.after(this.connectTimeoutNs, () => finish(false, why));
    };
    const s = tcpConnect(host, this.conf.bindto ?? 0, 0, this.dst, this.dport, {
      onConnected: (x) => { armTimeout('Timeout WEB read'); onConnected(x, finish); },
      onData: onData ? (x, d) => onData(x, d) : undefined,
      onPeerClosed: (x) => onData?.(x, new Uint8Array(0)),
      onError: () => finish(false, 'Error connecting'),
    });
    if (typeof s === 'string') { this.hc.after(0, () => finish(false, 'Error connecting')); return; }
    sock = s;
    this.hc.socks.add(s);
    armTimeout('Timeout connecting');
  }

  // ------------------------------------------------------------- TCP_CHECK (check_tcp.c)

  private tcpConnect(): void {
    this.connect((_s, finish) => finish(true, ''), null, ok => this.tcpEpilog(ok));
  }

  /** tcp_epilog. */
  private tcpEpilog(ok: boolean): void {
    let delay: Ns;
    if (ok || this.retryIt >= this.retry) {
      delay = this.delayLoopNs;
      this.retryIt = 0;
      if (ok && (!this.isUp || !this.hasRun)) {
        this.log(`TCP connection to ${this.chkName} success.`);
        this.hc.updateSvrCheckerState(true, this);
      } else if (!ok && (this.isUp || !this.hasRun)) {
        if (this.retry && this.hasRun) this.log(`TCP_CHECK on service ${this.chkName} failed after ${this.retry} retries.`);
        else this.log(`TCP_CHECK on service ${this.chkName} failed.`);
        this.hc.updateSvrCheckerState(false, this);
      }
    } else {
      delay = this.delayBeforeRetryNs;
      this.retryIt++;
    }
    this.hasRun = true;
    this.hc.after(delay, () => this.tcpConnect());
  }

  // ------------------------------------------------------------- HTTP_GET (check_http.c)

  private httpConnect(): void {
    const url = this.conf.urls[this.urlIt];
    let buf = '';
    let answered = false;
    // request_template, HTTP/1.0 and no virtualhost: Host is always address:port.
    const request = `GET ${url.path} HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: ${formatIp4(this.dst)}:${this.dport}\r\n\r\n`;
    let finishRef: ((ok: boolean, why: string) => void) | null = null;
    this.connect(
      (s, finish) => { finishRef = finish; s.send(new TextEncoder().encode(request)); },
      (_s, d) => {
        if (answered || !finishRef) return;
        buf += new TextDecoder().decode(d);
        const eoh = buf.indexOf('\r\n\r\n');
        if (eoh < 0 && d.length > 0) return;
        answered = true;
        const m = /^HTTP\/\d\.\d (\d{3})/.exec(buf);
        const code = m ? Number(m[1]) : 0;
        const ok = url.statusCodes.length ? url.statusCodes.includes(code) : code >= 200 && code <= 299;
        finishRef(ok, ok ? '' : 'HTTP status code error to');
      },
      (ok, why) => (ok ? this.httpEpilog('NEW') : this.timeoutEpilog(why)),
    );
  }

  /**
   * timeout_epilog: every HTTP_GET failure comes here, and it marks the checker as run before
   * epilog() logs, so a first failure with retry set reads "failed after {retry} retries."
   * (retry_it starts at retry: check_data.c `validate_check_config`), as keepalived 2.2.7 prints it.
   */
  private timeoutEpilog(_why: string): void {
    if (this.isUp || !this.hasRun) {
      this.hasRun = true;
      this.httpEpilog('RETRY');
      return;
    }
    this.httpEpilog('FAILED');
  }

  /** epilog (check_http.c). */
  private httpEpilog(method: 'NEW' | 'RETRY' | 'FAILED'): void {
    const urls = this.conf.urls.length;
    let urlDone = false;
    if (method === 'NEW') {
      this.urlIt++;
      urlDone = this.urlIt >= urls;
      this.retryIt = 0;
    } else if (method === 'RETRY') this.retryIt++;

    if (method === 'NEW' && urlDone && this.failedUrl === null) {
      if (!this.isUp || !this.hasRun) {
        this.log(`Remote Web server ${this.chkName} succeed on service.`);
        this.hc.updateSvrCheckerState(true, this);
        this.hasRun = true;
      }
      this.urlIt = 0;
      this.retryIt = 0;
    } else if (method === 'RETRY' && this.retryIt > this.retry) {
      if (this.isUp || !this.hasRun) {
        if (this.hasRun && this.retry) this.log(`HTTP_CHECK on service ${this.chkName} failed after ${this.retryIt - 1} retries.`);
        else this.log(`HTTP_CHECK on service ${this.chkName} failed.`);
        this.hc.updateSvrCheckerState(false, this);
      }
      this.failedUrl = this.urlIt;
    } else if (method === 'NEW' && this.failedUrl !== null) {
      // The failed url answers again: check all the urls from the first.
      this.failedUrl = null;
      this.urlIt = 0;
      this.retryIt = 0;
    }
    if (method === 'NEW' && urlDone) this.urlIt = 0;

    let delay: Ns;
    if (method === 'NEW') {
      delay = this.delayLoopNs;
      if (!this.hasRun) this.retryIt = this.retry;
    } else if (this.failedUrl !== null) delay = Math.max(this.delayBeforeRetryNs, this.delayLoopNs);
    else delay = this.delayBeforeRetryNs;
    this.hc.after(delay, () => this.httpConnect());
  }
}

export type { Checker };
