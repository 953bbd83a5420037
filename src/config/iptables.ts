/**
 * config/iptables.ts: iptables 1.8 (legacy, the x_tables back end), as iptables/xshared.c
 * do_parse and iptables.c do_command4 run it: getopt_long over the base options, with each
 * extension's options joining when it loads (-m NAME, -j TARGET, or the protocol's match on
 * demand after -p), every error worded as the tool words it and with its exit status
 * (2 parameter problem, 1 kernel refusal, 3 missing table). The table is changed on a copy
 * and committed whole, as libiptc does; the kernel's checkentry refusals (a target in a hook
 * it does not serve, a loop) fail the commit with EINVAL/ELOOP and a dmesg line.
 * Also iptables-save [-c] [-t], iptables-restore [-c] [-n] [-T] (round-trips), dmesg,
 * conntrack -L/-F/-C.
 * Not modelled: name resolution (addresses, ports and protocols are numbers or the names
 * iptables knows itself; the hosts have no /etc/services or /etc/protocols), the nat and
 * security tables, -E rename across references aside, -C/--check's verbose print, ip6tables.
 */
import { formatIp4, parseIp4 } from '../net/addr';
import type { Word } from './shell';
import type { FileError, Tool, ToolContext, ToolResult } from './tool';
import type { Host } from '../kernel/host';
import type { Hook } from '../trace/record';
import {
  type Chain, type IptIp, type IptRule, type RejectWith, type Table, type TableName, type XtMatch, type XtTarget, type XtState,
  CT_STATE_ESTABLISHED, CT_STATE_INVALID, CT_STATE_NEW, CT_STATE_RELATED, CT_STATE_UNTRACKED,
  IPT_INV_DSTIP, IPT_INV_FRAG, IPT_INV_SRCIP, IPT_INV_VIA_IN, IPT_INV_VIA_OUT, TABLE_HOOKS, XT_INV_PROTO,
  XT_TCP_INV_DSTPT, XT_TCP_INV_FLAGS, XT_TCP_INV_SRCPT, newRule, xtOf,
} from '../kernel/xtables';
import { CHAIN_PROTOS, TCP_FLAG_NAMES, ctStatesText, protoName, saveRule, tcpFlagsText } from '../kernel/xtables_save';
import { printk, klogLines, klogClear } from '../kernel/klog';
import { conntrackLine, conntrackOf, nfConntrackLoad } from '../kernel/conntrack';

const VERSION = '1.8.9';
const PROG = 'iptables';

// --- errors -------------------------------------------------------------------------

/** xtables_error: "iptables v1.8.9 (legacy): MSG" and, for parameter problems, the try-help line. */
class XtError extends Error {
  constructor(readonly status: 1 | 2 | 3, message: string, readonly word: number, readonly expected: string) {
    super(message);
  }
}

const PARAMETER_PROBLEM = 2;

function paramError(msg: string, word: number, expected: string): XtError {
  return new XtError(PARAMETER_PROBLEM, msg, word, expected);
}

function formatXtError(e: XtError, prog: string, line: number | null): string {
  let s = `${prog} v${VERSION} (legacy): ${e.message}\n`;
  if (e.status === 2) {
    if (line !== null) s += `Error occurred at line: ${line}\n`;
    s += `Try \`${prog} -h' or '${prog} --help' for more information.\n`;
  } else if (e.status === 3) {
    s += `Perhaps ${prog} or your kernel needs to be upgraded.\n`;
  }
  return s;
}

/** A libiptc refusal: "iptables: MSG." (EINVAL adds the dmesg hint); exit 1. */
class IptcError extends Error {
  constructor(message: string, readonly einval: boolean, readonly word: number, readonly expected: string, readonly dmesg?: string) {
    super(message);
  }
}

// --- getopt_long ------------------------------------------------------------------------

interface OptSpec {
  readonly name: string;
  /** 0 none, 1 required, 2 optional (attached only, or iptables' own next-word rule). */
  readonly arg: 0 | 1 | 2;
  readonly val: string;
}

/** original_opts (iptables/iptables.c). */
const BASE_OPTS: readonly OptSpec[] = [
  { name: 'append', arg: 1, val: 'A' }, { name: 'delete', arg: 1, val: 'D' }, { name: 'check', arg: 1, val: 'C' },
  { name: 'insert', arg: 1, val: 'I' }, { name: 'replace', arg: 1, val: 'R' }, { name: 'list', arg: 2, val: 'L' },
  { name: 'list-rules', arg: 2, val: 'S' }, { name: 'flush', arg: 2, val: 'F' }, { name: 'zero', arg: 2, val: 'Z' },
  { name: 'new-chain', arg: 1, val: 'N' }, { name: 'delete-chain', arg: 2, val: 'X' }, { name: 'rename-chain', arg: 1, val: 'E' },
  { name: 'policy', arg: 1, val: 'P' }, { name: 'source', arg: 1, val: 's' }, { name: 'destination', arg: 1, val: 'd' },
  { name: 'src', arg: 1, val: 's' }, { name: 'dst', arg: 1, val: 'd' }, { name: 'protocol', arg: 1, val: 'p' },
  { name: 'in-interface', arg: 1, val: 'i' }, { name: 'jump', arg: 1, val: 'j' }, { name: 'table', arg: 1, val: 't' },
  { name: 'match', arg: 1, val: 'm' }, { name: 'numeric', arg: 0, val: 'n' }, { name: 'out-interface', arg: 1, val: 'o' },
  { name: 'verbose', arg: 0, val: 'v' }, { name: 'wait', arg: 2, val: 'w' }, { name: 'wait-interval', arg: 2, val: 'W' },
  { name: 'exact', arg: 0, val: 'x' }, { name: 'fragments', arg: 0, val: 'f' }, { name: 'version', arg: 0, val: 'V' },
  { name: 'help', arg: 2, val: 'h' }, { name: 'line-numbers', arg: 0, val: '0' }, { name: 'modprobe', arg: 1, val: 'M' },
  { name: 'set-counters', arg: 1, val: 'c' }, { name: 'goto', arg: 1, val: 'g' }, { name: 'ipv4', arg: 0, val: '4' },
  { name: 'ipv6', arg: 0, val: '6' },
];

/** The short options and their argument kind (iptables' optstring). */
const SHORT: Readonly<Record<string, 0 | 1 | 2>> = {
  A: 1, C: 1, D: 1, R: 1, I: 1, L: 2, S: 2, M: 1, F: 2, Z: 2, N: 1, X: 2, E: 1, P: 1, V: 0, h: 2,
  o: 1, p: 1, s: 1, d: 1, j: 1, i: 1, f: 0, b: 0, v: 0, w: 2, W: 2, n: 0, t: 1, m: 1, x: 0, c: 1, g: 1, '4': 0, '6': 0,
};

// --- extensions ---------------------------------------------------------------------------

type ExtName = 'tcp' | 'udp' | 'icmp' | 'multiport' | 'conntrack' | 'state' | 'comment' | 'REJECT' | 'LOG' | 'TCPMSS' | 'CT' | 'NOTRACK';

const EXT_OPTS: Readonly<Record<ExtName, readonly OptSpec[]>> = {
  tcp: [
    { name: 'source-port', arg: 1, val: 'sport' }, { name: 'sport', arg: 1, val: 'sport' },
    { name: 'destination-port', arg: 1, val: 'dport' }, { name: 'dport', arg: 1, val: 'dport' },
    { name: 'syn', arg: 0, val: 'syn' }, { name: 'tcp-flags', arg: 1, val: 'tcp-flags' }, { name: 'tcp-option', arg: 1, val: 'tcp-option' },
  ],
  udp: [
    { name: 'source-port', arg: 1, val: 'sport' }, { name: 'sport', arg: 1, val: 'sport' },
    { name: 'destination-port', arg: 1, val: 'dport' }, { name: 'dport', arg: 1, val: 'dport' },
  ],
  icmp: [{ name: 'icmp-type', arg: 1, val: 'icmp-type' }],
  multiport: [
    { name: 'source-ports', arg: 1, val: 'sports' }, { name: 'sports', arg: 1, val: 'sports' },
    { name: 'destination-ports', arg: 1, val: 'dports' }, { name: 'dports', arg: 1, val: 'dports' }, { name: 'ports', arg: 1, val: 'ports' },
  ],
  conntrack: [
    { name: 'ctstate', arg: 1, val: 'ctstate' }, { name: 'ctproto', arg: 1, val: 'x' }, { name: 'ctorigsrc', arg: 1, val: 'x' },
    { name: 'ctorigdst', arg: 1, val: 'x' }, { name: 'ctreplsrc', arg: 1, val: 'x' }, { name: 'ctrepldst', arg: 1, val: 'x' },
    { name: 'ctstatus', arg: 1, val: 'x' }, { name: 'ctexpire', arg: 1, val: 'x' }, { name: 'ctdir', arg: 1, val: 'x' },
  ],
  state: [{ name: 'state', arg: 1, val: 'state' }],
  comment: [{ name: 'comment', arg: 1, val: 'comment' }],
  REJECT: [{ name: 'reject-with', arg: 1, val: 'reject-with' }],
  LOG: [
    { name: 'log-level', arg: 1, val: 'log-level' }, { name: 'log-prefix', arg: 1, val: 'log-prefix' },
    { name: 'log-tcp-sequence', arg: 0, val: 'log-tcp-sequence' }, { name: 'log-tcp-options', arg: 0, val: 'log-tcp-options' },
    { name: 'log-ip-options', arg: 0, val: 'log-ip-options' }, { name: 'log-uid', arg: 0, val: 'log-uid' },
    { name: 'log-macdecode', arg: 0, val: 'log-macdecode' },
  ],
  TCPMSS: [{ name: 'set-mss', arg: 1, val: 'set-mss' }, { name: 'clamp-mss-to-pmtu', arg: 0, val: 'clamp-mss-to-pmtu' }],
  CT: [
    { name: 'notrack', arg: 0, val: 'notrack' }, { name: 'helper', arg: 1, val: 'x' }, { name: 'ctevents', arg: 1, val: 'x' },
    { name: 'expevents', arg: 1, val: 'x' }, { name: 'zone', arg: 1, val: 'x' }, { name: 'zone-orig', arg: 1, val: 'x' },
    { name: 'zone-reply', arg: 1, val: 'x' }, { name: 'timeout', arg: 1, val: 'x' },
  ],
  NOTRACK: [],
};

const MATCHES: ReadonlySet<string> = new Set(['tcp', 'udp', 'icmp', 'multiport', 'conntrack', 'state', 'comment']);
const TARGETS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'LOG', 'TCPMSS', 'CT', 'NOTRACK']);
/** Extensions iptables ships that lvsim does not model: refused by name rather than "not found". */
const REAL_MATCHES = new Set(['addrtype', 'ah', 'bpf', 'cgroup', 'cluster', 'connbytes', 'connlabel', 'connlimit', 'connmark', 'cpu', 'dccp', 'devgroup', 'dscp', 'ecn', 'esp', 'hashlimit', 'helper', 'iprange', 'ipvs', 'length', 'limit', 'mac', 'mark', 'nfacct', 'osf', 'owner', 'physdev', 'pkttype', 'policy', 'quota', 'rateest', 'realm', 'recent', 'rpfilter', 'sctp', 'set', 'socket', 'statistic', 'string', 'tcpmss', 'time', 'tos', 'ttl', 'u32', 'udplite']);
const REAL_TARGETS = new Set(['AUDIT', 'CHECKSUM', 'CLASSIFY', 'CLUSTERIP', 'CONNMARK', 'CONNSECMARK', 'DNAT', 'DSCP', 'ECN', 'HMARK', 'IDLETIMER', 'LED', 'MARK', 'MASQUERADE', 'NETMAP', 'NFLOG', 'NFQUEUE', 'QUEUE', 'RATEEST', 'REDIRECT', 'SECMARK', 'SET', 'SNAT', 'SYNPROXY', 'TEE', 'TOS', 'TPROXY', 'TRACE', 'TTL', 'ULOG']);

