/**
 * config/scenario.ts: the scenario file (YAML). Hosts are configured with the command lines a
 * user types on Linux and the files they edit; links are L2 segments between host:device
 * ends; traffic says which clients connect where and when. Every problem is a Diagnostic
 * with file:line:col, and one bad entry never stops the rest from loading.
 * The format is documented in docs/scenarios.md.
 */
import { isMap, isSeq, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { readYaml, type LineIndex as LineCounter, type Pos } from './yaml';
import { type Diagnostic, tidyDiagnostics } from './diag';
import { type Ip4, parseIp4 } from '../net/addr';
import { FAULT_KINDS, type FaultKind } from '../trace/record';

export type { Pos };

/**
 * A command line with where it came from. A line joined from several physical lines (a
 * backslash continuation, a folded block) lists where each later piece starts.
 */
export interface SourceLine {
  readonly text: string;
  readonly line: number;
  readonly col: number;
  /** How many characters of the text sit on its first physical line (when known). */
  readonly len?: number;
  /** From offset `at` of text on, the text is physical line `line` from column `col` (for `len` characters). */
  readonly joins?: ReadonlyArray<{ readonly at: number; readonly line: number; readonly col: number; readonly len?: number }>;
}

/** The file position of offset `at` (0-based) of a source line's text, never past the end of its physical line. */
export function sourcePos(l: SourceLine, at: number): { line: number; col: number } {
  let line = l.line, col = l.col, from = 0, len = l.len;
  for (const j of l.joins ?? []) {
    if (j.at > at) break;
    line = j.line; col = j.col; from = j.at; len = j.len;
  }
  const off = at - from;
  return { line, col: col + (len === undefined ? off : Math.min(off, len)) };
}

export interface LinkSpec {
  readonly name: string;
  readonly ends: ReadonlyArray<{ host: string; dev: string; pos: Pos }>;
  readonly latencyNs: number;
  readonly mtu?: number;
  readonly pos: Pos;
}

export interface ListenSpec {
  readonly proto: 'tcp'; readonly port: number; readonly name: string; readonly addr: Ip4;
  /** greeting (the vectors' line server, default) or http (answers GET with `status`, default 200). */
  readonly kind?: 'greeting' | 'http';
  readonly status?: number;
  /** The systemd unit that runs it (`systemctl stop UNIT` on that host); default: none, a process named NAME. */
  readonly unit?: string;
}

export interface HostSpec {
  readonly name: string;
  readonly role?: 'client' | 'router' | 'director' | 'realserver' | 'host';
  readonly setup: readonly SourceLine[];
  /** Declared files: text, and where the first line of the text is in the scenario file. */
  readonly files: ReadonlyMap<string, { text: string; line: number; col?: number; exact?: boolean }>;
  readonly listen: readonly ListenSpec[];
  readonly pos: Pos;
}

export type TrafficSpec =
  | { readonly kind: 'connect'; readonly id: string; readonly from: string; readonly src: Ip4 | null; readonly sport: number; readonly dst: Ip4; readonly dport: number; readonly mode: 'close' | 'hold'; readonly send: number; readonly atNs: number | null; readonly expect: Expectation | null; readonly pos: Pos;
      /** The client program's socket timeout (connect and each read), or null for the kernel's own SYN retries. */
      readonly timeoutNs?: number | null }
  | { readonly kind: 'release'; readonly id: string; readonly atNs: number | null; readonly pos: Pos }
  | { readonly kind: 'exec'; readonly host: string; readonly command: SourceLine; readonly atNs: number | null; readonly pos: Pos }
  | FaultSpec;

/**
 * A declared fault (`fault: KIND`): the host crashes, boots (a crashed host) or reboots (a running
 * one); one of its services (a `listen:` unit or name, or keepalived) stops or starts; a link loses
 * or regains carrier: `link: NAME` on every end of the segment, `host: H, dev: D` at that end only
 * (its cable). world/faults.ts applies it.
 */
export interface FaultSpec {
  readonly kind: 'fault';
  readonly fault: FaultKind;
  /** The host (null for a whole link). */
  readonly host: string | null;
  readonly service?: string;
  readonly link?: string;
  readonly dev?: string;
  readonly atNs: number | null;
  readonly pos: Pos;
}

/**
 * What a connect step says should happen (`expect: ok`, `expect: { rs: rs1 }`,
 * `expect: { error: ETIMEDOUT }`): `lvsim run --check` compares the run with it.
 */
export interface Expectation {
  readonly ok: boolean;
  /** The real server that answers: a host name, its listener's name, or its address. */
  readonly rs: string | null;
  /** The client's error when it fails (ECONNREFUSED, ETIMEDOUT, ...). */
  readonly error: string | null;
  readonly pos: Pos;
}

/** A misconfiguration exercise: what the user sees, and a hint; the run's expectations say when it is fixed. */
export interface Lab {
  readonly symptom: string;
  readonly hint: string;
}

export interface Scenario {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly links: readonly LinkSpec[];
  readonly hosts: ReadonlyMap<string, HostSpec>;
  readonly traffic: readonly TrafficSpec[];
  /** Stop the run at this virtual time (default: when nothing is left to happen). */
  readonly untilNs: number | null;
  /** Set for the misconfiguration lab's exercises. */
  readonly lab?: Lab;
}

// workload: is read by workload/spec.ts (synthetic load for compare and flow mode).
const TOP_KEYS = ['name', 'description', 'seed', 'links', 'hosts', 'traffic', 'until', 'workload', 'lab'];
const ERRNOS = ['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOPROTOOPT'];
const HOST_KEYS = ['role', 'setup', 'files', 'listen'];
const LINK_KEYS = ['name', 'ends', 'latency', 'mtu'];
const ROLES = ['client', 'router', 'director', 'realserver', 'host'];
const HOST_NAME = /^[a-z][a-z0-9_-]{0,30}$/i;
const DEV_NAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, min: 60e9, h: 3600e9 };

