/**
 * workload/spec.ts: the `workload:` section of a scenario file: who the clients are, when they
 * connect, how long they stay, what happens to the real servers during the run. It reads the
 * same YAML document as config/scenario.ts (which owns the rest of the file) and reports every
 * problem as a Diagnostic with file:line:col; one bad entry never stops the rest from loading.
 *
 *   workload:
 *     seed: 7                      # default: the scenario's seed
 *     director: director           # host whose IPVS is driven (default: the one with a service)
 *     service: 172.16.29.6:9001    # default: the director's first service
 *     from: client                 # client host in packet mode (default: role client)
 *     connections: 100000          # arrivals stop after this many ...
 *     duration: 600s               # ... or at this time, whichever comes first
 *     packet: { connections: 300 } # cap for packet mode (every packet through the kernel model)
 *     sample: 1s                   # metrics interval (default duration / 100)
 *     network: { oneway: 300us, rtt: 2ms }   # flow mode: client->director delay, round trip
 *                                  # (default: the link latencies along the scenario's routes)
 *     clients:
 *       - { name: home, count: 20000, range: 10.1.0.0/16, share: 70 }
 *       - { name: office, count: 300, nat: 198.51.100.7, share: 20 }   # all behind one address
 *       - { name: hot, count: 2, range: 10.9.0.0/30, share: 10 }        # few clients, many conns
 *     arrivals: { process: poisson, rate: 2000 }      # per second; constant | bursts | day
 *     length: { dist: lognormal, median: 1s, sigma: 1.5 }   # greeting read -> client FIN
 *     requests: { dist: exponential, mean: 3 }       # per connection, at least 1
 *     request-bytes: 300
 *     response: { dist: pareto, min: 2000, alpha: 1.3 }     # bytes per request
 *     keepalive: { share: 0.05, length: { dist: exponential, mean: 300s } }
 *     events:
 *       - { at: 60s, exec: "ipvsadm -e -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i -w 1" }
 *       - { at: 90s, fail: rs2 }      # the host stops answering (IPVS keeps scheduling to it)
 *       - { at: 120s, recover: rs2 }
 *       - { at: 150s, host: director, exec: "ipvsadm -d -t 172.16.29.6:9001 -r 10.0.0.9:9001" }
 */
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { readYaml } from '../config/yaml';
import { suggest } from '../config/scenario';
import { costProblem } from './cost';
import { type Diagnostic, tidyDiagnostics } from '../config/diag';
import { parseIp4, type Ip4 } from '../net/addr';

export interface Pos { readonly line: number; readonly col: number; readonly endCol: number }

/** A distribution of a non-negative quantity (ns for durations, plain numbers otherwise). */
export type Dist =
  | { readonly dist: 'fixed'; readonly value: number }
  | { readonly dist: 'exponential'; readonly mean: number }
  | { readonly dist: 'uniform'; readonly min: number; readonly max: number }
  /** Pareto type I: P(X > x) = (min / x)^alpha for x >= min. */
  | { readonly dist: 'pareto'; readonly min: number; readonly alpha: number }
  /** exp(N(ln median, sigma^2)). */
  | { readonly dist: 'lognormal'; readonly median: number; readonly sigma: number };

/** Arrival processes; rates are connections per second. */
export type Arrivals =
  | { readonly process: 'poisson'; readonly rate: number }
  | { readonly process: 'constant'; readonly rate: number }
  /** Poisson at `rate`, at `burstRate` during the first `lengthNs` of every `everyNs`. */
  | { readonly process: 'bursts'; readonly rate: number; readonly burstRate: number; readonly everyNs: number; readonly lengthNs: number }
  /** Poisson with a day-shaped rate: min at phase 0, max half a period later (raised cosine). */
  | { readonly process: 'day'; readonly min: number; readonly max: number; readonly periodNs: number; readonly phaseNs: number };

