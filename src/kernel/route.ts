/**
 * kernel/route.ts: the FIB as the packet path asks it (net/ipv4/route.c, fib_frontend.c).
 * Lookup is the local table first, then main: longest prefix, then lowest metric.
 * Input routing adds the martian checks and the reverse-path filter (fib_validate_source);
 * output routing picks the device and the source address (inet_select_addr).
 * Not modelled: policy rules beyond local/main, multipath, VRFs, the route cache.
 */
import { AddrMap } from '../net/addrmap';
import { type Ip4, inPrefix, isLoopback, isMulticast, isZeronet, LIMITED_BROADCAST } from '../net/addr';
import type { Host, NetDevice, Route } from './host';
import type { DropReason } from '../trace/record';

/**
 * The FIB as lookups see it, indexed: the local table's /32 entries in a hash (a host may hold
 * tens of thousands of client addresses), its shorter entries (127.0.0.0/8) and the main table
 * in lists, main-table answers cached by destination, and the subnet broadcast addresses.
 * Rebuilt when the host's routes change (Host.routeGen), or brought up to date in place when
 * the changes only added /32 local routes (Host.routePoints: `ip addr add A/32`).
 */
/** A cached answer, with the input-route results built from it once (not per packet). */
interface FibEntry {
  readonly route: Route | null;
  local?: InputRoute;
  forward?: InputRoute;
}

export interface FibIndex {
  gen: number;
  readonly local32: AddrMap<Route>;
  readonly localShort: Route[];
  readonly main: Route[];
  /** Answers by destination, local ones included (a /32 added in place is set here too). */
  readonly cache: AddrMap<FibEntry>;
  /** Output routes by destination, with the source inet_select_addr picks (rebuilt with the index). */
  readonly out: AddrMap<CachedOutput | null>;
  readonly broadcasts: AddrMap<true>;
}

/** An output route whose source may be missing (no address to pick): only a fixed source will do. */
export type CachedOutput = Omit<OutputRoute, 'src'> & { readonly src: Ip4 | null };
function fibOf(host: Host): FibIndex {
  let f = host.fib;
  if (f !== null && f.gen === host.routeGen) return f;
  const from = f === null ? -1 : host.routePointsSince(f.gen);
  if (f !== null && from >= 0) {
    const pts = host.routePoints;
    for (let i = from; i < pts.length; i++) {
      const r = pts[i]!;
      if (!f.local32.has(r.dst)) { f.local32.set(r.dst, r); f.cache.set(r.dst, { route: r }); }
    }
    // A new address can change the source inet_select_addr picks (the first address on a
    // device that had none): output routes are recomputed (sockets keep their own, sk_dst_cache).
    f.out.clear();
    f.gen = host.routeGen;
    return f;
  }
  f = { gen: host.routeGen, local32: new AddrMap(), localShort: [], main: [], cache: new AddrMap(), out: new AddrMap(), broadcasts: new AddrMap() };
  for (const r of host.routes) {
    if (r.table === 'main') f.main.push(r);
    else if (r.type === 'local') {
      if (r.len !== 32) f.localShort.push(r);
      else if (!f.local32.has(r.dst)) f.local32.set(r.dst, r);
    }
  }
  for (const d of host.devices.values()) {
    if (!d.up) continue;
    for (const x of d.addrs) if (x.broadcast !== null) f.broadcasts.set(x.broadcast, true);
  }
  host.fib = f;
  return f;
}

/** The local table's answer for `dst` (inet_addr_type == RTN_LOCAL), or null. */
export function fibLookupLocal(host: Host, dst: Ip4): Route | null {
  // fib_lookup asks the local table first, so its answer is local exactly when that table has one.
  const r = fibLookup(host, dst);
  return r !== null && r.table === 'local' ? r : null;
}

/** fib_lookup: local table, then main; longest prefix, lowest metric, first inserted. */
export function fibLookup(host: Host, dst: Ip4): Route | null {
  return fibEntry(host, dst).route;
}

function fibEntry(host: Host, dst: Ip4): FibEntry {
  const f = fibOf(host);
  const hit = f.cache.get(dst);
  if (hit !== undefined) return hit;
  if (f.cache.size >= 65536) f.cache.clear();
  const e: FibEntry = { route: f.local32.get(dst) ?? fibLookupShort(host, f, dst) };
  f.cache.set(dst, e);
  return e;
}

