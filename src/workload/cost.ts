/**
 * workload/cost.ts: what a workload run will cost, estimated from its spec before it starts,
 * so that a value validation accepts one by one (requests: 1e15, sample: 1ns) cannot hang or
 * exhaust memory together. The estimate counts the client's packets the model handles and the
 * metric samples kept; a run over either limit is refused with the field to change.
 */
import type { Dist, WorkloadSpec } from './spec';
import { distMean } from './generator';

/**
 * Packets (and requests) a flow-mode run may model: ten million connections of a dozen packets
 * each fit (about a minute; `npm run bench` runs 1e7 of the comparison workload to show that
 * memory stays flat); the shipped comparison needs about 240 thousand.
 */
export const MAX_FLOW_PACKETS = 150_000_000;
/**
 * Packets a packet-mode run may model: every one crosses the kernel model of each host it
 * visits (8k to 18k connections a second). `npm run bench`'s runs must fit: the comparison
 * workload, 1e5 connections or about 5e6 packets, and a million of the reference scenario's
 * five-step connections (about 1.2e7, under a minute), its memory-stays-flat run.
 */
export const MAX_PACKET_PACKETS = 15_000_000;
/** Metric samples a run may keep (each holds a counter per real server). */
export const MAX_SAMPLES = 100_000;

/** TCP payload per segment for the estimate (an Ethernet MSS). */
const MSS = 1460;

export type RunMode = 'flow' | 'packet';

export interface RunCost {
  readonly connections: number;
  /** Estimated packets over the run, plus the requests drawn (each costs as much as a packet). */
  readonly packets: number;
  /** Estimated simulated length of the run, ns. */
  readonly lengthNs: number;
  /** Metric samples, when `sample:` is given (else the run picks about 100). */
  readonly samples: number;
}

/** A value expected for the largest of n draws when the mean is infinite (Pareto alpha <= 1). */
function typicalMean(d: Dist, n: number): number {
  const m = distMean(d);
  if (Number.isFinite(m)) return m;
  // Pareto with alpha <= 1: the sum of n draws is dominated by the largest, about min * n^(1/alpha).
  return d.dist === 'pareto' ? (d.min * Math.pow(Math.max(n, 1), 1 / d.alpha)) / Math.max(n, 1) : m;
}

function arrivalRate(spec: WorkloadSpec): number {
  const a = spec.arrivals;
  return a.process === 'day' ? (a.min + a.max) / 2 : a.rate;
}

/** The estimate for a run of `mode` over `connections` connections (default: the spec's own). */
export function estimateCost(spec: WorkloadSpec, mode: RunMode, connections?: number): RunCost {
  const wanted = connections ?? (mode === 'packet' ? Math.min(spec.packetConnections, spec.connections) : spec.connections);
  const rate = arrivalRate(spec);
  // Arrivals stop at `connections` or at `duration`, whichever comes first.
  const n = Math.min(wanted, Math.max(1, Math.ceil((spec.durationNs / 1e9) * rate)));
  const requests = Math.max(1, typicalMean(spec.requests, n));
  const requestSegments = Math.ceil((requests * spec.requestBytes) / MSS);
  // Handshake, greeting ACK, FIN exchange: about 8 packets, plus one response-size draw per
  // request (workload/generator.ts); packet mode also carries the responses.
  let perConn = 8 + requestSegments + requests;
  if (mode === 'packet') perConn += 2 * Math.ceil((requests * typicalMean(spec.response, n)) / MSS);
  const arrivalsNs = Math.min(spec.durationNs, (n / rate) * 1e9);
  const holdNs = typicalMean(spec.length, n);
  const lengthNs = arrivalsNs + (Number.isFinite(holdNs) ? holdNs : spec.durationNs) + 2 * spec.rttNs;
  const samples = spec.sampleNs !== null ? lengthNs / spec.sampleNs : 100;
  return { connections: n, packets: n * perConn, lengthNs, samples };
}

/** Why the run would cost too much, naming the fields to change; null when it is within bounds. */
export function costProblem(spec: WorkloadSpec, mode: RunMode, connections?: number): { field: 'sample' | 'requests'; message: string } | null {
  const c = estimateCost(spec, mode, connections);
  if (c.samples > MAX_SAMPLES) {
    const least = Math.ceil(c.lengthNs / MAX_SAMPLES);
    return { field: 'sample', message: `sample: every ${formatNs(spec.sampleNs!)} over a run of about ${formatNs(c.lengthNs)} keeps ${fmt(c.samples)} samples (at most ${fmt(MAX_SAMPLES)}); set sample: to ${formatNs(least, true)} or more` };
  }
  const max = mode === 'packet' ? MAX_PACKET_PACKETS : MAX_FLOW_PACKETS;
  if (!(c.packets <= max)) {
    const which = mode === 'packet' ? 'packet: { connections }' : 'connections: (or duration:)';
    return { field: 'requests', message: `a ${mode}-mode run of ${fmt(c.connections)} connections would model about ${fmt(c.packets)} packets and requests (at most ${fmt(max)}); lower requests:, request-bytes:${mode === 'packet' ? ', response:' : ''} or ${which}` };
  }
  return null;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return 'unboundedly many';
  return n >= 1e6 ? n.toExponential(1).replace('e+', 'e') : String(Math.round(n));
}

/** A duration as the workload file writes it, to 3 significant digits (rounded up when `up`). */
function formatNs(ns: number, up = false): string {
  const [unit, name] = ns >= 1e9 ? [1e9, 's'] : ns >= 1e6 ? [1e6, 'ms'] : ns >= 1e3 ? [1e3, 'us'] : [1, 'ns'];
  const v = ns / unit;
  const step = 10 ** (Math.floor(Math.log10(v)) - 2);
  const r = unit === 1 ? Math.ceil(v) : (up ? Math.ceil(v / step) : Math.round(v / step)) * step;
  return `${+r.toPrecision(3)}${name}`;
}