const ICMP_CODES: ReadonlyArray<readonly [string, number, number, number]> = [
  ['any', 0xff, 0, 0xff], ['echo-reply', 0, 0, 0xff], ['pong', 0, 0, 0xff],
  ['destination-unreachable', 3, 0, 0xff], ['network-unreachable', 3, 0, 0], ['host-unreachable', 3, 1, 1],
  ['protocol-unreachable', 3, 2, 2], ['port-unreachable', 3, 3, 3], ['fragmentation-needed', 3, 4, 4],
  ['source-route-failed', 3, 5, 5], ['network-unknown', 3, 6, 6], ['host-unknown', 3, 7, 7],
  ['network-prohibited', 3, 9, 9], ['host-prohibited', 3, 10, 10], ['TOS-network-unreachable', 3, 11, 11],
  ['TOS-host-unreachable', 3, 12, 12], ['communication-prohibited', 3, 13, 13], ['host-precedence-violation', 3, 14, 14],
  ['precedence-cutoff', 3, 15, 15], ['source-quench', 4, 0, 0xff], ['redirect', 5, 0, 0xff], ['network-redirect', 5, 0, 0],
  ['host-redirect', 5, 1, 1], ['TOS-network-redirect', 5, 2, 2], ['TOS-host-redirect', 5, 3, 3], ['echo-request', 8, 0, 0xff],
  ['ping', 8, 0, 0xff], ['router-advertisement', 9, 0, 0xff], ['router-solicitation', 10, 0, 0xff], ['time-exceeded', 11, 0, 0xff],
  ['ttl-exceeded', 11, 0, 0xff], ['ttl-zero-during-transit', 11, 0, 0], ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 0xff], ['ip-header-bad', 12, 0, 0], ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 0xff], ['timestamp-reply', 14, 0, 0xff], ['address-mask-request', 17, 0, 0xff],
  ['address-mask-reply', 18, 0, 0xff],
];

/** reject_table, in the kernel's enum order (the prefix match takes the first hit). */
const REJECT_TABLE: ReadonlyArray<readonly [RejectWith, string]> = [
  ['icmp-net-unreachable', 'net-unreach'], ['icmp-host-unreachable', 'host-unreach'], ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'], ['icmp-net-prohibited', 'net-prohib'], ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'], ['icmp-admin-prohibited', 'admin-prohib'],
];

const LOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
const LOG_LEVEL_ALIASES: Readonly<Record<string, number>> = { panic: 0, err: 3, warn: 4 };

// --- the parsed command ---------------------------------------------------------------------

type Cmd = 'A' | 'C' | 'D' | 'DNUM' | 'R' | 'I' | 'L' | 'S' | 'F' | 'Z' | 'ZNUM' | 'N' | 'X' | 'E' | 'P';

interface LoadedExt { name: ExtName; word: number; flags: Set<string>; data: Record<string, unknown> }

interface Parsed {
  cmd: Cmd | null;
  /** L and S may be combined with Z. */
  zero: boolean;
  chain: string | null;
  chainWord: number;
  rulenum: number;
  newname: string | null;
  policy: string | null;
  policyWord: number;
  table: string;
  tableWord: number;
  verbose: number;
  numeric: boolean;
  exact: boolean;
  lineNumbers: boolean;
  options: Set<string>;
  invflags: number;
  proto: number;
  protoText: string | null;
  protoUsed: boolean;
  src: string | null; srcWord: number;
  dst: string | null; dstWord: number;
  iniface: string; inWild: boolean;
  outiface: string; outWild: boolean;
  frag: boolean;
  jumpto: string | null;
  jumpWord: number;
  goto: boolean;
  target: LoadedExt | null;
  matches: LoadedExt[];
  pcnt: number; bcnt: number;
}

const CMD_CHAR: Readonly<Record<Cmd, string>> = { A: 'A', C: 'C', D: 'D', DNUM: 'D', R: 'R', I: 'I', L: 'L', S: 'S', F: 'F', Z: 'Z', ZNUM: 'Z', N: 'N', X: 'X', E: 'E', P: 'P' };

/** commands_v_options: which options each command forbids (x). Columns: -n -s -d -p -j -v -x -i -o --line -c -f. */
const OPT_COLS = ['n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0', 'c', 'f'] as const;
const CMD_OPTS: Readonly<Record<Cmd, string>> = {
  I: 'x     x  x  ', D: 'x     x  xx ', DNUM: 'xxxxx xxxxxx', R: 'x     x  x  ', A: 'x     x  x  ',
  L: ' xxxx  xx xx', F: 'xxxxx xxxxxx', Z: 'xxxxx xxxxxx', N: 'xxxxx xxxxxx', X: 'xxxxx xxxxxx',
  P: 'xxxxx xxxx x', E: 'xxxxx xxxxxx', S: 'xxxxx xxxxxx', ZNUM: 'xxxxx xxxxxx', C: 'x     x  xx ',
};
const OPT_NAME: Readonly<Record<string, string>> = { '0': '-line', c: 'c' };

/** What a word of the command line is, for error positions. */
interface Argv { readonly words: readonly string[]; i: number }

function hasArg(a: Argv): boolean {
  return a.i < a.words.length && !a.words[a.i].startsWith('-') && !a.words[a.i].startsWith('!');
}

