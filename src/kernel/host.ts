/**
 * kernel/host.ts: one Linux host's network state and the administrative operations on it
 * (what rtnetlink, ioctls, modprobe and /proc/sys do): devices, addresses, the main routing
 * table, the neighbour table, sysctls, modules and SNMP counters. The packet path lives
 * beside it (ip_input.ts, ip_output.ts, ...) and reads this state; the command languages in
 * config/ change it through these methods, which fail with the kernel's errno.
 */
import { type Ip4, type Mac, formatIp4, inPrefix, networkOf, broadcastOf, prefixMask } from '../net/addr';
import type { Engine } from '../sim/engine';
import { AddrMap } from '../net/addrmap';
import type { TraceSink } from '../trace/sink';
import type { NeighFlushCause } from '../trace/record';
import { Emitter } from '../trace/emit';
import { Sysctls } from './sysctl';
import { Netfilter } from './netfilter';
import { PacketIds, type Skb } from './skb';
import { type FibIndex, fibLookupLocal } from './route';
import type { TcpTable } from './tcp';

export type DeviceKind = 'loopback' | 'ether' | 'ipip';

export interface DeviceStats {
  rxPackets: number; rxBytes: number; rxErrors: number; rxDropped: number;
  txPackets: number; txBytes: number; txErrors: number; txDropped: number;
}

export interface IfAddr {
  readonly addr: Ip4;
  readonly prefixLen: number;
  readonly broadcast: Ip4 | null;
  readonly scope: 'global' | 'link' | 'host';
  readonly label: string;
  /** A second address in a subnet the device already has (IFA_F_SECONDARY). */
  readonly secondary: boolean;
}

export interface NetDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly kind: DeviceKind;
  mac: Mac;
  mtu: number;
  /** Administrative state (IFF_UP). */
  up: boolean;
  /** Link to a segment (carrier); set by the world when the device is attached. */
  carrier: boolean;
  /** IFF_NOARP: lo and tunnel devices never ARP. */
  readonly noarp: boolean;
  addrs: IfAddr[];
  stats: DeviceStats;
  /** For ipip devices: tunnel endpoints (0 = any), as `ip tunnel add ... local L remote R`. */
  tunnel?: { local: Ip4; remote: Ip4; ttl: number };
  /** Its devconf record (net.ipv4.conf.<dev>.*), live: sysctl writes update it in place. */
  conf: Readonly<Record<string, number>>;
  /** Transmit hook installed by the world (null: not attached to any segment). */
  xmit: ((frame: import('../net/packet').Ethernet, skbId: number) => void) | null;
}

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface Route {
  readonly table: 'main' | 'local';
  readonly type: RouteType;
  readonly dst: Ip4;
  readonly len: number;
  readonly gw: Ip4 | null;
  readonly dev: string | null;
  /** Preferred source (prefsrc). */
  readonly src: Ip4 | null;
  readonly metric: number;
  readonly proto: 'kernel' | 'boot' | 'static' | 'dhcp';
  readonly scope: 'host' | 'link' | 'global';
  /** Per-route MTU lock (`ip route ... mtu N`). */
  readonly mtu?: number;
}

export type NeighState = 'NONE' | 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'PERMANENT' | 'NOARP';

export interface NeighEntry {
  readonly ip: Ip4;
  readonly dev: string;
  mac: Mac | null;
  state: NeighState;
  /** Solicitations sent while INCOMPLETE. */
  probes: number;
  /** Packets waiting for resolution (arp_queue, unres_qlen). */
  queue: Skb[];
  updated: number;
}

/** A kernel refusal with its errno, which the command layer turns into the tool's message. */
export class KernelError extends Error {
  constructor(readonly errno: 'EEXIST' | 'ENODEV' | 'ENOENT' | 'EINVAL' | 'ENETUNREACH' | 'ESRCH' | 'EADDRNOTAVAIL' | 'EBUSY' | 'EPERM', message: string) {
    super(message);
  }
}

