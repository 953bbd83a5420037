/**
 * config/ip.ts: iproute2's `ip` (6.1, as on Debian 12) for the objects LVS-TUN setups use:
 * address, link, route, neigh, tunnel. Parsing follows ip/ipaddress.c, iplink.c, iproute.c,
 * ipneigh.c and iptunnel.c: keywords match by prefix (`ip a s`, `ip r`), a bare word where an
 * address is expected is the address, and the messages and exit statuses are iproute2's:
 * invarg()/duparg()/incomplete_command() exit(-1) = 255, get_prefix()/get_addr() exit(1),
 * "Cannot find device" 1, kernel refusals ("RTNETLINK answers: ...", "Error: <extack>.") 2.
 * Also the helpers the other net tools share (errno text, device lookup with autoload, the
 * trie order routes are listed in).
 * Not modelled: IPv6 (no inet6 lines), JSON output, netns, rules and tables other than main
 * and local, multipath, address lifetimes, renaming devices.
 */
import {
  type Ip4, type Mac, parseIp4, formatIp4, broadcastOf, networkOf, inPrefix, maskLength,
} from '../net/addr';
import { type Host, type NetDevice, type IfAddr, type Route, type NeighState, KernelError } from '../kernel/host';
import { ipRouteOutput, fibLookup } from '../kernel/route';
import type { Word } from './shell';
import type { FileError, Tool, ToolContext, ToolResult } from './tool';

// ---------------------------------------------------------------------------------------
// Shared by the net tools (ifconfig, route, systemctl)

/** A refusal while running a tool: the tool's exit status, its stderr, and where to point. */
export class ToolFail extends Error {
  constructor(readonly exit: number, readonly stderr: string, readonly word: number, readonly expected: string, readonly stdout = '', readonly fileErrors?: readonly FileError[]) {
    super(stderr);
  }
}

/** strerror() for the errnos the host model raises. */
export const STRERROR: Readonly<Record<KernelError['errno'] | 'ENETDOWN' | 'EOPNOTSUPP' | 'ENOBUFS' | 'EHOSTUNREACH' | 'EACCES' | 'ERANGE', string>> = {
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOENT: 'No such file or directory',
  EINVAL: 'Invalid argument',
  ENETUNREACH: 'Network is unreachable',
  ENETDOWN: 'Network is down',
  ESRCH: 'No such process',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EBUSY: 'Device or resource busy',
  EPERM: 'Operation not permitted',
  EOPNOTSUPP: 'Operation not supported',
  ENOBUFS: 'No buffer space available',
  EHOSTUNREACH: 'No route to host',
  EACCES: 'Permission denied',
  ERANGE: 'Numerical result out of range',
};

/**
 * Run a tool body, turning ToolFail into the tool's result and anything unexpected into an
 * exit-1 message: a tool never throws at its caller.
 */
export function runGuarded(name: string, body: () => string, kernelError: (e: KernelError) => ToolFail): ToolResult {
  try {
    return { exit: 0, stdout: body(), stderr: '' };
  } catch (e) {
    let f: ToolFail;
    if (e instanceof ToolFail) f = e;
    else if (e instanceof KernelError) f = kernelError(e);
    else f = new ToolFail(1, `${name}: internal error: ${e instanceof Error ? e.message : String(e)}`, 0, 'a command the model can run');
    const stderr = f.stderr === '' || f.stderr.endsWith('\n') ? f.stderr : f.stderr + '\n';
    // Exit 0 with a message is a warning: printed, but nothing to point at.
    if (f.exit === 0) return f.fileErrors?.length ? { exit: 0, stdout: f.stdout, stderr, fileErrors: f.fileErrors } : { exit: 0, stdout: f.stdout, stderr };
    const r: ToolResult = { exit: f.exit, stdout: f.stdout, stderr, errorAt: { word: f.word, expected: f.expected } };
    return f.fileErrors?.length ? { ...r, fileErrors: f.fileErrors } : r;
  }
}

/** Device lookup as SIOCGIFINDEX does it: dev_load() autoloads ipip for "tunl0". */
export function findDev(host: Host, name: string): NetDevice | null {
  if (!host.devices.has(name) && name === 'tunl0' && !host.modules.has('ipip')) {
    try { host.modprobe('ipip'); } catch { return null; }
  }
  return host.devices.get(name) ?? null;
}

/**
 * Bring a device up. The kernel gives lo 127.0.0.1/8 when it comes up without an address
 * (inetdev_event NETDEV_UP for IFF_LOOPBACK).
 */
export function linkUp(host: Host, name: string): void {
  host.setUp(name, true);
  const d = host.dev(name);
  if (d.kind === 'loopback' && d.addrs.length === 0) {
    host.addAddr(name, 0x7f000001, 8, { scope: 'host', broadcast: null, label: name });
  }
}

/** Routes in the order /proc/net/route and `ip route` list them: fib trie walk (key, then longer prefix first). */
export function trieOrder(routes: readonly Route[]): Route[] {
  return routes
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.dst - b.r.dst) || (b.r.len - a.r.len) || (a.r.metric - b.r.metric) || (a.i - b.i))
    .map(x => x.r);
}

/** Strict unsigned decimal (no sign, no leading zeros except "0", no spaces). */
export function parseUint(s: string, max = 0xffffffff): number | null {
  if (!/^(0|[1-9]\d{0,9})$/.test(s)) return null;
  const n = Number(s);
  return n <= max ? n : null;
}

/** "a.b.c.d" or "a.b.c.d/len" (len 0..32). */
export function parsePrefix(s: string): { addr: Ip4; len: number; explicitLen: boolean } | null {
  const slash = s.indexOf('/');
  const a = parseIp4(slash < 0 ? s : s.slice(0, slash));
  if (a === null) return null;
  if (slash < 0) return { addr: a, len: 32, explicitLen: false };
  const lenText = s.slice(slash + 1);
  let len = parseUint(lenText, 32);
  if (len === null) {
    // iproute2 also takes a dotted netmask after the slash (get_netmask).
    const m = parseIp4(lenText);
    len = m === null ? null : maskLength(m);
  }
  if (len === null) return null;
  return { addr: a, len, explicitLen: true };
}

/** IFNAMSIZ (include/uapi/linux/if.h): a name and its NUL fit in 16 bytes. */
const IFNAMSIZ = 16;

/**
 * iproute2's check_ifname (lib/utils.c), mirroring the kernel's dev_valid_name: at most 15
 * bytes (UTF-8, as the kernel counts them), not empty, no '/' and no whitespace. The kernel
 * also refuses ':' (alias labels), which lvsim refuses here with the same message.
 */
export function validIfname(name: string): boolean {
  return name !== '' && new TextEncoder().encode(name).length < IFNAMSIZ && !/[\s/:]/.test(name);
}

/**
 * A unicast, non-zero Ethernet address, as is_valid_ether_addr (include/linux/etherdevice.h)
 * requires of a device address: the group bit (which broadcast also has) and all-zero are refused.
 */
export function validEtherAddr(mac: Mac): boolean {
  return mac !== '00:00:00:00:00:00' && (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

export function parseMac(s: string): Mac | null {
  if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/.test(s)) return null;
  return s.split(':').map(x => x.toLowerCase().padStart(2, '0')).join(':');
}

/** Did-you-mean: the candidate within edit distance 2 (or a transposition), if any. */
export function nearest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** iproute2's matches(): `w` is a non-empty prefix of `full`. */
export function matches(w: string, full: string): boolean {
  return w.length > 0 && full.startsWith(w);
}

/** The verbs `ip address` and `ip neigh` both take, in iproute2's order of matches(). */
type ListVerb = 'add' | 'change' | 'replace' | 'del' | 'list' | 'flush';
function listVerb(w: string): ListVerb | null {
  if (matches(w, 'add')) return 'add';
  if (matches(w, 'change') || w === 'chg') return 'change';
  if (matches(w, 'replace')) return 'replace';
  if (matches(w, 'delete')) return 'del';
  if (matches(w, 'list') || matches(w, 'show') || matches(w, 'lst')) return 'list';
  if (matches(w, 'flush')) return 'flush';
  return null;
}

// ---------------------------------------------------------------------------------------
// Formatting shared with ifconfig

/** IFF_* bits. */
export const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, POINTOPOINT: 0x10, RUNNING: 0x40, NOARP: 0x80, MULTICAST: 0x1000, LOWER_UP: 0x10000 } as const;

export function devFlags(host: Host, d: NetDevice): number {
  let f = 0;
  if (d.up) f |= IFF.UP;
  if (d.kind === 'loopback') f |= IFF.LOOPBACK;
  if (d.kind === 'ether') f |= IFF.BROADCAST | IFF.MULTICAST;
  if (d.noarp && d.kind !== 'loopback') f |= IFF.NOARP;
  if (host.isRunning(d)) f |= IFF.RUNNING | IFF.LOWER_UP;
  return f;
}

