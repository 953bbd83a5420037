/**
 * config/ifcfg.ts: Red Hat initscripts' /etc/sysconfig/network-scripts/ifcfg-* files (and
 * /etc/sysconfig/network): shell variable assignments that ifup sources. Parsing is strict
 * in the sense of what bash would do with the line: NAME=value with no spaces around '=',
 * values unquoted (no blanks) or in '...' or "..." quotes, '#' comments. Anything else is a
 * diagnostic with file:line:col. Expansion ($VAR, `cmd`) is reported, not guessed.
 * The meaning of the variables (ifup-eth) is checked by `ifcfgSettings`.
 */
import { type Ip4, parseIp4, maskLength } from '../net/addr';
import type { Diagnostic } from './diag';
import { nearest, parseUint } from './ip';

export interface IfcfgVar {
  readonly value: string;
  readonly line: number;
  /** Column of the name and of the value's first character (after an opening quote: the quote). */
  readonly col: number;
  readonly valueCol: number;
  readonly valueEndCol: number;
}

/** Parse the file's assignments. Later assignments of the same name win, as in bash. */
export function parseIfcfg(text: string, path: string): { vars: Map<string, IfcfgVar>; diagnostics: Diagnostic[] } {
  const vars = new Map<string, IfcfgVar>();
  const diagnostics: Diagnostic[] = [];
  const err = (line: number, col: number, endCol: number, found: string, expected: string, severity: 'error' | 'warning' = 'error'): void => {
    diagnostics.push({ file: path, line, col, endCol, severity, found, expected });
  };
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = n + 1;
    const raw = lines[n].replace(/\r$/, '');
    let i = 0;
    while (i < raw.length && (raw[i] === ' ' || raw[i] === '\t')) i++;
    if (i >= raw.length || raw[i] === '#') continue;
    if (raw.startsWith('export ', i)) { i += 7; while (raw[i] === ' ') i++; }
    const nameStart = i;
    while (i < raw.length && /[A-Za-z0-9_]/.test(raw[i])) i++;
    const name = raw.slice(nameStart, i);
    if (name === '' || /^\d/.test(name)) {
      const tok = raw.slice(nameStart).split(/\s/)[0];
      err(line, nameStart + 1, nameStart + 1 + Math.max(1, tok.length), tok, 'an assignment NAME=value (such as IPADDR=172.16.29.6)');
      continue;
    }
    if (raw[i] !== '=') {
      const rest = raw.slice(i);
      const found = rest === '' ? '' : rest.split(/\s+/).filter(Boolean)[0] ?? rest.trim();
      const spaced = /^\s*=/.test(rest);
      err(line, i + 1, i + 1 + Math.max(1, found.length), spaced ? rest.trim().split(/\s/)[0] : found,
        spaced ? `'=' right after ${name} (no spaces around '=' in a shell assignment)` : `'=' after ${name} (NAME=value)`);
      continue;
    }
    i++;
    const valueCol = i + 1;
    let value = '';
    let bad = false;
    while (i < raw.length && raw[i] !== ' ' && raw[i] !== '\t') {
      const c = raw[i];
      if (c === "'") {
        const close = raw.indexOf("'", i + 1);
        if (close < 0) { err(line, i + 1, raw.length + 1, raw.slice(i), "a closing single quote (')"); bad = true; break; }
        value += raw.slice(i + 1, close);
        i = close + 1;
        continue;
      }
      if (c === '"') {
        let j = i + 1;
        let s = '';
        while (j < raw.length && raw[j] !== '"') {
          if (raw[j] === '\\' && j + 1 < raw.length && '"\\$`'.includes(raw[j + 1])) { s += raw[j + 1]; j += 2; continue; }
          if (raw[j] === '$' || raw[j] === '`') { err(line, j + 1, j + 2, raw[j], 'a literal value (variable and command expansion are not modelled)'); bad = true; break; }
          s += raw[j++];
        }
        if (bad) break;
        if (j >= raw.length) { err(line, i + 1, raw.length + 1, raw.slice(i), 'a closing double quote (")'); bad = true; break; }
        value += s;
        i = j + 1;
        continue;
      }
      if (c === '$' || c === '`') { err(line, i + 1, i + 2, c, 'a literal value (variable and command expansion are not modelled)'); bad = true; break; }
      if (c === ';' || c === '&' || c === '|' || c === '<' || c === '>' || c === '(' || c === ')') {
        err(line, i + 1, i + 2, c, 'one assignment per line, nothing else'); bad = true; break;
      }
      if (c === '\\' && i + 1 < raw.length) { value += raw[i + 1]; i += 2; continue; }
      value += c;
      i++;
    }
    if (bad) continue;
    const valueEndCol = i + 1;
    while (i < raw.length && (raw[i] === ' ' || raw[i] === '\t')) i++;
    if (i < raw.length && raw[i] !== '#') {
      const tok = raw.slice(i).split(/\s/)[0];
      err(line, i + 1, i + 1 + tok.length, tok, `the end of the line (quote the value of ${name} if it has spaces)`);
      continue;
    }
    if (vars.has(name)) err(line, nameStart + 1, nameStart + 1 + name.length, name, `${name} set once (line ${vars.get(name)!.line} also sets it; this one wins)`, 'warning');
    vars.set(name, { value, line, col: nameStart + 1, valueCol, valueEndCol });
  }
  return { vars, diagnostics };
}

