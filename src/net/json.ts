/**
 * net/json.ts: packets as plain JSON objects for the CLI's --json trace, the browser's
 * packet tree and golden-trace files. Keys are always inserted in the same order and only
 * present when they apply (mtu only on fragmentation-needed, ident/sequence only on echo),
 * so JSON.stringify of the same packet gives the same text on every run.
 */
import { formatIp4 } from './addr';
import {
  TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
  ipv4TotalLength,
} from './packet';
import type { Arp, Ethernet, Icmp, Ipv4, Layer } from './packet';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

/**
 * Flag names in the order they are listed: the handshake and data flags first, as people
 * read them ("SYN,ACK", "PSH,ACK", "FIN,ACK"), then the rare ones.
 */
const FLAG_ORDER: ReadonlyArray<readonly [number, string]> = [
  [TCP_SYN, 'SYN'], [TCP_ACK, 'ACK'], [TCP_PSH, 'PSH'], [TCP_FIN, 'FIN'],
  [TCP_RST, 'RST'], [TCP_URG, 'URG'], [TCP_ECE, 'ECE'], [TCP_CWR, 'CWR'],
];

/** TCP flags as "SYN,ACK" (order SYN, ACK, PSH, FIN, RST, URG, ECE, CWR); "" when none. */
export function tcpFlagNames(flags: number): string {
  const out: string[] = [];
  for (const [bit, name] of FLAG_ORDER) if (flags & bit) out.push(name);
  return out.join(',');
}

/** One layer's own fields (not those of the layers inside it). */
export function layerJson(layer: Layer): JsonObject {
  switch (layer.proto) {
    case 'eth':
      return { proto: 'eth', src: layer.src, dst: layer.dst, ethertype: layer.ethertype };
    case 'ipv4':
      return {
        proto: 'ipv4', src: formatIp4(layer.src), dst: formatIp4(layer.dst), protocol: layer.protocol,
        ttl: layer.ttl, df: layer.df, id: layer.id, tos: layer.tos, len: ipv4TotalLength(layer),
      };
    case 'tcp':
      return {
        proto: 'tcp', sport: layer.sport, dport: layer.dport, flags: tcpFlagNames(layer.flags),
        seq: layer.seq, ack: layer.ack, len: layer.data.length,
      };
    case 'udp':
      return { proto: 'udp', sport: layer.sport, dport: layer.dport, len: layer.data.length };
    case 'icmp':
      return icmpJson(layer);
    case 'arp':
      return arpJson(layer);
    case 'raw':
      return { proto: 'raw', len: layer.data.length };
  }
}

function icmpJson(m: Icmp): JsonObject {
  const o: JsonObject = { proto: 'icmp', type: m.type, code: m.code };
  if (m.type === 3 && m.code === 4) o['mtu'] = m.mtu ?? 0;
  if (m.ident !== undefined) o['ident'] = m.ident;
  if (m.sequence !== undefined) o['sequence'] = m.sequence;
  if (m.quoted) o['quoted'] = quotedJson(m.quoted, m.quotedLen ?? 28);
  else o['len'] = m.data?.length ?? 0;
  return o;
}

/**
 * What an ICMP error is about: the quoted header's addresses and protocol; for IP-in-IP the
 * inner header too; ports of the innermost transport when the quote reaches them (the first
 * 4 bytes past each IP header, which every quote of 28 bytes or more of a plain packet has).
 */
function quotedJson(q: Ipv4, quotedLen: number): JsonObject {
  const o: JsonObject = {
    src: formatIp4(q.src), dst: formatIp4(q.dst), protocol: q.protocol, len: ipv4TotalLength(q), quotedLen,
  };
  let reach = 20;
  let cur = q;
  if (cur.payload.proto === 'ipv4' && quotedLen >= reach + 20) {
    cur = cur.payload;
    reach += 20;
    o['inner'] = { src: formatIp4(cur.src), dst: formatIp4(cur.dst), protocol: cur.protocol };
  }
  const t = cur.payload;
  if ((t.proto === 'tcp' || t.proto === 'udp') && quotedLen >= reach + 4) {
    o['sport'] = t.sport;
    o['dport'] = t.dport;
    if (t.proto === 'tcp' && quotedLen >= reach + 8) o['seq'] = t.seq;
  }
  return o;
}

function arpJson(a: Arp): JsonObject {
  return {
    proto: 'arp', op: a.op === 1 ? 'request' : 'reply',
    sha: a.sha, spa: formatIp4(a.spa), tha: a.tha, tpa: formatIp4(a.tpa),
  };
}

/** Layers outermost first; an ICMP error's quote is summarised inside the icmp layer. */
export function packetJson(id: number, pkt: Ipv4 | Arp | Ethernet): { id: number; layers: JsonObject[] } {
  const layers: JsonObject[] = [];
  let l: Layer | null = pkt;
  while (l) {
    layers.push(layerJson(l));
    l = l.proto === 'eth' || l.proto === 'ipv4' ? l.payload : null;
  }
  return { id, layers };
}
