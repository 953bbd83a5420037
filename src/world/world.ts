/**
 * world/world.ts: hosts joined by L2 links, built from a scenario, and the run loop.
 * A link behaves as a learning switch whose table is already full: a unicast frame goes
 * to the port with that MAC (flooded if none has it), a broadcast to every other port,
 * each after the link's latency. A frame that reaches several hosts is cloned: the first
 * receiver keeps the packet id, the others get new ids that name it as their cause.
 */
import { BROADCAST_MAC, type Ip4, formatIp4 } from '../net/addr';
import type { Ethernet } from '../net/packet';
import { Engine, type EventReceiver, NS_PER_MS, NS_PER_S, type Ns } from '../sim/engine';
import { Host, type NetDevice } from '../kernel/host';
import { PacketIds } from '../kernel/skb';
import { type TraceRecord } from '../trace/record';
import { TraceLog, type TraceSink } from '../trace/sink';
import type { ChangeRecord } from '../trace/state';
import { netifReceive } from '../kernel/ip';
import { Ipvs } from '../ipvs/ipvs';
import { registerIpvsHooks } from '../ipvs/core';
import type { Diagnostic } from '../config/diag';
import type { Scenario, SourceLine, TrafficSpec } from '../config/scenario';
import { parseScenario, sourcePos } from '../config/scenario';
import { splitLine, type SimpleCommand, type Word } from '../config/shell';
import { runCommand } from '../config/commands';
import type { ToolContext, ToolResult } from '../config/tool';
import { type ClientResult, releaseClient, startClient } from './apps';
import type { StepContext } from '../trace/steps';
import { EMPTY_STATE, type HostState, diffHostState } from '../trace/state';
import { snapshotHost } from './snapshot';
import { devPoint } from '../trace/record';
import { startService } from './services';
import { isCrashed } from '../kernel/panic';
import { installKeepalived } from '../daemons/keepalived';
import { applyFault } from './faults';

installKeepalived();
import { type RunFinding, findings } from './findings';

export interface WorldHost {
  readonly name: string;
  readonly host: Host;
  readonly ipvs: Ipvs;
  readonly role: string;
  readonly files: ReadonlyMap<string, string>;
}

export interface Link {
  readonly name: string;
  readonly ends: ReadonlyArray<{ host: Host; dev: NetDevice }>;
  readonly latencyNs: Ns;
}

/**
 * The frames in flight on one link. Every frame takes the link's latency, so they arrive in the
 * order they were sent: a FIFO, and one coded event per frame that takes the head (no closure
 * per hop; the engine runs equal times in insertion order).
 */
class Wire implements EventReceiver {
  private frames: (Ethernet | undefined)[] = new Array(64);
  private to = new Int32Array(64);
  private pid = new Float64Array(64);
  /** The original packet id of a flooded copy, else -1. */
  private cause = new Float64Array(64);
  private head = 0;
  private count = 0;

  constructor(private readonly world: World, private readonly link: Link) {}

  /** A frame leaves end `from`: to the port with its MAC, to every other port when broadcast or unknown. */
  send(from: number, frame: Ethernet, id: number): void {
    const ends = this.link.ends;
    let copies = 0;
    if (frame.dst !== BROADCAST_MAC) {
      // Every port with that MAC (two devices may be given the same address).
      for (let i = 0; i < ends.length; i++) if (i !== from && ends[i]!.dev.mac === frame.dst) this.enqueueCopy(i, frame, id, copies++);
    }
    if (copies > 0) return;
    if (ends.length < 2) {
      const sender = ends[from]!;
      sender.host.emit.drop({ id, pkt: frame.payload }, devPoint(sender.dev.name), { code: 'link_down', dev: sender.dev.name }, undefined, `no other host on link ${this.link.name}`);
      return;
    }
    for (let i = 0; i < ends.length; i++) if (i !== from) this.enqueueCopy(i, frame, id, copies++);
  }

  /** Copy `n` of a frame: the first keeps the packet id, the others get new ids naming it as their cause. */
  private enqueueCopy(to: number, frame: Ethernet, id: number, n: number): void {
    if (n === 0) this.enqueue(to, frame, id, -1);
    else this.enqueue(to, frame, this.world.ids.next(), id);
  }