function fibLookupShort(host: Host, f: FibIndex, dst: Ip4): Route | null {
  for (const x of f.localShort) if (inPrefix(dst, x.dst, x.len)) return x;
  let best: Route | null = null;
  for (const x of f.main) {
    if (!inPrefix(dst, x.dst, x.len)) continue;
    if (x.dev !== null) {
      const d = host.devices.get(x.dev);
      if (!d || !d.up) continue;
    }
    if (!best || x.len > best.len || (x.len === best.len && x.metric < best.metric)) best = x;
  }
  return best;
}

/** Is `a` a broadcast address of one of the host's subnets (RTN_BROADCAST in the local table)? */
function isSubnetBroadcast(host: Host, a: Ip4): boolean {
  return fibOf(host).broadcasts.has(a);
}

export type InputRoute =
  | { kind: 'local'; route: Route }
  | { kind: 'forward'; route: Route }
  /**
   * `mib`: the counter ip_rcv_finish_core or ip_error moves, null for none: a martian source
   * (-EINVAL from ip_route_input_slow) moves no IP MIB, only the route cache's in_martian_src.
   */
  | { kind: 'drop'; reason: DropReason; mib: string | null };

/**
 * ip_route_input_slow for a unicast IPv4 packet received on `dev`.
 * Order as in the kernel: martian source checks, FIB lookup of the destination, then
 * fib_validate_source for local and forwarded destinations, then the forwarding check.
 */
export function ipRouteInput(host: Host, src: Ip4, dst: Ip4, dev: NetDevice): InputRoute {
  if (isMulticast(src) || src === LIMITED_BROADCAST) {
    return { kind: 'drop', reason: { code: 'martian_source', dev: dev.name, src, why: isMulticast(src) ? 'multicast' : 'broadcast' }, mib: null };
  }
  if (isZeronet(src)) return { kind: 'drop', reason: { code: 'martian_source', dev: dev.name, src, why: 'zeronet' }, mib: null };
  if (isLoopback(src) && dev.kind !== 'loopback' && !host.sysctl.confOr(dev.name, 'route_localnet')) {
    return { kind: 'drop', reason: { code: 'martian_source', dev: dev.name, src, why: 'loopback' }, mib: null };
  }
  const entry = fibEntry(host, dst);
  const route = entry.route;
  if (!route || route.type === 'unreachable' || route.type === 'blackhole' || route.type === 'prohibit') {
    // ip_error: no route for a packet to forward (host unreachable), counted as InAddrErrors when not forwarding.
    if (!host.sysctl.devconf(dev.name, 'forwarding')) {
      return { kind: 'drop', reason: { code: 'forwarding_disabled', dev: dev.name, dst }, mib: 'IpInAddrErrors' };
    }
    return { kind: 'drop', reason: { code: 'no_route', dst }, mib: 'IpExtInNoRoutes' };
  }
  if (dev.kind === 'loopback' && route.type === 'local') {
    // Looped back by this host's own output: the skb keeps the dst its output route gave it
    // (ip_rcv_finish finds skb_valid_dst), so there is no source validation.
    return entry.local ??= { kind: 'local', route };
  }
  if (route.type === 'local' || dev.kind === 'loopback') {
    const v = fibValidateSource(host, src, dev);
    if (v) return { kind: 'drop', reason: v, mib: v.code === 'rp_filter' ? 'TcpExtIPReversePathFilter' : null };
    return entry.local ??= { kind: 'local', route };
  }
  // Not local: forwarding is decided by the input device's own flag (IN_DEV_FORWARD).
  if (!(dev.conf.forwarding | 0)) {
    return { kind: 'drop', reason: { code: 'forwarding_disabled', dev: dev.name, dst }, mib: 'IpInAddrErrors' };
  }
  const v = fibValidateSource(host, src, dev);
  if (v) return { kind: 'drop', reason: v, mib: v.code === 'rp_filter' ? 'TcpExtIPReversePathFilter' : null };
  return entry.forward ??= { kind: 'forward', route };
}

/**
 * fib_validate_source (net/ipv4/fib_frontend.c): effective rp_filter = max(conf.all, conf.<dev>).
 * Returns the drop reason, or null when the source is acceptable.
 */
