/**
 * daemons/keepalived/daemon.ts: keepalived 2.2.7 as processes on a host. The parent
 * (`keepalived`) reads the configuration and forks the health-check child
 * (Keepalived_healthcheckers, healthcheck.ts); both are in the host's process table, so
 * `systemctl stop keepalived` (SIGTERM: the child takes its services out of IPVS) and
 * `pkill -9 keepalived` (a crash: the table it made stays) act as on Linux. Started by
 * `systemctl start keepalived` (/etc/keepalived/keepalived.conf) or `keepalived -f FILE`.
 * Simplified: the time from exec to IPVS being programmed is a constant (KA_STARTUP_NS, what the
 * recorded runs show: 0.2-0.3 s); SIGHUP reloads as a restart (keepalived diffs old and new).
 * `systemctl start keepalived` runs it as Red Hat's unit does, with KEEPALIVED_OPTIONS="-D"
 * (detailed log: VRRP timeouts, VIP changes, each gratuitous ARP).
 * Not modelled, refused at start: the keywords config/keepalived.ts lists as unmodelled.
 */
import { NS_PER_MS, type Ns } from '../../sim/engine';
import type { Host } from '../../kernel/host';
import { procs, syslog, type Process, type Signal } from '../../kernel/proc';
import type { IpvsCtl } from '../../ipvs/ctl';
import { parseKeepalivedConf, type KaConfig } from '../../config/keepalived';
import { formatDiagnostic, type Diagnostic } from '../../config/diag';
import type { FileError, ToolContext } from '../../config/tool';
import type { DaemonUnit } from '../../config/units';
import { Healthchecker } from './healthcheck';
import { VrrpProcess } from './vrrp';

export const KEEPALIVED_VERSION = 'Keepalived v2.2.7 (01/16,2022)';
export const DEFAULT_CONF = '/etc/keepalived/keepalived.conf';
/** From exec to the checker child programming IPVS (config read, fork, netlink). */
export const KA_STARTUP_NS: Ns = 250 * NS_PER_MS;

/** A running keepalived on one host. */
export interface Keepalived {
  readonly parent: Process;
  child: Process | null;
  hc: Healthchecker | null;
  vrrpChild: Process | null;
  vrrp: VrrpProcess | null;
  readonly conf: string;
  /** Set once the parent is shutting down: a child's exit is then expected. */
  stopping: boolean;
}

const running = new WeakMap<Host, Keepalived>();

/** The keepalived running on `host`, if any. */
export function keepalivedOn(host: Host): Keepalived | null {
  return running.get(host) ?? null;
}

export interface StartOptions {
  readonly conf?: string;
  readonly cmdline?: string;
  /** -C: only the checker child; -P: only the VRRP child. */
  readonly checkOnly?: boolean;
  readonly vrrpOnly?: boolean;
  /** -D: detailed log. */
  readonly detail?: boolean;
}

/**
 * Read and check the configuration, then start the processes. Refused (ok false, nothing
 * started) when the file is missing or uses what lvsim does not model.
 */