/** The counters bumped for every packet: plain fields (the packet path increments them directly). */
const HOT_MIBS = ['IpInReceives', 'IpInDelivers', 'IpForwDatagrams', 'IpOutRequests', 'TcpInSegs', 'TcpOutSegs'] as const;
type HotMib = typeof HOT_MIBS[number];
const isHot = (m: string): m is HotMib => (HOT_MIBS as readonly string[]).includes(m);

/** Counters shown by nstat / netstat -s (MIB names as nstat prints them, without the zero ones). */
export class Snmp {
  IpInReceives = 0;
  IpInDelivers = 0;
  IpForwDatagrams = 0;
  IpOutRequests = 0;
  TcpInSegs = 0;
  TcpOutSegs = 0;
  /** The others, one cell each (one lookup per count), in first-counted order. */
  private readonly cells = new Map<string, { n: number }>();
  add(mib: string, n: number): void {
    if (isHot(mib)) { this[mib] += n; return; }
    const c = this.cells.get(mib);
    if (c !== undefined) c.n += n;
    else this.cells.set(mib, { n });
  }
  get(mib: string): number | undefined {
    if (isHot(mib)) return this[mib] || undefined;
    return this.cells.get(mib)?.n;
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this) yield k;
  }
  *[Symbol.iterator](): IterableIterator<[string, number]> {
    for (const k of HOT_MIBS) if (this[k] !== 0) yield [k, this[k]];
    for (const [k, c] of this.cells) yield [k, c.n];
  }
}

/** Modules the model knows (modprobe accepts these; others are "not found"). */
export const KNOWN_MODULES = new Set([
  'ipip', 'tunnel4', 'ip_tunnel', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_wlc', 'ip_vs_sed',
  'ip_vs_nq', 'ip_vs_dh', 'ip_vs_sh', 'ip_vs_lblc', 'ip_vs_lblcr', 'ip_vs_mh', 'ip_vs_fo', 'ip_vs_ovf',
  'ip_vs_twos', 'nf_conntrack', 'iptable_filter', 'dummy',
  'ip_tables', 'x_tables', 'iptable_raw', 'iptable_mangle', 'xt_conntrack', 'xt_state', 'xt_multiport', 'xt_comment',
  'xt_tcpudp', 'xt_LOG', 'xt_TCPMSS', 'ipt_REJECT', 'nf_reject_ipv4',
]);

let macCounter = 0;

/** ip_rt_min_pmtu and ip_rt_mtu_expires (net/ipv4/route.c). */
export const PMTU_MIN = 552;
export const PMTU_EXPIRES_NS = 600_000_000_000;


const P32 = 4294967296;

/**
 * The neighbour table: entries in creation order under their neighKey (what `ip neigh` lists),
 * and per device by address for the lookup every transmitted packet makes.
 */
export class NeighTable {
  private readonly all = new Map<number, NeighEntry>();
  private readonly byDev = new Map<number, AddrMap<NeighEntry>>();
  get size(): number { return this.all.size; }
  get(key: number): NeighEntry | undefined { return this.all.get(key); }
  lookup(ifindex: number, ip: Ip4): NeighEntry | undefined { return this.byDev.get(ifindex)?.get(ip); }
  set(key: number, e: NeighEntry): this {
    this.all.set(key, e);
    const ifindex = Math.floor(key / P32);
    let m = this.byDev.get(ifindex);
    if (!m) this.byDev.set(ifindex, (m = new AddrMap()));
    m.set(key - ifindex * P32, e);
    return this;
  }
  delete(key: number): boolean {
    if (!this.all.delete(key)) return false;
    const ifindex = Math.floor(key / P32);
    this.byDev.get(ifindex)?.delete(key - ifindex * P32);
    return true;
  }
  values(): IterableIterator<NeighEntry> { return this.all.values(); }
  /** Entries with their keys; a snapshot, so deleting while iterating is safe. */
  [Symbol.iterator](): IterableIterator<[number, NeighEntry]> { return [...this.all][Symbol.iterator](); }
}