/** Run getopt_long and the option handlers (do_parse). Throws XtError. */
function doParse(words: readonly string[], restore: boolean): Parsed {
  const p: Parsed = {
    cmd: null, zero: false, chain: null, chainWord: 0, rulenum: 0, newname: null, policy: null, policyWord: 0,
    table: 'filter', tableWord: 0, verbose: 0, numeric: false, exact: false, lineNumbers: false, options: new Set(),
    invflags: 0, proto: 0, protoText: null, protoUsed: false, src: null, srcWord: 0, dst: null, dstWord: 0,
    iniface: '', inWild: false, outiface: '', outWild: false, frag: false, jumpto: null, jumpWord: 0, goto: false,
    target: null, matches: [], pcnt: 0, bcnt: 0,
  };
  const a: Argv = { words, i: 1 };
  let invert = false;
  let invertWord = 0;
  let tableSet = false;

  const addCommand = (c: Cmd, word: number, others: Cmd[] = []): void => {
    if (invert) throw paramError("unexpected '!' flag", invertWord, 'no ! before a command');
    if (p.cmd !== null && !(others.includes(p.cmd) || (p.cmd === 'L' || p.cmd === 'S') && (c === 'Z' || c === 'ZNUM'))) {
      throw paramError(`Cannot use -${CMD_CHAR[c]} with -${CMD_CHAR[p.cmd]}`, word, 'one command per line');
    }
    if ((c === 'Z' || c === 'ZNUM') && p.cmd !== null) { p.zero = true; return; }
    if ((c === 'L' || c === 'S') && (p.cmd === 'Z' || p.cmd === 'ZNUM')) { p.zero = true; p.cmd = c; return; }
    p.cmd = c;
  };
  const setOption = (o: string, word: number, invertable: number): void => {
    if (p.options.has(o)) throw paramError(`multiple -${OPT_NAME[o] ?? o} flags not allowed`, word, `-${o} once`);
    p.options.add(o);
    if (invert) {
      if (!invertable) throw paramError(`cannot have ! before -${OPT_NAME[o] ?? o}`, invertWord, `no ! before -${o}`);
      p.invflags |= invertable;
    }
  };
  const ruleNumber = (w: string, word: number): number => {
    if (!/^\d+$/.test(w) || Number(w) < 1 || Number(w) > 0x7fffffff) throw paramError(`Invalid rule number \`${w}'`, word, 'a rule number (1 = first)');
    return Number(w);
  };
  const optionalChain = (attached: string | null): void => {
    if (attached !== null) { p.chain = attached; p.chainWord = a.i - 1; }
    else if (hasArg(a)) { p.chainWord = a.i; p.chain = words[a.i++]; }
  };

  /** Options of the loaded extensions: the first loaded wins on a name (getopt's table order). */
  const extOptions = (): Array<{ ext: LoadedExt; spec: OptSpec }> => {
    const out: Array<{ ext: LoadedExt; spec: OptSpec }> = [];
    for (const m of p.matches) for (const spec of EXT_OPTS[m.name]) out.push({ ext: m, spec });
    if (p.target) for (const spec of EXT_OPTS[p.target.name]) out.push({ ext: p.target, spec });
    return out;
  };

  /** load_proto: after -p, the protocol's match loads on demand for an option no one took. */
  const loadProto = (word: number): boolean => {
    if (p.protoText === null || p.protoUsed) return false;
    const name = protoName(p.proto);
    if (name !== 'tcp' && name !== 'udp' && name !== 'icmp') return false;
    if (p.matches.some(m => m.name === name)) return false;
    p.protoUsed = true;
    p.matches.push(newExt(name, word));
    return true;
  };

  while (a.i < words.length) {
    const word = a.i;
    const w = words[a.i++];
    if (w === '!') {
      if (invert) throw paramError('multiple consecutive ! not allowed', word, 'one !');
      invert = true;
      invertWord = word;
      continue;
    }
    let opt: string;
    let optarg: string | null = null;
    let longName: string | null = null;
    if (w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      const name = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      const attached = eq >= 0 ? w.slice(eq + 1) : null;
      let found = resolveLong(name, BASE_OPTS.map(s => ({ ext: null as LoadedExt | null, spec: s })).concat(extOptions()), word);
      if (!found && loadProto(word)) found = resolveLong(name, BASE_OPTS.map(s => ({ ext: null as LoadedExt | null, spec: s })).concat(extOptions()), word);
      if (!found) throw paramError(`unknown option "${w}"`, word, expectedOptions(p));
      longName = found.spec.name;
      if (found.spec.arg === 1) {
        if (attached !== null) optarg = attached;
        else if (a.i < words.length) optarg = words[a.i++];
        else throw paramError(found.ext ? `${extLabel(found.ext)}: option "--${found.spec.name}" requires an argument.\n` : `option "${w}" requires an argument`, word, `a value after ${w}`);
      } else if (found.spec.arg === 2) optarg = attached;
      else if (attached !== null) throw paramError(`unknown option "${w}"`, word, `--${found.spec.name} without a value`);
      if (found.ext) {
        extOption(p, found.ext, found.spec.val, optarg, words, a, word, invert, invertWord);
        invert = false;
        continue;
      }
      opt = found.spec.val;
    } else if (w.startsWith('-') && w.length > 1) {
      // A cluster of short options: each letter; one taking an argument ends the cluster.
      let k = 1;
      opt = '';
      for (; k < w.length; k++) {
        const c = w[k];
        const kind = SHORT[c];
        if (kind === undefined) throw paramError(`unknown option "${w}"`, word, expectedOptions(p));
        if (kind === 0) {
          if (k < w.length - 1) { handleFlag(c, word); continue; }
          opt = c;
          break;
        }
        const rest = w.slice(k + 1);
        if (rest !== '') optarg = rest;
        else if (kind === 1) {
          if (a.i >= words.length) throw paramError(`option "-${c}" requires an argument`, word, `a value after -${c}`);
          optarg = words[a.i++];
        }
        opt = c;
        break;
      }
    } else {
      throw Object.assign(paramError(`Bad argument \`${w}'`, word, 'an option (a word starting with -)'), { bare: true });
    }
    handleOption(opt, optarg, word, longName);
    invert = false;
  }
  if (invert) throw paramError('nothing appropriate following !', invertWord, 'an option after !');

  function handleFlag(c: string, word: number): void {
    handleOption(c, null, word, null);
    invert = false;
  }

  function handleOption(c: string, optarg: string | null, word: number, _long: string | null): void {
    switch (c) {
      case 'A': addCommand('A', word); p.chain = optarg; p.chainWord = word; return;
      case 'C': addCommand('C', word); p.chain = optarg; p.chainWord = word; return;
      case 'D':
        addCommand('D', word); p.chain = optarg; p.chainWord = word;
        if (hasArg(a)) { p.rulenum = ruleNumber(words[a.i], a.i); a.i++; p.cmd = 'DNUM'; }
        return;
      case 'R':
        addCommand('R', word); p.chain = optarg; p.chainWord = word;
        if (hasArg(a)) { p.rulenum = ruleNumber(words[a.i], a.i); a.i++; }
        else throw paramError('-R requires a rule number', word, 'a rule number after the chain');
        return;
      case 'I':
        addCommand('I', word); p.chain = optarg; p.chainWord = word;
        p.rulenum = 1;
        if (hasArg(a)) { p.rulenum = ruleNumber(words[a.i], a.i); a.i++; }
        return;
      case 'L': case 'S':
        addCommand(c, word, ['Z', 'ZNUM']);
        optionalChain(optarg);
        if (hasArg(a)) { p.rulenum = ruleNumber(words[a.i], a.i); a.i++; }
        return;
      case 'F': addCommand('F', word); optionalChain(optarg); return;
      case 'Z':
        addCommand('Z', word, ['L', 'S']);
        if (p.cmd === 'L' || p.cmd === 'S') return;
        optionalChain(optarg);
        if (hasArg(a)) { p.rulenum = ruleNumber(words[a.i], a.i); a.i++; p.cmd = 'ZNUM'; }
        return;
      case 'N':
        assertValidChainName(optarg!, word);
        addCommand('N', word); p.chain = optarg; p.chainWord = word; return;
      case 'X': addCommand('X', word); optionalChain(optarg); return;
      case 'E':
        addCommand('E', word); p.chain = optarg; p.chainWord = word;
        if (hasArg(a)) p.newname = words[a.i++];
        else throw paramError('-E requires old-chain-name and new-chain-name', word, 'the new chain name');
        return;
      case 'P':
        addCommand('P', word); p.chain = optarg; p.chainWord = word;
        if (hasArg(a)) { p.policyWord = a.i; p.policy = words[a.i++]; }
        else throw paramError('-P requires a chain and a policy', word, 'a policy (ACCEPT or DROP)');
        return;
      case 'h':
        throw paramError('-h: help is not modelled', word, 'a command (man iptables for the options)');
      case 'V':
        throw Object.assign(new XtError(1, '', word, ''), { version: true });
      case 'p': {
        setOption('p', word, XT_INV_PROTO);
        const s = optarg!.toLowerCase();
        p.protoText = s;
        p.proto = parseProtocol(s, word + (optarg === words[word] ? 0 : 1));
        if (p.proto === 0 && (p.invflags & XT_INV_PROTO)) throw paramError('rule would never match protocol', word, 'a protocol other than all after !');
        return;
      }
      case 's': setOption('s', word, IPT_INV_SRCIP); p.src = optarg; p.srcWord = word + 1; return;
      case 'd': setOption('d', word, IPT_INV_DSTIP); p.dst = optarg; p.dstWord = word + 1; return;
      case 'g':
        setOption('j', word, 0);
        p.goto = true;
        p.jumpto = parseTargetName(optarg!, word + 1);
        p.jumpWord = word + 1;
        return;
      case 'j':
        setOption('j', word, 0);
        p.jumpto = parseTargetName(optarg!, word + 1);
        p.jumpWord = word + 1;
        if (TARGETS.has(p.jumpto) && EXT_OPTS[p.jumpto as ExtName]) p.target = newExt(p.jumpto as ExtName, word + 1);
        return;
      case 'i': case 'o': {
        if (optarg === '') throw paramError('Empty interface is likely to be undesired', word, 'an interface name');
        setOption(c, word, c === 'i' ? IPT_INV_VIA_IN : IPT_INV_VIA_OUT);
        const v = optarg!;
        if (v.length >= 16) throw paramError(`interface name \`${v}' must be shorter than 16 characters`, word + 1, 'an interface name under 16 characters');
        const wild = v.endsWith('+');
        const name = wild ? v.slice(0, -1) : v;
        if (c === 'i') { p.iniface = name; p.inWild = wild; } else { p.outiface = name; p.outWild = wild; }
        return;
      }
      case 'f': setOption('f', word, IPT_INV_FRAG); p.frag = true; return;
      case 'v': if (!p.verbose) setOption('v', word, 0); p.verbose++; return;
      case 'm': {
        if (invert) throw paramError('unexpected ! flag before --match', invertWord, 'no ! before -m');
        const name = optarg!;
        if (!MATCHES.has(name)) {
          if (REAL_MATCHES.has(name)) throw paramError(`lvsim: the ${name} match is not modelled (modelled: ${[...MATCHES].join(', ')})`, word + 1, `one of ${[...MATCHES].join(', ')}`);
          throw paramError(`Couldn't load match \`${name}':No such file or directory\n`, word + 1, `one of ${[...MATCHES].join(', ')}`);
        }
        p.matches.push(newExt(name as ExtName, word + 1));
        return;
      }
      case 'n': setOption('n', word, 0); p.numeric = true; return;
      case 't':
        if (invert) throw paramError('unexpected ! flag before --table', invertWord, 'no ! before -t');
        if (restore && tableSet) throw paramError(`The -t option cannot be used in ${PROG}-restore.\n`, word, 'the table from the *table line');
        p.table = optarg!;
        p.tableWord = word + 1;
        tableSet = true;
        return;
      case 'x': setOption('x', word, 0); p.exact = true; return;
      case 'w': case 'W':
        if (restore) throw paramError(`You cannot use \`-${c}' from ${PROG}-restore`, word, 'no -w in a restore file');
        return;
      case '0': setOption('0', word, 0); p.lineNumbers = true; return;
      case 'M': return;
      case 'c': {
        setOption('c', word, 0);
        let pc = optarg!;
        let bc: string | null = null;
        const comma = pc.indexOf(',', 1);
        if (comma >= 0) { bc = pc.slice(comma + 1); pc = pc.slice(0, comma); }
        else if (hasArg(a)) bc = words[a.i++];
        if (bc === null) throw paramError('-c requires packet and byte counter', word, 'PACKETS BYTES after -c');
        if (!/^\d+/.test(pc)) throw paramError('-c packet counter not numeric', word + 1, 'a packet count');
        if (!/^\d+/.test(bc)) throw paramError('-c byte counter not numeric', word + 2, 'a byte count');
        p.pcnt = parseInt(pc, 10);
        p.bcnt = parseInt(bc, 10);
        return;
      }
      case '4': return;
      case '6': throw paramError('lvsim: IPv6 (-6) is not modelled', word, 'IPv4 rules');
      case 'b': throw paramError('lvsim: -b is not modelled', word, 'an iptables option');
    }
  }

  // After the loop: each extension's final check (xtables_option_mfcall / tfcall).
  for (const m of p.matches) finalCheck(m);
  if (p.target) finalCheck(p.target);
  if (p.cmd === null) throw paramError('no command specified', 0, 'a command: -A, -I, -D, -R, -L, -S, -F, -Z, -N, -X, -E or -P');
  if (p.cmd === 'R' && ((p.src ?? '').includes(',') || (p.dst ?? '').includes(','))) throw paramError('Replacement rule does not specify a unique address', p.srcWord, 'one address');
  genericOptCheck(p);
  if (p.chain !== null && p.chain.length >= 29) throw paramError(`chain name \`${p.chain}' too long (must be under 29 chars)`, p.chainWord, 'a shorter chain name');
  if (['A', 'D', 'DNUM', 'C', 'I', 'R'].includes(p.cmd)) {
    if ((p.chain === 'PREROUTING' || p.chain === 'INPUT') && p.options.has('o')) throw paramError(`Can't use -o with ${p.chain}\n`, p.chainWord, 'no -o on an input chain');
    if ((p.chain === 'POSTROUTING' || p.chain === 'OUTPUT') && p.options.has('i')) throw paramError(`Can't use -i with ${p.chain}\n`, p.chainWord, 'no -i on an output chain');
  }
  return p;
}

function extLabel(e: LoadedExt): string {
  return e.name;
}

function newExt(name: ExtName, word: number): LoadedExt {
  const e: LoadedExt = { name, word, flags: new Set(), data: {} };
  if (name === 'REJECT') e.data.with = 'icmp-port-unreachable';
  if (name === 'LOG') { e.data.level = 4; e.data.prefix = ''; e.data.flags = 0; }
  return e;
}

function resolveLong(name: string, opts: Array<{ ext: LoadedExt | null; spec: OptSpec }>, word: number): { ext: LoadedExt | null; spec: OptSpec } | null {
  const exact = opts.find(o => o.spec.name === name);
  if (exact) return exact;
  const pre = opts.filter(o => o.spec.name.startsWith(name));
  if (pre.length === 0) return null;
  // getopt_long: an abbreviation naming different options is ambiguous.
  const first = pre[0];
  if (pre.some(o => o.spec.val !== first.spec.val || o.ext !== first.ext)) {
    throw paramError(`option '--${name}' is ambiguous; possibilities:${pre.map(o => ` '--${o.spec.name}'`).join('')}`, word, 'the full option name');
  }
  return first;
}

function expectedOptions(p: Parsed): string {
  const ext = p.matches.map(m => m.name).concat(p.target ? [p.target.name] : []);
  return ext.length ? `an iptables option or one of the options of ${ext.join(', ')} (an extension's options need its -p or -m first)` : 'an iptables option (a match option such as --dport needs -p tcp or -m ... first)';
}

/** assert_valid_chain_name (xshared.c). */
function assertValidChainName(name: string, word: number): void {
  if (name.length >= 29) throw paramError(`chain name \`${name}' too long (must be under 29 chars)`, word + 1, 'a shorter chain name');
  if (name.startsWith('-') || name.startsWith('!')) throw paramError(`chain name not allowed to start with \`${name[0]}'`, word + 1, 'a chain name');
  if (TARGETS.has(name) || REAL_TARGETS.has(name)) throw paramError('chain name may not clash with target name', word + 1, 'a name that is not a target');
  if (/\s/.test(name)) throw paramError(`Invalid chain name \`${name}'`, word + 1, 'a chain name without spaces');
}

