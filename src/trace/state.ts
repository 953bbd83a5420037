/**
 * trace/state.ts: configuration over time. A host's configuration (links, addresses, routes,
 * sysctls, modules, the IPVS table, the iptables rules) changes during a run (an exec step, a
 * workload event, a tool, a daemon such as keepalived's checkers and VRRP), and every change is a
 * record with its host, virtual time, position in the trace and, for a daemon's, who made it.
 * `hostStateAt` folds them into the state a host had at any trace position, so a view drawn at
 * record N shows what was true then, not what is true at the end of the run. Pure data: no
 * kernel, no IPVS; world/ takes the snapshots these changes are the differences of.
 */
import type { Ip4 } from '../net/addr';

export interface LinkState {
  readonly name: string;
  readonly kind: 'loopback' | 'ether' | 'ipip';
  readonly up: boolean;
  readonly carrier: boolean;
  readonly mtu: number;
  readonly mac: string;
  /** ipip devices: the tunnel's endpoints (0 = any). */
  readonly tunnel: { readonly local: Ip4; readonly remote: Ip4; readonly ttl: number } | null;
}

export interface AddrState {
  readonly addr: Ip4;
  readonly prefixLen: number;
  readonly broadcast: Ip4 | null;
  readonly scope: 'global' | 'link' | 'host';
  readonly label: string;
  readonly secondary: boolean;
}

export interface RouteState {
  readonly table: 'main' | 'local';
  readonly type: string;
  readonly dst: Ip4;
  readonly len: number;
  readonly gw: Ip4 | null;
  readonly dev: string | null;
  readonly src: Ip4 | null;
  readonly metric: number;
  readonly proto: string;
  readonly scope: string;
  readonly mtu?: number;
}

/** A virtual service; `key` as ipvsadm lists it ("TCP 172.16.29.6:9001"). */
export interface ServiceState {
  readonly key: string;
  readonly protocol: 'tcp' | 'udp';
  readonly addr: Ip4;
  readonly port: number;
  readonly scheduler: string;
  readonly flags: number;
  /** Persistence timeout in seconds (0: not persistent). */
  readonly timeout: number;
  readonly netmask: number;
}

/** A real server of a service; `key` "RIP:port". */
export interface DestState {
  readonly key: string;
  readonly addr: Ip4;
  readonly port: number;
  readonly fwd: 'tunnel' | 'route' | 'masq';
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
}

/** An iptables rule as `iptables -S` prints it, with its counters when the state was taken. */
export interface XtRuleState {
  readonly text: string;
  readonly pcnt: number;
  readonly bcnt: number;
}

/** A chain: a built-in one has a policy and the policy's counters; a user chain has neither (null). */
export interface XtChainState {
  readonly name: string;
  readonly policy: 'ACCEPT' | 'DROP' | null;
  readonly pcnt: number;
  readonly bcnt: number;
  readonly rules: readonly XtRuleState[];
}

export interface XtTableState {
  readonly name: string;
  /** In listing order: built-in chains, then user chains by name. */
  readonly chains: readonly XtChainState[];
}

/**
 * The host's iptables tables as iptables-save orders them. `commits` counts the changes made
 * to them (every iptables or iptables-restore commit, a table's module loading); between two
 * commits only packets move the counters, and the trace records each rule they match.
 */
export interface XtablesState {
  readonly commits: number;
  readonly tables: readonly XtTableState[];
}

export const NO_XTABLES: XtablesState = Object.freeze({ commits: 0, tables: [] });

/** One host's configuration at one moment. */
export interface HostState {
  readonly links: ReadonlyMap<string, LinkState>;
  /** Per device, in the device's order (primary first). */
  readonly addrs: ReadonlyMap<string, readonly AddrState[]>;
  readonly routes: readonly RouteState[];
  readonly sysctl: ReadonlyMap<string, string>;
  readonly modules: ReadonlySet<string>;
  readonly services: ReadonlyMap<string, ServiceState>;
  /** Per service key, its destinations in the kernel's list order (a new one at the head). */
  readonly dests: ReadonlyMap<string, ReadonlyMap<string, DestState>>;
  /** iptables: the rule sets and their counters as at the last commit. */
  readonly xtables: XtablesState;
}

