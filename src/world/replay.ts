/**
 * world/replay.ts: replay a vector recorded from a real kernel (test/fixtures/oracle/README.md,
 * format lvsim-oracle-vector/1) through the full packet path: the same hosts, segments and
 * setup commands, the same client connections one at a time, then compare the real server
 * reached, the director's counters after every step, and the final ipvsadm listings.
 */
import { formatIp4, parseIp4 } from '../net/addr';
import { TraceLog } from '../trace/sink';
import type { Scenario, SourceLine, HostSpec, LinkSpec } from '../config/scenario';
import { parseEndpoint } from '../config/scenario';
import type { Diagnostic } from '../config/diag';
import { buildWorld, STEP_GAP_NS, type World } from './world';
import { type ClientResult, releaseClient, startClient } from './apps';
import { destKey } from '../ipvs/types';
import { NS_PER_S } from '../sim/engine';

export interface VectorStep {
  n: number;
  do: 'connect' | 'release' | 'exec';
  id?: string;
  src?: string;
  mode?: 'hold' | 'close';
  host?: string;
  cmd?: string;
  command?: string;
  expect?: { ok?: boolean; rs?: string; error?: string };
  after?: Record<string, [number, number, number]>;
}

export interface Vector {
  format: string;
  id: string;
  description?: string;
  segments: string[][];
  hosts: Record<string, { setup: string[]; listen?: Array<{ proto: string; port: number; name: string }> }>;
  steps: VectorStep[];
  final?: { 'ipvsadm-Ln'?: string; 'ipvsadm-Lnc'?: string; 'ipvsadm-stats'?: string };
}

export interface StepOutcome {
  n: number;
  ok: boolean | null;
  rs: string | null;
  error: string | null;
  after: Record<string, [number, number, number]>;
  /** What differs from the vector, one line each. */
  diffs: string[];
}

export interface ReplayResult {
  id: string;
  steps: StepOutcome[];
  final: { 'ipvsadm-Ln': string; 'ipvsadm-Lnc': string; 'ipvsadm-stats': string };
  diffs: string[];
  diagnostics: Diagnostic[];
  world: World;
}

/** How long a client waits for connect() before giving up with ETIMEDOUT. */
export const REPLAY_CONNECT_TIMEOUT_NS = 3 * NS_PER_S;

export function vectorError(v: unknown): string | null {
  const o = v as Vector;
  if (!o || typeof o !== 'object') return 'not a JSON object';
  if (o.format !== 'lvsim-oracle-vector/1') return `format is '${String(o.format)}', expected 'lvsim-oracle-vector/1'`;
  if (!Array.isArray(o.segments) || !o.hosts || !Array.isArray(o.steps)) return 'missing segments, hosts or steps';
  return null;
}

/** The vector as a scenario: one link per segment, setup lines as typed. */
export function vectorScenario(v: Vector, file: string): Scenario {
  const hosts = new Map<string, HostSpec>();
  for (const [name, h] of Object.entries(v.hosts)) {
    const setup: SourceLine[] = h.setup.map((text, i) => ({ text, line: i + 1, col: 1 }));
    hosts.set(name, { name, setup, files: new Map(), listen: (h.listen ?? []).filter(l => l.proto === 'tcp').map(l => ({ proto: 'tcp', port: l.port, name: l.name, addr: 0 })), pos: { line: 1, col: 1, endCol: 1 } });
  }
  const links: LinkSpec[] = v.segments.map((seg, i) => ({
    name: `segment${i + 1}`,
    ends: seg.map(e => { const [host, dev] = e.split(':'); return { host, dev, pos: { line: 1, col: 1, endCol: 1 } }; }),
    latencyNs: 50_000,
    pos: { line: 1, col: 1, endCol: 1 },
  }));
  return { file, name: v.id, description: v.description ?? '', seed: 1, links, hosts, traffic: [], untilNs: null };
}

function counters(world: World, director: string): Record<string, [number, number, number]> {
  const out: Record<string, [number, number, number]> = {};
  const ipvs = world.hosts.get(director)!.ipvs;
  for (const svc of ipvs.services) for (const d of svc.dests) out[destKey(d)] = [d.weight, d.activeconns, d.inactconns];
  return out;
}

/** The real server's address for a client result: the IPVS destination local to the answering host. */
function rsOf(world: World, director: string, r: ClientResult, serverHost: Map<string, string>): string | null {
  if (!r.server) return null;
  const host = serverHost.get(r.server);
  if (!host) return null;
  const h = world.hosts.get(host)!.host;
  for (const svc of world.hosts.get(director)!.ipvs.services) {
    for (const d of svc.dests) if (h.devOfAddr(d.addr) && !h.devOfAddr(d.addr)!.noarp) return formatIp4(d.addr);
  }
  return null;
}

function lncRows(text: string): string[] {
  return text.split('\n').slice(2).filter(l => l.trim()).map(l => {
    const f = l.trim().split(/\s+/);
    return [f[0], f[2], f[3], f[4], f[5]].join(' ');
  }).sort();
}