/** Addresses in the kernel's ifa_list order: primaries, then secondaries. */
export function orderedAddrs(d: NetDevice): IfAddr[] {
  return [...d.addrs.filter(a => !a.secondary), ...d.addrs.filter(a => a.secondary)];
}

// ---------------------------------------------------------------------------------------
// ip

interface IpOpts {
  family: 'any' | 'inet' | 'inet6' | 'link';
  stats: number;
  details: boolean;
  brief: boolean;
  oneline: boolean;
}

const OBJECTS = ['address', 'addrlabel', 'maddress', 'route', 'rule', 'neighbor', 'neighbour', 'ntable', 'ntbl', 'link', 'l2tp', 'fou', 'ila',
  'macsec', 'tunnel', 'tunl', 'tuntap', 'tap', 'token', 'tcpmetrics', 'tcp_metrics', 'monitor', 'xfrm', 'mroute', 'mrule', 'netns', 'netconf',
  'vrf', 'sr', 'nexthop', 'mptcp', 'ioam', 'stats', 'help'] as const;

/** The `ip` tool. */
export const ip: Tool = (argv, ctx) => runGuarded('ip', () => new IpRun(argv, ctx).run(), e => kernelFail(e, 0));

/** A kernel refusal as `ip` prints it: extack messages as "Error: ...", others as RTNETLINK answers. */
export function kernelFail(e: KernelError, word: number): ToolFail {
  const m = e.message;
  if (m === 'Nexthop has invalid gateway') return new ToolFail(2, 'Error: Nexthop has invalid gateway.', word, 'a gateway on a connected subnet');
  if (e.errno === 'ENETUNREACH' && m === 'Network is unreachable') return new ToolFail(2, 'Error: Nexthop device is not up.', word, 'a device that is up (ip link set DEV up)');
  return new ToolFail(2, `RTNETLINK answers: ${STRERROR[e.errno]}`, word, 'a change the kernel accepts');
}

class IpRun {
  private i = 1;
  private opts: IpOpts = { family: 'any', stats: 0, details: false, brief: false, oneline: false };
  private readonly host: Host;

  constructor(private readonly argv: readonly Word[], private readonly ctx: ToolContext) {
    this.host = ctx.host;
  }

  // --- argument cursor -----------------------------------------------------------------

  private get word(): string | undefined { return this.argv[this.i]?.text; }
  private more(): boolean { return this.i < this.argv.length; }

  /** NEXT_ARG(): the value after a keyword, or incomplete_command(). */
  private nextArg(what: string): string {
    this.i++;
    if (this.i >= this.argv.length) throw new ToolFail(255, 'Command line is not complete. Try option "help"', this.argv.length - 1, what);
    return this.argv[this.i].text;
  }

  private invarg(msg: string, expected: string): never {
    throw new ToolFail(255, `Error: argument "${this.word}" is wrong: ${msg}`, this.i, expected);
  }

  private duparg2(key: string, expected: string): never {
    throw new ToolFail(255, `Error: either "${key}" is duplicate, or "${this.word}" is a garbage.`, this.i, expected);
  }

  private nodev(name: string, at: number): never {
    throw new ToolFail(1, `Cannot find device "${name}"`, at, 'the name of an existing device');
  }

  private dev(name: string, at: number): NetDevice {
    return findDev(this.host, name) ?? this.nodev(name, at);
  }

  private familyName(): string {
    return this.opts.family === 'inet' ? 'inet' : this.opts.family === 'inet6' ? 'inet6' : 'any valid';
  }

  private prefixArg(familyKnown: boolean): { addr: Ip4; len: number; explicitLen: boolean } {
    const w = this.word ?? '';
    const p = w === 'default' || w === 'all' || w === 'any' ? { addr: 0, len: 0, explicitLen: true } : parsePrefix(w);
    if (!p) {
      const fam = familyKnown && this.opts.family === 'any' ? 'inet' : this.familyName();
      throw new ToolFail(1, `Error: ${fam} prefix is expected rather than "${w}".`, this.i, 'an IPv4 prefix such as 10.0.0.1/24');
    }
    return p;
  }

  private addrArg(familyKnown: boolean): Ip4 {
    const w = this.word ?? '';
    const a = parseIp4(w);
    if (a === null) {
      const fam = familyKnown && this.opts.family === 'any' ? 'inet' : this.familyName();
      throw new ToolFail(1, `Error: ${fam} address is expected rather than "${w}".`, this.i, 'an IPv4 address such as 10.0.0.1');
    }
    return a;
  }

  private u32Arg(key: string, max = 0xffffffff): number {
    const n = parseUint(this.word ?? '', max);
    if (n === null) this.invarg(`"${key}" value is invalid\n`.trimEnd(), `a number for ${key}`);
    return n;
  }

  // --- top level -----------------------------------------------------------------------

  run(): string {
    while (this.more() && this.word!.startsWith('-') && this.word !== '-') {
      const w = this.word!;
      const o = w.startsWith('--') ? w.slice(1) : w;
      if (o === '-4') this.opts.family = 'inet';
      else if (o === '-6') this.opts.family = 'inet6';
      else if (o === '-0') this.opts.family = 'link';
      else if (matches(o, '-family') && o.length > 2) {
        const f = this.nextArg('a family (inet, inet6, link)');
        if (f === 'inet' || f === 'inet6' || f === 'link') this.opts.family = f;
        else this.invarg('invalid protocol family', 'inet, inet6 or link');
      } else if (o === '-f') {
        const f = this.nextArg('a family (inet, inet6, link)');
        if (f === 'inet' || f === 'inet6' || f === 'link') this.opts.family = f;
        else this.invarg('invalid protocol family', 'inet, inet6 or link');
      } else if (matches(o, '-stats') || matches(o, '-statistics')) this.opts.stats++;
      else if (matches(o, '-details')) this.opts.details = true;
      else if (o === '-br' || matches(o, '-brief') && o.length > 2) this.opts.brief = true;
      else if (matches(o, '-oneline')) this.opts.oneline = true;
      else if (matches(o, '-color') || o.startsWith('-color=') || o === '-c') { /* no colours in a simulator */ }
      else if (matches(o, '-human') || matches(o, '-iec') || matches(o, '-resolve') || matches(o, '-timestamp')) { /* accepted, no effect */ }
      else if (matches(o, '-Version') && o !== '-') return 'ip utility, iproute2-6.1.0, libbpf 1.1.0\n';
      else if (matches(o, '-json') || o === '-j' || matches(o, '-pretty')) throw new ToolFail(1, 'lvsim: ip -json is not modelled', this.i, 'plain text output (drop -j)');
      else if (matches(o, '-netns') || o === '-n' || matches(o, '-batch') || o === '-b') throw new ToolFail(1, `lvsim: ip ${w} is not modelled (each host is one network namespace)`, this.i, 'an ip command without -n/-b');
      else throw new ToolFail(255, `Option "${w}" is unknown, try "ip -help".`, this.i, 'an option such as -4, -s, -d, -br');
      this.i++;
    }
    if (!this.more()) throw new ToolFail(255, IP_USAGE, this.i - 1, 'an object: address, link, route, neigh, tunnel');
    const w = this.word!;
    const obj = OBJECTS.find(o => matches(w, o));
    this.i++;
    switch (obj) {
      case 'address': return this.doAddr();
      case 'link': return this.doLink();
      case 'route': return this.doRoute();
      case 'neighbor': case 'neighbour': return this.doNeigh();
      case 'tunnel': case 'tunl': return this.doTunnel();
      case 'help': throw new ToolFail(255, IP_USAGE, this.i - 1, 'an object');
      case undefined:
        throw new ToolFail(255, `Object "${w}" is unknown, try "ip help".`, this.i - 1, 'an object: address, link, route, neigh, tunnel');
      default:
        throw new ToolFail(1, `lvsim: "ip ${obj}" is not modelled`, this.i - 1, 'one of: address, link, route, neigh, tunnel');
    }
  }

  // --- ip address ----------------------------------------------------------------------

  private doAddr(): string {
    if (!this.more()) return this.addrList(false);
    const w = this.word!;
    const v = listVerb(w);
    if (v === 'list' || v === 'flush') { this.i++; return this.addrList(v === 'flush'); }
    if (v !== null) return this.addrModify(v);
    if (matches(w, 'help')) throw new ToolFail(255, 'Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ] [ CONFFLAG-LIST ]\n       ip address del IFADDR dev IFNAME [mngtmpaddr]\n       ip address {save|flush} [ dev IFNAME ] [ scope SCOPE-ID ] [ label LABEL ]\n       ip address [ show [ dev IFNAME ] [ up ] ]', this.i, 'a command');
    throw new ToolFail(255, `Command "${w}" is unknown, try "ip addr help".`, this.i, 'add, del, change, replace, show, flush');
  }

