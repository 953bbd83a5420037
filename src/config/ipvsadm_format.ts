/**
 * config/ipvsadm_format.ts: what `ipvsadm -L` prints, byte for byte as ipvsadm 1.31 prints it
 * (ipvsadm.c print_title / print_service_entry / print_largenum / list_conn / list_timeout,
 * and libipvs.c ipvs_cmp_services / ipvs_cmp_dests sorted by glibc's qsort).
 *
 * Not modelled: name resolution. Without -n ipvsadm asks gethostbyaddr / getservbyport
 * ("10.0.0.100:http"); lvsim has no resolver and prints numbers either way.
 * Not modelled: fwmark, SCTP and IPv6 services, persistence engines, GUE/GRE tunnels, the
 * LOCALNODE ("Local") forwarding method. (`-L --daemon` is listed by ipvs/sync.ts listDaemons.)
 */
import type { ConnView, IpvsCtl, ServiceKey } from '../ipvs/ctl';
import {
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  PROTO_NUM,
  type Dest,
  type FwdMethod,
  type Service,
} from '../ipvs/types';
import { formatIp4 } from '../net/addr';
import type { Ns } from '../sim/engine';

/** IP_VS_VERSION_CODE 0x010201 and the default connection table size (conn_tab_bits 12). */
export const IPVS_VERSION = '1.2.1';
export const IPVS_CONN_TAB_SIZE = 4096;
export const VERSION_LINE = `IP Virtual Server version ${IPVS_VERSION} (size=${IPVS_CONN_TAB_SIZE})\n`;

/** ipvsadm's FMT_* flags, as booleans. */
export interface ListFormat {
  readonly numeric?: boolean;
  readonly rule?: boolean;
  readonly stats?: boolean;
  readonly rate?: boolean;
  readonly thresholds?: boolean;
  readonly persistentConn?: boolean;
  readonly nosort?: boolean;
  readonly exact?: boolean;
  readonly tunInfo?: boolean;
}

// ---------------------------------------------------------------- printf pieces

/** `%-Ns`. */
export const padRight = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));
/** `%Ns`. */
export const padLeft = (s: string, w: number): string => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

