/**
 * kernel/klog.ts: the host's kernel log (the printk ring buffer `dmesg` reads), and the
 * packet dump the LOG target writes there (nf_log_dump_ipv4_packet, net/netfilter/nf_log_syslog.c).
 * Not modelled: the MAC= field (the frame's link header is not kept with the skb) and
 * --log-ip-options / --log-uid detail.
 */
import { formatIp4 } from '../net/addr';
import { type Ipv4, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, ipv4TotalLength } from '../net/packet';
import type { Host, NetDevice } from './host';
import type { Skb } from './skb';
import type { Ns } from '../sim/engine';

export interface KlogLine {
  readonly t: Ns;
  /** printk level 0..7. */
  readonly level: number;
  readonly text: string;
}

const logs = new WeakMap<Host, KlogLine[]>();

/** printk: append one line to the host's kernel log. */
export function printk(host: Host, level: number, text: string): void {
  let l = logs.get(host);
  if (!l) { l = []; logs.set(host, l); }
  l.push({ t: host.engine.now, level, text });
}

/** The host's kernel log, oldest first. */
export function klogLines(host: Host): readonly KlogLine[] {
  return logs.get(host) ?? [];
}

/** dmesg -C. */
export function klogClear(host: Host): void {
  logs.delete(host);
}

const TCP_FLAG_LOG: ReadonlyArray<readonly [number, string]> = [
  [TCP_CWR, 'CWR'], [TCP_ECE, 'ECE'], [TCP_URG, 'URG'], [TCP_ACK, 'ACK'], [TCP_PSH, 'PSH'], [TCP_RST, 'RST'], [TCP_SYN, 'SYN'], [TCP_FIN, 'FIN'],
];

/** dump_ipv4_packet: the header fields, then the transport's, as the LOG target prints them. */
function dumpIpv4(p: Ipv4, tcpSeq: boolean): string {
  let s = `SRC=${formatIp4(p.src)} DST=${formatIp4(p.dst)} LEN=${ipv4TotalLength(p)} TOS=0x${hex2(p.tos & 0x1e)} PREC=0x${hex2(p.tos & 0xe0)} TTL=${p.ttl} ID=${p.id} `;
  if ((p.tos & 3) === 3) s += 'CE ';
  if (p.df) s += 'DF ';
  if (p.fragOffset) s += `FRAG:${p.fragOffset} `;
  const l4 = p.payload;
  switch (l4.proto) {
    case 'tcp': {
      s += `PROTO=TCP SPT=${l4.sport} DPT=${l4.dport} `;
      if (tcpSeq) s += `SEQ=${l4.seq >>> 0} ACK=${l4.ack >>> 0} `;
      s += `WINDOW=${l4.window} RES=0x00 `;
      for (const [bit, name] of TCP_FLAG_LOG) if (l4.flags & bit) s += name + ' ';
      s += `URGP=${l4.urg ?? 0} `;
      break;
    }
    case 'udp':
      s += `PROTO=UDP SPT=${l4.sport} DPT=${l4.dport} LEN=${8 + l4.data.length} `;
      break;
    case 'icmp':
      s += `PROTO=ICMP TYPE=${l4.type} CODE=${l4.code} `;
      if (l4.type === 0 || l4.type === 8) s += `ID=${l4.ident ?? 0} SEQ=${l4.sequence ?? 0} `;
      if (l4.type === 3 && l4.code === 4) s += `MTU=${l4.mtu ?? 0} `;
      if ((l4.type === 3 || l4.type === 11 || l4.type === 12 || l4.type === 5) && l4.quoted) s += `[${dumpIpv4(l4.quoted, false)}] `;
      break;
    case 'ipv4':
      s += `PROTO=4 `;
      break;
    default:
      s += `PROTO=${p.protocol} `;
  }
  return s;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** The LOG target (xt_LOG.c log_tg -> nf_log_ip_packet): one kernel log line per packet. */
export function nfLogPacket(host: Host, prefix: string, level: number, p: Ipv4, inDev: NetDevice | null, outDev: NetDevice | null, _skb: Skb, flags = 0): void {
  printk(host, level, `${prefix}IN=${inDev ? inDev.name : ''} OUT=${outDev ? outDev.name : ''} ${dumpIpv4(p, (flags & 1) !== 0)}`.trimEnd());
}
