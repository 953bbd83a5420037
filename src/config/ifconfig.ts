/**
 * config/ifconfig.ts: net-tools 2.10 `ifconfig`. It speaks the old ioctls, so it follows
 * devinet_ioctl() (net/ipv4/devinet.c): SIOCSIFADDR replaces the address whose label is the
 * name given ("eth0", or an alias "lo:0") and gives it the classful prefix (inet_abc_len:
 * 172.16.29.6 -> /16) and, on broadcast devices, the broadcast address; SIOCSIFNETMASK then
 * changes the prefix; "down" on an alias deletes the alias address. Name lookups autoload
 * ipip for tunl0 (dev_load). Listings are sorted by name, as net-tools keeps its list.
 * Not modelled: IPv6 lines, hardware address changes (hw ether), pointopoint, metric.
 */
import { type Ip4, parseIp4, formatIp4, maskLength, prefixMask, broadcastOf } from '../net/addr';
import { type Host, type NetDevice, type IfAddr, KernelError } from '../kernel/host';
import type { Tool } from './tool';
import { ToolFail, runGuarded, findDev, linkUp, devFlags, IFF, orderedAddrs, STRERROR, parseUint } from './ip';

const HINT = "ifconfig: `--help' gives usage information.";

/** inet_abc_len(): the classful prefix length SIOCSIFADDR gives a new address (-1: refused). */
export function classfulLen(a: Ip4): number {
  if (a === 0 || a === 0xffffffff) return 0;
  const top = a >>> 24;
  if (top < 128) return 8;
  if (top < 192) return 16;
  if (top < 224) return 24;
  if (top >= 240) return 32;
  return -1;
}

/** The `ifconfig` tool. */
export const ifconfig: Tool = (argv, ctx) => runGuarded('ifconfig', () => {
  const host = ctx.host;
  let i = 1;
  let all = false;
  let short = false;
  while (i < argv.length && argv[i].text.startsWith('-')) {
    const w = argv[i].text;
    if (w === '-a') all = true;
    else if (w === '-s') short = true;
    else if (w === '-v') { /* verbose: no effect */ }
    else if (w === '--help' || w === '-h') return 'Usage:\n  ifconfig [-a] [-v] [-s] <interface> [[<AF>] <address>]\n';
    else if (w === '--version' || w === '-V') return 'net-tools 2.10\n';
    else throw new ToolFail(1, `ifconfig: option \`${w}' not recognised.\n${HINT}`, i, 'an interface name, -a or -s');
    i++;
  }
  if (i >= argv.length) return list(host, all, short, null);
  const name = argv[i].text;
  const nameAt = i;
  const colon = name.indexOf(':');
  const base = colon >= 0 ? name.slice(0, colon) : name;
  i++;
  if (i >= argv.length) {
    const d = findDev(host, base);
    if (!d || (colon >= 0 && !d.addrs.some(a => a.label === name))) {
      throw new ToolFail(1, `${name}: error fetching interface information: Device not found`, nameAt, 'an existing interface');
    }
    return list(host, true, short, name);
  }
  const d = findDev(host, base);
  if (!d) {
    // The first ioctl names the missing device; net-tools goes on and fails each one.
    throw new ToolFail(1, `SIOCSIFADDR: No such device\n${name}: ERROR while getting interface flags: No such device`, nameAt, 'an existing interface');
  }
  while (i < argv.length) {
    const w = argv[i].text;
    const at = i;
    const needArg = (what: string): string => {
      i++;
      if (i >= argv.length) throw new ToolFail(1, `ifconfig: option \`${w}' needs an argument.\n${HINT}`, at, what);
      return argv[i].text;
    };
    if (w === 'up' || w === 'down') {
      setFlags(host, d, name, w === 'up', at);
    } else if (w === 'netmask') {
      const v = needArg('a netmask such as 255.255.255.0');
      const m = parseIp4(v);
      if (m === null) throw new ToolFail(1, `${v}: Unknown host\n${HINT}`, i, 'a dotted netmask such as 255.255.255.0');
      const len = maskLength(m);
      if (len === null) throw new ToolFail(1, 'SIOCSIFNETMASK: Invalid argument', i, 'a contiguous netmask such as 255.255.255.0');
      setNetmask(host, d, name, len, i);
    } else if (w === 'broadcast' || w === '-broadcast') {
      const v = needArg('a broadcast address');
      const b = parseIp4(v);
      if (b === null) throw new ToolFail(1, `${v}: Unknown host\n${HINT}`, i, 'a broadcast address');
      const a = addrByLabel(d, name);
      if (!a) throw new ToolFail(1, 'SIOCSIFBRDADDR: Cannot assign requested address', i, 'an address first (ifconfig DEV ADDR)');
      replaceAddr(host, d, a, { ...a, broadcast: b });
    } else if (w === 'mtu') {
      const v = needArg('an MTU');
      const n = parseUint(v, 0x7fffffff);
      if (n === null) throw new ToolFail(1, `ifconfig: mtu: bad value "${v}"`, i, 'an MTU such as 1480');
      try { host.setMtu(d.name, n); } catch (e) {
        if (e instanceof KernelError) throw new ToolFail(1, 'SIOCSIFMTU: Invalid argument', i, 'an MTU between 68 and 65535');
        throw e;
      }
    } else if (w === 'arp' || w === '-arp') {
      throw new ToolFail(1, 'lvsim: changing IFF_NOARP is not modelled (lo and tunl0 never ARP; ethernet devices always do)', at, 'up, down, netmask, broadcast, mtu');
    } else if (w === 'hw' || w === 'pointopoint' || w === 'dstaddr' || w === 'metric' || w === 'txqueuelen' || w === 'add' || w === 'del' || w === 'tunnel') {
      throw new ToolFail(1, `lvsim: ifconfig ${w} is not modelled`, at, 'up, down, netmask, broadcast, mtu');
    } else if (w === 'promisc' || w === '-promisc' || w === 'allmulti' || w === '-allmulti' || w === 'multicast' || w === '-multicast') {
      /* accepted, no effect in the model */
    } else if (w === 'inet') {
      /* address family keyword */
    } else if (w === 'inet6') {
      throw new ToolFail(1, 'lvsim: IPv6 is not modelled', at, 'an IPv4 address');
    } else {
      const slash = w.indexOf('/');
      const a = parseIp4(slash >= 0 ? w.slice(0, slash) : w);
      const len = slash >= 0 ? parseUint(w.slice(slash + 1), 32) : null;
      if (a === null || (slash >= 0 && len === null)) throw new ToolFail(1, `${w}: Unknown host\n${HINT}`, at, 'an IPv4 address such as 172.16.29.6, or up, down, netmask, broadcast, mtu');
      setAddr(host, d, name, a, at);
      if (len !== null) setNetmask(host, d, name, len, at);
    }
    i++;
  }
  return '';
}, e => new ToolFail(1, `SIOCSIFADDR: ${STRERROR[e.errno]}`, 0, 'a change the kernel accepts'));

