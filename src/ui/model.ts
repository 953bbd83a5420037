/**
 * ui/model.ts: what the browser shows of a run, as plain data. The topology (hosts, their
 * devices and addresses, links, subnets, the registered netfilter handlers) is read from the
 * world after the run; everything about packets is read from the trace. Flights pair a device
 * tx on one host with the rx on the other end of the link, for the animation.
 *
 * The whole trace is computed up front (scenarios are small), so the player's position is an
 * index into `records`: step back and jump are exact because every view is a pure function of
 * that index (a re-run from the start is the only checkpoint needed, and it is never needed
 * again while the scenario, seed and text are unchanged).
 */
import { formatIp4, networkOf, formatPrefix, type Ip4 } from '../net/addr';
import { IPPROTO_IPIP, type Ipv4, type Arp } from '../net/packet';
import type { EventRecord, TraceRecord, Hook } from '../trace/record';
import { HOOKS } from '../trace/record';
import { type StepIndex, stepIndexOf } from '../trace/steps';
import type { ChangeRecord } from '../trace/state';
import { runScenarioText, type Run } from '../world/world';
import { checkExpectations, type ExpectationResult } from '../world/expect';
import { confirmFindings, doctorScenarioText, type Confirmation } from '../world/doctor';
import { type Lab, faultServices } from '../config/scenario';
import { TraceLog } from '../trace/sink';
import type { Diagnostic } from '../config/diag';

export interface DevView {
  readonly name: string;
  readonly kind: string;
  readonly up: boolean;
  readonly addrs: ReadonlyArray<{ addr: string; prefixLen: number; vip: boolean }>;
}

export interface HostView {
  readonly name: string;
  readonly role: string;
  readonly devs: readonly DevView[];
  /** Registered netfilter handlers per hook, in the order they run (host.nf.handlers). */
  readonly hooks: Readonly<Record<Hook, ReadonlyArray<{ name: string; priority: number }>>>;
}

export interface LinkView {
  readonly name: string;
  readonly ends: ReadonlyArray<{ host: string; dev: string }>;
  /** Prefixes configured on the link's devices ("172.16.197.0/24"). */
  readonly prefixes: readonly string[];
  readonly latencyNs: number;
}

/** One frame on a link: from the tx record to the rx record. */
export interface Flight {
  readonly tx: number;
  readonly rx: number;
  readonly link: number;
  readonly from: string;
  readonly to: string;
  readonly id: number;
  readonly kind: PacketKind;
}

export type PacketKind = 'request' | 'encap' | 'reply' | 'arp' | 'other';

export interface RunView {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly text: string;
  readonly hosts: readonly HostView[];
  readonly links: readonly LinkView[];
  readonly records: readonly TraceRecord[];
  readonly flights: readonly Flight[];
  /** Flights indexed by their rx record and by their tx record. */
  readonly flightByRx: ReadonlyMap<number, Flight>;
  readonly flightByTx: ReadonlyMap<number, Flight>;
  readonly vips: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
  /** Presentation time (ms at 1x) of each record; see presentationTimes. */
  readonly pt: Float64Array;
  /** First record of each step 1..5 (index 0 unused), -1 when the run never reaches it. */
  readonly firstOfStep: readonly number[];
  /** The step of each record (trace/steps.ts). */
  readonly steps: StepIndex;
  readonly runMs: number;
  /** Steps in the scenario's traffic: section (0: nothing is sent). */
  readonly trafficSteps: number;
  /** The misconfiguration lab's exercise, when the scenario is one. */
  readonly lab: Lab | null;
  /** Each `expect:` of the scenario against this run. */
  readonly expectations: readonly ExpectationResult[];
  /** The doctor's findings, each with the record of this run that confirms it. */
  readonly findings: readonly Confirmation[];
  /** Host names, in the scenario's order (the console's host list). */
  readonly hostNames: readonly string[];
  /** The run's configuration changes (trace/state.ts), for views drawn at a position. */
  readonly changes: readonly ChangeRecord[];
  /** The run's host and daemon events (crashes, boots, faults, health checks, VRRP), for the timeline. */
  readonly events: readonly EventRecord[];
  /** What the scenario declares that a fault can hit: hosts, their services, links. */
  readonly faultTargets: FaultTargets;
}

/** The scenario's hosts, services (per host) and links, as the faults panel offers them. */
export interface FaultTargets {
  readonly hosts: readonly string[];
  readonly services: ReadonlyArray<{ readonly host: string; readonly service: string }>;
  readonly links: readonly string[];
}

export function packetKind(pkt: Ipv4 | Arp, vips: ReadonlySet<number>): PacketKind {
  if (pkt.proto === 'arp') return 'arp';
  if (pkt.protocol === IPPROTO_IPIP) return 'encap';
  if (vips.has(pkt.dst)) return 'request';
  if (vips.has(pkt.src)) return 'reply';
  return 'other';
}

/** Real milliseconds (at 1x) a record is shown for, and how virtual gaps are compressed. */
export const DWELL_MS = 140;
/** 1 µs of virtual time lasts 2 ms on screen, so a 200 µs link takes 0.4 s at 1x. */
export const MS_PER_NS = 0.002;
/** Idle gaps (retransmission timers, ARP retries) are cut to this. */
export const GAP_CAP_MS = 1200;

/**
 * The presentation clock: each record gets a moment on screen. Records at the same virtual
 * time are spaced by DWELL_MS, so the points of one kernel light up in order; time between
 * records is scaled by MS_PER_NS and capped at GAP_CAP_MS.
 */
