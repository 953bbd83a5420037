/**
 * world/replay.ts: replay a vector recorded from a real kernel (test/fixtures/oracle/README.md;
 * formats lvsim-oracle-vector/1 and /2) through the full packet path: the same hosts, segments,
 * files and setup commands, the same steps one at a time (at their `at_ms` when they carry one),
 * then compare what the kernel showed: the real server reached (or the client's error), the data
 * sent and the path MTU learned, the director's (and a second director's) counters and
 * connection table after every step, who answered ARP, who held the VIP and whose MAC the
 * router's entry for it held, the final ipvsadm listings, and the observations (nstat counters,
 * ICMP errors on the captured interfaces, martian-source log lines, cached route MTUs, iptables
 * rule counters, keepalived's log lines, the VRRP adverts and gratuitous ARPs the router saw).
 * keepalived runs as the daemon a scenario starts (`start` runs the recorded command line), so
 * its health checks and VRRP are the ones `lvsim run` shows.
 */
import { formatIp4, parseIp4, type Mac } from '../net/addr';
import { TraceLog } from '../trace/sink';
import type { TraceRecord } from '../trace/record';
import type { Scenario, SourceLine, HostSpec, LinkSpec } from '../config/scenario';
import { parseEndpoint } from '../config/scenario';
import type { Diagnostic } from '../config/diag';
import { buildWorld, STEP_GAP_NS, type World } from './world';
import { type ClientResult, releaseClient, startClient } from './apps';
import { destKey } from '../ipvs/types';
import { NS_PER_MS, NS_PER_S } from '../sim/engine';
import { arping, type ArpingResult } from '../kernel/neigh';
import { type RunFinding, findings } from './findings';
import { klogLines } from '../kernel/klog';
import { procs, SIGNALS } from '../kernel/proc';
import { iptablesCounters } from '../kernel/xtables';
import { parseKeepalivedConf } from '../config/keepalived';
import { BOOTSTRAP_DELAY_NS, isStateLine, KA_STARTUP_NS, planWarmups } from '../daemons/keepalived';
import { decodeAdvert, IPPROTO_VRRP } from '../daemons/keepalived/vrrp';
import { startService } from './services';
import {
  checkVector, unknownFields, type ArpingStep, type ConnectStep, type Counters, type StartStep, type Vector, type VectorProblem, type VectorStep,
} from './vector';

export type { Vector, VectorStep, VectorProblem };
export { checkVector };

/** The daemons a `start` step may name. */
const DAEMONS = ['keepalived'];
/** Times of keepalived's log lines, adverts and gratuitous ARPs match to within this (test/fixtures/oracle/README.md). */
const TIME_TOLERANCE_MS = 1000;

/** The counters a version-2 vector's `observe.nstat` lists, as nstat names them. */
export const OBSERVED_NSTAT = [
  'IpInHdrErrors', 'IpInAddrErrors', 'IpInUnknownProtos', 'IpInDiscards', 'IpOutNoRoutes', 'IpFragFails',
  'IcmpInDestUnreachs', 'IcmpOutDestUnreachs', 'TcpExtIPReversePathFilter', 'TcpAttemptFails', 'TcpOutRsts', 'IpExtInNoRoutes',
] as const;

export type TableRow = [string, string, string, string, string];

export interface StepOutcome {
  n: number;
  ok: boolean | null;
  rs: string | null;
  error: string | null;
  after: Record<string, Counters>;
  table: TableRow[];
  /** send steps: what the server counted, and the client socket's path MTU and MSS at the end. */
  server_bytes?: number | null;
  pmtu?: number | null;
  snd_mss?: number | null;
  /** arping steps: who answered each request (host:interface), and whose MAC the entry holds. */
  replies_from?: Array<string | null>;
  neigh_at_end?: string | null;
  /** check steps: who held the VIP (host:interface, sorted) and whose MAC the router's entry for it held. */
  vip_on?: string[];
  router_neigh_vip?: string | null;
  /** release steps with an expectation: the server's answer after the greeting. */
  answer?: string | null;
  /** With a second director: its counters and table after the step. */
  director2?: { after: Record<string, Counters>; table: TableRow[] };
  /** What differs from the vector, one line each. */
  diffs: string[];
}

export interface IcmpSeen {
  at: string; dir: 'in' | 'out'; src: string; dst: string; type: number; code: number; mtu?: number;
}

/** VRRP adverts the router saw from one sender (at one priority). */
export interface VrrpSeen { from: string; src: string; vrid: number; prio: number; count: number; first_ms: number; last_ms: number }
export interface GarpSeen { at_ms: number; from: string; ip: string }
export interface LogLine { at_ms: number; msg: string }

export interface ObserveOutcome {
  nstat: Record<string, Record<string, number>>;
  icmp: IcmpSeen[];
  martian_source_logged: Record<string, number>;
  route_mtu: Record<string, number | null>;
  /** Only for what the vector observed. */
  iptables_counters?: Record<string, Array<[string, string, string, number]>>;
  log?: Record<string, LogLine[]>;
  vrrp?: VrrpSeen[];
  garp?: GarpSeen[];
}

export interface ReplayResult {
  id: string;
  format: 1 | 2;
  steps: StepOutcome[];
  final: Listings;
  /** With a second director (host director2): its listings at the end. */
  final_director2?: Listings;
  observe: ObserveOutcome | null;
  /** The seed of the run reported (a racy vector is replayed with other random draws too). */
  seed: number;
  /** For a racy vector: which outcome the race allows is the one reported, when not the first run's. */
  race?: string;
  diffs: string[];
  /** What went wrong across hosts that no single drop tells (the director bypassed ...). */
  findings: RunFinding[];
  /** What the vector needs that lvsim does not model yet: nothing is compared when set. */
  notModelled: string[];
  diagnostics: Diagnostic[];
  world: World;
}

export interface Listings { 'ipvsadm-Ln': string; 'ipvsadm-Lnc': string; 'ipvsadm-stats': string }

/** How long a client waits for connect() before giving up with ETIMEDOUT, unless the step says. */
export const REPLAY_CONNECT_TIMEOUT_NS = 3 * NS_PER_S;

/** A vector's problems as one message per line, or null when it is well formed. */
export function vectorError(v: unknown): string | null {
  const r = checkVector(v);
  return r.ok ? null : r.problems.map(p => `${p.path}: ${p.message}`).join('\n');
}

/**
 * The vector as a scenario: one link per segment, setup lines as typed. `rotation` turns each
 * segment's list of ends, which changes only the order a broadcast reaches them (who of two
 * simultaneous answers arrives first), for vectors whose outcome was a race.
 */
