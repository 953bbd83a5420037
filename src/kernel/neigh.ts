/**
 * kernel/neigh.ts: the neighbour layer and ARP (net/core/neighbour.c, net/ipv4/arp.c).
 * Resolution: an INCOMPLETE entry queues packets and solicits every retrans_time (1 s) up
 * to mcast_solicit (3) times, then fails them. Which sender address a request carries is
 * arp_announce's choice (arp_solicit); whether a request is answered is arp_ignore's
 * (arp_ignore) and arp_filter's. Both use max(conf.all, conf.<dev>).
 */
import { type Ip4, type Mac, BROADCAST_MAC, ZERO_MAC, formatIp4, inPrefix, isMulticast } from '../net/addr';
import { type Arp, type Ethernet, ETH_P_ARP, ETH_P_IP } from '../net/packet';
import type { Host, NeighEntry, NetDevice } from './host';
import type { Skb } from './skb';
import { devXmit, dropIcmp, loopbackXmit } from './ip';
import { type DropReason, SILENT } from '../trace/record';
import { fibLookup, inetSelectAddr, ipRouteInput } from './route';
import { ipipXmit } from './ipip';
import { mcMac } from './mcast';

export const ARP_RETRANS_NS = 1_000_000_000;
export const ARP_MCAST_SOLICIT = 3;
/**
 * Packets held per unresolved neighbour: unres_qlen's default, 101 (unres_qlen_bytes = 212992
 * over the truesize of a full Ethernet frame); beyond it the oldest is dropped.
 */
export const UNRES_QLEN = 101;

const noteQueued = (nexthop: Ip4, dev: string): string => `waiting for ARP: who-has ${formatIp4(nexthop)} on ${dev}`;
const noteSolicit = (target: Ip4, spa: Ip4, mode: number): string => `who-has ${formatIp4(target)} tell ${formatIp4(spa)} (arp_announce=${mode})`;

/** neigh_output: send now if the neighbour is known, else queue and resolve. */
export function neighOutput(host: Host, skb: Skb, dev: NetDevice, nexthop: Ip4): void {
  if (dev.kind === 'loopback') { loopbackXmit(host, skb); return; }
  if (dev.kind === 'ipip') { ipipXmit(host, skb, dev); return; }
  // arp_mc_map: a multicast next hop has its MAC by mapping, never by ARP.
  if (isMulticast(nexthop)) { sendFrame(host, dev, mcMac(nexthop), skb); return; }
  let n = host.neighLookupDev(dev, nexthop);
  if (n && n.mac && (n.state === 'REACHABLE' || n.state === 'PERMANENT' || n.state === 'STALE' || n.state === 'DELAY' || n.state === 'PROBE' || n.state === 'NOARP')) {
    sendFrame(host, dev, n.mac, skb);
    return;
  }
  if (!n) {
    n = { ip: nexthop, dev: dev.name, mac: null, state: 'INCOMPLETE', probes: 0, queue: [], updated: host.engine.now };
    host.neigh.set(host.neighKey(dev.name, nexthop), n);
  }
  host.emit.pass(skb, 'neigh', 'queued', dev.name, noteQueued, nexthop, dev.name);
  while (n.queue.length >= UNRES_QLEN) {
    host.emit.drop(n.queue.shift()!, 'neigh', { code: 'neigh_queue_full', nexthop, dev: dev.name, qlen: n.queue.length + 1 });
  }
  // Queued as the packet alone (the kernel's skb keeps no input device or cause here).
  n.queue.push({ id: skb.id, pkt: skb.pkt, dev: null, ipvsProperty: skb.ipvsProperty });
  if (n.state !== 'INCOMPLETE' || n.probes === 0) {
    // A FAILED entry starts over on new traffic (__neigh_event_send).
    n.state = 'INCOMPLETE';
    n.probes = 0;
    solicit(host, dev, n, skb.pkt.src);
  }
}

function sendFrame(host: Host, dev: NetDevice, mac: Mac, skb: Skb): void {
  const frame: Ethernet = { proto: 'eth', src: dev.mac, dst: mac, ethertype: ETH_P_IP, payload: skb.pkt };
  devXmit(host, dev, frame, skb);
}