  private addrModify(cmd: 'add' | 'change' | 'replace' | 'del'): string {
    this.i++;
    let local: { addr: Ip4; len: number; explicitLen: boolean } | null = null;
    let localAt = -1;
    let devName: string | null = null;
    let devAt = -1;
    let label: string | null = null;
    let labelAt = -1;
    let brd: Ip4 | '+' | '-' | null = null;
    let scope: IfAddr['scope'] | null = null;
    while (this.more()) {
      const w = this.word!;
      if (w === 'peer' || w === 'remote') {
        this.nextArg('a peer address');
        throw new ToolFail(1, 'lvsim: point-to-point peers are not modelled', this.i - 1, 'an address without peer');
      } else if (matches(w, 'broadcast') || w === 'brd') {
        const v = this.nextArg('a broadcast address, + or -');
        if (brd !== null) this.duparg2('broadcast', 'one broadcast');
        if (v === '+' || v === '-') brd = v;
        else brd = this.addrArg(true);
      } else if (matches(w, 'anycast')) {
        this.nextArg('an address');
        throw new ToolFail(1, 'lvsim: anycast addresses are not modelled', this.i, 'an address without anycast');
      } else if (matches(w, 'scope')) {
        const v = this.nextArg('a scope: global, link or host');
        if (v === 'global' || v === 'universe' || v === '0') scope = 'global';
        else if (v === 'link' || v === '253') scope = 'link';
        else if (v === 'host' || v === '254') scope = 'host';
        else this.invarg('invalid scope value.', 'global, link or host');
      } else if (w === 'dev') {
        devName = this.nextArg('a device name');
        devAt = this.i;
      } else if (matches(w, 'label')) {
        label = this.nextArg('a label such as eth0:1');
        labelAt = this.i;
      } else if (matches(w, 'valid_lft') || matches(w, 'preferred_lft')) {
        const v = this.nextArg('a lifetime');
        if (v !== 'forever') throw new ToolFail(1, 'lvsim: address lifetimes are not modelled', this.i, 'forever');
      } else if (w === 'noprefixroute' || w === 'home' || w === 'nodad' || w === 'optimistic' || w === 'mngtmpaddr' || w === 'autojoin' || w === 'noautojoin') {
        if (w === 'noprefixroute') throw new ToolFail(1, 'lvsim: noprefixroute is not modelled', this.i, 'an address without noprefixroute');
      } else if (matches(w, 'metric') || matches(w, 'priority') || w === 'protocol' || w === 'proto') {
        this.nextArg('a value');
        throw new ToolFail(1, `lvsim: ip address ${w} is not modelled`, this.i - 1, 'an address without it');
      } else {
        if (w === 'local') this.nextArg('an address');
        if (local) this.duparg2('local', 'one address');
        local = this.prefixArg(false);
        localAt = this.i;
        if (this.opts.family === 'inet6') throw new ToolFail(1, 'lvsim: IPv6 is not modelled', this.i, 'an IPv4 address');
      }
      this.i++;
    }
    if (devName === null) throw new ToolFail(1, 'Not enough information: "dev" argument is required.', this.argv.length - 1, 'dev DEVICE');
    if (label !== null && label !== devName && !label.startsWith(devName + ':')) {
      throw new ToolFail(1, `"label" (${label}) must match "dev" (${devName}) or be prefixed by "dev" with a colon.`, labelAt, `a label ${devName} or ${devName}:N`);
    }
    if (!local) {
      if (cmd === 'del') throw new ToolFail(255, 'lvsim: ip addr del without an address would delete the first one; name the address', this.argv.length - 1, 'ADDRESS/LEN');
      throw new ToolFail(2, 'RTNETLINK answers: Invalid argument', 0, 'an address to add');
    }
    const d = this.dev(devName, devAt);
    if (local.addr === 0 && cmd !== 'del') {
      throw new ToolFail(1, 'lvsim: 0.0.0.0 (the unspecified address) as an interface address is not modelled', localAt, 'a unicast address such as 172.16.29.6/32');
    }
    if (cmd === 'del') {
      let warn = '';
      if (!local.explicitLen) {
        warn = `Warning: Executing wildcard deletion to stay compatible with old scripts.\n         Explicitly specify the prefix length (${formatIp4(local.addr)}/32) to avoid this warning.\n         This special behaviour is likely to disappear in further releases,\n         fix your scripts!\n`;
      }
      try {
        this.host.delAddr(d.name, local.addr, local.explicitLen ? local.len : null);
      } catch (e) {
        if (e instanceof KernelError) throw new ToolFail(2, warn + `RTNETLINK answers: ${STRERROR[e.errno]}`, localAt, 'an address configured on the device');
        throw e;
      }
      if (warn) throw new ToolFail(0, warn, localAt, 'ADDRESS/LEN');
      return '';
    }
    let bcast: Ip4 | null = null;
    if (brd === '+') bcast = local.len <= 30 ? broadcastOf(local.addr, local.len) : null;
    else if (brd === '-') bcast = local.len <= 30 ? networkOf(local.addr, local.len) : null;
    else if (brd !== null) bcast = brd;
    const sc = scope ?? (local.addr >>> 24 === 127 ? 'host' : 'global');
    const existing = this.host.findAddr(d, local.addr, local.len);
    if (existing) {
      if (cmd === 'add') throw new ToolFail(2, 'RTNETLINK answers: File exists', localAt, 'an address not yet on the device');
      this.host.delAddr(d.name, local.addr, local.len);
    } else if (cmd === 'change') {
      throw new ToolFail(2, 'RTNETLINK answers: No such file or directory', localAt, 'an address configured on the device');
    }
    this.host.addAddr(d.name, local.addr, local.len, { broadcast: bcast, scope: sc, label: label ?? d.name });
    return '';
  }

  private addrList(flush: boolean): string {
    let devName: string | null = null;
    let devAt = -1;
    let upOnly = false;
    let labelPat: string | null = null;
    let scopeF: string | null = null;
    let toF: { addr: Ip4; len: number } | null = null;
    const any = this.more();
    while (this.more()) {
      const w = this.word!;
      if (w === 'up') upOnly = true;
      else if (matches(w, 'label')) labelPat = this.nextArg('a label pattern');
      else if (matches(w, 'scope')) scopeF = this.nextArg('a scope');
      else if (w === 'to') { this.nextArg('a prefix'); toF = this.prefixArg(false); }
      else if (w === 'primary' || w === 'secondary' || w === 'permanent' || w === 'dynamic') { /* filters accepted */ }
      else if (w === 'type' || w === 'master' || w === 'vrf') { this.nextArg('a value'); }
      else {
        if (w === 'dev') this.nextArg('a device name');
        if (devName !== null) this.duparg2('dev', 'one device');
        devName = this.word!;
        devAt = this.i;
      }
      this.i++;
    }
    if (flush && !any) throw new ToolFail(255, 'Flush requires arguments.', this.i - 1, 'dev DEVICE');
    let devs = [...this.host.devices.values()];
    if (devName !== null) {
      const d = findDev(this.host, devName);
      if (!d) throw new ToolFail(1, `Device "${devName}" does not exist.`, devAt, 'the name of an existing device');
      devs = [d];
    }
    if (upOnly) devs = devs.filter(d => d.up);
    const addrOk = (a: IfAddr): boolean =>
      (labelPat === null || globMatch(labelPat, a.label))
      && (scopeF === null || scopeF === 'all' || scopeF === a.scope || (scopeF === 'universe' && a.scope === 'global'))
      && (toF === null || inPrefix(a.addr, toF.addr, toF.len));
    if (flush) {
      for (const d of devs) {
        for (const a of orderedAddrs(d).reverse()) {
          if (!addrOk(a)) continue;
          if (d.addrs.includes(a)) this.host.delAddr(d.name, a.addr, a.prefixLen);
        }
      }
      return '';
    }
    if (this.opts.family === 'inet6') return '';
    const filtering = labelPat !== null || scopeF !== null || toF !== null || this.opts.family === 'inet';
    let out = '';
    for (const d of devs) {
      const addrs = orderedAddrs(d).filter(addrOk);
      if (filtering && addrs.length === 0) continue;
      if (this.opts.brief) {
        out += briefLine(this.host, d, addrs.map(a => `${formatIp4(a.addr)}/${a.prefixLen}`));
        continue;
      }
      out += linkHeader(this.host, d, false);
      if (this.opts.family !== 'inet') out += linkLine(d, this.opts.details);
      for (const a of addrs) out += addrLines(a);
    }
    return this.opts.oneline ? oneline(out) : out;
  }

  // --- ip link -------------------------------------------------------------------------

  private doLink(): string {
    if (!this.more()) return this.linkList();
    const w = this.word!;
    if (matches(w, 'add')) return this.linkAdd();
    if (matches(w, 'set') || matches(w, 'change')) return this.linkSet();
    if (matches(w, 'delete')) return this.linkDel();
    if (matches(w, 'show') || matches(w, 'lst') || matches(w, 'list')) { this.i++; return this.linkList(); }
    if (matches(w, 'help')) throw new ToolFail(255, 'Usage: ip link add [link DEV] [ name ] NAME type TYPE\n       ip link delete DEVICE\n       ip link set { DEVICE | dev DEVICE } [ { up | down } ] [ mtu MTU ] [ address LLADDR ]\n       ip link show [ DEVICE ]', this.i, 'a command');
    throw new ToolFail(255, `Command "${w}" is unknown, try "ip link help".`, this.i, 'add, set, delete, show');
  }

