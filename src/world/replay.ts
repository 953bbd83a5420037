/**
 * world/replay.ts: replay a vector recorded from a real kernel (test/fixtures/oracle/README.md;
 * formats lvsim-oracle-vector/1 and /2) through the full packet path: the same hosts, segments
 * and setup commands, the same steps one at a time, then compare what the kernel showed: the
 * real server reached (or the client's error), the data sent and the path MTU learned, the
 * director's counters and connection table after every step, who answered ARP, the final
 * ipvsadm listings, and the observations (nstat counters, ICMP errors on the captured
 * interfaces, martian-source log lines, cached route MTUs).
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
import { checkVector, type ArpingStep, type ConnectStep, type Counters, type Vector, type VectorProblem, type VectorStep } from './vector';

export type { Vector, VectorStep, VectorProblem };
export { checkVector };

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
  /** What differs from the vector, one line each. */
  diffs: string[];
}

export interface IcmpSeen {
  at: string; dir: 'in' | 'out'; src: string; dst: string; type: number; code: number; mtu?: number;
}

export interface ObserveOutcome {
  nstat: Record<string, Record<string, number>>;
  icmp: IcmpSeen[];
  martian_source_logged: Record<string, number>;
  route_mtu: Record<string, number | null>;
}

export interface ReplayResult {
  id: string;
  format: 1 | 2;
  steps: StepOutcome[];
  final: { 'ipvsadm-Ln': string; 'ipvsadm-Lnc': string; 'ipvsadm-stats': string };
  observe: ObserveOutcome | null;
  diffs: string[];
  /** What went wrong across hosts that no single drop tells (the director bypassed ...). */
  findings: RunFinding[];
  /** What the vector needs that lvsim does not model yet: nothing is compared when set. */
  notModelled: string[];
  diagnostics: Diagnostic[];
  world: World;
}

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
    hosts.set(name, { name, setup, files: new Map(), listen: (h.listen ?? []).filter(l => l.proto === 'tcp').map(l => ({ proto: 'tcp', port: l.port, name: l.name, addr: 0 })), pos: { line: 1, col: 1, endCol: 1 } });
  }
  const links: LinkSpec[] = v.segments.map((seg, i) => ({
    name: `segment${i + 1}`,
    ends: [...seg.slice(rotation % seg.length), ...seg.slice(0, rotation % seg.length)].map(e => { const [host, dev] = e.split(':'); return { host: host!, dev: dev!, pos: { line: 1, col: 1, endCol: 1 } }; }),
    latencyNs: 50_000,
    pos: { line: 1, col: 1, endCol: 1 },
  }));
  return { file, name: v.id, description: v.description ?? '', seed: 1, links, hosts, traffic: [], untilNs: null };
}

/**
 * What a vector needs that lvsim does not model yet, one line each (empty: everything is).
 * Read from the vector's own steps and from the world its setup built, never from its name.
 */