  private enqueue(to: number, frame: Ethernet, pid: number, cause: number): void {
    if (this.count === this.to.length) this.grow();
    const i = (this.head + this.count++) & (this.to.length - 1);
    this.frames[i] = frame;
    this.to[i] = to;
    this.pid[i] = pid;
    this.cause[i] = cause;
    this.world.engine.postCode(this.link.latencyNs, this, 0);
  }

  onEvent(): void {
    const i = this.head;
    const frame = this.frames[i]!;
    this.frames[i] = undefined;
    this.head = (i + 1) & (this.to.length - 1);
    this.count--;
    const t = this.link.ends[this.to[i]!]!;
    const cause = this.cause[i]!;
    netifReceive(t.host, t.dev, frame, this.pid[i]!, cause < 0 ? undefined : cause);
  }

  private grow(): void {
    const n = this.to.length;
    const frames: (Ethernet | undefined)[] = new Array(n * 2);
    const to = new Int32Array(n * 2), pid = new Float64Array(n * 2), cause = new Float64Array(n * 2);
    for (let k = 0; k < n; k++) {
      const j = (this.head + k) & (n - 1);
      frames[k] = this.frames[j]; to[k] = this.to[j]!; pid[k] = this.pid[j]!; cause[k] = this.cause[j]!;
    }
    this.frames = frames; this.to = to; this.pid = pid; this.cause = cause;
    this.head = 0;
  }
}

/** A line of setup or an exec step that did not apply. */
export interface NotApplied {
  readonly host: string;
  readonly line: SourceLine;
  readonly result: ToolResult;
}

export class World {
  readonly engine: Engine;
  readonly ids = new PacketIds();
  readonly hosts = new Map<string, WorldHost>();
  readonly links: Link[] = [];
  readonly clients = new Map<string, ClientResult>();
  /** The scenario the world was built from: a host's setup lines are its boot configuration (world/faults.ts). */
  scenario: Scenario | null = null;

  constructor(seed: number, readonly trace: TraceSink = new TraceLog()) {
    this.engine = new Engine(seed);
  }

  get records(): TraceRecord[] {
    return this.trace instanceof TraceLog ? this.trace.records : [];
  }

  /** The configuration changes of the run (empty when the trace only counts). */
  get changes(): readonly ChangeRecord[] {
    return this.trace instanceof TraceLog ? this.trace.changes : [];
  }

  /** Each host's configuration as last recorded. */
  private readonly recorded = new Map<string, HostState>();

  /**
   * Record what changed in a host's configuration since the last call (all hosts when none is
   * named), as configuration-change records at the current time and trace position, made `by`
   * a daemon when one is named. Only a full trace keeps them, so a counting run takes no snapshots.
   */
  recordConfig(hostName?: string, by?: string): void {
    if (!this.trace.full) return;
    for (const wh of hostName === undefined ? this.hosts.values() : [this.hosts.get(hostName)]) {
      if (!wh) continue;
      const now = snapshotHost(wh);
      for (const c of diffHostState(this.recorded.get(wh.name) ?? EMPTY_STATE, now)) wh.host.emit.change(c, by);
      this.recorded.set(wh.name, now);
    }
  }

  addHost(name: string, role = 'host', files: ReadonlyMap<string, string> = new Map()): WorldHost {
    const host = new Host(name, this.engine, this.trace, this.hosts.size + 1);
    host.ids = this.ids;
    const ipvs = new Ipvs(this.engine, host.sysctl);
    registerIpvsHooks(host, ipvs);
    const wh: WorldHost = { name, host, ipvs, role, files };
    this.hosts.set(name, wh);
    // A daemon's change (keepalived's IPVS and VIP changes) is recorded when it happens, as its own.
    host.emit.onConfig = (by) => this.recordConfig(name, by);
    return wh;
  }

