/**
 * config/systemctl.ts: `systemctl restart network` and `service network restart` (Red Hat
 * initscripts' network service: ifdown then ifup of every /etc/sysconfig/network-scripts/
 * ifcfg-* file, lo first, ONBOOT=no left down), `systemctl restart systemd-sysctl` (reloads
 * /etc/sysctl.d/*.conf and /etc/sysctl.conf) and `systemctl restart ipvsadm` (ipvsadm -C, then
 * ipvsadm-restore < /etc/sysconfig/ipvsadm), `systemctl restart iptables` (iptables_service.ts). ifup-eth's address add is
 * `ip addr add IPADDR/PREFIX brd BROADCAST dev DEV label DEVICE`; the default route comes from
 * GATEWAY in the ifcfg file or in /etc/sysconfig/network (with GATEWAYDEV).
 * Not modelled: DHCP, NetworkManager, bonding/bridges/VLANs, static-routes/route-DEV files,
 * Debian's /etc/network/interfaces.
 */
import type { Ip4 } from '../net/addr';
import { formatDiagnostic, type Diagnostic } from './diag';
import type { Word } from './shell';
import type { FileError, Tool, ToolContext, ToolResult } from './tool';
import { KernelError, type Host } from '../kernel/host';
import { findDev, linkUp, STRERROR, kernelFail } from './ip';
import { parseIfcfg, ifcfgSettings, type IfcfgSettings } from './ifcfg';
import { loadSysctlConf } from './sysctl';
import { ipvsadm, ipvsadmRestore } from './ipvsadm';
import { daemonUnit } from './units';
import { iptablesService } from './iptables_service';

const SCRIPTS = '/etc/sysconfig/network-scripts/';

function words(...texts: string[]): Word[] {
  let col = 1;
  return texts.map(t => { const w = { text: t, col, endCol: col + t.length }; col += t.length + 1; return w; });
}

function jobFailed(unit: string): string {
  return `Job for ${unit} failed because the control process exited with error code.\nSee "systemctl status ${unit}" and "journalctl -xeu ${unit}" for details.\n`;
}

/** Parse and check every ifcfg file the host declares (for the scenario loader and the service). */
export function ifcfgFiles(files: ReadonlyMap<string, string>): { settings: Array<{ path: string; s: IfcfgSettings }>; diagnostics: Diagnostic[] } {
  const settings: Array<{ path: string; s: IfcfgSettings }> = [];
  const diagnostics: Diagnostic[] = [];
  const paths = [...files.keys()].filter(p => p.startsWith(SCRIPTS + 'ifcfg-') && !p.endsWith('~') && !/\.(bak|orig|rpmnew|rpmsave)$/.test(p)).sort();
  for (const path of paths) {
    const { vars, diagnostics: d1 } = parseIfcfg(files.get(path)!, path);
    diagnostics.push(...d1);
    if (d1.some(d => d.severity === 'error')) continue;
    const { settings: s, diagnostics: d2 } = ifcfgSettings(path, vars);
    diagnostics.push(...d2);
    if (s) settings.push({ path, s });
  }
  return { settings, diagnostics };
}