/** xt_parse_target. */
function parseTargetName(name: string, word: number): string {
  if (name.length < 1) throw paramError('Invalid target name (too short)', word, 'a target');
  if (name.length >= 29) throw paramError(`Invalid target name \`${name}' (28 chars max)`, word, 'a shorter target');
  if (/\s/.test(name)) throw paramError(`Invalid target name \`${name}'`, word, 'a target without spaces');
  return name;
}

/** xtables_parse_protocol: a number, a name iptables knows, else getprotobyname (no /etc/protocols here). */
function parseProtocol(s: string, word: number): number {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(s)) {
    const n = Number(s);
    if (n <= 255) return n;
  }
  for (const [name, num] of CHAIN_PROTOS) if (name === s) return num;
  throw paramError(`unknown protocol "${s}" specified`, word, `a protocol number (0-255) or one of ${CHAIN_PROTOS.map(c => c[0]).join(', ')}`
    + (s === 'ipip' || s === 'ipencap' || s === 'ip-encap' ? '; IP-in-IP is protocol 4: -p 4 (/etc/protocols names it ipencap; its "ipip" is protocol 94)' : ''));
}

/** generic_opt_check. */
function genericOptCheck(p: Parsed): void {
  const cmds: Cmd[] = [p.cmd!];
  if (p.zero) cmds.push('Z');
  OPT_COLS.forEach((o, i) => {
    if (!p.options.has(o)) return;
    let legal = 0;
    for (const c of cmds) {
      if (CMD_OPTS[c][i] !== 'x') legal = 1;
      else if (legal === 0) legal = -1;
    }
    if (legal === -1) throw paramError(`Illegal option \`-${OPT_NAME[o] ?? o}' with this command`, 0, `no -${o} with -${CMD_CHAR[p.cmd!]}`);
  });
}

/** xtables_parse_port: a number 0-65535 (no /etc/services on these hosts). */
function parsePort(s: string, word: number): number {
  if (/^\d+$/.test(s) && Number(s) <= 65535) return Number(s);
  throw paramError(`invalid port/service \`${s}' specified`, word, 'a port number 0-65535 (service names need /etc/services, which these hosts do not have)');
}

function parsePortRange(s: string, word: number): [number, number] {
  const c = s.indexOf(':');
  if (c < 0) { const v = parsePort(s, word); return [v, v]; }
  const lo = c === 0 ? 0 : parsePort(s.slice(0, c), word);
  const hi = c === s.length - 1 ? 0xffff : parsePort(s.slice(c + 1), word);
  if (lo > hi) throw paramError('invalid portrange (min > max)', word, 'LOW:HIGH with LOW <= HIGH');
  return [lo, hi];
}

function parseTcpFlags(s: string, word: number): number {
  let v = 0;
  for (const f of s.split(',')) {
    if (f === '') continue;
    const hit = TCP_FLAG_NAMES.find(([n]) => n.toLowerCase() === f.toLowerCase());
    if (!hit) throw paramError(`Unknown TCP flag \`${f}'`, word, 'SYN, ACK, FIN, RST, URG, PSH, ALL or NONE, comma-separated');
    v |= hit[1];
  }
  return v;
}

/** One option of a loaded extension (its parse function). */
function extOption(p: Parsed, e: LoadedExt, val: string, arg: string | null, words: readonly string[], a: Argv, word: number, invert: boolean, invertWord: number): void {
  const argWord = word + 1;
  const once = (msg: string): void => {
    if (e.flags.has(val)) throw paramError(msg, word, `--${val} once`);
    e.flags.add(val);
  };
  const noInvert = (): void => {
    if (invert) throw paramError(`${e.name}: option "--${val}" cannot be inverted.\n`, invertWord, `no ! before --${val}`);
  };
  switch (e.name) {
    case 'tcp': case 'udp':
      if (val === 'sport' || val === 'dport') {
        once(`Only one \`--${val === 'sport' ? 'source' : 'destination'}-port' allowed`);
        e.data[val] = parsePortRange(arg!, argWord);
        if (invert) e.data.invflags = ((e.data.invflags as number) ?? 0) | (val === 'sport' ? XT_TCP_INV_SRCPT : XT_TCP_INV_DSTPT);
        return;
      }
      if (val === 'syn' || val === 'tcp-flags') {
        if (e.flags.has('flags')) throw paramError("Only one of `--syn' or `--tcp-flags'  allowed", word, 'one of --syn or --tcp-flags');
        e.flags.add('flags');
        if (val === 'syn') { e.data.mask = 0x17; e.data.cmp = 0x02; }
        else {
          const next = words[a.i];
          if (next === undefined || next.startsWith('-') || next.startsWith('!')) throw paramError('--tcp-flags requires two args.', word, 'MASK COMP, e.g. --tcp-flags SYN,ACK SYN,ACK');
          e.data.mask = parseTcpFlags(arg!, argWord);
          e.data.cmp = parseTcpFlags(next, a.i);
          a.i++;
        }
        if (invert) e.data.invflags = ((e.data.invflags as number) ?? 0) | XT_TCP_INV_FLAGS;
        return;
      }
      throw paramError('lvsim: --tcp-option is not modelled', word, 'tcp match options --sport, --dport, --syn, --tcp-flags');
    case 'icmp': {
      if (e.flags.has(val)) throw paramError('icmp: option "--icmp-type" can only be used once.\n', word, '--icmp-type once');
      e.flags.add(val);
      const [type, lo, hi] = parseIcmp(arg!, argWord);
      e.data.type = type; e.data.codeMin = lo; e.data.codeMax = hi; e.data.invert = invert;
      return;
    }
    case 'multiport': {
      if (e.flags.size) throw paramError(`multiport: option "--${val}" cannot be used together with "--${[...e.flags][0]}".\n`, word, 'one of --sports, --dports, --ports');
      e.flags.add(val);
      const nm = protoName(p.proto);
      if (p.invflags & XT_INV_PROTO || (p.proto !== 0 && nm !== 'tcp' && nm !== 'udp' && nm !== 'udplite' && nm !== 'sctp' && p.proto !== 33)) {
        throw paramError('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP', word, '-p tcp or -p udp before -m multiport');
      }
      if (p.proto === 0) throw paramError("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'", word, '-p tcp or -p udp before -m multiport');
      const ports: number[] = [];
      const pflags: boolean[] = [];
      const items = arg!.split(',');
      for (const it of items) {
        if (ports.length >= 15) throw paramError('too many ports specified', argWord, 'at most 15 ports (a range counts two)');
        const c = it.indexOf(':');
        if (c >= 0) {
          if (ports.length === 14) throw paramError('too many ports specified', argWord, 'at most 15 ports (a range counts two)');
          const lo = parsePort(it.slice(0, c), argWord);
          const hi = parsePort(it.slice(c + 1), argWord);
          if (lo >= hi) throw paramError('invalid portrange specified', argWord, 'LOW:HIGH with LOW < HIGH');
          ports.push(lo, hi); pflags.push(true, false);
        } else { ports.push(parsePort(it, argWord)); pflags.push(false); }
      }
      e.data.ports = ports; e.data.pflags = pflags; e.data.flags = val; e.data.invert = invert;
      return;
    }
    case 'conntrack': case 'state': {
      if (val === 'x') throw paramError(`lvsim: conntrack option --${words[word].slice(2)} is not modelled (only --ctstate)`, word, '--ctstate');
      if (e.flags.has(val)) throw paramError(`${e.name}: option "--${val}" can only be used once.\n`, word, `--${val} once`);
      e.flags.add(val);
      e.data.mask = parseStates(arg!, e.name === 'state', argWord);
      e.data.invert = invert;
      return;
    }
    case 'comment':
      noInvert();
      if (e.flags.has(val)) throw paramError('comment: option "--comment" can only be used once.\n', word, '--comment once');
      e.flags.add(val);
      if (arg!.length > 255) throw paramError('Argument must have a maximum length of 255 characters\n', argWord, 'a shorter comment');
      e.data.comment = arg;
      return;
    case 'REJECT': {
      noInvert();
      const s = arg!.toLowerCase();
      const hit = REJECT_TABLE.find(([n, alias]) => n.startsWith(s) || alias.startsWith(s));
      if (!hit || s === '') {
        if ('echo-reply'.startsWith(s) || 'echoreply'.startsWith(s)) throw paramError(`unknown reject type "${arg}"`, argWord, '--reject-with echo-reply no longer supported');
        throw paramError(`unknown reject type "${arg}"`, argWord, REJECT_TABLE.map(r => r[0]).join(', '));
      }
      e.data.with = hit[0];
      e.flags.add(val);
      return;
    }
    case 'LOG':
      noInvert();
      if (e.flags.has(val)) throw paramError(`LOG: option "--${val}" can only be used once.\n`, word, `--${val} once`);
      e.flags.add(val);
      if (val === 'log-level') {
        const s = arg!.toLowerCase();
        let lvl = LOG_LEVELS.indexOf(s);
        if (lvl < 0) lvl = LOG_LEVEL_ALIASES[s] ?? -1;
        if (lvl < 0 && /^\d+$/.test(s) && Number(s) <= 7) lvl = Number(s);
        if (lvl < 0) throw paramError(`log level "${arg}" unknown\n`, argWord, `0-7 or ${LOG_LEVELS.join(', ')}`);
        e.data.level = lvl;
      } else if (val === 'log-prefix') {
        if (arg!.length > 29) throw paramError('Maximum prefix length 29 for --log-prefix', argWord, 'at most 29 characters');
        if (arg!.length === 0) throw paramError('No prefix specified for --log-prefix', argWord, 'a prefix');
        e.data.prefix = arg;
      } else {
        const bit = { 'log-tcp-sequence': 1, 'log-tcp-options': 2, 'log-ip-options': 4, 'log-uid': 8, 'log-macdecode': 0x20 }[val] ?? 0;
        e.data.flags = (e.data.flags as number) | bit;
      }
      return;
    case 'CT': case 'NOTRACK':
      noInvert();
      if (val === 'x') throw paramError(`lvsim: CT option ${words[word]} is not modelled (only --notrack)`, word, '--notrack');
      if (e.flags.has(val)) throw paramError(`CT: option "--${val}" can only be used once.\n`, word, `--${val} once`);
      e.flags.add(val);
      return;
    case 'TCPMSS':
      noInvert();
      if (e.flags.size) {
        const other = [...e.flags][0];
        if (other === val) throw paramError(`TCPMSS: option "--${val}" can only be used once.\n`, word, `--${val} once`);
        throw paramError(`TCPMSS: option "--${val}" cannot be used together with "--${other}".\n`, word, 'one of --set-mss or --clamp-mss-to-pmtu');
      }
      e.flags.add(val);
      if (val === 'set-mss') {
        if (!/^\d+$/.test(arg!) || Number(arg) > 65535) throw paramError('TCPMSS: bad value for option "--set-mss", or out of range (0-65535).\n', argWord, 'an MSS in bytes, e.g. 1440');
        e.data.mss = Number(arg);
      } else e.data.mss = null;
      return;
  }
}