  /** Join devices into one L2 segment, creating ethernet devices that do not exist yet. */
  addLink(name: string, ends: ReadonlyArray<{ host: string; dev: string }>, latencyNs: Ns, mtu?: number): Link {
    const members = ends.map(e => {
      const h = this.hosts.get(e.host)!.host;
      const dev = h.devices.get(e.dev) ?? h.createDevice(e.dev, 'ether', { mtu });
      if (mtu !== undefined) dev.mtu = mtu;
      dev.carrier = true;
      return { host: h, dev };
    });
    const link: Link = { name, ends: members, latencyNs };
    const wire = new Wire(this, link);
    members.forEach((m, i) => { m.dev.xmit = (frame, id) => wire.send(i, frame, id); });
    this.links.push(link);
    return link;
  }

  /** Run one command line on a host, as a user would type it. */
  exec(hostName: string, line: string, stdin?: string): ToolResult {
    const wh = this.hosts.get(hostName);
    if (!wh) return { exit: 127, stdout: '', stderr: `no host ${hostName}\n` };
    const split = splitLine(line);
    if (!split.ok) return { exit: 2, stdout: '', stderr: `bash: syntax error: found '${split.found}', expected ${split.expected}\n`, errorAt: { word: 0, expected: split.expected } };
    let out = '';
    let err = '';
    let last: ToolResult = { exit: 0, stdout: '', stderr: '' };
    const live = { records: this.records, advance: (ns: Ns) => { this.engine.run(this.engine.now + ns); } };
    for (const cmd of split.commands) {
      last = runGuarded(wh, cmd, this.engine.now, stdin, live);
      out += last.stdout;
      err += last.stderr;
      if (last.exit !== 0) break;
    }
    this.recordConfig(hostName);
    return { ...last, stdout: out, stderr: err };
  }

  stepContext(): StepContext {
    const vips = new Set<Ip4>();
    const directors = new Set<string>();
    for (const wh of this.hosts.values()) {
      if (wh.ipvs.services.length) {
        directors.add(wh.name);
        for (const s of wh.ipvs.services) vips.add(s.addr);
      }
    }
    // The destinations' addresses and their forwarding method, when they all share one.
    const rips = new Set<Ip4>();
    const methods = new Set<'tunnel' | 'route' | 'masq'>();
    for (const d of directors) for (const s of this.hosts.get(d)!.ipvs.services) for (const dest of s.dests) { rips.add(dest.addr); methods.add(dest.fwd); }
    const method = methods.size === 1 ? [...methods][0] : undefined;
    const realServers = new Set<string>();
    for (const wh of this.hosts.values()) {
      if (directors.has(wh.name)) continue;
      for (const v of vips) if (wh.host.devOfAddr(v)) realServers.add(wh.name);
      if (method === 'masq') for (const a of rips) if (wh.host.devOfAddr(a)) realServers.add(wh.name);
    }
    return { vips, directors, realServers, rips, method };
  }
}

export interface RunOptions {
  readonly seed?: number;
  /** Keep every trace record (default); false counts only, for speed. */
  readonly trace?: TraceSink;
  /** Stop at this virtual time. */
  readonly untilNs?: Ns;
}

export interface Run {
  readonly scenario: Scenario;
  readonly world: World;
  readonly diagnostics: Diagnostic[];
  readonly notApplied: NotApplied[];
  readonly clients: ClientResult[];
  /** Output of exec steps, in order. */
  readonly execs: Array<{ host: string; command: string; at: Ns; result: ToolResult }>;
  /** What went wrong across hosts that no single drop tells (world/findings.ts). */
  readonly findings: RunFinding[];
}

/** Gap between sequential traffic steps (each starts after the previous one finished). */
export const STEP_GAP_NS = 1 * NS_PER_MS;
/** A run with no `until` stops this long after the last step, or earlier when idle. */
export const DEFAULT_TAIL_NS = 300 * NS_PER_S;