export function notModelled(v: Vector, world: World, notApplied: readonly string[]): string[] {
  const out: string[] = [];
  const kinds = new Set(v.steps.map(s => s.do));
  for (const k of ['start', 'kill', 'check'] as const) {
    if (kinds.has(k)) out.push(`step kind '${k}' (keepalived as a process: its health checks and VRRP) is not modelled yet`);
  }
  for (const line of notApplied) out.push(`setup line not modelled: ${line}`);
  return out;
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

/** The real server's address for a client result: the IPVS destination local to the answering host. */
function rsOf(world: World, director: string, r: ClientResult, serverHost: Map<string, string>): string | null {
  if (!r.server) return null;
  const host = serverHost.get(r.server);
  if (!host) return null;
  const h = world.hosts.get(host)!.host;
  const wh = world.hosts.get(director);
  for (const svc of wh?.ipvs.services ?? []) {
    for (const d of svc.dests) if (h.devOfAddr(d.addr) && !h.devOfAddr(d.addr)!.noarp) return formatIp4(d.addr);
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
  clientHost: string;
  serverHost: Map<string, string>;
  clients: Map<string, ClientResult>;
  /** Virtual time of the clock zero `at_ms` counts from. */
  zero: number;
}

/**
 * Replay a vector. One marked `racy` had an outcome that depended on which of two simultaneous
 * answers came first: it is replayed with each arrival order on the shared segments, and the
 * order closest to the recording is the one reported (any outcome the race allows is faithful).
 */
export function replayVector(v: Vector, file: string, seed = 1): ReplayResult {
  const first = replayOnce(v, file, seed, 0);
  if (!v.racy || first.diffs.length === 0 || first.notModelled.length) return first;
  const orders = Math.max(...v.segments.map(s => s.length));
  let best = first;
  for (let rot = 1; rot < orders && best.diffs.length; rot++) {
    const r = replayOnce(v, file, seed, rot);
    if (r.diffs.length < best.diffs.length) best = r;
  }
  return best;
}

function replayOnce(v: Vector, file: string, seed: number, rotation: number): ReplayResult {
  const sc = vectorScenario(v, file, rotation);
  const built = buildWorld(sc, seed, new TraceLog());
  const { world, diagnostics } = built;
  const engine = world.engine;
  const director = [...world.hosts.values()].find(h => h.ipvs.services.length)?.name
    ?? (v.hosts.director ? 'director' : Object.keys(v.hosts)[0]!);
  const serverHost = new Map<string, string>();
  for (const [name, h] of Object.entries(v.hosts)) for (const l of h.listen ?? []) serverHost.set(l.name, name);
  const clientHost = Object.keys(v.hosts).find(h => h === 'client') ?? Object.keys(v.hosts)[0]!;
  const ctx: Ctx = { world, director, clientHost, serverHost, clients: new Map(), zero: engine.now };
  const v2 = v.format === 'lvsim-oracle-vector/2';
  const missing = notModelled(v, world, built.notApplied.map(n => `${n.host}: ${n.line.text} (${n.result.stderr.trim().split('\n')[0]})`));
  const steps: StepOutcome[] = [];
  const diffs: string[] = [];
  if (missing.length === 0) {
    for (const st of v.steps) {
      const out = runStep(ctx, st);
      out.after = counters(world, director);
      if (v2) out.table = tableRows(world, director);
      compareStep(st, out);
      diffs.push(...out.diffs);
      steps.push(out);
    }
  }
  const final = {
    'ipvsadm-Ln': world.exec(director, 'ipvsadm -Ln').stdout.replace(/\n$/, ''),
    'ipvsadm-Lnc': world.exec(director, 'ipvsadm -Lnc').stdout.replace(/\n$/, ''),
    'ipvsadm-stats': world.exec(director, 'ipvsadm -Ln --stats').stdout.replace(/\n$/, ''),
  };
  let observe: ObserveOutcome | null = null;
  if (missing.length === 0) {
    if (v.final?.['ipvsadm-Ln'] !== undefined && v.final['ipvsadm-Ln'] !== final['ipvsadm-Ln']) {
      diffs.push(`final ipvsadm -Ln differs:\n--- kernel\n${v.final['ipvsadm-Ln']}\n+++ lvsim\n${final['ipvsadm-Ln']}`);
    }
    if (v.final?.['ipvsadm-Lnc'] !== undefined) {
      const d = setDiff(lncRows(v.final['ipvsadm-Lnc']).map(rowKey), lncRows(final['ipvsadm-Lnc']).map(rowKey));
      if (d) diffs.push(`final ipvsadm -Lnc differs (compared as a set of protocol, state, source, virtual, destination; - kernel only, + lvsim only):\n${d}`);
    }
    if (v2) {
      observe = observeWorld(ctx, v);
      diffs.push(...compareObserve(v, observe));
    }
  }
  return { id: v.id, format: v2 ? 2 : 1, steps, final, observe, diffs, findings: findings(world), notModelled: missing, diagnostics, world };
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
      out.rs = r.ok ? rsOf(world, ctx.director, r, ctx.serverHost) : null;
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
      for (const id of ids) {
        const r = ctx.clients.get(id);
        if (!r) continue;
        open++;
        releaseClient(r, () => { open--; });
      }
      while (open > 0 && engine.step()) { /* until every one closed */ }
      settle();
      out.ok = true;
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
    default:
      // start, kill, check: refused before the run by notModelled.
      return out;
  }
}

function connect(ctx: Ctx, st: ConnectStep): ClientResult {
  const { world } = ctx;
  const engine = world.engine;
  let done = false;
  const ep = parseEndpoint(st.src) ?? { addr: parseIp4(st.src) ?? 0, port: 0 };
  const svc = world.hosts.get(ctx.director)?.ipvs.services[0];
  const timeout = st.timeout_ms !== undefined ? st.timeout_ms * NS_PER_MS : REPLAY_CONNECT_TIMEOUT_NS;
  const mode = st.mode === 'hold' ? 'hold' : 'close';
  const id = st.id ?? `s${st.n}`;
  const r = startClient(world.hosts.get(ctx.clientHost)!.host, id, ep.addr, ep.port, svc ? svc.addr : 0, svc ? svc.port : 0, mode,
    st.mode === 'send' ? st.bytes ?? 0 : 0, () => { done = true; }, timeout);
  ctx.clients.set(id, r);
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
  if (st.after) {
    for (const [k, want] of Object.entries(st.after)) {
      const got = out.after[k];
      if (!got || got.join(',') !== want.join(',')) d(`${k} expected [weight, active, inactive] = [${want.join(', ')}], got ${got ? `[${got.join(', ')}]` : 'no such real server'}`);
    }
    for (const k of Object.keys(out.after)) if (!(k in st.after)) d(`${k} is in lvsim's table but not in the kernel's`);
  }
  if (st.table) {
    const diff = setDiff(st.table.map(rowKey), out.table.map(rowKey));
    if (diff) d(`connection table differs (- kernel only, + lvsim only):\n${diff}`);
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
  return { nstat, icmp, martian_source_logged: martian, route_mtu: routeMtu };
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

function compareObserve(v: Vector, got: ObserveOutcome): string[] {
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
  return diffs;
}

/** The `--json` form of a replay (test/fixtures/oracle/README.md): one object, fields that do not apply left out. */
export function replayJson(r: ReplayResult): unknown {
  const steps = r.steps.map(s => {
    const o: Record<string, unknown> = { n: s.n, ok: s.ok, rs: s.rs, error: s.error, after: s.after };
    if (r.format === 2) o.table = s.table;
    for (const k of ['pmtu', 'snd_mss', 'server_bytes', 'replies_from', 'neigh_at_end'] as const) if (s[k] !== undefined) o[k] = s[k];
    return o;
  });
  const out: Record<string, unknown> = { id: r.id, steps, final: r.final };
  if (r.observe) out.observe = r.observe;
  if (r.notModelled.length) out.not_modelled = r.notModelled;
  return out;
}
