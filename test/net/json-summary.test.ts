/** net/json.ts and net/summary.ts: the packet as views and the CLI print it. */
import { describe, expect, it } from 'vitest';
import { layerJson, packetJson, tcpFlagNames } from '../../src/net/json';
import { summarize, summarizeFrame, tcpdumpFlags } from '../../src/net/summary';
import { quoteOf } from '../../src/net/wire';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/net/packet';
import type { Tcp } from '../../src/net/packet';
import {
  CLIENT, DIP, RIP, VIP, arpReply, arpRequest, clientSyn, dataTcp, echo, eth, ipv4, tunnelledSyn, udp,
} from './fixtures';

describe('packetJson', () => {
  it('lists the tunnelled SYN outermost first with stable keys', () => {
    const j = packetJson(7, tunnelledSyn);
    expect(JSON.stringify(j)).toBe(JSON.stringify({
      id: 7,
      layers: [
        { proto: 'ipv4', src: '172.16.69.15', dst: '172.16.197.3', protocol: 4, ttl: 64, df: true, id: 777, tos: 0, len: 80 },
        { proto: 'ipv4', src: '203.0.113.10', dst: '172.16.29.6', protocol: 6, ttl: 63, df: true, id: 4242, tos: 0, len: 60 },
        { proto: 'tcp', sport: 40001, dport: 9001, flags: 'SYN', seq: 1000, ack: 0, len: 0 },
      ],
    }));
  });

  it('names flags SYN,ACK,PSH,FIN,RST,URG,ECE,CWR in that order', () => {
    expect(tcpFlagNames(TCP_SYN | TCP_ACK)).toBe('SYN,ACK');
    expect(tcpFlagNames(TCP_FIN | TCP_PSH | TCP_ACK)).toBe('ACK,PSH,FIN');
    expect(tcpFlagNames(0)).toBe('');
  });

  it('gives udp, echo and arp their fields', () => {
    expect(layerJson(udp)).toEqual({ proto: 'udp', sport: 40002, dport: 9001, len: 18 });
    expect(layerJson(echo)).toEqual({ proto: 'icmp', type: 8, code: 0, ident: 0x4c56, sequence: 3, len: 17 });
    expect(packetJson(1, arpRequest).layers).toEqual([
      { proto: 'arp', op: 'request', sha: '02:00:00:00:45:0f', spa: '172.16.69.15', tha: '00:00:00:00:00:00', tpa: '172.16.69.1' },
    ]);
    expect(layerJson(arpReply)['op']).toBe('reply');
  });

  it('summarises what an ICMP error quotes, with the MTU of frag-needed', () => {
    const big = ipv4(CLIENT, VIP, { ...dataTcp, data: new Uint8Array(1448) });
    expect(layerJson({ proto: 'icmp', type: 3, code: 4, mtu: 1480, ...quoteOf(big) })).toEqual({
      proto: 'icmp', type: 3, code: 4, mtu: 1480,
      quoted: { src: '203.0.113.10', dst: '172.16.29.6', protocol: 6, len: 1500, quotedLen: 548, sport: 40001, dport: 9001, seq: 1001 },
    });
    expect(layerJson({ proto: 'icmp', type: 3, code: 2, ...quoteOf(tunnelledSyn) })['quoted']).toEqual({
      src: '172.16.69.15', dst: '172.16.197.3', protocol: 4, len: 80, quotedLen: 80,
      inner: { src: '203.0.113.10', dst: '172.16.29.6', protocol: 6 }, sport: 40001, dport: 9001, seq: 1000,
    });
    // A 28-byte quote of an IPIP packet reaches only the outer header and 8 inner bytes.
    expect(layerJson({ proto: 'icmp', type: 11, code: 0, quoted: tunnelledSyn, quotedLen: 28 })['quoted'])
      .toEqual({ src: '172.16.69.15', dst: '172.16.197.3', protocol: 4, len: 80, quotedLen: 28 });
  });
});