function parseIcmp(s: string, word: number): [number, number, number] {
  let match = -1;
  for (let i = 0; i < ICMP_CODES.length; i++) {
    if (!ICMP_CODES[i][0].toLowerCase().startsWith(s.toLowerCase())) continue;
    if (match >= 0) throw paramError(`Ambiguous ICMP type \`${s}': \`${ICMP_CODES[match][0]}' or \`${ICMP_CODES[i][0]}'?`, word, 'a longer ICMP type name');
    match = i;
  }
  if (match >= 0 && s !== '') return [ICMP_CODES[match][1], ICMP_CODES[match][2], ICMP_CODES[match][3]];
  const m = /^(\d+)(?::(\d+))?(?:\/(\d+)(?::(\d+))?)?(.*)$/.exec(s);
  if (!m || Number(m[1]) > 255) throw paramError(`Unknown ICMP type \`${s}'`, word, 'an ICMP type name (e.g. fragmentation-needed) or TYPE[/CODE]');
  if (m[2] !== undefined && m[2] !== m[1]) throw paramError('ICMP type range not supported', word, 'one ICMP type');
  if (m[5]) throw paramError(`unknown character ${m[5][0]}`, word, 'TYPE[/CODE]');
  if (m[3] === undefined) return [Number(m[1]), 0, 0xff];
  const lo = Number(m[3]);
  const hi = m[4] !== undefined ? Number(m[4]) : lo;
  if (lo > 255 || hi > 255) throw paramError(`Unknown ICMP code \`${s}'`, word, 'a code 0-255');
  return [Number(m[1]), lo, hi];
}

function parseStates(s: string, isState: boolean, word: number): number {
  const names: Record<string, number> = { INVALID: CT_STATE_INVALID, NEW: CT_STATE_NEW, RELATED: CT_STATE_RELATED, ESTABLISHED: CT_STATE_ESTABLISHED, UNTRACKED: CT_STATE_UNTRACKED };
  let mask = 0;
  for (const part of s.split(',')) {
    const v = names[part.toUpperCase()];
    if (v === undefined || part === '') {
      throw paramError(isState ? `Bad state "${part}"` : `Bad ctstate "${part}"`, word, 'a comma-separated list of INVALID, NEW, RELATED, ESTABLISHED, UNTRACKED');
    }
    mask |= v;
  }
  return mask;
}

/** The extensions' final checks (mandatory options). */
function finalCheck(e: LoadedExt): void {
  if (e.name === 'icmp' && !e.flags.has('icmp-type')) throw paramError('icmp: option "--icmp-type" must be specified\n', e.word, '--icmp-type TYPE');
  if (e.name === 'multiport' && !e.flags.size) throw paramError('multiport expection an option', e.word, '--sports, --dports or --ports');
  if ((e.name === 'conntrack' || e.name === 'state') && !e.flags.size) throw paramError(e.name === 'state' ? 'state: option "--state" must be specified\n' : 'conntrack: At least one option is required', e.word, e.name === 'state' ? '--state STATES' : '--ctstate STATES');
  if (e.name === 'comment' && !e.flags.size) throw paramError('comment: option "--comment" must be specified\n', e.word, '--comment TEXT');
  if (e.name === 'TCPMSS' && !e.flags.size) throw paramError('TCPMSS target: At least one parameter is required', e.word, '--set-mss N or --clamp-mss-to-pmtu');
}

// --- building the rule ------------------------------------------------------------------

/** xtables_ipparse_multiple: comma-separated addresses, each with an optional /len or /mask. */
function parseAddrs(s: string, word: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const item of s.split(',')) {
    const slash = item.indexOf('/');
    const host = slash >= 0 ? item.slice(0, slash) : item;
    const maskText = slash >= 0 ? item.slice(slash + 1) : null;
    let mask = 0xffffffff;
    if (maskText !== null) {
      if (/^\d+$/.test(maskText) && Number(maskText) <= 32) mask = Number(maskText) === 0 ? 0 : (0xffffffff << (32 - Number(maskText))) >>> 0;
      else {
        const m = parseIp4(maskText);
        if (m === null) throw paramError(`invalid mask \`${maskText}' specified`, word, 'a prefix length 0-32 or a dotted mask');
        mask = m >>> 0;
      }
    }
    const a = parseIp4(host);
    if (a === null) throw paramError(`host/network \`${host}' not found`, word, 'an IPv4 address (names are not resolved)');
    out.push([(a & mask) >>> 0, mask]);
  }
  return out;
}

function buildMatch(e: LoadedExt): XtMatch {
  const d = e.data;
  switch (e.name) {
    case 'tcp': return { name: 'tcp', spts: (d.sport as [number, number]) ?? [0, 0xffff], dpts: (d.dport as [number, number]) ?? [0, 0xffff], flgMask: (d.mask as number) ?? 0, flgCmp: (d.cmp as number) ?? 0, invflags: (d.invflags as number) ?? 0 };
    case 'udp': return { name: 'udp', spts: (d.sport as [number, number]) ?? [0, 0xffff], dpts: (d.dport as [number, number]) ?? [0, 0xffff], invflags: (d.invflags as number) ?? 0 };
    case 'icmp': return { name: 'icmp', type: d.type as number, codeMin: d.codeMin as number, codeMax: d.codeMax as number, invert: !!d.invert };
    case 'multiport': return { name: 'multiport', flags: d.flags as 'sports' | 'dports' | 'ports', ports: d.ports as number[], pflags: d.pflags as boolean[], invert: !!d.invert };
    case 'conntrack': case 'state': return { name: 'conntrack', stateMask: d.mask as number, invert: !!d.invert, alias: e.name === 'state' };
    case 'comment': return { name: 'comment', comment: d.comment as string };
    default: throw new Error(`not a match: ${e.name}`);
  }
}

function buildTarget(p: Parsed, t: Table): XtTarget {
  const j = p.jumpto;
  if (j === null) return { kind: 'none' };
  if (j === 'ACCEPT' || j === 'DROP' || j === 'RETURN') {
    if (p.goto) throw new IptcError('Invalid argument', true, p.jumpWord, 'a user-defined chain after -g');
    return { kind: 'verdict', verdict: j };
  }
  if (t.chains.some(c => c.name === j)) {
    if (t.chains.find(c => c.name === j)!.hook !== null) throw new IptcError('Invalid argument', true, p.jumpWord, 'a user-defined chain (a built-in chain cannot be jumped to)');
    return { kind: 'jump', chain: j, goto: p.goto };
  }
  if (p.goto) throw paramError(`goto '${j}' is not a chain`, p.jumpWord, `a user-defined chain of the ${t.name} table`);
  const d = p.target?.data ?? {};
  switch (j) {
    case 'REJECT': return { kind: 'REJECT', with: d.with as RejectWith };
    case 'LOG': return { kind: 'LOG', prefix: d.prefix as string, level: d.level as number, flags: d.flags as number };
    case 'TCPMSS': return { kind: 'TCPMSS', mss: d.mss as number | null };
    case 'NOTRACK': return { kind: 'CT', notrack: true, alias: true };
    case 'CT': return { kind: 'CT', notrack: p.target?.flags.has('notrack') ?? false, alias: false };
  }
  if (REAL_TARGETS.has(j)) throw paramError(`lvsim: the ${j} target is not modelled (modelled: ${[...TARGETS].join(', ')} and user chains)`, p.jumpWord, `one of ${[...TARGETS].join(', ')} or a chain of the ${t.name} table`);
  throw paramError(`Couldn't load target \`${j}':No such file or directory\n`, p.jumpWord, `one of ${[...TARGETS].join(', ')} or a chain of the ${t.name} table (${t.chains.map(c => c.name).join(', ')})`);
}

/** The rules a rule-specification stands for (one per source x destination address). */
function buildRules(p: Parsed, t: Table): IptRule[] {
  const srcs = p.src !== null ? parseAddrs(p.src, p.srcWord) : [[0, 0] as [number, number]];
  const dsts = p.dst !== null ? parseAddrs(p.dst, p.dstWord) : [[0, 0] as [number, number]];
  const target = buildTarget(p, t);
  const matches = p.matches.map(buildMatch);
  const out: IptRule[] = [];
  for (const [s, sm] of srcs) {
    for (const [d, dm] of dsts) {
      const ip: Partial<IptIp> = {
        src: s, smsk: sm, dst: d, dmsk: dm, iniface: p.iniface, inWild: p.inWild, outiface: p.outiface, outWild: p.outWild,
        proto: p.proto, frag: p.frag, invflags: p.invflags,
      };
      const r = newRule(ip, matches, target);
      r.pcnt = p.pcnt; r.bcnt = p.bcnt;
      out.push(r);
    }
  }
  return out;
}

/** Rule equality for -D / -C (is_same: the fixed part, every match and the target, not counters). */
function sameRule(a: IptRule, b: IptRule): boolean {
  return JSON.stringify([a.ip, a.matches, a.target]) === JSON.stringify([b.ip, b.matches, b.target]);
}

// --- the kernel's checks at commit (translate_table / xt_check_match / xt_check_target) ----

interface CheckFail { errno: 'EINVAL' | 'ELOOP'; dmesg: string }

const HOOK_NAMES: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** mark_source_chains: the hooks each chain is reached from, and loops. */
function checkTable(t: Table): CheckFail | null {
  const hooks = new Map<Chain, Set<Hook>>();
  for (const c of t.chains) hooks.set(c, new Set());
  const byName = new Map(t.chains.map(c => [c.name, c]));
  for (const root of t.chains) {
    if (root.hook === null) continue;
    const walk = (c: Chain, path: Set<Chain>): boolean => {
      hooks.get(c)!.add(root.hook!);
      for (const r of c.rules) {
        if (r.target.kind !== 'jump') continue;
        const to = byName.get(r.target.chain);
        if (!to) continue;
        if (path.has(to)) return false;
        path.add(to);
        if (!walk(to, path)) return false;
        path.delete(to);
      }
      return true;
    };
    if (!walk(root, new Set([root]))) return { errno: 'ELOOP', dmesg: 'x_tables: ip_tables: loop detected in chain jumps' };
  }
  for (const c of t.chains) {
    const hs = hooks.get(c)!;
    const used = HOOK_NAMES.filter(h => hs.has(h));
    for (const r of c.rules) {
      for (const m of r.matches) {
        const need = m.name === 'tcp' ? 6 : m.name === 'udp' ? 17 : m.name === 'icmp' ? 1 : 0;
        if (need && (r.ip.proto !== need || (r.ip.invflags & XT_INV_PROTO))) return { errno: 'EINVAL', dmesg: `x_tables: ip_tables: ${m.name} match: only valid for protocol ${need}` };
      }
      const tg = r.target;
      if (tg.kind === 'REJECT') {
        const bad = used.filter(h => h !== 'INPUT' && h !== 'FORWARD' && h !== 'OUTPUT');
        if (bad.length) return { errno: 'EINVAL', dmesg: `x_tables: ip_tables: REJECT target: used from hooks ${bad.join('/')}, but only usable from INPUT/FORWARD/OUTPUT` };
        if (tg.with === 'tcp-reset' && (r.ip.proto !== 6 || (r.ip.invflags & XT_INV_PROTO))) return { errno: 'EINVAL', dmesg: 'ipt_REJECT: TCP_RESET invalid for non-tcp' };
      }
      if (tg.kind === 'CT' && t.name !== 'raw') return { errno: 'EINVAL', dmesg: `x_tables: ip_tables: CT target: only valid in raw table, not ${t.name}` };
      if (tg.kind === 'TCPMSS') {
        if (r.ip.proto !== 6 || (r.ip.invflags & XT_INV_PROTO)) return { errno: 'EINVAL', dmesg: 'x_tables: ip_tables: TCPMSS target: only valid for protocol 6' };
        if (tg.mss === null && used.some(h => h !== 'FORWARD' && h !== 'OUTPUT' && h !== 'POSTROUTING')) return { errno: 'EINVAL', dmesg: 'xt_TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks' };
        // find_syn_match: a tcp match that only takes SYNs.
        const syn = r.matches.some(m => m.name === 'tcp' && (m.flgCmp & 0x02) && (m.flgMask & 0x02) && !(m.invflags & XT_TCP_INV_FLAGS));
        if (!syn) return { errno: 'EINVAL', dmesg: 'xt_TCPMSS: Only works on TCP SYN packets' };
      }
    }
  }
  return null;
}