  private linkSet(): string {
    this.i++;
    let devName: string | null = null;
    let devAt = -1;
    const actions: Array<() => void> = [];
    while (this.more()) {
      const w = this.word!;
      const at = this.i;
      if (w === 'up' || w === 'down') {
        const up = w === 'up';
        actions.push(() => (up ? linkUp(this.host, devName!) : this.host.setUp(devName!, false)));
      } else if (w === 'mtu') {
        this.nextArg('an MTU');
        const mtu = this.u32Arg('mtu');
        actions.push(() => {
          try { this.host.setMtu(devName!, mtu); } catch (e) {
            if (e instanceof KernelError && e.errno === 'EINVAL') {
              throw new ToolFail(2, mtu < 68 ? 'Error: mtu less than device minimum.' : 'Error: mtu greater than device maximum.', at + 1, 'an MTU between 68 and 65535');
            }
            throw e;
          }
        });
      } else if (w === 'address' || w === 'addr' || w === 'lladdr') {
        const v = this.nextArg('a MAC address');
        const mac = parseMac(v);
        if (!mac) throw new ToolFail(1, `"${v}" is invalid lladdr.`, this.i, 'a MAC address such as 02:00:00:00:00:01');
        actions.push(() => {
          const d = this.host.dev(devName!);
          if (d.kind !== 'ether') throw new ToolFail(2, 'RTNETLINK answers: Operation not supported', at, 'an Ethernet device');
          // eth_prepare_mac_addr_change (net/ethernet/eth.c): -EADDRNOTAVAIL unless is_valid_ether_addr.
          if (!validEtherAddr(mac)) throw new ToolFail(2, 'RTNETLINK answers: Cannot assign requested address', at + 1, 'a unicast MAC address that is not all zeros, such as 02:00:00:00:00:01');
          this.host.setMac(d, mac);
        });
      } else if (w === 'name') {
        this.nextArg('a new name');
        throw new ToolFail(1, 'lvsim: renaming devices is not modelled', this.i, 'a set without name');
      } else if (w === 'arp' || w === 'multicast' || w === 'allmulticast' || w === 'promisc' || w === 'dynamic' || w === 'carrier') {
        const v = this.nextArg('on or off');
        if (v !== 'on' && v !== 'off') throw new ToolFail(255, `Error: argument of "${w}" must be "on" or "off", not "${v}"`, this.i, 'on or off');
        if (w === 'arp') throw new ToolFail(1, 'lvsim: changing IFF_NOARP is not modelled (lo and tunl0 never ARP; ethernet devices always do)', at, 'a set without arp');
      } else if (w === 'txqueuelen' || w === 'qlen' || w === 'txqlen') {
        this.nextArg('a queue length');
        this.u32Arg('txqueuelen');
      } else {
        if (w === 'dev') this.nextArg('a device name');
        if (devName !== null) {
          throw new ToolFail(255, `Error: either "dev" is duplicate, or "${this.word}" is a garbage.`, this.i, 'up, down, mtu N, address MAC');
        }
        devName = this.word!;
        devAt = this.i;
      }
      this.i++;
    }
    if (devName === null) throw new ToolFail(255, 'Not enough information: "dev" argument is required.', this.argv.length - 1, 'a device name');
    this.dev(devName, devAt);
    for (const a of actions) a();
    return '';
  }

  private linkAdd(): string {
    this.i++;
    let name: string | null = null;
    let nameAt = -1;
    let type: string | null = null;
    let typeAt = -1;
    let local = 0;
    let remote = 0;
    let ttl = 0;
    let mtu: number | null = null;
    while (this.more()) {
      const w = this.word!;
      if (w === 'type') {
        type = this.nextArg('a link type (dummy, ipip)');
        typeAt = this.i;
      } else if (type !== null) {
        if (w === 'local') { this.nextArg('an address'); local = w === 'local' && this.word === 'any' ? 0 : this.addrArg(true); }
        else if (w === 'remote') { this.nextArg('an address'); remote = this.word === 'any' ? 0 : this.addrArg(true); }
        else if (w === 'ttl' || w === 'hoplimit' || w === 'hlim') {
          const v = this.nextArg('a TTL');
          if (v === 'inherit') ttl = 0;
          else { const n = parseUint(v, 255); if (n === null) this.invarg('invalid TTL', 'a TTL 1..255 or inherit'); ttl = n; }
        } else if (w === 'nopmtudisc' || w === 'pmtudisc') { /* accepted */ }
        else throw new ToolFail(255, `Garbage instead of arguments "${w} ...". Try "ip link help".`, this.i, `an option of type ${type}`);
      } else if (w === 'mtu') {
        this.nextArg('an MTU');
        mtu = this.u32Arg('mtu');
      } else if (w === 'address' || w === 'txqueuelen' || w === 'numtxqueues' || w === 'numrxqueues') {
        this.nextArg('a value');
      } else {
        if (w === 'name' || w === 'dev') this.nextArg('a device name');
        if (name !== null) this.duparg2('name', 'one name');
        name = this.word!;
        nameAt = this.i;
        if (!validIfname(name)) this.invarg('"name" not a valid ifname', 'an interface name of at most 15 bytes, without /, : or spaces');
      }
      this.i++;
    }
    if (type === null) throw new ToolFail(2, 'Not enough information: "type" argument is required', this.argv.length - 1, 'type dummy or type ipip');
    // No name: rtnl_newlink (net/core/rtnetlink.c) asks for "<kind>%d", the first free number.
    if (name === null && (type === 'dummy' || type === 'ipip')) {
      let n = 0;
      while (this.host.devices.has(`${type}${n}`)) n++;
      name = `${type}${n}`;
    }
    if (name === null) throw new ToolFail(2, 'RTNETLINK answers: Invalid argument', 0, 'a device name');
    if (this.host.devices.has(name)) throw new ToolFail(2, 'RTNETLINK answers: File exists', nameAt, 'a name not in use');
    if (type === 'dummy') {
      this.host.modprobe('dummy');
      const d = this.host.createDevice(name, 'ether');
      // A dummy has carrier as soon as it exists. Simplification: it is modelled as an unattached ethernet device.
      d.carrier = true;
    } else if (type === 'ipip') {
      this.host.modprobe('ipip');
      const clash = [...this.host.devices.values()].find(x => x.kind === 'ipip' && x.tunnel && x.tunnel.local === local && x.tunnel.remote === remote);
      if (clash) throw new ToolFail(2, 'RTNETLINK answers: File exists', nameAt, 'tunnel endpoints no other ipip device uses');
      this.host.createDevice(name, 'ipip', { mtu: 1480, tunnel: { local, remote, ttl } });
    } else if (type === 'veth' || type === 'bridge' || type === 'gre' || type === 'vlan' || type === 'macvlan' || type === 'vxlan' || type === 'sit') {
      throw new ToolFail(1, `lvsim: link type ${type} is not modelled (devices come from the scenario's segments; tunnels are ipip)`, typeAt, 'type dummy or type ipip');
    } else {
      throw new ToolFail(2, 'Error: Unknown device type.', typeAt, 'type dummy or type ipip');
    }
    if (mtu !== null) this.host.setMtu(name, mtu);
    return '';
  }

  private linkDel(): string {
    this.i++;
    let name: string | null = null;
    let at = -1;
    while (this.more()) {
      const w = this.word!;
      if (w === 'type' || w === 'group') { this.nextArg('a value'); }
      else {
        if (w === 'dev' || w === 'name') this.nextArg('a device name');
        if (name !== null) this.duparg2('dev', 'one device');
        name = this.word!;
        at = this.i;
      }
      this.i++;
    }
    if (name === null) throw new ToolFail(255, 'Not enough information: "dev" argument is required.', this.argv.length - 1, 'a device name');
    const d = this.dev(name, at);
    if (d.kind === 'loopback') throw new ToolFail(2, 'RTNETLINK answers: Operation not supported', at, 'a device other than lo');
    // ip_tunnel_dellink() ignores the fallback device: the call succeeds and tunl0 stays.
    if (d.name === 'tunl0') return '';
    this.host.deleteDevice(d.name);
    return '';
  }

  private linkList(): string {
    let devName: string | null = null;
    let devAt = -1;
    let upOnly = false;
    while (this.more()) {
      const w = this.word!;
      if (w === 'up') upOnly = true;
      else if (w === 'type' || w === 'group' || w === 'master' || w === 'vrf') this.nextArg('a value');
      else {
        if (w === 'dev') this.nextArg('a device name');
        if (devName !== null) this.duparg2('dev', 'one device');
        devName = this.word!;
        devAt = this.i;
      }
      this.i++;
    }
    let devs = [...this.host.devices.values()];
    if (devName !== null) {
      const d = findDev(this.host, devName);
      if (!d) throw new ToolFail(1, `Device "${devName}" does not exist.`, devAt, 'the name of an existing device');
      devs = [d];
    }
    if (upOnly) devs = devs.filter(d => d.up);
    let out = '';
    for (const d of devs) {
      if (this.opts.brief) {
        const f = linkFlagNames(this.host, d);
        out += `${displayName(d).padEnd(16)} ${operState(this.host, d).padEnd(14)} ${linkAddrText(d)} <${f.join(',')}> \n`;
        continue;
      }
      out += linkHeader(this.host, d, true);
      out += linkLine(d, this.opts.details);
      if (this.opts.stats) out += statsLines(d);
    }
    return this.opts.oneline ? oneline(out) : out;
  }

