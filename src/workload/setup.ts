/**
 * workload/setup.ts: build the world a workload runs in. The scenario's hosts, links and setup
 * lines are applied exactly as `lvsim run` applies them (world/world.ts buildWorld), so the
 * director's IPVS (services, destinations, weights, sysctls) is the one the scenario configures;
 * a comparison then switches the scheduler with `ipvsadm -E`, through the real control plane.
 */
import { formatIp4, type Ip4 } from '../net/addr';
import type { TraceSink } from '../trace/sink';
import { type Diagnostic, formatDiagnostic } from '../config/diag';
import { parseScenario, type Scenario } from '../config/scenario';
import { buildWorld, type World, type WorldHost } from '../world/world';
import type { Ipvs } from '../ipvs/ipvs';
import { IP_VS_SVC_F_PERSISTENT, destKey, type Dest, type Service } from '../ipvs/types';
import { DEFAULT_WORKLOAD, parseWorkload, withoutWorkload, type WorkloadSpec } from './spec';

export interface Prepared {
  readonly scenario: Scenario;
  readonly spec: WorkloadSpec;
  readonly world: World;
  readonly seed: number;
  readonly director: WorldHost;
  readonly ipvs: Ipvs;
  readonly svc: Service;
  readonly scheduler: string;
  /** Real-server address -> host name (for "rs2" instead of "172.16.197.3:9001"). */
  readonly hostOfAddr: ReadonlyMap<Ip4, string>;
  readonly diagnostics: Diagnostic[];
}

export class WorkloadError extends Error {}

export interface PrepareOptions {
  readonly scheduler?: string;
  readonly seed?: number;
  readonly trace?: TraceSink;
}

/** Parse the scenario and its workload, build the world, pick the director and service, set the scheduler. */
export function prepare(text: string, file: string, opts: PrepareOptions = {}): Prepared {
  const w = parseWorkload(text, file);
  const parsed = parseScenario(withoutWorkload(text), file);
  const sc = parsed.scenario;
  const spec = w.spec ?? DEFAULT_WORKLOAD;
  const seed = opts.seed ?? spec.seed ?? sc.seed;
  const built = buildWorld(sc, seed, opts.trace);
  const world = built.world;
  const diagnostics = [...parsed.diagnostics, ...w.diagnostics, ...built.diagnostics];
  let director: WorldHost | undefined;
  if (spec.director !== null) {
    director = world.hosts.get(spec.director);
    if (!director) throw new WorkloadError(`workload: no host '${spec.director}' (hosts: ${[...world.hosts.keys()].join(', ')})`);
  } else {
    director = [...world.hosts.values()].find(h => h.ipvs.services.length > 0);
    if (!director) {
      // Often the scenario itself did not parse: say where, not only what is missing.
      const errors = diagnostics.filter(d => d.severity === 'error').slice(0, 5).map(d => '\n' + formatDiagnostic(d)).join('');
      throw new WorkloadError(`workload: no host has an IPVS service after setup (add ipvsadm -A ... to the director's setup)${errors}`);
    }
  }
  const ipvs = director.ipvs;
  const svc = spec.service
    ? ipvs.services.find(s => s.protocol === 'tcp' && s.addr === spec.service!.addr && s.port === spec.service!.port)
    : ipvs.services.find(s => s.protocol === 'tcp');
  if (!svc) throw new WorkloadError(`workload: ${director.name} has no TCP virtual service${spec.service ? ` ${formatIp4(spec.service.addr)}:${spec.service.port}` : ''}`);
  if (opts.scheduler !== undefined && opts.scheduler !== svc.scheduler.name) {
    let line = `ipvsadm -E -t ${formatIp4(svc.addr)}:${svc.port} -s ${opts.scheduler}`;
    if (svc.flags & IP_VS_SVC_F_PERSISTENT) line += ` -p ${svc.timeout} -M ${formatIp4(svc.netmask)}`;
    const r = world.exec(director.name, line);
    if (r.exit !== 0) throw new WorkloadError(`workload: '${line}' failed on ${director.name}: ${r.stderr.trim()}`);
  }
  const hostOfAddr = new Map<Ip4, string>();
  for (const wh of world.hosts.values()) {
    if (wh === director) continue;
    for (const dev of wh.host.devices.values()) {
      if (dev.name === 'lo' || dev.name.startsWith('tunl')) continue;
      for (const a of dev.addrs) if (!hostOfAddr.has(a.addr)) hostOfAddr.set(a.addr, wh.name);
    }
  }
  return { scenario: sc, spec, world, seed, director, ipvs, svc, scheduler: svc.scheduler.name, hostOfAddr, diagnostics };
}

/** Real-server names for dests: the host holding the address, else "RIP:port". */
export function destName(p: Prepared, d: Dest): string {
  return p.hostOfAddr.get(d.addr) ?? destKey(d);
}

/** Host names of the real servers on a failing/recovering host. */
export function addrsOfHost(p: Prepared, host: string): Ip4[] {
  const out: Ip4[] = [];
  for (const [a, h] of p.hostOfAddr) if (h === host) out.push(a);
  return out;
}