// --- running a command --------------------------------------------------------------------

const KNOWN_TABLES: readonly string[] = ['filter', 'mangle', 'raw'];

function tableOf(xt: XtState, name: string, word: number): Table {
  if (name === 'nat' || name === 'security') throw paramError(`lvsim: the ${name} table is not modelled (modelled: filter, mangle, raw)`, word, 'filter, mangle or raw');
  if (!KNOWN_TABLES.includes(name)) {
    throw new XtError(3, `can't initialize iptables table \`${name}': Table does not exist (do you need to insmod?)`, word, 'filter, mangle or raw');
  }
  return xt.table(name as TableName);
}

interface Snapshot { chains: Chain[]; state: Array<{ c: Chain; name: string; policy: Chain['policy']; rules: IptRule[]; pcnt: number; bcnt: number }> }

function snapshot(t: Table): Snapshot {
  return { chains: [...t.chains], state: t.chains.map(c => ({ c, name: c.name, policy: c.policy, rules: [...c.rules], pcnt: c.pcnt, bcnt: c.bcnt })) };
}

function restoreSnapshot(t: Table, s: Snapshot): void {
  t.chains.length = 0;
  t.chains.push(...s.chains);
  for (const x of s.state) { x.c.name = x.name; x.c.policy = x.policy; x.c.rules = x.rules; x.c.pcnt = x.pcnt; x.c.bcnt = x.bcnt; }
}

/** iptc_commit: the kernel checks the new table; on refusal nothing changes. */
function commit(xt: XtState, t: Table, before: Snapshot, host: Host): void {
  const bad = checkTable(t);
  if (bad) {
    restoreSnapshot(t, before);
    printk(host, 6, bad.dmesg);
    throw new IptcError(bad.errno === 'ELOOP' ? 'Too many levels of symbolic links' : 'Invalid argument', bad.errno === 'EINVAL', 0, 'a rule the kernel accepts (see dmesg)');
  }
  xt.commit();
}

function chainOrFail(t: Table, name: string | null, word: number): Chain {
  const c = name === null ? undefined : t.chains.find(x => x.name === name);
  if (!c) throw new IptcError('No chain/target/match by that name', false, word, `a chain of the ${t.name} table: ${t.chains.map(x => x.name).join(', ')}`);
  return c;
}

function insertUserChain(t: Table, c: Chain): void {
  // libiptc keeps user chains sorted by name after the built-in ones.
  let i = t.chains.findIndex(x => x.hook === null && x.name > c.name);
  if (i < 0) i = t.chains.length;
  t.chains.splice(i, 0, c);
}

/** do_command4 against the host. Returns stdout. */
function doCommand(p: Parsed, host: Host, opts: { restore?: boolean } = {}): string {
  const xt = xtOf(host);
  const t = tableOf(xt, p.table, p.tableWord);
  const before = snapshot(t);
  let out = '';
  const cmd = p.cmd!;
  const ruleCmd = cmd === 'A' || cmd === 'D' || cmd === 'C' || cmd === 'I' || cmd === 'R';
  let rules: IptRule[] = [];
  if (ruleCmd) {
    if (p.jumpto !== null && p.target && t.chains.some(c => c.name === p.jumpto)) {
      out += `Warning: using chain ${p.jumpto}, not extension\n`;
    }
    rules = buildRules(p, t);
  }
  switch (cmd) {
    case 'A': {
      const c = chainOrFail(t, p.chain, p.chainWord);
      c.rules.push(...rules);
      break;
    }
    case 'I': {
      const c = chainOrFail(t, p.chain, p.chainWord);
      if (p.rulenum - 1 > c.rules.length) throw new IptcError('Index of insertion too big', false, p.chainWord + 1, `a rule number 1-${c.rules.length + 1}`);
      // Each address pair is inserted at the same index, so the last ends up first (insert_entry).
      for (const r of rules) c.rules.splice(p.rulenum - 1, 0, r);
      break;
    }
    case 'R': {
      const c = chainOrFail(t, p.chain, p.chainWord);
      if (p.rulenum > c.rules.length) throw new IptcError('Index of replacement too big', false, p.chainWord + 1, `a rule number 1-${c.rules.length}`);
      c.rules[p.rulenum - 1] = rules[0];
      break;
    }
    case 'D': case 'C': {
      const c = chainOrFail(t, p.chain, p.chainWord);
      for (const r of rules) {
        const i = c.rules.findIndex(x => sameRule(x, r));
        if (i < 0) throw new IptcError(cmd === 'C' ? 'Bad rule (does a matching rule exist in that chain?)' : 'Bad rule (does a matching rule exist in that chain?)', false, p.chainWord, 'a rule that is in the chain, spelled as iptables -S prints it');
        if (cmd === 'D') c.rules.splice(i, 1);
      }
      if (cmd === 'C') return out;
      break;
    }
    case 'DNUM': {
      const c = chainOrFail(t, p.chain, p.chainWord);
      if (p.rulenum > c.rules.length) throw new IptcError('Index of deletion too big', false, p.chainWord + 1, `a rule number 1-${c.rules.length}`);
      c.rules.splice(p.rulenum - 1, 1);
      break;
    }
    case 'F':
      if (p.chain === null) { for (const c of t.chains) { if (p.verbose) out += `Flushing chain \`${c.name}'\n`; c.rules = []; } }
      else { const c = chainOrFail(t, p.chain, p.chainWord); if (p.verbose) out += `Flushing chain \`${c.name}'\n`; c.rules = []; }
      break;
    case 'Z': case 'ZNUM':
      zero(t, p, () => { if (p.verbose) out += `Zeroing chain \`${p.chain}'\n`; });
      break;
    case 'N':
      if (t.chains.some(c => c.name === p.chain)) throw new IptcError('Chain already exists', false, p.chainWord + 1, 'a new chain name');
      insertUserChain(t, { name: p.chain!, hook: null, policy: 'ACCEPT', pcnt: 0, bcnt: 0, rules: [] });
      break;
    case 'X': {
      const victims = p.chain === null ? t.chains.filter(c => c.hook === null) : [chainOrFail(t, p.chain, p.chainWord)];
      for (const c of victims) {
        if (c.hook !== null) throw new IptcError("Can't delete built-in chain", true, p.chainWord, 'a user-defined chain');
        if (references(t, c.name) > 0) throw new IptcError("Can't delete chain with references left", false, p.chainWord, `remove the rules that jump to ${c.name} first`);
        if (c.rules.length) throw new IptcError('Chain is not empty', false, p.chainWord, `iptables -F ${c.name} first`);
        if (p.verbose) out += `Deleting chain \`${c.name}'\n`;
        t.chains.splice(t.chains.indexOf(c), 1);
      }
      break;
    }
    case 'E': {
      const c = chainOrFail(t, p.chain, p.chainWord);
      if (c.hook !== null) throw new IptcError('Invalid argument', true, p.chainWord, 'a user-defined chain');
      if (t.chains.some(x => x.name === p.newname)) throw new IptcError('File exists', false, p.chainWord + 1, 'a new name');
      assertValidChainName(p.newname!, p.chainWord);
      t.chains.splice(t.chains.indexOf(c), 1);
      for (const x of t.chains) for (const [i, r] of x.rules.entries()) {
        if (r.target.kind === 'jump' && r.target.chain === c.name) x.rules[i] = { ...r, target: { ...r.target, chain: p.newname! } };
      }
      c.name = p.newname!;
      insertUserChain(t, c);
      break;
    }
    case 'P': {
      const c = t.chains.find(x => x.name === p.chain);
      if (!c || c.hook === null) throw new IptcError('Bad built-in chain name', false, p.chainWord, `a built-in chain of the ${t.name} table`);
      if (p.policy !== 'ACCEPT' && p.policy !== 'DROP') throw new IptcError('Bad policy name', true, p.policyWord, 'ACCEPT or DROP');
      c.policy = p.policy;
      if (p.options.has('c')) { c.pcnt = p.pcnt; c.bcnt = p.bcnt; }
      break;
    }
    case 'L':
      out += listEntries(t, p);
      // -L -Z: listed, then zeroed and committed (iptc_zero_entries, iptc_commit).
      if (p.zero) { zero(t, p, () => undefined); xt.commit(); }
      return out;
    case 'S':
      out += listRules(t, p);
      if (p.zero) { zero(t, p, () => undefined); xt.commit(); }
      return out;
  }
  if (!opts.restore) commit(xt, t, before, host);
  return out;
}

function zero(t: Table, p: Parsed, each: () => void): void {
  const chains = p.chain === null ? t.chains : [chainOrFail(t, p.chain, p.chainWord)];
  for (const c of chains) {
    each();
    if (p.rulenum) {
      if (p.rulenum > c.rules.length) throw new IptcError('Index of counter too big', false, p.chainWord + 1, `a rule number 1-${c.rules.length}`);
      c.rules[p.rulenum - 1].pcnt = 0; c.rules[p.rulenum - 1].bcnt = 0;
      continue;
    }
    c.pcnt = 0; c.bcnt = 0;
    for (const r of c.rules) { r.pcnt = 0; r.bcnt = 0; }
  }
}

function references(t: Table, name: string): number {
  let n = 0;
  for (const c of t.chains) for (const r of c.rules) if (r.target.kind === 'jump' && r.target.chain === name) n++;
  return n;
}

// --- listings ---------------------------------------------------------------------------

/** xtables_print_num. */
function printNum(n: number, kmg: boolean, table: boolean): string {
  if (!kmg) return table ? `${String(n).padStart(8)} ` : `${n} `;
  let v = n;
  if (v <= 99999) return table ? `${String(v).padStart(5)} ` : `${v} `;
  for (const unit of ['K', 'M', 'G']) {
    v = Math.floor((v + 500) / 1000);
    if (v <= 9999) return table ? `${String(v).padStart(4)}${unit} ` : `${v}${unit} `;
  }
  v = Math.floor((v + 500) / 1000);
  return table ? `${String(v).padStart(4)}T ` : `${v}T `;
}

function addrText(addr: number, mask: number, numeric: boolean): string {
  if (mask === 0 && !numeric) return 'anywhere';
  let cidr = -1;
  for (let i = 0; i <= 32; i++) if ((i === 0 ? 0 : (0xffffffff << (32 - i)) >>> 0) === mask) cidr = i;
  const m = cidr === -1 ? `/${formatIp4(mask)}` : cidr === 32 ? '' : `/${cidr}`;
  return formatIp4(addr) + m;
}

function portsText(name: string, r: readonly [number, number], invert: boolean): string {
  if (r[0] === 0 && r[1] === 0xffff && !invert) return '';
  const inv = invert ? '!' : '';
  return r[0] === r[1] ? ` ${name}:${inv}${r[0]}` : ` ${name}s:${inv}${r[0]}:${r[1]}`;
}