/** "100us", "2.5ms", "3s", "0" -> integer ns; null if malformed. */
export function parseDuration(s: string): number | null {
  if (s === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|min|m|h)$/.exec(s.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

export function parseScenario(text: string, file: string): { scenario: Scenario; diagnostics: Diagnostic[] } {
  const y = readYaml(text, file);
  const { lc, posOf } = y;
  const diags: Diagnostic[] = y.diagnostics;
  const err = (p: Pos, found: string, expected: string, severity: 'error' | 'warning' = 'error') =>
    diags.push({ file, line: p.line, col: p.col, endCol: Math.max(p.endCol, p.col + 1), severity, found, expected });

  const empty: Scenario = { file, name: file, description: '', seed: 1, links: [], hosts: new Map(), traffic: [], untilNs: null };
  const root = y.doc?.contents;
  if (!isMap(root)) {
    if (y.doc && !y.doc.errors.length) err(posOf(root as Node), root ? 'a ' + (isSeq(root) ? 'list' : 'value') : 'an empty file', 'a mapping with hosts:, links: and traffic:');
    return { scenario: empty, diagnostics: tidyDiagnostics(diags) };
  }

  const str = (n: unknown): string | null => (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number') ? String(n.value) : null);
  const get = (m: YAMLMap, key: string): Node | null => (m.get(key, true) as Node | undefined) ?? null;
  const checkKeys = (m: YAMLMap, allowed: string[], where: string) => {
    for (const it of m.items as Pair[]) {
      const k = str(it.key);
      // A key that is itself a mapping or list is described, never stringified (the text doubles per nesting level).
      if (k === null || !allowed.includes(k)) err(posOf(it.key as Node), k ?? describeNode(it.key), `one of the ${where} keys: ${allowed.join(', ')}${suggest(k ?? '', allowed)}`);
    }
  };
  checkKeys(root, TOP_KEYS, 'top-level');

  const name = str(get(root, 'name')) ?? file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const description = str(get(root, 'description')) ?? '';
  let seed = 1;
  const seedNode = get(root, 'seed');
  if (seedNode) {
    const s = str(seedNode);
    if (s === null || !/^\d+$/.test(s) || Number(s) >= 2 ** 32) err(posOf(seedNode), s ?? 'a non-number', 'an integer seed from 0 to 4294967295');
    else seed = Number(s);
  }
  let untilNs: number | null = null;
  const untilNode = get(root, 'until');
  if (untilNode) {
    const d = parseDuration(str(untilNode) ?? '');
    if (d === null) err(posOf(untilNode), str(untilNode) ?? '?', 'a duration such as 500ms or 30s');
    else untilNs = d;
  }

  // hosts
  const hosts = new Map<string, HostSpec>();
  const hostsNode = get(root, 'hosts');
  if (!hostsNode) err({ line: 1, col: 1, endCol: 2 }, 'no hosts:', 'a hosts: mapping (host name -> setup)');
  else if (!isMap(hostsNode)) err(posOf(hostsNode), 'a ' + (isSeq(hostsNode) ? 'list' : 'value'), 'a mapping of host names to their setup');
  else {
    for (const it of hostsNode.items as Pair[]) {
      const hn = str(it.key);
      const kp = posOf(it.key as Node);
      if (hn === null || !HOST_NAME.test(hn)) { err(kp, hn ?? '?', 'a host name (letters, digits, - and _)'); continue; }
      const hv = it.value as Node | null;
      const setup: SourceLine[] = [];
      const files = new Map<string, { text: string; line: number; col: number; exact: boolean }>();
      const listen: ListenSpec[] = [];
      let role: HostSpec['role'];
      if (hv && isMap(hv)) {
        checkKeys(hv, HOST_KEYS, 'host');
        const r = get(hv, 'role');
        if (r) {
          const rv = str(r);
          if (rv && ROLES.includes(rv)) role = rv as HostSpec['role'];
          else err(posOf(r), rv ?? '?', `a role: ${ROLES.join(', ')}`);
        }
        const s = get(hv, 'setup');
        if (s) setup.push(...commandLines(s, text, lc, posOf, err));
        const f = get(hv, 'files');
        if (f) {
          if (!isMap(f)) err(posOf(f), 'not a mapping', 'files: a mapping of paths to their contents');
          else for (const fi of f.items as Pair[]) {
            const path = str(fi.key);
            const content = str(fi.value);
            if (!path || !path.startsWith('/')) { err(posOf(fi.key as Node), path ?? '?', 'an absolute path such as /etc/sysctl.conf'); continue; }
            if (content === null) { err(posOf(fi.value as Node), 'not text', 'the file contents (use a | block)'); continue; }
            const first = blockStartLine(fi.value as Node, lc);
            const firstText = text.split('\n', first)[first - 1] ?? '';
            const vp = posOf(fi.value as Node);
            // A file written as a multi-line flow scalar is folded into other lines: place its errors at its start.
            const exact = isBlock(fi.value as Node) || (!content.includes('\n') && lc.linePos(Math.min((fi.value as Node).range![1], text.length)).line === vp.line);
            files.set(path, { text: content, line: first, col: isBlock(fi.value as Node) ? firstText.length - firstText.trimStart().length + 1 : vp.col + (isQuoted(fi.value as Node) ? 1 : 0), exact });
          }
        }
        const l = get(hv, 'listen');
        if (l) {
          if (!isSeq(l)) err(posOf(l), 'not a list', 'listen: a list of {proto: tcp, port: N, name: NAME}');
          else for (const li of l.items as Node[]) {
            if (!isMap(li)) { err(posOf(li), 'not a mapping', '{proto: tcp, port: N, name: NAME}'); continue; }
            checkKeys(li, ['proto', 'port', 'name', 'addr', 'kind', 'status', 'unit'], 'listen');
            const proto = str(get(li, 'proto')) ?? 'tcp';
            const portN = get(li, 'port');
            const port = Number(str(portN));
            if (proto !== 'tcp') { err(posOf(get(li, 'proto')), proto, 'tcp (UDP servers are not modelled yet)'); continue; }
            if (!portN || !/^\d+$/.test(str(portN) ?? '') || port < 1 || port > 65535) { err(posOf(portN ?? li), str(portN) ?? 'nothing', 'a port from 1 to 65535'); continue; }
            const an = get(li, 'addr');
            let addr = 0;
            if (an) {
              const a = parseIp4(str(an) ?? '');
              if (a === null) { err(posOf(an), str(an) ?? '?', 'an IPv4 address to bind, or omit for any'); continue; }
              addr = a;
            }
            const kindN = get(li, 'kind');
            const kind = str(kindN) ?? 'greeting';
            if (kind !== 'greeting' && kind !== 'http') { err(posOf(kindN), kind, `greeting or http${suggest(kind, ['greeting', 'http'])}`); continue; }
            const statusN = get(li, 'status');
            const status = statusN ? unsignedIn(str(statusN), 100, 599) : 200;
            if (status === null) { err(posOf(statusN), str(statusN) ?? '?', 'an HTTP status code from 100 to 599'); continue; }
            const unitN = get(li, 'unit');
            const unit = unitN ? str(unitN) : undefined;
            if (unit !== undefined && (unit === null || !/^[a-zA-Z][\w.@-]*$/.test(unit))) { err(posOf(unitN), unit ?? '?', 'a unit name such as httpd'); continue; }
            listen.push({ proto: 'tcp', port, name: str(get(li, 'name')) ?? hn.toUpperCase(), addr, kind, ...(statusN ? { status } : {}), ...(unit ? { unit } : {}) });
          }
        }
      } else if (hv && !(isScalar(hv) && hv.value === null)) {
        err(posOf(hv), 'a ' + (isSeq(hv) ? 'list' : 'value'), 'a mapping with setup:, files:, listen:');
      }
      hosts.set(hn, { name: hn, role, setup, files, listen, pos: kp });
    }
  }

  // links
  const links: LinkSpec[] = [];
  const linksNode = get(root, 'links');
  if (linksNode && !isSeq(linksNode)) err(posOf(linksNode), 'not a list', 'links: a list of {name, ends: [host:dev, host:dev], latency}');
  else if (linksNode && isSeq(linksNode)) {
    const seenEnds = new Map<string, Pos>();
    (linksNode.items as Node[]).forEach((ln, i) => {
      if (!isMap(ln)) { err(posOf(ln), 'not a mapping', '{name, ends: [host:dev, ...], latency}'); return; }
      checkKeys(ln, LINK_KEYS, 'link');
      const endsN = get(ln, 'ends');
      const ends: Array<{ host: string; dev: string; pos: Pos }> = [];
      if (!endsN || !isSeq(endsN)) { err(posOf(endsN ?? ln), endsN ? 'not a list' : 'no ends:', 'ends: [host:dev, host:dev]'); return; }
      for (const en of endsN.items as Node[]) {
        const s = str(en) ?? '';
        const p = posOf(en);
        const m = /^([^:]+):(.+)$/.exec(s);
        if (!m || !HOST_NAME.test(m[1]) || !DEV_NAME.test(m[2])) { err(p, s, 'host:device, such as director:eth0'); continue; }
        if (!hosts.has(m[1])) { err(p, m[1], `a host declared under hosts:${suggest(m[1], [...hosts.keys()])}`); continue; }
        const key = `${m[1]}:${m[2]}`;
        if (seenEnds.has(key)) { err(p, key, 'a device on one link only (it is already on another)'); continue; }
        seenEnds.set(key, p);
        ends.push({ host: m[1], dev: m[2], pos: p });
      }
      let latencyNs = 50_000;
      const latN = get(ln, 'latency');
      if (latN) {
        const d = parseDuration(str(latN) ?? '');
        if (d === null) err(posOf(latN), str(latN) ?? '?', 'a latency such as 50us or 2ms');
        else latencyNs = d;
      }
      let mtu: number | undefined;
      const mtuN = get(ln, 'mtu');
      if (mtuN) {
        const v = Number(str(mtuN));
        if (!Number.isInteger(v) || v < 68 || v > 65535) err(posOf(mtuN), str(mtuN) ?? '?', 'an MTU from 68 to 65535');
        else mtu = v;
      }
      links.push({ name: str(get(ln, 'name')) ?? `link${i + 1}`, ends, latencyNs, mtu, pos: posOf(ln) });
    });
  }

  // traffic
  const traffic: TrafficSpec[] = [];
  const trN = get(root, 'traffic');
  if (trN && !isSeq(trN)) err(posOf(trN), 'not a list', 'traffic: a list of connect:/release:/exec:/fault: steps');
  else if (trN && isSeq(trN)) {
    let auto = 0;
    const ids = new Set<string>();
    for (const tn of trN.items as Node[]) {
      const p = posOf(tn);
      if (!isMap(tn)) { err(p, 'not a mapping', 'a step such as {connect: 172.16.29.6:9001, from: client}'); continue; }
      let atNs: number | null = null;
      const atN = get(tn, 'at');
      if (atN) {
        const d = parseDuration(str(atN) ?? '');
        if (d === null) { err(posOf(atN), str(atN) ?? '?', 'a time such as 0ms, 1.5s'); continue; }
        atNs = d;
      }
      if (get(tn, 'connect')) {
        checkKeys(tn, ['connect', 'from', 'src', 'at', 'mode', 'send', 'id', 'expect', 'timeout'], 'connect step');
        const cn = get(tn, 'connect')!;
        const ep = parseEndpoint(str(cn) ?? '');
        if (!ep || ep.port === 0) { err(posOf(cn), str(cn) ?? '?', 'the service address:port, such as 172.16.29.6:9001'); continue; }
        const fromN = get(tn, 'from');
        const from = str(fromN);
        if (!from) { err(p, 'no from:', 'from: the client host'); continue; }
        if (!hosts.has(from)) { err(posOf(fromN), from, `a host declared under hosts:${suggest(from, [...hosts.keys()])}`); continue; }
        let src: Ip4 | null = null;
        let sport = 0;
        const srcN = get(tn, 'src');
        if (srcN) {
          const s = str(srcN) ?? '';
          const e2 = parseEndpoint(s) ?? (parseIp4(s) !== null ? { addr: parseIp4(s)!, port: 0 } : null);
          if (!e2) { err(posOf(srcN), s, 'the client address[:port], such as 203.0.113.10:40001'); continue; }
          src = e2.addr; sport = e2.port;
        }
        const modeN = get(tn, 'mode');
        const mode = str(modeN) ?? 'close';
        if (mode !== 'close' && mode !== 'hold') { err(posOf(modeN), mode, `close or hold${suggest(mode, ['close', 'hold'])}`); continue; }
        const sendN = get(tn, 'send');
        let send = 0;
        if (sendN) {
          const v = str(sendN) ?? '';
          if (!/^\d+$/.test(v) || Number(v) > 1e8) { err(posOf(sendN), v, 'a byte count for the request, such as 3000'); continue; }
          send = Number(v);
        }
        const toN = get(tn, 'timeout');
        let timeoutNs: number | null = null;
        if (toN) {
          const d = parseDuration(str(toN) ?? '');
          if (d === null || d <= 0) { err(posOf(toN), str(toN) ?? '?', 'the client\'s timeout, such as 3s or 500ms'); continue; }
          timeoutNs = d;
        }
        const id = str(get(tn, 'id')) ?? `c${++auto}`;
        if (ids.has(id)) { err(posOf(get(tn, 'id') ?? tn), id, 'an id not used by an earlier step'); continue; }
        ids.add(id);
        const exN = get(tn, 'expect');
        const expect = exN ? parseExpect(exN, posOf, err) : null;
        if (exN && !expect) continue;
        traffic.push({ kind: 'connect', id, from, src, sport, dst: ep.addr, dport: ep.port, mode, send, atNs, expect, pos: p, timeoutNs });
      } else if (get(tn, 'release')) {
        checkKeys(tn, ['release', 'at'], 'release step');
        const rn = get(tn, 'release')!;
        const id = str(rn) ?? '';
        if (!ids.has(id)) { err(posOf(rn), id, `the id of an earlier connect step${suggest(id, [...ids])}`); continue; }
        traffic.push({ kind: 'release', id, atNs, pos: p });
      } else if (get(tn, 'exec')) {
        checkKeys(tn, ['exec', 'host', 'at'], 'exec step');
        const en = get(tn, 'exec')!;
        const hn = get(tn, 'host');
        const h = str(hn);
        if (!h || !hosts.has(h)) { err(posOf(hn ?? tn), h ?? 'no host:', `host: a host declared under hosts:${suggest(h ?? '', [...hosts.keys()])}`); continue; }
        const ep2 = posOf(en);
        // One command line: a value over several lines is joined as setup lines are, each word keeping its place.
        const pieces = isScalar(en) && typeof en.value === 'string' ? joinContinuations(scalarPieces(en, text, lc)) : [];
        const command: SourceLine = pieces.length === 1 ? pieces[0]! : { text: str(en) ?? '', line: ep2.line, col: ep2.col + (isQuoted(en) ? 1 : 0) };
        traffic.push({ kind: 'exec', host: h, command, atNs, pos: p });
      } else if (get(tn, 'fault')) {
        const f = parseFault(tn, atNs, p, hosts, links, str, get, posOf, err, checkKeys);
        if (f) traffic.push(f);
      } else {
        err(p, 'a step without connect:, release:, exec: or fault:', 'connect: ADDR:PORT (from: HOST), release: ID, exec: COMMAND (host: HOST), or fault: KIND (host: HOST)');
      }
    }
  }
  let lab: Lab | undefined;
  const labN = get(root, 'lab');
  if (labN) {
    if (!isMap(labN)) err(posOf(labN), 'not a mapping', 'lab: {symptom: what the user sees, hint: where to look}');
    else {
      checkKeys(labN, ['symptom', 'hint'], 'lab');
      const symptom = str(get(labN, 'symptom'));
      if (!symptom) err(posOf(labN), 'no symptom:', 'lab: symptom: what the user reports');
      else lab = { symptom, hint: str(get(labN, 'hint')) ?? '' };
    }
  }
  return { scenario: { file, name, description, seed, links, hosts, traffic, untilNs, ...(lab ? { lab } : {}) }, diagnostics: tidyDiagnostics(diags) };
}

/**
 * The services a fault step may stop or start on a host: its `listen:` servers (by unit, or by
 * name when they have none) and keepalived when it has a keepalived.conf. `aliases` adds the
 * names of servers that have a unit (a step may name either).
 */
export function faultServices(h: HostSpec, aliases = false): string[] {
  const out = new Set<string>();
  for (const l of h.listen) { out.add(l.unit ?? l.name); if (aliases) out.add(l.name); }
  if (h.files.has('/etc/keepalived/keepalived.conf')) out.add('keepalived');
  return [...out];
}

/** `fault: KIND` with its target (host:, service:, link:, dev:), checked against the hosts and links declared. */
function parseFault(
  tn: YAMLMap, atNs: number | null, p: Pos, hosts: ReadonlyMap<string, HostSpec>, links: readonly LinkSpec[],
  str: (n: unknown) => string | null, get: (m: YAMLMap, k: string) => Node | null, posOf: (n: Node) => Pos,
  err: (p: Pos, found: string, expected: string) => void, checkKeys: (m: YAMLMap, allowed: string[], where: string) => void,
): FaultSpec | null {
  const fn = get(tn, 'fault')!;
  const kind = str(fn) ?? '';
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) { err(posOf(fn), kind || describeNode(fn), `a fault: ${FAULT_KINDS.join(', ')}${suggest(kind, FAULT_KINDS)}`); return null; }
  const fault = kind as FaultKind;
  const onLink = fault === 'link-down' || fault === 'link-up';
  const onService = fault === 'service-stop' || fault === 'service-start';
  checkKeys(tn, onLink ? ['fault', 'link', 'host', 'dev', 'at'] : onService ? ['fault', 'host', 'service', 'at'] : ['fault', 'host', 'at'], `${fault} step`);
  const hn = get(tn, 'host');
  const host = str(hn);
  const base = { kind: 'fault' as const, fault, atNs, pos: p };
  const needHost = (): HostSpec | null => {
    if (!host || !hosts.has(host)) { err(posOf(hn ?? tn), host ?? 'no host:', `host: a host declared under hosts:${suggest(host ?? '', [...hosts.keys()])}`); return null; }
    return hosts.get(host)!;
  };
  if (onLink) {
    const ln = get(tn, 'link');
    const dn = get(tn, 'dev');
    if (ln) {
      const name = str(ln) ?? '';
      if (hn || dn) { err(posOf(hn ?? dn!), str(hn ?? dn) ?? '?', 'link: NAME alone (every end loses carrier), or host: and dev: (that end only)'); return null; }
      if (!links.some(l => l.name === name)) { err(posOf(ln), name || describeNode(ln), `link: a link declared under links:${suggest(name, links.map(l => l.name))}`); return null; }
      return { ...base, host: null, link: name };
    }
    if (!hn && !dn) { err(posOf(fn), kind, `${kind} with link: NAME, or with host: and dev: (the device at one end of a link)`); return null; }
    const h = needHost();
    if (!h) return null;
    const devs = links.flatMap(l => l.ends.filter(e => e.host === h.name).map(e => e.dev));
    const dev = str(dn);
    if (!dev || !devs.includes(dev)) { err(posOf(dn ?? tn), dev ?? 'no dev:', `dev: a device of ${h.name} on a link (${devs.join(', ') || 'none'})${suggest(dev ?? '', devs)}`); return null; }
    return { ...base, host: h.name, dev };
  }
  const h = needHost();
  if (!h) return null;
  if (onService) {
    const sn = get(tn, 'service');
    const svc = str(sn);
    const known = faultServices(h, true);
    if (!svc || !known.includes(svc)) { err(posOf(sn ?? tn), svc ?? 'no service:', `service: one of ${h.name}'s services (${known.join(', ') || 'none: declare a listen: or a keepalived.conf'})${suggest(svc ?? '', known)}`); return null; }
    return { ...base, host: h.name, service: svc };
  }
  return { ...base, host: h.name };
}

/** expect: ok | fail | {ok: BOOL, rs: HOST, error: ERRNO}. */
function parseExpect(n: Node, posOf: (n: Node) => Pos, err: (p: Pos, f: string, e: string) => void): Expectation | null {
  const pos = posOf(n);
  const want = 'ok, fail, {rs: rs1} or {error: ETIMEDOUT}';
  if (isScalar(n)) {
    const v = String(n.value);
    if (v === 'ok') return { ok: true, rs: null, error: null, pos };
    if (v === 'fail') return { ok: false, rs: null, error: null, pos };
    err(pos, v, `${want}${suggest(v, ['ok', 'fail'])}`);
    return null;
  }
  if (!isMap(n)) { err(pos, 'a list', want); return null; }
  for (const it of n.items as Pair[]) {
    const k = isScalar(it.key) ? String(it.key.value) : '';
    if (!['ok', 'rs', 'error'].includes(k)) { err(posOf(it.key as Node), k, `one of the expect keys: ok, rs, error${suggest(k, ['ok', 'rs', 'error'])}`); return null; }
  }
  const rsN = n.get('rs', true) as Node | undefined;
  const errN = n.get('error', true) as Node | undefined;
  const okN = n.get('ok', true) as Node | undefined;
  const rs = rsN ? String((rsN as { value?: unknown }).value ?? '') : null;
  const error = errN ? String((errN as { value?: unknown }).value ?? '') : null;
  if (error !== null && !ERRNOS.includes(error)) { err(posOf(errN!), error, `one of ${ERRNOS.join(', ')}${suggest(error, ERRNOS)}`); return null; }
  let ok = error === null;
  if (okN) {
    const v = (okN as { value?: unknown }).value;
    if (typeof v !== 'boolean') { err(posOf(okN), String(v), 'true or false'); return null; }
    ok = v;
  }
  if (ok && error !== null) { err(posOf(errN!), error, 'no error: when ok is true'); return null; }
  if (!ok && rs !== null) { err(posOf(rsN!), rs, 'no rs: when the connection is expected to fail'); return null; }
  return { ok, rs, error, pos };
}

function unsignedIn(s: string | null, lo: number, hi: number): number | null {
  if (s === null || !/^\d+$/.test(s)) return null;
  const v = Number(s);
  return v >= lo && v <= hi ? v : null;
}

/** What a non-text node is, in a few words ("a mapping", "a list", "nothing"). */
function describeNode(n: unknown): string {
  if (n === null || n === undefined || (isScalar(n) && n.value === null)) return 'nothing';
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) return `a ${typeof n.value}`;
  return 'a value';
}

function isQuoted(n: Node): boolean {
  return isScalar(n) && (n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE');
}

function blockStartLine(n: Node, lc: LineCounter): number {
  const r = n?.range;
  if (!r) return 1;
  const l = lc.linePos(r[0]).line;
  return isScalar(n) && (n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED') ? l + 1 : l;
}

function isBlock(n: Node): boolean {
  return isScalar(n) && (n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED');
}

/**
 * setup: either a block of lines or a list of strings; each line keeps its file position.
 * A line ending in a backslash continues on the next, as the shell joins them (the backslash
 * and the newline are removed). A folded block (`>`) joins its lines with spaces as YAML says;
 * each piece keeps its own position, and a warning says that `|` keeps one command per line.
 */
function commandLines(n: Node, text: string, lc: LineCounter, posOf: (n: Node) => Pos, err: (p: Pos, f: string, e: string, severity?: 'error' | 'warning') => void): SourceLine[] {
  if (isSeq(n)) {
    const out: SourceLine[] = [];
    for (const it of n.items as Node[]) {
      if (!isScalar(it) || typeof it.value !== 'string') { err(posOf(it), 'not a command', 'a command line as a string'); continue; }
      out.push(...joinContinuations(scalarPieces(it, text, lc)));
    }
    return out;
  }
  if (isScalar(n) && typeof n.value === 'string') {
    const pieces = scalarPieces(n, text, lc);
    if (n.type === 'BLOCK_FOLDED' && pieces.some(p => p.joins?.length)) {
      err(posOf(n), '>', 'a literal block (setup: |): a folded block (>) joins its lines into one command line', 'warning');
    }
    return joinContinuations(pieces);
  }
  err(posOf(n), 'not commands', 'setup: a | block of command lines, or a list of them');
  return [];
}

/**
 * The lines of a string scalar's value, each with the physical position of every piece: each
 * physical line's content is found, in order, in the value (YAML removes indentation and, in
 * folded and flow scalars, replaces line breaks with spaces). A piece that cannot be matched
 * (escapes in a quoted scalar) keeps the position of the piece before it, clamped to its line.
 */
function scalarPieces(n: Node, text: string, lc: LineCounter): SourceLine[] {
  const value = String((n as { value: unknown }).value);
  const block = isBlock(n);
  const quoted = isQuoted(n);
  const startOff = Math.min(n.range![0], text.length);
  const start = lc.linePos(startOff);
  const first = block ? start.line + 1 : start.line;
  const last = lc.linePos(Math.min(n.range![1], text.length)).line;
  const src = text.split('\n', last);
  const starts: Array<{ at: number; line: number; col: number; len: number }> = [];
  let from = 0;
  for (let l = first; l <= last && l <= src.length; l++) {
    const raw = (src[l - 1] ?? '').replace(/\r$/, '');
    const begin = !block && l === start.line ? Math.min(raw.length, start.col - 1 + (quoted ? 1 : 0)) : raw.length - raw.trimStart().length;
    const content = raw.slice(begin).trimEnd();
    if (content.trim() === '') continue;
    let at = value.indexOf(content, from);
    let len = content.length;
    if (at < 0) {
      // A flow scalar's last line ends in its closing quote or bracket: match its first word.
      const word = content.split(/\s/)[0]!;
      at = word === '' ? -1 : value.indexOf(word, from);
      len = raw.length - begin;
    }
    if (at < 0) continue;
    starts.push({ at, line: l, col: begin + 1, len });
    from = at + 1;
  }
  const out: SourceLine[] = [];
  let off = 0;
  let k = 0;
  for (const lineText of value.split('\n')) {
    const begin = off;
    off += lineText.length + 1;
    while (k < starts.length && starts[k]!.at < begin) k++;
    const inLine: typeof starts = [];
    while (k < starts.length && starts[k]!.at < begin + Math.max(1, lineText.length)) inLine.push(starts[k++]!);
    if (lineText.trim() === '' || inLine.length === 0) continue;
    // Leading spaces kept by YAML (more-indented lines) sit before the first piece.
    const head = inLine[0]!;
    const lead = Math.min(head.at - begin, head.col - 1);
    out.push({
      text: lineText, line: head.line, col: head.col - lead, len: head.len + lead,
      ...(inLine.length > 1 ? { joins: inLine.slice(1).map(s => ({ at: s.at - begin, line: s.line, col: s.col, len: s.len })) } : {}),
    });
  }
  return out;
}

/** Join lines ending in an unescaped backslash with the next, as the shell does. */
function joinContinuations(lines: readonly SourceLine[]): SourceLine[] {
  type Join = NonNullable<SourceLine['joins']>[number];
  const out: SourceLine[] = [];
  let acc: { text: string; line: number; col: number; len?: number; joins: Join[] } | null = null;
  const emit = (a: NonNullable<typeof acc>): void => {
    out.push({ text: a.text, line: a.line, col: a.col, ...(a.len !== undefined ? { len: a.len } : {}), ...(a.joins.length ? { joins: a.joins } : {}) });
  };
  for (const l of lines) {
    if (acc) {
      const at = acc.text.length;
      acc.joins.push({ at, line: l.line, col: l.col, ...(l.len !== undefined ? { len: l.len } : {}) });
      for (const j of l.joins ?? []) acc.joins.push({ ...j, at: at + j.at });
      acc.text += l.text;
    } else {
      acc = { text: l.text, line: l.line, col: l.col, ...(l.len !== undefined ? { len: l.len } : {}), joins: [...(l.joins ?? [])] };
    }
    const trailing = /\\*$/.exec(acc.text)![0].length;
    if (trailing % 2 === 1) { acc.text = acc.text.slice(0, -1); continue; }
    emit(acc);
    acc = null;
  }
  if (acc) emit(acc);
  return out;
}

export function parseEndpoint(s: string): { addr: Ip4; port: number } | null {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(s.trim());
  if (!m) return null;
  const addr = parseIp4(m[1]);
  const port = Number(m[2]);
  if (addr === null || port > 65535 || (m[2].length > 1 && m[2][0] === '0')) return null;
  return { addr, port };
}

/** " (did you mean 'x'?)" for a near miss (edit distance <= 2), else "". */
export function suggest(found: string, options: readonly string[]): string {
  let best: string | null = null;
  let bestD = 3;
  for (const o of options) {
    const d = editDistance(found.toLowerCase(), o.toLowerCase());
    if (d < bestD) { bestD = d; best = o; }
  }
  return best && best !== found ? ` (did you mean '${best}'?)` : '';
}

export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