export interface ClientGroup {
  readonly name: string;
  /** Number of clients (people/machines) in the group. */
  readonly count: number;
  /** First address and how many addresses (clients map onto them round-robin). */
  readonly base: Ip4;
  readonly size: number;
  /** Every client shares one address (behind NAT). */
  readonly nat: boolean;
  /** Relative share of arrivals. */
  readonly share: number;
}

export type WorkloadEvent =
  | { readonly at: number; readonly kind: 'exec'; readonly host: string | null; readonly command: string; readonly pos: Pos }
  | { readonly at: number; readonly kind: 'fail' | 'recover'; readonly host: string; readonly pos: Pos };

export interface WorkloadSpec {
  readonly seed: number | null;
  readonly director: string | null;
  readonly service: { addr: Ip4; port: number } | null;
  readonly from: string | null;
  readonly connections: number;
  readonly durationNs: number;
  readonly packetConnections: number;
  readonly sampleNs: number | null;
  readonly onewayNs: number;
  readonly rttNs: number;
  /** No `network:` given: flow mode takes its delays from the scenario's links and routes. */
  readonly networkFromTopology: boolean;
  readonly clients: readonly ClientGroup[];
  readonly arrivals: Arrivals;
  readonly length: Dist;
  readonly requests: Dist;
  readonly requestBytes: number;
  readonly response: Dist;
  readonly keepaliveShare: number;
  readonly keepaliveLength: Dist;
  readonly events: readonly WorkloadEvent[];
}

export const DEFAULT_WORKLOAD: WorkloadSpec = {
  seed: null, director: null, service: null, from: null,
  connections: 10_000, durationNs: 3600e9, packetConnections: 300, sampleNs: null,
  onewayNs: 300_000, rttNs: 2_000_000, networkFromTopology: true,
  clients: [{ name: 'clients', count: 1000, base: 0x0a010000, size: 65536, nat: false, share: 1 }],
  arrivals: { process: 'poisson', rate: 100 },
  length: { dist: 'exponential', mean: 1e9 },
  requests: { dist: 'fixed', value: 1 },
  requestBytes: 200,
  response: { dist: 'fixed', value: 1000 },
  keepaliveShare: 0,
  keepaliveLength: { dist: 'exponential', mean: 300e9 },
  events: [],
};

const KEYS = ['seed', 'director', 'service', 'from', 'connections', 'duration', 'packet', 'sample', 'network', 'clients', 'arrivals', 'length', 'requests', 'request-bytes', 'response', 'keepalive', 'events'];
const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, min: 60e9, h: 3600e9, d: 86400e9 };

/** "100us", "2.5ms", "3s", "24h", "0" -> ns; null if malformed. */
export function parseDurationNs(s: string): number | null {
  if (s === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|min|m|h|d)$/.exec(s);
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : null;
}

/** A plain non-negative number, with an optional k/M/G suffix (1000s) for sizes and counts. */
function parseNumber(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kMG]?)$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : m[2] === 'G' ? 1e9 : 1);
}