/** What changed, as a closed union: one kind per part of the configuration. */
export type ConfigChange =
  | { readonly kind: 'link'; readonly op: 'add' | 'edit'; readonly link: LinkState }
  | { readonly kind: 'link'; readonly op: 'del'; readonly dev: string }
  | { readonly kind: 'addr'; readonly op: 'add' | 'del'; readonly dev: string; readonly addr: AddrState }
  | { readonly kind: 'route'; readonly op: 'add' | 'del'; readonly route: RouteState }
  | { readonly kind: 'sysctl'; readonly key: string; readonly value: string | null }
  | { readonly kind: 'module'; readonly op: 'load' | 'unload'; readonly name: string }
  | { readonly kind: 'service'; readonly op: 'add' | 'edit'; readonly service: ServiceState }
  | { readonly kind: 'service'; readonly op: 'del'; readonly key: string }
  | { readonly kind: 'dest'; readonly op: 'add' | 'edit'; readonly service: string; readonly dest: DestState }
  | { readonly kind: 'dest'; readonly op: 'del'; readonly service: string; readonly key: string }
  /** The iptables tables after a commit, whole (rules and counters: `iptables -Z` and `-c` set counters too). */
  | { readonly kind: 'iptables'; readonly xtables: XtablesState };

/** A change as the trace keeps it: on which host, when, and before which packet record. */
export interface ChangeRecord {
  /** The number of packet records written before the change: it holds from record `seq` on. */
  readonly seq: number;
  readonly t: number;
  readonly host: string;
  readonly change: ConfigChange;
  /**
   * Who made it when not the scenario's own commands (setup lines, exec steps): a daemon, as
   * "keepalived (Keepalived_healthcheckers)". The change itself is the one the equivalent command
   * makes (a real server the checker removes is the `ipvsadm -d` record, a VIP VRRP adds the
   * `ip addr add` one).
   */
  readonly by?: string;
}

export const EMPTY_STATE: HostState = Object.freeze({
  links: new Map<string, LinkState>(), addrs: new Map<string, AddrState[]>(), routes: [], sysctl: new Map<string, string>(),
  modules: new Set<string>(), services: new Map<string, ServiceState>(), dests: new Map<string, Map<string, DestState>>(),
  xtables: NO_XTABLES,
});

const routeKey = (r: RouteState): string => `${r.table} ${r.type} ${r.dst}/${r.len} ${r.gw} ${r.dev} ${r.src} ${r.metric} ${r.proto} ${r.scope} ${r.mtu ?? ''}`;
const addrKey = (a: AddrState): string => `${a.addr}/${a.prefixLen} ${a.broadcast} ${a.scope} ${a.label} ${a.secondary}`;
const sameLink = (a: LinkState, b: LinkState): boolean =>
  a.kind === b.kind && a.up === b.up && a.carrier === b.carrier && a.mtu === b.mtu && a.mac === b.mac &&
  (a.tunnel === b.tunnel || (a.tunnel !== null && b.tunnel !== null && a.tunnel.local === b.tunnel.local && a.tunnel.remote === b.tunnel.remote && a.tunnel.ttl === b.tunnel.ttl));
const sameService = (a: ServiceState, b: ServiceState): boolean =>
  a.scheduler === b.scheduler && a.flags === b.flags && a.timeout === b.timeout && a.netmask === b.netmask;
const sameDest = (a: DestState, b: DestState): boolean =>
  a.fwd === b.fwd && a.weight === b.weight && a.uThreshold === b.uThreshold && a.lThreshold === b.lThreshold && a.port === b.port;

/**
 * The changes that turn `prev` into `next`, in a fixed order (modules, links, addresses,
 * routes, sysctls, services, destinations, iptables), so the same runs give the same records.
 * Applying them to `prev` with applyChange gives a state equal to `next` (iptables counters:
 * as at the last commit; trace/firewall.ts adds the packets counted since).
 */