export function presentationTimes(records: readonly TraceRecord[]): Float64Array {
  const pt = new Float64Array(records.length);
  for (let i = 1; i < records.length; i++) {
    const dt = records[i].t - records[i - 1].t;
    pt[i] = pt[i - 1] + Math.min(GAP_CAP_MS, Math.max(DWELL_MS, dt * MS_PER_NS));
  }
  return pt;
}

function hostViews(run: Run, vipSet: ReadonlySet<number>): HostView[] {
  const out: HostView[] = [];
  for (const wh of run.world.hosts.values()) {
    const devs: DevView[] = [];
    for (const d of wh.host.devices.values()) {
      if (d.kind === 'loopback') continue;
      devs.push({
        name: d.name, kind: d.kind, up: d.up,
        addrs: d.addrs.map(a => ({ addr: formatIp4(a.addr), prefixLen: a.prefixLen, vip: vipSet.has(a.addr) })),
      });
    }
    const hooks = {} as Record<Hook, Array<{ name: string; priority: number }>>;
    for (const h of HOOKS) hooks[h] = wh.host.nf.handlers(h).map(o => ({ name: o.name, priority: o.priority }));
    out.push({ name: wh.name, role: wh.role, devs, hooks });
  }
  return out;
}

function linkViews(run: Run): LinkView[] {
  return run.world.links.map(l => {
    const prefixes = new Set<string>();
    for (const e of l.ends) for (const a of e.dev.addrs) if (a.prefixLen < 32) prefixes.add(formatPrefix(networkOf(a.addr, a.prefixLen), a.prefixLen));
    return { name: l.name, ends: l.ends.map(e => ({ host: e.host.name, dev: e.dev.name })), prefixes: [...prefixes], latencyNs: l.latencyNs };
  });
}

function flightsOf(records: readonly TraceRecord[], links: readonly LinkView[], vips: ReadonlySet<number>): Flight[] {
  const linkOf = new Map<string, number>();
  links.forEach((l, i) => { for (const e of l.ends) linkOf.set(`${e.host}/${e.dev}`, i); });
  // The last tx of each packet id, per link, not yet received.
  const lastTx = new Map<string, number>();
  const flights: Flight[] = [];
  for (const r of records) {
    if (r.frame === undefined || r.dev === undefined) continue;
    const li = linkOf.get(`${r.host}/${r.dev}`);
    if (li === undefined) continue;
    if (r.verdict === 'tx') { lastTx.set(`${li}:${r.packet.id}`, r.seq); continue; }
    if (r.verdict !== 'rx') continue;
    let tx = lastTx.get(`${li}:${r.packet.id}`);
    if (tx === undefined && r.cause !== undefined) tx = lastTx.get(`${li}:${r.cause}`);
    if (tx === undefined) continue;
    const t = records[tx];
    flights.push({ tx, rx: r.seq, link: li, from: t.host, to: r.host, id: r.packet.id, kind: packetKind(r.packet.pkt, vips) });
  }
  return flights;
}

/** Run a scenario's text in the page and extract what the views need. */
export function buildRunView(text: string, file: string, seed?: number): RunView {
  const t0 = performance.now();
  const run = runScenarioText(text, file, seed === undefined ? {} : { seed });
  const runMs = performance.now() - t0;
  const ctx = run.world.stepContext();
  const vipSet = new Set<number>(ctx.vips);
  const records = run.world.records;
  const links = linkViews(run);
  const flights = flightsOf(records, links, vipSet);
  const flightByRx = new Map<number, Flight>();
  const flightByTx = new Map<number, Flight>();
  for (const f of flights) { flightByRx.set(f.rx, f); flightByTx.set(f.tx, f); }
  const steps = stepIndexOf(records, run.world.changes);
  const firstOfStep = steps.first;
  return {
    file, name: run.scenario.name || file, description: run.scenario.description, seed: seed ?? run.scenario.seed, text,
    hosts: hostViews(run, vipSet), links, records, flights, flightByRx, flightByTx,
    vips: [...vipSet].map((v: Ip4) => formatIp4(v)), diagnostics: run.diagnostics,
    pt: presentationTimes(records), firstOfStep, steps, runMs, trafficSteps: run.scenario.traffic.length,
    lab: run.scenario.lab ?? null, expectations: checkExpectations(run), findings: doctorFindings(text, file, seed, records),
    hostNames: [...run.scenario.hosts.keys()], changes: run.world.changes,
    events: run.world.trace instanceof TraceLog ? run.world.trace.events : [],
    faultTargets: {
      hosts: [...run.scenario.hosts.keys()],
      services: [...run.scenario.hosts.values()].flatMap(h => faultServices(h).map(service => ({ host: h.name, service }))),
      links: run.scenario.links.map(l => l.name),
    },
  };
}

/** The doctor on the same text, confirmed against this run's records; none if it cannot read it. */
function doctorFindings(text: string, file: string, seed: number | undefined, records: readonly TraceRecord[]): Confirmation[] {
  try {
    return confirmFindings(doctorScenarioText(text, file, seed).findings, records);
  } catch {
    return [];
  }
}

/** Index of the last record at or before presentation time `ms`. */
export function indexAt(pt: Float64Array, ms: number): number {
  let lo = 0, hi = pt.length - 1;
  if (hi < 0) return -1;
  if (ms < pt[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pt[mid] <= ms) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** First record at or after virtual time tNs. */
export function indexAtTime(records: readonly TraceRecord[], tNs: number): number {
  let lo = 0, hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (records[mid].t < tNs) lo = mid + 1; else hi = mid;
  }
  return Math.min(lo, records.length - 1);
}