export class Host {
  readonly devices = new Map<string, NetDevice>();
  readonly routes: Route[] = [];
  /** Neighbour entries keyed by neighKey (device ifindex and address). */
  readonly neigh = new NeighTable();
  /**
   * Bumped on every change of `routes`; the FIB index checks it (route.ts). Changes since
   * `routeGenBase` only added the /32 local routes in `routePoints` (an `ip addr add A/32`: the
   * kernel's trie gains one leaf and nothing else moves), so the index takes those in one by one
   * instead of rebuilding: routeGen === routeGenBase + routePoints.length.
   */
  routeGen = 0;
  routeGenBase = 0;
  readonly routePoints: Route[] = [];

  /**
   * Where in `routePoints` the changes since generation `gen` start, or -1 when something other
   * than /32 local routes changed since (a cache from then must be rebuilt).
   */
  routePointsSince(gen: number): number {
    return gen >= this.routeGenBase && gen <= this.routeGen ? gen - this.routeGenBase : -1;
  }
  /** The FIB index (route.ts), built on first lookup. */
  fib: FibIndex | null = null;
  /** Sockets and listeners (tcp.ts), created on first use. */
  tcp: TcpTable | null = null;
  readonly sysctl = new Sysctls();
  readonly modules = new Set<string>();
  readonly snmp = new Snmp();
  private nextIfindex = 1;
  /** IP ID counter for packets without DF (ip_select_ident: per-destination in the kernel; one counter here). */
  ipId = 0;
  /** Registered netfilter hooks (IPVS adds ip_vs_in_hook at LOCAL_IN). */
  readonly nf = new Netfilter();
  /** Packet ids; the world gives every host the same allocator. */
  ids = new PacketIds();
  /** Learned path MTUs (from ICMP fragmentation-needed), by destination. */
  readonly pmtu = new AddrMap<number>();
  /** When each learned path MTU expires (the route exception's rt_expires). */
  readonly pmtuExpires = new AddrMap<number>();

  /** Where this host's packet path and configuration changes record (trace/emit.ts). */
  emit: Emitter;
  /** The kernel has panicked or halted (kernel/panic.ts): nothing runs any more. */
  crashed = false;

  constructor(readonly name: string, readonly engine: Engine, trace: TraceSink, readonly macBase = ++macCounter) {
    this.emit = new Emitter(trace, engine, name);
    // A booted host: lo is up with 127.0.0.1/8 (a fresh network namespace would have it down).
    this.createDevice('lo', 'loopback', { mtu: 65536, mac: '00:00:00:00:00:00' });
    this.addAddr('lo', 0x7f000001, 8, { scope: 'host', broadcast: null });
    this.setUp('lo', true);
  }

  /** Record into another sink from now on (a test counting one host's drops). */
  setTraceSink(sink: TraceSink): void {
    this.emit = new Emitter(sink, this.engine, this.name);
  }

  // --- path MTU ---------------------------------------------------------------------

  /**
   * __ip_rt_update_pmtu (net/ipv4/route.c): remember a smaller path MTU towards `dst` for
   * ip_rt_mtu_expires (600 s); below min_pmtu (552) the MTU is raised to it.
   */
  learnPmtu(dst: Ip4, mtu: number): void {
    const cur = this.pmtuOf(dst);
    const m = Math.max(mtu, PMTU_MIN);
    if (cur !== null && cur <= m) return;
    this.pmtu.set(dst, m);
    this.pmtuExpires.set(dst, this.engine.now + PMTU_EXPIRES_NS);
  }

  /** The cached path MTU towards `dst`, or null when none is held (or it expired). */
  pmtuOf(dst: Ip4): number | null {
    const m = this.pmtu.get(dst);
    if (m === undefined) return null;
    const exp = this.pmtuExpires.get(dst);
    if (exp !== undefined && exp <= this.engine.now) {
      this.pmtu.delete(dst);
      this.pmtuExpires.delete(dst);
      return null;
    }
    return m;
  }

  // --- counters ----------------------------------------------------------------------

  count(mib: string, n = 1): void {
    this.snmp.add(mib, n);
  }

  // --- devices -----------------------------------------------------------------------