function addrByLabel(d: NetDevice, label: string): IfAddr | undefined {
  return orderedAddrs(d).find(a => a.label === label);
}

function replaceAddr(host: Host, d: NetDevice, old: IfAddr, next: { addr: Ip4; prefixLen: number; broadcast: Ip4 | null; scope: IfAddr['scope']; label: string }): void {
  host.delAddr(d.name, old.addr, old.prefixLen);
  host.addAddr(d.name, next.addr, next.prefixLen, { broadcast: next.broadcast, scope: next.scope, label: next.label });
}

/** SIOCSIFADDR. */
function setAddr(host: Host, d: NetDevice, label: string, a: Ip4, at: number): void {
  const len = classfulLen(a);
  if (len < 0) throw new ToolFail(1, 'SIOCSIFADDR: Invalid argument', at, 'a unicast address');
  const bcast = d.kind === 'ether' && len < 31 ? broadcastOf(a, len) : null;
  const scope: IfAddr['scope'] = a >>> 24 === 127 ? 'host' : 'global';
  const old = addrByLabel(d, label);
  if (old) {
    // Same address again: the kernel keeps the entry as it is (prefix included).
    if (old.addr !== a) replaceAddr(host, d, old, { addr: a, prefixLen: len, broadcast: bcast, scope, label });
  } else {
    if (d.addrs.some(x => x.addr === a && x.prefixLen === len)) throw new ToolFail(1, 'SIOCSIFADDR: File exists', at, 'an address not already on the device');
    host.addAddr(d.name, a, len, { broadcast: bcast, scope, label });
  }
  // net-tools follows SIOCSIFADDR with set_flag(IFF_UP | IFF_RUNNING); on an alias that
  // SIOCSIFFLAGS only touches the alias address, so the base device stays as it was.
  if (label === d.name) linkUp(host, d.name);
}

/** SIOCSIFNETMASK: new prefix; the broadcast follows if it was the default one. */
function setNetmask(host: Host, d: NetDevice, label: string, len: number, at: number): void {
  const a = addrByLabel(d, label);
  if (!a) throw new ToolFail(1, 'SIOCSIFNETMASK: Cannot assign requested address', at, 'an address first (ifconfig DEV ADDR netmask M)');
  if (a.prefixLen === len) return;
  const wasDefault = a.broadcast !== null && a.broadcast === broadcastOf(a.addr, a.prefixLen);
  const bcast = d.kind === 'ether' && len < 31 && (wasDefault || a.broadcast === null && d.kind === 'ether') ? broadcastOf(a.addr, len) : len >= 31 ? null : a.broadcast;
  replaceAddr(host, d, a, { addr: a.addr, prefixLen: len, broadcast: bcast, scope: a.scope, label: a.label });
}

/** SIOCSIFFLAGS: on an alias, "down" deletes the alias address and "up" leaves the device alone. */
function setFlags(host: Host, d: NetDevice, name: string, up: boolean, at: number): void {
  if (name !== d.name) {
    const a = addrByLabel(d, name);
    if (!a) throw new ToolFail(1, `SIOCSIFFLAGS: ${STRERROR.EADDRNOTAVAIL}`, at, 'an alias with an address');
    if (!up) host.delAddr(d.name, a.addr, a.prefixLen);
    return;
  }
  if (up) linkUp(host, d.name);
  else host.setUp(d.name, false);
}