/** What ifup does with one ifcfg file. */
export interface IfcfgSettings {
  readonly device: string;
  readonly onboot: boolean;
  readonly bootproto: 'none' | 'static' | 'dhcp';
  readonly addrs: ReadonlyArray<{ addr: Ip4; prefixLen: number; broadcast: Ip4 | null }>;
  readonly gateway: Ip4 | null;
  readonly defroute: boolean;
  readonly mtu: number | null;
}

const KNOWN_KEYS = [
  'DEVICE', 'NAME', 'TYPE', 'ONBOOT', 'BOOTPROTO', 'IPADDR', 'NETMASK', 'PREFIX', 'GATEWAY', 'BROADCAST', 'NETWORK', 'DEFROUTE', 'MTU',
  'UUID', 'HWADDR', 'MACADDR', 'NM_CONTROLLED', 'USERCTL', 'PEERDNS', 'PEERROUTES', 'DNS1', 'DNS2', 'DNS3', 'DOMAIN', 'IPV4_FAILURE_FATAL',
  'IPV6INIT', 'IPV6_AUTOCONF', 'IPV6_DEFROUTE', 'IPV6_FAILURE_FATAL', 'IPV6_ADDR_GEN_MODE', 'IPV6ADDR', 'IPV6_DEFAULTGW', 'IPV6_PEERDNS',
  'IPV6_PEERROUTES', 'PROXY_METHOD', 'BROWSER_ONLY', 'ZONE', 'ARPCHECK', 'ARP', 'ETHTOOL_OPTS', 'LINKDELAY', 'SCOPE', 'SRCADDR',
  'BRIDGE', 'STP', 'BONDING_OPTS', 'MASTER', 'SLAVE', 'VLAN', 'PHYSDEV', 'NOZEROCONF', 'GATEWAYDEV', 'NETWORKING', 'NETWORKING_IPV6',
  'HOSTNAME', 'PEER_OUTER_IPADDR', 'MY_OUTER_IPADDR', 'TTL', 'METRIC', 'ONPARENT', 'DHCP_HOSTNAME', 'PERSISTENT_DHCLIENT',
];

/** ipcalc's default prefix for an address without NETMASK/PREFIX (classful). */
function defaultPrefix(a: Ip4): number {
  const top = a >>> 24;
  return top < 128 ? 8 : top < 192 ? 16 : top < 224 ? 24 : 32;
}

function yesNo(v: string): boolean | null {
  const l = v.toLowerCase();
  if (l === 'yes' || l === 'true' || l === 'y') return true;
  if (l === 'no' || l === 'false' || l === 'n') return false;
  return null;
}