/** One solicitation, and the retransmit timer that fails the entry after mcast_solicit tries. */
function solicit(host: Host, dev: NetDevice, n: NeighEntry, pktSrc: Ip4): void {
  n.probes++;
  arpSolicit(host, dev, n.ip, pktSrc);
  const probe = n.probes;
  host.engine.after(ARP_RETRANS_NS, () => {
    if (host.neighLookup(dev.name, n.ip) !== n || n.state !== 'INCOMPLETE' || n.probes !== probe) return;
    if (n.probes < ARP_MCAST_SOLICIT) { solicit(host, dev, n, pktSrc); return; }
    n.state = 'FAILED';
    const queued = n.queue.splice(0);
    for (const skb of queued) {
      // ipv4_link_failure: host unreachable back to the sender of a forwarded packet.
      const reason = { code: 'arp_unresolved', nexthop: n.ip, dev: dev.name } as const;
      if (!host.isLocal(skb.pkt.src)) dropIcmp(host, skb, 'neigh', reason, 3, 1);
      else host.emit.drop(skb, 'neigh', reason);
    }
  });
}

/** arp_solicit (net/ipv4/arp.c): the sender IP by arp_announce. */
export function arpSourceFor(host: Host, dev: NetDevice, target: Ip4, pktSrc: Ip4): Ip4 {
  const mode = host.sysctl.confMax(dev.name, 'arp_announce');
  const local = pktSrc !== 0 && host.isLocal(pktSrc);
  if (mode === 1 && local && dev.addrs.some(a => inPrefix(pktSrc, a.addr, a.prefixLen) && inPrefix(target, a.addr, a.prefixLen))) return pktSrc;
  if (mode === 1 || mode === 2) return inetSelectAddr(host, dev, target) ?? 0;
  // 0 and anything above 2: any local source address will do.
  if (local) return pktSrc;
  return inetSelectAddr(host, dev, target) ?? 0;
}

function arpSolicit(host: Host, dev: NetDevice, target: Ip4, pktSrc: Ip4): void {
  const spa = arpSourceFor(host, dev, target, pktSrc);
  const arp: Arp = { proto: 'arp', op: 1, sha: dev.mac, spa, tha: ZERO_MAC, tpa: target };
  const skb = { id: host.ids.next(), pkt: arp as never, dev: null } as Skb;
  const mode = host.sysctl.confMax(dev.name, 'arp_announce');
  host.emit.pass(skb, 'arp', 'send', dev.name, noteSolicit, target, spa, mode);
  const frame: Ethernet = { proto: 'eth', src: dev.mac, dst: BROADCAST_MAC, ethertype: ETH_P_ARP, payload: arp };
  devXmit(host, dev, frame, skb);
}

/** arp_ignore (net/ipv4/arp.c): true when the request must not be answered. */
export function arpIgnore(host: Host, dev: NetDevice, sip: Ip4, tip: Ip4): { ignore: boolean; mode: number } {
  const mode = host.sysctl.confMax(dev.name, 'arp_ignore');
  const onDev = dev.addrs.find(a => a.addr === tip);
  switch (mode) {
    case 1: return { ignore: !onDev, mode };
    case 2: return { ignore: !onDev || !inPrefix(sip, onDev.addr, onDev.prefixLen), mode };
    case 3: {
      const owner = host.devOfAddr(tip);
      const a = owner?.addrs.find(x => x.addr === tip);
      return { ignore: !a || a.scope === 'host', mode };
    }
    case 8: return { ignore: true, mode };
    default: return { ignore: false, mode };
  }
}