export function vectorScenario(v: Vector, file: string, rotation = 0): Scenario {
  const hosts = new Map<string, HostSpec>();
  for (const [name, h] of Object.entries(v.hosts)) {
    const setup: SourceLine[] = h.setup.map((text, i) => ({ text, line: i + 1, col: 1 }));
    const files = new Map(Object.entries(h.files ?? {}).map(([path, text]) => [path, { text, line: 1 }]));
    hosts.set(name, { name, setup, files, listen: (h.listen ?? []).filter(l => l.proto === 'tcp').map(l => ({ proto: 'tcp', port: l.port, name: l.name, addr: 0 })), pos: { line: 1, col: 1, endCol: 1 } });
  }
  const links: LinkSpec[] = v.segments.map((seg, i) => ({
    name: `segment${i + 1}`,
    ends: [...seg.slice(rotation % seg.length), ...seg.slice(0, rotation % seg.length)].map(e => { const [host, dev] = e.split(':'); return { host: host!, dev: dev!, pos: { line: 1, col: 1, endCol: 1 } }; }),
    latencyNs: 50_000,
    pos: { line: 1, col: 1, endCol: 1 },
  }));
  return { file, name: v.id, description: v.description ?? '', seed: 1, links, hosts, traffic: [], untilNs: null };
}

/** The second director's host name: the vector's `director2` fields are its tables. */
const DIRECTOR2 = 'director2';

/**
 * What a vector needs that lvsim does not model, one line each naming the field (empty:
 * everything is). Read from the vector's own fields and from the world its setup built, never
 * from its name.
 */
export function notModelled(v: Vector, world: World, notApplied: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of unknownFields(v)) out.push(`${f}: a field lvsim does not know, so cannot answer`);
  for (const [h, spec] of Object.entries(v.hosts)) {
    (spec.listen ?? []).forEach((l, i) => { if (l.proto !== 'tcp') out.push(`hosts.${h}.listen[${i}].proto: ${JSON.stringify(l.proto)} servers are not modelled (tcp is)`); });
  }
  const hasDirector2 = world.hosts.has(DIRECTOR2);
  const router = routerOf(world);
  v.steps.forEach((st, i) => {
    if ((st as { director2?: unknown }).director2 !== undefined && !hasDirector2) out.push(`steps[${i}].director2: the vector has no host ${DIRECTOR2} to read it from`);
    if (st.do === 'start') {
      if (st.daemon !== undefined && !DAEMONS.includes(st.daemon)) out.push(`steps[${i}].daemon: ${JSON.stringify(st.daemon)} is not modelled (${DAEMONS.join(', ')} is)`);
      if (st.listen && st.listen.proto !== 'tcp') out.push(`steps[${i}].listen.proto: ${JSON.stringify(st.listen.proto)} servers are not modelled (tcp is)`);
    }
    if (st.do === 'kill' && !(st.signal.replace(/^SIG/, '') in SIGNALS) && !/^\d+$/.test(st.signal)) {
      out.push(`steps[${i}].signal: ${JSON.stringify(st.signal)} is not modelled (lvsim delivers ${Object.keys(SIGNALS).join(', ')})`);
    }
    if (st.do === 'check' && st.expect?.router_neigh_vip !== undefined && !router) out.push(`steps[${i}].expect.router_neigh_vip: the vector has no router host`);
  });
  if (v.format === 'lvsim-oracle-vector/2') {
    if (v.final_director2 && !hasDirector2) out.push(`final_director2: the vector has no host ${DIRECTOR2}`);
    for (const part of ['vrrp', 'garp'] as const) if (v.observe?.[part] && !router) out.push(`observe.${part}: the vector has no router host to watch`);
  }
  for (const line of notApplied) out.push(`setup line not modelled: ${line}`);
  return out;
}

/** The router: the host a check reads its neighbour entry from and where adverts are watched. */
function routerOf(world: World): string | null {
  return [...world.hosts.values()].find(h => h.role === 'router')?.name ?? null;
}

function counters(world: World, director: string): Record<string, Counters> {
  const out: Record<string, Counters> = {};
  const wh = world.hosts.get(director);
  if (!wh) return out;
  for (const svc of wh.ipvs.services) for (const d of svc.dests) out[destKey(d)] = [d.weight, d.activeconns, d.inactconns];
  return out;
}

/** The director's `ipvsadm -Lnc` rows as [protocol, state, source, virtual, destination]. */
function tableRows(world: World, director: string): TableRow[] {
  return lncRows(world.exec(director, 'ipvsadm -Lnc').stdout);
}

function lncRows(text: string): TableRow[] {
  return text.split('\n').slice(2).filter(l => l.trim()).map(l => {
    const f = l.trim().split(/\s+/);
    return [f[0]!, f[2]!, f[3]!, f[4]!, f[5]!];
  });
}

const rowKey = (r: readonly string[]) => r.join(' ');

/** Compare two lists of rows as sets; a diff line per missing (-) and extra (+) row, or null. */
function setDiff(want: readonly string[], got: readonly string[]): string | null {
  const w = [...want].sort(), g = [...got].sort();
  if (w.join('\n') === g.join('\n')) return null;
  const rest = [...g];
  const missing: string[] = [];
  for (const x of w) { const i = rest.indexOf(x); if (i >= 0) rest.splice(i, 1); else missing.push(x); }
  return [...missing.map(m => `  - ${m}`), ...rest.map(m => `  + ${m}`)].join('\n');
}

/** The real server's address for a client result: an IPVS destination local to the answering host. */
function rsOf(ctx: Ctx, r: ClientResult): string | null {
  if (!r.server) return null;
  const host = ctx.serverHost.get(r.server);
  if (!host) return null;
  const h = ctx.world.hosts.get(host)!.host;
  for (const dir of ctx.directors) {
    for (const svc of ctx.world.hosts.get(dir)?.ipvs.services ?? []) {
      for (const d of svc.dests) if (h.devOfAddr(d.addr) && !h.devOfAddr(d.addr)!.noarp) return formatIp4(d.addr);
    }
  }
  return null;
}

/** host:interface of the device with this MAC. */
function ownerOf(world: World, mac: Mac | null): string | null {
  if (!mac) return null;
  for (const wh of world.hosts.values()) for (const d of wh.host.devices.values()) if (d.kind === 'ether' && d.mac === mac) return `${wh.name}:${d.name}`;
  return mac;
}