/** Build the world of a parsed scenario: hosts, links, setup lines, listeners. */
export function buildWorld(sc: Scenario, seed: number, trace?: TraceSink): { world: World; diagnostics: Diagnostic[]; notApplied: NotApplied[] } {
  const world = new World(seed, trace ?? new TraceLog());
  world.scenario = sc;
  const diagnostics: Diagnostic[] = [];
  const notApplied: NotApplied[] = [];
  for (const hs of sc.hosts.values()) {
    const files = new Map<string, string>();
    for (const [p, f] of hs.files) files.set(p, f.text);
    world.addHost(hs.name, hs.role ?? guessRole(hs.name), files);
  }
  for (const l of sc.links) world.addLink(l.name, l.ends, l.latencyNs, l.mtu);
  for (const hs of sc.hosts.values()) {
    for (const line of hs.setup) applyLine(world, hs.name, line, sc.file, diagnostics, notApplied, hs.files);
    for (const l of hs.listen) startService(world.hosts.get(hs.name)!.host, l);
  }
  world.recordConfig();
  return { world, diagnostics, notApplied };
}

function guessRole(name: string): string {
  if (/^client/.test(name)) return 'client';
  if (/^(router|gw|r\d)/.test(name)) return 'router';
  if (/^(director|lb|dir)/.test(name)) return 'director';
  if (/^(rs|real|web|srv|server)/.test(name)) return 'realserver';
  return 'host';
}

/** Run one simple command on a host. A tool must never throw; if one does, the line is reported, not the run lost. */
function runGuarded(wh: WorldHost, cmd: SimpleCommand, now: Ns, stdin?: string, live?: Pick<ToolContext, 'records' | 'advance'>): ToolResult {
  if (isCrashed(wh.host)) return { exit: 255, stdout: '', stderr: `lvsim: ${wh.name} has crashed (kernel panic): it runs nothing until it boots again ({ fault: boot, host: ${wh.name} })\n`, errorAt: { word: 0, expected: 'a host that is running' } };
  try {
    return runCommand(cmd, { host: wh.host, ipvs: wh.ipvs, now, files: wh.files, stdin, ...live });
  } catch (e) {
    return { exit: 70, stdout: '', stderr: `internal error: ${(e as Error).message}\n`, errorAt: { word: 0, expected: 'a command lvsim can run (this is a bug in lvsim)' } };
  }
}

/** Where a host's declared files start in the scenario (to place errors inside them). */
type FilePositions = ReadonlyMap<string, { readonly line: number; readonly col?: number; readonly exact?: boolean }>;

/** Apply one command line; a failure becomes a diagnostic at the offending word. */
export function applyLine(world: World, host: string, line: SourceLine, file: string, diags: Diagnostic[], notApplied: NotApplied[], files: FilePositions = new Map()): ToolResult {
  // Words are split from the line's own text; sourcePos maps their offsets back to the file
  // (a continued or folded line spans several physical lines).
  const at = (offset: number, len: number): { line: number; col: number; endCol: number } => {
    const a = sourcePos(line, offset);
    const b = sourcePos(line, offset + Math.max(0, len - 1));
    return { line: a.line, col: a.col, endCol: b.line === a.line ? b.col + 1 : a.col + Math.max(1, len) };
  };
  const split = splitLine(line.text, 1);
  if (!split.ok) {
    const r: ToolResult = { exit: 2, stdout: '', stderr: `syntax error near '${split.found}'\n` };
    const p = at(split.col - 1, Math.max(1, split.found.length));
    diags.push({ file, line: p.line, col: p.col, endCol: p.endCol, severity: 'error', found: split.found, expected: split.expected });
    notApplied.push({ host, line, result: r });
    return r;
  }
  const wh = world.hosts.get(host)!;
  const wordAt = (cmd: SimpleCommand, i: number): Word => {
    // One past the last word is the redirection target (echo 1 > /proc/sys/...).
    if (i >= cmd.words.length && cmd.redirect) return cmd.redirect.target;
    return cmd.words[Math.min(i, cmd.words.length - 1)] ?? { text: line.text, col: 1, endCol: 1 + line.text.length };
  };
  let last: ToolResult = { exit: 0, stdout: '', stderr: '' };
  for (const cmd of split.commands) {
    last = runGuarded(wh, cmd, world.engine.now);
    for (const w of last.warnings ?? []) {
      const word = wordAt(cmd, w.word);
      const p = at(word.col - 1, word.endCol - word.col);
      diags.push({ file, line: p.line, col: p.col, endCol: p.endCol, severity: 'warning', found: word.text, expected: w.message });
    }
    if (last.fileErrors?.length) {
      // Lines of a declared file the tool refused, each at its place (the rest of the file applied).
      for (const e of last.fileErrors) {
        const f = files.get(e.path);
        const p = f?.exact && f.col !== undefined ? { line: f.line + e.line - 1, col: f.col + e.col - 1, endCol: f.col + e.endCol - 1 }
          : f ? { line: f.line, col: f.col ?? 1, endCol: (f.col ?? 1) + 1 } : at(0, line.text.length);
        diags.push({ file, line: p.line, col: p.col, endCol: Math.max(p.endCol, p.col + 1), severity: e.severity ?? (last.exit !== 0 ? 'error' : 'warning'), found: e.found, expected: e.expected, tool: e.tool });
      }
      if (last.exit !== 0) break;
      continue;
    }
    if (last.exit !== 0) {
      const word = wordAt(cmd, last.errorAt?.word ?? 0);
      const p = at(word.col - 1, word.endCol - word.col);
      diags.push({ file, line: p.line, col: p.col, endCol: p.endCol, severity: 'error', found: word.text, expected: last.errorAt?.expected ?? 'a command that succeeds', tool: last.stderr.trim() || undefined });
      notApplied.push({ host, line, result: last });
      break;
    }
  }
  return last;
}