  // --- ip route ------------------------------------------------------------------------

  private doRoute(): string {
    if (!this.more()) return this.routeList(false);
    const w = this.word!;
    if (matches(w, 'add')) return this.routeModify('add');
    if (matches(w, 'change') || w === 'chg') return this.routeModify('change');
    if (matches(w, 'replace')) return this.routeModify('replace');
    if (matches(w, 'prepend')) return this.routeModify('add');
    if (matches(w, 'append')) return this.routeModify('add');
    if (matches(w, 'test')) return this.routeModify('add');
    if (matches(w, 'delete')) return this.routeModify('del');
    if (matches(w, 'list') || matches(w, 'show') || matches(w, 'lst')) { this.i++; return this.routeList(false); }
    if (matches(w, 'get')) return this.routeGet();
    if (matches(w, 'flush')) { this.i++; return this.routeList(true); }
    if (matches(w, 'help')) throw new ToolFail(255, 'Usage: ip route { list | flush } SELECTOR\n       ip route get ADDRESS [ from ADDRESS ] [ oif STRING ]\n       ip route { add | del | change | append | replace } ROUTE', this.i, 'a command');
    throw new ToolFail(255, `Command "${w}" is unknown, try "ip route help".`, this.i, 'add, del, change, replace, show, get, flush');
  }

  private routeModify(cmd: 'add' | 'change' | 'replace' | 'del'): string {
    this.i++;
    let type: Route['type'] | null = null;
    let dst: { addr: Ip4; len: number } | null = null;
    let dstAt = -1;
    let gw: Ip4 | null = null;
    let gwAt = -1;
    let devName: string | null = null;
    let devAt = -1;
    let src: Ip4 | null = null;
    let srcAt = -1;
    let metric: number | undefined;
    let proto: Route['proto'] = 'boot';
    let scope: Route['scope'] | null = null;
    let mtu: number | undefined;
    let familyKnown = this.opts.family === 'inet';
    const TYPES: Record<string, Route['type'] | 'other'> = {
      unicast: 'unicast', blackhole: 'blackhole', unreachable: 'unreachable', prohibit: 'prohibit',
      local: 'other', broadcast: 'other', anycast: 'other', multicast: 'other', throw: 'other', nat: 'other', xresolve: 'other',
    };
    while (this.more()) {
      const w = this.word!;
      if (w === 'src') {
        this.nextArg('a source address');
        src = this.addrArg(familyKnown);
        srcAt = this.i;
      } else if (w === 'as') {
        this.nextArg('an address');
        throw new ToolFail(1, 'lvsim: NAT routes are not modelled', this.i, 'a route without as');
      } else if (w === 'via') {
        this.nextArg('a gateway address');
        if (this.word === 'inet') this.nextArg('a gateway address');
        if (gw !== null) this.duparg2('via', 'one gateway');
        gw = this.addrArg(familyKnown);
        gwAt = this.i;
      } else if (w === 'from') {
        this.nextArg('a prefix');
        throw new ToolFail(1, 'lvsim: source-specific routes are not modelled', this.i - 1, 'a route without from');
      } else if (w === 'tos' || matches(w, 'dsfield')) {
        this.nextArg('a TOS value');
        throw new ToolFail(1, 'lvsim: TOS routes are not modelled', this.i - 1, 'a route without tos');
      } else if (w === 'expires') {
        this.nextArg('seconds');
      } else if (matches(w, 'metric') || matches(w, 'priority') || w === 'preference') {
        this.nextArg('a metric');
        if (metric !== undefined) this.duparg2('metric', 'one metric');
        metric = this.u32Arg('metric');
      } else if (w === 'scope') {
        const v = this.nextArg('a scope');
        if (v === 'global' || v === 'universe') scope = 'global';
        else if (v === 'link') scope = 'link';
        else if (v === 'host') scope = 'host';
        else this.invarg('invalid "scope" value', 'global, link or host');
      } else if (w === 'mtu') {
        this.nextArg('an MTU');
        if (this.word === 'lock') this.nextArg('an MTU');
        mtu = this.u32Arg('mtu');
      } else if (w === 'advmss' || w === 'rtt' || w === 'rttvar' || w === 'reordering' || w === 'window' || w === 'cwnd' || w === 'initcwnd'
        || w === 'initrwnd' || w === 'ssthresh' || w === 'realms' || w === 'hoplimit' || w === 'rto_min' || w === 'features' || w === 'quickack'
        || w === 'congctl' || w === 'fastopen_no_cookie' || w === 'pref') {
        this.nextArg('a value');
      } else if (w === 'onlink' || w === 'pervasive') {
        throw new ToolFail(1, `lvsim: "${w}" nexthops are not modelled`, this.i, 'a gateway on a connected subnet');
      } else if (w === 'nexthop' || w === 'nhid' || w === 'encap') {
        throw new ToolFail(1, 'lvsim: multipath and encapsulated routes are not modelled', this.i, 'one nexthop');
      } else if (matches(w, 'protocol')) {
        const v = this.nextArg('a protocol');
        if (v === 'boot' || v === '3') proto = 'boot';
        else if (v === 'static' || v === '4') proto = 'static';
        else if (v === 'kernel' || v === '2') proto = 'kernel';
        else if (v === 'dhcp' || v === '16') proto = 'dhcp';
        else this.invarg('"protocol" value is invalid', 'boot, static, kernel or dhcp');
      } else if (matches(w, 'table')) {
        const v = this.nextArg('a table');
        if (v !== 'main' && v !== '254') throw new ToolFail(1, `lvsim: only the main table can be changed (not "${v}")`, this.i, 'table main');
      } else if (matches(w, 'vrf')) {
        this.nextArg('a VRF');
        throw new ToolFail(1, 'lvsim: VRFs are not modelled', this.i, 'a route without vrf');
      } else if (w === 'dev' || w === 'oif') {
        devName = this.nextArg('a device name');
        devAt = this.i;
      } else {
        if (w === 'to') this.nextArg('a prefix');
        let v = this.word!;
        const t = TYPES[v];
        if (t !== undefined) {
          if (t === 'other') throw new ToolFail(1, `lvsim: ${v} routes are not modelled`, this.i, 'unicast, blackhole, unreachable or prohibit');
          type = t;
          this.nextArg('a prefix');
          v = this.word!;
        }
        if (dst !== null) this.duparg2('to', 'one destination');
        dst = this.prefixArg(familyKnown);
        dstAt = this.i;
        familyKnown = true;
      }
      this.i++;
    }
    if (dst === null) throw new ToolFail(255, 'Command line is not complete. Try option "help"', this.argv.length - 1, 'a destination prefix or default');
    // rtm_to_fib_config (net/ipv4/fib_frontend.c) refuses host bits below the prefix length, for add and del alike.
    if (dst.len < 32 && networkOf(dst.addr, dst.len) !== dst.addr) {
      throw new ToolFail(2, 'Error: Invalid prefix for given prefix length.', dstAt, `the network address ${formatIp4(networkOf(dst.addr, dst.len))}/${dst.len}`);
    }
    let dev: NetDevice | null = null;
    if (devName !== null) dev = this.dev(devName, devAt);
    const rtype: Route['type'] = type ?? 'unicast';
    if (cmd === 'del') {
      try {
        this.host.delRoute({ dst: dst.addr, len: dst.len, gw, dev: dev?.name ?? null, metric });
      } catch (e) {
        if (e instanceof KernelError) throw new ToolFail(2, `RTNETLINK answers: ${STRERROR[e.errno]}`, dstAt, 'a route in the main table (see ip route)');
        throw e;
      }
      return '';
    }
    if (rtype === 'unicast' && gw === null && dev === null) {
      throw new ToolFail(2, 'Error: Device for nexthop is not up.', dstAt, 'via GATEWAY or dev DEVICE');
    }
    if (src !== null && !this.host.isLocal(src)) throw new ToolFail(2, 'Error: Invalid prefsrc address.', srcAt, 'a source address configured on this host');
    const route = {
      type: rtype, dst: dst.addr, len: dst.len, gw: rtype === 'unicast' ? gw : null,
      dev: rtype === 'unicast' ? dev?.name ?? null : null, src, metric: metric ?? 0, proto,
      scope: scope ?? (rtype === 'unicast' && gw === null ? 'link' as const : 'global' as const),
      ...(mtu !== undefined ? { mtu } : {}),
    };
    if (cmd === 'change') {
      const net = networkOf(dst.addr, dst.len);
      const ex = this.host.mainRoutes().find(r => r.dst === net && r.len === dst!.len && r.metric === route.metric);
      if (!ex) throw new ToolFail(2, 'RTNETLINK answers: No such file or directory', dstAt, 'a route in the main table');
    }
    try {
      this.host.addRoute(route, cmd !== 'add');
    } catch (e) {
      if (e instanceof KernelError) {
        const f = kernelFail(e, e.message === 'Nexthop has invalid gateway' ? gwAt : dstAt);
        throw f;
      }
      throw e;
    }
    return '';
  }