/** The ICMP errors that crossed the sniffed interfaces (in: received there; out: sent there). */
function icmpOn(records: readonly TraceRecord[], sniffed: readonly string[]): IcmpSeen[] {
  const want = new Set(sniffed);
  const out: IcmpSeen[] = [];
  for (const r of records) {
    if (r.verdict !== 'rx' && r.verdict !== 'tx' && r.verdict !== 'decap') continue;
    const at = `${r.host}:${r.dev ?? r.point}`;
    if (!want.has(at)) continue;
    const p = r.packet.pkt;
    if (p.proto !== 'ipv4' || p.payload.proto !== 'icmp') continue;
    const ic = p.payload;
    if (ic.type !== 3 && ic.type !== 5 && ic.type !== 11 && ic.type !== 12) continue;
    out.push({ at, dir: r.verdict === 'tx' ? 'out' : 'in', src: formatIp4(p.src), dst: formatIp4(p.dst), type: ic.type, code: ic.code, ...(ic.type === 3 && ic.code === 4 ? { mtu: ic.mtu ?? 0 } : {}) });
  }
  return out;
}

const icmpKey = (i: IcmpSeen) => `${i.at} ${i.dir} ${i.src} > ${i.dst} ${i.type}/${i.code}${i.mtu !== undefined ? ` mtu ${i.mtu}` : ''}`;

interface Ctx {
  world: World;
  director: string;
  /** The director and, when the vector has one, the second director. */
  directors: string[];
  clientHost: string;
  serverHost: Map<string, string>;
  clients: Map<string, ClientResult>;
  /** Each held connection's socket timeout (its connect step's timeout_ms). */
  timeouts: Map<string, number>;
  /** Virtual time of the clock zero `at_ms` counts from. */
  zero: number;
  /** The hosts a `start` step ran keepalived on, with the configuration it read. */
  keepalived: Map<string, string>;
  v: Vector;
  /** Per "host [RIP]:tcp:port": how much later than the recording this checker first reported in an earlier pass (ns). */
  lag: ReadonlyMap<string, number>;
  /** Moves every recorded warmup by this much (ns), for racy vectors. */
  shift: number;
}

/** A health check's result line and the check's target, as keepalived logs it. */
const CHECK_RESULT = /^(?:TCP connection to|TCP_CHECK on service|HTTP_CHECK on service|Remote Web server) (\[[^\]]+\]:\w+:\d+)/;

/** When each checker target first reported in a log (ms), per target. */
function firstChecks(lines: ReadonlyArray<{ at_ms: number; msg: string }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    const m = CHECK_RESULT.exec(l.msg);
    if (m && !out.has(m[1]!)) out.set(m[1]!, l.at_ms);
  }
  return out;
}

/**
 * keepalived draws each checker's warmup at random; the recorded run's draws show in its log
 * (when each checker first reported). A replay takes those: the warmup that puts this checker's
 * first report where the recording has it, less what an earlier pass measured it lagged by.
 */
function planRecordedWarmups(ctx: Ctx, host: string, startMs: number): void {
  if (ctx.v.format !== 'lvsim-oracle-vector/2') return;
  const lines = ctx.v.observe?.log?.[host];
  if (!lines) return;
  // A keepalived started again later: its checkers' first reports are those after this start.
  const first = firstChecks(lines.filter(l => l.at_ms >= startMs));
  planWarmups(ctx.world.hosts.get(host)!.host, (chk) => {
    const t = first.get(chk);
    if (t === undefined) return null;
    return (t - startMs) * NS_PER_MS - KA_STARTUP_NS - BOOTSTRAP_DELAY_NS - (ctx.lag.get(`${host} ${chk}`) ?? 0) + ctx.shift;
  });
}

/** How much later than the recording each checker first reported in this run (ns), per "host target". */
function checkLag(ctx: Ctx, prev: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  if (ctx.v.format !== 'lvsim-oracle-vector/2') return out;
  for (const [host, lines] of Object.entries(ctx.v.observe?.log ?? {})) {
    const wh = ctx.world.hosts.get(host);
    if (!wh || !ctx.keepalived.has(host)) continue;
    const want = firstChecks(lines);
    const got = firstChecks(procs(wh.host).journal.filter(e => e.ident.startsWith('Keepalived')).map(e => ({ at_ms: (e.t - ctx.zero) / NS_PER_MS, msg: e.msg })));
    for (const [chk, t] of want) {
      const g = got.get(chk);
      const key = `${host} ${chk}`;
      if (g !== undefined) out.set(key, (prev.get(key) ?? 0) + Math.round((g - t) * NS_PER_MS));
    }
  }
  return out;
}

/** Virtual time as ms after the clock zero. */
const msOf = (ctx: Ctx, t: number) => Math.round((t - ctx.zero) / NS_PER_MS);

/**
 * Replay a vector. One marked `racy` had an outcome that depended on a race: which of two
 * simultaneous answers came first (replayed with each arrival order on the shared segments) or a
 * random draw (keepalived's checker warmup: replayed with other seeds). The run closest to the
 * recording is the one reported; any outcome the race allows is faithful.
 */
export function replayVector(v: Vector, file: string, seed = 1): ReplayResult {
  let first = replayOnce(v, file, seed, 0, new Map());
  // A second pass when a checker's first report came later than the recording's (a refused or
  // timed-out check takes its time before keepalived logs it): the warmups move by that much.
  if (first.diffs.length && [...first.lag.values()].some(l => Math.abs(l) > LAG_NS)) {
    const again = replayOnce(v, file, seed, 0, first.lag);
    if (again.diffs.length <= first.diffs.length) first = again;
  }
  if (!v.racy || first.diffs.length === 0 || first.notModelled.length) return first;
  const orders = Math.max(...v.segments.map(s => s.length));
  const tries: Array<[number, number, number]> = [];
  for (let rot = 1; rot < orders; rot++) tries.push([seed, rot, 0]);
  for (const ms of RACY_SHIFTS_MS) tries.push([seed, 0, ms * NS_PER_MS]);
  for (let k = 1; k < RACY_SEEDS; k++) tries.push([seed + k, 0, 0]);
  let best = first;
  for (const [sd, rot, shift] of tries) {
    if (!best.diffs.length) break;
    const r = replayOnce(v, file, sd, rot, first.lag, shift);
    if (r.diffs.length < best.diffs.length) {
      best = r;
      best.race = rot ? `frames reach a segment's ends in another order (rotation ${rot})` : shift ? `each checker's first check ${Math.abs(shift / NS_PER_MS)} ms ${shift < 0 ? 'earlier' : 'later'} than the log has it` : `random draws of seed ${sd}`;
    }
  }
  return best;
}

/**
 * The recorded check times are the log's, a few ms from the moments the steps read the tables;
 * a racy vector is also replayed with every checker's first check that much earlier or later
 * (well inside the second the times are compared to).
 */
const RACY_SHIFTS_MS = [-10, 10, -25, 25, -50, 50, -100, 100, -250, 250];

/** How many seeds a racy vector is replayed with at most (other TCP sequence numbers, ports and draws). */
export const RACY_SEEDS = 12;
/** A checker that reported this much later than recorded gets a second pass. */
const LAG_NS = 20 * NS_PER_MS;