export function startKeepalived(host: Host, ipvs: IpvsCtl, files: ReadonlyMap<string, string>, opts: StartOptions = {}): { ok: boolean; stderr: string; diagnostics: Diagnostic[]; fileErrors: FileError[] } {
  const path = opts.conf ?? DEFAULT_CONF;
  if (keepalivedOn(host)) return { ok: false, stderr: 'daemon is already running\n', diagnostics: [], fileErrors: [] };
  const text = files.get(path);
  if (text === undefined) {
    return { ok: false, stderr: `Configuration file '${path}' does not exist (declare it under the host's files: in the scenario)\n`, diagnostics: [], fileErrors: [] };
  }
  const { config, diagnostics } = parseKeepalivedConf(text, path);
  // What keepalived reports about its file, placed at the file's lines: keepalived runs on
  // (with its defaults) after each of them, so they are warnings; what lvsim refuses is an error.
  const fileErrors: FileError[] = diagnostics.map(d => ({
    path, line: d.line, col: d.col, endCol: d.endCol, found: d.found, expected: d.expected, tool: d.tool ?? formatDiagnostic(d), severity: 'warning',
  }));
  const refusals = refused(config);
  if (refusals.length) {
    const lines = text.split('\n');
    for (const r of refusals) {
      const src = lines[r.line - 1] ?? '';
      const col = src.length - src.trimStart().length + 1;
      const word = src.trim().split(/\s+/)[0] ?? '';
      fileErrors.push({ path, line: r.line, col, endCol: col + Math.max(1, word.length), found: word, expected: `what lvsim models (${r.what} not modelled)`, tool: `lvsim: ${r.what} not modelled; keepalived not started`, severity: 'error' });
    }
    return { ok: false, stderr: refusals.map(r => `${path}:${r.line}: lvsim: ${r.what} not modelled; keepalived not started\n`).join(''), diagnostics, fileErrors };
  }
  const pt = procs(host);
  const ident = 'Keepalived';
  const ka: Keepalived = {
    parent: pt.spawn({
      ppid: 1, comm: 'keepalived', cmdline: opts.cmdline ?? `/usr/sbin/keepalived --dont-fork -f ${path}`,
      onSignal: (sig) => onParentSignal(host, sig),
      onExit: () => onParentGone(host),
    }),
    child: null, hc: null, vrrpChild: null, vrrp: null, conf: path, stopping: false,
  };
  running.set(host, ka);
  const log = (msg: string) => syslog(host, ident, ka.parent.pid, msg);
  log(`Starting ${KEEPALIVED_VERSION}`);
  log(`Opening file '${path}'.`);
  // keepalived forks a child only for what the configuration has (and -C / -P allow).
  if (config.virtualServers.length && !opts.vrrpOnly) {
    spawnChecker(host, ipvs, ka, config, diagnostics);
    log(`Starting Healthcheck child process, pid=${ka.child!.pid}`);
  }
  if (config.vrrpInstances.length && !opts.checkOnly) {
    spawnVrrp(host, ipvs, ka, config, diagnostics, opts.detail ?? false);
    log(`Starting VRRP child process, pid=${ka.vrrpChild!.pid}`);
  }
  return { ok: true, stderr: '', diagnostics, fileErrors };
}

/** What keepalived would run that lvsim does not model: refused, never silently dropped. */
function refused(cfg: KaConfig): Array<{ line: number; what: string }> {
  const out = [...cfg.unmodelled.map(u => ({ line: u.line, what: u.what + ' is' }))];
  return out.sort((a, b) => a.line - b.line);
}

function spawnChecker(host: Host, ipvs: IpvsCtl, ka: Keepalived, config: KaConfig, diagnostics: readonly Diagnostic[]): void {
  const ident = 'Keepalived_healthcheckers';
  const child = procs(host).spawn({
    ppid: ka.parent.pid, comm: 'keepalived', cmdline: ka.parent.cmdline,
    onSignal: (sig) => {
      if (sig === 'TERM' || sig === 'INT' || sig === 'QUIT' || sig === 'HUP') {
        syslog(host, ident, child.pid, 'Stopping');
        ka.hc?.stop(true);
        procs(host).exit(child.pid);
      }
    },
    onExit: (how) => {
      ka.hc?.stop(false);
      ka.child = null;
      if (!ka.stopping && procs(host).procs.has(ka.parent.pid)) {
        // The parent's SIGCHLD handler: a checker that dies means keepalived ends.
        syslog(host, 'Keepalived', ka.parent.pid, `Healthcheck child process(${child.pid}) died: Exiting`);
        stopParent(host, ka, how === 'killed');
      }
    },
  });
  ka.child = child;
  const hc = new Healthchecker({ host, ipvs, rng: host.engine.rng(`keepalived:${host.name}`), log: (msg) => syslog(host, ident, child.pid, msg) }, config);
  ka.hc = hc;
  host.engine.after(KA_STARTUP_NS, () => {
    if (ka.child !== child) return;
    // Configuration errors are logged by the process that reads them, with "(Line N)".
    for (const d of diagnostics) syslog(host, ident, child.pid, d.tool ?? formatDiagnostic(d));
    hc.start();
  });
}