/** The network service's restart. Returns stderr lines and whether it failed. */
export function networkRestart(ctx: ToolContext, stopOnly = false): { stderr: string; failed: boolean } {
  const host = ctx.host;
  const { settings, diagnostics } = ifcfgFiles(ctx.files);
  let stderr = diagnostics.map(d => formatDiagnostic(d) + '\n').join('');
  let failed = diagnostics.some(d => d.severity === 'error');
  let gw: Ip4 | null = null;
  let gwDev: string | null = null;
  const net = ctx.files.get('/etc/sysconfig/network');
  if (net !== undefined) {
    const { vars, diagnostics: nd } = parseIfcfg(net, '/etc/sysconfig/network');
    stderr += nd.map(d => formatDiagnostic(d) + '\n').join('');
    if (nd.some(d => d.severity === 'error')) failed = true;
    const g = vars.get('GATEWAY');
    if (g) {
      const { settings: s } = ifcfgSettings('/etc/sysconfig/network', new Map([['GATEWAY', g], ['ONBOOT', { ...g, value: 'yes' }]]));
      gw = s?.gateway ?? null;
      if (gw === null) { stderr += `/etc/sysconfig/network:${g.line}:${g.valueCol}: error: found '${g.value}', expected an IPv4 gateway address\n`; failed = true; }
    }
    gwDev = vars.get('GATEWAYDEV')?.value ?? null;
  }
  const baseOf = (dev: string): string => dev.split(':')[0];
  const order = [...settings].sort((a, b) => (a.s.device === 'lo' ? -1 : b.s.device === 'lo' ? 1 : a.s.device < b.s.device ? -1 : a.s.device > b.s.device ? 1 : 0));

  // ifdown: aliases lose their address, base devices lose every address and go down.
  for (const { s } of [...order].reverse()) {
    const d = findDev(host, baseOf(s.device));
    if (!d) continue;
    if (s.device.includes(':')) {
      for (const a of [...d.addrs]) if (a.label === s.device && d.addrs.includes(a)) host.delAddr(d.name, a.addr, a.prefixLen);
      continue;
    }
    host.flushAddrs(d.name);
    host.setUp(d.name, false);
  }
  if (!findDev(host, 'lo')?.up && !stopOnly) linkUp(host, 'lo');
  if (stopOnly) return { stderr, failed };

  const run = (what: string, f: () => void): void => {
    try { f(); } catch (e) {
      failed = true;
      if (e instanceof KernelError) {
        const k = kernelFail(e, 0);
        stderr += `${what}: ${k.stderr}\n`;
      } else stderr += `${what}: ${e instanceof Error ? e.message : String(e)}\n`;
    }
  };
  let defaultSet = false;
  for (const { path, s } of order) {
    if (!s.onboot) continue;
    const base = baseOf(s.device);
    const d = findDev(host, base);
    if (!d) {
      stderr += `ERROR     : [/etc/sysconfig/network-scripts/ifup-eth] Device ${base} does not seem to be present, delaying initialization. (${path})\n`;
      failed = true;
      continue;
    }
    if (!s.device.includes(':')) {
      if (s.mtu !== null) run(`ip link set dev ${base} mtu ${s.mtu}`, () => host.setMtu(base, s.mtu!));
      run(`ip link set dev ${base} up`, () => linkUp(host, base));
    }
    for (const a of s.addrs) {
      // ifup-eth checks `ip addr ls` first and adds only a missing address (lo's 127.0.0.1/8 is back already).
      if (d.addrs.some(x => x.addr === a.addr && x.prefixLen === a.prefixLen)) continue;
      run(`ip addr add dev ${base} label ${s.device}`, () => {
        host.addAddr(base, a.addr, a.prefixLen, { broadcast: a.broadcast, scope: a.addr >>> 24 === 127 ? 'host' : 'global', label: s.device });
      });
    }
    const g = s.gateway ?? (gw !== null && (gwDev === null || gwDev === base) ? gw : null);
    if (g !== null && s.defroute && !defaultSet && !s.device.includes(':')) {
      run(`ip route replace default via gateway dev ${base}`, () => host.addRoute({ type: 'unicast', dst: 0, len: 0, gw: g, dev: base, src: null, metric: 0, proto: 'boot', scope: 'global' }, true));
      defaultSet = true;
    }
  }
  if (!defaultSet && gw !== null) {
    const g = gw;
    run('ip route replace default via gateway', () => host.addRoute({ type: 'unicast', dst: 0, len: 0, gw: g, dev: gwDev, src: null, metric: 0, proto: 'boot', scope: 'global' }, true));
  }
  return { stderr, failed };
}

/** systemd-sysctl: /etc/sysctl.d/*.conf in name order, then /etc/sysctl.conf. */
function sysctlReload(host: Host, files: ReadonlyMap<string, string>): { stderr: string; failed: boolean; fileErrors?: readonly FileError[] } {
  const paths = [...files.keys()].filter(p => /^\/etc\/sysctl\.d\/[^/]+\.conf$/.test(p)).sort((a, b) => (a.slice(a.lastIndexOf('/')) < b.slice(b.lastIndexOf('/')) ? -1 : 1));
  if (files.has('/etc/sysctl.conf')) paths.push('/etc/sysctl.conf');
  let stderr = '';
  let failed = false;
  const notes: FileError[] = [];
  for (const p of paths) {
    const r = loadSysctlConf(host, files.get(p)!, p, true);
    stderr += r.stderr.replace(/^sysctl: /gm, 'systemd-sysctl: ');
    notes.push(...r.errors, ...r.notes);
    if (r.rc) failed = true;
  }
  // Refused lines at their lines (errors), keys Linux has and lvsim does not model too (warnings).
  notes.sort((a, b) => (a.path === b.path ? a.line - b.line : 0));
  return notes.length ? { stderr, failed, fileErrors: notes } : { stderr, failed };
}

type Unit = 'network' | 'systemd-sysctl' | 'ipvsadm' | 'iptables';

