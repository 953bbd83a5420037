/**
 * config/route.ts: net-tools 2.10 `route`. It talks to the kernel with SIOCADDRT/SIOCDELRT
 * (ip_rt_ioctl -> rtentry_to_fib_config, net/ipv4/fib_frontend.c): routes get proto boot,
 * scope link without a gateway and universe with one; metric N is priority N. The listing
 * reads /proc/net/route: the main table only, in fib trie order, flags U (up), G (gateway),
 * H (host route), ! (reject). Errors are perror() of the ioctl ("SIOCADDRT: File exists")
 * and exit 7 (E_SOCK); usage errors print the usage and exit 4 (E_USAGE).
 * Not modelled: mss/window/irtt, -C (route cache), -e/-ee extended listings beyond -n.
 */
import { type Ip4, parseIp4, formatIp4, prefixMask, maskLength, networkOf } from '../net/addr';
import { type Route, KernelError } from '../kernel/host';
import type { Tool } from './tool';
import { ToolFail, runGuarded, findDev, trieOrder, STRERROR, parseUint } from './ip';

const USAGE = 'Usage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables\n       route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.';
const E_USAGE = 4;
const E_SOCK = 7;

export const route: Tool = (argv, ctx) => runGuarded('route', () => {
  const host = ctx.host;
  let numeric = false;
  let i = 1;
  while (i < argv.length && argv[i].text.startsWith('-') && argv[i].text !== '-net' && argv[i].text !== '-host') {
    const w = argv[i].text;
    for (const c of w.slice(1)) {
      if (c === 'n') numeric = true;
      else if (c === 'e' || c === 'v' || c === 'N' || c === 'F') { /* accepted */ }
      else if (c === 'A') { i++; break; }
      else if (c === 'C') throw new ToolFail(1, 'lvsim: the route cache (route -C) is not modelled', i, 'route -n');
      else if (c === '4') { /* inet */ }
      else if (c === '6') throw new ToolFail(1, 'lvsim: IPv6 is not modelled', i, 'route -n');
      else throw new ToolFail(E_USAGE, `route: invalid option -- '${c}'\n${USAGE}`, i, 'an option such as -n');
    }
    i++;
  }
  if (i < argv.length && argv[i].text === 'inet') i++;
  if (i >= argv.length) return listing(numeric);
  const verb = argv[i].text;
  if (verb === 'flush') throw new ToolFail(1, 'lvsim: route flush is not modelled; use ip route flush', i, 'add or del');
  if (verb !== 'add' && verb !== 'del' && verb !== 'delete') throw new ToolFail(E_USAGE, USAGE, i, 'add or del');
  i++;

  let isNet: boolean | null = null;
  let target: string | null = null;
  let targetAt = -1;
  let netmask: number | null = null;
  let netmaskAt = -1;
  let gw: Ip4 | null = null;
  let gwAt = -1;
  let dev: string | null = null;
  let devAt = -1;
  let metric = 0;
  let reject = false;
  const need = (what: string): string => {
    i++;
    if (i >= argv.length) throw new ToolFail(E_USAGE, USAGE, i - 1, what);
    return argv[i].text;
  };
  const resolve = (v: string, at: number, what: string): Ip4 => {
    const a = v === 'default' ? 0 : parseIp4(v);
    if (a === null) throw new ToolFail(1, `${v}: Unknown host`, at, what);
    return a;
  };
  for (; i < argv.length; i++) {
    const w = argv[i].text;
    if (w === '-net') isNet = true;
    else if (w === '-host') isNet = false;
    else if (w === 'netmask' || w === 'genmask') {
      const v = need('a netmask');
      const m = parseIp4(v);
      if (m === null) throw new ToolFail(1, `${v}: Unknown host`, i, 'a netmask such as 255.255.255.0');
      if (maskLength(m) === null) throw new ToolFail(E_USAGE, `route: bogus netmask ${v}\n${USAGE}`, i, 'a contiguous netmask');
      netmask = m;
      netmaskAt = i;
    } else if (w === 'gw' || w === 'gateway') {
      const v = need('a gateway address');
      if (gw !== null) throw new ToolFail(E_USAGE, USAGE, i, 'one gateway');
      gw = resolve(v, i, 'a gateway address');
      gwAt = i;
    } else if (w === 'dev') {
      dev = need('a device name');
      devAt = i;
    } else if (w === 'metric') {
      const v = need('a metric');
      const n = parseUint(v);
      if (n === null) throw new ToolFail(E_USAGE, USAGE, i, 'a metric number');
      metric = n;
    } else if (w === 'reject') reject = true;
    else if (w === 'mss' || w === 'window' || w === 'irtt') need('a value');
    else if (w === 'mod' || w === 'dyn' || w === 'reinstate') { /* accepted */ }
    else if (target === null) { target = w; targetAt = i; }
    else if (dev === null && i === argv.length - 1) { dev = w; devAt = i; }
    else throw new ToolFail(E_USAGE, USAGE, i, 'netmask, gw, dev, metric or reject');
  }
  if (target === null) throw new ToolFail(E_USAGE, USAGE, argv.length - 1, 'a target: default, -net NET or -host HOST');

  let dst: Ip4;
  let len: number;
  if (target === 'default') { dst = 0; len = 0; isNet = true; }
  else {
    const slash = target.indexOf('/');
    const a = parseIp4(slash >= 0 ? target.slice(0, slash) : target);
    if (a === null) throw new ToolFail(1, `${target}: Unknown host`, targetAt, 'an address, NET/LEN or default');
    dst = a;
    if (slash >= 0) {
      const l = parseUint(target.slice(slash + 1), 32);
      if (l === null) throw new ToolFail(1, `${target}: Unknown host`, targetAt, 'NET/LEN with LEN 0..32');
      len = l;
      isNet ??= true;
    } else if (netmask !== null) {
      len = maskLength(netmask)!;
    } else {
      len = isNet ? classful(a) : 32;
    }
    if (isNet === false) {
      if (netmask !== null && netmask !== 0xffffffff) throw new ToolFail(E_USAGE, `route: netmask ${formatIp4(netmask)} not valid for host route\n${USAGE}`, netmaskAt, 'no netmask with -host');
      len = 32;
    }
    if (isNet && (dst & ~prefixMask(len)) >>> 0 !== 0) {
      throw new ToolFail(E_USAGE, `route: netmask doesn't match route address\n${USAGE}`, netmaskAt >= 0 ? netmaskAt : targetAt, `the network address ${formatIp4(networkOf(dst, len))}`);
    }
  }
  if (dev !== null && !findDev(host, dev)) throw new ToolFail(E_SOCK, `SIOC${verb === 'add' ? 'ADD' : 'DEL'}RT: ${STRERROR.ENODEV}`, devAt, 'an existing device');
  const ioctl = verb === 'add' ? 'SIOCADDRT' : 'SIOCDELRT';
  const sockFail = (errno: keyof typeof STRERROR, at: number, expected: string): never => {
    throw new ToolFail(E_SOCK, `${ioctl}: ${STRERROR[errno]}`, at, expected);
  };
  if (verb !== 'add') {
    try {
      host.delRoute({ dst, len, gw, dev, metric });
    } catch (e) {
      if (e instanceof KernelError) sockFail(e.errno, targetAt, 'a route in the table (route -n)');
      throw e;
    }
    return '';
  }
  if (!reject && gw === null && dev === null) {
    // rtentry_to_fib_config finds no device for a gateway-less route.
    sockFail('ENODEV', targetAt, 'gw GATEWAY or dev DEVICE');
  }
  const r: Omit<Route, 'table'> = {
    type: reject ? 'unreachable' : 'unicast', dst, len, gw: reject ? null : gw, dev: reject ? null : dev, src: null, metric,
    proto: 'boot', scope: gw === null && !reject ? 'link' : 'global',
  };
  try {
    host.addRoute(r);
  } catch (e) {
    if (e instanceof KernelError) {
      if (e.message === 'Nexthop has invalid gateway') sockFail('ENETUNREACH', gwAt, 'a gateway on a connected subnet');
      if (e.errno === 'ENETUNREACH') sockFail('ENETDOWN', devAt >= 0 ? devAt : targetAt, 'a device that is up');
      sockFail(e.errno, targetAt, 'a route not already in the table');
    }
    throw e;
  }
  return '';

  function listing(num: boolean): string {
    let out = 'Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n';
    for (const rt of trieOrder(host.mainRoutes())) {
      const dstText = !num && rt.len === 0 ? 'default' : formatIp4(rt.dst);
      const gwText = rt.gw !== null ? formatIp4(rt.gw) : num ? '0.0.0.0' : '0.0.0.0';
      const flags = `U${rt.gw !== null ? 'G' : ''}${rt.len === 32 ? 'H' : ''}${rt.type === 'unreachable' || rt.type === 'prohibit' ? '!' : ''}`;
      const iface = rt.dev ?? '-';
      out += `${dstText.padEnd(15)} ${gwText.padEnd(15)} ${formatIp4(prefixMask(rt.len)).padEnd(15)} ${flags.padEnd(5)} ${String(rt.metric).padEnd(6)} ${'0'.padEnd(2)} ${'0'.padStart(7)} ${iface}\n`;
    }
    return out;
  }
}, e => new ToolFail(E_SOCK, `SIOCADDRT: ${STRERROR[e.errno]}`, 0, 'a change the kernel accepts'));

/** net-tools guesses a network's prefix from its class when no netmask is given. */
function classful(a: Ip4): number {
  const top = a >>> 24;
  if (a === 0) return 0;
  if (top < 128) return 8;
  if (top < 192) return 16;
  if (top < 224) return 24;
  return 32;
}