/** Check the variables of one ifcfg file and work out what ifup would configure. */
export function ifcfgSettings(path: string, vars: ReadonlyMap<string, IfcfgVar>): { settings: IfcfgSettings | null; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const at = (v: IfcfgVar, expected: string, severity: 'error' | 'warning' = 'error'): void => {
    diagnostics.push({ file: path, line: v.line, col: v.valueCol, endCol: Math.max(v.valueEndCol, v.valueCol + 1), severity, found: v.value, expected });
  };
  for (const [name, v] of vars) {
    if (KNOWN_KEYS.includes(name) || /^(IPADDR|NETMASK|PREFIX|GATEWAY)\d+$/.test(name) || /^(DNS|IPV6_|ETHTOOL|DHCP)/.test(name)) continue;
    const guess = nearest(name, KNOWN_KEYS);
    if (guess) diagnostics.push({ file: path, line: v.line, col: v.col, endCol: v.col + name.length, severity: 'warning', found: name, expected: `a variable ifup reads: ${guess}? (${name} is ignored)` });
  }
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/^ifcfg-/, '');
  const dv = vars.get('DEVICE');
  const device = dv?.value || base;
  if (dv && !/^[A-Za-z0-9_.:-]{1,15}$/.test(dv.value)) at(dv, 'an interface name such as eth0 or lo:0');
  let onboot = true;
  const ob = vars.get('ONBOOT');
  if (ob) { const y = yesNo(ob.value); if (y === null) at(ob, 'yes or no'); else onboot = y; }
  let bootproto: IfcfgSettings['bootproto'] = 'none';
  const bp = vars.get('BOOTPROTO');
  if (bp) {
    const l = bp.value.toLowerCase();
    if (l === 'none' || l === 'static' || l === '') bootproto = l === 'static' ? 'static' : 'none';
    else if (l === 'dhcp' || l === 'bootp') { bootproto = 'dhcp'; at(bp, 'static or none (DHCP is not modelled: the device comes up without an address)', 'warning'); }
    else at(bp, 'none, static or dhcp');
  }
  const addrs: Array<{ addr: Ip4; prefixLen: number; broadcast: Ip4 | null }> = [];
  for (const suffix of ['', ...Array.from({ length: 256 }, (_, k) => String(k))]) {
    const av = vars.get('IPADDR' + suffix);
    if (!av) continue;
    const a = parseIp4(av.value);
    if (a === null) { at(av, 'an IPv4 address such as 172.16.29.6'); continue; }
    let len: number | null = null;
    const pv = vars.get('PREFIX' + suffix);
    const nv = vars.get('NETMASK' + suffix);
    if (pv) { len = parseUint(pv.value, 32); if (len === null) { at(pv, 'a prefix length 0..32'); continue; } }
    else if (nv) {
      const m = parseIp4(nv.value);
      len = m === null ? null : maskLength(m);
      if (len === null) { at(nv, 'a contiguous netmask such as 255.255.255.255'); continue; }
    } else len = defaultPrefix(a);
    let broadcast: Ip4 | null = null;
    const bv = suffix === '' ? vars.get('BROADCAST') : undefined;
    if (bv) { broadcast = parseIp4(bv.value); if (broadcast === null) { at(bv, 'an IPv4 broadcast address'); continue; } }
    else broadcast = (a | (len === 0 ? 0xffffffff : ~(0xffffffff << (32 - len)))) >>> 0; // ipcalc -b (a /32 gets itself)
    addrs.push({ addr: a, prefixLen: len, broadcast });
  }
  for (const [name, v] of vars) {
    if (/^(NETMASK|PREFIX)\d*$/.test(name) && !vars.has('IPADDR' + name.replace(/^(NETMASK|PREFIX)/, ''))) at(v, `an IPADDR${name.replace(/^(NETMASK|PREFIX)/, '')} for this ${name.replace(/\d+$/, '')}`, 'warning');
  }
  let gateway: Ip4 | null = null;
  const gv = vars.get('GATEWAY') ?? vars.get('GATEWAY0');
  if (gv) { gateway = parseIp4(gv.value); if (gateway === null) at(gv, 'an IPv4 gateway address'); }
  let defroute = true;
  const dr = vars.get('DEFROUTE');
  if (dr) { const y = yesNo(dr.value); if (y === null) at(dr, 'yes or no'); else defroute = y; }
  let mtu: number | null = null;
  const mv = vars.get('MTU');
  if (mv) { mtu = parseUint(mv.value, 65535); if (mtu === null || mtu < 68) { at(mv, 'an MTU between 68 and 65535'); mtu = null; } }
  const tv = vars.get('TYPE');
  if (tv && !['ethernet', 'loopback', 'tunnel', 'ipip', ''].includes(tv.value.toLowerCase())) at(tv, 'Ethernet (other interface types are not modelled)', 'warning');
  if (tv && tv.value.toLowerCase() === 'ipip' && device !== 'tunl0') at(tv, 'DEVICE=tunl0 (ifup-ipip tunnels to a peer are not modelled; use ip tunnel add)', 'warning');
  const errors = diagnostics.some(d => d.severity === 'error');
  return { settings: errors ? null : { device, onboot, bootproto, addrs, gateway, defroute, mtu }, diagnostics };
}