export function replayVector(v: Vector, file: string, seed = 1): ReplayResult {
  const sc = vectorScenario(v, file);
  const { world, diagnostics } = buildWorld(sc, seed, new TraceLog());
  const engine = world.engine;
  const director = [...world.hosts.values()].find(h => h.ipvs.services.length)?.name
    ?? (v.hosts.director ? 'director' : [...world.hosts.keys()][0]);
  const serverHost = new Map<string, string>();
  for (const [name, h] of Object.entries(v.hosts)) for (const l of h.listen ?? []) serverHost.set(l.name, name);
  const clientHost = Object.keys(v.hosts).find(h => h === 'client') ?? Object.keys(v.hosts)[0];
  const clients = new Map<string, ClientResult>();
  const steps: StepOutcome[] = [];
  const diffs: string[] = [];
  const settle = () => engine.run(engine.now + STEP_GAP_NS * 10);

  for (const st of v.steps) {
    let done = false;
    const out: StepOutcome = { n: st.n, ok: null, rs: null, error: null, after: {}, diffs: [] };
    if (st.do === 'connect') {
      const ep = parseEndpoint(st.src ?? '') ?? { addr: parseIp4(st.src ?? '') ?? 0, port: 0 };
      const svc = world.hosts.get(director)!.ipvs.services[0];
      const r = startClient(world.hosts.get(clientHost)!.host, st.id ?? `s${st.n}`, ep.addr, ep.port, svc ? svc.addr : 0, svc ? svc.port : 0, st.mode ?? 'close', 0, () => { done = true; }, REPLAY_CONNECT_TIMEOUT_NS);
      clients.set(st.id ?? `s${st.n}`, r);
      while (!done && engine.step()) { /* until the step finishes */ }
      settle();
      out.ok = r.ok === true;
      out.rs = r.ok ? rsOf(world, director, r, serverHost) : null;
      out.error = r.error;
      const exp = st.expect ?? {};
      if (exp.ok === false) {
        if (out.ok) out.diffs.push(`step ${st.n}: expected the connection to fail (${exp.error ?? 'error'}), it was answered by ${out.rs}`);
        else if (exp.error && exp.error !== out.error) out.diffs.push(`step ${st.n}: expected error ${exp.error}, got ${out.error}`);
      } else {
        if (!out.ok) out.diffs.push(`step ${st.n}: expected an answer from ${exp.rs}, the connection failed with ${out.error}`);
        else if (exp.rs && exp.rs !== out.rs) out.diffs.push(`step ${st.n}: expected real server ${exp.rs}, got ${out.rs}`);
      }
    } else if (st.do === 'release') {
      const r = clients.get(st.id ?? '');
      if (r) {
        releaseClient(r, () => { done = true; });
        while (!done && engine.step()) { /* until closed */ }
      }
      settle();
      out.ok = true;
    } else if (st.do === 'exec') {
      const res = world.exec(st.host ?? director, st.cmd ?? st.command ?? '');
      out.ok = res.exit === 0;
      if (res.exit !== 0) out.error = res.stderr.trim();
      settle();
    }
    out.after = counters(world, director);
    if (st.after) {
      for (const [k, want] of Object.entries(st.after)) {
        const got = out.after[k];
        if (!got || got.join(',') !== want.join(',')) out.diffs.push(`step ${st.n}: ${k} expected [weight, active, inactive] = [${want.join(', ')}], got ${got ? `[${got.join(', ')}]` : 'no such real server'}`);
      }
    }
    diffs.push(...out.diffs);
    steps.push(out);
  }
  const final = {
    'ipvsadm-Ln': world.exec(director, 'ipvsadm -Ln').stdout.replace(/\n$/, ''),
    'ipvsadm-Lnc': world.exec(director, 'ipvsadm -Lnc').stdout.replace(/\n$/, ''),
    'ipvsadm-stats': world.exec(director, 'ipvsadm -Ln --stats').stdout.replace(/\n$/, ''),
  };
  if (v.final?.['ipvsadm-Ln'] !== undefined && v.final['ipvsadm-Ln'] !== final['ipvsadm-Ln']) {
    diffs.push(`final ipvsadm -Ln differs:\n--- kernel\n${v.final['ipvsadm-Ln']}\n+++ lvsim\n${final['ipvsadm-Ln']}`);
  }
  if (v.final?.['ipvsadm-Lnc'] !== undefined) {
    const want = lncRows(v.final['ipvsadm-Lnc']);
    const got = lncRows(final['ipvsadm-Lnc']);
    const missing = want.filter(x => !got.includes(x));
    const extra = got.filter(x => !want.includes(x));
    if (missing.length || extra.length || want.length !== got.length) {
      diffs.push(`final ipvsadm -Lnc differs (compared as a set of protocol, state, source, virtual, destination):\n${missing.map(m => `- ${m}`).join('\n')}${missing.length && extra.length ? '\n' : ''}${extra.map(m => `+ ${m}`).join('\n')}`);
    }
  }
  return { id: v.id, steps, final, diffs, diagnostics, world };
}
