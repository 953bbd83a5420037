/**
 * config/ipvsadm.ts: the ipvsadm command (ipvsadm 1.31, ipvsadm.c parse_options /
 * process_options, libipvs.c ipvs_strerror), against one host's IpvsCtl.
 *
 * Parsing follows popt as ipvsadm uses it: the first option must be a command (else "Try
 * `ipvsadm -h' ..."), short options bundle (-Ln, -Lnc), long options take `--opt value` or
 * `--opt=value`, -p takes an optional argument only when the next word does not start with
 * '-', words that are not options are collected and reported as "unexpected argument".
 * Checks run in ipvsadm's order: per option while scanning (in command-line order), then the
 * --set values, stray arguments, -b flags, the command/option table (in option-table order),
 * then the -A/-E and -a/-e rules, then the kernel.
 *
 * Deliberately stricter than ipvsadm (lvsim's parsers are strict): numbers are
 * plain decimal digits (ipvsadm's strtol also takes " 80", "+80", "-0"); addresses are dotted
 * quads (inet_aton also takes "10.1", octal and hex parts, and gethostbyname() host names,
 * which lvsim cannot resolve). Port names come from a small built-in /etc/services table.
 * Not modelled (parsed and checked, then refused with an "lvsim:" message): fwmark, SCTP and
 * IPv6 services, IPv6 real servers, --pe, GUE/GRE tunnels, --start-daemon's --mcast-group,
 * --mcast-port, --mcast-ttl and --sync-maxlen (the daemon itself is ipvs/sync.ts).
 */
import { IpvsError, type DestSpec, type IpvsCtl, type ServiceKey, type ServiceSpec, type Timeouts } from '../ipvs/ctl';
import {
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  type FwdMethod,
} from '../ipvs/types';
import { formatIp4, parseIp4, type Ip4 } from '../net/addr';
import type { Ns } from '../sim/engine';
import type { Word } from './shell';
import type { Tool, ToolContext, ToolResult } from './tool';
import { listAll, listConn, listService, listTimeout, schedFlagNames, type ListFormat } from './ipvsadm_format';
import { restore, saveRules, type RestoreOutcome } from './ipvsadm_save';
import { listDaemons, startSyncDaemon, stopSyncDaemon } from '../ipvs/sync';
import { STRERROR } from './ip';

// ---------------------------------------------------------------- constants

/** `ipvsadm -v`. */
export const IPVSADM_VERSION = 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)';

/** The kernel's scheduler modules (net/netfilter/ipvs/Kconfig); the kernel validates -s. */
export const KERNEL_SCHEDULERS: readonly string[] = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'dh', 'sh', 'lblc', 'lblcr', 'mh', 'fo', 'ovf', 'twos'];

const DEF_SCHED = 'wlc';
/** IPVS_SVC_PERSISTENT_TIMEOUT (6 * 60) and MAX_TIMEOUT (31 days). */
const DEF_PERSISTENT = 360;
const MAX_TIMEOUT = 86400 * 31;
const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;
/** IP_VS_SCHEDNAME_MAXLEN - 1 and IP_VS_PENAME_MAXLEN, IP_VS_IFNAME_MAXLEN - 1. */
const SCHEDNAME_MAX = 15;
const PENAME_MAX = 15;
const IFNAME_MAX = 15;

/** cmdnames[], in ipvsadm's CMD_* order; plus the two that exit while parsing. */
export const COMMANDS = [
  'add-service', 'edit-service', 'delete-service', 'flush', 'list', 'add-server', 'delete-server',
  'edit-server', 'set', 'start-daemon', 'stop-daemon', 'restore', 'save', 'zero',
] as const;
export type IpvsadmCommand = (typeof COMMANDS)[number] | 'help' | 'version';

/** optnames[], in ipvsadm's OPT_* bit order (the order the legality checks run in). */
export const OPTNAMES = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout',
  'daemon', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops',
  'pe', 'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info',
  'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
] as const;
export type OptName = (typeof OPTNAMES)[number];

/** commands_v_options[][]: '+' required, 'x' illegal, '1' at most one of them, ' ' optional. */
const CMD_V_OPT: Record<(typeof COMMANDS)[number], string> = {
  //              -n   -c   svc  -s   -p   -M   -r   fwd  -w   -x   -y   -mc  tot  dmn  -st  -rt  thr  -pc  srt  sid  -ex  ops  -pe  -b   grp  port ttl  size tinf type tprt nocs csum remc
  'add-service': 'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'edit-service': 'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  flush: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  list: ' 11xxxxxxxxx11       xxxxxxx xxxxx',
  'add-server': 'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  'delete-server': 'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'edit-server': 'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  set: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'start-daemon': 'xxxxxxxxxxx xxxxxxx xxxx    xxxxxx',
  'stop-daemon': 'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx',
  restore: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  save: ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  zero: 'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
};

/** tunnel_types_v_options[][] over tun-port, tun-nocsum, tun-csum, tun-remcsum. */
const TUN_TYPES = ['ipip', 'gue', 'gre'] as const;
export type TunType = (typeof TUN_TYPES)[number];
const TUN_OPTS: readonly OptName[] = ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
const TUN_V_OPT: Record<TunType, string> = { ipip: 'xxxx', gue: '+111', gre: 'x11x' };
/** IP_VS_TUNNEL_ENCAP_FLAG_*: index into tunflags[] / tun_flags_opts[]. */
const TUN_FLAG_OPTS = ['--tun-nocsum', '--tun-csum', '--tun-remcsum'] as const;

const IPPROTO = { tcp: 6, udp: 17, sctp: 132 } as const;
export type SvcProtocol = keyof typeof IPPROTO;

/** A few /etc/services entries (netbase), for `VIP:http`. Name resolution is not modelled. */
const SERVICES: Readonly<Record<string, { port: number; protos: readonly SvcProtocol[] }>> = {
  ftp: { port: 21, protos: ['tcp', 'sctp'] },
  ssh: { port: 22, protos: ['tcp', 'sctp'] },
  telnet: { port: 23, protos: ['tcp'] },
  smtp: { port: 25, protos: ['tcp'] },
  domain: { port: 53, protos: ['tcp', 'udp'] },
  http: { port: 80, protos: ['tcp', 'sctp'] },
  www: { port: 80, protos: ['tcp'] },
  pop3: { port: 110, protos: ['tcp'] },
  ntp: { port: 123, protos: ['udp'] },
  imap2: { port: 143, protos: ['tcp'] },
  imap: { port: 143, protos: ['tcp'] },
  snmp: { port: 161, protos: ['tcp', 'udp'] },
  ldap: { port: 389, protos: ['tcp'] },
  https: { port: 443, protos: ['tcp', 'udp', 'sctp'] },
  syslog: { port: 514, protos: ['udp'] },
  mysql: { port: 3306, protos: ['tcp'] },
  postgresql: { port: 5432, protos: ['tcp'] },
  'http-alt': { port: 8080, protos: ['tcp'] },
};

// ---------------------------------------------------------------- IPv6 text (inet_pton / inet_ntop)

/** An IPv6 address as eight 16-bit words. */
export type Ip6 = readonly number[];

