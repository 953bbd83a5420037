/**
 * net/summary.ts: one line per packet in tcpdump's words (print-ip.c, print-tcp.c,
 * print-icmp.c, print-arp.c of tcpdump 4.99), so a trace reads like the captures people
 * already know. Sequence numbers are absolute (as tcpdump -S). `verbose` adds the IP header
 * fields as tcpdump -v does (on the same line), TCP options and what an ICMP error quotes.
 */
import { ZERO_MAC, formatIp4 } from './addr';
import {
  IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP,
  TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
  icmpLength, ipv4TotalLength,
} from './packet';
import type { Arp, Ethernet, Icmp, Ipv4, Tcp } from './packet';

export interface SummaryOptions {
  /** IP header fields (tos, ttl, id, offset, flags, proto, length), TCP options, ICMP quotes. */
  readonly verbose?: boolean;
}

/** tcpdump's flag letters, in its order (bit order): F S R P . U E W; "none" when empty. */
const TCPDUMP_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [TCP_FIN, 'F'], [TCP_SYN, 'S'], [TCP_RST, 'R'], [TCP_PSH, 'P'],
  [TCP_ACK, '.'], [TCP_URG, 'U'], [TCP_ECE, 'E'], [TCP_CWR, 'W'],
];

/** "S", "S.", "P.", "F."; "none" for no flags. */
export function tcpdumpFlags(flags: number): string {
  let s = '';
  for (const [bit, c] of TCPDUMP_FLAGS) if (flags & bit) s += c;
  return s || 'none';
}

const PROTO_NAMES: ReadonlyMap<number, string> = new Map([
  [IPPROTO_ICMP, 'ICMP'], [IPPROTO_IPIP, 'IPIP'], [IPPROTO_TCP, 'TCP'], [IPPROTO_UDP, 'UDP'],
]);

/** One line for an IP datagram or ARP message, as tcpdump -n prints it. */
export function summarize(pkt: Ipv4 | Arp, opts: SummaryOptions = {}): string {
  return pkt.proto === 'arp' ? arpLine(pkt) : ipLine(pkt, !!opts.verbose);
}

/** As tcpdump -e: the link-level header first, then the packet. */
export function summarizeFrame(eth: Ethernet, opts: SummaryOptions = {}): string {
  const len = 14 + (eth.payload.proto === 'arp' ? 28 : ipv4TotalLength(eth.payload));
  const et = eth.payload.proto === 'arp' ? 'ARP' : 'IPv4';
  const hex = eth.ethertype.toString(16).padStart(4, '0');
  return `${eth.src} > ${eth.dst}, ethertype ${et} (0x${hex}), length ${len}: ${summarize(eth.payload, opts)}`;
}

function ipHeaderVerbose(p: Ipv4): string {
  const flags: string[] = [];
  if (p.mf) flags.push('+');
  if (p.df) flags.push('DF');
  const proto = PROTO_NAMES.get(p.protocol);
  const protoStr = proto ? `${proto} (${p.protocol})` : `unknown (${p.protocol})`;
  return `(tos 0x${p.tos.toString(16)}, ttl ${p.ttl}, id ${p.id}, offset ${(p.fragOffset ?? 0) * 8}, ` +
    `flags [${flags.length ? flags.join(', ') : 'none'}], proto ${protoStr}, length ${ipv4TotalLength(p)})`;
}

function ipLine(p: Ipv4, verbose: boolean): string {
  const head = verbose ? `IP ${ipHeaderVerbose(p)} ` : 'IP ';
  const s = formatIp4(p.src);
  const d = formatIp4(p.dst);
  const pl = p.payload;
  if (p.fragOffset) {
    // tcpdump prints non-first fragments without a transport header to read.
    return `${head}${s} > ${d}: ${PROTO_NAMES.get(p.protocol)?.toLowerCase() ?? `ip-proto-${p.protocol}`}`;
  }
  switch (pl.proto) {
    case 'ipv4': return `${head}${s} > ${d}: ${ipLine(pl, verbose)}`;
    case 'tcp': return `${head}${s}.${pl.sport} > ${d}.${pl.dport}: ${tcpText(pl, verbose)}`;
    case 'udp': return `${head}${s}.${pl.sport} > ${d}.${pl.dport}: UDP, length ${pl.data.length}`;
    case 'icmp': return `${head}${s} > ${d}: ICMP ${icmpText(pl, verbose)}`;
    case 'raw': return `${head}${s} > ${d}: ip-proto-${p.protocol} ${pl.data.length}`;
  }
}