  private routeList(flush: boolean): string {
    let table: 'main' | 'local' | 'all' = 'main';
    let devName: string | null = null;
    let devAt = -1;
    let protoF: string | null = null;
    let scopeF: string | null = null;
    let typeF: string | null = null;
    let root: { addr: Ip4; len: number } | null = null;
    let exact: { addr: Ip4; len: number } | null = null;
    let viaF: Ip4 | null = null;
    const any = this.more();
    while (this.more()) {
      const w = this.word!;
      if (matches(w, 'table')) {
        const v = this.nextArg('a table');
        if (v === 'main' || v === '254') table = 'main';
        else if (v === 'local' || v === '255') table = 'local';
        else if (v === 'all' || v === '0') table = 'all';
        else throw new ToolFail(1, `lvsim: only the main and local tables exist (not "${v}")`, this.i, 'main, local or all');
      } else if (w === 'cache') {
        return '';
      } else if (w === 'dev' || w === 'oif') {
        devName = this.nextArg('a device name');
        devAt = this.i;
      } else if (matches(w, 'protocol')) protoF = this.nextArg('a protocol');
      else if (w === 'scope') scopeF = this.nextArg('a scope');
      else if (w === 'type') typeF = this.nextArg('a route type');
      else if (w === 'via') { this.nextArg('an address'); viaF = this.addrArg(true); }
      else if (w === 'root') { this.nextArg('a prefix'); root = this.prefixArg(false); }
      else if (w === 'match') { this.nextArg('a prefix'); root = this.prefixArg(false); }
      else if (w === 'exact') { this.nextArg('a prefix'); exact = this.prefixArg(false); }
      else if (w === 'src' || w === 'from' || w === 'tos' || w === 'iif' || w === 'vrf' || w === 'realm') { this.nextArg('a value'); }
      else {
        if (w === 'to') this.nextArg('a prefix');
        exact = this.prefixArg(false);
        if (exact.len === 0 && this.word !== 'default') { root = exact; exact = null; }
      }
      this.i++;
    }
    if (flush && !any) throw new ToolFail(255, '"ip route flush" requires arguments.', this.i - 1, 'dev DEVICE, table main, proto static ...');
    let dev: NetDevice | null = null;
    if (devName !== null) {
      dev = findDev(this.host, devName);
      if (!dev) throw new ToolFail(1, `Cannot find device "${devName}"`, devAt, 'the name of an existing device');
    }
    const pick = (r: Route): boolean =>
      (table === 'all' || r.table === table)
      && (dev === null || r.dev === dev.name)
      && (protoF === null || r.proto === protoF)
      && (scopeF === null || r.scope === scopeF || (scopeF === 'universe' && r.scope === 'global'))
      && (typeF === null || r.type === typeF)
      && (viaF === null || r.gw === viaF)
      && (root === null || (r.len >= root.len && inPrefix(r.dst, root.addr, root.len)))
      && (exact === null || (r.dst === networkOf(exact.addr, exact.len) && r.len === exact.len));
    const routes = trieOrder(this.host.routes.filter(pick));
    if (flush) {
      this.host.removeRoutes(routes);
      return '';
    }
    let out = '';
    for (const r of routes) out += formatRoute(this.host, r, table === 'all', dev !== null) + '\n';
    return out;
  }

  private routeGet(): string {
    this.i++;
    let dst: Ip4 | null = null;
    let dstAt = -1;
    let from: Ip4 | null = null;
    let oif: string | null = null;
    while (this.more()) {
      const w = this.word!;
      if (w === 'from') { this.nextArg('a source address'); from = this.addrArg(true); }
      else if (w === 'oif' || w === 'dev') { oif = this.nextArg('a device name'); this.dev(oif, this.i); }
      else if (w === 'iif') {
        this.nextArg('a device name');
        throw new ToolFail(1, 'lvsim: ip route get iif (input routing) is not modelled; the trace shows input routing decisions', this.i - 1, 'ip route get ADDRESS [from ADDRESS]');
      } else if (w === 'mark' || w === 'tos' || w === 'dsfield' || w === 'uid' || w === 'ipproto' || w === 'sport' || w === 'dport' || w === 'vrf') this.nextArg('a value');
      else if (w === 'connected' || w === 'fibmatch' || w === 'notify' || w === 'cached') { /* accepted */ }
      else {
        if (w === 'to') this.nextArg('an address');
        if (dst !== null) this.duparg2('to', 'one destination');
        const p = this.prefixArg(false);
        dst = p.addr;
        dstAt = this.i;
      }
      this.i++;
    }
    if (dst === null) throw new ToolFail(255, 'Command line is not complete. Try option "help"', this.argv.length - 1, 'an address');
    if (from !== null && !this.host.isLocal(from)) throw new ToolFail(2, 'RTNETLINK answers: Invalid argument', 0, 'a local source address');
    const r = fibLookup(this.host, dst);
    if (r && r.type !== 'unicast' && r.type !== 'local') {
      const msg = r.type === 'unreachable' ? 'No route to host' : r.type === 'prohibit' ? 'Permission denied' : 'Invalid argument';
      throw new ToolFail(2, `RTNETLINK answers: ${msg}`, dstAt, 'a destination with a route');
    }
    const o = ipRouteOutput(this.host, dst, from);
    if (!o) throw new ToolFail(2, 'RTNETLINK answers: Network is unreachable', dstAt, 'a destination with a route (add a default route)');
    if (oif !== null && o.dev.name !== oif && !o.local) {
      throw new ToolFail(2, 'RTNETLINK answers: Network is unreachable', dstAt, `a destination routed through ${oif}`);
    }
    const d = formatIp4(dst);
    if (o.local) return `local ${d} dev lo ${from !== null ? `src ${formatIp4(from)} ` : `src ${formatIp4(o.src)} `}uid 0 \n    cache <local> \n`;
    const via = o.route.gw !== null ? `via ${formatIp4(o.route.gw)} ` : '';
    // A learned path MTU is a route exception (fnhe) with its expiry, as rt_fill_info reports it.
    const pmtu = this.host.pmtuOf(dst);
    const left = pmtu !== null ? Math.max(0, Math.ceil(((this.host.pmtuExpires.get(dst) ?? 0) - this.host.engine.now) / 1e9) - 1) : 0;
    const mtu = pmtu !== null ? `expires ${left}sec mtu ${Math.min(pmtu, o.route.mtu ?? pmtu)} ` : o.route.mtu !== undefined ? `mtu ${o.route.mtu} ` : '';
    return `${d} ${from !== null ? `from ${formatIp4(from)} ` : ''}${via}dev ${o.dev.name} src ${formatIp4(o.src)} uid 0 \n    cache ${mtu}\n`;
  }

  // --- ip neigh ------------------------------------------------------------------------

  private doNeigh(): string {
    if (!this.more()) return this.neighList(false);
    const w = this.word!;
    const v = listVerb(w);
    if (v === 'list' || v === 'flush') { this.i++; return this.neighList(v === 'flush'); }
    if (v !== null) return this.neighModify(v);
    if (matches(w, 'get')) throw new ToolFail(1, 'lvsim: ip neigh get is not modelled; use ip neigh show', this.i, 'show');
    if (matches(w, 'help')) throw new ToolFail(255, 'Usage: ip neigh { add | del | change | replace } { ADDR [ lladdr LLADDR ] [ nud STATE ] dev DEV }\n       ip neigh { show | flush } [ to PREFIX ] [ dev DEV ] [ nud STATE ]', this.i, 'a command');
    throw new ToolFail(255, `Command "${w}" is unknown, try "ip neigh help".`, this.i, 'add, del, change, replace, show, flush');
  }