function replayOnce(v: Vector, file: string, seed: number, rotation: number, lag: ReadonlyMap<string, number>, shift = 0): ReplayResult & { lag: Map<string, number> } {
  const sc = vectorScenario(v, file, rotation);
  const built = buildWorld(sc, seed, new TraceLog());
  const { world, diagnostics } = built;
  const engine = world.engine;
  const director = [...world.hosts.values()].find(h => h.ipvs.services.length)?.name
    ?? (v.hosts.director ? 'director' : Object.keys(v.hosts)[0]!);
  const serverHost = new Map<string, string>();
  for (const [name, h] of Object.entries(v.hosts)) for (const l of h.listen ?? []) serverHost.set(l.name, name);
  for (const st of v.steps) if (st.do === 'start' && st.listen) serverHost.set(st.listen.name, st.host);
  const clientHost = Object.keys(v.hosts).find(h => h === 'client') ?? Object.keys(v.hosts)[0]!;
  const directors = [director, ...(world.hosts.has(DIRECTOR2) && director !== DIRECTOR2 ? [DIRECTOR2] : [])];
  const ctx: Ctx = { world, director, directors, clientHost, serverHost, clients: new Map(), timeouts: new Map(), zero: engine.now, keepalived: new Map(), v, lag, shift };
  const v2 = v.format === 'lvsim-oracle-vector/2';
  const missing = notModelled(v, world, built.notApplied.map(n => `${n.host}: ${n.line.text} (${n.result.stderr.trim().split('\n')[0]})`));
  const steps: StepOutcome[] = [];
  const diffs: string[] = [];
  if (missing.length === 0) {
    for (const st of v.steps) {
      const out = runStep(ctx, st);
      out.after = counters(world, director);
      if (v2) out.table = tableRows(world, director);
      if ((st as { director2?: unknown }).director2 !== undefined) out.director2 = { after: counters(world, DIRECTOR2), table: tableRows(world, DIRECTOR2) };
      compareStep(st, out);
      diffs.push(...out.diffs);
      steps.push(out);
    }
  }
  const final = listings(world, director);
  const final2 = v2 && v.final_director2 && world.hosts.has(DIRECTOR2) ? listings(world, DIRECTOR2) : undefined;
  let observe: ObserveOutcome | null = null;
  if (missing.length === 0) {
    diffs.push(...compareListings('final', v.final, final));
    if (v2 && v.final_director2 && final2) diffs.push(...compareListings('final_director2', v.final_director2, final2));
    if (v2) {
      observe = observeWorld(ctx, v);
      diffs.push(...compareObserve(v, observe, ctx));
    }
  }
  return {
    id: v.id, format: v2 ? 2 : 1, steps, final, ...(final2 ? { final_director2: final2 } : {}), observe, seed,
    diffs, findings: findings(world), notModelled: missing, diagnostics, world, lag: checkLag(ctx, lag),
  };
}

function listings(world: World, host: string): Listings {
  return {
    'ipvsadm-Ln': world.exec(host, 'ipvsadm -Ln').stdout.replace(/\n$/, ''),
    'ipvsadm-Lnc': world.exec(host, 'ipvsadm -Lnc').stdout.replace(/\n$/, ''),
    'ipvsadm-stats': world.exec(host, 'ipvsadm -Ln --stats').stdout.replace(/\n$/, ''),
  };
}

/** -Ln byte for byte, -Lnc as a set of rows; --stats is for reference only (a 2-second estimator). */
function compareListings(name: string, want: Partial<Listings> | undefined, got: Listings): string[] {
  const diffs: string[] = [];
  if (want?.['ipvsadm-Ln'] !== undefined && want['ipvsadm-Ln'] !== got['ipvsadm-Ln']) {
    diffs.push(`${name} ipvsadm -Ln differs:\n--- kernel\n${want['ipvsadm-Ln']}\n+++ lvsim\n${got['ipvsadm-Ln']}`);
  }
  if (want?.['ipvsadm-Lnc'] !== undefined) {
    const d = setDiff(lncRows(want['ipvsadm-Lnc']).map(rowKey), lncRows(got['ipvsadm-Lnc']).map(rowKey));
    if (d) diffs.push(`${name} ipvsadm -Lnc differs (compared as a set of protocol, state, source, virtual, destination; - kernel only, + lvsim only):\n${d}`);
  }
  return diffs;
}

/** Run one step to its end, then let the network settle (10 ms, as the recorder's pause). */
function runStep(ctx: Ctx, st: VectorStep): StepOutcome {
  const { world } = ctx;
  const engine = world.engine;
  const out: StepOutcome = { n: st.n, ok: null, rs: null, error: null, after: {}, table: [], diffs: [] };
  if (st.at_ms !== undefined) engine.run(Math.max(engine.now, ctx.zero + Math.round(st.at_ms * NS_PER_MS)));
  const settle = () => engine.run(engine.now + STEP_GAP_NS * 10);
  switch (st.do) {
    case 'connect': {
      const r = connect(ctx, st);
      settle();
      out.ok = r.ok === true;
      out.rs = r.ok ? rsOf(ctx, r) : null;
      out.error = r.error;
      if (st.mode === 'send') {
        out.server_bytes = r.serverBytes;
        out.pmtu = r.pmtu;
        out.snd_mss = r.sndMss;
      }
      return out;
    }
    case 'release': {
      const ids = st.ids ?? (st.id !== undefined ? [st.id] : []);
      let open = 0;
      let deadline = engine.now;
      const released: ClientResult[] = [];
      for (const id of ids) {
        const r = ctx.clients.get(id);
        if (!r) continue;
        open++;
        released.push(r);
        deadline = Math.max(deadline, engine.now + (ctx.timeouts.get(id) ?? REPLAY_CONNECT_TIMEOUT_NS));
        releaseClient(r, () => { open--; });
      }
      // Daemons keep timers running: wait for the closes, but no longer than the sockets' timeout.
      while (open > 0 && engine.pending > 0 && engine.peekTime() <= deadline) engine.step();
      settle();
      const failed = released.find(r => r.error !== null);
      out.ok = open === 0 && !failed;
      out.error = failed?.error ?? (open > 0 ? 'ETIMEDOUT' : null);
      if (st.expect) out.answer = released.length ? released.map(r => r.reply.slice(r.greeting.length).replace(/\n$/, '')).join('\n') : null;
      return out;
    }
    case 'exec': {
      const res = world.exec(st.host ?? ctx.director, st.cmd ?? st.command ?? '');
      out.ok = res.exit === 0;
      if (res.exit !== 0) out.error = res.stderr.trim();
      settle();
      return out;
    }
    case 'wait': {
      if (st.ms !== undefined) engine.run(engine.now + Math.round(st.ms * NS_PER_MS));
      out.ok = true;
      return out;
    }
    case 'arping': {
      const res = runArping(ctx, st);
      out.ok = res.replies.some(r => r !== null);
      out.replies_from = res.replies.map(mac => ownerOf(world, mac));
      const h = world.hosts.get(st.host)!.host;
      const target = parseIp4(st.target)!;
      const n = h.devices.has(st.dev) ? h.neighLookup(st.dev, target) : undefined;
      out.neigh_at_end = n && n.mac && n.state !== 'INCOMPLETE' && n.state !== 'FAILED' ? ownerOf(world, n.mac) : null;
      settle();
      return out;
    }
    case 'start': {
      const res = start(ctx, st);
      out.ok = res === null;
      out.error = res;
      settle();
      return out;
    }
    case 'kill': {
      // Every process of that name at once, as pkill sends it.
      const res = world.exec(st.host, `pkill -${st.signal.replace(/^SIG/, '')} ${st.process}`);
      out.ok = res.exit === 0;
      if (res.exit !== 0) out.error = res.stderr.trim() || `no process ${st.process} on ${st.host}`;
      settle();
      return out;
    }
    case 'check': {
      const c = vipCheck(ctx);
      out.ok = true;
      out.vip_on = c.vipOn;
      out.router_neigh_vip = c.routerNeigh;
      return out;
    }
  }
}