  /** Create a device (world attachment, `ip link add`, module load). */
  createDevice(name: string, kind: DeviceKind, opts: { mtu?: number; mac?: Mac; tunnel?: NetDevice['tunnel'] } = {}): NetDevice {
    if (this.devices.has(name)) throw new KernelError('EEXIST', `device ${name} exists`);
    const ifindex = this.nextIfindex++;
    const dev: NetDevice = {
      name, ifindex, kind,
      mac: opts.mac ?? (kind === 'ether' ? this.makeMac(ifindex) : '00:00:00:00:00:00'),
      mtu: opts.mtu ?? (kind === 'ipip' ? 1480 : 1500),
      up: false,
      carrier: kind !== 'ether',
      noarp: kind !== 'ether',
      addrs: [],
      stats: { rxPackets: 0, rxBytes: 0, rxErrors: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txErrors: 0, txDropped: 0 },
      tunnel: opts.tunnel,
      conf: {},
      xmit: null,
    };
    this.devices.set(name, dev);
    this.sysctl.addDevice(name);
    dev.conf = this.sysctl.confOf(name);
    return dev;
  }

  /** Locally administered MACs derived from host and ifindex: stable across runs. */
  private makeMac(ifindex: number): Mac {
    const h = (n: number) => n.toString(16).padStart(2, '0');
    return `02:00:${h((this.macBase >> 8) & 255)}:${h(this.macBase & 255)}:00:${h(ifindex & 255)}`;
  }

  dev(name: string): NetDevice {
    const d = this.devices.get(name);
    if (!d) throw new KernelError('ENODEV', `Cannot find device "${name}"`);
    return d;
  }

  /**
   * Device lookup that loads a module on demand, as dev_load() does for the alias
   * netdev-tunl0: `ip link set tunl0 up` without `modprobe ipip` still works on Linux.
   */
  devLoad(name: string): NetDevice {
    if (!this.devices.has(name) && name === 'tunl0') this.modprobe('ipip');
    return this.dev(name);
  }

  deleteDevice(name: string): void {
    const d = this.dev(name);
    if (d.kind === 'loopback') throw new KernelError('EINVAL', 'cannot delete lo');
    if (name === 'tunl0') throw new KernelError('EINVAL', 'cannot delete the fallback tunnel device (unload ipip)');
    this.removeDevice(d);
  }

  /** unregister_netdevice: dev_close (NETDEV_DOWN), then NETDEV_UNREGISTER (inetdev_destroy -> arp_ifdown). */
  private removeDevice(d: NetDevice): void {
    this.setLinkDown(d, 'deleted');
    this.forgetAddrs(d.addrs);
    d.addrs = [];
    this.devices.delete(d.name);
    this.sysctl.removeDevice(d.name);
  }

  setUp(name: string, up: boolean): void {
    const d = this.devLoad(name);
    if (up === d.up) return;
    if (up) {
      d.up = true;
      // NETDEV_UP: fib_add_ifaddr for every address (local, broadcast and prefix routes), and
      // rt_cache_flush: the source addresses inet_select_addr picks may change with the device.
      for (const a of d.addrs) this.addAddrRoutes(d, a);
      this.routesChanged();
    } else {
      this.setLinkDown(d);
    }
  }

  /**
   * NETDEV_DOWN: fib_disable_ip (net/ipv4/fib_frontend.c) removes every route through the
   * device and calls arp_ifdown, which flushes all its neighbours, PERMANENT ones too
   * (neigh_ifdown: skip_perm false).
   */
  private setLinkDown(d: NetDevice, cause: NeighFlushCause = 'down'): void {
    d.up = false;
    for (let i = this.routes.length - 1; i >= 0; i--) if (this.routes[i].dev === d.name) { this.routes.splice(i, 1); this.routesChanged(); }
    this.neighFlushDev(d, false, cause);
  }