export function diffHostState(prev: HostState, next: HostState): ConfigChange[] {
  const out: ConfigChange[] = [];
  for (const m of prev.modules) if (!next.modules.has(m)) out.push({ kind: 'module', op: 'unload', name: m });
  for (const m of next.modules) if (!prev.modules.has(m)) out.push({ kind: 'module', op: 'load', name: m });
  for (const [n] of prev.links) if (!next.links.has(n)) out.push({ kind: 'link', op: 'del', dev: n });
  for (const [n, l] of next.links) {
    const p = prev.links.get(n);
    if (!p) out.push({ kind: 'link', op: 'add', link: l });
    else if (!sameLink(p, l)) out.push({ kind: 'link', op: 'edit', link: l });
  }
  const devs = new Set([...prev.addrs.keys(), ...next.addrs.keys()]);
  for (const dev of devs) {
    const a = prev.addrs.get(dev) ?? [];
    const b = next.addrs.get(dev) ?? [];
    const bk = new Set(b.map(addrKey));
    const ak = new Set(a.map(addrKey));
    for (const x of a) if (!bk.has(addrKey(x))) out.push({ kind: 'addr', op: 'del', dev, addr: x });
    for (const x of b) if (!ak.has(addrKey(x))) out.push({ kind: 'addr', op: 'add', dev, addr: x });
  }
  const pr = new Set(prev.routes.map(routeKey));
  const nr = new Set(next.routes.map(routeKey));
  for (const r of prev.routes) if (!nr.has(routeKey(r))) out.push({ kind: 'route', op: 'del', route: r });
  for (const r of next.routes) if (!pr.has(routeKey(r))) out.push({ kind: 'route', op: 'add', route: r });
  for (const [k] of prev.sysctl) if (!next.sysctl.has(k)) out.push({ kind: 'sysctl', key: k, value: null });
  for (const [k, v] of next.sysctl) if (prev.sysctl.get(k) !== v) out.push({ kind: 'sysctl', key: k, value: v });
  for (const [k] of prev.services) if (!next.services.has(k)) out.push({ kind: 'service', op: 'del', key: k });
  for (const [k, s] of next.services) {
    const p = prev.services.get(k);
    if (!p) out.push({ kind: 'service', op: 'add', service: s });
    else if (!sameService(p, s)) out.push({ kind: 'service', op: 'edit', service: s });
  }
  for (const [svc, ds] of next.dests) {
    const pd = prev.dests.get(svc) ?? new Map<string, DestState>();
    for (const [k] of pd) if (!ds.has(k)) out.push({ kind: 'dest', op: 'del', service: svc, key: k });
    for (const [k, d] of ds) {
      const p = pd.get(k);
      if (p && !sameDest(p, d)) out.push({ kind: 'dest', op: 'edit', service: svc, dest: d });
    }
    // A new destination goes to the head of the list (__ip_vs_update_dest's list_add_rcu):
    // added last-first, they fold back into the list's order.
    for (const [k, d] of [...ds].reverse()) if (!pd.has(k)) out.push({ kind: 'dest', op: 'add', service: svc, dest: d });
  }
  for (const [svc, pd] of prev.dests) {
    if (next.dests.has(svc) || !next.services.has(svc)) continue;
    for (const [k] of pd) out.push({ kind: 'dest', op: 'del', service: svc, key: k });
  }
  if (!sameXtables(prev.xtables, next.xtables)) out.push({ kind: 'iptables', xtables: next.xtables });
  return out;
}

/** Same commit count and the same tables, chains, policies and rules (counters aside: packets move them between commits). */
function sameXtables(a: XtablesState, b: XtablesState): boolean {
  if (a.commits !== b.commits || a.tables.length !== b.tables.length) return false;
  return a.tables.every((t, i) => {
    const u = b.tables[i]!;
    return t.name === u.name && t.chains.length === u.chains.length && t.chains.every((c, j) => {
      const d = u.chains[j]!;
      return c.name === d.name && c.policy === d.policy && c.rules.length === d.rules.length && c.rules.every((r, k) => r.text === d.rules[k]!.text);
    });
  });
}

interface Mutable {
  links: Map<string, LinkState>;
  addrs: Map<string, AddrState[]>;
  routes: RouteState[];
  sysctl: Map<string, string>;
  modules: Set<string>;
  services: Map<string, ServiceState>;
  dests: Map<string, Map<string, DestState>>;
  xtables: XtablesState;
}

function copy(s: HostState): Mutable {
  return {
    links: new Map(s.links), addrs: new Map([...s.addrs].map(([k, v]) => [k, [...v]])), routes: [...s.routes],
    sysctl: new Map(s.sysctl), modules: new Set(s.modules), services: new Map(s.services),
    dests: new Map([...s.dests].map(([k, v]) => [k, new Map(v)])), xtables: s.xtables,
  };
}