/** Parse the workload section of a scenario; `spec` is null when the file has none. */
export function parseWorkload(text: string, file: string): { spec: WorkloadSpec | null; diagnostics: Diagnostic[] } {
  const y = readYaml(text, file);
  const posOf = y.posOf;
  // Syntax errors belong to the scenario's parse; a text refused outright (too large, too deep) is said here too.
  const diags: Diagnostic[] = y.doc ? [] : y.diagnostics;
  const err = (n: Node | null | undefined, found: string, expected: string): void => {
    const p = posOf(n);
    diags.push({ file, line: p.line, col: p.col, endCol: p.endCol, severity: 'error', found, expected });
  };
  const root = y.doc?.contents;
  if (!isMap(root)) return { spec: null, diagnostics: diags };
  const wn = root.get('workload', true) as Node | undefined;
  if (wn === undefined) return { spec: null, diagnostics: diags };
  if (!isMap(wn)) {
    err(wn, isSeq(wn) ? 'a list' : 'a value', 'workload: a mapping (clients:, arrivals:, length: ...)');
    return { spec: null, diagnostics: diags };
  }
  const str = (n: unknown): string | null =>
    isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number') ? String(n.value).trim() : null;
  const get = (m: YAMLMap, k: string): Node | null => (m.get(k, true) as Node | undefined) ?? null;
  const checkKeys = (m: YAMLMap, allowed: readonly string[], where: string): void => {
    for (const it of m.items as Pair[]) {
      const k = str(it.key);
      if (k === null || !allowed.includes(k)) err(it.key as Node, k ?? '?', `one of the ${where} keys: ${allowed.join(', ')}`);
    }
  };
  const num = (n: Node | null, what: string, lo: number, hi: number, integer = false): number | null => {
    if (n === null) return null;
    const s = str(n) ?? '';
    const v = parseNumber(s);
    if (v === null || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      err(n, s || 'nothing', `${what} (${integer ? 'an integer' : 'a number'} from ${lo} to ${hi})`);
      return null;
    }
    return v;
  };
  const dur = (n: Node | null, what: string, positive = false): number | null => {
    if (n === null) return null;
    const s = str(n) ?? '';
    const v = parseDurationNs(s);
    if (v === null || (positive && v <= 0)) {
      err(n, s || 'nothing', `${what}: a duration such as 500ms, 30s or 24h${positive ? ' (more than 0)' : ''}`);
      return null;
    }
    return v;
  };
  const w = wn;
  checkKeys(w, KEYS, 'workload');
  const d = DEFAULT_WORKLOAD;

  const dist = (n: Node | null, what: string, isDuration: boolean, dflt: Dist): Dist => {
    if (n === null) return dflt;
    const val = (k: string, positive = false): number | null => {
      const v = get(n as YAMLMap, k);
      if (v === null) { err(n, `no ${k}:`, `${k}: for ${what}`); return null; }
      return isDuration ? dur(v, `${what} ${k}`, positive) : num(v, `${what} ${k}`, positive ? 1e-9 : 0, 1e15);
    };
    if (isScalar(n)) {
      const s = str(n) ?? '';
      const v = isDuration ? parseDurationNs(s) : parseNumber(s);
      if (v === null) { err(n, s, `${what}: a ${isDuration ? 'duration' : 'number'} or {dist: ..., ...}`); return dflt; }
      return { dist: 'fixed', value: v };
    }
    if (!isMap(n)) { err(n, 'a list', `${what}: {dist: fixed|exponential|uniform|pareto|lognormal, ...}`); return dflt; }
    const kind = str(get(n, 'dist'));
    const shape = (k: string, lo: number, hi: number): number | null => num(get(n, k) ?? (err(n, `no ${k}:`, `${k}: for ${what}`), null), `${what} ${k}`, lo, hi);
    switch (kind) {
      case 'fixed': { checkKeys(n, ['dist', 'value'], `${what} fixed`); const v = val('value'); return v === null ? dflt : { dist: 'fixed', value: v }; }
      case 'exponential': { checkKeys(n, ['dist', 'mean'], `${what} exponential`); const v = val('mean', true); return v === null ? dflt : { dist: 'exponential', mean: v }; }
      case 'uniform': {
        checkKeys(n, ['dist', 'min', 'max'], `${what} uniform`);
        const a = val('min'); const b = val('max');
        if (a === null || b === null) return dflt;
        if (b < a) { err(get(n, 'max'), str(get(n, 'max')) ?? '', `a max not below min for ${what}`); return dflt; }
        return { dist: 'uniform', min: a, max: b };
      }
      case 'pareto': {
        checkKeys(n, ['dist', 'min', 'alpha'], `${what} pareto`);
        const a = val('min', true); const al = shape('alpha', 0.05, 100);
        return a === null || al === null ? dflt : { dist: 'pareto', min: a, alpha: al };
      }
      case 'lognormal': {
        checkKeys(n, ['dist', 'median', 'sigma'], `${what} lognormal`);
        const m = val('median', true); const s = shape('sigma', 0, 10);
        return m === null || s === null ? dflt : { dist: 'lognormal', median: m, sigma: s };
      }
      default:
        err(get(n, 'dist') ?? n, kind ?? 'no dist:', `dist: fixed, exponential, uniform, pareto or lognormal for ${what}`);
        return dflt;
    }
  };

  const seedN = get(w, 'seed');
  const seed = seedN ? num(seedN, 'a seed', 0, 2 ** 32 - 1, true) : null;
  const director = str(get(w, 'director'));
  const from = str(get(w, 'from'));
  let service: WorkloadSpec['service'] = null;
  const svcN = get(w, 'service');
  if (svcN) {
    const s = str(svcN) ?? '';
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(s);
    const a = m ? parseIp4(m[1]!) : null;
    if (!m || a === null || Number(m[2]) > 65535) err(svcN, s, 'the virtual service as VIP:port, such as 172.16.29.6:9001');
    else service = { addr: a, port: Number(m[2]) };
  }
  const connections = num(get(w, 'connections'), 'connections', 1, 1e8, true) ?? d.connections;
  const durationNs = dur(get(w, 'duration'), 'duration', true) ?? d.durationNs;
  let packetConnections = d.packetConnections;
  const pk = get(w, 'packet');
  if (pk) {
    if (!isMap(pk)) err(pk, 'not a mapping', 'packet: { connections: N }');
    else { checkKeys(pk, ['connections'], 'packet'); packetConnections = num(get(pk, 'connections'), 'packet connections', 1, 1e6, true) ?? packetConnections; }
  }
  const sampleNs = dur(get(w, 'sample'), 'sample', true);
  let onewayNs = d.onewayNs;
  let rttNs = d.rttNs;
  const net = get(w, 'network');
  if (net) {
    if (!isMap(net)) err(net, 'not a mapping', 'network: { oneway: 300us, rtt: 2ms }');
    else {
      checkKeys(net, ['oneway', 'rtt'], 'network');
      onewayNs = dur(get(net, 'oneway'), 'network oneway') ?? onewayNs;
      rttNs = dur(get(net, 'rtt'), 'network rtt', true) ?? rttNs;
    }
  }

  // clients
  const clients: ClientGroup[] = [];
  const cn = get(w, 'clients');
  if (cn) {
    if (!isSeq(cn)) err(cn, 'not a list', 'clients: a list of {name, count, range | nat, share}');
    else (cn.items as Node[]).forEach((g, i) => {
      if (!isMap(g)) { err(g, 'not a mapping', '{name, count, range: 10.1.0.0/16 | nat: 198.51.100.7, share}'); return; }
      checkKeys(g, ['name', 'count', 'range', 'nat', 'share'], 'client group');
      const name = str(get(g, 'name')) ?? `group${i + 1}`;
      const count = num(get(g, 'count'), 'a client count', 1, 1e8, true) ?? 1;
      const share = num(get(g, 'share'), 'a share', 0, 1e9) ?? 1;
      const rn = get(g, 'range');
      const nn = get(g, 'nat');
      if ((rn === null) === (nn === null)) { err(g, rn ? 'both range: and nat:' : 'neither range: nor nat:', 'range: PREFIX (one address per client) or nat: ADDRESS (all clients behind one address)'); return; }
      if (nn) {
        const a = parseIp4(str(nn) ?? '');
        if (a === null) { err(nn, str(nn) ?? '?', 'the shared (NAT) address, such as 198.51.100.7'); return; }
        clients.push({ name, count, base: a, size: 1, nat: true, share });
        return;
      }
      const s = str(rn) ?? '';
      const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d{1,2}))?$/.exec(s);
      const a = m ? parseIp4(m[1]!) : null;
      const plen = m?.[2] !== undefined ? Number(m[2]) : 32;
      if (!m || a === null || plen > 32 || plen < 8) { err(rn, s, 'an address range such as 10.1.0.0/16 (prefix length 8..32)'); return; }
      const hostBits = 32 - plen;
      const mask = hostBits === 32 ? 0 : (0xffffffff << hostBits) >>> 0;
      const net0 = (a & mask) >>> 0;
      // Skip the network and broadcast addresses of ranges that have them.
      const first = hostBits >= 2 ? net0 + 1 : a;
      const size = hostBits >= 2 ? 2 ** hostBits - 2 : 2 ** hostBits;
      clients.push({ name, count, base: first >>> 0, size: Math.min(size, count), nat: false, share });
    });
  }
  if (cn && clients.length === 0) err(cn, 'no usable client group', 'at least one client group');

  // arrivals
  let arrivals: Arrivals = d.arrivals;
  const an = get(w, 'arrivals');
  if (an) {
    if (!isMap(an)) err(an, 'not a mapping', 'arrivals: {process: poisson|constant|bursts|day, ...}');
    else {
      const p = str(get(an, 'process'));
      const rate = (k: string): number | null => {
        const v = get(an, k);
        if (v === null) { err(an, `no ${k}:`, `${k}: connections per second`); return null; }
        return num(v, `${k} (connections per second)`, 1e-6, 1e9);
      };
      switch (p) {
        case 'poisson': case 'constant': {
          checkKeys(an, ['process', 'rate'], `${p} arrivals`);
          const r = rate('rate');
          if (r !== null) arrivals = { process: p, rate: r };
          break;
        }
        case 'bursts': {
          checkKeys(an, ['process', 'rate', 'burst-rate', 'every', 'length'], 'bursts arrivals');
          const r = rate('rate'); const br = rate('burst-rate');
          const every = dur(get(an, 'every') ?? (err(an, 'no every:', 'every: the burst period'), null), 'every', true);
          const len = dur(get(an, 'length') ?? (err(an, 'no length:', 'length: how long each burst lasts'), null), 'length', true);
          if (r !== null && br !== null && every !== null && len !== null) arrivals = { process: 'bursts', rate: r, burstRate: br, everyNs: every, lengthNs: Math.min(len, every) };
          break;
        }
        case 'day': {
          checkKeys(an, ['process', 'min', 'max', 'period', 'phase'], 'day arrivals');
          const lo = rate('min'); const hi = rate('max');
          const period = dur(get(an, 'period'), 'period', true) ?? 86400e9;
          const phase = dur(get(an, 'phase'), 'phase') ?? 0;
          if (lo !== null && hi !== null) {
            if (hi < lo) err(get(an, 'max'), String(hi), 'a max rate not below min');
            else arrivals = { process: 'day', min: lo, max: hi, periodNs: period, phaseNs: phase };
          }
          break;
        }
        default:
          err(get(an, 'process') ?? an, p ?? 'no process:', 'process: poisson, constant, bursts or day');
      }
    }
  }

  const length = dist(get(w, 'length'), 'length', true, d.length);
  const requests = dist(get(w, 'requests'), 'requests', false, d.requests);
  const requestBytes = num(get(w, 'request-bytes'), 'request-bytes', 0, 1e9, true) ?? d.requestBytes;
  const response = dist(get(w, 'response'), 'response', false, d.response);
  let keepaliveShare = d.keepaliveShare;
  let keepaliveLength = d.keepaliveLength;
  const kn = get(w, 'keepalive');
  if (kn) {
    if (!isMap(kn)) err(kn, 'not a mapping', 'keepalive: { share: 0.05, length: {dist: ...} }');
    else {
      checkKeys(kn, ['share', 'length'], 'keepalive');
      keepaliveShare = num(get(kn, 'share'), 'keepalive share', 0, 1) ?? keepaliveShare;
      keepaliveLength = dist(get(kn, 'length'), 'keepalive length', true, keepaliveLength);
    }
  }

  // events
  const events: WorkloadEvent[] = [];
  const en = get(w, 'events');
  if (en) {
    if (!isSeq(en)) err(en, 'not a list', 'events: a list of {at: TIME, exec: COMMAND | fail: HOST | recover: HOST}');
    else for (const e of en.items as Node[]) {
      if (!isMap(e)) { err(e, 'not a mapping', '{at: TIME, exec: COMMAND | fail: HOST | recover: HOST}'); continue; }
      checkKeys(e, ['at', 'host', 'exec', 'fail', 'recover'], 'event');
      const atN = get(e, 'at');
      const at = atN ? dur(atN, 'at') : (err(e, 'no at:', 'at: the time of the event'), null);
      if (at === null) continue;
      const ex = get(e, 'exec'); const fl = get(e, 'fail'); const rc = get(e, 'recover');
      const given = [ex, fl, rc].filter(x => x !== null).length;
      if (given !== 1) { err(e, given ? 'more than one action' : 'no action', 'exactly one of exec:, fail:, recover:'); continue; }
      if (ex) {
        const c = str(ex);
        if (!c) { err(ex, 'nothing', 'a command line such as ipvsadm -e -t VIP:PORT -r RIP:PORT -i -w 2'); continue; }
        events.push({ at, kind: 'exec', host: str(get(e, 'host')), command: c, pos: posOf(ex) });
      } else {
        const n = (fl ?? rc)!;
        const h = str(n);
        if (!h) { err(n, 'nothing', 'a host name'); continue; }
        events.push({ at, kind: fl ? 'fail' : 'recover', host: h, pos: posOf(n) });
      }
    }
    events.sort((a, b) => a.at - b.at);
  }

  const spec: WorkloadSpec = {
    seed, director, service, from, connections, durationNs, packetConnections, sampleNs, onewayNs, rttNs,
    networkFromTopology: net === null,
    clients: clients.length ? clients : d.clients, arrivals, length, requests, requestBytes, response,
    keepaliveShare, keepaliveLength, events,
  };

  // Hosts named by the workload must be hosts of the scenario (as traffic steps check theirs).
  const hostsN = root.get('hosts', true);
  if (isMap(hostsN)) {
    const names = (hostsN.items as Pair[]).map(it => str(it.key)).filter((x): x is string => x !== null);
    const known = (n: Node | null, what: string): void => {
      const h = n ? str(n) : null;
      if (h !== null && h !== '' && !names.includes(h)) err(n, h, `${what}: a host declared under hosts:${suggest(h, names)}`);
    };
    known(get(w, 'director'), 'director');
    known(get(w, 'from'), 'from');
    if (en && isSeq(en)) {
      for (const e of en.items as Node[]) {
        if (!isMap(e)) continue;
        known(get(e, 'host'), 'host');
        known(get(e, 'fail'), 'fail');
        known(get(e, 'recover'), 'recover');
      }
    }
  }

  // What a run would cost, before anything runs: both modes, each with its own connection count.
  if (!diags.some(x => x.severity === 'error')) {
    for (const mode of ['flow', 'packet'] as const) {
      const problem = costProblem(spec, mode);
      if (!problem) continue;
      const at = problem.field === 'sample' ? get(w, 'sample') : get(w, 'requests') ?? get(w, mode === 'packet' ? 'packet' : 'connections') ?? get(w, 'duration') ?? w;
      err(at, problem.field === 'sample' ? str(at) ?? 'sample' : str(at) ?? problem.field, problem.message);
      break;
    }
  }
  return { spec, diagnostics: tidyDiagnostics(diags) };
}

/** The scenario text without its workload: section (for parsers that do not know it yet). */
export function withoutWorkload(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let skipping = false;
  for (const l of lines) {
    if (/^workload:/.test(l)) { skipping = true; out.push(''); continue; }
    if (skipping && (l === '' || /^[\s#]/.test(l))) { out.push(''); continue; }
    skipping = false;
    out.push(l);
  }
  return out.join('\n');
}
