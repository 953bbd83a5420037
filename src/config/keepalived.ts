/**
 * config/keepalived.ts: keepalived.conf, the keepalived 2.2 grammar an LVS director uses
 * (lib/parser.c `process_stream`, keepalived/check/check_parser.c, check_api.c, check_tcp.c,
 * check_http.c, keepalived/vrrp/vrrp_parser.c).
 *
 * As keepalived reads it: a line is words separated by blanks, `#` or `!` starts a comment, a
 * keyword with a sub-block takes `{` at the end of its line or alone on the next one, `}` closes.
 * Each keyword is looked up in the table of the block it is in; an unknown one is reported as
 * keepalived reports it, "(Line N) Unknown keyword 'x'", and the rest still loads. Bad values are
 * reported in keepalived's words and ignored (keepalived then runs with its default), so a
 * diagnostic here is one `keepalived -t` would print.
 * Deliberately different: an unknown keyword that opens a block has its whole block skipped
 * (keepalived would read the block's lines as keywords of the enclosing block and report each).
 * Not modelled (refused with a message): include, @conditionals and $parameters, virtual_server
 * group and fwmark, IPv6, SSL_GET, MISC_CHECK, SMTP_CHECK, DNS_CHECK, BFD, vrrp_script, scripts
 * (notify*, quorum_up/down, startup/shutdown_script) and notify FIFOs,
 * lvs_sync_daemon's maxlen and a port, ttl or group other than the kernel's.
 */
import { type Ip4, formatIp4, parseIp4, prefixMask } from '../net/addr';
import type { Diagnostic } from './diag';

/** One word of keepalived.conf with where it is. */
export interface KaWord { readonly text: string; readonly line: number; readonly col: number }

/** Timers are kept in ns (keepalived keeps microseconds, TIMER_HZ). */
const S = 1e9;

export interface KaChecker {
  readonly kind: 'TCP_CHECK' | 'HTTP_GET';
  readonly line: number;
  connectIp: Ip4 | null;
  connectPort: number | null;
  bindto: Ip4 | null;
  /** Unset values take the real server's, then the virtual server's, then the defaults (check_data.c `validate_check_config`). */
  connectTimeoutNs: number | null;
  retry: number | null;
  delayBeforeRetryNs: number | null;
  delayLoopNs: number | null;
  warmupNs: number | null;
  urls: Array<{ path: string; statusCodes: number[]; line: number }>;
}

export interface KaRealServer {
  readonly addr: Ip4;
  readonly port: number;
  readonly line: number;
  weight: number;
  inhibit: boolean;
  uThreshold: number;
  lThreshold: number;
  fwd: 'NAT' | 'DR' | 'TUN' | null;
  connectTimeoutNs: number | null;
  retry: number | null;
  delayBeforeRetryNs: number | null;
  delayLoopNs: number | null;
  warmupNs: number | null;
  checkers: KaChecker[];
}

export interface KaVirtualServer {
  readonly addr: Ip4;
  readonly port: number;
  readonly line: number;
  protocol: 'TCP' | 'UDP';
  delayLoopNs: number;
  lbAlgo: string;
  lbKind: 'NAT' | 'DR' | 'TUN';
  /** Seconds; null = not persistent. */
  persistenceTimeout: number | null;
  persistenceGranularity: Ip4 | null;
  /** IP_VS_SVC_F_* from ops, flag-1..3, sh-port, sh-fallback, mh-port, mh-fallback. */
  flags: number;
  quorum: number;
  hysteresis: number;
  inhibit: boolean;
  connectTimeoutNs: number;
  retry: number | null;
  delayBeforeRetryNs: number | null;
  warmupNs: number | null;
  sorryServer: { addr: Ip4; port: number; inhibit: boolean; fwd: 'NAT' | 'DR' | 'TUN' | null; line: number } | null;
  realServers: KaRealServer[];
}

export interface KaVrrpInstance {
  readonly name: string;
  readonly line: number;
  state: 'MASTER' | 'BACKUP' | null;
  iface: string | null;
  vrid: number | null;
  priority: number;
  advertIntNs: number;
  nopreempt: boolean;
  preemptDelayNs: number;
  vips: Array<{ addr: Ip4; len: number; dev: string | null; line: number }>;
  trackInterface: string[];
  garpMasterDelayNs: number;
  garpMasterRepeat: number;
  /**
   * skip_check_adv_addr (or global_defs vrrp_skip_check_adv_addr before the instance): a BACKUP
   * checks the addresses of an advert only when it comes from another master than the last one.
   */
  skipCheckAdvAddr: boolean;
}

/**
 * global_defs `lvs_sync_daemon IFNAME [inst VRRP_INSTANCE] [id SYNCID]` (global_parser.c
 * `lvs_syncd_handler`): with `inst`, the VRRP process runs the IPVS sync daemon as master while
 * that instance is MASTER and as backup otherwise; without, the checker process runs both.
 */
export interface KaLvsSyncd {
  readonly ifname: string;
  inst: string | null;
  /** Unset: the instance's virtual_router_id, or 0 without an instance. */
  syncid: number | null;
  readonly line: number;
}

export interface KaConfig {
  readonly file: string;
  routerId: string | null;
  /** global_defs vrrp_skip_check_adv_addr: the default of the instances that follow it (vrrp_data.c `alloc_vrrp`). */
  vrrpSkipCheckAdvAddr: boolean;
  lvsSyncd: KaLvsSyncd | null;
  virtualServers: KaVirtualServer[];
  vrrpInstances: KaVrrpInstance[];
  syncGroups: Array<{ name: string; line: number; group: string[] }>;
  /** Lines keepalived reads but lvsim does not model: refused when the daemon starts. */
  unmodelled: Array<{ line: number; what: string }>;
}

/** keepalived's own list of IPVS schedulers (check_parser.c `lvs_schedulers`). */
export const KA_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos'];
/** IPVS_SVC_PERSISTENT_TIMEOUT and LVS_MAX_TIMEOUT. */
const PERSISTENT_DEFAULT = 360;
const LVS_MAX_TIMEOUT = 86400 * 31;
/** IPVS_WEIGHT_LIMIT. */
const WEIGHT_LIMIT = 65535;
/** KEEPALIVED_DEFAULT_DELAY. */
export const KA_DEFAULT_DELAY_NS = 60 * S;
const UINT_MAX = 4294967295;

// --------------------------------------------------------------------------- lexing

interface Stmt {
  readonly words: KaWord[];
  children: Stmt[] | null;
  /** The `{` that opened the block (for "missing '}'" reports). */
  open?: KaWord;
}

type Report = (at: KaWord | { line: number; col: number; text: string }, msg: string, expected: string, severity?: 'error' | 'warning') => void;