/** inet_pton(AF_INET6): hex groups, one '::', an optional trailing dotted quad. */
export function parseIp6(s: string): Ip6 | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const side = (t: string): number[] | null => {
    if (t === '') return [];
    const parts = t.split(':');
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIp4(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  if (dbl < 0) {
    const all = side(s);
    return all && all.length === 8 ? all : null;
  }
  const head = side(s.slice(0, dbl));
  const tail = side(s.slice(dbl + 2));
  if (!head || !tail || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** inet_ntop(AF_INET6) as glibc writes it. */
export function formatIp6(w: Ip6): string {
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (cur.base === -1) cur = { base: i, len: 1 };
      else cur.len++;
    } else if (cur.base !== -1) {
      if (best.base === -1 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (cur.base !== -1 && (best.base === -1 || cur.len > best.len)) best = cur;
  if (best.base !== -1 && best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      out += formatIp4(((w[6]! << 16) | w[7]!) >>> 0);
      break;
    }
    out += w[i]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

// ---------------------------------------------------------------- parsed form

export interface ParsedService {
  readonly protocol: SvcProtocol;
  readonly af: 4 | 6;
  readonly addr: Ip4;
  readonly addr6: Ip6 | null;
  readonly port: number;
  /** Non-zero for -f. */
  readonly fwmark: number;
  /** As given (-s, at most 15 characters); '' when not given. */
  readonly scheduler: string;
  /** IP_VS_SVC_F_* (PERSISTENT, ONEPACKET, SCHED1..3). */
  readonly flags: number;
  /** Persistence timeout, seconds (with IP_VS_SVC_F_PERSISTENT). */
  readonly timeout: number;
  /** IPv4: the mask as a 32-bit number; IPv6 (-6 / [addr]): the prefix length. */
  readonly netmask: number;
  readonly pe: string;
}

export interface ParsedDest {
  readonly af: 4 | 6;
  readonly addr: Ip4;
  readonly addr6: Ip6 | null;
  /** After ipvsadm's port forcing for -g/-i. */
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
  readonly tunType: TunType;
  readonly tunPort: number;
  /** 0 nocsum, 1 csum, 2 remcsum (IP_VS_TUNNEL_ENCAP_FLAG_*). */
  readonly tunFlags: number;
}

export interface ParsedDaemon {
  readonly state: 'master' | 'backup';
  readonly mcastIfn: string;
  readonly syncid: number;
  readonly mcastGroup: string;
  readonly mcastPort: number;
  readonly mcastTtl: number;
  readonly syncMaxlen: number;
}

/** One ipvsadm invocation, parsed and checked as far as ipvsadm itself checks it. */
export interface ParsedIpvsadm {
  readonly ok: true;
  readonly cmd: IpvsadmCommand;
  /** The options given (OPT_* bits), by name. */
  readonly options: ReadonlySet<OptName>;
  readonly svc: ParsedService;
  readonly dest: ParsedDest;
  readonly format: ListFormat;
  readonly timeouts: Timeouts | null;
  readonly daemon: ParsedDaemon | null;
  /** Index of the command word in argv. */
  readonly cmdWord: number;
  /** Where each option was given: its word, and its argument's word (the same word for --opt=v, -p600). */
  readonly optWord: ReadonlyMap<OptName, { readonly word: number; readonly arg: number }>;
}

/** What ipvsadm would print and exit with before reaching the kernel. */
export interface ParseError {
  readonly ok: false;
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly errorAt: { readonly word: number; readonly expected: string };
}

// ---------------------------------------------------------------- popt

type ArgKind = 'none' | 'req' | 'opt';
interface PoptOption {
  readonly long: string;
  readonly short?: string;
  readonly arg: ArgKind;
}

/** ipvsadm's options_table[] (order matters only for `--list`, which maps to -L). */
const TABLE: readonly PoptOption[] = [
  { long: 'add-service', short: 'A', arg: 'none' },
  { long: 'edit-service', short: 'E', arg: 'none' },
  { long: 'delete-service', short: 'D', arg: 'none' },
  { long: 'clear', short: 'C', arg: 'none' },
  { long: 'list', short: 'L', arg: 'none' },
  { long: 'list', short: 'l', arg: 'none' },
  { long: 'zero', short: 'Z', arg: 'none' },
  { long: 'add-server', short: 'a', arg: 'none' },
  { long: 'edit-server', short: 'e', arg: 'none' },
  { long: 'delete-server', short: 'd', arg: 'none' },
  { long: 'set', arg: 'none' },
  { long: 'help', short: 'h', arg: 'none' },
  { long: 'version', short: 'v', arg: 'none' },
  { long: 'restore', short: 'R', arg: 'none' },
  { long: 'save', short: 'S', arg: 'none' },
  { long: 'start-daemon', arg: 'req' },
  { long: 'stop-daemon', arg: 'req' },
  { long: 'tcp-service', short: 't', arg: 'req' },
  { long: 'udp-service', short: 'u', arg: 'req' },
  { long: 'sctp-service', arg: 'req' },
  { long: 'fwmark-service', short: 'f', arg: 'req' },
  { long: 'scheduler', short: 's', arg: 'req' },
  { long: 'persistent', short: 'p', arg: 'opt' },
  { long: 'netmask', short: 'M', arg: 'req' },
  { long: 'real-server', short: 'r', arg: 'req' },
  { long: 'masquerading', short: 'm', arg: 'none' },
  { long: 'ipip', short: 'i', arg: 'none' },
  { long: 'gatewaying', short: 'g', arg: 'none' },
  { long: 'weight', short: 'w', arg: 'req' },
  { long: 'u-threshold', short: 'x', arg: 'req' },
  { long: 'l-threshold', short: 'y', arg: 'req' },
  { long: 'numeric', short: 'n', arg: 'none' },
  { long: 'connection', short: 'c', arg: 'none' },
  { long: 'mcast-interface', arg: 'req' },
  { long: 'syncid', arg: 'req' },
  { long: 'timeout', arg: 'none' },
  { long: 'daemon', arg: 'none' },
  { long: 'stats', arg: 'none' },
  { long: 'rate', arg: 'none' },
  { long: 'thresholds', arg: 'none' },
  { long: 'persistent-conn', arg: 'none' },
  { long: 'nosort', arg: 'none' },
  { long: 'sort', arg: 'none' },
  { long: 'exact', short: 'X', arg: 'none' },
  { long: 'ipv6', short: '6', arg: 'none' },
  { long: 'ops', short: 'o', arg: 'none' },
  { long: 'pe', arg: 'req' },
  { long: 'sched-flags', short: 'b', arg: 'req' },
  { long: 'mcast-group', arg: 'req' },
  { long: 'mcast-port', arg: 'req' },
  { long: 'mcast-ttl', arg: 'req' },
  { long: 'sync-maxlen', arg: 'req' },
  { long: 'tun-info', arg: 'none' },
  { long: 'tun-type', arg: 'req' },
  { long: 'tun-port', arg: 'req' },
  { long: 'tun-nocsum', arg: 'none' },
  { long: 'tun-csum', arg: 'none' },
  { long: 'tun-remcsum', arg: 'none' },
];

type PoptEvent =
  | { readonly kind: 'opt'; readonly opt: PoptOption; readonly word: number; readonly arg: string | null; readonly argWord: number; readonly last: number }
  | { readonly kind: 'error'; readonly message: string; readonly word: number; readonly bad: string }
  | { readonly kind: 'end' };

/** poptGetNextOpt() over argv[1..], collecting non-option words as leftovers. */
class Popt {
  private i = 1;
  private bundle: { word: number; pos: number } | null = null;
  private rest = false;
  readonly leftovers: number[] = [];
  constructor(private readonly argv: readonly Word[]) {}

  next(): PoptEvent {
    for (;;) {
      if (this.bundle) {
        const { word, pos } = this.bundle;
        const text = this.argv[word]!.text;
        const ch = text[pos]!;
        const opt = TABLE.find((o) => o.short === ch);
        if (!opt) {
          this.bundle = null;
          return { kind: 'error', message: 'unknown option', word, bad: text };
        }
        let tail = text.slice(pos + 1);
        if (opt.arg === 'none') {
          this.bundle = tail !== '' ? { word, pos: pos + 1 } : null;
          return { kind: 'opt', opt, word, arg: null, argWord: word, last: word };
        }
        this.bundle = null;
        if (tail !== '') {
          if (tail[0] === '=') tail = tail.slice(1);
          return { kind: 'opt', opt, word, arg: tail, argWord: word, last: word };
        }
        return this.takeNext(opt, word);
      }
      if (this.i >= this.argv.length) return { kind: 'end' };
      const w = this.i++;
      const t = this.argv[w]!.text;
      if (this.rest || t[0] !== '-' || t === '-') {
        this.leftovers.push(w);
        continue;
      }
      if (t === '--') {
        this.rest = true;
        continue;
      }
      if (t.startsWith('--')) {
        const eq = t.indexOf('=');
        const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
        const val = eq < 0 ? null : t.slice(eq + 1);
        const opt = TABLE.find((o) => o.long === name);
        if (!opt) return { kind: 'error', message: 'unknown option', word: w, bad: t };
        if (opt.arg === 'none') {
          if (val !== null) return { kind: 'error', message: 'option does not take an argument', word: w, bad: t };
          return { kind: 'opt', opt, word: w, arg: null, argWord: w, last: w };
        }
        if (val !== null) return { kind: 'opt', opt, word: w, arg: val, argWord: w, last: w };
        return this.takeNext(opt, w);
      }
      this.bundle = { word: w, pos: 1 };
    }
  }

  private takeNext(opt: PoptOption, word: number): PoptEvent {
    if (this.i >= this.argv.length) {
      if (opt.arg === 'opt') return { kind: 'opt', opt, word, arg: null, argWord: word, last: word };
      return { kind: 'error', message: 'missing argument', word, bad: this.argv[word]!.text };
    }
    const next = this.argv[this.i]!.text;
    // POPT_ARGFLAG_OPTIONAL: a following word that starts with '-' is not the argument.
    if (opt.arg === 'opt' && next.startsWith('-')) return { kind: 'opt', opt, word, arg: null, argWord: word, last: word };
    const aw = this.i++;
    return { kind: 'opt', opt, word, arg: next, argWord: aw, last: aw };
  }
}

// ---------------------------------------------------------------- value parsers

/** string_to_number(), strict: decimal digits only, within [min, max]. */
function toNumber(s: string, min: number, max: number): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n >= min && n <= max ? n : null;
}

type AddrParse =
  | { readonly ok: true; readonly af: 4 | 6; readonly addr: Ip4; readonly addr6: Ip6 | null; readonly port: number | null }
  | { readonly ok: false; readonly expected: string };

const numberHint = (s: string): string =>
  /^\s|\s$/.test(s) ? ' (no spaces)' : /^[+-]/.test(s) ? ' (digits only, no sign)' : '';

/** parse_service(): host[:port] or [ipv6]:port. A bare number is rejected (str_is_digit). */
function parseAddrPort(buf: string, protocol: SvcProtocol, what: 'virtual' | 'real'): AddrParse {
  const example = what === 'virtual' ? '172.16.29.6:9001' : '172.16.197.3:9001';
  const generic = `an address[:port] such as ${example}`;
  if (/^[0-9]*$/.test(buf)) return { ok: false, expected: `${generic} (a bare number is not an address)` };
  let host = buf;
  let portText: string | null = null;
  if (buf[0] === '[') {
    const close = buf.indexOf(']');
    if (close < 0) return { ok: false, expected: `${generic}; an IPv6 address in brackets needs its ']'` };
    if (buf[close + 1] !== ':') return { ok: false, expected: `a port after the bracketed IPv6 address, as in [2001:db8::1]:80` };
    host = buf.slice(1, close);
    portText = buf.slice(close + 2);
    const a6 = parseIp6(host);
    if (!a6) return { ok: false, expected: `an IPv6 address inside the brackets` };
    return finishPort({ af: 6, addr: 0, addr6: a6 }, portText, protocol, generic);
  }
  const a6 = parseIp6(buf);
  if (a6) return { ok: true, af: 6, addr: 0, addr6: a6, port: null };
  const colon = buf.lastIndexOf(':');
  if (colon >= 0) {
    host = buf.slice(0, colon);
    portText = buf.slice(colon + 1);
  }
  const a4 = parseIp4(host);
  if (a4 === null) {
    const hint = /^[0-9.]+$/.test(host)
      ? 'a dotted-quad IPv4 address (four decimal parts 0-255, no leading zeros)'
      : 'an IPv4 address (host names are not resolved in lvsim)';
    return { ok: false, expected: `${hint}, as in ${example}` };
  }
  return finishPort({ af: 4, addr: a4, addr6: null }, portText, protocol, generic);
}

function finishPort(
  a: { af: 4 | 6; addr: Ip4; addr6: Ip6 | null },
  portText: string | null,
  protocol: SvcProtocol,
  generic: string,
): AddrParse {
  if (portText === null) return { ok: true, ...a, port: null };
  const n = toNumber(portText, 0, 65535);
  if (n !== null) return { ok: true, ...a, port: n };
  const svc = Object.prototype.hasOwnProperty.call(SERVICES, portText) ? SERVICES[portText]! : null;
  if (svc && svc.protos.includes(protocol)) return { ok: true, ...a, port: svc.port };
  if (/^[0-9]+$/.test(portText)) return { ok: false, expected: `a port number 0-65535 after ':' (${generic})` };
  return { ok: false, expected: `a port number 0-65535 or a service name after ':'${numberHint(portText)}, as in ${generic.replace(/^an address\[:port\] such as /, '')}` };
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length]!;
}

/** Close kernel scheduler names: same name in lower case, or one edit away (two for long names). */
export function suggestScheduler(name: string): string[] {
  const lower = name.toLowerCase();
  if (lower !== name && KERNEL_SCHEDULERS.includes(lower)) return [lower];
  let best = Infinity;
  let out: string[] = [];
  for (const s of KERNEL_SCHEDULERS) {
    const dist = editDistance(lower, s);
    const limit = Math.max(lower.length, s.length) >= 4 ? 2 : 1;
    if (dist > limit || dist === 0) continue;
    if (dist < best) {
      best = dist;
      out = [s];
    } else if (dist === best) out.push(s);
  }
  return out;
}

const schedulerExpected = (name: string): string => {
  const list = `a scheduler: ${KERNEL_SCHEDULERS.join(', ')}`;
  if (KERNEL_SCHEDULERS.includes(name)) return `${list} ('${name}' is a kernel scheduler that lvsim does not implement yet)`;
  const s = suggestScheduler(name);
  return s.length ? `${list} (did you mean ${s.map((x) => `'${x}'`).join(' or ')}?)` : list;
};

// ---------------------------------------------------------------- parse

const CMD_BY_SHORT: Readonly<Record<string, IpvsadmCommand>> = {
  A: 'add-service', E: 'edit-service', D: 'delete-service', a: 'add-server', e: 'edit-server',
  d: 'delete-server', C: 'flush', L: 'list', l: 'list', Z: 'zero', R: 'restore', S: 'save',
  h: 'help', v: 'version',
};
const CMD_BY_LONG: Readonly<Record<string, IpvsadmCommand>> = {
  set: 'set', 'start-daemon': 'start-daemon', 'stop-daemon': 'stop-daemon',
};

const tryHelp = (program: string): string => `Try \`${program} -h' or '${program} --help' for more information.\n`;

const perr = (exit: number, stderr: string, word: number, expected: string): ParseError => ({
  ok: false,
  exit,
  stdout: '',
  stderr: stderr.endsWith('\n') ? stderr : stderr + '\n',
  errorAt: { word, expected },
});

/** Thrown inside the parser for ipvsadm's fail(); caught at the top. */
class Fail {
  constructor(readonly e: ParseError) {}
}
/** fail(): the message, a newline (always, even after one), exit status 2. */
const fail = (msg: string, word: number, expected: string): never => {
  throw new Fail({ ok: false, exit: 2, stdout: '', stderr: msg + '\n', errorAt: { word, expected } });
};

/** The command word that `first` describes, or null. */
function commandOf(opt: PoptOption): IpvsadmCommand | null {
  if (opt.short && CMD_BY_SHORT[opt.short]) return CMD_BY_SHORT[opt.short]!;
  return CMD_BY_LONG[opt.long] ?? null;
}

const COMMAND_LIST = '-A, -E, -D, -C, -R, -S, -a, -e, -d, -L, -Z, --set, --start-daemon, --stop-daemon, -h or -v';

/**
 * parse_options() + the checks of process_options() that run before the kernel is asked.
 * `readingStdin` is set for the lines of -R (where a nested -R is an error).
 */
export function parseIpvsadm(argv: readonly Word[], readingStdin = false): ParsedIpvsadm | ParseError {
  try {
    return parseInner(argv, readingStdin);
  } catch (e) {
    if (e instanceof Fail) return e.e;
    throw e;
  }
}

function parseInner(argv: readonly Word[], readingStdin: boolean): ParsedIpvsadm | ParseError {
  const program = argv[0]?.text ?? 'ipvsadm';
  const popt = new Popt(argv);
  const options = new Set<OptName>();
  const optWord = new Map<OptName, { word: number; arg: number }>();
  const word = (n: OptName): number => optWord.get(n)?.word ?? 0;
  const argWord = (n: OptName): number => optWord.get(n)?.arg ?? 0;

  // ce: the command entry with process_options()'s defaults.
  const svc = {
    protocol: 'tcp' as SvcProtocol, af: 0 as 0 | 4 | 6, addr: 0, addr6: null as Ip6 | null, port: 0, fwmark: 0,
    scheduler: '', flags: 0, timeout: 0, netmask: 0xffffffff, pe: '',
  };
  const dest = {
    af: 0 as 0 | 4 | 6, addr: 0, addr6: null as Ip6 | null, port: 0, fwd: 'route' as FwdMethod, weight: 1,
    uThreshold: 0, lThreshold: 0, tunType: 'ipip' as TunType, tunPort: 0, tunFlags: 0,
  };
  const format: { -readonly [K in keyof ListFormat]: ListFormat[K] } = {};
  let daemon: { -readonly [K in keyof ParsedDaemon]: ParsedDaemon[K] } | null = null;
  let timeouts: Timeouts | null = null;
  let schedFlagsArg = '';

  const setOption = (n: OptName, ev: { word: number; argWord: number }): void => {
    if (options.has(n)) fail(`multiple '${n}' options specified`, ev.word, `'${n}' only once`);
    options.add(n);
    optWord.set(n, { word: ev.word, arg: ev.argWord });
  };

  // The first option must be the command.
  const first = popt.next();
  if (first.kind !== 'opt') {
    const w = first.kind === 'error' ? first.word : (popt.leftovers[0] ?? 0);
    return perr(255, tryHelp(program), w, `a command: ${COMMAND_LIST}`);
  }
  const cmd = commandOf(first.opt);
  const cmdWord = first.word;
  if (!cmd) return perr(255, tryHelp(program), first.word, `a command before any option: ${COMMAND_LIST}`);
  // usage_exit() / version_exit(): the rest of the line is never read.
  if (cmd === 'help' || cmd === 'version') {
    return { ok: true, cmd, options, svc: { ...svc, af: 4 }, dest: { ...dest, af: 4 }, format, timeouts, daemon, cmdWord, optWord };
  }
  if (cmd === 'start-daemon' || cmd === 'stop-daemon') {
    const a = first.arg!;
    if (a !== 'master' && a !== 'backup') {
      fail(cmd === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified', first.argWord, "'master' or 'backup'");
    }
    daemon = { state: a as 'master' | 'backup', mcastIfn: '', syncid: 0, mcastGroup: '', mcastPort: 0, mcastTtl: 0, syncMaxlen: 0 };
  }
  const dm = (): { -readonly [K in keyof ParsedDaemon]: ParsedDaemon[K] } =>
    (daemon ??= { state: 'master', mcastIfn: '', syncid: 0, mcastGroup: '', mcastPort: 0, mcastTtl: 0, syncMaxlen: 0 });

  let ev: PoptEvent;
  for (;;) {
    ev = popt.next();
    if (ev.kind !== 'opt') break;
    const o = ev.opt;
    const arg = ev.arg ?? '';
    const aw = ev.argWord;
    switch (o.long) {
      case 'tcp-service':
      case 'udp-service':
      case 'sctp-service': {
        setOption('service-address', ev);
        svc.protocol = o.long === 'tcp-service' ? 'tcp' : o.long === 'udp-service' ? 'udp' : 'sctp';
        const p = parseAddrPort(arg, svc.protocol, 'virtual');
        if (!p.ok) fail('illegal virtual server address[:port] specified', aw, p.expected);
        else {
          svc.af = p.af;
          svc.addr = p.addr;
          svc.addr6 = p.addr6;
          if (p.af === 6) svc.netmask = 128;
          if (p.port !== null) svc.port = p.port;
        }
        break;
      }
      case 'fwmark-service': {
        setOption('service-address', ev);
        svc.af = 4;
        svc.protocol = 'tcp';
        const n = toNumber(arg, 1, UINT_MAX);
        if (n === null) fail(`invalid fwmark value \`${arg}' specified`, aw, `a firewall mark 1-${UINT_MAX}${numberHint(arg)}`);
        svc.fwmark = n!;
        break;
      }
      case 'scheduler':
        setOption('scheduler', ev);
        svc.scheduler = arg.slice(0, SCHEDNAME_MAX);
        break;
      case 'persistent':
        setOption('persistent', ev);
        svc.flags |= IP_VS_SVC_F_PERSISTENT;
        if (ev.arg === null) svc.timeout = DEF_PERSISTENT;
        else {
          const n = toNumber(arg, 1, MAX_TIMEOUT);
          if (n === null) fail(`invalid timeout value \`${arg}' specified`, aw, `a persistence timeout in seconds, 1-${MAX_TIMEOUT}${numberHint(arg)} (-p alone means 360)`);
          svc.timeout = n!;
        }
        break;
      case 'netmask':
        setOption('netmask', ev);
        if (svc.af !== 6) {
          const m = parseIp4(arg);
          if (m === null) fail('illegal virtual server persistent mask specified', aw, 'a dotted-quad netmask such as 255.255.255.0');
          svc.netmask = m!;
        } else {
          const n = toNumber(arg, 1, 128);
          if (n === null) fail('illegal ipv6 netmask specified', aw, 'an IPv6 prefix length 1-128');
          svc.netmask = n!;
        }
        break;
      case 'real-server': {
        setOption('real-server', ev);
        const p = parseAddrPort(arg, svc.protocol, 'real');
        if (!p.ok) fail('illegal real server address[:port] specified', aw, p.expected);
        else {
          dest.af = p.af;
          dest.addr = p.addr;
          dest.addr6 = p.addr6;
          // "copy vport to dport if not specified" (the service port known at this point)
          dest.port = p.port ?? svc.port;
        }
        break;
      }
      case 'ipip':
      case 'gatewaying':
      case 'masquerading':
        setOption('forwarding-method', ev);
        dest.fwd = o.long === 'ipip' ? 'tunnel' : o.long === 'gatewaying' ? 'route' : 'masq';
        break;
      case 'weight': {
        setOption('weight', ev);
        const n = toNumber(arg, 0, 65535);
        if (n === null) fail('illegal weight specified', aw, `a weight 0-65535${numberHint(arg)}`);
        dest.weight = n!;
        break;
      }
      case 'u-threshold':
      case 'l-threshold': {
        const name = o.long;
        setOption(name, ev);
        const n = toNumber(arg, 0, INT_MAX);
        if (n === null) fail(`illegal ${name === 'u-threshold' ? 'u' : 'l'}_threshold specified`, aw, `a connection count 0-${INT_MAX}${numberHint(arg)}`);
        if (name === 'u-threshold') dest.uThreshold = n!;
        else dest.lThreshold = n!;
        break;
      }
      case 'connection':
        setOption('connection', ev);
        break;
      case 'numeric':
        setOption('numeric', ev);
        format.numeric = true;
        break;
      case 'mcast-interface':
        setOption('mcast-interface', ev);
        dm().mcastIfn = arg.slice(0, IFNAME_MAX);
        break;
      case 'syncid': {
        setOption('syncid', ev);
        const n = toNumber(arg, 0, 255);
        if (n === null) fail('illegal syncid specified', aw, 'a sync id 0-255');
        dm().syncid = n!;
        break;
      }
      case 'timeout':
        setOption('timeout', ev);
        break;
      case 'daemon':
        setOption('daemon', ev);
        break;
      case 'stats':
        setOption('stats', ev);
        format.stats = true;
        break;
      case 'rate':
        setOption('rate', ev);
        format.rate = true;
        break;
      case 'thresholds':
        setOption('thresholds', ev);
        format.thresholds = true;
        break;
      case 'persistent-conn':
        setOption('persistent-conn', ev);
        format.persistentConn = true;
        break;
      case 'nosort':
        setOption('nosort', ev);
        format.nosort = true;
        break;
      case 'sort':
        break; // "Sort is the default, this is a no-op for compatibility"
      case 'exact':
        setOption('exact', ev);
        format.exact = true;
        break;
      case 'ipv6':
        if (svc.fwmark) {
          svc.af = 6;
          svc.netmask = 128;
        } else fail('-6 used before -f\n', ev.word, '-f <fwmark> before -6');
        break;
      case 'ops':
        setOption('ops', ev);
        svc.flags |= IP_VS_SVC_F_ONEPACKET;
        break;
      case 'pe':
        setOption('pe', ev);
        svc.pe = arg.slice(0, PENAME_MAX);
        break;
      case 'sched-flags':
        setOption('sched-flags', ev);
        schedFlagsArg = arg.slice(0, 127);
        break;
      case 'mcast-group': {
        setOption('mcast-group', ev);
        if (arg.includes(':')) {
          const a6 = parseIp6(arg);
          if (!a6 || a6[0]! >> 8 !== 0xff) fail(`invalid IPv6 mcast-group \`${arg}'`, aw, 'an IPv6 multicast address (ff00::/8)');
        } else {
          const a4 = parseIp4(arg);
          if (a4 === null || a4 >>> 28 !== 0xe) fail(`invalid IPv4 mcast-group \`${arg}'`, aw, 'an IPv4 multicast address (224.0.0.0/4)');
        }
        dm().mcastGroup = arg;
        break;
      }
      case 'mcast-port': {
        setOption('mcast-port', ev);
        const n = toNumber(arg, 1, 65535);
        if (n === null) fail('illegal mcast-port specified', aw, 'a UDP port 1-65535');
        dm().mcastPort = n!;
        break;
      }
      case 'mcast-ttl': {
        setOption('mcast-ttl', ev);
        const n = toNumber(arg, 1, 255);
        if (n === null) fail('illegal mcast-ttl specified', aw, 'a TTL 1-255');
        dm().mcastTtl = n!;
        break;
      }
      case 'sync-maxlen': {
        setOption('sync-maxlen', ev);
        const n = toNumber(arg, 1, 65535 - 20 - 8);
        if (n === null) fail('illegal sync-maxlen specified', aw, `a message length 1-${65535 - 20 - 8}`);
        dm().syncMaxlen = n!;
        break;
      }
      case 'tun-info':
        setOption('tun-info', ev);
        format.tunInfo = true;
        break;
      case 'tun-type': {
        setOption('tun-type', ev);
        const t = (TUN_TYPES as readonly string[]).includes(arg) ? (arg as TunType) : null;
        if (t === null) fail('illegal tunnel type specified', aw, 'a tunnel type: ipip, gue or gre');
        dest.tunType = t!;
        break;
      }
      case 'tun-port': {
        setOption('tun-port', ev);
        const n = toNumber(arg, 1, 65535);
        if (n === null) fail('illegal tunnel port specified', aw, `a UDP port 1-65535${numberHint(arg)}`);
        dest.tunPort = n!;
        break;
      }
      case 'tun-nocsum':
        setOption('tun-nocsum', ev);
        break;
      case 'tun-csum':
        setOption('tun-csum', ev);
        dest.tunFlags |= 1;
        break;
      case 'tun-remcsum':
        setOption('tun-remcsum', ev);
        dest.tunFlags |= 2;
        break;
      default:
        // A second command, -h or -v after the command: poptBadOption() names the last word read.
        fail(`invalid option \`${argv[ev.last]!.text}'`, ev.word, `an option of the '${cmd}' command (only one command per invocation)`);
    }
  }
  if (ev.kind === 'error') {
    return perr(255, `${ev.bad}: ${ev.message}\n${tryHelp(program)}`, ev.word, ev.message === 'unknown option' ? 'an ipvsadm option (see ipvsadm -h)' : ev.message === 'missing argument' ? `a value after ${ev.bad}` : `${ev.bad.split('=')[0]} without '=value'`);
  }

  const left = popt.leftovers.slice();
  if (cmd === 'set') {
    if (left.length < 3) fail('--set option requires 3 timeout values', left[left.length - 1] ?? cmdWord, 'three timeouts in seconds: tcp tcpfin udp (0 keeps a value)');
    const vals = left.splice(0, 3).map((w) => {
      const t = argv[w]!.text;
      const n = toNumber(t, 0, MAX_TIMEOUT);
      if (n === null) fail(`invalid timeout value \`${t}' specified`, w, `a timeout in seconds, 0-${MAX_TIMEOUT}${numberHint(t)}`);
      return n!;
    });
    timeouts = { tcp: vals[0]!, tcpfin: vals[1]!, udp: vals[2]! };
  }
  if (left.length) fail(`unexpected argument ${argv[left[0]!]!.text}`, left[0]!, 'an option (this word is not one, nor the value of one)');

  if (schedFlagsArg !== '') {
    svc.flags &= ~(IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3);
    svc.flags |= parseSchedFlags(svc.scheduler, schedFlagsArg, argWord('sched-flags'));
  }

  // generic_opt_check(): in option-table order.
  const row = CMD_V_OPT[cmd];
  let firstExclusive: OptName | null = null;
  for (let j = 0; j < OPTNAMES.length; j++) {
    const n = OPTNAMES[j]!;
    const rule = row[j];
    if (!options.has(n)) {
      if (rule === '+') fail(`You need to supply the '${n}' option for the '${cmd}' command`, cmdWord, requiredHint(n));
    } else {
      if (rule === 'x') fail(`Illegal '${n}' option with the '${cmd}' command`, word(n), `an option the '${cmd}' command takes (not '${n}')`);
      if (rule === '1') {
        if (firstExclusive === null) {
          firstExclusive = n;
          continue;
        }
        fail(`The option '${n}' conflicts with the '${firstExclusive}' option in the '${cmd}' command`, word(n), `only one of -c, a service, --timeout and --daemon with -L`);
      }
    }
  }

  if (cmd === 'add-service' || cmd === 'edit-service') {
    if (!svc.fwmark && !svc.port && !(svc.flags & IP_VS_SVC_F_PERSISTENT)) {
      fail('Zero port specified for non-persistent service', argWord('service-address'), 'a port (VIP:port), or -p for a persistent all-ports service');
    }
    if (svc.flags & IP_VS_SVC_F_ONEPACKET && !svc.fwmark && svc.protocol !== 'udp') {
      fail('One-Packet Scheduling is only for UDP virtual services', word('ops'), '-o only with a UDP (-u) or fwmark (-f) service');
    }
    if (svc.scheduler === '') svc.scheduler = DEF_SCHED;
  }
  if (cmd === 'start-daemon' && dm().mcastIfn === '') dm().mcastIfn = 'eth0';

  if (cmd === 'add-server' || cmd === 'edit-server') {
    // "The destination port must be equal to the service port if the IP_VS_CONN_F_TUNNEL or
    // IP_VS_CONN_F_DROUTE is set": silently, not an error.
    if (!svc.fwmark && (dest.fwd === 'tunnel' || dest.fwd === 'route')) dest.port = svc.port;
    if (dest.af !== svc.af && dest.fwd !== 'tunnel') {
      fail('Different address family is allowed only for tunneling servers', argWord('real-server'), 'a real server of the service\'s address family, or -i');
    }
    const tunOpts: OptName[] = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
    const givenTun = tunOpts.find((n) => options.has(n));
    if (givenTun && dest.fwd !== 'tunnel') {
      fail('Tunnel options conflict with forward method', word(givenTun), `-i (tunnelling) with --${givenTun}`);
    }
    // tunnel_opt_check()
    const trow = TUN_V_OPT[dest.tunType];
    let last: OptName | null = null;
    for (let j = 0; j < TUN_OPTS.length; j++) {
      const n = TUN_OPTS[j]!;
      const rule = trow[j];
      if (!options.has(n)) {
        if (rule === '+') fail(`You need to supply the '${n}' option for the '${dest.tunType}' tunnel type`, word('tun-type'), `--${n} <port> with --tun-type ${dest.tunType}`);
      } else {
        if (rule === 'x') fail(`Illegal '${n}' option with the '${dest.tunType}' tunnel type`, word(n), `no --${n} with --tun-type ${dest.tunType}`);
        if (rule === '1') {
          if (last === null) {
            last = n;
            continue;
          }
          fail(`The option '${n}' conflicts with the '${last}' option in the '${dest.tunType}' tunnel type`, word(n), `one checksum option only`);
        }
      }
    }
  }

  if (cmd === 'list') {
    const has = (...ns: OptName[]): OptName | undefined => ns.find((n) => options.has(n));
    const a = has('connection', 'timeout', 'daemon');
    const b = has('stats', 'rate', 'thresholds');
    const c = has('timeout', 'daemon');
    const d = has('persistent-conn');
    if ((a && b) || (c && d)) {
      const culprit = a && b ? b : d!;
      fail('options conflicts in the list command', word(culprit), a && b ? `--${culprit} only with a service or table listing (not with --${a})` : `--persistent-conn only with a service, table or -c listing`);
    }
  }
  if (cmd === 'save') format.rule = true;
  // restore_table(): "avoid infinite loop"
  if (cmd === 'restore' && readingStdin) return perr(255, tryHelp(program), cmdWord, 'an ipvsadm command other than -R on a restored line');

  return {
    ok: true,
    cmd,
    options,
    svc: { ...svc, af: svc.af === 0 ? 4 : svc.af },
    dest: { ...dest, af: dest.af === 0 ? 4 : dest.af },
    format,
    timeouts,
    daemon,
    cmdWord,
    optWord,
  };
}

function requiredHint(n: OptName): string {
  switch (n) {
    case 'service-address':
      return 'a virtual service: -t VIP:port, -u VIP:port or -f fwmark';
    case 'real-server':
      return 'a real server: -r RIP[:port]';
    default:
      return `the '${n}' option`;
  }
}

/** parse_sched_flags(): comma separated; sh-* and mh-* only with that scheduler (default wlc). */
function parseSchedFlags(sched: string, arg: string, w: number): number {
  const scheduler = sched !== '' ? sched : DEF_SCHED;
  const flags = arg.split(',').filter((f) => f !== '');
  // strtok() finds no token in ",,": ipvsadm would crash; lvsim reports the argument.
  if (flags.length === 0) fail(`invalid scheduler flag \`${arg}'`, w, 'scheduler flags: flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port');
  let out = 0;
  for (const f of flags) {
    switch (f) {
      case 'flag-1': out |= IP_VS_SVC_F_SCHED1; break;
      case 'flag-2': out |= IP_VS_SVC_F_SCHED2; break;
      case 'flag-3': out |= IP_VS_SVC_F_SCHED3; break;
      case 'sh-fallback':
      case 'sh-port':
      case 'mh-fallback':
      case 'mh-port': {
        out |= f.endsWith('fallback') ? IP_VS_SVC_F_SCHED1 : IP_VS_SVC_F_SCHED2;
        const needs = f.slice(0, 2);
        if (scheduler !== needs) fail(`incompatible scheduler flag \`${f}'`, w, `${f} only with -s ${needs} (the scheduler here is ${scheduler})`);
        break;
      }
      default:
        fail(`invalid scheduler flag \`${f}'`, w, 'scheduler flags: flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port');
    }
  }
  return out;
}

// ---------------------------------------------------------------- printing the parsed form

const svcAddrText = (s: { af: 4 | 6; addr: Ip4; addr6: Ip6 | null }, port: number): string =>
  s.af === 6 && s.addr6 ? `[${formatIp6(s.addr6)}]:${port}` : `${formatIp4(s.addr)}:${port}`;

function svcArgs(s: ParsedService): string {
  if (s.fwmark) return s.af === 6 ? `-f ${s.fwmark} -6` : `-f ${s.fwmark}`;
  const opt = s.protocol === 'tcp' ? '-t' : s.protocol === 'udp' ? '-u' : '--sctp-service';
  return `${opt} ${svcAddrText(s, s.port)}`;
}

/**
 * The normal form of a parsed command (the words after `ipvsadm`). For -A/-E and -a/-e it is
 * the line `ipvsadm -S -n` prints for what the command creates (FMT_RULE), except that -x/-y,
 * which -S does not save, are kept; other commands print their options in table order.
 */
export function formatIpvsadm(p: ParsedIpvsadm): string {
  const s = p.svc;
  const d = p.dest;
  const has = (n: OptName): boolean => p.options.has(n);
  switch (p.cmd) {
    case 'add-service':
    case 'edit-service': {
      let out = `${p.cmd === 'add-service' ? '-A' : '-E'} ${svcArgs(s)} -s ${s.scheduler}`;
      if (s.flags & IP_VS_SVC_F_PERSISTENT) out += ` -p ${s.timeout}`;
      if (s.af === 4 ? s.netmask >>> 0 !== 0xffffffff : s.netmask !== 128) out += ` -M ${s.af === 4 ? formatIp4(s.netmask >>> 0) : s.netmask}`;
      if (s.pe) out += ` --pe ${s.pe}`;
      if (s.flags & IP_VS_SVC_F_ONEPACKET) out += ' -o';
      const sf = s.flags & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3);
      if (sf) out += ` -b ${schedFlagNames(s.scheduler, sf)}`;
      return out;
    }
    case 'delete-service':
      return `-D ${svcArgs(s)}`;
    case 'add-server':
    case 'edit-server': {
      const fwd = d.fwd === 'tunnel' ? '-i' : d.fwd === 'masq' ? '-m' : '-g';
      let out = `${p.cmd === 'add-server' ? '-a' : '-e'} ${svcArgs(s)} -r ${svcAddrText(d, d.port)} ${fwd} -w ${d.weight}`;
      if (d.uThreshold) out += ` -x ${d.uThreshold}`;
      if (d.lThreshold) out += ` -y ${d.lThreshold}`;
      if (d.fwd === 'tunnel') {
        out += ` --tun-type ${d.tunType}`;
        if (d.tunType === 'gue') out += ` --tun-port ${d.tunPort}`;
        if (d.tunType !== 'ipip') out += ` ${TUN_FLAG_OPTS[d.tunFlags] ?? '--tun-nocsum'}`;
      }
      return out;
    }
    case 'delete-server':
      return `-d ${svcArgs(s)} -r ${svcAddrText(d, d.port)}`;
    case 'flush':
      return '-C';
    case 'zero':
      return has('service-address') ? `-Z ${svcArgs(s)}` : '-Z';
    case 'set':
      return `--set ${p.timeouts!.tcp} ${p.timeouts!.tcpfin} ${p.timeouts!.udp}`;
    case 'restore':
      return '-R';
    case 'save':
      return has('numeric') ? '-S -n' : '-S';
    case 'help':
      return '-h';
    case 'version':
      return '-v';
    case 'start-daemon':
    case 'stop-daemon': {
      const dd = p.daemon!;
      let out = `--${p.cmd} ${dd.state}`;
      if (p.cmd === 'start-daemon') out += ` --mcast-interface ${dd.mcastIfn}`;
      if (has('syncid')) out += ` --syncid ${dd.syncid}`;
      if (has('mcast-group')) out += ` --mcast-group ${dd.mcastGroup}`;
      if (has('mcast-port')) out += ` --mcast-port ${dd.mcastPort}`;
      if (has('mcast-ttl')) out += ` --mcast-ttl ${dd.mcastTtl}`;
      if (has('sync-maxlen')) out += ` --sync-maxlen ${dd.syncMaxlen}`;
      return out;
    }
    case 'list': {
      const parts = ['-L'];
      if (has('numeric')) parts.push('-n');
      if (has('connection')) parts.push('-c');
      if (has('service-address')) parts.push(svcArgs(s));
      for (const n of ['timeout', 'daemon', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'exact', 'tun-info'] as const) {
        if (has(n)) parts.push(`--${n}`);
      }
      return parts.join(' ');
    }
  }
}

// ---------------------------------------------------------------- listing helper for views

/** What to list: ipvsadm's format flags plus which listing (-c, a service, --timeout, --daemon). */
export interface ListOptions extends ListFormat {
  readonly connection?: boolean;
  readonly timeout?: boolean;
  readonly daemon?: boolean;
  readonly service?: ServiceKey;
}

/**
 * The text `ipvsadm -L` prints for these options. Addresses are always numeric (lvsim does not
 * resolve names). `now` is accepted for symmetry with the tool context; IpvsCtl.connections()
 * already reports each entry's remaining time. Throws IpvsError('ESRCH') for a missing service.
 */
export function formatList(ipvs: IpvsCtl, opts: ListOptions, now: Ns): string {
  void now;
  if (opts.connection) return listConn(ipvs, opts);
  if (opts.service) {
    const out = listService(ipvs, opts.service, opts);
    if (out === null) throw new IpvsError('ESRCH', 'No such service');
    return out;
  }
  if (opts.timeout) return listTimeout(ipvs);
  if (opts.daemon) return ''; // no sync daemon runs in lvsim
  return listAll(ipvs, opts);
}

// ---------------------------------------------------------------- applying

type KernelOp = 'add-service' | 'edit-service' | 'delete-service' | 'zero' | 'add-server' | 'edit-server' | 'delete-server' | 'flush' | 'set' | 'stop-daemon' | 'start-daemon';

/** ipvs_strerror(): the function-specific messages, then the generic ones, then strerror(). */
export function ipvsStrerror(op: KernelOp, errno: string): string {
  const specific: Partial<Record<KernelOp, Partial<Record<string, string>>>> = {
    'add-service': { EEXIST: 'Service already exists', ENOENT: 'Scheduler or persistence engine not found' },
    'edit-service': { ESRCH: 'No such service', ENOENT: 'Scheduler or persistence engine not found' },
    'delete-service': { ESRCH: 'No such service' },
    zero: { ESRCH: 'No such service' },
    'add-server': { ESRCH: 'Service not defined', EEXIST: 'Destination already exists' },
    'edit-server': { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
    'delete-server': { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
    'stop-daemon': { ESRCH: 'No daemon is running' },
  };
  const m = specific[op]?.[errno];
  if (m) return m;
  const generic: Record<string, string> = {
    EPERM: 'Permission denied (you must be root)',
    EINVAL: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
    ENOPROTOOPT: 'Protocol not available',
    ENOMEM: 'Memory allocation problem',
    EOPNOTSUPP: 'Operation not supported with IPv6',
    EAFNOSUPPORT: 'Operation not supported with specified address family',
    EMSGSIZE: 'Module is wrong version',
  };
  if (generic[errno]) return generic[errno]!;
  return (STRERROR as Readonly<Record<string, string>>)[errno] ?? errno;
}

/** Outcome of running one parsed command; `fatal` = ipvsadm would have exit()ed (matters for -R). */
interface Applied {
  readonly result: ToolResult;
  readonly fatal: boolean;
}

const done = (stdout = ''): Applied => ({ result: { exit: 0, stdout, stderr: '' }, fatal: false });
const refuse = (exit: number, stderr: string, word: number, expected: string, fatal: boolean): Applied => ({
  result: { exit, stdout: '', stderr: stderr.endsWith('\n') ? stderr : stderr + '\n', errorAt: { word, expected } },
  fatal,
});

/** A feature lvsim parses but does not model: refused like a kernel error (exit 255). */
const notModelled = (what: string, word: number): Applied =>
  refuse(255, `lvsim: ${what} not modelled`, word, `something lvsim models: ${what} not modelled (IPv4 TCP/UDP services, ipip tunnels)`, false);

function kernelError(p: ParsedIpvsadm, op: KernelOp, e: IpvsError): Applied {
  const at = (n: OptName): number => p.optWord.get(n)?.arg ?? p.cmdWord;
  const msg = ipvsStrerror(op, e.errno);
  let word = p.cmdWord;
  let expected = msg;
  const svcText = p.options.has('service-address') ? `${svcAddrText(p.svc, p.svc.port)}` : '';
  switch (e.errno) {
    case 'EEXIST':
      if (op === 'add-service') {
        word = at('service-address');
        expected = `a virtual service that does not exist yet (${svcText} exists; -E edits it)`;
      } else if (op === 'add-server') {
        word = at('real-server');
        expected = `a real server not yet in ${svcText} (-e edits it)`;
      }
      break;
    case 'ENOENT':
      if (op === 'add-service' || op === 'edit-service') {
        word = p.options.has('scheduler') ? at('scheduler') : p.cmdWord;
        expected = schedulerExpected(p.svc.scheduler);
      } else if (op === 'edit-server' || op === 'delete-server') {
        word = at('real-server');
        expected = `a real server of ${svcText} (as listed by ipvsadm -Ln; for -g/-i its port is the service port)`;
      }
      break;
    case 'ESRCH':
      word = p.options.has('service-address') ? at('service-address') : p.cmdWord;
      expected = op === 'stop-daemon' ? 'a running sync daemon' : `an existing virtual service (add it first with -A)`;
      break;
    case 'ERANGE':
      word = p.options.has('l-threshold') ? at('l-threshold') : p.options.has('u-threshold') ? at('u-threshold') : at('weight');
      expected = 'a lower threshold (-y) no higher than the upper threshold (-x; not given means 0)';
      break;
    case 'EINVAL':
      if (op === 'add-server' || op === 'edit-server') {
        word = at('real-server');
        expected = 'a unicast real-server address (not multicast, broadcast, 0.0.0.0 or a local broadcast)';
      }
      break;
  }
  return refuse(255, msg, word, expected, false);
}

function svcKey(p: ParsedIpvsadm): ServiceKey {
  return { protocol: p.svc.protocol as 'tcp' | 'udp', addr: p.svc.addr, port: p.svc.port };
}

/** Refusals for what the model cannot hold, checked before the kernel call. */
function modelLimits(p: ParsedIpvsadm): Applied | null {
  const at = (n: OptName): number => p.optWord.get(n)?.arg ?? p.cmdWord;
  if (p.options.has('service-address')) {
    if (p.svc.fwmark) return notModelled('fwmark services are', at('service-address'));
    if (p.svc.protocol === 'sctp') return notModelled('SCTP services are', at('service-address'));
    if (p.svc.af === 6) return notModelled('IPv6 services are', at('service-address'));
  }
  if ((p.cmd === 'add-server' || p.cmd === 'edit-server' || p.cmd === 'delete-server') && p.dest.af === 6) {
    return notModelled('IPv6 real servers are', at('real-server'));
  }
  return null;
}

/** Run a parsed command against the host's IPVS (process_options()'s switch). */
function apply(p: ParsedIpvsadm, ctx: ToolContext, runLine: (argv: readonly Word[]) => Applied, argv: readonly Word[]): Applied {
  const ipvs = ctx.ipvs;
  switch (p.cmd) {
    case 'help':
    case 'version':
      return { result: { exit: 0, stdout: p.cmd === 'help' ? usage(argv[0]?.text ?? 'ipvsadm') : IPVSADM_VERSION + '\n', stderr: '' }, fatal: true };
    case 'list': {
      if (p.options.has('connection')) return done(listConn(ipvs, p.format));
      if (p.options.has('service-address')) {
        const lim = modelLimits(p);
        if (lim) return lim;
        const out = listService(ipvs, svcKey(p), p.format);
        if (out === null) return refuse(1, 'No such service', p.optWord.get('service-address')!.arg, 'an existing virtual service', true);
        return done(out);
      }
      if (p.options.has('timeout')) return done(listTimeout(ipvs));
      if (p.options.has('daemon')) return done(ctx.host ? listDaemons(ipvs) : '');
      return done(listAll(ipvs, p.format));
    }
    case 'save':
      return done(saveRules(ipvs, !!p.format.numeric));
    case 'restore': {
      // Without input, ipvsadm -R would read the terminal (or /dev/null in a script) and restore nothing.
      if (ctx.stdin === undefined) {
        return refuse(1, 'lvsim: ipvsadm -R reads the rules from standard input, and none was given', p.cmdWord,
          "the saved rules on stdin: ipvsadm-restore < /etc/sysconfig/ipvsadm (a file in this host's files:), or systemctl restart ipvsadm", true);
      }
      const outcome = restore(ctx.stdin, argv[0] ?? { text: 'ipvsadm', col: 0, endCol: 0 }, p.cmdWord, runLine, ctx.stdinPath);
      return { result: outcome.result, fatal: false };
    }
    case 'start-daemon': {
      const dd = p.daemon!;
      for (const o of ['mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen'] as const) {
        if (p.options.has(o)) return notModelled(`--${o} (the sync daemon uses 224.0.0.81:8848, TTL 1) is`, p.optWord.get(o)!.arg);
      }
      if (!ctx.host) return notModelled('the sync daemon without a host is', p.cmdWord);
      try { startSyncDaemon(ctx.host, ipvs, { state: dd.state, mcastIfn: dd.mcastIfn, syncid: dd.syncid }); } catch (e) {
        if (e instanceof IpvsError) return kernelError(p, 'start-daemon', e);
        throw e;
      }
      return done('');
    }
    case 'stop-daemon':
      if (!ctx.host) return kernelError(p, 'stop-daemon', new IpvsError('ESRCH', 'no daemon is running'));
      try { stopSyncDaemon(ctx.host, ipvs, p.daemon!.state); } catch (e) {
        if (e instanceof IpvsError) return kernelError(p, 'stop-daemon', e);
        throw e;
      }
      return done('');
    default:
      break;
  }
  const lim = modelLimits(p);
  if (lim) return lim;
  const op = p.cmd as KernelOp;
  try {
    switch (p.cmd) {
      case 'flush':
        ipvs.flush();
        break;
      case 'set':
        ipvs.setTimeouts(p.timeouts!);
        break;
      case 'zero':
        if (p.options.has('service-address')) ipvs.zero(svcKey(p));
        else ipvs.zero();
        break;
      case 'add-service':
      case 'edit-service': {
        // The kernel looks up the scheduler, then the persistence engine (only "sip" exists).
        if (p.svc.pe && KERNEL_SCHEDULERS.includes(p.svc.scheduler)) {
          const peWord = p.optWord.get('pe')!.arg;
          if (p.svc.pe !== 'sip') return refuse(255, ipvsStrerror(op, 'ENOENT'), peWord, "a persistence engine: sip (or no --pe)", false);
          return notModelled('persistence engines (--pe sip) are', peWord);
        }
        const spec: ServiceSpec = {
          protocol: p.svc.protocol as 'tcp' | 'udp',
          addr: p.svc.addr,
          port: p.svc.port,
          scheduler: p.svc.scheduler,
          ...(p.svc.flags & IP_VS_SVC_F_PERSISTENT ? { persistent: p.svc.timeout } : {}),
          netmask: p.svc.netmask >>> 0,
          schedFlags: p.svc.flags & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3),
          ops: (p.svc.flags & IP_VS_SVC_F_ONEPACKET) !== 0,
        };
        if (p.cmd === 'add-service') ipvs.addService(spec);
        else ipvs.editService(spec);
        break;
      }
      case 'delete-service':
        ipvs.delService(svcKey(p));
        break;
      case 'add-server':
      case 'edit-server': {
        if (p.dest.fwd === 'tunnel' && p.dest.tunType !== 'ipip') {
          return notModelled(`${p.dest.tunType.toUpperCase()} tunnels are`, p.optWord.get('tun-type')!.arg);
        }
        const spec: DestSpec = {
          addr: p.dest.addr,
          port: p.dest.port,
          fwd: p.dest.fwd,
          weight: p.dest.weight,
          uThreshold: p.dest.uThreshold,
          lThreshold: p.dest.lThreshold,
        };
        if (p.cmd === 'add-server') ipvs.addDest(svcKey(p), spec);
        else ipvs.editDest(svcKey(p), spec);
        break;
      }
      case 'delete-server':
        ipvs.delDest(svcKey(p), { addr: p.dest.addr, port: p.dest.port });
        break;
    }
  } catch (e) {
    if (e instanceof IpvsError) return kernelError(p, op, e);
    throw e;
  }
  return done();
}

/** process_options() for one argv: parse, check, run. */
function runOnce(argv: readonly Word[], ctx: ToolContext, readingStdin: boolean): Applied {
  // "list the table if there is no other argument" (main(), not process_options())
  if (argv.length <= 1 && !readingStdin) return done(listAll(ctx.ipvs, {}));
  const p = parseIpvsadm(argv, readingStdin);
  if (!p.ok) {
    const { ok: _ok, ...result } = p;
    return { result, fatal: true };
  }
  return apply(p, ctx, (line) => runOnce(line, ctx, true), argv);
}

/** `ipvsadm ...` */
export const ipvsadm: Tool = (argv, ctx) => {
  // libipvs's ipvs_init() loads ip_vs when the kernel does not have it yet (net.ipv4.vs.* appears).
  // (Unit tests drive the tool with no host at all.)
  if (ctx.host && !ctx.host.modules.has('ip_vs')) ctx.host.modprobe('ip_vs');
  const result = runOnce(argv, ctx, false).result;
  const warning = result.exit === 0 ? portMappingWarning(argv) : null;
  return warning ? { ...result, warnings: [warning] } : result;
};

/**
 * `-a/-e ... -r RIP:PORT -i` (or -g) with PORT other than the service's: ipvsadm silently uses the
 * service port (tunnel and direct routing cannot map ports). Worth telling the user.
 */
function portMappingWarning(argv: readonly Word[]): { word: number; message: string } | null {
  const p = parseIpvsadm(argv);
  if (!p.ok || (p.cmd !== 'add-server' && p.cmd !== 'edit-server') || p.svc.fwmark) return null;
  if (p.dest.fwd !== 'tunnel' && p.dest.fwd !== 'route') return null;
  const at = p.optWord.get('real-server');
  if (!at) return null;
  const m = /:(\d+)$/.exec(argv[at.arg]?.text ?? '');
  if (!m || Number(m[1]) === p.svc.port) return null;
  const mode = p.dest.fwd === 'tunnel' ? 'tunnel (-i)' : 'direct routing (-g)';
  return { word: at.arg, message: `port mapping is not possible in ${mode} mode: ipvsadm uses the service port ${p.svc.port}, not ${m[1]}` };
}

/**
 * For lvsim exec: true when the line only prints (-L/-l with any listing option of ipvsadm.c's
 * table, --nosort and --exact included, -S, -h, -v) or is refused before anything changes.
 */
export function ipvsadmReadOnly(argv: readonly Word[]): boolean {
  if (argv.length <= 1) return true;
  const p = parseIpvsadm(argv);
  return !p.ok || p.cmd === 'list' || p.cmd === 'save' || p.cmd === 'help' || p.cmd === 'version';
}

/** Runs `ipvsadm -R` on `text` and returns each line's outcome (for diagnostics with line numbers). */
export function restoreLines(text: string, ctx: ToolContext, program = 'ipvsadm'): RestoreOutcome {
  return restore(text, { text: program, col: 0, endCol: 0 }, 0, (line) => runOnce(line, ctx, true));
}

/** Rewrite `argv` as `ipvsadm <opt> <rest>` keeping the columns of the words that follow. */
function withCommand(argv: readonly Word[], opt: string): Word[] {
  const name = argv[0] ?? { text: 'ipvsadm', col: 1, endCol: 8 };
  return [{ text: 'ipvsadm', col: name.col, endCol: name.endCol }, { text: opt, col: name.col, endCol: name.endCol }, ...argv.slice(1)];
}

/** Shift errorAt back onto the script's own argv (the inserted option maps to the command name). */
function shiftError(r: ToolResult): ToolResult {
  if (!r.errorAt) return r;
  return { ...r, errorAt: { word: Math.max(0, r.errorAt.word - 1), expected: r.errorAt.expected } };
}

/** `ipvsadm-save [-n]`: the script runs `ipvsadm -S` with its arguments. */
export const ipvsadmSave: Tool = (argv, ctx) => shiftError(ipvsadm(withCommand(argv, '-S'), ctx));

/** `ipvsadm-restore`: the script runs `ipvsadm -R`, reading ctx.stdin. */
export const ipvsadmRestore: Tool = (argv, ctx) => shiftError(ipvsadm(withCommand(argv, '-R'), ctx));

// ---------------------------------------------------------------- usage

/** usage_exit(): the version line and a shortened copy of ipvsadm's help. */
function usage(program: string): string {
  const p = program;
  return `${IPVSADM_VERSION}
Usage:
  ${p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ${p} -D virtual-service
  ${p} -C
  ${p} -R
  ${p} -S [-n]
  ${p} -a|e virtual-service -r server-address [options]
  ${p} -d virtual-service -r server-address
  ${p} -L|l [virtual-service] [options]
  ${p} -Z [virtual-service]
  ${p} --set tcp tcpfin udp
  ${p} --start-daemon {master|backup} [daemon-options]
  ${p} --stop-daemon {master|backup}
  ${p} -h

Commands:
  -A add, -E edit, -D delete a virtual service; -C clear the table;
  -R restore rules from stdin, -S save rules to stdout;
  -a add, -e edit, -d delete a real server; -L|-l list; -Z zero counters;
  --set set connection timeouts; --start-daemon / --stop-daemon sync daemon; -h help.

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc.
  --persistent   -p [timeout]         persistent service (default 360 s)
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre, the default tunnel type is ipip.
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout, --daemon, --stats, --rate, --exact, --thresholds, --persistent-conn, --tun-info
                                      other listings and list formats
  --nosort                            disable sorting output of service/server entries
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
`;
}