/** A `start` step: the daemon's recorded command line, or a TCP server. The error, or null. */
function start(ctx: Ctx, st: StartStep): string | null {
  const { world } = ctx;
  if (st.listen) {
    startService(world.hosts.get(st.host)!.host, { proto: 'tcp', port: st.listen.port, name: st.listen.name, addr: 0 });
    return null;
  }
  const cmd = st.cmd ?? `${st.daemon} -f ${st.config}`;
  if (st.daemon === 'keepalived') planRecordedWarmups(ctx, st.host, msOf(ctx, world.engine.now));
  const res = world.exec(st.host, cmd);
  if (res.exit !== 0) return res.stderr.trim() || `${cmd}: exit ${res.exit}`;
  const conf = st.config ?? /(?:-f|--use-file)[= ](\S+)/.exec(cmd)?.[1] ?? '/etc/keepalived/keepalived.conf';
  ctx.keepalived.set(st.host, conf);
  return null;
}

/**
 * The virtual addresses a check asks about: the directors' IPVS services and what the started
 * keepalived configurations name (virtual servers and VRRP virtual_ipaddress).
 */
function vips(ctx: Ctx): Set<number> {
  const out = new Set<number>();
  for (const d of ctx.directors) for (const s of ctx.world.hosts.get(d)?.ipvs.services ?? []) out.add(s.addr);
  for (const [host, path] of ctx.keepalived) {
    const text = ctx.world.hosts.get(host)?.files.get(path);
    if (text === undefined) continue;
    const { config } = parseKeepalivedConf(text, path);
    for (const vs of config.virtualServers) out.add(vs.addr);
    for (const vi of config.vrrpInstances) for (const a of vi.vips) out.add(a.addr);
  }
  return out;
}

/**
 * `check`: which directors hold a VIP as /32 (host:interface, sorted; the real servers' VIP on
 * tunl0 or lo is theirs by configuration, not by failover), and whose MAC the router's neighbour
 * entry for the VIP holds (null when it has no usable entry: none, INCOMPLETE or FAILED).
 */
function vipCheck(ctx: Ctx): { vipOn: string[]; routerNeigh: string | null } {
  const { world } = ctx;
  const vs = vips(ctx);
  const watched = new Set([...ctx.directors, ...ctx.keepalived.keys()]);
  const vipOn: string[] = [];
  for (const name of watched) {
    const h = world.hosts.get(name)?.host;
    if (!h) continue;
    for (const d of h.devices.values()) if (d.addrs.some(a => vs.has(a.addr) && a.prefixLen === 32)) vipOn.push(`${name}:${d.name}`);
  }
  let routerNeigh: string | null = null;
  const router = routerOf(world);
  const rh = router ? world.hosts.get(router)!.host : null;
  if (rh) {
    for (const d of rh.devices.values()) {
      for (const a of vs) {
        const n = rh.neighLookup(d.name, a);
        if (n && n.mac && n.state !== 'INCOMPLETE' && n.state !== 'FAILED') routerNeigh = ownerOf(world, n.mac);
      }
    }
  }
  return { vipOn: vipOn.sort(), routerNeigh };
}

/** The service a client connects to: the director's (or the second director's), else the first virtual server keepalived was given. */
function serviceOf(ctx: Ctx): { addr: number; port: number } {
  for (const d of ctx.directors) {
    const svc = ctx.world.hosts.get(d)?.ipvs.services[0];
    if (svc) return { addr: svc.addr, port: svc.port };
  }
  for (const [host, path] of ctx.keepalived) {
    const text = ctx.world.hosts.get(host)?.files.get(path);
    const vs = text === undefined ? undefined : parseKeepalivedConf(text, path).config.virtualServers[0];
    if (vs) return { addr: vs.addr, port: vs.port };
  }
  return { addr: 0, port: 0 };
}

function connect(ctx: Ctx, st: ConnectStep): ClientResult {
  const { world } = ctx;
  const engine = world.engine;
  let done = false;
  const ep = parseEndpoint(st.src) ?? { addr: parseIp4(st.src) ?? 0, port: 0 };
  const svc = serviceOf(ctx);
  const timeout = st.timeout_ms !== undefined ? st.timeout_ms * NS_PER_MS : REPLAY_CONNECT_TIMEOUT_NS;
  const mode = st.mode === 'hold' ? 'hold' : 'close';
  const id = st.id ?? `s${st.n}`;
  const r = startClient(world.hosts.get(ctx.clientHost)!.host, id, ep.addr, ep.port, svc.addr, svc.port, mode,
    st.mode === 'send' ? st.bytes ?? 0 : 0, () => { done = true; }, timeout);
  ctx.clients.set(id, r);
  ctx.timeouts.set(id, timeout);
  while (!done && engine.step()) { /* until the step finishes */ }
  return r;
}

/** `arping -I dev -c count target`: one request a second, each answered or not within the second. */
function runArping(ctx: Ctx, st: ArpingStep): ArpingResult {
  const { world } = ctx;
  const h = world.hosts.get(st.host)!.host;
  let res: ArpingResult | null = null;
  const started = arping(h, { dev: st.dev, target: parseIp4(st.target)!, count: st.count }, r => { res = r; });
  if (typeof started === 'string') return { sent: 0, replies: [], error: started };
  while (res === null && world.engine.step()) { /* until arping exits */ }
  return res ?? { sent: 0, replies: [] };
}