/** Words of one line, braces apart, comments cut, "quoted strings" kept whole (parser.c `alloc_strvec`). */
function lineWords(text: string, line: number, report: Report): KaWord[] {
  const out: KaWord[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#' || c === '!') break;
    if (c === '{' || c === '}') { out.push({ text: c, line, col: i + 1 }); i++; continue; }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) {
        report({ line, col: i + 1, text: text.slice(i) }, `String '${text.slice(i)}': missing terminating "`, 'a closing "');
        out.push({ text: text.slice(i + 1), line, col: i + 1 });
        break;
      }
      out.push({ text: text.slice(i + 1, end), line, col: i + 1 });
      i = end + 1;
      continue;
    }
    const start = i;
    while (i < text.length && !/[ \t\r{}#!"]/.test(text[i])) i++;
    out.push({ text: text.slice(start, i), line, col: start + 1 });
  }
  return out;
}

/** The file as a tree of statements, blocks nested by braces. */
function parseTree(text: string, report: Report): Stmt[] {
  const root: Stmt[] = [];
  const stack: Array<{ list: Stmt[]; open: KaWord | null }> = [{ list: root, open: null }];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const words = lineWords(lines[n], n + 1, report);
    let cur: KaWord[] = [];
    const flush = () => {
      if (cur.length) stack[stack.length - 1].list.push({ words: cur, children: null });
      cur = [];
    };
    for (const w of words) {
      if (w.text === '{') {
        const list = stack[stack.length - 1].list;
        let owner: Stmt | undefined;
        if (cur.length) { owner = { words: cur, children: null }; list.push(owner); cur = []; }
        else {
          const prev = list[list.length - 1];
          if (prev && prev.children === null) owner = prev;
        }
        if (!owner) {
          report(w, "Unexpected '{' - ignoring", 'a keyword before {');
          owner = { words: [w], children: null };
        }
        owner.children = [];
        owner.open = w;
        stack.push({ list: owner.children, open: w });
      } else if (w.text === '}') {
        flush();
        if (stack.length === 1) report(w, "Extra '}' found", 'a } only after a block was opened with {');
        else stack.pop();
      } else cur.push(w);
    }
    flush();
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1].open!;
    report(open, `There are ${stack.length - 1} missing '}'s or extra '{'s`, `a } closing the block opened at line ${open.line}`);
  }
  return root;
}

// --------------------------------------------------------------------------- values

function unsigned(s: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(s)) return null;
  const v = Number(s);
  return v >= min && v <= max ? v : null;
}

/** read_timer: seconds, with up to 6 decimals; min/max in seconds (max 0 = none). */
function timer(s: string, minS: number, maxS: number): number | null {
  if (!/^\d+(\.\d{1,6})?$/.test(s)) return null;
  const v = Number(s);
  if (v < minS || (maxS > 0 && v > maxS)) return null;
  return Math.round(v * 1e6) * 1e3;
}

/** check_true_false. */
function trueFalse(s: string): boolean | null {
  const l = s.toLowerCase();
  if (l === 'true' || l === 'on' || l === 'yes') return true;
  if (l === 'false' || l === 'off' || l === 'no') return false;
  return null;
}

// --------------------------------------------------------------------------- keyword tables

interface Ctx {
  readonly cfg: KaConfig;
  readonly report: Report;
  /** The needed argument, or a "missing a parameter" report (parser.c `strvec_slot`). */
  arg(st: Stmt, i: number): KaWord | null;
}

type Handler<T> = (st: Stmt, obj: T, ctx: Ctx) => void;
interface Keyword<T> { readonly handler: Handler<T>; readonly block?: boolean }
type Table<T> = Record<string, Keyword<T>>;

const kw = <T>(handler: Handler<T>): Keyword<T> => ({ handler });
const block = <T>(handler: Handler<T>): Keyword<T> => ({ handler, block: true });

/** Run each statement of a block through its keyword table. */
function walk<T>(list: readonly Stmt[] | null, table: Table<T>, obj: T, ctx: Ctx): void {
  for (const st of list ?? []) {
    const k = st.words[0];
    const entry = Object.prototype.hasOwnProperty.call(table, k.text) ? table[k.text] : undefined;
    if (!entry) {
      const keys = Object.keys(table);
      ctx.report(k, `Unknown keyword '${k.text}'`, `a keyword of this block${keys.length <= 8 ? `: ${keys.join(', ')}` : ''}${nearestSuffix(k.text, keys)}`);
      continue;
    }
    if (entry.block && st.children === null) {
      ctx.report(k, "Missing '{' at beginning of configuration block", `${k.text} ... {`);
      continue;
    }
    entry.handler(st, obj, ctx);
  }
}