describe('summarize (tcpdump -n)', () => {
  it('prints the tunnelled SYN as tcpdump prints IP-in-IP', () => {
    expect(summarize(tunnelledSyn)).toBe(
      'IP 172.16.69.15 > 172.16.197.3: IP 203.0.113.10.40001 > 172.16.29.6.9001: Flags [S], seq 1000, win 64240, length 0');
  });

  it('uses tcpdump flag letters in bit order and its seq/ack rules', () => {
    expect(tcpdumpFlags(TCP_SYN | TCP_ACK)).toBe('S.');
    expect(tcpdumpFlags(TCP_FIN | TCP_PSH | TCP_ACK)).toBe('FP.');
    expect(tcpdumpFlags(TCP_RST)).toBe('R');
    expect(tcpdumpFlags(0)).toBe('none');
    expect(summarize(ipv4(CLIENT, VIP, dataTcp))).toBe(
      'IP 203.0.113.10.40001 > 172.16.29.6.9001: Flags [P.], seq 1001:1019, ack 4275878552, win 502, length 18');
    const pureAck: Tcp = { ...dataTcp, flags: TCP_ACK, data: new Uint8Array(0) };
    expect(summarize(ipv4(CLIENT, VIP, pureAck))).toBe('IP 203.0.113.10.40001 > 172.16.29.6.9001: Flags [.], ack 4275878552, win 502, length 0');
  });

  it('adds IP header fields and TCP options when verbose', () => {
    expect(summarize(clientSyn, { verbose: true })).toBe(
      'IP (tos 0x0, ttl 63, id 4242, offset 0, flags [DF], proto TCP (6), length 60) ' +
      '203.0.113.10.40001 > 172.16.29.6.9001: Flags [S], seq 1000, win 64240, ' +
      'options [mss 1460,sackOK,TS val 123456 ecr 0,nop,wscale 7], length 0');
  });

  it('prints UDP and ICMP echo', () => {
    expect(summarize(ipv4(CLIENT, VIP, udp))).toBe('IP 203.0.113.10.40002 > 172.16.29.6.9001: UDP, length 18');
    expect(summarize(ipv4(CLIENT, VIP, echo))).toBe('IP 203.0.113.10 > 172.16.29.6: ICMP echo request, id 19542, seq 3, length 25');
  });

  it('prints ICMP errors by what they quote', () => {
    const protoUnreach = ipv4(RIP, DIP, { proto: 'icmp', type: 3, code: 2, ...quoteOf(tunnelledSyn) });
    expect(summarize(protoUnreach)).toBe('IP 172.16.197.3 > 172.16.69.15: ICMP 172.16.197.3 protocol 4 unreachable, length 88');
    const big = ipv4(CLIENT, VIP, { ...dataTcp, data: new Uint8Array(1448) });
    const fn = ipv4(DIP, CLIENT, { proto: 'icmp', type: 3, code: 4, mtu: 1480, ...quoteOf(big) });
    expect(summarize(fn)).toBe('IP 172.16.69.15 > 203.0.113.10: ICMP 172.16.29.6 unreachable - need to frag (mtu 1480), length 556');
    const portUnreach = ipv4(VIP, CLIENT, { proto: 'icmp', type: 3, code: 3, ...quoteOf(ipv4(CLIENT, VIP, udp)) });
    expect(summarize(portUnreach)).toBe('IP 172.16.29.6 > 203.0.113.10: ICMP 172.16.29.6 udp port 9001 unreachable, length 54');
    const ttl = ipv4(DIP, CLIENT, { proto: 'icmp', type: 11, code: 0, quoted: clientSyn, quotedLen: 28 });
    expect(summarize(ttl, { verbose: true })).toMatch(
      /ICMP time exceeded in-transit, length 36 \[quoted: IP 203\.0\.113\.10\.40001 > 172\.16\.29\.6\.9001: tcp\]$/);
    expect(summarize(protoUnreach, { verbose: true })).toMatch(
      /\[quoted: IP 172\.16\.69\.15 > 172\.16\.197\.3: IP 203\.0\.113\.10\.40001 > 172\.16\.29\.6\.9001: tcp\]$/);
  });

  it('prints ARP request and reply as tcpdump does', () => {
    expect(summarize(arpRequest)).toBe('ARP, Request who-has 172.16.69.1 tell 172.16.69.15, length 28');
    expect(summarize(arpReply)).toBe('ARP, Reply 172.16.69.1 is-at 02:00:00:00:45:01, length 28');
  });

  it('prefixes the link-level header as tcpdump -e', () => {
    expect(summarizeFrame(eth(arpRequest))).toBe(
      '02:00:00:00:45:0f > 02:00:00:00:45:01, ethertype ARP (0x0806), length 42: ARP, Request who-has 172.16.69.1 tell 172.16.69.15, length 28');
  });
});