// ---------------------------------------------------------------------------------------
// Listing (lib/interface.c ife_print_long)

const FLAG_NAMES: Array<[number, string]> = [
  [IFF.UP, 'UP'], [IFF.BROADCAST, 'BROADCAST'], [IFF.LOOPBACK, 'LOOPBACK'], [IFF.POINTOPOINT, 'POINTOPOINT'],
  [IFF.RUNNING, 'RUNNING'], [IFF.NOARP, 'NOARP'], [IFF.MULTICAST, 'MULTICAST'],
];

function bytesScaled(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v > 1024 && i < 4) { v /= 1024; i++; }
  const tenths = Math.floor(v * 10);
  return `${Math.floor(tenths / 10)}.${tenths % 10} ${units[i]}`;
}

function netTitle(d: NetDevice): string {
  if (d.kind === 'loopback') return '        loop  txqueuelen 1000  (Local Loopback)\n';
  if (d.kind === 'ipip') return '        tunnel   txqueuelen 1000  (IPIP Tunnel)\n';
  return `        ether ${d.mac}  txqueuelen 1000  (Ethernet)\n`;
}

function block(host: Host, d: NetDevice, label: string, stats: boolean): string {
  const flags = devFlags(host, d) & ~IFF.LOWER_UP;
  const names = FLAG_NAMES.filter(([b]) => flags & b).map(([, n]) => n);
  let s = `${label}: flags=${flags}<${names.join(',')}>  mtu ${d.mtu}\n`;
  const a = orderedAddrs(d).find(x => x.label === label);
  if (a) {
    s += `        inet ${formatIp4(a.addr)}  netmask ${formatIp4(prefixMask(a.prefixLen))}`;
    if (flags & IFF.BROADCAST) s += `  broadcast ${formatIp4(a.broadcast ?? 0)}`;
    s += '\n';
  }
  s += netTitle(d);
  if (stats) {
    const t = d.stats;
    s += `        RX packets ${t.rxPackets}  bytes ${t.rxBytes} (${bytesScaled(t.rxBytes)})\n`;
    s += `        RX errors ${t.rxErrors}  dropped ${t.rxDropped}  overruns 0  frame 0\n`;
    s += `        TX packets ${t.txPackets}  bytes ${t.txBytes} (${bytesScaled(t.txBytes)})\n`;
    s += `        TX errors ${t.txErrors}  dropped ${t.txDropped} overruns 0  carrier 0  collisions 0\n`;
  }
  return s + '\n';
}

function list(host: Host, all: boolean, short: boolean, only: string | null): string {
  const entries: Array<{ name: string; d: NetDevice; alias: boolean }> = [];
  for (const d of host.devices.values()) {
    entries.push({ name: d.name, d, alias: false });
    const seen = new Set<string>();
    for (const a of orderedAddrs(d)) {
      if (a.label !== d.name && !seen.has(a.label)) { seen.add(a.label); entries.push({ name: a.label, d, alias: true }); }
    }
  }
  entries.sort((x, y) => nstrcmp(x.name, y.name));
  if (short) {
    let out = 'Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n';
    for (const e of entries) {
      if (e.alias || (only !== null && e.name !== only) || (!all && only === null && !e.d.up)) continue;
      const t = e.d.stats;
      const f = devFlags(host, e.d);
      const flg = `${f & IFF.BROADCAST ? 'B' : ''}${f & IFF.LOOPBACK ? 'L' : ''}${f & IFF.MULTICAST ? 'M' : ''}${f & IFF.NOARP ? 'O' : ''}${f & IFF.RUNNING ? 'R' : ''}${f & IFF.UP ? 'U' : ''}`;
      out += `${e.name.padEnd(8)} ${String(e.d.mtu).padStart(5)} ${String(t.rxPackets).padStart(8)} ${String(t.rxErrors).padStart(6)} ${String(t.rxDropped).padStart(6)} ${'0'.padStart(6)} ${String(t.txPackets).padStart(8)} ${String(t.txErrors).padStart(6)} ${String(t.txDropped).padStart(6)} ${'0'.padStart(6)} ${flg}\n`;
    }
    return out;
  }
  let out = '';
  for (const e of entries) {
    if (only !== null && e.name !== only) continue;
    if (only === null && !all && !e.d.up) continue;
    out += block(host, e.d, e.name, !e.alias);
  }
  return out;
}

/** net-tools nstrcmp: names compare with their numeric suffixes as numbers (eth2 < eth10). */
function nstrcmp(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let k = 0; k < Math.min(pa.length, pb.length); k++) {
    const x = pa[k], y = pb[k];
    if (/^\d/.test(x) && /^\d/.test(y)) { if (Number(x) !== Number(y)) return Number(x) - Number(y); }
    else if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