  /**
   * neigh_flush_dev (net/core/neighbour.c): the device's neighbour entries go, PERMANENT ones
   * kept when `skipPerm` (neigh_carrier_down), and the packets that waited on them for ARP
   * resolution are purged with them (__skb_queue_purge(&n->arp_queue)).
   */
  private neighFlushDev(d: NetDevice, skipPerm: boolean, cause: NeighFlushCause): void {
    for (const [k, n] of this.neigh) {
      if (n.dev !== d.name || (skipPerm && n.state === 'PERMANENT')) continue;
      this.neigh.delete(k);
      for (const skb of n.queue.splice(0)) this.emit.drop(skb, 'neigh', { code: 'neigh_flushed', nexthop: n.ip, dev: d.name, cause });
    }
  }

  /**
   * The device's carrier changes (netif_carrier_on/off, a NETDEV_CHANGE event). Losing it,
   * arp_netdev_event calls neigh_carrier_down (net/ipv4/arp.c, net/core/neighbour.c) when
   * arp_evict_nocarrier is set for all and for the device: the device's neighbours go, but
   * PERMANENT ones, and the packets waiting for their resolution are purged. Routes stay
   * (ignore_routes_with_linkdown is 0); a lost cable may mean another network.
   */
  setCarrier(d: NetDevice, on: boolean): void {
    if (d.carrier === on) return;
    d.carrier = on;
    // A crashed kernel runs no notifier: its tables stay as they were.
    if (on || this.crashed || !this.sysctl.confAnd(d.name, 'arp_evict_nocarrier')) return;
    this.neighFlushDev(d, true, 'carrier');
  }

  /**
   * dev_set_mac_address: NETDEV_CHANGEADDR, on which arp_netdev_event calls neigh_changeaddr
   * (net/ipv4/arp.c): every neighbour of the device goes, PERMANENT ones too, with the packets
   * queued on them (the entries' hardware header is the old address).
   */
  setMac(d: NetDevice, mac: Mac): void {
    if (d.mac === mac) return;
    d.mac = mac;
    this.neighFlushDev(d, false, 'changeaddr');
  }