/** arp_process for a frame received on `dev`. */
export function arpRcv(host: Host, dev: NetDevice, arp: Arp, id: number): void {
  const pkt = arp;
  const p = { id, pkt };
  const rec = (verdict: 'consumed' | 'drop', note: string, reason?: DropReason): void => {
    if (verdict === 'drop') host.emit.drop(p, 'arp', reason!, SILENT, note);
    else host.emit.end(p, 'arp', 'consumed', dev.name, note);
  };
  if (dev.noarp) { rec('consumed', 'device has NOARP'); return; }
  const existing = host.neighLookup(dev.name, arp.spa);
  if (arp.op === 1) {
    const r = fibLookup(host, arp.tpa);
    const forUs = r !== null && r.type === 'local';
    if (!forUs) {
      // Not ours: only refresh an entry we already have for the sender.
      if (existing && arp.spa !== 0) updateNeigh(host, dev, existing, arp.sha, 'STALE');
      rec('consumed', `who-has ${formatIp4(arp.tpa)}: not a local address`);
      return;
    }
    // arp_process answers only when ip_route_input_noref(tip, sip, dev) accepts the sender as a
    // source: a sender address this host has itself (a director asking from the VIP that a DR
    // real server holds on lo) is a martian source, and rp_filter applies.
    if (arp.spa !== 0) {
      const v = ipRouteInput(host, arp.spa, arp.tpa, dev);
      if (v.kind === 'drop') {
        const reason = v.reason.code === 'martian_source' && v.reason.why === 'local' ? { code: 'arp_sender_local' as const, spa: arp.spa, tpa: arp.tpa, dev: dev.name } : v.reason;
        rec('drop', `who-has ${formatIp4(arp.tpa)} tell ${formatIp4(arp.spa)}: sender refused by the input route check`, reason);
        return;
      }
    }
    const ig = arpIgnore(host, dev, arp.spa, arp.tpa);
    if (ig.ignore) {
      if (existing && arp.spa !== 0) updateNeigh(host, dev, existing, arp.sha, 'STALE');
      rec('drop', `who-has ${formatIp4(arp.tpa)} tell ${formatIp4(arp.spa)}: not answered`, { code: 'arp_ignored', why: 'arp_ignore', tpa: arp.tpa, dev: dev.name, mode: ig.mode });
      return;
    }
    if (host.sysctl.confOr(dev.name, 'arp_filter')) {
      const back = fibLookup(host, arp.spa);
      if (!back || back.dev !== dev.name) {
        host.count('TcpExtArpFilter');
        rec('drop', `arp_filter: reply to ${formatIp4(arp.spa)} would not leave via ${dev.name}`, { code: 'arp_ignored', why: 'arp_filter', tpa: arp.tpa, dev: dev.name });
        return;
      }
    }
    // The request creates or refreshes the sender's entry (neigh_event_ns), then we reply.
    if (arp.spa !== 0) {
      if (existing) updateNeigh(host, dev, existing, arp.sha, 'STALE');
      else host.neigh.set(host.neighKey(dev.name, arp.spa), { ip: arp.spa, dev: dev.name, mac: arp.sha, state: 'STALE', probes: 0, queue: [], updated: host.engine.now });
    }
    rec('consumed', `who-has ${formatIp4(arp.tpa)} tell ${formatIp4(arp.spa)}: replying ${dev.mac}`);
    const reply: Arp = { proto: 'arp', op: 2, sha: dev.mac, spa: arp.tpa, tha: arp.sha, tpa: arp.spa };
    const rid = host.ids.next();
    host.emit.pass({ id: rid, pkt: reply, cause: id }, 'arp', 'send', dev.name);
    devXmit(host, dev, { proto: 'eth', src: dev.mac, dst: arp.sha, ethertype: ETH_P_ARP, payload: reply }, { id: rid, pkt: reply as never, dev: null, cause: id });
    return;
  }
  // Reply: complete a pending resolution (or refresh a known entry).
  if (existing) {
    updateNeigh(host, dev, existing, arp.sha, 'REACHABLE');
    rec('consumed', `${formatIp4(arp.spa)} is-at ${arp.sha}`);
  } else {
    rec('consumed', `unsolicited reply from ${formatIp4(arp.spa)} ignored (arp_accept=0)`);
  }
}

function updateNeigh(host: Host, dev: NetDevice, n: NeighEntry, mac: Mac, state: 'STALE' | 'REACHABLE'): void {
  if (n.state === 'PERMANENT') return;
  const wasIncomplete = n.state === 'INCOMPLETE' || n.state === 'FAILED';
  n.mac = mac;
  n.state = wasIncomplete || state === 'REACHABLE' ? 'REACHABLE' : (n.mac === mac ? n.state : 'STALE');
  n.updated = host.engine.now;
  if (n.queue.length) {
    const q = n.queue.splice(0);
    for (const skb of q) sendFrame(host, dev, mac, skb);
  }
}