function tcpText(t: Tcp, verbose: boolean): string {
  const len = t.data.length;
  let s = `Flags [${tcpdumpFlags(t.flags)}]`;
  if (len > 0 || t.flags & (TCP_SYN | TCP_FIN | TCP_RST)) {
    s += `, seq ${t.seq >>> 0}`;
    if (len > 0) s += `:${(t.seq + len) >>> 0}`;
  }
  if (t.flags & TCP_ACK) s += `, ack ${t.ack >>> 0}`;
  s += `, win ${t.window}`;
  if (t.flags & TCP_URG) s += `, urg ${t.urg ?? 0}`;
  if (verbose && t.options) s += `, options [${tcpOptionsText(t)}]`;
  return `${s}, length ${len}`;
}

/** Options in the order Linux writes them, with the NOPs, as tcpdump lists them. */
function tcpOptionsText(t: Tcp): string {
  const o = t.options!;
  const out: string[] = [];
  if (o.mss !== undefined) out.push(`mss ${o.mss}`);
  if (o.ts) {
    if (o.sackPerm) out.push('sackOK');
    else out.push('nop', 'nop');
    out.push(`TS val ${o.ts[0] >>> 0} ecr ${o.ts[1] >>> 0}`);
  } else if (o.sackPerm) out.push('nop', 'nop', 'sackOK');
  if (o.wscale !== undefined) out.push('nop', `wscale ${o.wscale}`);
  return out.join(',');
}

function icmpText(m: Icmp, verbose: boolean): string {
  const len = icmpLength(m);
  if (m.type === 8 || m.type === 0) {
    return `echo ${m.type === 8 ? 'request' : 'reply'}, id ${m.ident ?? 0}, seq ${m.sequence ?? 0}, length ${len}`;
  }
  let s: string;
  const q = m.quoted;
  const qd = q ? formatIp4(q.dst) : '?';
  if (m.type === 3) {
    switch (m.code) {
      case 0: s = `net ${qd} unreachable`; break;
      case 1: s = `host ${qd} unreachable`; break;
      case 2: s = `${qd} protocol ${q?.protocol ?? 0} unreachable`; break;
      case 3: {
        const t = q?.payload;
        s = t && (t.proto === 'tcp' || t.proto === 'udp') ? `${qd} ${t.proto} port ${t.dport} unreachable` : `${qd} port unreachable`;
        break;
      }
      case 4: s = m.mtu ? `${qd} unreachable - need to frag (mtu ${m.mtu})` : `${qd} unreachable - need to frag`; break;
      case 13: s = `${qd} unreachable - admin prohibited filter`; break;
      default: s = `${qd} unreachable - code ${m.code}`;
    }
  } else if (m.type === 5) {
    // print-icmp.c: "redirect %s to net|host %s" (code 0 net, 1 host, 2 tos-net, 3 tos-host).
    const kind = ['net', 'host', 'tos-net', 'tos-host'][m.code] ?? `#${m.code}`;
    s = `redirect ${qd} to ${kind} ${formatIp4(m.gateway ?? 0)}`;
  } else if (m.type === 11) {
    s = m.code === 0 ? 'time exceeded in-transit' : 'ip reassembly time exceeded';
  } else {
    s = `type-#${m.type}`;
  }
  s += `, length ${len}`;
  if (verbose && q) s += ` [quoted: ${quotedText(q, m.quotedLen ?? 28)}]`;
  return s;
}

/** The quoted packet, only as far as the quote reaches (addresses, then ports). */
function quotedText(q: Ipv4, quotedLen: number): string {
  let s = `IP ${formatIp4(q.src)} > ${formatIp4(q.dst)}`;
  let reach = 20;
  let cur = q;
  while (cur.payload.proto === 'ipv4' && quotedLen >= reach + 20) {
    cur = cur.payload;
    reach += 20;
    s += `: IP ${formatIp4(cur.src)} > ${formatIp4(cur.dst)}`;
  }
  const t = cur.payload;
  if ((t.proto === 'tcp' || t.proto === 'udp') && quotedLen >= reach + 4) {
    // Put the ports onto the last address pair, as tcpdump prints a.p > b.q.
    const i = s.lastIndexOf('IP ');
    s = `${s.slice(0, i)}IP ${formatIp4(cur.src)}.${t.sport} > ${formatIp4(cur.dst)}.${t.dport}: ${t.proto}`;
  } else if (cur.payload.proto !== 'ipv4') {
    s += `: ${PROTO_NAMES.get(cur.protocol)?.toLowerCase() ?? `ip-proto-${cur.protocol}`}`;
  }
  return s;
}

function arpLine(a: Arp): string {
  if (a.op === 1) {
    const tha = a.tha !== ZERO_MAC ? ` (${a.tha})` : '';
    return `ARP, Request who-has ${formatIp4(a.tpa)}${tha} tell ${formatIp4(a.spa)}, length 28`;
  }
  return `ARP, Reply ${formatIp4(a.spa)} is-at ${a.sha}, length 28`;
}