  setMtu(name: string, mtu: number): void {
    const d = this.dev(name);
    // dev_validate_mtu (net/core/dev.c) against the device's min_mtu/max_mtu: ETH_MIN_MTU 68 and
    // ETH_MAX_MTU 65535 for the Ethernet devices (as virtio_net and veth set them), IP_MAX_MTU
    // minus the outer header for ipip (ip_tunnel_newlink, net/ipv4/ip_tunnel.c); lo allows 65536.
    const max = d.kind === 'ether' ? 65535 : d.kind === 'ipip' ? 0xfff0 - 20 : 65536;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > max) throw new KernelError('EINVAL', `mtu ${mtu} out of range 68..${max}`);
    d.mtu = mtu;
    // NETDEV_CHANGEMTU: cached routes carry the old MTU (fib_sync_mtu, rt_cache_flush).
    this.routesChanged();
  }

  /** Up, and for ethernet devices, attached to a segment. */
  isRunning(d: NetDevice): boolean {
    return d.up && d.carrier;
  }

  // --- modules -----------------------------------------------------------------------

  /** modprobe: ipip brings tunnel4 and ip_tunnel and creates tunl0 (down, no address, NOARP). */
  modprobe(name: string): void {
    const m = name.replace(/-/g, '_');
    if (!KNOWN_MODULES.has(m)) throw new KernelError('ENOENT', `Module ${name} not found`);
    if (this.modules.has(m)) return;
    if (m === 'ipip') {
      this.modules.add('tunnel4');
      this.modules.add('ip_tunnel');
      this.modules.add('ipip');
      this.createDevice('tunl0', 'ipip', { mtu: 1480, tunnel: { local: 0, remote: 0, ttl: 0 } });
      return;
    }
    if (m === 'nf_conntrack' || m === 'xt_conntrack' || m === 'xt_state') {
      this.modules.add('nf_conntrack');
      this.sysctl.loadConntrack();
    }
    if (m.startsWith('ip_vs')) {
      this.modules.add('ip_vs');
      this.sysctl.loadIpvs();
    }
    this.modules.add(m);
  }

  /** modprobe -r: unloading ipip removes every ipip device. */
  rmmod(name: string): void {
    const m = name.replace(/-/g, '_');
    if (!this.modules.has(m)) throw new KernelError('ENOENT', `Module ${name} is not currently loaded`);
    if (m === 'ipip') {
      for (const d of [...this.devices.values()]) if (d.kind === 'ipip') this.removeDevice(d);
      this.modules.delete('ipip');
      this.modules.delete('ip_tunnel');
      this.modules.delete('tunnel4');
      return;
    }
    if (m === 'ip_vs') this.sysctl.unloadIpvs();
    this.modules.delete(m);
  }

  // --- addresses ---------------------------------------------------------------------

  /** `ip addr add A/len dev D` (inet_rtm_newaddr / __inet_insert_ifa). */
  addAddr(devName: string, addr: Ip4, prefixLen: number, opts: { broadcast?: Ip4 | null; scope?: IfAddr['scope']; label?: string } = {}): IfAddr {
    const d = this.dev(devName);
    if (this.findAddr(d, addr, prefixLen)) throw new KernelError('EEXIST', 'File exists');
    // An address in a subnet the device already has (same mask) becomes secondary; the first
    // one stays primary. A /32 is never anyone's secondary (same mask and subnet = same address).
    const secondary = prefixLen < 32 && d.addrs.some(a => a.prefixLen === prefixLen && inPrefix(addr, a.addr, prefixLen));
    const scope = opts.scope ?? (addr >>> 24 === 127 ? 'host' : 'global');
    const bcast = opts.broadcast !== undefined ? opts.broadcast : prefixLen < 31 ? broadcastOf(addr, prefixLen) : null;
    const a: IfAddr = { addr, prefixLen, broadcast: bcast, scope, label: opts.label ?? devName, secondary };
    d.addrs.push(a);
    this.addrCount.set(addr, (this.addrCount.get(addr) ?? 0) + 1);
    this.addrGen++;
    if (d.up) this.addAddrRoutes(d, a);
    return a;
  }

  /** The address `addr/prefixLen` on `d`, if configured (a hash probe first: hosts may hold tens of thousands). */
  findAddr(d: NetDevice, addr: Ip4, prefixLen: number): IfAddr | undefined {
    if (!this.addrCount.has(addr)) return undefined;
    return d.addrs.find(a => a.addr === addr && a.prefixLen === prefixLen);
  }

  delAddr(devName: string, addr: Ip4, prefixLen: number | null): void {
    const d = this.dev(devName);
    const i = this.addrCount.has(addr) ? d.addrs.findIndex(a => a.addr === addr && (prefixLen === null || a.prefixLen === prefixLen)) : -1;
    if (i < 0) throw new KernelError('EADDRNOTAVAIL', 'Cannot assign requested address');
    const [a] = d.addrs.splice(i, 1);
    const gone = [a];
    // Deleting a primary deletes its secondaries too (unless promote_secondaries).
    if (!a.secondary) {
      const keep: IfAddr[] = [];
      for (const b of d.addrs) (b.secondary && b.prefixLen === a.prefixLen && inPrefix(b.addr, a.addr, a.prefixLen) ? gone : keep).push(b);
      d.addrs = keep;
    }
    this.forgetAddrs(gone);
    this.rebuildKernelRoutes(d);
    this.lastAddrGone(d);
  }

  flushAddrs(devName: string): void {
    const d = this.dev(devName);
    if (d.addrs.length === 0) return;
    this.forgetAddrs(d.addrs);
    d.addrs = [];
    this.rebuildKernelRoutes(d);
    this.lastAddrGone(d);
  }

  /** fib_inetaddr_event: the last IPv4 address of the device deleted, fib_disable_ip (as for NETDEV_DOWN). */
  private lastAddrGone(d: NetDevice): void {
    if (d.addrs.length === 0) this.neighFlushDev(d, false, 'noaddr');
  }

  private forgetAddrs(gone: readonly IfAddr[]): void {
    for (const a of gone) {
      const n = (this.addrCount.get(a.addr) ?? 1) - 1;
      if (n > 0) this.addrCount.set(a.addr, n); else this.addrCount.delete(a.addr);
    }
    this.addrGen++;
  }

  /** Kernel routes follow the addresses; with no IPv4 address left, fib_disable_ip drops every route through the device. */
  private rebuildKernelRoutes(d: NetDevice): void {
    this.routesChanged();
    for (let i = this.routes.length - 1; i >= 0; i--) {
      const r = this.routes[i];
      if (r.dev === d.name && (r.proto === 'kernel' || d.addrs.length === 0)) { this.routes.splice(i, 1); this.routesChanged(); }
    }
    if (d.up) for (const a of d.addrs) this.addAddrRoutes(d, a);
  }

  /** fib_add_ifaddr: the local-table entry, and the connected prefix route (not for /32, not for secondaries' duplicates). */
  private addAddrRoutes(d: NetDevice, a: IfAddr): void {
    const local: Route = { table: 'local', type: 'local', dst: a.addr, len: 32, gw: null, dev: d.name, src: a.addr, metric: 0, proto: 'kernel', scope: 'host' };
    this.routes.push(local);
    // Only a leaf for this one address (no prefix route, no broadcast): the FIB index takes it in place.
    if (a.prefixLen === 32 && a.broadcast === null && d.kind !== 'loopback') this.routeAdded(local);
    else this.routesChanged();
    if (a.prefixLen < 32 && !a.secondary && d.kind !== 'loopback') {
      const net = networkOf(a.addr, a.prefixLen);
      if (!this.routes.some(r => r.table === 'main' && r.dst === net && r.len === a.prefixLen && r.dev === d.name && r.proto === 'kernel')) {
        this.routes.push({ table: 'main', type: 'unicast', dst: net, len: a.prefixLen, gw: null, dev: d.name, src: a.addr, metric: 0, proto: 'kernel', scope: 'link' });
        this.routesChanged();
      }
    }
    if (d.kind === 'loopback' && a.prefixLen < 32) {
      // 127.0.0.1/8 on lo makes the whole /8 local.
      this.routes.push({ table: 'local', type: 'local', dst: networkOf(a.addr, a.prefixLen), len: a.prefixLen, gw: null, dev: d.name, src: a.addr, metric: 0, proto: 'kernel', scope: 'host' });
      this.routesChanged();
    }
  }

  /** Any change of `routes`: every FIB index entry is stale. */
  private routesChanged(): void {
    this.routeGen++;
    this.routeGenBase = this.routeGen;
    this.routePoints.length = 0;
  }

  /** A /32 local route was appended; bounded, so a long run of them becomes one rebuild. */
  private routeAdded(r: Route): void {
    if (this.routePoints.length >= 1 << 16) { this.routesChanged(); return; }
    this.routeGen++;
    this.routePoints.push(r);
  }

  /** Every address configured on the host, with its device. */
  *allAddrs(): Iterable<{ dev: NetDevice; a: IfAddr }> {
    for (const dev of this.devices.values()) for (const a of dev.addrs) yield { dev, a };
  }

  /** inet_addr_type == RTN_LOCAL: the address is configured on an up device (weak host: any device). */
  isLocal(addr: Ip4): boolean {
    return fibLookupLocal(this, addr) !== null;
  }

  /** inet_lookup_ifaddr_rcu: is `addr` configured on any device (up or not)? */
  hasAddr(addr: Ip4): boolean {
    return this.addrCount.has(addr);
  }
  /** Bumped whenever an address is added or removed anywhere on the host. */
  addrGen = 0;
  /** How many devices hold each configured address (the kernel's inet_addr_lst hash). */
  private readonly addrCount = new AddrMap<number>();

  /** The device that holds `addr` (up or not), if any. */
  devOfAddr(addr: Ip4): NetDevice | null {
    if (!this.addrCount.has(addr)) return null;
    for (const dev of this.devices.values()) if (dev.addrs.some(a => a.addr === addr)) return dev;
    return null;
  }

  // --- routes ------------------------------------------------------------------------

  /** `ip route add` (fib_table_insert). Gateways must be reachable on-link (else ENETUNREACH). */
  addRoute(r: Omit<Route, 'table'> & { table?: 'main' }, replace = false): void {
    const route: Route = { ...r, table: 'main', dst: networkOf(r.dst, r.len) };
    if (route.dev !== null) {
      const d = this.dev(route.dev);
      if (!d.up && route.type === 'unicast') throw new KernelError('ENETUNREACH', 'Network is unreachable');
    }
    let dev = route.dev;
    if (route.gw !== null && route.type === 'unicast') {
      // fib_check_nh: the gateway must be reachable through a connected route (scope link).
      const via = this.routes.find(x => x.table === 'main' && x.gw === null && x.type === 'unicast' && inPrefix(route.gw!, x.dst, x.len) && (dev === null || x.dev === dev));
      if (!via) throw new KernelError('ENETUNREACH', 'Nexthop has invalid gateway');
      dev = via.dev;
    }
    const full: Route = { ...route, dev };
    const same = this.routes.findIndex(x => x.table === 'main' && x.dst === full.dst && x.len === full.len && x.metric === full.metric);
    if (same >= 0) {
      if (!replace) throw new KernelError('EEXIST', 'File exists');
      this.routes.splice(same, 1);
    }
    this.routes.push(full);
    this.routesChanged();
  }

  delRoute(match: { dst: Ip4; len: number; gw?: Ip4 | null; dev?: string | null; metric?: number }): void {
    const i = this.routes.findIndex(x => x.table === 'main' && x.dst === networkOf(match.dst, match.len) && x.len === match.len
      && (match.gw == null || x.gw === match.gw) && (match.dev == null || x.dev === match.dev)
      && (match.metric === undefined || x.metric === match.metric));
    if (i < 0) throw new KernelError('ESRCH', 'No such process');
    this.routes.splice(i, 1);
    this.routesChanged();
  }

  /** `ip route flush`: remove these routes (any table). */
  removeRoutes(gone: readonly Route[]): void {
    const set = new Set(gone);
    for (let i = this.routes.length - 1; i >= 0; i--) if (set.has(this.routes[i])) this.routes.splice(i, 1);
    this.routesChanged();
  }

  /** Main-table routes, as `ip route` lists them (longest prefix last is not its order: by insertion with defaults first). */
  mainRoutes(): Route[] {
    return this.routes.filter(r => r.table === 'main');
  }

  // --- neighbours --------------------------------------------------------------------

  /** A number, not a string: the key is built for every packet sent. */
  neighKey(dev: string, ip: Ip4): number {
    return (this.devices.get(dev)?.ifindex ?? 0) * 4294967296 + ip;
  }

  neighLookup(dev: string, ip: Ip4): NeighEntry | undefined {
    return this.neigh.get(this.neighKey(dev, ip));
  }

  neighLookupDev(dev: NetDevice, ip: Ip4): NeighEntry | undefined {
    return this.neigh.lookup(dev.ifindex, ip);
  }

  /** `ip neigh add|replace IP lladdr MAC dev D nud permanent`. */
  neighSet(dev: string, ip: Ip4, mac: Mac, state: NeighState = 'PERMANENT'): void {
    this.dev(dev);
    const k = this.neighKey(dev, ip);
    const e = this.neigh.get(k);
    if (e) { e.mac = mac; e.state = state; e.updated = this.engine.now; return; }
    this.neigh.set(k, { ip, dev, mac, state, probes: 0, queue: [], updated: this.engine.now });
  }

  neighDel(dev: string, ip: Ip4): void {
    if (!this.neigh.delete(this.neighKey(dev, ip))) throw new KernelError('ENOENT', 'No such file or directory');
  }

  // --- helpers for views -------------------------------------------------------------

  /** Primary address of a device (first non-secondary), or null. */
  primaryAddr(dev: NetDevice): IfAddr | null {
    return dev.addrs.find(a => !a.secondary) ?? null;
  }

  describe(): string {
    const lines: string[] = [this.name];
    for (const d of this.devices.values()) {
      lines.push(`  ${d.name} ${d.up ? 'UP' : 'DOWN'} ${d.addrs.map(a => `${formatIp4(a.addr)}/${a.prefixLen}`).join(' ')}`);
    }
    return lines.join('\n');
  }
}

export { prefixMask };