function compareStep(st: VectorStep, out: StepOutcome): void {
  const d = (s: string) => out.diffs.push(`step ${st.n}: ${s}`);
  if (st.do === 'connect') {
    const exp = st.expect ?? {};
    if (exp.ok === false) {
      if (out.ok) d(`expected the connection to fail (${exp.error ?? 'error'}), it was answered by ${out.rs}`);
      else if (exp.error && exp.error !== out.error) d(`expected error ${exp.error}, got ${out.error}`);
    } else {
      if (!out.ok) d(`expected an answer${exp.rs ? ` from ${exp.rs}` : ''}, the connection failed with ${out.error}`);
      else if (exp.rs && exp.rs !== out.rs) d(`expected real server ${exp.rs}, got ${out.rs}`);
    }
    if (exp.server_bytes !== undefined && exp.server_bytes !== out.server_bytes) d(`expected the server to count ${exp.server_bytes} bytes, it counted ${out.server_bytes ?? 'nothing'}`);
    if (exp.pmtu !== undefined && exp.pmtu !== out.pmtu) d(`expected the client's path MTU ${exp.pmtu}, got ${out.pmtu}`);
    if (exp.snd_mss !== undefined && exp.snd_mss !== out.snd_mss) d(`expected the client's snd_mss ${exp.snd_mss}, got ${out.snd_mss}`);
  }
  if (st.do === 'arping' && st.expect) {
    const e = st.expect;
    if (e.replies_from !== undefined && JSON.stringify(e.replies_from) !== JSON.stringify(out.replies_from)) {
      d(`expected ARP replies from [${e.replies_from.join(', ')}], got [${(out.replies_from ?? []).map(x => x ?? 'none').join(', ')}]`);
    }
    if (e.neigh_at_end !== undefined && e.neigh_at_end !== out.neigh_at_end) d(`expected the neighbour entry to hold ${e.neigh_at_end ?? 'nothing'}'s MAC, it holds ${out.neigh_at_end ?? 'nothing'}`);
  }
  if (st.do === 'release' && st.expect) {
    const e = st.expect;
    if (e.ok === false) {
      if (out.ok) d(`expected the connection to break (${e.error ?? 'error'}) on release, it closed cleanly`);
      else if (e.error && e.error !== out.error) d(`expected error ${e.error} on release, got ${out.error}`);
    } else if (e.ok === true) {
      if (!out.ok) d(`expected the server's answer on release, the connection broke with ${out.error}`);
      else if (e.answer !== undefined && e.answer.replace(/\n$/, '') !== out.answer) d(`expected the answer ${JSON.stringify(e.answer)}, got ${JSON.stringify(out.answer)}`);
    }
  }
  if ((st.do === 'start' || st.do === 'kill') && !out.ok) d(`${st.do} failed: ${out.error}`);
  if (st.do === 'check' && st.expect) {
    const e = st.expect;
    if (e.vip_on !== undefined && [...e.vip_on].sort().join(' ') !== (out.vip_on ?? []).join(' ')) {
      d(`expected the VIP on [${[...e.vip_on].sort().join(', ')}], it is on [${(out.vip_on ?? []).join(', ')}]`);
    }
    if (e.router_neigh_vip !== undefined && e.router_neigh_vip !== out.router_neigh_vip) {
      d(`expected the router's neighbour entry for the VIP to hold ${e.router_neigh_vip ?? 'nothing'}'s MAC, it holds ${out.router_neigh_vip ?? 'nothing'}`);
    }
  }
  compareTables(st.after, st.table, out.after, out.table, '', d);
  const d2 = (st as { director2?: { after?: Record<string, Counters>; table?: TableRow[] } }).director2;
  if (d2 && out.director2) compareTables(d2.after, d2.table, out.director2.after, out.director2.table, `${DIRECTOR2}: `, d);
}

/** A director's counters and connection table against the vector's. */
function compareTables(after: Record<string, Counters> | undefined, table: readonly (readonly string[])[] | undefined, gotAfter: Record<string, Counters>, gotTable: TableRow[], who: string, d: (s: string) => void): void {
  if (after) {
    for (const [k, want] of Object.entries(after)) {
      const got = gotAfter[k];
      if (!got || got.join(',') !== want.join(',')) d(`${who}${k} expected [weight, active, inactive] = [${want.join(', ')}], got ${got ? `[${got.join(', ')}]` : 'no such real server'}`);
    }
    for (const k of Object.keys(gotAfter)) if (!(k in after)) d(`${who}${k} is in lvsim's table but not in the kernel's`);
  }
  if (table) {
    const diff = setDiff(table.map(rowKey), gotTable.map(rowKey));
    if (diff) d(`${who}connection table differs (- kernel only, + lvsim only):\n${diff}`);
  }
}

function observeWorld(ctx: Ctx, v: Vector): ObserveOutcome {
  const { world } = ctx;
  const ob = v.format === 'lvsim-oracle-vector/2' ? v.observe ?? {} : {};
  const nstat: ObserveOutcome['nstat'] = {};
  const hosts = Object.keys(ob.nstat ?? {});
  for (const h of hosts) {
    const wh = world.hosts.get(h);
    if (!wh) continue;
    const row: Record<string, number> = {};
    for (const c of Object.keys(ob.nstat![h]!)) row[c] = wh.host.snmp.get(c) ?? 0;
    nstat[h] = row;
  }
  const icmp = icmpOn(world.records, ob.sniffed ?? []);
  const martian: Record<string, number> = {};
  for (const h of Object.keys(ob.martian_source_logged ?? {})) {
    const wh = world.hosts.get(h);
    martian[h] = wh ? klogLines(wh.host).filter(l => l.text.includes('martian source')).length : 0;
  }
  const routeMtu: Record<string, number | null> = {};
  for (const h of Object.keys(ob.route_mtu ?? {})) routeMtu[h] = cachedMtu(ctx, h);
  const out: ObserveOutcome = { nstat, icmp, martian_source_logged: martian, route_mtu: routeMtu };
  if (ob.iptables_counters) {
    out.iptables_counters = {};
    for (const h of Object.keys(ob.iptables_counters)) {
      const wh = world.hosts.get(h);
      out.iptables_counters[h] = wh ? iptablesCounters(wh.host) : [];
    }
  }
  if (ob.log) {
    out.log = {};
    for (const h of Object.keys(ob.log)) {
      const wh = world.hosts.get(h);
      out.log[h] = wh ? procs(wh.host).journal.filter(e => e.ident.startsWith('Keepalived') && isStateLine(e.msg)).map(e => ({ at_ms: msOf(ctx, e.t), msg: e.msg })) : [];
    }
  }
  if (ob.vrrp || ob.garp) {
    const seen = routerSaw(ctx);
    if (ob.vrrp) out.vrrp = seen.vrrp;
    if (ob.garp) out.garp = seen.garp;
  }
  return out;
}