/** print_largenum(): 9 columns, scaled to K/M/G/T unless --exact. Integer division as C does. */
export function largenum(n: number, exact: boolean): string {
  const i = Math.max(0, Math.floor(n));
  if (exact) {
    const s = String(i);
    return padLeft(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (i < 1e8) return padLeft(String(i), 9);
  if (i < 1e9) return padLeft(String(Math.floor(i / 1e3)), 8) + 'K';
  if (i < 1e11) return padLeft(String(Math.floor(i / 1e6)), 8) + 'M';
  if (i < 1e14) return padLeft(String(Math.floor(i / 1e9)), 8) + 'G';
  return padLeft(String(Math.floor(i / 1e12)), 8) + 'T';
}

// ---------------------------------------------------------------- sorting

/**
 * glibc qsort() for arrays that fit in memory is msort_with_tmp(): a top-down merge sort that
 * takes from the left run while cmp(left, right) <= 0. Reproduced because ipvsadm's
 * comparators are not transitive (see cmpServices), so the algorithm decides the output.
 */
export function glibcMsort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const b = items.slice();
  const tmp: T[] = new Array(b.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    let k = 0;
    let r1 = n1;
    let r2 = n2;
    while (r1 > 0 && r2 > 0) {
      if (cmp(b[i]!, b[j]!) <= 0) {
        tmp[k++] = b[i++]!;
        r1--;
      } else {
        tmp[k++] = b[j++]!;
        r2--;
      }
    }
    while (r1-- > 0) tmp[k++] = b[i++]!;
    for (let x = 0; x < k; x++) b[lo + x] = tmp[x]!;
  };
  sort(0, b.length);
  return b;
}

/** `int r = a - b` on unsigned 32-bit values: differences of 2^31 or more change sign. */
const udiff = (a: number, b: number): number => ((a >>> 0) - (b >>> 0)) | 0;

/** ipvs_cmp_services(): fwmark, af, protocol, address, port (fwmark and af are equal here). */
export function cmpServices(a: Service, b: Service): number {
  const r = PROTO_NUM[a.protocol] - PROTO_NUM[b.protocol];
  if (r !== 0) return r;
  const ra = udiff(a.addr, b.addr);
  if (ra !== 0) return ra;
  return a.port - b.port;
}

/** ipvs_cmp_dests(): address, then port. */
export function cmpDests(a: Dest, b: Dest): number {
  const r = udiff(a.addr, b.addr);
  if (r !== 0) return r;
  return a.port - b.port;
}

// ---------------------------------------------------------------- names

const PROTO_NAME: Record<Service['protocol'], string> = { tcp: 'TCP', udp: 'UDP' };
const PROTO_OPT: Record<Service['protocol'], string> = { tcp: '-t', udp: '-u' };

/** addrport_to_anyname(): always numeric (see the file comment). */
export const addrPort = (addr: number, port: number): string => `${formatIp4(addr)}:${port}`;

/** fwd_name(). */
export const FWD_NAME: Record<FwdMethod, string> = { masq: 'Masq', tunnel: 'Tunnel', route: 'Route' };
/** fwd_switch(). */
export const FWD_SWITCH: Record<FwdMethod, string> = { masq: '-m', tunnel: '-i', route: '-g' };

/** print_sched_flags(): names depend on the scheduler the service uses. */
export function schedFlagNames(schedName: string, flags: number): string {
  const out: string[] = [];
  if (schedName === 'sh' || schedName === 'mh') {
    if (flags & IP_VS_SVC_F_SCHED1) out.push(`${schedName}-fallback`);
    if (flags & IP_VS_SVC_F_SCHED2) out.push(`${schedName}-port`);
  } else {
    if (flags & IP_VS_SVC_F_SCHED1) out.push('flag-1');
    if (flags & IP_VS_SVC_F_SCHED2) out.push('flag-2');
    if (flags & IP_VS_SVC_F_SCHED3) out.push('flag-3');
  }
  return out.join(',');
}

const SCHED_FLAGS = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

// ---------------------------------------------------------------- listings

/** print_title(). */
export function title(f: ListFormat): string {
  const head = padRight('Prot LocalAddress:Port', 33);
  if (f.stats) return `${head} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((s) => padLeft(s, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (f.rate) return `${head} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((s) => padLeft(s, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (f.thresholds) return `${head} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((s) => padRight(s, 10)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (f.persistentConn) return `${head} ${padRight('Weight', 9)} ${padRight('PersistConn', 11)} ${padRight('ActiveConn', 10)} ${padRight('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  if (f.tunInfo) return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  if (!f.rule) return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  return '';
}

/** The `-A ...` part of a FMT_RULE service line (also ipvsadm-save's). */
export function ruleServiceName(svc: Service): string {
  return `${PROTO_OPT[svc.protocol]} ${addrPort(svc.addr, svc.port)}`;
}

/** print_service_entry(): the service line and its destinations. */
export function serviceEntry(ipvs: IpvsCtl, svc: Service, f: ListFormat): string {
  const exact = !!f.exact;
  let out = '';
  let svcName: string;
  if (f.rule) {
    svcName = ruleServiceName(svc);
  } else {
    svcName = `${padRight(PROTO_NAME[svc.protocol], 4)} ${addrPort(svc.addr, svc.port)}`.slice(0, 33);
  }
  const schedName = svc.scheduler.name;
  if (f.rule) {
    out += `-A ${svcName} -s ${schedName}`;
    if (svc.flags & IP_VS_SVC_F_PERSISTENT) {
      out += ` -p ${svc.timeout >>> 0}`;
      if (svc.netmask >>> 0 !== 0xffffffff) out += ` -M ${formatIp4(svc.netmask >>> 0)}`;
    }
    if (svc.flags & IP_VS_SVC_F_ONEPACKET) out += ' -o';
    if (svc.flags & SCHED_FLAGS) out += ` -b ${schedFlagNames(schedName, svc.flags)}`;
  } else if (f.stats) {
    const s = ipvs.shownStats(svc);
    out += padRight(svcName, 33) + [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) => largenum(n, exact)).join('');
  } else if (f.rate) {
    const r = ipvs.shownRates(svc);
    out += padRight(svcName, 33) + [r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((n) => largenum(n, exact)).join('');
  } else {
    out += `${svcName} ${schedName}`;
    if (svc.flags & SCHED_FLAGS) out += ` (${schedFlagNames(schedName, svc.flags)})`;
    if (svc.flags & IP_VS_SVC_F_PERSISTENT) {
      out += ` persistent ${svc.timeout >>> 0}`;
      if (svc.netmask >>> 0 !== 0xffffffff) out += ` mask ${formatIp4(svc.netmask >>> 0)}`;
    }
    if (svc.flags & IP_VS_SVC_F_ONEPACKET) out += ' ops';
  }
  out += '\n';

  const dests = f.nosort ? svc.dests.slice() : glibcMsort(svc.dests, cmpDests);
  for (const d of dests) {
    const full = addrPort(d.addr, d.port);
    const dname = f.rule ? full : full.slice(0, 28);
    if (f.rule) {
      out += `-a ${svcName} -r ${dname} ${FWD_SWITCH[d.fwd]} -w ${d.weight | 0}`;
      // print_tunnel_rule(): lvsim's tunnels are all ipip (GUE/GRE are not modelled).
      if (d.fwd === 'tunnel') out += ' --tun-type ipip';
      out += '\n';
    } else if (f.stats) {
      const s = ipvs.shownStats(d);
      out += `  -> ${padRight(dname, 28)}${[s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) => largenum(n, exact)).join('')}\n`;
    } else if (f.rate) {
      const r = ipvs.shownRates(d);
      out += `  -> ${padRight(dname, 28)} ${[r.cps, r.inpps, r.outpps].map((n) => padLeft(String(Math.max(0, Math.floor(n))), 8)).join(' ')}${largenum(r.inbps, exact)}${largenum(r.outbps, exact)}\n`;
    } else if (f.thresholds) {
      out += `  -> ${padRight(dname, 28)} ${[d.uThreshold, d.lThreshold, d.activeconns, d.inactconns].map((n) => padRight(String(n >>> 0), 10)).join(' ')}\n`;
    } else if (f.persistentConn) {
      out += `  -> ${padRight(dname, 28)} ${padRight(String(d.weight >>> 0), 9)} ${padRight(String(d.persistconns >>> 0), 11)} ${padRight(String(d.activeconns >>> 0), 10)} ${padRight(String(d.inactconns >>> 0), 10)}\n`;
    } else if (f.tunInfo) {
      const ti = d.fwd === 'tunnel' ? 'ipip' : 'n/a';
      out += `  -> ${padRight(dname, 28)} ${padRight(FWD_NAME[d.fwd], 7)} ${padRight(ti, 13)} ${padRight(String(d.weight | 0), 6)} ${padRight(String(d.activeconns >>> 0), 10)} ${padRight(String(d.inactconns >>> 0), 10)}\n`;
    } else {
      out += `  -> ${padRight(dname, 28)} ${padRight(FWD_NAME[d.fwd], 7)} ${padRight(String(d.weight | 0), 6)} ${padRight(String(d.activeconns >>> 0), 10)} ${padRight(String(d.inactconns >>> 0), 10)}\n`;
    }
  }
  return out;
}

/** list_all(): version line (not for -S), title, every service sorted unless --nosort. */
export function listAll(ipvs: IpvsCtl, f: ListFormat): string {
  let out = f.rule ? '' : VERSION_LINE;
  const services = f.nosort ? ipvs.services.slice() : glibcMsort(ipvs.services, cmpServices);
  out += title(f);
  for (const s of services) out += serviceEntry(ipvs, s, f);
  return out;
}

/** list_service(): `-L -t VIP:port`: title and that one service, no version line; null if none. */
export function listService(ipvs: IpvsCtl, key: ServiceKey, f: ListFormat): string | null {
  const svc = ipvs.findService(key);
  if (!svc) return null;
  return title(f) + serviceEntry(ipvs, svc, f);
}

/** `sprintf("%02d:%02d", secs / 60, secs % 60)` of the kernel's whole seconds left. */
export function expireString(expiresIn: Ns): string {
  // ip_vs_conn_seq_show: jiffies_delta_to_msecs(expires - jiffies) / 1000, never negative.
  const ms = Math.max(0, Math.floor(expiresIn / 1e6));
  const secs = Math.floor(ms / 1000);
  const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return `${pad2(Math.floor(secs / 60))}:${pad2(secs % 60)}`;
}

/** One row of list_conn() (print_conn): `%-3s %-6s %-11s %-18s %-18s %s`. */
export function connRow(c: ConnView): string {
  return `${padRight(c.protocol, 3)} ${padRight(expireString(c.expiresIn), 6)} ${padRight(c.state, 11)} ${padRight(addrPort(c.caddr, c.cport), 18)} ${padRight(addrPort(c.vaddr, c.vport), 18)} ${addrPort(c.daddr, c.dport)}\n`;
}

/**
 * list_conn(): `-Lnc`. Rows in the order IpvsCtl.connections() gives (the kernel's is hash-table
 * order with a boot-time random key). With --persistent-conn the header grows two columns, but
 * rows without a persistence engine (all of lvsim's) keep the short form, as in ipvsadm.
 */
export function listConn(ipvs: IpvsCtl, f: ListFormat): string {
  let out = 'IPVS connection entries\n';
  if (f.persistentConn) {
    out += `pro expire ${padRight('state', 11)} ${padRight('source', 18)} ${padRight('virtual', 18)} ${padRight('destination', 18)} ${padRight('pe name', 16)} pe_data\n`;
  } else {
    out += `pro expire ${padRight('state', 11)} ${padRight('source', 18)} ${padRight('virtual', 18)} destination\n`;
  }
  for (const c of ipvs.connections()) out += connRow(c);
  return out;
}

/** list_timeout(). */
export function listTimeout(ipvs: IpvsCtl): string {
  const t = ipvs.timeouts();
  return `Timeout (tcp tcpfin udp): ${t.tcp | 0} ${t.tcpfin | 0} ${t.udp | 0}\n`;
}
