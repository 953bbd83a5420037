/**
 * world/findings.ts: what went wrong across hosts, read from the trace after a run, where no
 * single drop tells it. Today one finding: the director bypassed. A host on the VIP's LAN (the
 * router) sends client packets for the VIP straight to a real server's MAC because its
 * neighbour entry for the VIP holds that MAC: the real server answered ARP for the VIP
 * (arp_ignore=0 answers for any local address, net/ipv4/arp.c arp_ignore) or announced it as
 * the sender of its own ARP requests (arp_announce=0, arp_solicit). IPVS never sees those
 * connections; the real server serves them directly.
 */
import { type Ip4, type Mac, formatIp4 } from '../net/addr';
import { IPPROTO_TCP } from '../net/packet';
import type { TraceRecord } from '../trace/record';
import type { World } from './world';

export interface BypassFinding {
  readonly code: 'director_bypassed';
  /** The host that sent the packets to the wrong MAC (the router), and its device. */
  readonly host: string;
  readonly dev: string;
  readonly vip: Ip4;
  readonly mac: Mac;
  /** The real server that owns the MAC, and its device. */
  readonly owner: string;
  readonly ownerDev: string;
  /** Client packets for the VIP sent to it, and the first one (trace position). */
  readonly packets: number;
  readonly firstSeq: number;
  /** The ARP message that put the MAC in the entry: a reply to a who-has, or a request announcing the VIP. */
  readonly setBy: { readonly seq: number; readonly t: number; readonly op: 'reply' | 'request' } | null;
  /** The owner's effective arp_ignore and arp_announce on that device, and where it holds the VIP. */
  readonly arpIgnore: number;
  readonly arpAnnounce: number;
  readonly vipDev: string | null;
  readonly directors: readonly string[];
  readonly message: string;
  readonly fix: string;
}

/** A finding read from a run's trace (the doctor's findings, world/doctor.ts, are read from the configuration). */
export type RunFinding = BypassFinding;

/** The findings of a finished run. */
export function findings(world: World, records: readonly TraceRecord[] = world.records): RunFinding[] {
  const ctx = world.stepContext();
  if (!ctx.vips.size) return [];
  const macOwner = new Map<Mac, { host: string; dev: string }>();
  for (const wh of world.hosts.values()) for (const d of wh.host.devices.values()) if (d.kind === 'ether') macOwner.set(d.mac, { host: wh.name, dev: d.name });
  const found = new Map<string, { f: Omit<BypassFinding, 'message' | 'fix' | 'setBy' | 'arpIgnore' | 'arpAnnounce' | 'vipDev' | 'directors'>; packets: number }>();
  for (const r of records) {
    if (r.verdict !== 'tx' || !r.frame || ctx.directors.has(r.host)) continue;
    const p = r.packet.pkt;
    if (p.proto !== 'ipv4' || p.protocol !== IPPROTO_TCP || !ctx.vips.has(p.dst)) continue;
    const owner = macOwner.get(r.frame.dst);
    if (!owner || !ctx.realServers.has(owner.host) || ctx.directors.has(owner.host) || owner.host === r.host) continue;
    const key = `${r.host} ${r.dev} ${p.dst} ${r.frame.dst}`;
    const e = found.get(key);
    if (e) e.packets++;
    else found.set(key, { f: { code: 'director_bypassed', host: r.host, dev: r.dev ?? r.point, vip: p.dst, mac: r.frame.dst, owner: owner.host, ownerDev: owner.dev, packets: 0, firstSeq: r.seq }, packets: 1 });
  }
  const out: RunFinding[] = [];
  for (const { f, packets } of found.values()) {
    const setBy = whoSet(records, f.host, f.dev, f.vip, f.mac, f.firstSeq);
    const oh = world.hosts.get(f.owner)!.host;
    const arpIgnore = oh.sysctl.confMax(f.ownerDev, 'arp_ignore');
    const arpAnnounce = oh.sysctl.confMax(f.ownerDev, 'arp_announce');
    const vipDev = oh.devOfAddr(f.vip)?.name ?? null;
    const vip = formatIp4(f.vip);
    const directors = [...ctx.directors];
    const how = setBy === null
      ? 'an ARP message from it'
      : setBy.op === 'reply'
        ? `${f.owner}'s ARP reply "${vip} is-at ${f.mac}" (trace #${setBy.seq}, ${(setBy.t / 1e9).toFixed(6)} s)`
        : `${f.owner}'s ARP request announcing ${vip} as its sender (trace #${setBy.seq}, ${(setBy.t / 1e9).toFixed(6)} s)`;
    const why = setBy?.op === 'request'
      ? `${f.owner} puts ${vip} (on ${vipDev ?? 'one of its devices'}) as the sender of its own ARP requests on ${f.ownerDev} because arp_announce=${arpAnnounce}`
      : `${f.owner} answers ARP for ${vip} on ${f.ownerDev} although the address is on ${vipDev ?? 'another device'}, because arp_ignore=${arpIgnore} (any local address is answered)`
        + (arpAnnounce === 0 || arpAnnounce > 2 ? `, and with arp_announce=${arpAnnounce} its own ARP requests carry ${vip} as their sender too` : '');
    out.push({
      ...f, packets, setBy, arpIgnore, arpAnnounce, vipDev, directors,
      message: `Director bypassed: ${f.host} sent ${packets} client packet(s) for the VIP ${vip} on ${f.dev} straight to ${f.owner} ${f.ownerDev} (${f.mac}), `
        + `because its neighbour entry for ${vip} holds ${f.owner}'s MAC, set by ${how}. ${why}. these packets never reached IPVS on ${directors.join(', ')}: ${f.owner} served the connections directly.`,
      fix: `On ${f.owner}: sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.${f.ownerDev}.arp_ignore=1 net.ipv4.conf.${f.ownerDev}.arp_announce=2 (answer ARP only for addresses on the receiving device, announce ${f.ownerDev}'s own address); then flush the stale entry on ${f.host}: ip neigh del ${vip} dev ${f.dev}`,
    });
  }
  return out;
}

/**
 * The ARP message on host/dev before `before` that put vip -> mac in the entry: the earliest
 * one carrying that MAC since the entry last held another.
 */
function whoSet(records: readonly TraceRecord[], host: string, dev: string, vip: Ip4, mac: Mac, before: number): BypassFinding['setBy'] {
  let setBy: BypassFinding['setBy'] = null;
  for (let i = before - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.host !== host || r.point !== 'arp' || r.verdict !== 'consumed' || r.dev !== dev) continue;
    const a = r.packet.pkt;
    if (a.proto !== 'arp' || a.spa !== vip || !r.note || !/entry \S+ -> /.test(r.note)) continue;
    if (a.sha !== mac) break;
    setBy = { seq: r.seq, t: r.t, op: a.op === 2 ? 'reply' : 'request' };
  }
  return setBy;
}
