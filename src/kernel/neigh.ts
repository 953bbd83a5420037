/**
 * kernel/neigh.ts: the neighbour layer and ARP (net/core/neighbour.c, net/ipv4/arp.c).
 * Resolution: an INCOMPLETE entry queues packets and solicits every retrans_time (1 s) up
 * to mcast_solicit (3) times, then fails them. Which sender address a request carries is
 * arp_announce's choice (arp_solicit); whether a request is answered is arp_ignore's
 * (arp_ignore) and arp_filter's. Both use max(conf.all, conf.<dev>).
 */
import { type Ip4, type Mac, BROADCAST_MAC, ZERO_MAC, formatIp4, inPrefix, isLoopback, isMulticast, LIMITED_BROADCAST } from '../net/addr';
import { type Arp, type Ethernet, ETH_P_ARP, ETH_P_IP } from '../net/packet';
import type { Host, NeighEntry, NetDevice } from './host';
import type { Skb } from './skb';
import { devXmit, dropIcmp, logMartianSource, loopbackXmit } from './ip';
import { type DropReason, SILENT } from '../trace/record';
import { fibLookup, inetSelectAddr, ipRouteInput, ipRouteOutput, isSubnetBroadcast } from './route';
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
    // A panicked kernel retries nothing (its queued packets died with it: kernel/panic.ts).
    if (host.crashed) return;
    if (host.neighLookup(dev.name, n.ip) !== n || n.state !== 'INCOMPLETE' || n.probes !== probe) return;
    if (n.probes < ARP_MCAST_SOLICIT) { solicit(host, dev, n, pktSrc); return; }
    n.state = 'FAILED';
    const queued = n.queue.splice(0);
    for (const skb of queued) {
      // arp_error_report -> ipv4_link_failure: host unreachable to the packet's sender, this
      // host included (IPVS then relays one about its own tunnelled packet to the client).
      dropIcmp(host, skb, 'neigh', { code: 'arp_unresolved', nexthop: n.ip, dev: dev.name }, 3, 1);
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

/** The frame an ARP message arrived in: its destination says whether it was broadcast. */
export interface ArpFrameInfo {
  readonly broadcast: boolean;
}

type ArpRec = (verdict: 'consumed' | 'drop', note: string, reason?: DropReason) => void;

/**
 * arp_process (net/ipv4/arp.c) for a message received on `dev`, in the kernel's order:
 * a duplicate-address probe (sender 0.0.0.0) is answered for a local target; a request whose
 * input route (ip_route_input_noref with the sender as source) says the target is local is
 * answered unless arp_ignore or arp_filter say no, and nothing else is learned from it; every
 * other message only updates the sender's entry under neigh_update's rules (locktime: the
 * first of several replies wins), and creates one only with arp_accept.
 */
export function arpRcv(host: Host, dev: NetDevice, arp: Arp, id: number, frame: ArpFrameInfo = { broadcast: false }): void {
  const p = { id, pkt: arp };
  const rec: ArpRec = (verdict, note, reason) => {
    if (verdict === 'drop') host.emit.drop(p, 'arp', reason!, SILENT, note);
    else host.emit.end(p, 'arp', 'consumed', dev.name, note);
  };
  if (dev.noarp) { rec('consumed', 'device has NOARP'); return; }
  for (const l of arpListeners.get(host) ?? []) l(dev, arp);
  const sip = arp.spa, tip = arp.tpa;
  if (isMulticast(tip) || tip === LIMITED_BROADCAST || isLoopback(tip)) { rec('consumed', `who-has ${formatIp4(tip)}: not a unicast target`); return; }
  if (arp.op === 1 && sip === 0) {
    // RFC 2131 duplicate address detection: answered for a local target, subject to arp_ignore.
    const r = fibLookup(host, tip);
    if (r !== null && r.type === 'local' && !arpIgnore(host, dev, sip, tip).ignore) {
      rec('consumed', `who-has ${formatIp4(tip)} tell 0.0.0.0 (duplicate address probe): replying ${dev.mac}`);
      arpReply(host, dev, arp, id);
    } else rec('consumed', `who-has ${formatIp4(tip)} tell 0.0.0.0 (duplicate address probe): not ours`);
    return;
  }
  if (arp.op === 1) {
    const route = ipRouteInput(host, sip, tip, dev);
    if (route.kind === 'drop' && (route.reason.code === 'martian_source' || route.reason.code === 'rp_filter')) {
      logMartianSource(host, dev, tip, sip, arpFrameHeader(dev, arp, frame));
    }
    if (route.kind === 'local') {
      const ig = arpIgnore(host, dev, sip, tip);
      if (ig.ignore) {
        rec('drop', `who-has ${formatIp4(tip)} tell ${formatIp4(sip)}: not answered`, { code: 'arp_ignored', why: 'arp_ignore', tpa: tip, dev: dev.name, mode: ig.mode });
        return;
      }
      if (host.sysctl.confOr(dev.name, 'arp_filter')) {
        const back = fibLookup(host, sip);
        if (!back || back.dev !== dev.name) {
          host.count('TcpExtArpFilter');
          rec('drop', `arp_filter: reply to ${formatIp4(sip)} would not leave via ${dev.name}`, { code: 'arp_ignored', why: 'arp_filter', tpa: tip, dev: dev.name });
          return;
        }
      }
      // neigh_event_ns: the asker's entry is created or overridden (STALE), then we reply.
      let n = host.neighLookupDev(dev, sip);
      if (!n) {
        n = newEntry(host, dev, sip);
      }
      neighUpdate(host, dev, n, arp.sha, 'STALE', true);
      rec('consumed', `who-has ${formatIp4(tip)} tell ${formatIp4(sip)}: replying ${dev.mac}; entry ${formatIp4(sip)} -> ${n.mac} ${n.state}`);
      arpReply(host, dev, arp, id);
      flushQueue(host, dev, n);
      return;
    }
    if (route.kind === 'drop' && route.reason.code !== 'forwarding_disabled' && route.reason.code !== 'no_route') {
      // The sender is refused as a source (a martian: an address this host has itself, such as a
      // director asking from the VIP a real server holds on lo or tunl0; or rp_filter). The kernel
      // falls through to the table update, which finds no entry for one of its own addresses.
      const r = fibLookup(host, tip);
      if (r !== null && r.type === 'local') {
        const reason: DropReason = route.reason.code === 'martian_source' && route.reason.why === 'local' ? { code: 'arp_sender_local', spa: sip, tpa: tip, dev: dev.name } : route.reason;
        rec('drop', `who-has ${formatIp4(tip)} tell ${formatIp4(sip)}: sender refused by the input route check`, reason);
        return;
      }
    }
  }
  arpUpdateTables(host, dev, arp, frame, rec);
}

/** The "Update our ARP tables" half of arp_process. */
function arpUpdateTables(host: Host, dev: NetDevice, arp: Arp, frame: ArpFrameInfo, rec: ArpRec): void {
  const sip = arp.spa, tip = arp.tpa;
  const what = arp.op === 1 ? `who-has ${formatIp4(tip)} tell ${formatIp4(sip)}` : `${formatIp4(sip)} is-at ${arp.sha}`;
  let n = host.neighLookupDev(dev, sip);
  const accept = arpAccept(host, dev, sip);
  const garp = (n !== undefined || accept) && isGarp(host, dev, arp);
  if (!n && accept && sip !== 0 && (garp || (arp.op === 2 && unicastOn(host, dev, sip)))) n = newEntry(host, dev, sip);
  if (!n) {
    rec('consumed', arp.op === 2 ? `${what}: no entry for ${formatIp4(sip)} and arp_accept=${host.sysctl.confMax(dev.name, 'arp_accept')}: not learned` : `${what}: not for us`);
    return;
  }
  // If several different replies follow back to back, use the first (arp_process): a change
  // of address is taken only once locktime has passed since the entry last changed, or from a
  // gratuitous ARP.
  const locktimeNs = host.sysctl.neigh(dev.name, 'locktime') * 10_000_000;
  const override = host.engine.now > n.updated + locktimeNs || garp;
  // Broadcast replies and requests do not assert reachability.
  const state = arp.op !== 2 || frame.broadcast ? 'STALE' : 'REACHABLE';
  const before = n.mac;
  const changed = neighUpdate(host, dev, n, arp.sha, state, override);
  const held = before && before !== arp.sha && !changed;
  rec('consumed', `${what}${garp ? ' (gratuitous)' : ''}: ${held
    ? `entry keeps ${before} (changed ${fmtMs(host.engine.now - n.updated)} ago, within locktime ${locktimeNs / 1e6} ms: the first answer wins)`
    : `entry ${formatIp4(sip)} -> ${n.mac} ${n.state}`}`);
  flushQueue(host, dev, n);
}

function fmtMs(ns: number): string {
  return `${(ns / 1e6).toFixed(1)} ms`;
}

function newEntry(host: Host, dev: NetDevice, ip: Ip4): NeighEntry {
  const n: NeighEntry = { ip, dev: dev.name, mac: null, state: 'NONE' as NeighEntry['state'], probes: 0, queue: [], updated: host.engine.now };
  host.neigh.set(host.neighKey(dev.name, ip), n);
  return n;
}

/** arp_accept (include/linux/inetdevice.h, max of all and dev): 1 learns any sender, 2 only senders in a subnet of dev. */
function arpAccept(host: Host, dev: NetDevice, sip: Ip4): boolean {
  switch (host.sysctl.confMax(dev.name, 'arp_accept')) {
    case 0: return false;
    case 1: return true;
    case 2: return dev.addrs.some(a => inPrefix(sip, a.addr, a.prefixLen));
    default: return false;
  }
}

/** arp_is_garp: sender and target the same unicast address (and for a reply, tha = sha). */
function isGarp(host: Host, dev: NetDevice, arp: Arp): boolean {
  if (arp.spa !== arp.tpa) return false;
  if (arp.op === 2 && arp.tha !== arp.sha) return false;
  return unicastOn(host, dev, arp.spa);
}

/** inet_addr_type_dev_table(dev, ip) == RTN_UNICAST. */
function unicastOn(host: Host, _dev: NetDevice, ip: Ip4): boolean {
  if (ip === 0 || isMulticast(ip) || ip === LIMITED_BROADCAST || isSubnetBroadcast(host, ip)) return false;
  const r = fibLookup(host, ip);
  return r === null || r.type === 'unicast';
}

function arpReply(host: Host, dev: NetDevice, arp: Arp, id: number): void {
  const reply: Arp = { proto: 'arp', op: 2, sha: dev.mac, spa: arp.tpa, tha: arp.sha, tpa: arp.spa };
  const rid = host.ids.next();
  host.emit.pass({ id: rid, pkt: reply, cause: id }, 'arp', 'send', dev.name);
  devXmit(host, dev, { proto: 'eth', src: dev.mac, dst: arp.sha, ethertype: ETH_P_ARP, payload: reply }, { id: rid, pkt: reply as never, dev: null, cause: id });
}

/** The link-layer header ip_handle_martian_source dumps: dst, src, ethertype. */
function arpFrameHeader(dev: NetDevice, arp: Arp, frame: ArpFrameInfo): string {
  const hex = (m: string) => m.split(':').join(' ');
  return `${hex(frame.broadcast ? BROADCAST_MAC : dev.mac)} ${hex(arp.sha)} 08 06`;
}

/**
 * neigh_update (net/core/neighbour.c) from ARP (not administrative): PERMANENT and NOARP
 * entries never change; a valid entry keeps its address unless `override`, and keeps its state
 * when told STALE about the address it has. `updated` moves only on a real change. Packets
 * waiting for resolution leave once the entry has an address. Returns whether it changed.
 */
function neighUpdate(host: Host, dev: NetDevice, n: NeighEntry, mac: Mac, state: 'STALE' | 'REACHABLE', override: boolean): boolean {
  const old = n.state;
  if (old === 'PERMANENT' || old === 'NOARP') return false;
  const valid = old === 'REACHABLE' || old === 'STALE' || old === 'DELAY' || old === 'PROBE';
  let next: NeighEntry['state'] = state;
  if (valid) {
    if (n.mac !== mac && !override) return false;
    if (n.mac === mac && state === 'STALE') next = old;
  }
  const changed = next !== old || n.mac !== mac;
  if (changed) n.updated = host.engine.now;
  n.mac = mac;
  n.state = next;
  return changed;
}

/** The packets that waited for resolution leave now that the entry has an address. */
function flushQueue(host: Host, dev: NetDevice, n: NeighEntry): void {
  if (!n.queue.length || !n.mac) return;
  const q = n.queue.splice(0);
  for (const skb of q) sendFrame(host, dev, n.mac, skb);
}

// --- arping (iputils) --------------------------------------------------------------

/** What an arping run saw: the MAC in each reply, in arrival order. */
export interface ArpingResult {
  sent: number;
  broadcasts?: number;
  replies: Array<Mac | null>;
  lines?: string[];
  error?: string;
}

export interface ArpingOptions {
  readonly dev: string;
  readonly target: Ip4;
  /** -c: probes to send (0: until the deadline). */
  readonly count: number;
  /** -w: seconds before arping exits whatever it received. */
  readonly deadlineS?: number;
  /** -U: unsolicited (gratuitous) requests; -A: gratuitous replies. No answers expected. */
  readonly unsolicited?: 'U' | 'A';
  /** -s: source address (default: what a UDP connect() to the target would pick). */
  readonly src?: Ip4;
  /** -b: keep broadcasting (by default arping unicasts to the last replier once answered). */
  readonly broadcastOnly?: boolean;
  /** -f: exit at the first reply. */
  readonly stopAtReply?: boolean;
  /** -c with -w: exit once `count` replies came (or at the deadline), not after `count` probes. */
  readonly waitReplies?: boolean;
}

type ArpListener = (dev: NetDevice, arp: Arp) => void;
const arpListeners = new WeakMap<Host, Set<ArpListener>>();

/**
 * iputils arping on `host`: a request for `target` out of `dev` every second, through a packet
 * socket (the kernel's own ARP table is not asked and learns only what arp_process lets it).
 * After the first reply it unicasts to the last replier's MAC unless -b. -U and -A send
 * gratuitous ARP (sender and target both `target`) and expect no answer. `done` is called when
 * it exits. Returns an error message (arping's words) or null.
 */
export function arping(host: Host, o: ArpingOptions, done: (r: ArpingResult) => void): string | null {
  const dev = host.devices.get(o.dev);
  if (!dev) return `arping: Device ${o.dev} not available.`;
  if (!dev.up) return `arping: Interface "${o.dev}" is down`;
  if (dev.noarp) return `arping: Interface "${o.dev}" is not ARPable`;
  const src = o.unsolicited ? o.target : o.src ?? (ipRouteOutput(host, o.target)?.src ?? inetSelectAddr(host, dev, o.target));
  if (src === null || src === undefined) return `arping: no source address in not-DAD mode`;
  const res: ArpingResult = { sent: 0, broadcasts: 0, replies: [], lines: [] };
  let dst: Mac = BROADCAST_MAC;
  const t0 = host.engine.now;
  let lastSent = t0;
  const listeners = arpListeners.get(host) ?? new Set<ArpListener>();
  arpListeners.set(host, listeners);
  const listener: ArpListener = (d, a) => {
    if (d !== dev || o.unsolicited) return;
    // recv_pack: an answer from the target to us (a reply, or a request from the target in -A mode).
    if (a.op !== 2 || a.spa !== o.target || a.tpa !== src) return;
    res.replies.push(a.sha);
    res.lines!.push(`Unicast reply from ${formatIp4(a.spa)} [${a.sha.toUpperCase()}]  ${((host.engine.now - lastSent) / 1e6).toFixed(3)}ms`);
    if (!o.broadcastOnly) dst = a.sha;
    if (o.stopAtReply || (o.waitReplies && res.replies.length >= o.count)) stop();
  };
  listeners.add(listener);
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    listeners.delete(listener);
    done(res);
  };
  // An exit on a reply happens at once (the process leaves its receive loop).
  const stop = () => { host.engine.after(0, finish); };
  const deadlineNs = o.deadlineS !== undefined ? o.deadlineS * 1e9 : Infinity;
  const send = () => {
    if (finished) return;
    const now = host.engine.now;
    if (now - t0 >= deadlineNs || (!o.waitReplies && o.count > 0 && res.sent >= o.count)) { finish(); return; }
    const op = o.unsolicited === 'A' ? 2 : 1;
    const tha = o.unsolicited === 'A' ? dev.mac : dst === BROADCAST_MAC ? BROADCAST_MAC : dst;
    const arp: Arp = { proto: 'arp', op, sha: dev.mac, spa: src, tha: tha === BROADCAST_MAC ? ZERO_MAC : tha, tpa: o.target };
    const skb = { id: host.ids.next(), pkt: arp as never, dev: null } as Skb;
    host.emit.pass(skb, 'arp', 'send', dev.name, `arping: ${op === 1 ? `who-has ${formatIp4(o.target)} tell ${formatIp4(src)}` : `${formatIp4(src)} is-at ${dev.mac}`}${o.unsolicited ? ' (gratuitous)' : ''}`);
    res.sent++;
    if (dst === BROADCAST_MAC) res.broadcasts!++;
    lastSent = now;
    devXmit(host, dev, { proto: 'eth', src: dev.mac, dst, ethertype: ETH_P_ARP, payload: arp }, skb);
    host.engine.after(ARP_RETRANS_NS, send);
  };
  send();
  return null;
}