  private neighModify(cmd: 'add' | 'change' | 'replace' | 'del'): string {
    this.i++;
    let dst: Ip4 | null = null;
    let dstAt = -1;
    let mac: Mac | null = null;
    let state: NeighState | null = null;
    let devName: string | null = null;
    let devAt = -1;
    while (this.more()) {
      const w = this.word!;
      if (w === 'lladdr') {
        const v = this.nextArg('a MAC address');
        if (mac !== null) this.duparg2('lladdr', 'one lladdr');
        mac = parseMac(v);
        if (!mac) throw new ToolFail(255, `"${v}" is invalid lladdr.`, this.i, 'a MAC address such as 02:00:00:00:00:01');
      } else if (w === 'nud') {
        const v = this.nextArg('a state');
        const s = v.toUpperCase();
        const ok: Record<string, NeighState> = { PERMANENT: 'PERMANENT', REACHABLE: 'REACHABLE', STALE: 'STALE', NOARP: 'NOARP', DELAY: 'DELAY', PROBE: 'PROBE', FAILED: 'FAILED', INCOMPLETE: 'INCOMPLETE' };
        if (!(s in ok) || v !== v.toLowerCase()) this.invarg('nud state is bad', 'permanent, reachable, stale, noarp, delay, probe, failed, incomplete');
        state = ok[s];
      } else if (w === 'proxy' || w === 'router' || w === 'extern_learn' || w === 'use' || w === 'managed') {
        if (w === 'proxy') throw new ToolFail(1, 'lvsim: proxy neighbours are not modelled', this.i, 'a neighbour without proxy');
      } else if (w === 'dev') {
        devName = this.nextArg('a device name');
        devAt = this.i;
      } else if (w === 'protocol') {
        this.nextArg('a protocol');
      } else {
        if (w === 'to') this.nextArg('an address');
        if (dst !== null) this.duparg2('to', 'one address');
        const p = this.prefixArg(false);
        dst = p.addr;
        dstAt = this.i;
      }
      this.i++;
    }
    if (devName === null || dst === null) throw new ToolFail(255, 'Device and destination are required arguments.', this.argv.length - 1, 'ADDRESS dev DEVICE');
    const d = this.dev(devName, devAt);
    const existing = this.host.neighLookup(d.name, dst);
    if (cmd === 'del') {
      if (!existing) throw new ToolFail(2, 'RTNETLINK answers: No such file or directory', dstAt, 'a neighbour in the table');
      this.host.neighDel(d.name, dst);
      return '';
    }
    if (cmd === 'add' && existing) throw new ToolFail(2, 'RTNETLINK answers: File exists', dstAt, 'a neighbour not yet in the table (use replace)');
    if (cmd === 'change' && !existing) throw new ToolFail(2, 'RTNETLINK answers: No such file or directory', dstAt, 'a neighbour in the table');
    if (d.noarp) throw new ToolFail(2, 'RTNETLINK answers: Invalid argument', devAt, 'a device that uses ARP');
    const st = state ?? 'PERMANENT';
    if (mac === null) {
      if (st === 'PERMANENT' || st === 'REACHABLE' || st === 'STALE' || st === 'NOARP') {
        throw new ToolFail(2, 'RTNETLINK answers: Invalid argument', 0, 'lladdr MAC');
      }
      throw new ToolFail(1, 'lvsim: neighbour entries without lladdr are not modelled', 0, 'lladdr MAC');
    }
    this.host.neighSet(d.name, dst, mac, st);
    return '';
  }

  private neighList(flush: boolean): string {
    let devName: string | null = null;
    let devAt = -1;
    let nud: string | null = null;
    let to: { addr: Ip4; len: number } | null = null;
    const any = this.more();
    while (this.more()) {
      const w = this.word!;
      if (w === 'dev') { devName = this.nextArg('a device name'); devAt = this.i; }
      else if (w === 'nud') nud = this.nextArg('a state').toUpperCase();
      else if (w === 'unused' || w === 'proxy' || w === 'nomaster') { /* accepted */ }
      else if (w === 'vrf' || w === 'master') this.nextArg('a value');
      else {
        if (w === 'to') this.nextArg('a prefix');
        if (to !== null) this.duparg2('to', 'one prefix');
        to = this.prefixArg(false);
      }
      this.i++;
    }
    if (flush && !any) throw new ToolFail(255, 'Flush requires arguments.', this.i - 1, 'dev DEVICE or all');
    if (devName !== null) {
      const d = findDev(this.host, devName);
      if (!d) throw new ToolFail(1, `Cannot find device "${devName}"`, devAt, 'the name of an existing device');
    }
    const entries = [...this.host.neigh.values()].filter(n =>
      (devName === null || n.dev === devName)
      && (to === null || inPrefix(n.ip, to.addr, to.len))
      && (nud === null ? (flush ? n.state !== 'PERMANENT' && n.state !== 'NOARP' : true) : nud === 'ALL' || n.state === nud));
    if (flush) {
      for (const n of entries) this.host.neighDel(n.dev, n.ip);
      return '';
    }
    let out = '';
    for (const n of entries) {
      out += `${formatIp4(n.ip)} `;
      if (devName === null) out += `dev ${n.dev} `;
      if (n.mac !== null && n.state !== 'INCOMPLETE' && n.state !== 'FAILED') out += `lladdr ${n.mac}`;
      out += ` ${n.state}\n`;
    }
    return out;
  }

  // --- ip tunnel -----------------------------------------------------------------------

  private doTunnel(): string {
    if (!this.more()) return this.tunnelShow();
    const w = this.word!;
    if (matches(w, 'add')) return this.tunnelModify('add');
    if (matches(w, 'change') || w === 'chg') return this.tunnelModify('change');
    if (matches(w, 'delete')) return this.tunnelModify('del');
    if (matches(w, 'show') || matches(w, 'lst') || matches(w, 'list')) { this.i++; return this.tunnelShow(); }
    if (matches(w, 'help')) throw new ToolFail(255, 'Usage: ip tunnel { add | change | del | show } [ NAME ]\n        [ mode ipip ] [ remote ADDR ] [ local ADDR ] [ ttl TTL ]', this.i, 'a command');
    throw new ToolFail(255, `Command "${w}" is unknown, try "ip tunnel help".`, this.i, 'add, change, del, show');
  }

  private tunnelModify(cmd: 'add' | 'change' | 'del'): string {
    this.i++;
    let name: string | null = null;
    let nameAt = -1;
    let local: Ip4 | undefined;
    let remote: Ip4 | undefined;
    let ttl: number | undefined;
    while (this.more()) {
      const w = this.word!;
      if (w === 'mode') {
        const v = this.nextArg('a tunnel mode');
        if (v === 'ipip' || v === 'ip/ip') { /* ok */ }
        else if (v === 'gre' || v === 'sit' || v === 'isatap' || v === 'vti' || v === 'ip6ip6' || v === 'ipip6' || v === 'ip6gre' || v === 'any') {
          throw new ToolFail(1, `lvsim: tunnel mode ${v} is not modelled (LVS-TUN uses ipip)`, this.i, 'mode ipip');
        } else throw new ToolFail(255, `Error: argument "${v}" is wrong: unknown tunnel mode`, this.i, 'mode ipip');
      } else if (w === 'remote') {
        this.nextArg('an address');
        remote = this.word === 'any' ? 0 : this.addrArg(true);
      } else if (w === 'local') {
        this.nextArg('an address');
        local = this.word === 'any' ? 0 : this.addrArg(true);
      } else if (w === 'ttl' || w === 'hoplimit' || w === 'hlim') {
        const v = this.nextArg('a TTL');
        if (v === 'inherit') ttl = 0;
        else { const n = parseUint(v, 255); if (n === null) this.invarg('invalid TTL', 'a TTL 1..255 or inherit'); ttl = n; }
      } else if (w === 'dev') {
        const v = this.nextArg('a device');
        this.dev(v, this.i);
      } else if (w === 'nopmtudisc' || w === 'pmtudisc' || w === 'tos' || w === 'dsfield' || w === 'tclass') {
        if (w !== 'nopmtudisc' && w !== 'pmtudisc') this.nextArg('a value');
      } else if (w === 'key' || w === 'ikey' || w === 'okey' || w === 'seq' || w === 'csum' || w === 'encap') {
        throw new ToolFail(1, `lvsim: ${w} is a GRE/encap option; ipip tunnels have none`, this.i, 'remote, local, ttl');
      } else {
        if (w === 'name') this.nextArg('a name');
        if (name !== null) this.duparg2('name', 'one name');
        name = this.word!;
        nameAt = this.i;
        if (!validIfname(name)) this.invarg('"name" not a valid ifname', 'an interface name of at most 15 bytes, without /, : or spaces');
      }
      this.i++;
    }
    // The tunnel ioctls go through tunl0, which dev_load() brings in.
    findDev(this.host, 'tunl0');
    const what = cmd === 'add' ? 'add' : cmd === 'change' ? 'change' : 'delete';
    const basedev = cmd === 'add' ? 'tunl0' : name ?? 'tunl0';
    const ioctlFail = (err: keyof typeof STRERROR, at: number, expected: string): never => {
      throw new ToolFail(1, `${what} tunnel "${basedev}" failed: ${STRERROR[err]}`, at, expected);
    };
    if (cmd === 'add') {
      if (name === null) name = `tunl${[...this.host.devices.values()].filter(d => d.kind === 'ipip').length}`;
      if (this.host.devices.has(name)) ioctlFail('EEXIST', nameAt, 'a name not in use');
      const l = local ?? 0;
      const r = remote ?? 0;
      if (l === 0 && r === 0) ioctlFail('ENOBUFS', nameAt, 'local or remote (tunl0 is already the any/any tunnel)');
      if ([...this.host.devices.values()].some(d => d.kind === 'ipip' && d.tunnel && d.tunnel.local === l && d.tunnel.remote === r)) ioctlFail('EEXIST', nameAt, 'endpoints no other tunnel uses');
      this.host.createDevice(name, 'ipip', { mtu: 1480, tunnel: { local: l, remote: r, ttl: ttl ?? 0 } });
      return '';
    }
    if (name === null) throw new ToolFail(255, 'Command line is not complete. Try option "help"', this.argv.length - 1, 'a tunnel name');
    const d = this.host.devices.get(name);
    if (!d || d.kind !== 'ipip') ioctlFail('ENODEV', nameAt, 'an existing ipip tunnel (ip tunnel show)');
    const dev = d!;
    if (cmd === 'del') {
      if (dev.name === 'tunl0') ioctlFail('EPERM', nameAt, 'a tunnel other than the fallback tunl0 (rmmod ipip removes it)');
      this.host.deleteDevice(dev.name);
      return '';
    }
    const t = dev.tunnel ?? { local: 0, remote: 0, ttl: 0 };
    dev.tunnel = { local: local ?? t.local, remote: remote ?? t.remote, ttl: ttl ?? t.ttl };
    return '';
  }