/**
 * What the router's interfaces received of VRRP (adverts per sender and priority) and of
 * gratuitous ARP (an ARP request whose sender and target address are the same), the way a capture
 * on its port to the directors' LAN sees them.
 */
function routerSaw(ctx: Ctx): { vrrp: VrrpSeen[]; garp: GarpSeen[] } {
  const { world } = ctx;
  const router = routerOf(world);
  const vrrp = new Map<string, VrrpSeen>();
  const garp: GarpSeen[] = [];
  for (const r of world.records) {
    if (r.host !== router || r.verdict !== 'rx' || !r.frame) continue;
    const p = r.packet.pkt;
    const from = ownerOf(world, r.frame.src) ?? r.frame.src;
    if (p.proto === 'arp') {
      if (p.op === 1 && p.spa === p.tpa) garp.push({ at_ms: msOf(ctx, r.t), from, ip: formatIp4(p.spa) });
      continue;
    }
    if (p.protocol !== IPPROTO_VRRP || p.payload.proto !== 'raw') continue;
    const adv = decodeAdvert(p.payload.data);
    if (!adv) continue;
    const key = `${from} ${p.src} ${adv.vrid} ${adv.prio}`;
    const at = msOf(ctx, r.t);
    const row = vrrp.get(key);
    if (row) { row.count++; row.last_ms = at; } else vrrp.set(key, { from, src: formatIp4(p.src), vrid: adv.vrid, prio: adv.prio, count: 1, first_ms: at, last_ms: at });
  }
  return { vrrp: [...vrrp.values()], garp };
}

/**
 * The MTU of the cached route (`ip route get`: `cache expires ... mtu N`) a host holds after the
 * run: the client's toward the VIP, the director's toward its real server; null without one.
 */
function cachedMtu(ctx: Ctx, hostName: string): number | null {
  const wh = ctx.world.hosts.get(hostName);
  if (!wh) return null;
  const dirWh = ctx.world.hosts.get(ctx.director);
  const svcs = dirWh?.ipvs.services ?? [];
  const dsts = hostName === ctx.director ? svcs.flatMap(s => s.dests.map(d => d.addr)) : svcs.map(s => s.addr);
  for (const d of dsts) {
    const m = wh.host.pmtuOf(d);
    if (m !== null) return m;
  }
  return null;
}

function compareObserve(v: Vector, got: ObserveOutcome, ctx: Ctx): string[] {
  if (v.format !== 'lvsim-oracle-vector/2' || !v.observe) return [];
  const ob = v.observe;
  const diffs: string[] = [];
  for (const [h, want] of Object.entries(ob.nstat ?? {})) {
    if (!got.nstat[h]) { diffs.push(`observe.nstat: no host ${h}`); continue; }
    for (const [c, n] of Object.entries(want)) {
      const g = got.nstat[h]![c] ?? 0;
      if ((n === 0) !== (g === 0)) diffs.push(`observe.nstat ${h} ${c}: kernel ${n}, lvsim ${g} (compared as zero or not zero)`);
    }
  }
  if (ob.icmp) {
    const uniq = (xs: IcmpSeen[]) => [...new Set(xs.filter(i => i.type !== 5).map(icmpKey))];
    const d = setDiff(uniq(ob.icmp as IcmpSeen[]), uniq(got.icmp));
    if (d) diffs.push(`observe.icmp differs (as a set; ICMP redirects not compared; - kernel only, + lvsim only):\n${d}`);
  }
  for (const [h, n] of Object.entries(ob.martian_source_logged ?? {})) {
    if (got.martian_source_logged[h] !== n) diffs.push(`observe.martian_source_logged ${h}: kernel ${n}, lvsim ${got.martian_source_logged[h]}`);
  }
  for (const [h, m] of Object.entries(ob.route_mtu ?? {})) {
    if (got.route_mtu[h] !== m) diffs.push(`observe.route_mtu ${h}: kernel ${m ?? 'no cached MTU'}, lvsim ${got.route_mtu[h] ?? 'no cached MTU'}`);
  }
  for (const [h, rows] of Object.entries(ob.iptables_counters ?? {})) {
    const mine = got.iptables_counters?.[h] ?? [];
    const rule = (x: readonly [string, string, string, number]) => `${x[0]} ${x[1]} ${x[2]}`;
    if (rows.map(rule).join('\n') !== mine.map(rule).join('\n')) {
      diffs.push(`observe.iptables_counters ${h}: the rules differ (- kernel, + lvsim):\n${seqDiff(rows.map(rule), mine.map(rule))}`);
      continue;
    }
    rows.forEach((x, i) => {
      if ((x[3] === 0) !== (mine[i]![3] === 0)) diffs.push(`observe.iptables_counters ${h} ${rule(x)}: kernel ${x[3]} packets, lvsim ${mine[i]![3]} (compared as zero or not zero)`);
    });
  }
  const endWant = lastAtMs(v);
  const endGot = msOf(ctx, ctx.world.engine.now);
  for (const [h, want] of Object.entries(ob.log ?? {})) {
    const mine = got.log?.[h] ?? [];
    const checkTol = TIME_TOLERANCE_MS + warmupMs(ctx, h);
    const streams = new Set([...want, ...mine].map(l => logStream(l.msg)));
    for (const st of streams) {
      const tol = st.startsWith('check') ? checkTol : TIME_TOLERANCE_MS;
      diffs.push(...compareTimed(`observe.log ${h} (${st})`, want.filter(l => logStream(l.msg) === st), mine.filter(l => logStream(l.msg) === st), l => l.msg, tol, endWant, endGot));
    }
  }
  if (ob.vrrp) diffs.push(...compareVrrp(ob.vrrp, got.vrrp ?? [], endWant, endGot));
  if (ob.garp) {
    const key = (g: GarpSeen) => `${g.from} ${g.ip}`;
    const groups = new Set([...ob.garp, ...(got.garp ?? [])].map(key));
    for (const k of groups) {
      diffs.push(...compareTimed(`observe.garp (gratuitous ARPs from ${k})`, ob.garp.filter(g => key(g) === k), (got.garp ?? []).filter(g => key(g) === k), key, TIME_TOLERANCE_MS, endWant, endGot));
    }
  }
  return diffs;
}

/** When the recording's last step began (its observations were read right after), or null. */
function lastAtMs(v: Vector): number | null {
  const last = v.steps[v.steps.length - 1];
  return last?.at_ms ?? null;
}