export function fibValidateSource(host: Host, src: Ip4, dev: NetDevice): DropReason | null {
  const confAll = host.sysctl.confAll;
  const confDev = dev.conf;
  const all = confAll.rp_filter | 0;
  const devValue = confDev.rp_filter | 0;
  const rpf = Math.max(all, devValue);
  const acceptLocal = (confAll.accept_local | 0) !== 0 || (confDev.accept_local | 0) !== 0;
  if (rpf === 0) {
    if (acceptLocal) return null;
    // A packet claiming one of our own addresses as source is still martian.
    if (host.hasAddr(src)) return { code: 'martian_source', dev: dev.name, src, why: 'local' };
    return null;
  }
  const noAddr = dev.addrs.length === 0;
  const rev = fibLookup(host, src);
  if (!rev) return { code: 'rp_filter', dev: dev.name, effective: rpf, all, devValue, mode: 'no-route' };
  if (rev.type !== 'unicast') {
    if (rev.type !== 'local') return { code: 'rp_filter', dev: dev.name, effective: rpf, all, devValue, mode: 'no-route' };
    if (!acceptLocal) return { code: 'martian_source', dev: dev.name, src, why: 'local' };
  }
  const devMatch = rev.dev === dev.name || (rev.type === 'local' && dev.kind === 'loopback');
  if (devMatch) return null;
  if (noAddr) return { code: 'rp_filter', dev: dev.name, effective: rpf, all, devValue, mode: 'loose-no-addr' };
  if (rpf === 1) return { code: 'rp_filter', dev: dev.name, effective: rpf, all, devValue, mode: 'strict' };
  return null;
}

export interface OutputRoute {
  readonly route: Route;
  readonly dev: NetDevice;
  /** The next hop to resolve: the gateway, or the destination itself on a connected route. */
  readonly nexthop: Ip4;
  /** Source address chosen (prefsrc or inet_select_addr), unless the caller fixed one. */
  readonly src: Ip4;
  /** Path MTU for this route: the route's mtu lock, else the device MTU. */
  readonly mtu: number;
  readonly local: boolean;
}

/**
 * ip_route_output_key for a locally generated packet (net/ipv4/route.c). `fixedSrc` is a
 * socket's bound address (the VIP of an accepted connection on a real server): the route is
 * still chosen by destination only. Returns null for ENETUNREACH.
 */
export function ipRouteOutput(host: Host, dst: Ip4, fixedSrc: Ip4 | null = null): OutputRoute | null {
  const o = ipRouteOutputAnySrc(host, dst);
  if (o === null) return null;
  if (fixedSrc === null) return o.src === null ? null : o as OutputRoute;
  return o.src === fixedSrc ? o as OutputRoute : { ...o, src: fixedSrc };
}

/**
 * The output route to `dst` whatever the source (forwarding needs none), cached in the FIB
 * index: routes are shared, immutable answers until the host's routes or MTUs change.
 */
export function ipRouteOutputAnySrc(host: Host, dst: Ip4): CachedOutput | null {
  const f = fibOf(host);
  let o = f.out.get(dst);
  if (o !== undefined) return o;
  o = outputRouteSlow(host, dst);
  if (f.out.size >= 65536) f.out.clear();
  f.out.set(dst, o);
  return o;
}

function outputRouteSlow(host: Host, dst: Ip4): CachedOutput | null {
  const route = fibLookup(host, dst);
  if (!route || route.type === 'unreachable' || route.type === 'blackhole' || route.type === 'prohibit') return null;
  if (route.type === 'local') {
    const lo = host.devices.get('lo')!;
    return { route, dev: lo, nexthop: dst, src: dst, mtu: lo.mtu, local: true };
  }
  const dev = route.dev ? host.devices.get(route.dev) : undefined;
  if (!dev || !dev.up) return null;
  const nexthop = route.gw ?? dst;
  const src = route.src ?? inetSelectAddr(host, dev, nexthop);
  return { route, dev, nexthop, src, mtu: route.mtu ?? dev.mtu, local: false };
}

/**
 * inet_select_addr(dev, dst, scope): the first primary address on `dev` whose subnet holds
 * `dst`, else the first primary address on `dev`, else the first global address elsewhere
 * (loopback first, as the kernel walks devices in ifindex order).
 */
export function inetSelectAddr(host: Host, dev: NetDevice, dst: Ip4): Ip4 | null {
  let first: Ip4 | null = null;
  for (const a of dev.addrs) {
    if (a.secondary || a.scope === 'host') continue;
    if (dst !== 0 && inPrefix(dst, a.addr, a.prefixLen)) return a.addr;
    if (first === null) first = a.addr;
  }
  if (first !== null) return first;
  for (const d of host.devices.values()) {
    if (!d.up) continue;
    for (const a of d.addrs) if (a.scope !== 'host' && !a.secondary) return a.addr;
  }
  return null;
}

export { isSubnetBroadcast };