function nearestSuffix(w: string, options: readonly string[]): string {
  let best = '';
  let bd = 3;
  for (const o of options) {
    const d = distance(w, o);
    if (d < bd) { bd = d; best = o; }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return dp[b.length];
}

/** Keywords keepalived accepts that change nothing lvsim models (mail, SNMP, script security without scripts...). */
const accepted = <T>(): Keyword<T> => kw(() => undefined);
const acceptedBlock = <T>(): Keyword<T> => block(() => undefined);
/** Keywords whose effect lvsim does not model: read, then refused when the daemon starts. */
const unmodelled = <T>(what: string, isBlock = false): Keyword<T> => ({
  block: isBlock,
  handler: (st, _o, ctx) => { ctx.cfg.unmodelled.push({ line: st.words[0].line, what: `${st.words[0].text}: ${what}` }); },
});

/** What the script and FIFO keywords are refused as (keepalived would run or write to them on state changes). */
const SCRIPTS = 'a script (scripts are not run)';
const FIFOS = 'a notify FIFO (notifications are not written)';

const globalDefs: Table<KaConfig> = {
  router_id: kw((st, cfg, ctx) => { const a = ctx.arg(st, 1); if (a) cfg.routerId = a.text; }),
  notification_email: acceptedBlock(),
  notification_email_from: accepted(),
  smtp_server: accepted(),
  smtp_connect_timeout: accepted(),
  smtp_helo_name: accepted(),
  // Without any script to run these change nothing; the keywords that name scripts are refused.
  enable_script_security: accepted(),
  script_user: accepted(),
  startup_script: unmodelled(SCRIPTS),
  startup_script_timeout: accepted(),
  shutdown_script: unmodelled(SCRIPTS),
  shutdown_script_timeout: accepted(),
  // global_parser.c `global_notify_fifo` and friends: state changes written to a FIFO (and its reader script).
  notify_fifo: unmodelled(FIFOS),
  notify_fifo_script: unmodelled(SCRIPTS),
  vrrp_notify_fifo: unmodelled(FIFOS),
  vrrp_notify_fifo_script: unmodelled(SCRIPTS),
  lvs_notify_fifo: unmodelled(FIFOS),
  lvs_notify_fifo_script: unmodelled(SCRIPTS),
  vrrp_notify_priority_changes: accepted(),
  max_auto_priority: accepted(),
  checker_log_all_failures: accepted(),
  dynamic_interfaces: accepted(),
  vrrp_skip_check_adv_addr: kw((_st, cfg) => { cfg.vrrpSkipCheckAdvAddr = true; }),
  vrrp_mcast_group4: unmodelled('a VRRP multicast group other than 224.0.0.18'),
  vrrp_strict: unmodelled('VRRP strict mode'),
  vrrp_garp_master_delay: accepted(),
  vrrp_garp_master_repeat: accepted(),
  vrrp_garp_interval: accepted(),
  vrrp_gna_interval: accepted(),
  lvs_sync_daemon: kw(lvsSyncdHandler),
  lvs_timeouts: unmodelled('IPVS timeouts set by keepalived (use ipvsadm --set)'),
  lvs_flush: accepted(),
};

/** IP_VS_IFNAME_MAXLEN. */
const IFNAME_MAXLEN = 16;
/** The sync daemon's fixed transport (ip_vs_sync.c): the only values lvsim models for port, ttl and group. */
const SYNC_DEFAULTS: Record<string, string> = { port: '8848', ttl: '1', group: '224.0.0.81' };

/** global_parser.c `lvs_syncd_handler`, with keepalived's messages. */
function lvsSyncdHandler(st: Stmt, cfg: KaConfig, ctx: Ctx): void {
  const w = st.words;
  if (cfg.lvsSyncd) {
    ctx.report(w[0], `lvs_sync_daemon has already been specified as ${cfg.lvsSyncd.ifname} ${cfg.lvsSyncd.inst ?? ''} - ignoring`, 'one lvs_sync_daemon line');
    return;
  }
  const ifa = ctx.arg(st, 1);
  if (!ifa) return;
  if (ifa.text.length >= IFNAME_MAXLEN) {
    ctx.report(ifa, `lvs_sync_daemon interface name '${ifa.text}' too long - ignoring`, `an interface name of at most ${IFNAME_MAXLEN - 1} characters`);
    return;
  }
  const sd: KaLvsSyncd = { ifname: ifa.text, inst: null, syncid: null, line: w[0].line };
  cfg.lvsSyncd = sd;
  const syncid = (at: KaWord): void => {
    const v = unsigned(at.text, 0, 255);
    if (v === null) ctx.report(at, `Invalid syncid (${at.text}) - defaulting to vrid`, 'a sync id from 0 to 255');
    else sd.syncid = v;
  };
  for (let i = 2; i < w.length; i++) {
    const k = w[i];
    const val = w[i + 1];
    if (k.text === 'inst') {
      if (!val) { ctx.arg(st, i + 1); continue; }
      if (sd.inst !== null) ctx.report(val, `lvs_sync_daemon vrrp instance has already been specified as ${sd.inst} - ignoring`, 'one inst');
      else sd.inst = val.text;
      i++;
      continue;
    }
    if (k.text === 'id') {
      if (!val) { ctx.report(k, 'No value specified for lvs_sync_daemon id, defaulting to vrid', 'id SYNCID'); continue; }
      syncid(val);
      i++;
      continue;
    }
    if (k.text === 'maxlen' || k.text in SYNC_DEFAULTS) {
      if (!val) { ctx.report(k, `No value specified for lvs_sync_daemon ${k.text} - ignoring`, `${k.text} VALUE`); continue; }
      // The kernel's defaults change nothing; any other value would change the sync transport.
      if (SYNC_DEFAULTS[k.text] !== val.text) {
        cfg.unmodelled.push({ line: k.line, what: `lvs_sync_daemon ${k.text} ${val.text}: ${k.text === 'maxlen' ? 'a sync message length limit' : `a sync ${k.text} other than ${SYNC_DEFAULTS[k.text]}`}` });
      }
      i++;
      continue;
    }
    // keepalived before 2.0: lvs_sync_daemon IF VRRP_INSTANCE [SYNCID]
    if (i === 2) { sd.inst = k.text; continue; }
    if (i === 3) {
      if (unsigned(k.text, 0, 255) !== null) ctx.report(k, 'Please use keyword "id" before lvs_sync_daemon SYNCID', `id ${k.text}`);
      syncid(k);
      continue;
    }
    ctx.report(k, `Unknown option ${k.text} specified for lvs_sync_daemon`, 'inst NAME, id SYNCID, maxlen, port, ttl or group');
  }
}

function timerKw<T>(set: (o: T, ns: number) => void, minS: number, maxS: number, msg: (v: string) => string): Keyword<T> {
  return kw((st, o, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const v = timer(a.text, minS, maxS);
    if (v === null) ctx.report(a, msg(a.text), `a time in seconds${minS > 0 ? ` of at least ${minS}` : ''}, such as 3 or 2.5`);
    else set(o, v);
  });
}

function retryKw<T>(set: (o: T, n: number) => void, min: number, msg: (v: string) => string): Keyword<T> {
  return kw((st, o, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const v = unsigned(a.text, min, UINT_MAX);
    if (v === null) ctx.report(a, msg(a.text), `a whole number of retries (${min} or more)`);
    else set(o, v);
  });
}

function fwdOf(st: Stmt, ctx: Ctx, sType: string): 'NAT' | 'DR' | 'TUN' | null {
  const a = ctx.arg(st, 1);
  if (!a) return null;
  if (a.text === 'NAT' || a.text === 'DR' || a.text === 'TUN') {
    if (st.words.length > 2) ctx.report(st.words[2], `lvsim: tunnel options (${st.words.slice(2).map(w => w.text).join(' ')}) are not modelled`, 'TUN alone (IP-in-IP)');
    return a.text;
  }
  ctx.report(a, `PARSER : unknown [${a.text}] routing method for ${sType} server.`, 'NAT, DR or TUN');
  return null;
}

const checkerCommon: Table<KaChecker> = {
  connect_ip: kw((st, c, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const ip = parseIp4(a.text);
    if (ip === null) ctx.report(a, `Invalid connect_ip address ${a.text} - ignoring`, 'an IPv4 address');
    else c.connectIp = ip;
  }),
  connect_port: kw((st, c, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const p = unsigned(a.text, 1, 65535);
    if (p === null) ctx.report(a, `Invalid checker connect_port '${a.text}'`, 'a port from 1 to 65535');
    else c.connectPort = p;
  }),
  bindto: kw((st, c, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const ip = parseIp4(a.text);
    if (ip === null) ctx.report(a, `Invalid bindto address ${a.text} - ignoring`, 'an IPv4 address of this host');
    else c.bindto = ip;
  }),
  bind_port: unmodelled('a fixed source port for the check'),
  bind_if: unmodelled('binding the check to an interface'),
  connect_timeout: timerKw((c, v) => { c.connectTimeoutNs = v; }, 1e-6, UINT_MAX, v => `connect_timeout ${v} invalid - ignoring`),
  fwmark: unmodelled('a firewall mark on the check'),
  retry: retryKw((c, v) => { c.retry = v; }, 0, v => `Invalid retry connection value '${v}'`),
  delay_before_retry: timerKw((c, v) => { c.delayBeforeRetryNs = v; }, 0, 0, v => `Invalid delay_before_retry connection value '${v}'`),
  warmup: timerKw((c, v) => { c.warmupNs = v; }, 0, 0, v => `Invalid warmup connection value '${v}'`),
  delay_loop: timerKw((c, v) => { c.delayLoopNs = v; }, 1e-6, 0, v => `delay_loop '${v}' is invalid - ignoring`),
  alpha: unmodelled('alpha mode'),
  log_all_failures: accepted(),
};

interface Url { path: string; statusCodes: number[]; line: number; hasPath: boolean }
const urlKeywords: Table<Url> = {
  path: kw((st, u, ctx) => { const a = ctx.arg(st, 1); if (a) { u.path = a.text; u.hasPath = true; } }),
  status_code: kw((st, u, ctx) => {
    for (const w of st.words.slice(1)) {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(w.text);
      const lo = m ? Number(m[1]) : 0;
      const hi = m?.[2] ? Number(m[2]) : lo;
      if (!m || lo < 100 || hi > 599 || hi < lo) { ctx.report(w, `Invalid HTTP_GET status code '${w.text}'`, 'a status code from 100 to 599, or a range such as 200-299'); continue; }
      for (let c = lo; c <= hi; c++) u.statusCodes.push(c);
    }
  }),
  digest: unmodelled('an MD5 digest of the page'),
  virtualhost: accepted(),
  regex: unmodelled('regex matching of the page'),
  regex_no_match: unmodelled('regex matching of the page'),
};

const httpGet: Table<KaChecker> = {
  ...checkerCommon,
  nb_get_retry: kw((st, c, ctx) => {
    ctx.report(st.words[0], "nb_get_retry is deprecated - please use 'retry'", 'retry', 'warning');
    const a = ctx.arg(st, 1);
    const v = a ? unsigned(a.text, 0, UINT_MAX) : null;
    if (a && v === null) ctx.report(a, `Invalid nb_get_retry value '${a.text}'`, 'a whole number of retries');
    else if (v !== null) c.retry = v;
  }),
  virtualhost: accepted(),
  http_protocol: accepted(),
  fast_recovery: unmodelled('fast_recovery'),
  enable_sni: accepted(),
  url: block((st, c, ctx) => {
    const u: Url = { path: '', statusCodes: [], line: st.words[0].line, hasPath: false };
    walk(st.children, urlKeywords, u, ctx);
    if (!u.hasPath) { ctx.report(st.words[0], 'HTTP/SSL_GET checker url has no path - ignoring', 'path /... inside url { }'); return; }
    c.urls.push({ path: u.path, statusCodes: u.statusCodes, line: u.line });
  }),
};

function newChecker(kind: KaChecker['kind'], line: number): KaChecker {
  return { kind, line, connectIp: null, connectPort: null, bindto: null, connectTimeoutNs: null, retry: null, delayBeforeRetryNs: null, delayLoopNs: null, warmupNs: null, urls: [] };
}

const realServerKeywords: Table<KaRealServer> = {
  weight: kw((st, rs, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const v = unsigned(a.text, 0, WEIGHT_LIMIT);
    if (v === null) ctx.report(a, `Real server weight ${a.text} is outside range 0-${WEIGHT_LIMIT}`, `a weight from 0 to ${WEIGHT_LIMIT}`);
    else rs.weight = v;
  }),
  lvs_method: kw((st, rs, ctx) => { const f = fwdOf(st, ctx, 'real'); if (f) rs.fwd = f; }),
  uthreshold: kw((st, rs, ctx) => {
    const a = ctx.arg(st, 1);
    const v = a ? unsigned(a.text, 0, UINT_MAX) : null;
    if (a && v === null) ctx.report(a, `Invalid real_server uthreshold '${a.text}' - ignoring`, 'a connection count');
    else if (v !== null) rs.uThreshold = v;
  }),
  lthreshold: kw((st, rs, ctx) => {
    const a = ctx.arg(st, 1);
    const v = a ? unsigned(a.text, 0, UINT_MAX) : null;
    if (a && v === null) ctx.report(a, `Invalid real_server lthreshold '${a.text}' - ignoring`, 'a connection count');
    else if (v !== null) rs.lThreshold = v;
  }),
  inhibit_on_failure: kw((st, rs, ctx) => {
    if (st.words.length < 2) { rs.inhibit = true; return; }
    const v = trueFalse(st.words[1].text);
    if (v === null) ctx.report(st.words[1], `Invalid inhibit_on_failure parameter ${st.words[1].text}`, 'true or false (or nothing)');
    else rs.inhibit = v;
  }),
  // check_parser.c `notify_up_handler`, `notify_down_handler`: run when the real server goes up or down.
  notify_up: unmodelled(SCRIPTS),
  notify_down: unmodelled(SCRIPTS),
  alpha: unmodelled('alpha mode'),
  retry: retryKw((rs, v) => { rs.retry = v; }, 1, v => `retry value invalid - ${v}`),
  delay_before_retry: timerKw((rs, v) => { rs.delayBeforeRetryNs = v; }, 0, 0, v => `real server delay_before_retry '${v}' invalid - ignoring`),
  warmup: timerKw((rs, v) => { rs.warmupNs = v; }, 0, 0, v => `real server warmup '${v}' invalid - ignoring`),
  connect_timeout: timerKw((rs, v) => { rs.connectTimeoutNs = v; }, 1e-6, UINT_MAX, v => `real server connect_timeout ${v} invalid - ignoring`),
  delay_loop: timerKw((rs, v) => { rs.delayLoopNs = v; }, 1e-6, 0, v => `real server delay_loop '${v}' invalid - ignoring`),
  smtp_alert: accepted(),
  virtualhost: accepted(),
  TCP_CHECK: block((st, rs, ctx) => {
    const c = newChecker('TCP_CHECK', st.words[0].line);
    walk(st.children, checkerCommon, c, ctx);
    rs.checkers.push(c);
  }),
  HTTP_GET: block((st, rs, ctx) => {
    const c = newChecker('HTTP_GET', st.words[0].line);
    walk(st.children, httpGet, c, ctx);
    if (!c.urls.length) { ctx.report(st.words[0], 'HTTP/SSL_GET checker has no urls specified - ignoring', 'url { path /... } inside HTTP_GET'); return; }
    rs.checkers.push(c);
  }),
  SSL_GET: unmodelled('SSL_GET (TLS is not modelled)', true),
  MISC_CHECK: unmodelled('MISC_CHECK (scripts are not run)', true),
  SMTP_CHECK: unmodelled('SMTP_CHECK', true),
  DNS_CHECK: unmodelled('DNS_CHECK', true),
  BFD_CHECK: unmodelled('BFD_CHECK', true),
  UDP_CHECK: unmodelled('UDP_CHECK', true),
  PING_CHECK: unmodelled('PING_CHECK', true),
  FILE_CHECK: unmodelled('FILE_CHECK', true),
};

function serverAddr(st: Stmt, ctx: Ctx, what: string, msg: (ip: string, port: string) => string): { addr: Ip4; port: number } | null {
  const a = ctx.arg(st, 1);
  if (!a) return null;
  const p = st.words[2];
  const addr = parseIp4(a.text);
  const port = p ? unsigned(p.text, 1, 65535) : null;
  if (addr === null || (p && port === null)) {
    ctx.report(addr === null ? a : p!, msg(a.text, p?.text ?? '(null)'), `${what} as IPv4-ADDRESS PORT, such as 172.16.197.3 9001`);
    return null;
  }
  // No port: keepalived takes the virtual server's port for the real servers (and 0 for the VS, which is refused below).
  return { addr, port: port ?? 0 };
}

const virtualServerKeywords: Table<KaVirtualServer> = {
  ip_family: kw((st, vs, ctx) => {
    const a = ctx.arg(st, 1);
    if (a && a.text !== 'inet') ctx.report(a, a.text === 'inet6' ? 'IPVS with IPv6 is not supported by this build' : `unknown address family ${a.text}`, 'inet');
  }),
  retry: retryKw((vs, v) => { vs.retry = v; }, 1, v => `retry value invalid - ${v}`),
  delay_before_retry: timerKw((vs, v) => { vs.delayBeforeRetryNs = v; }, 0, 0, v => `virtual server delay before retry '${v}' invalid - ignoring`),
  warmup: timerKw((vs, v) => { vs.warmupNs = v; }, 0, 0, v => `virtual server warmup '${v}' invalid - ignoring`),
  connect_timeout: timerKw((vs, v) => { vs.connectTimeoutNs = v; }, 1e-6, UINT_MAX, v => `virtual server connect_timeout ${v} invalid - ignoring`),
  delay_loop: timerKw((vs, v) => { vs.delayLoopNs = v; }, 1e-6, 0, v => `virtual server delay loop '${v}' invalid - ignoring`),
  inhibit_on_failure: kw((_st, vs) => { vs.inhibit = true; }),
  lb_algo: kw(schedHandler),
  lvs_sched: kw(schedHandler),
  hashed: accepted(),
  ops: kw((_st, vs) => { vs.flags |= 0x0004; }),
  'flag-1': kw((_st, vs) => { vs.flags |= 0x0008; }),
  'flag-2': kw((_st, vs) => { vs.flags |= 0x0010; }),
  'flag-3': kw((_st, vs) => { vs.flags |= 0x0020; }),
  'sh-port': kw(shmhFlag(0x0010, 'sh')),
  'sh-fallback': kw(shmhFlag(0x0008, 'sh')),
  'mh-port': kw(shmhFlag(0x0010, 'mh')),
  'mh-fallback': kw(shmhFlag(0x0008, 'mh')),
  lb_kind: kw((st, vs, ctx) => { const f = fwdOf(st, ctx, 'virtual'); if (f) vs.lbKind = f; }),
  lvs_method: kw((st, vs, ctx) => { const f = fwdOf(st, ctx, 'virtual'); if (f) vs.lbKind = f; }),
  persistence_engine: unmodelled('persistence engines (sip)'),
  persistence_timeout: kw((st, vs, ctx) => {
    if (st.words.length < 2) { vs.persistenceTimeout = PERSISTENT_DEFAULT; return; }
    const v = unsigned(st.words[1].text, 1, LVS_MAX_TIMEOUT);
    if (v === null) ctx.report(st.words[1], 'persistence_timeout invalid', `seconds from 1 to ${LVS_MAX_TIMEOUT}`);
    else vs.persistenceTimeout = v;
  }),
  persistence_granularity: kw((st, vs, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const m = parseIp4(a.text);
    if (m === null) { ctx.report(a, `Invalid IPv4 persistence_granularity specified - ${a.text}`, 'a netmask such as 255.255.255.0'); return; }
    vs.persistenceGranularity = m;
    if (vs.persistenceTimeout === null) vs.persistenceTimeout = PERSISTENT_DEFAULT;
  }),
  protocol: kw((st, vs, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const p = a.text.toUpperCase();
    if (p === 'TCP' || p === 'UDP') vs.protocol = p;
    else if (p === 'SCTP') ctx.report(a, 'lvsim: SCTP services are not modelled', 'TCP or UDP');
    else ctx.report(a, `Unknown protocol ${a.text} - ignoring`, 'TCP, UDP or SCTP');
  }),
  ha_suspend: unmodelled('ha_suspend'),
  smtp_alert: accepted(),
  virtualhost: accepted(),
  alpha: unmodelled('alpha mode'),
  omega: accepted(),
  // check_parser.c `quorum_up_handler`, `quorum_down_handler`: run when the quorum is gained or lost.
  quorum_up: unmodelled(SCRIPTS),
  quorum_down: unmodelled(SCRIPTS),
  quorum: kw((st, vs, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const v = unsigned(a.text, 1, UINT_MAX);
    if (v === null) { ctx.report(a, `Quorum ${a.text} must be in [1, ${UINT_MAX}]. Setting to 1.`, 'a weight sum of 1 or more'); vs.quorum = 1; }
    else vs.quorum = v;
  }),
  hysteresis: kw((st, vs, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const v = unsigned(a.text, 0, UINT_MAX);
    if (v === null) ctx.report(a, `Hysteresis ${a.text} must be in [0, ${UINT_MAX}] - ignoring`, 'a whole number');
    else vs.hysteresis = v;
  }),
  weight: unmodelled('a virtual server weight (used only with virtual_server_group)'),
  sorry_server: kw((st, vs, ctx) => {
    const ep = serverAddr(st, ctx, 'sorry_server', ip => `Invalid sorry server IP address ${ip} - skipping`);
    if (ep) vs.sorryServer = { addr: ep.addr, port: ep.port || vs.port, inhibit: false, fwd: null, line: st.words[0].line };
  }),
  sorry_server_inhibit: kw((st, vs, ctx) => {
    if (vs.sorryServer) vs.sorryServer.inhibit = true;
    else ctx.report(st.words[0], 'Ignoring sorry_server inhibit used before or without sorry_server', 'sorry_server IP PORT before it');
  }),
  sorry_server_lvs_method: kw((st, vs, ctx) => {
    if (!vs.sorryServer) { ctx.report(st.words[0], 'sorry_server forwarding used without sorry_server', 'sorry_server IP PORT before it'); return; }
    const f = fwdOf(st, ctx, 'sorry');
    if (f) vs.sorryServer.fwd = f;
  }),
  real_server: block((st, vs, ctx) => {
    const ep = serverAddr(st, ctx, 'real_server', (ip, port) => `Invalid real server ip address/port ${ip}/${port} - skipping`);
    if (!ep) return;
    const rs: KaRealServer = {
      addr: ep.addr, port: ep.port || vs.port, line: st.words[0].line, weight: 1, inhibit: vs.inhibit, uThreshold: 0, lThreshold: 0, fwd: null,
      connectTimeoutNs: null, retry: null, delayBeforeRetryNs: null, delayLoopNs: null, warmupNs: null, checkers: [],
    };
    walk(st.children, realServerKeywords, rs, ctx);
    vs.realServers.push(rs);
  }),
};

function schedHandler(st: Stmt, vs: KaVirtualServer, ctx: Ctx): void {
  const a = ctx.arg(st, 1);
  if (!a) return;
  if (!KA_SCHEDULERS.includes(a.text)) ctx.report(a, `Invalid lvs_scheduler '${a.text}' - ignoring`, `one of ${KA_SCHEDULERS.join(', ')}${nearestSuffix(a.text, KA_SCHEDULERS)}`);
  else vs.lbAlgo = a.text;
}

function shmhFlag(bit: number, sched: 'sh' | 'mh'): Handler<KaVirtualServer> {
  return (st, vs, ctx) => {
    if (vs.lbAlgo === sched) vs.flags |= bit;
    else ctx.report(st.words[0], `${st.words[0].text} only applies to sh scheduler - ignoring`, `lb_algo ${sched} before it`);
  };
}

const vrrpInstanceKeywords: Table<KaVrrpInstance> = {
  state: kw((st, v, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    if (a.text === 'MASTER' || a.text === 'BACKUP') v.state = a.text;
    else ctx.report(a, `(${v.name}) unknown state '${a.text}', defaulting to BACKUP`, 'MASTER or BACKUP');
  }),
  interface: kw((st, v, ctx) => { const a = ctx.arg(st, 1); if (a) v.iface = a.text; }),
  virtual_router_id: kw((st, v, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const n = unsigned(a.text, 1, 255);
    if (n === null) ctx.report(a, `(${v.name}): VRID '${a.text}' not valid - must be between 1 & 255`, 'a VRID from 1 to 255');
    else v.vrid = n;
  }),
  priority: kw((st, v, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const n = unsigned(a.text, 1, 255);
    if (n === null) ctx.report(a, `(${v.name}) Priority not valid! must be between 1 & 255. Using default 100`, 'a priority from 1 to 255');
    else v.priority = n;
  }),
  advert_int: kw((st, v, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const t = timer(a.text, 0.01, 255);
    if (t === null) ctx.report(a, `(${v.name}) Advert interval (${a.text}) not valid! Must be > 0 - ignoring`, 'seconds, such as 1');
    else v.advertIntNs = t;
  }),
  virtual_ipaddress: block((st, v, ctx) => {
    for (const line of st.children ?? []) {
      const w = line.words;
      const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(w[0].text);
      const addr = m ? parseIp4(m[1]) : null;
      const len = m?.[2] !== undefined ? Number(m[2]) : 32;
      if (addr === null || len > 32) { ctx.report(w[0], `Invalid address ${w[0].text} - skipping`, 'an IPv4 address[/prefix], such as 172.16.29.6/32'); continue; }
      let dev: string | null = null;
      for (let i = 1; i < w.length; i++) {
        if (w[i].text === 'dev' && w[i + 1]) { dev = w[++i].text; continue; }
        if (w[i].text === 'label' && w[i + 1]) { i++; continue; }
        ctx.report(w[i], `lvsim: virtual_ipaddress option '${w[i].text}' is not modelled`, 'ADDRESS[/LEN] [dev DEV] [label LABEL]');
      }
      v.vips.push({ addr, len, dev, line: w[0].line });
    }
  }),
  virtual_ipaddress_excluded: unmodelled('virtual_ipaddress_excluded', true),
  virtual_routes: unmodelled('virtual_routes', true),
  nopreempt: kw((_st, v) => { v.nopreempt = true; }),
  preempt: kw((_st, v) => { v.nopreempt = false; }),
  preempt_delay: timerKw((v, ns) => { v.preemptDelayNs = ns; }, 0, 1000, s => `preempt_delay '${s}' not valid - ignoring`),
  track_interface: block((st, v) => { for (const l of st.children ?? []) v.trackInterface.push(l.words[0].text); }),
  garp_master_delay: timerKw((v, ns) => { v.garpMasterDelayNs = ns; }, 0, 255, s => `garp_master_delay '${s}' invalid - ignoring`),
  garp_master_repeat: kw((st, v, ctx) => {
    const a = ctx.arg(st, 1);
    const n = a ? unsigned(a.text, 1, 255) : null;
    if (a && n === null) ctx.report(a, `garp_master_repeat '${a.text}' invalid - ignoring`, 'a count from 1 to 255');
    else if (n !== null) v.garpMasterRepeat = n;
  }),
  authentication: unmodelled('VRRP authentication', true),
  unicast_peer: unmodelled('unicast VRRP', true),
  unicast_src_ip: unmodelled('unicast VRRP'),
  // vrrp_parser.c `vrrp_notify_*_handler`: run on the instance's transitions.
  notify_master: unmodelled(SCRIPTS),
  notify_backup: unmodelled(SCRIPTS),
  notify_fault: unmodelled(SCRIPTS),
  notify_stop: unmodelled(SCRIPTS),
  notify_deleted: unmodelled(SCRIPTS),
  notify_master_rx_lower_pri: unmodelled(SCRIPTS),
  notify: unmodelled(SCRIPTS),
  notify_priority_changes: accepted(),
  smtp_alert: accepted(),
  track_script: unmodelled('vrrp_script tracking', true),
  dont_track_primary: accepted(),
  // vrrp_parser.c `vrrp_skip_check_adv_addr_handler`: 2.2.7 sets the flag for any valid true/false word, false too.
  skip_check_adv_addr: kw((st, v, ctx) => {
    const a = st.words[1];
    if (a && trueFalse(a.text) === null) ctx.report(a, `(${v.name}) invalid skip_check_adv_addr ${a.text} specified`, 'true or false (or nothing)');
    else v.skipCheckAdvAddr = true;
  }),
  version: unmodelled('VRRP version selection'),
  use_vmac: unmodelled('VMAC interfaces'),
  use_vmac_addr: unmodelled('VMAC interfaces'),
  vmac_xmit_base: unmodelled('VMAC interfaces'),
  use_ipvlan: unmodelled('ipvlan interfaces'),
  // vrrp_parser.c `vrrp_lvs_syncd_handler`: deprecated since 1.2.19, still honoured.
  lvs_sync_daemon_interface: kw((st, v, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    ctx.report(st.words[0], `(${v.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.`, `global_defs { lvs_sync_daemon ${a.text} inst ${v.name} }`);
    if (ctx.cfg.lvsSyncd) {
      ctx.report(a, `(${v.name}) lvs_sync_daemon_interface has already been specified as ${ctx.cfg.lvsSyncd.ifname} - ignoring`, 'one lvs_sync_daemon');
      return;
    }
    ctx.cfg.lvsSyncd = { ifname: a.text, inst: v.name, syncid: null, line: st.words[0].line };
  }),
};

const syncGroupKeywords: Table<{ group: string[] }> = {
  group: block((st, g) => { for (const l of st.children ?? []) for (const w of l.words) g.group.push(w.text); }),
  // vrrp_parser.c `vrrp_gnotify_*_handler`: run on the group's transitions.
  notify_master: unmodelled(SCRIPTS),
  notify_backup: unmodelled(SCRIPTS),
  notify_fault: unmodelled(SCRIPTS),
  notify_stop: unmodelled(SCRIPTS),
  notify: unmodelled(SCRIPTS),
  notify_priority_changes: accepted(),
  track_script: unmodelled('vrrp_script tracking', true),
  smtp_alert: accepted(),
  global_tracking: accepted(),
  track_interface: unmodelled('sync group interface tracking', true),
};

const rootKeywords: Table<KaConfig> = {
  global_defs: block((st, cfg, ctx) => walk(st.children, globalDefs, cfg, ctx)),
  virtual_server: block((st, cfg, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    if (a.text === 'fwmark' || a.text === 'group') { cfg.unmodelled.push({ line: a.line, what: `virtual_server ${a.text}: firewall-mark and group services` }); return; }
    const ep = serverAddr(st, ctx, 'virtual_server', (ip, port) => `Invalid virtual server IP address ${ip}${port === '(null)' ? '' : ` port ${port}`} - skipping`);
    if (!ep) return;
    if (ep.port === 0) { ctx.report(a, `lvsim: virtual_server ${a.text} without a port (port 0, persistent any-port services) is not modelled`, 'virtual_server IP PORT'); return; }
    const vs: KaVirtualServer = {
      addr: ep.addr, port: ep.port, line: st.words[0].line, protocol: 'TCP', delayLoopNs: KA_DEFAULT_DELAY_NS, lbAlgo: 'wlc', lbKind: 'NAT',
      persistenceTimeout: null, persistenceGranularity: null, flags: 0, quorum: 1, hysteresis: 0, inhibit: false, connectTimeoutNs: 5 * S,
      retry: null, delayBeforeRetryNs: null, warmupNs: null, sorryServer: null, realServers: [],
    };
    walk(st.children, virtualServerKeywords, vs, ctx);
    cfg.virtualServers.push(vs);
  }),
  virtual_server_group: unmodelled('virtual_server_group', true),
  vrrp_instance: block((st, cfg, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const v: KaVrrpInstance = {
      name: a.text, line: st.words[0].line, state: null, iface: null, vrid: null, priority: 100, advertIntNs: 1 * S, nopreempt: false,
      preemptDelayNs: 0, vips: [], trackInterface: [], garpMasterDelayNs: 5 * S, garpMasterRepeat: 5, skipCheckAdvAddr: cfg.vrrpSkipCheckAdvAddr,
    };
    walk(st.children, vrrpInstanceKeywords, v, ctx);
    cfg.vrrpInstances.push(v);
  }),
  vrrp_sync_group: block((st, cfg, ctx) => {
    const a = ctx.arg(st, 1);
    if (!a) return;
    const g = { group: [] as string[] };
    walk(st.children, syncGroupKeywords, g, ctx);
    cfg.syncGroups.push({ name: a.text, line: st.words[0].line, group: g.group });
  }),
  vrrp_script: unmodelled('vrrp_script (scripts are not run)', true),
  static_ipaddress: unmodelled('static_ipaddress', true),
  static_routes: unmodelled('static_routes', true),
  include: unmodelled('include of other configuration files'),
  SSL: acceptedBlock(),
  linkbeat_use_polling: accepted(),
};

/** Parse keepalived.conf text. Diagnostics carry keepalived's own message in `tool`. */
export function parseKeepalivedConf(text: string, file: string): { config: KaConfig; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const report: Report = (at, msg, expected, severity = 'error') => {
    diagnostics.push({ file, line: at.line, col: at.col, endCol: at.col + Math.max(1, at.text.length), severity, found: at.text, expected, tool: `(Line ${at.line}) ${msg}` });
  };
  const cfg: KaConfig = { file, routerId: null, vrrpSkipCheckAdvAddr: false, lvsSyncd: null, virtualServers: [], vrrpInstances: [], syncGroups: [], unmodelled: [] };
  const ctx: Ctx = {
    cfg, report,
    arg(st, i) {
      const w = st.words[i];
      if (w) return w;
      const last = st.words[st.words.length - 1];
      report({ line: last.line, col: last.col + last.text.length, text: '' },
        i > 1
          ? `*** Configuration line starting \`${st.words[0].text}\` is missing a parameter after keyword \`${st.words[i - 1].text}\` at word position ${i + 1}`
          : `*** Configuration line starting \`${st.words[0].text}\` is missing a parameter at word position ${i + 1}`,
        `a value after ${last.text}`);
      return null;
    },
  };
  walk(parseTree(text, report), rootKeywords, cfg, ctx);
  // The checks after reading run with no file open: keepalived's messages carry no "(Line N)".
  const after: Report = (at, msg, expected, severity = 'error') => {
    diagnostics.push({ file, line: at.line, col: at.col, endCol: at.col + Math.max(1, at.text.length), severity, found: at.text, expected, tool: msg });
  };
  checkConfig(cfg, after);
  return { config: cfg, diagnostics };
}

/** What keepalived checks after reading (check_data.c `validate_check_config`, vrrp_data checks). */
function checkConfig(cfg: KaConfig, report: Report): void {
  const at = (line: number, text: string) => ({ line, col: 1, text });
  for (const v of cfg.vrrpInstances) {
    if (v.vrid === null) report(at(v.line, v.name), `(${v.name}) the virtual router id must be set`, 'virtual_router_id N inside vrrp_instance');
    else if (v.iface === null) report(at(v.line, v.name), `(${v.name}) Unknown interface!`, 'interface DEV inside vrrp_instance');
    if (!v.vips.length) report(at(v.line, v.name), `(${v.name}) No VIP specified; at least one is sensible`, 'virtual_ipaddress { ADDRESS } inside vrrp_instance', 'warning');
    // vrrp.c `vrrp_complete_instance`: a VRRPv2 advert carries whole seconds, so the interval is rounded.
    if (v.advertIntNs % S) {
      report(at(v.line, v.name), `(${v.name}) VRRPv2 advertisement interval ${(v.advertIntNs / S).toFixed(6)}s must be an integer. rounding`, 'advert_int in whole seconds');
      v.advertIntNs = Math.max(S, Math.floor((v.advertIntNs + S / 2) / S) * S);
    }
  }
  const names = new Set(cfg.vrrpInstances.map(v => v.name));
  // vrrp.c `vrrp_complete_init`: the sync daemon's instance must exist.
  const sd = cfg.lvsSyncd;
  if (sd?.inst != null && !names.has(sd.inst)) {
    report(at(sd.line, sd.inst), `Unable to find vrrp instance ${sd.inst} for lvs_syncd - clearing lvs_syncd config`, 'the name of a vrrp_instance');
    cfg.lvsSyncd = null;
  }
  for (const g of cfg.syncGroups) {
    for (const n of g.group) if (!names.has(n)) report(at(g.line, n), `Virtual router ${n} specified in sync group ${g.name} doesn't exist - ignoring`, 'the name of a vrrp_instance');
  }
}

// --------------------------------------------------------------------------- printing

const secs = (ns: number): string => String(ns / 1e9);

/** The configuration in keepalived's normal form (one keyword a line, 4-space indents): parse(print(c)) = c. */
export function printKeepalivedConf(cfg: KaConfig): string {
  const out: string[] = [];
  const sd = cfg.lvsSyncd;
  if (cfg.routerId !== null || sd) {
    out.push('global_defs {');
    if (cfg.routerId !== null) out.push(`    router_id ${cfg.routerId}`);
    if (sd) out.push(`    lvs_sync_daemon ${sd.ifname}${sd.inst !== null ? ` inst ${sd.inst}` : ''}${sd.syncid !== null ? ` id ${sd.syncid}` : ''}`);
    out.push('}');
  }
  for (const g of cfg.syncGroups) out.push(`vrrp_sync_group ${g.name} {`, '    group {', ...g.group.map(n => `        ${n}`), '    }', '}');
  for (const v of cfg.vrrpInstances) {
    out.push(`vrrp_instance ${v.name} {`);
    if (v.state) out.push(`    state ${v.state}`);
    if (v.iface) out.push(`    interface ${v.iface}`);
    if (v.vrid !== null) out.push(`    virtual_router_id ${v.vrid}`);
    out.push(`    priority ${v.priority}`, `    advert_int ${secs(v.advertIntNs)}`);
    if (v.nopreempt) out.push('    nopreempt');
    if (v.skipCheckAdvAddr) out.push('    skip_check_adv_addr');
    if (v.preemptDelayNs) out.push(`    preempt_delay ${secs(v.preemptDelayNs)}`);
    if (v.trackInterface.length) out.push('    track_interface {', ...v.trackInterface.map(t => `        ${t}`), '    }');
    out.push('    virtual_ipaddress {', ...v.vips.map(a => `        ${formatIp4(a.addr)}/${a.len}${a.dev ? ` dev ${a.dev}` : ''}`), '    }', '}');
  }
  for (const vs of cfg.virtualServers) {
    out.push(`virtual_server ${formatIp4(vs.addr)} ${vs.port} {`, `    delay_loop ${secs(vs.delayLoopNs)}`, `    lb_algo ${vs.lbAlgo}`, `    lb_kind ${vs.lbKind}`, `    protocol ${vs.protocol}`);
    if (vs.persistenceTimeout !== null) out.push(`    persistence_timeout ${vs.persistenceTimeout}`);
    if (vs.persistenceGranularity !== null) out.push(`    persistence_granularity ${formatIp4(vs.persistenceGranularity)}`);
    if (vs.quorum !== 1) out.push(`    quorum ${vs.quorum}`);
    if (vs.hysteresis) out.push(`    hysteresis ${vs.hysteresis}`);
    if (vs.sorryServer) {
      out.push(`    sorry_server ${formatIp4(vs.sorryServer.addr)} ${vs.sorryServer.port}`);
      if (vs.sorryServer.inhibit) out.push('    sorry_server_inhibit');
    }
    for (const rs of vs.realServers) {
      out.push(`    real_server ${formatIp4(rs.addr)} ${rs.port} {`, `        weight ${rs.weight}`);
      if (rs.inhibit) out.push('        inhibit_on_failure');
      for (const c of rs.checkers) {
        out.push(`        ${c.kind} {`);
        if (c.connectIp !== null) out.push(`            connect_ip ${formatIp4(c.connectIp)}`);
        if (c.connectPort !== null) out.push(`            connect_port ${c.connectPort}`);
        if (c.connectTimeoutNs !== null) out.push(`            connect_timeout ${secs(c.connectTimeoutNs)}`);
        if (c.retry !== null) out.push(`            retry ${c.retry}`);
        if (c.delayBeforeRetryNs !== null) out.push(`            delay_before_retry ${secs(c.delayBeforeRetryNs)}`);
        for (const u of c.urls) {
          out.push('            url {', `                path ${u.path}`);
          if (u.statusCodes.length) out.push(`                status_code ${u.statusCodes.join(' ')}`);
          out.push('            }');
        }
        out.push('        }');
      }
      out.push('    }');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** A netmask as the 32-bit value ServiceSpec.netmask takes. */
export function granularityMask(m: Ip4 | null): number {
  return m === null ? prefixMask(32) : m >>> 0;
}