function spawnVrrp(host: Host, ipvs: IpvsCtl, ka: Keepalived, config: KaConfig, diagnostics: readonly Diagnostic[], detail: boolean): void {
  const ident = 'Keepalived_vrrp';
  const child = procs(host).spawn({
    ppid: ka.parent.pid, comm: 'keepalived', cmdline: ka.parent.cmdline,
    onSignal: (sig) => {
      if (sig === 'TERM' || sig === 'INT' || sig === 'QUIT' || sig === 'HUP') {
        syslog(host, ident, child.pid, 'Stopping');
        ka.vrrp?.stop(true);
        procs(host).exit(child.pid);
      }
    },
    onExit: (how) => {
      ka.vrrp?.stop(false);
      ka.vrrpChild = null;
      if (!ka.stopping && procs(host).procs.has(ka.parent.pid)) {
        syslog(host, 'Keepalived', ka.parent.pid, `VRRP child process(${child.pid}) died: Exiting`);
        stopParent(host, ka, how === 'killed');
      }
    },
  });
  ka.vrrpChild = child;
  const log = (msg: string) => syslog(host, ident, child.pid, msg);
  const vrrp = new VrrpProcess({ host, ipvs, log, detail }, config);
  ka.vrrp = vrrp;
  host.engine.after(KA_STARTUP_NS, () => {
    if (ka.vrrpChild !== child) return;
    for (const d of diagnostics) if (!ka.child) log(d.tool ?? formatDiagnostic(d));
    for (const m of VrrpProcess.missing(host, config)) log(m);
    vrrp.start();
  });
}

function onParentSignal(host: Host, sig: Signal): void {
  const ka = keepalivedOn(host);
  if (!ka) return;
  if (sig === 'USR1' || sig === 'USR2') return; // data/stats dumps to /tmp: nothing visible here
  stopParent(host, ka, false);
}

/** The parent's shutdown: SIGTERM to the child, wait for it, exit. */
function stopParent(host: Host, ka: Keepalived, _crash: boolean): void {
  if (ka.stopping) return;
  ka.stopping = true;
  syslog(host, 'Keepalived', ka.parent.pid, 'Stopping');
  if (ka.child) procs(host).kill(ka.child.pid, 'TERM');
  if (ka.vrrpChild) procs(host).kill(ka.vrrpChild.pid, 'TERM');
  syslog(host, 'Keepalived', ka.parent.pid, `Stopped ${KEEPALIVED_VERSION}`);
  procs(host).exit(ka.parent.pid);
}

function onParentGone(host: Host): void {
  const ka = keepalivedOn(host);
  if (!ka) return;
  running.delete(host);
  // SIGKILL of the parent: the child's PR_SET_PDEATHSIG is SIGTERM, so it shuts down cleanly.
  if (!ka.stopping) {
    ka.stopping = true;
    for (const c of [ka.child, ka.vrrpChild]) if (c && procs(host).procs.has(c.pid)) procs(host).kill(c.pid, 'TERM');
  }
}

/** keepalived.service. */
export const keepalivedUnit: DaemonUnit = {
  start(ctx: ToolContext) {
    const r = startKeepalived(ctx.host, ctx.ipvs, ctx.files, { conf: DEFAULT_CONF, detail: true, cmdline: '/usr/sbin/keepalived --dont-fork -D' });
    return { ok: r.ok, stderr: r.stderr, fileErrors: r.fileErrors };
  },
  stop(ctx: ToolContext) {
    const ka = keepalivedOn(ctx.host);
    if (ka) procs(ctx.host).kill(ka.parent.pid, 'TERM');
  },
  active(ctx: ToolContext) {
    return keepalivedOn(ctx.host) !== null;
  },
  status(ctx: ToolContext) {
    const ka = keepalivedOn(ctx.host);
    const j = procs(ctx.host).journal.filter(e => e.ident.startsWith('Keepalived')).slice(-10);
    const head = ka ? `   Main PID: ${ka.parent.pid} (keepalived)\n` : '';
    return head + (j.length ? '\n' + j.map(e => `${ctx.host.name} ${e.ident}[${e.pid}]: ${e.msg}`).join('\n') + '\n' : '');
  },
};

/**
 * The log lines about what keepalived did to the pool and the VIP (checks, IPVS changes, quorum,
 * VRRP states, VIPs, gratuitous ARPs), as opposed to the process's own life (starting, reading
 * the file, forking, activating a checker, stopping): what an operator greps the log for.
 */
const STATE_LINE = [
  /^\([^)]+\) /, /^Sending gratuitous ARP /,
  /^TCP connection to /, /^TCP_CHECK on service /, /^HTTP_CHECK on service /, /^Remote Web server /,
  /^(Adding|Removing|Enabling|Disabling) (service|sorry server|alive servers) /, /^(Gained|Lost) quorum /,
  /^Starting with quorum down /, /^Shutting down /, /^IPVS cmd /,
];
export function isStateLine(msg: string): boolean {
  return STATE_LINE.some(re => re.test(msg));
}