/** The extensions' print functions (what iptables -L shows after the addresses). */
function printMatch(m: XtMatch, numeric: boolean): string {
  switch (m.name) {
    case 'tcp': {
      let s = ' tcp' + portsText('spt', m.spts, (m.invflags & XT_TCP_INV_SRCPT) !== 0) + portsText('dpt', m.dpts, (m.invflags & XT_TCP_INV_DSTPT) !== 0);
      if (m.flgMask || (m.invflags & XT_TCP_INV_FLAGS)) {
        s += ` flags:${m.invflags & XT_TCP_INV_FLAGS ? '!' : ''}`;
        s += numeric ? `0x${hex2(m.flgMask)}/0x${hex2(m.flgCmp)}` : `${tcpFlagsText(m.flgMask)}/${tcpFlagsText(m.flgCmp)}`;
      }
      return s;
    }
    case 'udp': return ' udp' + portsText('spt', m.spts, (m.invflags & XT_TCP_INV_SRCPT) !== 0) + portsText('dpt', m.dpts, (m.invflags & XT_TCP_INV_DSTPT) !== 0);
    case 'icmp': {
      let s = ' icmp';
      if (!numeric) {
        const hit = ICMP_CODES.find(([, t, lo, hi]) => t === m.type && lo === m.codeMin && hi === m.codeMax);
        if (hit) return `${s} ${m.invert ? '!' : ''}${hit[0]}`;
      }
      if (m.invert) s += ' !';
      s += `type ${m.type}`;
      if (m.codeMin === m.codeMax) s += ` code ${m.codeMin}`;
      else if (m.codeMin !== 0 || m.codeMax !== 0xff) s += ` codes ${m.codeMin}-${m.codeMax}`;
      return s;
    }
    case 'multiport': {
      const parts: string[] = [];
      for (let i = 0; i < m.ports.length; i++) parts.push(m.pflags[i] ? `${m.ports[i]}:${m.ports[++i]}` : String(m.ports[i]));
      return ` multiport ${m.flags} ${m.invert ? ' !' : ''}${parts.join(',')}`;
    }
    case 'conntrack':
      return `${m.invert ? ' !' : ''} ${m.alias ? 'state' : 'ctstate'} ${ctStatesText(m.stateMask)}`;
    case 'comment':
      return ` /* ${m.comment} */`;
  }
}

function printTarget(t: XtTarget, numeric: boolean): string {
  switch (t.kind) {
    case 'REJECT': return ` reject-with ${t.with}`;
    case 'LOG': {
      let s = ' LOG';
      if (numeric) s += ` flags ${t.flags} level ${t.level}`;
      else {
        s += ` level ${LOG_LEVELS[t.level]}`;
        if (t.flags & 1) s += ' tcp-sequence';
        if (t.flags & 2) s += ' tcp-options';
        if (t.flags & 4) s += ' ip-options';
        if (t.flags & 8) s += ' uid';
        if (t.flags & 0x20) s += ' macdecode';
      }
      if (t.prefix !== '') s += ` prefix "${t.prefix}"`;
      return s;
    }
    case 'TCPMSS': return t.mss === null ? ' TCPMSS clamp to PMTU' : ` TCPMSS set ${t.mss}`;
    case 'CT': return t.alias ? ' NOTRACK' : ` CT${t.notrack ? ' notrack' : ''}`;
    default: return '';
  }
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function targetName(r: IptRule): string {
  const t = r.target;
  switch (t.kind) {
    case 'none': return '';
    case 'verdict': return t.verdict;
    case 'jump': return t.chain;
    default: return t.kind;
  }
}

/** list_entries: iptables -L [-v] [-n] [-x] [--line-numbers] [chain [rulenum]]. */
function listEntries(t: Table, p: Parsed): string {
  const verbose = p.verbose > 0;
  const kmg = !p.exact;
  let out = '';
  let found = false;
  for (const c of t.chains) {
    if (p.chain !== null && c.name !== p.chain) continue;
    if (found) out += '\n';
    if (!p.rulenum) {
      out += `Chain ${c.name}`;
      if (c.hook !== null) {
        out += ` (policy ${c.policy}`;
        if (verbose) out += ` ${printNum(c.pcnt, kmg, false)}packets, ${printNum(c.bcnt, kmg, false)}bytes`;
        out += ')\n';
      } else out += ` (${references(t, c.name)} references)\n`;
      if (p.lineNumbers) out += 'num  ';
      if (verbose) out += kmg ? ' pkts bytes ' : '    pkts      bytes ';
      out += 'target     prot opt';
      if (verbose) out += ' in     out    ';
      out += ' source               destination         \n';
    }
    c.rules.forEach((r, i) => {
      if (p.rulenum && i + 1 !== p.rulenum) return;
      let s = '';
      if (p.lineNumbers) s += `${String(i + 1).padEnd(4)} `;
      if (verbose) s += printNum(r.pcnt, kmg, true) + printNum(r.bcnt, kmg, true);
      s += `${targetName(r).padEnd(9)} `;
      const ip = r.ip;
      s += ip.invflags & XT_INV_PROTO ? '!' : ' ';
      const pname = protoName(ip.proto);
      s += (p.numeric || pname === null ? String(ip.proto) : pname).padEnd(4) + ' ';
      s += `${ip.invflags & IPT_INV_FRAG ? '!' : '-'}${ip.frag ? 'f' : '-'} `;
      if (verbose) {
        const any = p.numeric ? '*' : 'any';
        const inName = `${ip.invflags & IPT_INV_VIA_IN ? '!' : ''}${ip.iniface !== '' || ip.inWild ? ip.iniface + (ip.inWild ? '+' : '') : any}`;
        const outName = `${ip.invflags & IPT_INV_VIA_OUT ? '!' : ''}${ip.outiface !== '' || ip.outWild ? ip.outiface + (ip.outWild ? '+' : '') : any}`;
        s += ` ${inName.padEnd(6)} ${outName.padEnd(6)} `;
      }
      s += `${ip.invflags & IPT_INV_SRCIP ? '!' : ' '}${addrText(ip.src, ip.smsk, p.numeric).padEnd(19)} `;
      s += `${ip.invflags & IPT_INV_DSTIP ? '!' : ' '}${addrText(ip.dst, ip.dmsk, p.numeric).padEnd(19)} `;
      if (r.target.kind === 'jump' && r.target.goto) s += '[goto] ';
      for (const m of r.matches) s += printMatch(m, p.numeric);
      s += printTarget(r.target, p.numeric);
      out += s + '\n';
    });
    found = true;
  }
  if (!found) throw new IptcError('No chain/target/match by that name', false, p.chainWord, `a chain of the ${t.name} table: ${t.chains.map(x => x.name).join(', ')}`);
  return out;
}

/** print_rule4 with iptables -S -v's " -c P B" before the target. */
function ruleWithCounters(c: Chain, r: IptRule): string {
  const full = saveRule(c.name, r);
  const tgt = r.target.kind === 'none' ? '' : full.slice(full.lastIndexOf(r.target.kind === 'jump' && r.target.goto ? ' -g ' : ' -j '));
  const head = tgt === '' ? full : full.slice(0, full.length - tgt.length);
  return `${head} -c ${r.pcnt} ${r.bcnt}${tgt}`;
}

/** list_rules: iptables -S [-v] [chain [rulenum]]. */
function listRules(t: Table, p: Parsed): string {
  let out = '';
  let found = false;
  if (!p.rulenum) {
    for (const c of t.chains) {
      if (p.chain !== null && c.name !== p.chain) continue;
      out += c.hook !== null ? `-P ${c.name} ${c.policy}${p.verbose ? ` -c ${c.pcnt} ${c.bcnt}` : ''}\n` : `-N ${c.name}\n`;
    }
  }
  for (const c of t.chains) {
    if (p.chain !== null && c.name !== p.chain) continue;
    c.rules.forEach((r, i) => {
      if (p.rulenum && i + 1 !== p.rulenum) return;
      out += (p.verbose ? ruleWithCounters(c, r) : saveRule(c.name, r)) + '\n';
    });
    found = true;
  }
  if (!found) throw new IptcError('No chain/target/match by that name', false, p.chainWord, `a chain of the ${t.name} table: ${t.chains.map(x => x.name).join(', ')}`);
  return out;
}

// --- the tools ------------------------------------------------------------------------------

function toolFail(e: unknown, prog: string, line: number | null, wordBase = 0): ToolResult {
  if (e instanceof XtError) {
    if ((e as XtError & { version?: boolean }).version) return { exit: 0, stdout: `${prog} v${VERSION} (legacy)\n`, stderr: '' };
    if ((e as XtError & { bare?: boolean }).bare) {
      return { exit: 2, stdout: '', stderr: `${e.message}\n${line !== null ? `Error occurred at line: ${line}\n` : ''}Try \`${prog} -h' or '${prog} --help' for more information.\n`, errorAt: { word: e.word + wordBase, expected: e.expected } };
    }
    return { exit: e.status, stdout: '', stderr: formatXtError(e, prog, line), errorAt: { word: e.word + wordBase, expected: e.expected } };
  }
  if (e instanceof IptcError) {
    return { exit: 1, stdout: '', stderr: `${prog}: ${e.message}.${e.einval ? " Run `dmesg' for more information." : ''}\n`, errorAt: { word: e.word + wordBase, expected: e.expected } };
  }
  throw e;
}

/** `iptables ...` (also iptables-legacy). */
export const iptables: Tool = (argv, ctx) => {
  const words = argv.map(w => w.text);
  try {
    const p = doParse(words, false);
    return { exit: 0, stdout: doCommand(p, ctx.host), stderr: '' };
  } catch (e) {
    return toolFail(e, PROG, null);
  }
};

/** ctime() of the virtual clock (the simulation has no wall clock: its epoch is 1970-01-01 00:00 UTC). */
function ctime(ns: number): string {
  const d = new Date(Math.floor(ns / 1e6));
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** What iptables-save prints for one table (do_output). */
export function saveTable(t: Table, counters: boolean, now: number): string {
  let s = `# Generated by iptables-save v${VERSION} on ${ctime(now)}\n*${t.name}\n`;
  for (const c of t.chains) s += c.hook !== null ? `:${c.name} ${c.policy} [${c.pcnt}:${c.bcnt}]\n` : `:${c.name} - [0:0]\n`;
  for (const c of t.chains) for (const r of c.rules) s += `${counters ? `[${r.pcnt}:${r.bcnt}] ` : ''}${saveRule(c.name, r)}\n`;
  return s + `COMMIT\n# Completed on ${ctime(now)}\n`;
}

/** `iptables-save [-c] [-t table]`: every loaded table, newest first (/proc/net/ip_tables_names). */
export const iptablesSave: Tool = (argv, ctx) => {
  let counters = false;
  let table: string | null = null;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i].text;
    if (w === '-c' || w === '--counters') counters = true;
    else if (w === '-t' || w === '--table') {
      table = argv[++i]?.text ?? null;
      if (table === null) return { exit: 2, stdout: '', stderr: "iptables-save: option requires an argument -- 't'\n", errorAt: { word: i - 1, expected: 'a table name' } };
    } else if (/^--table=/.test(w)) table = w.slice(8);
    else if (w === '-M' || w === '--modprobe') i++;
    else return { exit: 1, stdout: '', stderr: 'Unknown arguments found on commandline\n', errorAt: { word: i, expected: '-c, -t TABLE' } };
  }
  const xt = xtOf(ctx.host);
  let out = '';
  if (table !== null) {
    try {
      out = saveTable(tableOf(xt, table, 2), counters, ctx.now);
    } catch (e) {
      if (e instanceof XtError) return { exit: 1, stdout: '', stderr: `iptables-save v${VERSION} (legacy): Cannot initialize: Table does not exist (do you need to insmod?)\n`, errorAt: { word: 2, expected: 'filter, mangle or raw' } };
      throw e;
    }
  } else {
    for (const t of xt.loadOrder()) out += saveTable(t, counters, ctx.now);
  }
  return { exit: 0, stdout: out, stderr: '' };
};

/** Split a restore line into words as iptables-restore's tokenizer does (quotes kept together). */
function restoreWords(line: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\' && i + 1 < line.length) { cur += line[++i]; continue; }
      if (ch === '"') { quote = false; continue; }
      cur += ch;
      continue;
    }
    if (ch === '"') { quote = true; inWord = true; continue; }
    if (ch === ' ' || ch === '\t') { if (inWord) { out.push(cur); cur = ''; inWord = false; } continue; }
    if (ch === '\\' && i + 1 < line.length) { cur += line[++i]; inWord = true; continue; }
    cur += ch;
    inWord = true;
  }
  if (quote) return null;
  if (inWord) out.push(cur);
  return out;
}