/**
 * Which sequence a keepalived log line belongs to. The VRRP process's lines follow its timers
 * (deterministic); each health checker's (and each virtual server's quorum) follow its own
 * schedule, which starts after a random warmup: lines of different checkers interleave
 * differently from run to run, so their order is compared within a sequence, not across.
 */
function logStream(msg: string): string {
  if (/^\([^)]+\) /.test(msg) || msg.startsWith('Sending gratuitous ARP')) return 'vrrp';
  const ep = /\[[^\]]+\]:\w+:\d+/.exec(msg);
  return ep ? `check ${ep[0]}` : 'other';
}

/**
 * The largest random warmup of the health checkers keepalived runs on `host` (check_data.c:
 * warmup defaults to delay_loop, from the checker up to the virtual server): how far a check, and
 * what it changes, may be from the recorded run's.
 */
function warmupMs(ctx: Ctx, host: string): number {
  const path = ctx.keepalived.get(host) ?? '/etc/keepalived/keepalived.conf';
  const text = ctx.world.hosts.get(host)?.files.get(path);
  if (text === undefined) return 0;
  let max = 0;
  for (const vs of parseKeepalivedConf(text, path).config.virtualServers) {
    for (const rs of vs.realServers) {
      for (const c of rs.checkers) {
        const w = c.warmupNs ?? rs.warmupNs ?? vs.warmupNs ?? c.delayLoopNs ?? rs.delayLoopNs ?? vs.delayLoopNs;
        max = Math.max(max, w);
      }
    }
  }
  return Math.round(max / NS_PER_MS);
}

/**
 * Two timed sequences of events of one kind: the same events in the same order, each within
 * `tolMs` of the recorded time. The run ends where the recording ended, give or take the
 * tolerance, so an event at the end may be on one side only.
 */
function compareTimed<T extends { at_ms: number }>(what: string, want: readonly T[], got: readonly T[], label: (x: T) => string, tolMs: number, endWant: number | null, endGot: number): string[] {
  let w = [...want];
  let g = [...got];
  if (endWant !== null) while (w.length > g.length && w[w.length - 1]!.at_ms > endWant - tolMs) w.pop();
  while (g.length > w.length && g[g.length - 1]!.at_ms > endGot - tolMs) g.pop();
  const wl = w.map(label), gl = g.map(label);
  if (wl.join('\n') !== gl.join('\n')) return [`${what} differ (- kernel only, + lvsim only):\n${seqDiff(wl, gl)}`];
  const off = w.map((x, i) => [x, g[i]!] as const).filter(([a, b]) => Math.abs(a.at_ms - b.at_ms) > tolMs);
  if (!off.length) return [];
  const [a, b] = off[0]!;
  return [`${what}: ${off.length} more than ${tolMs} ms from the kernel's time, first "${label(a)}" at ${a.at_ms} ms, lvsim ${b.at_ms} ms`];
}

/** Adverts per sender: the same senders, vrid and priority; first and last within a second, the count as those times allow. */
function compareVrrp(want: ReadonlyArray<{ from: string; src?: string; vrid: number; prio: number; count: number; first_ms?: number; last_ms?: number }>, got: readonly VrrpSeen[], endWant: number | null, endGot: number): string[] {
  const diffs: string[] = [];
  const used = new Set<VrrpSeen>();
  for (const w of want) {
    const name = `${w.from}${w.src ? ` (${w.src})` : ''} vrid ${w.vrid} prio ${w.prio}`;
    const g = got.find(x => !used.has(x) && x.from === w.from && x.vrid === w.vrid && x.prio === w.prio && (w.src === undefined || x.src === w.src));
    if (!g) {
      if (!(endWant !== null && w.first_ms !== undefined && w.first_ms > endWant - TIME_TOLERANCE_MS)) diffs.push(`observe.vrrp: the kernel saw ${w.count} adverts from ${name}, lvsim none`);
      continue;
    }
    used.add(g);
    const dFirst = w.first_ms === undefined ? 0 : Math.abs(g.first_ms - w.first_ms);
    const dLast = w.last_ms === undefined ? 0 : Math.abs(g.last_ms - w.last_ms);
    if (dFirst > TIME_TOLERANCE_MS) diffs.push(`observe.vrrp ${name}: first advert at ${g.first_ms} ms, the kernel's at ${w.first_ms} ms`);
    if (dLast > TIME_TOLERANCE_MS) diffs.push(`observe.vrrp ${name}: last advert at ${g.last_ms} ms, the kernel's at ${w.last_ms} ms`);
    // An advert interval's worth of shift at either end is an advert more or fewer.
    const period = w.count > 1 && w.first_ms !== undefined && w.last_ms !== undefined ? (w.last_ms - w.first_ms) / (w.count - 1) : Infinity;
    const slack = Number.isFinite(period) && period > 0 ? Math.ceil((dFirst + dLast) / period) : 0;
    if (Math.abs(g.count - w.count) > slack) diffs.push(`observe.vrrp ${name}: ${g.count} adverts, the kernel's ${w.count}`);
  }
  for (const g of got) {
    if (used.has(g) || g.first_ms > endGot - TIME_TOLERANCE_MS) continue;
    diffs.push(`observe.vrrp: lvsim saw ${g.count} adverts from ${g.from} (${g.src}) vrid ${g.vrid} prio ${g.prio}, the kernel none`);
  }
  return diffs;
}

/** A line diff of two short lists (longest common subsequence): "  - " kernel only, "  + " lvsim only, "    " both. */
function seqDiff(a: readonly string[], b: readonly string[]): string {
  const n = a.length, m = b.length;
  const L: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i]![j] = a[i] === b[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
  const out: string[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { out.push(`    ${a[i]}`); i++; j++; }
    else if (j < m && (i === n || L[i]![j + 1]! >= L[i + 1]![j]!)) out.push(`  + ${b[j++]}`);
    else out.push(`  - ${a[i++]}`);
  }
  return out.join('\n');
}

/** The `--json` form of a replay (test/fixtures/oracle/README.md): one object, fields that do not apply left out. */
export function replayJson(r: ReplayResult): unknown {
  const steps = r.steps.map(s => {
    const o: Record<string, unknown> = { n: s.n, ok: s.ok, rs: s.rs, error: s.error, after: s.after };
    if (r.format === 2) o.table = s.table;
    for (const k of ['pmtu', 'snd_mss', 'server_bytes', 'replies_from', 'neigh_at_end', 'vip_on', 'router_neigh_vip', 'answer', 'director2'] as const) if (s[k] !== undefined) o[k] = s[k];
    return o;
  });
  const out: Record<string, unknown> = { id: r.id, steps, final: r.final };
  if (r.final_director2) out.final_director2 = r.final_director2;
  if (r.observe) out.observe = r.observe;
  if (r.notModelled.length) out.not_modelled = r.notModelled;
  return out;
}
