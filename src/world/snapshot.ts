/**
 * world/snapshot.ts: a host's configuration as trace/state.ts describes it, read from the
 * kernel model and its IPVS table. The world takes one after the setup, after every
 * command that may change a host (an exec step, a workload event) and whenever a daemon says it
 * changed one (keepalived: trace/emit.ts `configChanged`), and records the
 * difference as configuration-change records, so views rebuild the state at any position
 * from the trace alone.
 */
import { formatEndpoint } from '../net/addr';
import { type HostState, type LinkState, type AddrState, type RouteState, type ServiceState, type DestState, type XtablesState, NO_XTABLES } from '../trace/state';
import { xtIfLoaded } from '../kernel/xtables';
import { saveRule } from '../kernel/xtables_save';
import type { Host } from '../kernel/host';
import type { WorldHost } from './world';

export function snapshotHost(wh: WorldHost): HostState {
  const h = wh.host;
  const links = new Map<string, LinkState>();
  const addrs = new Map<string, AddrState[]>();
  for (const d of h.devices.values()) {
    links.set(d.name, {
      name: d.name, kind: d.kind, up: d.up, carrier: d.carrier, mtu: d.mtu, mac: d.mac,
      tunnel: d.tunnel ? { local: d.tunnel.local, remote: d.tunnel.remote, ttl: d.tunnel.ttl } : null,
    });
    addrs.set(d.name, d.addrs.map(a => ({ addr: a.addr, prefixLen: a.prefixLen, broadcast: a.broadcast, scope: a.scope, label: a.label, secondary: a.secondary })));
  }
  const routes: RouteState[] = h.routes.map(r => ({
    table: r.table, type: r.type, dst: r.dst, len: r.len, gw: r.gw, dev: r.dev, src: r.src, metric: r.metric, proto: r.proto, scope: r.scope,
    ...(r.mtu !== undefined ? { mtu: r.mtu } : {}),
  }));
  const sysctl = new Map<string, string>();
  for (const k of h.sysctl.keys()) sysctl.set(k, h.sysctl.get(k)!);
  const services = new Map<string, ServiceState>();
  const dests = new Map<string, Map<string, DestState>>();
  for (const s of wh.ipvs.services) {
    const key = `${s.protocol.toUpperCase()} ${formatEndpoint(s.addr, s.port)}`;
    services.set(key, { key, protocol: s.protocol, addr: s.addr, port: s.port, scheduler: s.scheduler.name, flags: s.flags, timeout: s.timeout, netmask: s.netmask });
    const ds = new Map<string, DestState>();
    for (const d of s.dests) {
      const dk = formatEndpoint(d.addr, d.port);
      ds.set(dk, { key: dk, addr: d.addr, port: d.port, fwd: d.fwd, weight: d.weight, uThreshold: d.uThreshold, lThreshold: d.lThreshold });
    }
    dests.set(key, ds);
  }
  return { links, addrs, routes, sysctl, modules: new Set(h.modules), services, dests, xtables: snapshotXtables(h) };
}

/** The loaded tables as iptables-save orders them, each rule as `iptables -S` prints it, with its counters. */
function snapshotXtables(h: Host): XtablesState {
  const xt = xtIfLoaded(h);
  if (!xt) return NO_XTABLES;
  return {
    commits: xt.commits,
    tables: xt.loadOrder().map(t => ({
      name: t.name,
      chains: t.chains.map(c => ({
        name: c.name, policy: c.hook !== null ? c.policy : null, pcnt: c.pcnt, bcnt: c.bcnt,
        rules: c.rules.map(r => ({ text: saveRule(c.name, r), pcnt: r.pcnt, bcnt: r.bcnt })),
      })),
    })),
  };
}