  private tunnelShow(): string {
    let name: string | null = null;
    let at = -1;
    while (this.more()) {
      const w = this.word!;
      if (w === 'mode') this.nextArg('a mode');
      else { if (w === 'name' || w === 'dev') this.nextArg('a name'); name = this.word!; at = this.i; }
      this.i++;
    }
    if (!this.host.modules.has('ipip') && name === null) return '';
    let tunnels = [...this.host.devices.values()].filter(d => d.kind === 'ipip');
    if (name !== null) {
      findDev(this.host, name);
      tunnels = tunnels.filter(d => d.name === name);
      if (tunnels.length === 0) throw new ToolFail(1, `get tunnel "${name}" failed: ${STRERROR.ENODEV}`, at, 'an ipip tunnel (ip tunnel show)');
    }
    return tunnels.map(d => formatTunnel(d) + '\n').join('');
  }
}

// ---------------------------------------------------------------------------------------
// Output formats

const IP_USAGE = 'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { address | link | neigh | route | tunnel }\n       OPTIONS := { -4 | -s[tatistics] | -d[etails] | -br[ief] | -o[neline] }';

function displayName(d: NetDevice): string {
  return d.kind === 'ipip' ? `${d.name}@NONE` : d.name;
}

export function operState(host: Host, d: NetDevice): string {
  if (!d.up) return 'DOWN';
  if (d.kind !== 'ether') return 'UNKNOWN';
  return d.carrier ? 'UP' : 'DOWN';
}

function linkFlagNames(host: Host, d: NetDevice): string[] {
  const f: string[] = [];
  if (d.up && !host.isRunning(d)) f.push('NO-CARRIER');
  if (d.kind === 'loopback') f.push('LOOPBACK');
  if (d.kind === 'ether') f.push('BROADCAST', 'MULTICAST');
  if (d.noarp && d.kind !== 'loopback') f.push('NOARP');
  if (d.up) f.push('UP');
  if (host.isRunning(d)) f.push('LOWER_UP');
  return f;
}

function qdisc(d: NetDevice): string {
  if (!d.up) return 'noop';
  return d.kind === 'ether' ? 'fq_codel' : 'noqueue';
}

function linkHeader(host: Host, d: NetDevice, mode: boolean): string {
  return `${d.ifindex}: ${displayName(d)}: <${linkFlagNames(host, d).join(',')}> mtu ${d.mtu} qdisc ${qdisc(d)} state ${operState(host, d)}${mode ? ' mode DEFAULT' : ''} group default qlen 1000\n`;
}

function linkAddrText(d: NetDevice): string {
  if (d.kind === 'ipip') return tunnelLinkAddr(d);
  return d.mac;
}

function tunnelLinkAddr(d: NetDevice): string {
  const t = d.tunnel ?? { local: 0, remote: 0, ttl: 0 };
  return t.remote !== 0 ? `${formatIp4(t.local)} peer ${formatIp4(t.remote)}` : `${formatIp4(t.local)} brd 0.0.0.0`;
}

function linkLine(d: NetDevice, details: boolean): string {
  let s: string;
  if (d.kind === 'loopback') s = `    link/loopback ${d.mac} brd 00:00:00:00:00:00`;
  else if (d.kind === 'ipip') s = `    link/ipip ${tunnelLinkAddr(d)}`;
  else s = `    link/ether ${d.mac} brd ff:ff:ff:ff:ff:ff`;
  if (details) {
    s += d.kind === 'ipip' ? ' promiscuity 0 minmtu 0 maxmtu 0 ' : ' promiscuity 0 minmtu 0 maxmtu 0 ';
    if (d.kind === 'ipip') {
      const t = d.tunnel ?? { local: 0, remote: 0, ttl: 0 };
      const fb = d.name === 'tunl0';
      s += `\n    ipip ${fb ? 'any' : 'ipip'} remote ${t.remote ? formatIp4(t.remote) : 'any'} local ${t.local ? formatIp4(t.local) : 'any'} ttl ${t.ttl ? t.ttl : 'inherit'} ${fb ? 'nopmtudisc ' : 'pmtudisc '}`;
    } else if (d.kind === 'ether' && d.name.startsWith('dummy')) {
      s += '\n    dummy ';
    }
  }
  return s + '\n';
}

function addrLines(a: IfAddr): string {
  const brd = a.broadcast !== null ? `brd ${formatIp4(a.broadcast)} ` : '';
  const sec = a.secondary ? 'secondary ' : '';
  return `    inet ${formatIp4(a.addr)}/${a.prefixLen} ${brd}scope ${a.scope} ${sec}${a.label}\n       valid_lft forever preferred_lft forever\n`;
}

function briefLine(host: Host, d: NetDevice, addrs: string[]): string {
  return `${displayName(d).padEnd(16)} ${operState(host, d).padEnd(14)} ${addrs.map(a => a + ' ').join('')}\n`;
}

function statsLines(d: NetDevice): string {
  const s = d.stats;
  const rx = [s.rxBytes, s.rxPackets, s.rxErrors, s.rxDropped, 0, 0];
  const tx = [s.txBytes, s.txPackets, s.txErrors, s.txDropped, 0, 0];
  const cols = [10, 7, 6, 7, 7, 7];
  for (const v of [rx, tx]) v.forEach((n, k) => { cols[k] = Math.max(cols[k], String(n).length); });
  const head = (label: string, names: string[]): string =>
    `    ${label}: ${'bytes'.padStart(cols[0] - 4)} ${names.map((n, k) => n.padStart(cols[k + 1])).join(' ')} ${''.padStart(10)}\n`;
  const vals = (v: number[]): string => `    ${v.map((n, k) => String(n).padStart(cols[k]) + ' ').join('')}\n`;
  return head('RX', ['packets', 'errors', 'dropped', 'missed', 'mcast']) + vals(rx)
    + head('TX', ['packets', 'errors', 'dropped', 'carrier', 'collsns']) + vals(tx);
}

function oneline(out: string): string {
  // -o joins each record's continuation lines with a backslash.
  return out.replace(/\n(?=\s)/g, '\\');
}

/** One `ip route` line (without the newline), as iproute2's print_route writes it. */
export function formatRoute(host: Host, r: Route, showTable: boolean, hideDev = false): string {
  let s = '';
  if (r.type !== 'unicast') s += `${r.type} `;
  s += r.len === 0 ? 'default ' : r.len === 32 ? `${formatIp4(r.dst)} ` : `${formatIp4(r.dst)}/${r.len} `;
  if (showTable && r.table === 'local') s += 'table local ';
  if (r.gw !== null) s += `via ${formatIp4(r.gw)} `;
  if (r.dev !== null && !hideDev) s += `dev ${r.dev} `;
  if (r.proto !== 'boot') s += `proto ${r.proto} `;
  if (r.scope !== 'global') s += `scope ${r.scope} `;
  if (r.src !== null) s += `src ${formatIp4(r.src)} `;
  if (r.metric !== 0) s += `metric ${r.metric} `;
  if (r.dev !== null) {
    const d = host.devices.get(r.dev);
    if (d && d.kind === 'ether' && !d.carrier) s += 'linkdown ';
  }
  if (r.mtu !== undefined) s += `mtu ${r.mtu} `;
  return s;
}

function formatTunnel(d: NetDevice): string {
  const t = d.tunnel ?? { local: 0, remote: 0, ttl: 0 };
  const fb = d.name === 'tunl0';
  return `${d.name}: ${fb ? 'any' : 'ip'}/ip remote ${t.remote ? formatIp4(t.remote) : 'any'} local ${t.local ? formatIp4(t.local) : 'any'} ttl ${t.ttl ? t.ttl : 'inherit'}${fb ? ' nopmtudisc' : ''}`;
}

/** fnmatch-style pattern with * and ? (ip addr show label, nstat patterns). */
export function globMatch(pat: string, s: string): boolean {
  const re = new RegExp('^' + pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(s);
}