/**
 * iptables-restore [-c] [-n] [-T table] < file: each *table block is applied whole at COMMIT
 * (the table is flushed first unless -n); a bad line rejects the block it is in.
 */
export function iptablesRestoreText(host: Host, text: string, opts: { counters?: boolean; noflush?: boolean; table?: string | null } = {}): { ok: boolean; stderr: string; line?: number } {
  const xt = xtOf(host);
  const lines = text.split('\n');
  let table: Table | null = null;
  let before: Snapshot | null = null;
  let skip = false;
  const fail = (lineNo: number, msg: string): { ok: boolean; stderr: string; line: number } => {
    if (table && before) restoreSnapshot(table, before);
    return { ok: false, stderr: msg, line: lineNo };
  };
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n];
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      if (table) return fail(lineNo, `iptables-restore: COMMIT expected at line ${lineNo}\n`);
      const name = line.slice(1).trim();
      skip = opts.table != null && opts.table !== name;
      if (skip) continue;
      try { table = tableOf(xt, name, 0); } catch (e) {
        if (e instanceof XtError) return fail(lineNo, `iptables-restore v${VERSION} (legacy): ${e.message}\nError occurred at line: ${lineNo}\nTry \`iptables-restore -h' or 'iptables-restore --help' for more information.\n`);
        throw e;
      }
      before = snapshot(table);
      if (!opts.noflush) {
        for (const c of table.chains) c.rules = [];
        for (let i = table.chains.length - 1; i >= 0; i--) if (table.chains[i].hook === null) table.chains.splice(i, 1);
      }
      continue;
    }
    if (skip) { if (line === 'COMMIT') skip = false; continue; }
    if (!table) return fail(lineNo, `iptables-restore: no table specified at line ${lineNo}\n`.replace(/^/, '') );
    if (line === 'COMMIT') {
      const bad = checkTable(table);
      if (bad) {
        printk(host, 6, bad.dmesg);
        return fail(lineNo, `iptables-restore: line ${lineNo} failed\n`);
      }
      xt.commit();
      table = null;
      before = null;
      continue;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s*$/.exec(line);
      if (!m) return fail(lineNo, `iptables-restore v${VERSION} (legacy): Bad line ${lineNo}: need ]\nError occurred at line: ${lineNo}\nTry \`iptables-restore -h' or 'iptables-restore --help' for more information.\n`);
      const [, name, policy, pc, bc] = m;
      const existing = table.chains.find(c => c.name === name);
      if (policy === '-') {
        if (existing && existing.hook !== null) return fail(lineNo, `iptables-restore: line ${lineNo} failed\n`);
        if (!existing) insertUserChain(table, { name, hook: null, policy: 'ACCEPT', pcnt: 0, bcnt: 0, rules: [] });
        else if (opts.noflush) existing.rules = [];
        continue;
      }
      if (!existing || existing.hook === null) {
        return fail(lineNo, `iptables-restore v${VERSION} (legacy): Can't set policy \`${policy}' on \`${name}' line ${lineNo}: Bad built-in chain name\n`);
      }
      if (policy !== 'ACCEPT' && policy !== 'DROP') return fail(lineNo, `iptables-restore v${VERSION} (legacy): Can't set policy \`${policy}' on \`${name}' line ${lineNo}: Bad policy name\n`);
      existing.policy = policy;
      if (opts.counters && pc !== undefined) { existing.pcnt = Number(pc); existing.bcnt = Number(bc); }
      continue;
    }
    // A rule line: optional [p:b], then iptables arguments.
    let rest = line;
    let pc: number | null = null;
    let bc = 0;
    const cm = /^\[(\d+):(\d+)\]\s*(.*)$/.exec(rest);
    if (cm) { pc = Number(cm[1]); bc = Number(cm[2]); rest = cm[3]; }
    const ws = restoreWords(rest);
    if (ws === null) return fail(lineNo, `iptables-restore: line ${lineNo} failed\n`);
    try {
      const p = doParse(['iptables', '-t', table.name, ...ws], true);
      if (pc !== null && opts.counters) { p.pcnt = pc; p.bcnt = bc; }
      doCommand(p, host, { restore: true });
    } catch (e) {
      if (e instanceof XtError) {
        const r = toolFail(e, 'iptables-restore', lineNo);
        return fail(lineNo, r.stderr);
      }
      if (e instanceof IptcError) return fail(lineNo, `iptables-restore: line ${lineNo} failed\n`);
      throw e;
    }
  }
  const read = text.endsWith('\n') ? lines.length - 1 : lines.length;
  if (table) return fail(read + 1, `iptables-restore: COMMIT expected at line ${read + 1}\n`);
  return { ok: true, stderr: '' };
}

/** The refused line of a restore input read from a declared file, at its place in that file. */
export function restoreFileError(path: string, text: string, line: number, stderr: string): FileError {
  const raw = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '');
  const lead = raw.length - raw.trimStart().length;
  const body = raw.trim();
  return {
    path, line, col: lead + 1, endCol: lead + 1 + Math.max(1, body.length),
    found: body === '' ? '(end of file)' : body,
    expected: body === '' ? 'COMMIT to end the table block' : 'a line iptables-restore accepts',
    tool: stderr.trim(),
  };
}

/** `iptables-restore [-c] [-n] [-T table] [file]` (reads stdin, or a file the scenario declares). */
export const iptablesRestore: Tool = (argv, ctx) => {
  const opts: { counters?: boolean; noflush?: boolean; table?: string | null } = {};
  let file: string | null = null;
  let fileWord = 0;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i].text;
    if (w === '-c' || w === '--counters') opts.counters = true;
    else if (w === '-n' || w === '--noflush') opts.noflush = true;
    else if (w === '-T' || w === '--table') opts.table = argv[++i]?.text ?? null;
    else if (w === '-w' || w === '--wait' || w === '-v' || w === '--verbose' || w === '-t' || w === '--test') continue;
    else if (!w.startsWith('-') && file === null) { file = w; fileWord = i; }
    else return { exit: 1, stdout: '', stderr: 'Unknown arguments found on commandline\n', errorAt: { word: i, expected: '-c, -n, -T TABLE or a file' } };
  }
  let text = ctx.stdin;
  let path = ctx.stdinPath;
  if (file !== null) {
    text = ctx.files.get(file);
    path = file;
    if (text === undefined) return { exit: 1, stdout: '', stderr: `Can't open ${file}: No such file or directory\n`, errorAt: { word: fileWord, expected: 'a file the scenario declares for this host' } };
  }
  if (text === undefined) return { exit: 1, stdout: '', stderr: 'lvsim: iptables-restore reads the rules from standard input, and none was given\n', errorAt: { word: 0, expected: "the rules on stdin or as an argument: iptables-restore < /etc/sysconfig/iptables (a file in this host's files:)" } };
  const r = iptablesRestoreText(ctx.host, text, opts);
  if (r.ok) return { exit: 0, stdout: '', stderr: '' };
  const failed: ToolResult = { exit: 1, stdout: '', stderr: r.stderr, errorAt: { word: 0, expected: `a valid rule on line ${r.line} of the restore input` } };
  return path !== undefined && r.line !== undefined ? { ...failed, fileErrors: [restoreFileError(path, text, r.line, r.stderr)] } : failed;
};

/** `dmesg [-C]`: the host's kernel log, with printk's [seconds.micro] stamps. */
export const dmesg: Tool = (argv, ctx) => {
  if (argv.slice(1).some(w => w.text === '-C' || w === undefined || w.text === '--clear')) { klogClear(ctx.host); return { exit: 0, stdout: '', stderr: '' }; }
  const out = klogLines(ctx.host).map(l => {
    const us = Math.floor(l.t / 1000);
    return `[${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}] ${l.text}\n`;
  }).join('');
  return { exit: 0, stdout: out, stderr: '' };
};

/** `conntrack -L | -F | -C` (conntrack-tools 1.4): the host's connection tracking table. */
export const conntrack: Tool = (argv, ctx) => {
  const args = argv.slice(1).map(w => w.text);
  const cmd = args.find(a => a.startsWith('-'));
  const table = conntrackOf(ctx.host) ?? (ctx.host.modules.has('nf_conntrack') ? nfConntrackLoad(ctx.host) : null);
  const c = cmd === '--dump' || cmd === '--list' ? '-L' : cmd === '--flush' ? '-F' : cmd === '--count' ? '-C' : cmd;
  if (c === '-L' || c === undefined || c === '-d') {
    if (!table) return { exit: 1, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: No such file or directory\n', errorAt: { word: 0, expected: 'nf_conntrack loaded (modprobe nf_conntrack, or a -m conntrack rule)' } };
    const rows = table.live(ctx.now);
    return { exit: 0, stdout: rows.map(r => conntrackLine(r, ctx.now) + '\n').join(''), stderr: `conntrack v1.4.7 (conntrack-tools): ${rows.length} flow entries have been shown.\n` };
  }
  if (c === '-F') {
    if (table) table.flush();
    return { exit: 0, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n' };
  }
  if (c === '-C') return { exit: 0, stdout: `${table ? table.live(ctx.now).length : 0}\n`, stderr: '' };
  const i = args.indexOf(cmd!) + 1;
  return { exit: 2, stdout: '', stderr: `conntrack v1.4.7 (conntrack-tools): lvsim: conntrack ${cmd} is not modelled (-L, -F, -C)\n`, errorAt: { word: i, expected: '-L, -F or -C' } };
};

/** True when an iptables line only prints (-L, -S, and their --list spellings, without -Z). */
export function iptablesReadOnly(args: readonly string[]): boolean {
  try {
    const p = doParse(['iptables', ...args], false);
    return (p.cmd === 'L' || p.cmd === 'S') && !p.zero;
  } catch {
    return false;
  }
}

/** For tests and replay: a host's rules as iptables-save -c would print every loaded table. */
export function iptablesSaveText(host: Host, counters: boolean, now: number): string {
  return xtOf(host).loadOrder().map(t => saveTable(t, counters, now)).join('');
}

export type { Word, ToolContext };
export { TABLE_HOOKS };
