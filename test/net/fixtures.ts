/**
 * test/net/fixtures.ts: the packets of the seed's TUN flow, built once for the net tests:
 * client 203.0.113.10:40001 -> VIP 172.16.29.6:9001, tunnelled by the director (DIP
 * 172.16.69.15) to the real server (RIP 172.16.197.3).
 */
import { ip4 } from '../../src/net/addr';
import { internetChecksum, transportChecksum } from '../../src/net/checksum';
import { encodeFrame } from '../../src/net/wire';
import {
  ETH_P_ARP, ETH_P_IP, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP,
  TCP_ACK, TCP_PSH, TCP_SYN, bytes, payloadLength,
} from '../../src/net/packet';
import type { Arp, Ethernet, Icmp, Ipv4, Tcp, Udp } from '../../src/net/packet';

export const CLIENT = ip4('203.0.113.10');
export const VIP = ip4('172.16.29.6');
export const DIP = ip4('172.16.69.15');
export const RIP = ip4('172.16.197.3');
export const GW = ip4('172.16.69.1');
export const DIRECTOR_MAC = '02:00:00:00:45:0f';
export const ROUTER_MAC = '02:00:00:00:45:01';

export const synTcp: Tcp = {
  proto: 'tcp', sport: 40001, dport: 9001, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240,
  options: { mss: 1460, sackPerm: true, ts: [123456, 0], wscale: 7 },
  data: new Uint8Array(0),
};

export const dataTcp: Tcp = {
  proto: 'tcp', sport: 40001, dport: 9001, seq: 1001, ack: 0xfedcba98, flags: TCP_PSH | TCP_ACK,
  window: 502, options: { ts: [123460, 777] }, data: bytes('GET / HTTP/1.0\r\n\r\n'),
};

export function ipv4(src: number, dst: number, payload: Ipv4['payload'], extra: Partial<Ipv4> = {}): Ipv4 {
  const protocol = payload.proto === 'ipv4' ? IPPROTO_IPIP : payload.proto === 'tcp' ? IPPROTO_TCP
    : payload.proto === 'udp' ? IPPROTO_UDP : payload.proto === 'icmp' ? IPPROTO_ICMP : 253;
  return { proto: 'ipv4', src, dst, protocol, ttl: 64, tos: 0, id: 0x1234, df: true, payload, ...extra };
}

/** The client's SYN as it reaches the director. */
export const clientSyn = ipv4(CLIENT, VIP, synTcp, { ttl: 63, id: 4242 });
/** The director's IP-in-IP packet to the real server (outer DF copied, TTL of the inner). */
export const tunnelledSyn = ipv4(DIP, RIP, clientSyn, { id: 777 });

export const udp: Udp = { proto: 'udp', sport: 40002, dport: 9001, data: bytes('hello, udp service') };

export const echo: Icmp = { proto: 'icmp', type: 8, code: 0, ident: 0x4c56, sequence: 3, data: bytes('ping payload 0123') };

export const arpRequest: Arp = {
  proto: 'arp', op: 1, sha: DIRECTOR_MAC, spa: DIP, tha: '00:00:00:00:00:00', tpa: GW,
};
export const arpReply: Arp = {
  proto: 'arp', op: 2, sha: ROUTER_MAC, spa: GW, tha: DIRECTOR_MAC, tpa: DIP,
};

export function eth(payload: Ipv4 | Arp, src = DIRECTOR_MAC, dst = ROUTER_MAC): Ethernet {
  return { proto: 'eth', src, dst, ethertype: payload.proto === 'arp' ? ETH_P_ARP : ETH_P_IP, payload };
}

/** Every checksum in an encoded frame, recomputed over the bytes with the field filled in. */
export function recomputedChecksums(frame: Ethernet): Array<{ what: string; value: number }> {
  const b = encodeFrame(frame);
  const out: Array<{ what: string; value: number }> = [];
  if (frame.payload.proto !== 'ipv4') return out;
  let off = 14;
  let p: Ipv4 = frame.payload;
  for (;;) {
    out.push({ what: 'ipv4 header', value: internetChecksum(b, off, off + 20) });
    off += 20;
    if (p.payload.proto !== 'ipv4') break;
    p = p.payload;
  }
  const end = off + payloadLength(p.payload);
  const t = p.payload;
  if (t.proto === 'tcp') out.push({ what: 'tcp', value: transportChecksum(p.src, p.dst, IPPROTO_TCP, b, off, end) });
  if (t.proto === 'udp') out.push({ what: 'udp', value: transportChecksum(p.src, p.dst, IPPROTO_UDP, b, off, end) });
  if (t.proto === 'icmp') out.push({ what: 'icmp', value: internetChecksum(b, off, end) });
  return out;
}