/** Parse, build and run a scenario to completion. */
export function runScenarioText(text: string, file: string, opts: RunOptions = {}): Run {
  const parsed = parseScenario(text, file);
  return runScenario(parsed.scenario, opts, parsed.diagnostics);
}

export function runScenario(sc: Scenario, opts: RunOptions = {}, parseDiags: Diagnostic[] = []): Run {
  const seed = opts.seed ?? sc.seed;
  const { world, diagnostics, notApplied } = buildWorld(sc, seed, opts.trace);
  const diags = [...parseDiags, ...diagnostics];
  const execs: Run['execs'] = [];
  const engine = world.engine;
  const steps = sc.traffic;
  let lastStepAt = 0;
  // A step with `at` starts at that virtual time, whatever the steps before it are doing; one
  // without starts STEP_GAP_NS after the step before it finished.
  const begin = (i: number): void => {
    lastStepAt = engine.now;
    runStep(world, steps[i], sc.file, diags, notApplied, execs, () => {
      if (i + 1 < steps.length && steps[i + 1].atNs === null) engine.after(STEP_GAP_NS, () => begin(i + 1));
    });
  };
  steps.forEach((st, i) => { if (st.atNs !== null) engine.at(st.atNs, () => begin(i)); });
  if (steps.length !== 0 && steps[0].atNs === null) begin(0);
  const until = opts.untilNs ?? sc.untilNs;
  if (until !== null && until !== undefined) {
    engine.run(until);
  } else {
    // Run until nothing is left, but not past DEFAULT_TAIL_NS after the last step started.
    while (engine.pending > 0 && engine.peekTime() <= lastStepAt + DEFAULT_TAIL_NS) engine.step();
  }
  return { scenario: sc, world, diagnostics: diags, notApplied, clients: [...world.clients.values()], execs, findings: findings(world) };
}

function runStep(world: World, st: TrafficSpec, file: string, diags: Diagnostic[], notApplied: NotApplied[], execs: Run['execs'], done: () => void): void {
  switch (st.kind) {
    case 'connect': {
      const h = world.hosts.get(st.from)!.host;
      const r = startClient(h, st.id, st.src ?? 0, st.sport, st.dst, st.dport, st.mode, st.send, () => done(), st.timeoutNs ?? 0);
      world.clients.set(st.id, r);
      return;
    }
    case 'release': {
      const r = world.clients.get(st.id);
      if (!r) { done(); return; }
      releaseClient(r, done);
      return;
    }
    case 'exec': {
      const res = applyLine(world, st.host, st.command, file, diags, notApplied);
      world.recordConfig(st.host);
      execs.push({ host: st.host, command: st.command.text, at: world.engine.now, result: res });
      done();
      return;
    }
    case 'fault': {
      applyFault(world, st, { file, diags, notApplied });
      done();
      return;
    }
  }
}

export { formatIp4 };