function apply(s: Mutable, c: ConfigChange): void {
  switch (c.kind) {
    case 'module':
      if (c.op === 'load') s.modules.add(c.name); else s.modules.delete(c.name);
      return;
    case 'link':
      if (c.op === 'del') { s.links.delete(c.dev); s.addrs.delete(c.dev); } else s.links.set(c.link.name, c.link);
      return;
    case 'addr': {
      const list = s.addrs.get(c.dev) ?? [];
      const k = addrKey(c.addr);
      const rest = list.filter(a => addrKey(a) !== k);
      if (c.op === 'add') rest.push(c.addr);
      s.addrs.set(c.dev, rest);
      return;
    }
    case 'route': {
      const k = routeKey(c.route);
      s.routes = s.routes.filter(r => routeKey(r) !== k);
      if (c.op === 'add') s.routes.push(c.route);
      return;
    }
    case 'sysctl':
      if (c.value === null) s.sysctl.delete(c.key); else s.sysctl.set(c.key, c.value);
      return;
    case 'service':
      if (c.op === 'del') { s.services.delete(c.key); s.dests.delete(c.key); } else s.services.set(c.service.key, c.service);
      return;
    case 'dest': {
      const ds = s.dests.get(c.service) ?? new Map<string, DestState>();
      if (c.op === 'del') ds.delete(c.key);
      else if (c.op === 'edit' || ds.has(c.dest.key)) ds.set(c.dest.key, c.dest);
      else {
        // Added at the head of the service's list, as the kernel adds it.
        s.dests.set(c.service, new Map([[c.dest.key, c.dest], ...ds]));
        return;
      }
      s.dests.set(c.service, ds);
      return;
    }
    case 'iptables':
      s.xtables = c.xtables;
      return;
    default: {
      const never: never = c;
      throw new Error(`unknown change ${(never as { kind: string }).kind}`);
    }
  }
}

/** `state` with `changes` applied in order (a new state; the argument is not touched). */
export function applyChanges(state: HostState, changes: Iterable<ConfigChange>): HostState {
  const s = copy(state);
  for (const c of changes) apply(s, c);
  return s;
}

/**
 * The configuration `host` had when record `position` was written: every change of that host
 * recorded before it, folded from the empty state. Position Infinity gives the end of the run.
 */
export function hostStateAt(changes: readonly ChangeRecord[], host: string, position: number): HostState {
  const s = copy(EMPTY_STATE);
  for (const c of changes) {
    if (c.seq > position) break;
    if (c.host === host) apply(s, c.change);
  }
  return s;
}

/** One line for a change, as the CLI and the browser's history show it. */
export function describeChange(c: ConfigChange, fmtIp: (a: Ip4) => string): string {
  switch (c.kind) {
    case 'module': return `${c.op === 'load' ? 'modprobe' : 'rmmod'} ${c.name}`;
    case 'link':
      if (c.op === 'del') return `link ${c.dev} deleted`;
      return `link ${c.link.name} ${c.op === 'add' ? 'added' : 'set'}: ${c.link.up ? 'UP' : 'DOWN'}${c.link.carrier ? '' : ' NO-CARRIER'} mtu ${c.link.mtu}`;
    case 'addr': return `address ${fmtIp(c.addr.addr)}/${c.addr.prefixLen} ${c.op === 'add' ? 'added to' : 'removed from'} ${c.dev}`;
    case 'route': {
      const r = c.route;
      return `route ${c.op === 'add' ? 'added' : 'deleted'}: ${r.table === 'local' ? 'local ' : ''}${r.len === 0 ? 'default' : `${fmtIp(r.dst)}/${r.len}`}${r.gw !== null ? ` via ${fmtIp(r.gw)}` : ''}${r.dev !== null ? ` dev ${r.dev}` : ''}`;
    }
    case 'sysctl': return c.value === null ? `sysctl ${c.key} removed` : `sysctl ${c.key} = ${c.value}`;
    case 'service':
      return c.op === 'del' ? `IPVS service ${c.key} deleted` : `IPVS service ${c.service.key} ${c.op === 'add' ? 'added' : 'edited'} (${c.service.scheduler})`;
    case 'dest':
      return c.op === 'del' ? `IPVS ${c.service}: real server ${c.key} deleted` : `IPVS ${c.service}: real server ${c.dest.key} ${c.op === 'add' ? 'added' : 'edited'} (${c.dest.fwd}, weight ${c.dest.weight})`;
    case 'iptables': {
      const tables = c.xtables.tables.map(t => {
        const n = t.chains.reduce((k, ch) => k + ch.rules.length, 0);
        return `${t.name} ${n} rule${n === 1 ? '' : 's'}`;
      });
      return `iptables: ${tables.length ? tables.join(', ') : 'no table'}`;
    }
    default: {
      const never: never = c;
      return String(never);
    }
  }
}