function unitOf(name: string): Unit | 'NetworkManager' | null {
  const n = name.replace(/\.service$/, '');
  if (n === 'network' || n === 'networking') return 'network';
  if (n === 'systemd-sysctl') return 'systemd-sysctl';
  if (n === 'ipvsadm') return 'ipvsadm';
  if (n === 'iptables') return 'iptables';
  if (n === 'NetworkManager') return 'NetworkManager';
  return null;
}

function hasNetworkScripts(files: ReadonlyMap<string, string>): boolean {
  return [...files.keys()].some(p => p.startsWith(SCRIPTS + 'ifcfg-'));
}

function runUnit(unit: Unit, verb: string, ctx: ToolContext): { stderr: string; failed: boolean; fileErrors?: readonly FileError[] } {
  if (unit === 'network') return networkRestart(ctx, verb === 'stop');
  if (unit === 'systemd-sysctl') return verb === 'stop' ? { stderr: '', failed: false } : sysctlReload(ctx.host, ctx.files);
  if (unit === 'iptables') return iptablesService(ctx, verb);
  // ipvsadm.service: stop clears the table; start/restart restores the saved rules.
  const clear = ipvsadm(words('ipvsadm', '-C'), ctx);
  if (clear.exit !== 0) return { stderr: clear.stderr, failed: true };
  if (verb === 'stop') return { stderr: '', failed: false };
  const saved = ctx.files.get('/etc/sysconfig/ipvsadm');
  if (saved === undefined) return { stderr: '/bin/bash: /etc/sysconfig/ipvsadm: No such file or directory\n', failed: true };
  // ipvsadm.service: ExecStart=/bin/bash -c "exec /sbin/ipvsadm-restore < /etc/sysconfig/ipvsadm"
  const r = ipvsadmRestore(words('ipvsadm-restore'), { ...ctx, stdin: saved, stdinPath: '/etc/sysconfig/ipvsadm' });
  return { stderr: r.stderr, failed: r.exit !== 0, ...(r.fileErrors ? { fileErrors: r.fileErrors } : {}) };
}

const VERBS = ['start', 'stop', 'restart', 'reload', 'try-restart', 'reload-or-restart', 'condrestart', 'force-reload', 'enable', 'disable', 'status', 'is-active', 'is-enabled'];

function unitExists(unit: Unit, ctx: ToolContext): boolean {
  if (unit === 'network') return hasNetworkScripts(ctx.files);
  if (unit === 'ipvsadm') return true;
  return true;
}

export const systemctl: Tool = (argv, ctx) => {
  let i = 1;
  while (i < argv.length && argv[i].text.startsWith('-')) {
    const w = argv[i].text;
    if (w !== '-q' && w !== '--quiet' && w !== '--no-pager' && w !== '--no-block' && w !== '--now') {
      return { exit: 1, stdout: '', stderr: `systemctl: unrecognized option '${w}'\n`, errorAt: { word: i, expected: 'a verb such as restart' } };
    }
    i++;
  }
  const verb = argv[i]?.text;
  if (verb === undefined) return { exit: 1, stdout: '', stderr: 'lvsim: systemctl without a verb lists units; that is not modelled\n', errorAt: { word: 0, expected: 'systemctl restart network' } };
  if (!VERBS.includes(verb)) return { exit: 1, stdout: '', stderr: `Unknown command verb ${verb}.\n`, errorAt: { word: i, expected: 'start, stop, restart, reload, status' } };
  const names = argv.slice(i + 1);
  if (names.length === 0) return { exit: 1, stdout: '', stderr: `Too few arguments.\n`, errorAt: { word: i, expected: 'a unit such as network' } };
  let stderr = '';
  let stdout = '';
  let exit = 0;
  let errorAt: ToolResult['errorAt'];
  const fileErrors: FileError[] = [];
  for (let k = 0; k < names.length; k++) {
    const at = i + 1 + k;
    const name = names[k].text;
    const unitName = name.includes('.') ? name : `${name}.service`;
    const u = unitOf(name);
    const action = verb === 'try-restart' || verb === 'condrestart' || verb === 'reload-or-restart' || verb === 'force-reload' || verb === 'reload' ? 'restart' : verb;
    const daemon = daemonUnit(name, ctx);
    if (daemon) {
      const r = runDaemonUnit(daemon, verb, unitName, ctx);
      stdout += r.stdout;
      stderr += r.stderr;
      fileErrors.push(...r.fileErrors ?? []);
      if (r.exit !== 0) { exit = r.exit; errorAt ??= { word: at, expected: `${unitName} that starts cleanly (see the messages above)` }; }
      continue;
    }
    if (u === 'NetworkManager') {
      stderr += 'lvsim: NetworkManager is not modelled; use ifcfg files with systemctl restart network, or ip commands\n';
      exit = 1; errorAt ??= { word: at, expected: 'network, systemd-sysctl or ipvsadm' };
      continue;
    }
    if (u === null || !unitExists(u, ctx)) {
      if (verb === 'status') { stderr += `Unit ${unitName} could not be found.\n`; exit = 4; }
      else if (verb === 'is-active') { stdout += 'inactive\n'; exit = 3; }
      else { stderr += `Failed to ${action} ${unitName}: Unit ${unitName} not found.\n`; exit = 5; }
      errorAt ??= { word: at, expected: u === 'network' ? 'ifcfg files under /etc/sysconfig/network-scripts/ (declare them in the scenario)' : 'network, systemd-sysctl or ipvsadm' };
      continue;
    }
    if (verb === 'enable' || verb === 'disable') continue;
    if (verb === 'is-active' || verb === 'is-enabled') { stdout += verb === 'is-active' ? 'active\n' : 'enabled\n'; continue; }
    if (verb === 'status') { stdout += `● ${unitName}\n     Loaded: loaded\n     Active: active (exited)\n`; continue; }
    const r = runUnit(u, action, ctx);
    stderr += r.stderr;
    if (r.fileErrors) fileErrors.push(...r.fileErrors);
    if (r.failed) {
      stderr += jobFailed(unitName);
      exit = 1;
      errorAt ??= { word: at, expected: `${unitName} configuration that applies cleanly (see the messages above)` };
    }
  }
  const files = fileErrors.length ? { fileErrors } : {};
  return errorAt ? { exit, stdout, stderr, errorAt, ...files } : { exit, stdout, stderr, ...files };
};

/** A daemon's unit (config/units.ts): start, stop, restart, status as systemd runs them. */
function runDaemonUnit(d: import('./units').DaemonUnit, verb: string, unitName: string, ctx: ToolContext): { exit: number; stdout: string; stderr: string; fileErrors?: readonly FileError[] } {
  const active = d.active(ctx);
  switch (verb) {
    case 'enable': case 'disable': return { exit: 0, stdout: '', stderr: '' };
    case 'is-enabled': return { exit: 0, stdout: 'enabled\n', stderr: '' };
    case 'is-active': return active ? { exit: 0, stdout: 'active\n', stderr: '' } : { exit: 3, stdout: 'inactive\n', stderr: '' };
    case 'status':
      return { exit: active ? 0 : 3, stdout: `● ${unitName}\n     Loaded: loaded (/lib/systemd/system/${unitName}; enabled)\n     Active: ${active ? 'active (running)' : 'inactive (dead)'}\n${d.status(ctx)}`, stderr: '' };
    case 'stop': d.stop(ctx); return { exit: 0, stdout: '', stderr: '' };
    case 'start': case 'restart': case 'try-restart': case 'condrestart': case 'reload': case 'reload-or-restart': case 'force-reload': {
      if (verb === 'start' && active) return { exit: 0, stdout: '', stderr: '' };
      if ((verb === 'try-restart' || verb === 'condrestart') && !active) return { exit: 0, stdout: '', stderr: '' };
      if (active) d.stop(ctx);
      const r = d.start(ctx);
      const files = r.fileErrors?.length ? { fileErrors: r.fileErrors } : {};
      return r.ok ? { exit: 0, stdout: '', stderr: r.stderr, ...files } : { exit: 1, stdout: '', stderr: r.stderr + jobFailed(unitName), ...files };
    }
    default: return { exit: 1, stdout: '', stderr: `Unknown command verb ${verb}.\n` };
  }
}

/** SysV `service NAME VERB` (on systemd hosts it redirects to systemctl). */
export const service: Tool = (argv, ctx) => {
  const name = argv[1]?.text;
  const verb = argv[2]?.text;
  if (name === undefined || verb === undefined) {
    return { exit: 1, stdout: '', stderr: 'Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n', errorAt: { word: argv.length - 1, expected: 'service network restart' } };
  }
  const r = systemctl([argv[0], argv[2], argv[1], ...argv.slice(3)], ctx);
  const shift = (e: ToolResult['errorAt']) => (e ? { word: e.word === 1 ? 2 : e.word === 2 ? 1 : e.word, expected: e.expected } : undefined);
  const u = unitOf(name);
  const msg = u === 'network' && r.exit === 0 && verb === 'restart' ? 'Restarting network (via systemctl):  [  OK  ]\n' : '';
  const errorAt = shift(r.errorAt);
  return errorAt ? { ...r, stdout: msg + r.stdout, errorAt } : { ...r, stdout: msg + r.stdout };
};
