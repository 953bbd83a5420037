/**
 * world/doctor.ts: `lvsim doctor`. Reads every host's state after its setup lines and files,
 * the way the kernel will act on it, and says what will break before a packet moves.
 *
 * It does not guess from the text: it asks the same kernel functions the packet path uses
 * (ip_route_input_slow, fib_validate_source, ip_route_output_key, arp_ignore) about the
 * packets the scenario's connections will send, hop by hop over the scenario's links, and
 * names each failure after the check that will stop it. A run then confirms each finding by
 * the drop that proves it (confirmFindings).
 */
import { formatIp4, inPrefix, type Ip4 } from '../net/addr';
import type { Host, NetDevice, Route } from '../kernel/host';
import { ipRouteInput, ipRouteOutputAnySrc } from '../kernel/route';
import { arpIgnore, arpSourceFor } from '../kernel/neigh';
import { ipTunnelLookup } from '../kernel/ipip';
import type { DropReason, TraceRecord } from '../trace/record';
import { explainDrop } from '../trace/explain';
import type { Dest, Service } from '../ipvs/types';
import { parseScenario, type HostSpec, type Scenario } from '../config/scenario';
import { parseKeepalivedConf, type KaConfig } from '../config/keepalived';
import type { Diagnostic } from '../config/diag';
import { buildWorld, type World, type WorldHost } from './world';
import { xtDryRun } from '../kernel/xtables';
import { syncDaemons, type SyncDaemonConf } from '../ipvs/sync';
import { noteUnboundEntry } from '../ipvs/core';
import { tunnelPmtuDisc } from '../ipvs/xmit';
import { type Ipv4, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, TCP_ACK, TCP_SYN } from '../net/packet';

export type Severity = 'error' | 'warn' | 'info';

export type FindingCode =
  | 'director_vip_missing'
  | 'director_rp_filter_asymmetric'
  | 'director_no_route_to_rs'
  | 'path_to_vip_broken'
  | 'path_to_rs_broken'
  | 'rs_answers_arp_for_vip'
  | 'ipip_unavailable'
  | 'tunl0_down'
  | 'tunnel_down'
  | 'rp_filter_strict_on_decap'
  | 'vip_missing_on_rs'
  | 'vip_not_host_route'
  | 'no_listener_on_vip'
  | 'port_mapping_ignored'
  | 'rs_gateway_is_director'
  | 'reply_no_route'
  | 'reply_dropped_by_antispoof'
  | 'reply_path_broken'
  | 'fwd_method_needs_l2'
  | 'nat_reply_bypasses_director'
  | 'nat_director_not_forwarding'
  | 'tunnel_mtu_no_headroom'
  | 'persistence_pins_drained_server'
  | 'ttl_exhausted'
  | 'rs_not_in_scenario'
  | 'firewall_drops'
  | 'health_check_blind_to_vip'
  | 'ipip_blocked'
  | 'pmtu_blackhole'
  | 'sync_backup_lacks_real_server'
  | 'sync_backup_fwd_method_differs'
  | 'udp_service_not_checked'
  | 'vrrp_peers_disagree';

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  /** The host whose configuration causes it. */
  readonly host: string;
  /** The line that causes it, or for something missing, the place it belongs. */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The kernel check it trips: function and knob. */
  readonly check: string;
  readonly message: string;
  /** The exact command(s) that fix it. */
  readonly fix: string;
  /**
   * The packet in a run that proves it: on this host, a drop with one of these reasons, or an
   * IPVS hit whose note starts with one of `hits` (a packet that goes on, on a wrong path).
   */
  readonly proof: { readonly host: string; readonly drops: readonly DropReason['code'][]; readonly hits?: readonly string[] } | null;
}

/**
 * A connection the scenario will make: from a client address to a virtual service, on the port
 * it connects to (the service's port, or for an all-ports service (vport 0) the connect's own).
 */
interface Flow { readonly client: WorldHost; readonly cip: Ip4; readonly dport: number }

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warn: 1, info: 2 };

/**
 * Diagnose a scenario whose world has been built (setup lines applied, nothing sent yet).
 * `text` is the scenario's source, for columns inside files: blocks.
 */
export function diagnose(sc: Scenario, world: World, text = ''): Finding[] {
  const d = new Doctor(sc, world, text.split('\n'));
  d.run();
  return d.sorted();
}

class Doctor {
  private readonly findings: Finding[] = [];
  /** Index in `findings` of each (code, host, line). */
  private readonly seen = new Map<string, number>();

  constructor(private readonly sc: Scenario, private readonly world: World, private readonly src: readonly string[]) {}

  run(): void {
    for (const dir of this.world.hosts.values()) {
      for (const svc of dir.ipvs.services) this.service(dir, svc);
    }
    for (const dir of this.world.hosts.values()) this.keepalivedChecks(dir);
    this.vrrpPeers();
    this.syncPools();
  }

  /**
   * The sync daemon's backup (net/netfilter/ipvs/ip_vs_sync.c ip_vs_proc_conn) binds each synced
   * connection to the real server ip_vs_find_dest finds: the same service, the same address and
   * port (the forwarding method is not compared for a service that is not a fwmark). A real
   * server of the master's pool that the backup lacks leaves its synced connections unbound,
   * with the master's forwarding method, until a message finds it there (ip_vs_try_bind_dest).
   * After the backup takes over, ip_vs_in finds such an entry before any service lookup: the
   * tunnel transmitter dereferences the missing destination (ip_vs_tunnel_xmit, cp->dest->tun_type)
   * and the director panics; DR and NAT send to the entry's address on no real server's counters.
   * A pair applies when the master's messages reach the backup: another host (the sender does
   * not hear its own group, IP_MULTICAST_LOOP off), the mcast interfaces on one segment (TTL 1),
   * the backup's syncid 0 or the master's; and when the backup's IPVS sees packets at all
   * (ipvs->enable: a service exists; sysctl_backup_only off).
   */
  private syncPools(): void {
    const hosts = [...this.world.hosts.values()];
    for (const m of hosts) {
      for (const mc of syncDaemons(m.ipvs)) {
        if (mc.state !== 'master') continue;
        for (const b of hosts) {
          if (b === m || !b.ipvs.enabled || b.host.sysctl.num('net.ipv4.vs.backup_only') !== 0) continue;
          for (const bc of syncDaemons(b.ipvs)) {
            if (bc.state !== 'backup' || (bc.syncid !== 0 && bc.syncid !== mc.syncid)) continue;
            if (!this.syncReaches(m, mc, b, bc)) continue;
            for (const svc of m.ipvs.services) this.syncPool(m, mc, b, bc, svc);
          }
        }
      }
    }
  }

  /** The master's mcast interface has an address to send from and shares a segment with the backup's. */
  private syncReaches(m: WorldHost, mc: SyncDaemonConf, b: WorldHost, bc: SyncDaemonConf): boolean {
    const dev = m.host.devices.get(mc.mcastIfn);
    if (!dev || !dev.up || m.host.primaryAddr(dev) === null) return false;
    return !!b.host.devices.get(bc.mcastIfn)?.up && this.sameSegment(m, mc.mcastIfn, b, bc.mcastIfn);
  }

  private syncPool(m: WorldHost, mc: SyncDaemonConf, b: WorldHost, bc: SyncDaemonConf, svc: Service): void {
    const V = `${formatIp4(svc.addr)}:${svc.port}`;
    const flag = { tunnel: '-i', route: '-g', masq: '-m' } as const;
    const method = { tunnel: 'tunnel', route: 'direct routing', masq: 'NAT' } as const;
    const proto = svc.protocol === 'udp' ? '-u' : '-t';
    const bsvc = b.ipvs.services.find(s => s.protocol === svc.protocol && s.addr === svc.addr && s.port === svc.port) ?? null;
    const ka = this.keepalivedConf(b.name)?.config.virtualServers.find(v => v.addr === svc.addr && v.port === svc.port && v.protocol.toLowerCase() === svc.protocol) ?? null;
    const at = this.lineOf(b.name, new RegExp(`virtual_server\\s+${esc(formatIp4(svc.addr))}\\s+${svc.port}\\b`))
      ?? this.lineOf(b.name, new RegExp(`ipvsadm\\s.*(-A|--add-service)\\b.*${esc(V)}\\b`))
      ?? this.lineOf(b.name, /--start-daemon\s+backup|--start-daemon=backup/);
    const missing: Dest[] = [];
    const differs: Array<{ d: Dest; bd: Dest }> = [];
    for (const d of svc.dests) {
      const bd = bsvc?.dests.find(x => x.addr === d.addr && x.port === d.port) ?? null;
      if (bd === null) missing.push(d);
      else if (bd.fwd !== d.fwd) differs.push({ d, bd });
    }
    if (differs.length) {
      const R = (d: Dest) => `${formatIp4(d.addr)}:${d.port}`;
      this.add({
        code: 'sync_backup_fwd_method_differs', severity: 'info', host: b.name, at,
        check: 'ip_vs_proc_conn -> ip_vs_find_dest finds the real server by address and port; ip_vs_bind_dest: a synced connection inherits the forwarding method from the destination',
        message: `${m.name} and ${b.name} forward ${V} by different methods (${differs.map(({ d, bd }) => `${R(d)}: ${method[d.fwd]} on ${m.name}, ${method[bd.fwd]} on ${b.name}`).join('; ')}): after ${b.name} takes over, the connections synced from ${m.name} go on by ${b.name}'s method.`,
        fix: ka
          ? `use one lb_kind for virtual_server ${formatIp4(svc.addr)} ${svc.port} in both directors' keepalived.conf`
          : `${differs.map(({ d }) => `ipvsadm -e ${proto} ${V} -r ${R(d)} ${flag[d.fwd]}`).join(' && ')}   # on ${b.name}, the same method as ${m.name}`,
        proof: null,
      });
    }
    if (missing.length === 0) return;
    const list = (ds: readonly Dest[]) => ds.map(d => `${formatIp4(d.addr)}:${d.port}`).join(', ');
    const tun = missing.filter(d => d.fwd === 'tunnel');
    const other = missing.filter(d => d.fwd !== 'tunnel');
    const lacks = bsvc ? `lacks real server(s) ${list(missing)} of ${V}` : `has no virtual service ${V} (real servers ${list(missing)})`;
    const consequences: string[] = [];
    if (tun.length) consequences.push(`the first client packet on a synced connection to ${list(tun)} (tunnel) makes ip_vs_tunnel_xmit dereference the missing real server: ${b.name} panics ("Fatal exception in interrupt") and no director is left`);
    if (other.length) consequences.push(`connections synced to ${list(other)} (${[...new Set(other.map(d => method[d.fwd]))].join(', ')}) are forwarded unbound to the entry's address, on no real server's counters (ipvsadm -Ln shows none of them, schedulers and thresholds ignore them) until a sync message finds the real server`);
    const fixes = missing.map(d => ka
      ? `real_server ${formatIp4(d.addr)} ${d.port} { ... }`
      : `ipvsadm -a ${proto} ${V} -r ${formatIp4(d.addr)}:${d.port} ${flag[d.fwd]}`);
    this.add({
      code: 'sync_backup_lacks_real_server', severity: tun.length ? 'error' : 'warn', host: b.name, at,
      check: `ip_vs_proc_conn (ip_vs_sync.c): ip_vs_find_dest finds no <${V}, RIP:port> on ${b.name}, so ip_vs_conn_new makes the synced entry with no destination; after takeover ip_vs_in finds the entry first`,
      message: `${m.name} runs the master sync daemon (syncid ${mc.syncid}, ${mc.mcastIfn}) and ${b.name} the backup (syncid ${bc.syncid}, ${bc.mcastIfn}), but ${b.name} ${lacks}: it keeps ${m.name}'s connections to them unbound. After ${b.name} takes over the VIP, ${consequences.join('; and ')}.`,
      fix: ka
        ? `give ${b.name}'s keepalived.conf the same pool as ${m.name}'s: in virtual_server ${formatIp4(svc.addr)} ${svc.port}, ${fixes.join(', ')}`
        : `${fixes.join(' && ')}   # on ${b.name}, the same pool as ${m.name}`,
      proof: {
        host: b.name,
        drops: tun.length ? ['ipvs_unbound_tunnel'] : [],
        hits: other.map(d => noteUnboundEntry(d.addr, d.port)),
      },
    });
  }

  /**
   * keepalived's TCP_CHECK and HTTP_GET connect from the director to RIP:port (or connect_ip),
   * routed like any of the director's connections: not through the tunnel and not to the VIP.
   * A real server whose VIP path is broken still passes them, and stays in the pool.
   */
  /**
   * Two keepalived instances for the same VIP on one segment must agree, or each discards the
   * other's adverts and both become MASTER with the VIP (split brain): another virtual_router_id
   * is another virtual router (vrrp_dispatcher_read matches by VRID); keepalived 2.2.7's
   * vrrp_check_packet drops a VRRPv2 advert with another advert_int, and one whose VIP list
   * differs from the instance's (unless skip_check_adv_addr).
   */
  private vrrpPeers(): void {
    const hosts = [...this.world.hosts.values()].filter(h => this.keepalivedConf(h.name));
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        const [A, B] = [hosts[i]!, hosts[j]!];
        for (const a of this.keepalivedConf(A.name)!.config.vrrpInstances) {
          for (const b of this.keepalivedConf(B.name)!.config.vrrpInstances) {
            if (a.vrid === null || b.vrid === null || !this.sameSegment(A, a.iface, B, b.iface)) continue;
            const shared = a.vips.filter(v => b.vips.some(w => w.addr === v.addr));
            if (!shared.length) continue;
            const list = (v: typeof a) => v.vips.map(x => formatIp4(x.addr)).sort().join(' ');
            let why: string;
            let fix: string;
            if (a.vrid !== b.vrid) {
              why = `different virtual_router_id (${a.vrid} on ${A.name}, ${b.vrid} on ${B.name}): to each, the other's adverts are another virtual router's`;
              fix = `virtual_router_id ${a.vrid} in ${B.name}'s vrrp_instance ${b.name} (the same on both)`;
            } else if (a.advertIntNs !== b.advertIntNs) {
              why = `different advert_int (${a.advertIntNs / 1e9} s on ${A.name}, ${b.advertIntNs / 1e9} s on ${B.name}): keepalived drops each advert ("advertisement interval mismatch")`;
              fix = `advert_int ${a.advertIntNs / 1e9} in ${B.name}'s vrrp_instance ${b.name} (the same on both)`;
            } else if (list(a) !== list(b) && !(a.skipCheckAdvAddr && b.skipCheckAdvAddr)) {
              why = `different virtual_ipaddress lists (${list(a)} on ${A.name}, ${list(b)} on ${B.name}): keepalived drops adverts whose addresses differ from its own`;
              fix = `the same virtual_ipaddress block on both (or skip_check_adv_addr on both)`;
            } else continue;
            const line = this.keepalivedConf(B.name)!.line + b.line - 1;
            this.add({
              code: 'vrrp_peers_disagree', severity: 'error', host: B.name, at: { line, col: this.colOf(line, 'vrrp_instance') },
              check: 'keepalived vrrp_dispatcher_read / vrrp_check_packet (vrrp.c): an advert of another VRID, interval or VIP list is not this instance\'s peer',
              message: `${A.name}'s vrrp_instance ${a.name} and ${B.name}'s ${b.name} both hold ${shared.map(v => formatIp4(v.addr)).join(', ')} on one segment but have ${why}. Neither hears the other: both become MASTER and both hold the VIP, so the segment's ARP for it flips between them.`,
              fix,
              proof: null,
            });
          }
        }
      }
    }
  }

  /** Devices `da` of host A and `db` of host B are ends of one link. */
  private sameSegment(A: WorldHost, da: string | null, B: WorldHost, db: string | null): boolean {
    return this.world.links.some(l => l.ends.some(e => e.host === A.host && e.dev.name === da) && l.ends.some(e => e.host === B.host && e.dev.name === db));
  }

  private keepalivedChecks(dir: WorldHost): void {
    const ka = this.keepalivedConf(dir.name);
    if (!ka) return;
    const { config, line: fileLine } = ka;
    const BROKEN = new Set<FindingCode>(['vip_missing_on_rs', 'rp_filter_strict_on_decap', 'ipip_unavailable', 'tunl0_down', 'tunnel_down', 'vip_not_host_route', 'no_listener_on_vip', 'firewall_drops']);
    for (const vs of config.virtualServers) {
      if (vs.lbKind === 'NAT') continue;
      for (const rsConf of vs.realServers) {
        const rs = [...this.world.hosts.values()].find(h => h !== dir && h.host.hasAddr(rsConf.addr));
        if (!rs) continue;
        const broken = this.findings.find(x => x.host === rs.name && x.severity === 'error' && BROKEN.has(x.code));
        if (!broken) continue;
        for (const ck of rsConf.checkers) {
          const ip = ck.connectIp ?? rsConf.addr;
          const port = ck.connectPort ?? rsConf.port;
          const target = [...this.world.hosts.values()].find(h => h.host.hasAddr(ip));
          const listens = target?.host.tcp?.listeners.some(l => l.port === port && (l.addr === 0 || l.addr === ip)) ?? false;
          if (!listens) continue;
          this.add({
            code: 'health_check_blind_to_vip', severity: 'error', host: dir.name,
            at: { line: fileLine + ck.line - 1, col: this.colOf(fileLine + ck.line - 1, ck.kind) },
            check: `keepalived ${ck.kind} (check_tcp.c tcp_connect_thread): a TCP connection from ${dir.name} to ${formatIp4(ip)}:${port}, not through the tunnel and not to the VIP ${formatIp4(vs.addr)}`,
            message: `keepalived's ${ck.kind} for ${formatIp4(rsConf.addr)}:${rsConf.port} succeeds (${rs.name} answers on ${formatIp4(ip)}:${port}) while client traffic to the VIP fails there (${broken.code}): the pool keeps a dead real server.`,
            fix: `fix ${rs.name} first (${broken.fix}); and make the check follow the clients' path, e.g. a MISC_CHECK that connects to the VIP through the tunnel, or check a URL only the VIP serves`,
            proof: null,
          });
        }
      }
    }
  }

  /** The host's keepalived.conf has a vrrp_instance that holds `vip` (as master or backup). */
  private vrrpManages(host: string, vip: Ip4): boolean {
    return this.keepalivedConf(host)?.config.vrrpInstances.some(v => v.vips.some(x => x.addr === vip)) ?? false;
  }

  /** A host's keepalived.conf, parsed once, with the scenario line its text starts at. */
  private keepalivedConf(host: string): { config: KaConfig; line: number } | null {
    let c = this.kaConfs.get(host);
    if (c === undefined) {
      const conf = [...this.sc.hosts.get(host)?.files ?? []].find(([path]) => /keepalived\.conf$/.test(path));
      c = conf ? { config: parseKeepalivedConf(conf[1].text, conf[0]).config, line: conf[1].line } : null;
      this.kaConfs.set(host, c);
    }
    return c;
  }
  private readonly kaConfs = new Map<string, { config: KaConfig; line: number } | null>();

  private colOf(line: number, word: string): number {
    const raw = this.src[line - 1] ?? '';
    const i = raw.indexOf(word);
    return i >= 0 ? i + 1 : Math.max(1, raw.search(/\S/) + 1);
  }

  sorted(): Finding[] {
    return [...this.findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.line - b.line || a.col - b.col);
  }

  // --- one virtual service ----------------------------------------------------------------

  private service(dir: WorldHost, svc: Service): void {
    const vip = svc.addr;
    const V = formatIp4(vip);
    const standby = !dir.host.isLocal(vip) && this.vrrpManages(dir.name, vip);
    if (!dir.host.isLocal(vip) && !standby) {
      const dev = devCovering(dir.host, vip);
      this.add({
        code: 'director_vip_missing', severity: 'error', host: dir.name,
        at: this.lineOf(dir.name, new RegExp(`ipvsadm\\s.*(-A|--add-service)\\b.*${esc(V)}`)),
        check: 'ip_route_input_slow: the VIP is not a local address, so the request is forwarded or dropped and never reaches ip_vs_in_hook at LOCAL_IN',
        message: `${dir.name} has a virtual service on ${V} but does not own ${V}: requests to it never reach IPVS.`,
        fix: `ip addr add ${V}/32 dev ${dev?.name ?? 'eth0'}`,
        proof: { host: dir.name, drops: ['forwarding_disabled', 'no_route', 'arp_unresolved'] },
      });
    }
    if (svc.protocol === 'udp') { this.udpService(dir, svc); return; }
    const flows = this.flowsTo(dir, svc);
    // A VRRP backup takes the VIP only on failover: its request path is the master's today.
    if (!standby) for (const f of flows) this.requestPath(dir, svc, f);
    this.persistence(dir, svc);
    for (const dest of svc.dests) this.dest(dir, svc, dest, flows);
    this.portMappings(dir, svc);
    this.mtu(dir, svc, flows);
  }

  /**
   * The client addresses that will connect to the service: traffic items, else client hosts.
   * A persistent service on port 0 takes every port of the VIP that no service of its own port
   * takes (ip_vs_service_find looks up the packet's port first, then port 0): its flows are the
   * connects to the VIP on such ports, and with none, nothing is known to connect to it.
   */
  private flowsTo(dir: WorldHost, svc: Service): Flow[] {
    const out: Flow[] = [];
    const seen = new Set<string>();
    const push = (client: WorldHost, cip: Ip4 | null, dport: number) => {
      if (cip === null || seen.has(`${client.name}/${cip}/${dport}`)) return;
      seen.add(`${client.name}/${cip}/${dport}`);
      out.push({ client, cip, dport });
    };
    const takes = (dport: number) => svc.port !== 0
      ? dport === svc.port
      : !dir.ipvs.services.some(s => s !== svc && s.protocol === svc.protocol && s.addr === svc.addr && s.port === dport);
    for (const t of this.sc.traffic) {
      // connect: steps are TCP connections.
      if (t.kind !== 'connect' || svc.protocol !== 'tcp' || t.dst !== svc.addr || !takes(t.dport)) continue;
      const client = this.world.hosts.get(t.from);
      if (!client || client === dir) continue;
      push(client, t.src ?? ipRouteOutputAnySrc(client.host, svc.addr)?.src ?? null, t.dport);
    }
    if (out.length === 0 && svc.port !== 0) {
      for (const h of this.world.hosts.values()) {
        if (h.role !== 'client') continue;
        push(h, ipRouteOutputAnySrc(h.host, svc.addr)?.src ?? null, svc.port);
      }
    }
    return out;
  }

  /**
   * lvsim models TCP servers only: a UDP service's real servers (their sockets, the replies, the
   * tunnel they would use) are not checked, and no TCP finding (SYN, RST) applies to it.
   */
  private udpService(dir: WorldHost, svc: Service): void {
    const V = `${formatIp4(svc.addr)}:${svc.port}`;
    this.add({
      code: 'udp_service_not_checked', severity: 'info', host: dir.name,
      at: this.serviceLine(dir, svc),
      check: 'none: lvsim models TCP servers only (an unbound UDP port would answer ICMP port unreachable, __udp4_lib_rcv)',
      message: `UDP service ${V}: its real servers (${svc.dests.map(d => `${formatIp4(d.addr)}:${d.port}`).join(', ') || 'none'}) are not checked, since lvsim does not model UDP servers.`,
      fix: 'none needed: check the UDP path on the real hosts',
      proof: null,
    });
    this.persistence(dir, svc);
  }

  // --- client -> VIP ----------------------------------------------------------------------

  private requestPath(dir: WorldHost, svc: Service, f: Flow): void {
    const V = formatIp4(svc.addr);
    const C = formatIp4(f.cip);
    const end = walk(this.world, f.client, f.cip, svc.addr, { pkt: synPkt(f.cip, svc.addr, f.dport), ctinfo: 2 });
    if (this.firewall(end, `requests ${C} -> ${V}:${f.dport}`)) return;
    // Everyone on the last segment who would answer the ARP for the VIP.
    const contenders = end.arp?.target === svc.addr ? end.arp.answerers : [];
    for (const a of contenders) {
      if (a.host === dir.host) continue;
      const wh = this.byHost(a.host);
      if (!isRealServerOf(wh, dir)) continue;
      this.arpHijack(dir, wh, a.dev, end.arp!.asker, svc.addr);
    }
    if (end.kind === 'local' && end.host === dir.host && end.ttl <= 1) {
      const client = this.sc.hosts.get(f.client.name);
      this.add({
        code: 'ttl_exhausted', severity: 'error', host: f.client.name,
        at: this.lineOf(f.client.name, /ip_default_ttl/) ?? (client ? { line: client.pos.line, col: client.pos.col } : null),
        check: 'ip_vs_tunnel_xmit -> decrement_ttl: IPVS forwards the request, so it needs TTL > 1 on arrival; ICMP time exceeded otherwise',
        message: `Requests from ${C} reach ${dir.name} with TTL ${end.ttl}: IPVS cannot forward them and answers ICMP time exceeded.`,
        fix: `sysctl -w net.ipv4.ip_default_ttl=64   # on ${f.client.name}`,
        proof: { host: dir.name, drops: ['ttl_exceeded'] },
      });
      return;
    }
    if (end.kind === 'local' && end.host !== dir.host) {
      const wh = this.byHost(end.host);
      // Another director serving the same virtual service (the VRRP master) is not a problem.
      if (wh.ipvs.services.some(s => s.addr === svc.addr && (s.port === svc.port || s.port === f.dport) && s.protocol === svc.protocol)) return;
      if (!isRealServerOf(wh, dir)) {
        this.add({
          code: 'path_to_vip_broken', severity: 'error', host: wh.name, at: this.hostPos(wh.name),
          check: 'neigh_resolve_output / arp_process: the VIP resolves to another host',
          message: `Requests from ${C} to ${V} are delivered to ${wh.name}, which also owns ${V}; ${dir.name} never sees them.`,
          fix: `ip addr del ${V}/32 dev ${wh.host.devOfAddr(svc.addr)?.name ?? 'DEV'}   # on ${wh.name}`,
          proof: null,
        });
      }
      return;
    }
    if (end.kind === 'drop') {
      const wh = this.byHost(end.host);
      const r = end.reason;
      if (wh === dir && r.code === 'rp_filter') {
        const out = ipRouteOutputAnySrc(dir.host, f.cip);
        this.add({
          code: 'director_rp_filter_asymmetric', severity: 'error', host: dir.name,
          at: this.rpFilterLine(dir, r.dev),
          check: `fib_validate_source: rp_filter = max(conf.all=${r.all}, conf.${r.dev}=${r.devValue}) = ${r.effective} (strict)`,
          message: `${dir.name} receives requests for ${V} on ${r.dev} but its route back to ${C} leaves by ${out?.dev.name ?? 'no device'}: strict reverse-path filtering drops every SYN (TcpExtIPReversePathFilter).`,
          fix: rpFilterFix(dir.host, r.dev, 2),
          proof: { host: dir.name, drops: ['rp_filter'] },
        });
        return;
      }
      const ex = explainDrop(r);
      this.add({
        code: 'path_to_vip_broken', severity: 'error', host: wh.name, at: this.hostPos(wh.name),
        check: ex.check,
        message: `Requests from ${C} to ${V} die at ${wh.name}${end.dev ? ` (${end.dev.name})` : ''}: ${ex.message}`,
        fix: ex.fix ?? `see ${wh.name}'s routes and addresses`,
        proof: { host: wh.name, drops: [r.code] },
      });
    }
  }

  private arpHijack(dir: WorldHost, rs: WorldHost, dev: NetDevice, asker: { host: Host; ip: Ip4 }, vip: Ip4): void {
    const V = formatIp4(vip);
    const ign = rs.host.sysctl.confMax(dev.name, 'arp_ignore');
    const ann = rs.host.sysctl.confMax(dev.name, 'arp_announce');
    this.add({
      code: 'rs_answers_arp_for_vip', severity: 'error', host: rs.name,
      at: this.lineOf(rs.name, /arp_ignore/) ?? this.vipLine(rs, vip) ?? this.hostPos(rs.name),
      check: `arp_process -> arp_ignore: max(conf.all, conf.${dev.name}).arp_ignore = ${ign}, so ${rs.name} answers ARP for ${V} on ${dev.name} although ${V} is not configured there`,
      message: `${rs.name} shares ${dev.name}'s segment with ${asker.host.name}, which asks who has ${V}: both ${dir.name} and ${rs.name} answer, and whichever reply ${asker.host.name}'s neighbour entry keeps (the first, within locktime) takes every client. Clients that reach ${rs.name} directly bypass the director.`,
      fix: `sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2   # on ${rs.name}${ann < 2 ? ` (arp_announce is ${ann} too)` : ''}`,
      proof: null,
    });
  }

  // --- one real server --------------------------------------------------------------------

  private dest(dir: WorldHost, svc: Service, dest: Dest, flows: readonly Flow[]): void {
    const R = formatIp4(dest.addr);
    const rs = [...this.world.hosts.values()].find(h => h !== dir && h.host.hasAddr(dest.addr));
    const destLine = this.lineOf(dir.name, new RegExp(`ipvsadm\\s.*(-a|--add-server)\\b.*${esc(R)}`));
    if (!rs) {
      this.add({
        code: 'rs_not_in_scenario', severity: 'info', host: dir.name, at: destLine,
        check: 'none: no host of this scenario owns the real server address',
        message: `Real server ${R} is not a host of this scenario, so its side is not checked.`,
        fix: `add a host with ${R} to hosts: and links:`,
        proof: null,
      });
      return;
    }
    const out = ipRouteOutputAnySrc(dir.host, dest.addr);
    if (out === null || out.local) {
      this.add({
        code: 'director_no_route_to_rs', severity: 'error', host: dir.name, at: destLine,
        check: '__ip_vs_get_out_rt -> ip_route_output_key: ENETUNREACH',
        message: `${dir.name} has no route to real server ${R}.`,
        fix: `ip route add ${R}/32 via GATEWAY   # on ${dir.name}`,
        proof: { host: dir.name, drops: ['no_route'] },
      });
      return;
    }
    switch (dest.fwd) {
      case 'tunnel': this.tunnelDest(dir, svc, dest, rs, flows, out.src ?? 0); break;
      case 'route': this.drDest(dir, svc, dest, rs, flows, out.route); break;
      case 'masq': this.natDest(dir, svc, dest, rs, flows); break;
    }
  }

  private tunnelDest(dir: WorldHost, svc: Service, dest: Dest, rs: WorldHost, flows: readonly Flow[], dip: Ip4): void {
    const V = formatIp4(svc.addr);
    const R = formatIp4(dest.addr);
    // The outer packet DIP -> RIP, hop by hop.
    const outerPkt = ipipPkt(dip, dest.addr, synPkt(flows[0]?.cip ?? 0, svc.addr, flows[0]?.dport ?? svc.port));
    const outer = walk(this.world, dir, dip, dest.addr, { pkt: outerPkt, ctinfo: 2 });
    if (this.firewall(outer, `IPIP packets ${formatIp4(dip)} -> ${R}`, 'ipip_blocked')) return;
    if (outer.kind !== 'local' || outer.host !== rs.host) {
      this.pathBroken('path_to_rs_broken', outer, `IPIP packets ${formatIp4(dip)} -> ${R}`);
      return;
    }
    const host = rs.host;
    const tunl0 = host.devices.get('tunl0');
    if (!host.modules.has('ipip') || !tunl0) {
      this.add({
        code: 'ipip_unavailable', severity: 'error', host: rs.name, at: this.firstLine(rs.name),
        check: 'ip_local_deliver_finish -> ip_protocol_deliver_rcu: no handler for protocol 4 (ipip not loaded): ICMP protocol unreachable',
        message: `${rs.name} has no ipip module, so the encapsulated packet from ${formatIp4(dip)} has no protocol handler; it answers ICMP protocol unreachable and the client fails.`,
        fix: `modprobe ipip && ip link set tunl0 up   # on ${rs.name}`,
        proof: { host: rs.name, drops: ['protocol_unreachable'] },
      });
      return;
    }
    // ipip_rcv -> ip_tunnel_lookup, as the packet path asks it: the tunnel whose endpoints match
    // the outer DIP -> RIP best (a named `ip tunnel add ... local RIP` before the fallback tunl0).
    const tun = ipTunnelLookup(host, outerPkt);
    if (tun === null) {
      // The lookup skips devices that are down: the one it would pick once they are up is the one to bring up.
      const want = ipTunnelLookup(ipipDevicesUp(host), outerPkt) ?? tunl0;
      const named = want.name !== 'tunl0';
      this.add({
        code: named ? 'tunnel_down' : 'tunl0_down', severity: 'error', host: rs.name,
        at: this.setupLineOf(rs.name, new RegExp(`^\\s*(ip\\s+(link|l|tunnel|tun|addr|address|a)|ifconfig|ifup|ifdown)\\b.*\\b${esc(want.name)}\\b`))
          ?? this.setupLineOf(rs.name, new RegExp(`\\b${esc(want.name)}\\b`)) ?? this.setupLineOf(rs.name, /modprobe\s+ipip/) ?? this.firstLine(rs.name),
        check: `ipip_rcv -> ip_tunnel_lookup: no tunnel device that is up matches ${formatIp4(dip)} -> ${R}${named ? ` (${want.name} would, and tunl0, the fallback, is ${tunl0.up ? 'up but comes only after it' : 'down too'})` : ''}: tunnel4_rcv answers ICMP port unreachable`,
        message: `${want.name} is down on ${rs.name}: the IPIP packet from ${formatIp4(dip)} finds no tunnel and is answered with ICMP port unreachable.`,
        fix: `ip link set ${want.name} up   # on ${rs.name}`,
        proof: { host: rs.name, drops: ['tunnel_unmatched'] },
      });
      return;
    }
    this.vipPrefix(rs, svc.addr);
    for (const f of flows) {
      // The decapsulated packet CIP -> VIP re-enters on the tunnel device (ip_tunnel_rcv -> gro_cells_receive).
      const inner = ipRouteInput(host, f.cip, svc.addr, tun);
      if (inner.kind === 'drop') {
        const r = inner.reason;
        if (r.code === 'rp_filter') {
          this.add({
            code: 'rp_filter_strict_on_decap', severity: 'error', host: rs.name,
            at: this.rpFilterLine(rs, tun.name),
            check: `fib_validate_source: rp_filter = max(conf.all=${r.all}, conf.${tun.name}=${r.devValue}) = ${r.effective} on the decapsulating device`,
            message: `${rs.name} drops the decapsulated ${formatIp4(f.cip)} -> ${V}: it arrives on ${tun.name} but the route back to ${formatIp4(f.cip)} leaves by ${ipRouteOutputAnySrc(host, f.cip)?.dev.name ?? 'no device'} (TcpExtIPReversePathFilter), and the client times out.`,
            fix: rpFilterFix(host, tun.name, 0),
            proof: { host: rs.name, drops: ['rp_filter'] },
          });
        } else if (r.code === 'forwarding_disabled' || r.code === 'no_route') {
          this.add({
            code: 'vip_missing_on_rs', severity: 'error', host: rs.name,
            at: this.lineOf(rs.name, new RegExp(`\\b${esc(tun.name)}\\b`)) ?? this.firstLine(rs.name),
            check: 'ip_route_input_slow: the decapsulated destination is not local (inet_addr_type != RTN_LOCAL); forwarding is off: IpInAddrErrors',
            message: `${rs.name} does not own the VIP ${V}, so the decapsulated packet is not for it and is dropped.`,
            fix: `ip addr add ${V}/32 dev ${tun.name}   # on ${rs.name}`,
            proof: { host: rs.name, drops: ['forwarding_disabled', 'no_route'] },
          });
        } else {
          const ex = explainDrop(r);
          this.add({
            code: 'path_to_rs_broken', severity: 'error', host: rs.name, at: this.hostPos(rs.name),
            check: ex.check, message: `${rs.name} drops the decapsulated packet: ${ex.message}`,
            fix: ex.fix ?? '', proof: { host: rs.name, drops: [r.code] },
          });
        }
        continue;
      }
      // The decapsulated packet meets the real server's own PREROUTING and INPUT chains.
      const syn = synPkt(f.cip, svc.addr, f.dport);
      const fw = xtDryRun(host, syn, 'PREROUTING', tun, null, 2) ?? xtDryRun(host, syn, 'INPUT', tun, null, 2);
      if (fw && this.firewall({ kind: 'drop', host, dev: tun, reason: fw, arp: null }, `the decapsulated requests ${formatIp4(f.cip)} -> ${V}:${f.dport}`)) continue;
      this.listener(rs, svc.addr, f.dport, 'tunnel');
      this.reply(dir, rs, svc, dest, f, svc.addr, f.dport);
    }
  }

  private drDest(dir: WorldHost, svc: Service, dest: Dest, rs: WorldHost, flows: readonly Flow[], route: Route): void {
    const R = formatIp4(dest.addr);
    if (route.gw !== null) {
      this.add({
        code: 'fwd_method_needs_l2', severity: 'error', host: dir.name,
        at: this.lineOf(dir.name, new RegExp(`ipvsadm\\s.*(-a|--add-server)\\b.*${esc(R)}`)),
        check: `ip_vs_dr_xmit -> __ip_vs_get_out_rt (IP_VS_RT_MODE_KNOWN_NH): direct routing only rewrites the MAC, so ${R} must be on a segment of ${dir.name}; its route goes via ${formatIp4(route.gw)}`,
        message: `Direct routing (-g) to ${R}, which is not on-link from ${dir.name} (route via ${formatIp4(route.gw)} dev ${route.dev}): the unchanged packet to the VIP goes to the gateway instead of the real server.`,
        fix: `ipvsadm -e -t ${formatIp4(svc.addr)}:${svc.port} -r ${R}:${dest.port} -i   # tunnel instead; or put ${R} on ${dir.name}'s segment`,
        proof: { host: dir.name, drops: ['ipvs_ttl_exceeded', 'ttl_exceeded', 'arp_unresolved', 'no_listener', 'forwarding_disabled', 'martian_source'] },
      });
      return;
    }
    for (const f of flows) {
      this.listener(rs, svc.addr, f.dport, 'route');
      this.reply(dir, rs, svc, dest, f, svc.addr, f.dport);
    }
  }

  private natDest(dir: WorldHost, svc: Service, dest: Dest, rs: WorldHost, flows: readonly Flow[]): void {
    const R = formatIp4(dest.addr);
    const dirAddrs = new Set([...dir.host.allAddrs()].map(x => x.a.addr));
    for (const f of flows) {
      // ip_vs_sched_persist / ip_vs_schedule: the real server's port, or the packet's where the
      // service is all-ports (vport 0) or the real server has none.
      this.listener(rs, dest.addr, dest.port && f.dport === svc.port ? dest.port : f.dport, 'masq');
      const back = ipRouteOutputAnySrc(rs.host, f.cip);
      if (back === null) { this.noReplyRoute(rs, f.cip); continue; }
      if (!dirAddrs.has(back.nexthop)) {
        const gw = directorAddrOnLink(this.world, dir, rs);
        const V = `${formatIp4(svc.addr)}:${svc.port}`;
        const ka = this.keepalivedConf(dir.name)?.config.virtualServers.some(v => v.addr === svc.addr && v.port === svc.port) ?? false;
        this.add({
          code: 'nat_reply_bypasses_director', severity: 'error', host: rs.name,
          at: this.lineOf(rs.name, /ip\s+route\s+(add|replace|change)\s+default|route\s+add\s+default|GATEWAY=/) ?? this.firstLine(rs.name),
          check: 'ip_vs_out (LVS-NAT): replies are un-NATed only when they pass the director\'s FORWARD hook',
          message: `NAT (-m): ${rs.name} sends its replies to ${formatIp4(f.cip)} via ${formatIp4(back.nexthop)}, not through ${dir.name}, so they leave with source ${R} instead of the VIP and the client does not recognise them.`,
          fix: gw !== null
            ? `ip route replace default via ${formatIp4(gw.addr)}   # on ${rs.name}: route replies through the director (${gw.dev} is on-link there)`
            // No director address is on a segment and subnet of the real server: no route can make
            // the director its gateway (fib_check_nh: the gateway must be on-link).
            : `no route on ${rs.name} can fix this: NAT needs ${dir.name} as ${rs.name}'s gateway, so ${rs.name} and ${dir.name} must share a segment with a director address in ${rs.name}'s subnet; or forward by tunnel (${ka ? 'lb_kind TUN in keepalived.conf' : `ipvsadm -e -t ${V} -r ${R}:${dest.port} -i`}, with the VIP on tunl0 on ${rs.name}) or direct routing (${ka ? 'lb_kind DR' : '-g'}, which also needs a shared segment)`,
          proof: { host: f.client.name, drops: ['tcp_no_socket', 'no_listener', 'tcp_invalid'] },
        });
      } else if (!(dir.host.sysctl.num('net.ipv4.ip_forward'))) {
        this.add({
          code: 'nat_director_not_forwarding', severity: 'error', host: dir.name,
          at: this.lineOf(dir.name, /ip_forward/) ?? this.firstLine(dir.name),
          check: 'ip_route_input_slow: IN_DEV_FORWARD is off, so the replies addressed to the client are dropped before ip_vs_out at FORWARD (IpInAddrErrors)',
          message: `NAT replies from ${rs.name} reach ${dir.name} addressed to ${formatIp4(f.cip)}, but forwarding is off there.`,
          fix: `sysctl -w net.ipv4.ip_forward=1   # on ${dir.name}`,
          proof: { host: dir.name, drops: ['forwarding_disabled'] },
        });
      }
    }
  }

  // --- checks shared by the methods -------------------------------------------------------

  /** A socket must listen where the packets arrive: VIP:vport for TUN and DR, RIP:port for NAT. */
  private listener(rs: WorldHost, addr: Ip4, port: number, fwd: Dest['fwd']): void {
    const ls = rs.host.tcp?.listeners ?? [];
    if (ls.some(l => l.port === port && (l.addr === 0 || l.addr === addr))) return;
    const elsewhere = ls.filter(l => l.port === port);
    const A = formatIp4(addr);
    this.add({
      code: 'no_listener_on_vip', severity: 'error', host: rs.name,
      at: this.listenPos(rs.name),
      check: `__inet_lookup_listener: no socket for ${A}:${port}; tcp_v4_send_reset answers the SYN (TcpOutRsts), the client gets ECONNREFUSED`,
      message: elsewhere.length
        ? `${rs.name} listens on ${elsewhere.map(l => `${formatIp4(l.addr)}:${l.port}`).join(', ')} only, but ${fwd === 'masq' ? 'NAT delivers' : 'the decapsulated requests arrive'} for ${A}:${port}.`
        : `Nothing listens on port ${port} on ${rs.name}: every SYN for ${A}:${port} is answered with a RST.`,
      fix: `listen on 0.0.0.0:${port} (or ${A}:${port}) on ${rs.name}: listen: - { proto: tcp, port: ${port}, name: NAME }`,
      proof: { host: rs.name, drops: ['no_listener'] },
    });
  }

  /** The reply VIP -> CIP from the real server: its own route, never via the director. */
  private reply(dir: WorldHost, rs: WorldHost, svc: Service, dest: Dest, f: Flow, src: Ip4, sport: number): void {
    const V = formatIp4(svc.addr);
    const C = formatIp4(f.cip);
    const back = ipRouteOutputAnySrc(rs.host, f.cip);
    if (back === null) { this.noReplyRoute(rs, f.cip); return; }
    if (back.dev.kind === 'ipip' || back.dev.kind === 'loopback') {
      const a = [...rs.host.allAddrs()].find(x => x.a.addr === svc.addr && x.a.prefixLen < 32 && inPrefix(f.cip, x.a.addr, x.a.prefixLen));
      const mask = a ? prefixToMask(a.a.prefixLen) : '';
      this.add({
        code: 'vip_not_host_route', severity: 'error', host: rs.name,
        at: this.vipLine(rs, svc.addr) ?? this.firstLine(rs.name),
        check: `fib_lookup: the connected route of ${V}/${a?.a.prefixLen ?? '?'} on ${back.dev.name} covers ${C}, so the reply is routed into ${back.dev.name}`,
        message: `${rs.name} has the VIP as ${V}/${a?.a.prefixLen ?? '?'}${mask ? ` (netmask ${mask})` : ''} on ${back.dev.name}: replies to ${C} follow that connected route into ${back.dev.name} instead of leaving by its gateway.`,
        fix: `ip addr del ${V}/${a?.a.prefixLen ?? 24} dev ${back.dev.name} && ip addr add ${V}/32 dev ${back.dev.name}   # on ${rs.name} (ifconfig ${back.dev.name} ${V} netmask 255.255.255.255 up)`,
        proof: { host: rs.name, drops: ['no_route', 'tunnel_unmatched', 'arp_unresolved', 'link_down'] },
      });
      return;
    }
    const dirAddrs = new Set([...dir.host.allAddrs()].map(x => x.a.addr));
    if (dirAddrs.has(back.nexthop)) {
      this.add({
        code: 'rs_gateway_is_director', severity: 'error', host: rs.name,
        at: this.lineOf(rs.name, /ip\s+route\s+(add|replace|change)\s+default|route\s+add\s+default|GATEWAY=/) ?? this.firstLine(rs.name),
        check: `ip_route_input_slow -> fib_validate_source on ${dir.name}: the reply's source ${V} is ${dir.name}'s own address: martian source (IpInAddrErrors)`,
        message: `${rs.name} routes its replies to ${C} via ${formatIp4(back.nexthop)}, an address of the director ${dir.name}: the director owns ${V}, so a packet arriving from ${V} is a martian and is dropped. In ${dest.fwd === 'tunnel' ? 'TUN' : 'DR'} mode replies must leave by the real server's own gateway.`,
        fix: `ip route replace default via ROUTER_ON_${back.dev.name.toUpperCase()}   # on ${rs.name}: a gateway that is not the director`,
        proof: { host: dir.name, drops: ['martian_source'] },
      });
      return;
    }
    this.announce(dir, rs, svc.addr, back.dev, back.nexthop);
    const end = walk(this.world, rs, src, f.cip, { pkt: synAckPkt(src, f.cip, sport), ctinfo: 3 });
    // A rule that stops a packet from the VIP arriving from the real server's side is
    // anti-spoofing in effect, whatever it is called where it runs.
    if (this.firewall(end, `the reply ${V}:${sport} -> ${C} from ${rs.name}`, end.kind === 'drop' && end.host !== rs.host ? 'reply_dropped_by_antispoof' : 'firewall_drops')) return;
    if (end.kind === 'local' && end.host === f.client.host) return;
    if (end.kind === 'drop' && end.reason.code === 'rp_filter') {
      const wh = this.byHost(end.host);
      this.add({
        code: 'reply_dropped_by_antispoof', severity: 'error', host: wh.name,
        at: this.rpFilterLine(wh, end.reason.dev),
        check: `fib_validate_source on ${wh.name}: rp_filter = ${end.reason.effective} on ${end.reason.dev}, and the route back to ${V} does not use ${end.reason.dev}`,
        message: `The reply ${V} -> ${C} from ${rs.name} is dropped by ${wh.name}'s anti-spoofing (reverse-path filter): ${wh.name} reaches ${V} through another interface, so a packet from ${V} arriving on ${end.reason.dev} looks spoofed.`,
        fix: `sysctl -w net.ipv4.conf.${end.reason.dev}.rp_filter=2 net.ipv4.conf.all.rp_filter=2   # on ${wh.name} (loose), or exempt ${V}`,
        proof: { host: wh.name, drops: ['rp_filter'] },
      });
      return;
    }
    this.pathBroken('reply_path_broken', end, `the reply ${V} -> ${C} from ${rs.name}`,
      end.kind === 'drop' && end.host === rs.host ? this.lineOf(rs.name, /ip\s+route|route\s+add|GATEWAY=/) : null);
  }

  /**
   * arp_solicit: resolving its gateway for a reply from the VIP, a real server with arp_announce
   * below 2 may ask "who-has GW tell VIP". On the VIP's segment every host holding an entry for
   * the VIP updates it to the real server's MAC (arp_process updates existing entries from
   * requests too, once locktime has passed): the director loses its VIP.
   */
  private announce(dir: WorldHost, rs: WorldHost, vip: Ip4, dev: NetDevice, nexthop: Ip4): void {
    if (arpSourceFor(rs.host, dev, nexthop, vip) !== vip) return;
    const seg = this.world.links.find(l => l.ends.some(e => e.host === rs.host && e.dev === dev));
    if (!seg || !seg.ends.some(e => e.host === dir.host && (e.dev.addrs.some(a => a.addr === vip) || devCovering(dir.host, vip) === e.dev))) return;
    const ann = rs.host.sysctl.confMax(dev.name, 'arp_announce');
    this.add({
      code: 'rs_answers_arp_for_vip', severity: 'error', host: rs.name,
      at: this.lineOf(rs.name, /arp_announce/) ?? this.vipLine(rs, vip) ?? this.hostPos(rs.name),
      check: `arp_solicit: arp_announce = max(conf.all, conf.${dev.name}) = ${ann}, so the request for ${formatIp4(nexthop)} carries the VIP ${formatIp4(vip)} as sender; arp_process on the VIP's segment updates existing entries for ${formatIp4(vip)} to ${rs.name}'s MAC`,
      message: `${rs.name} is on the VIP's segment and announces ${formatIp4(vip)} in its own ARP requests: neighbours on that segment move their entry for the VIP from ${dir.name} to ${rs.name}, and clients then bypass the director.`,
      fix: `sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.${dev.name}.arp_announce=2   # on ${rs.name}`,
      proof: null,
    });
  }

  private noReplyRoute(rs: WorldHost, cip: Ip4): void {
    this.add({
      code: 'reply_no_route', severity: 'error', host: rs.name,
      at: this.lineOf(rs.name, /ip\s+route|route\s+add|GATEWAY=/) ?? this.firstLine(rs.name),
      check: 'ip_route_output_key: ENETUNREACH (IpOutNoRoutes)',
      message: `${rs.name} has no route back to the client ${formatIp4(cip)}.`,
      fix: `ip route add default via GATEWAY   # on ${rs.name}`,
      proof: { host: rs.name, drops: ['no_route'] },
    });
  }

  /** The VIP on tunl0 or lo should be a /32: a shorter prefix makes a connected route there. */
  private vipPrefix(rs: WorldHost, vip: Ip4): void {
    for (const { dev, a } of rs.host.allAddrs()) {
      if (a.addr !== vip || a.prefixLen === 32 || (dev.kind !== 'ipip' && dev.kind !== 'loopback')) continue;
      this.add({
        code: 'vip_not_host_route', severity: 'warn', host: rs.name, at: this.vipLine(rs, vip) ?? this.firstLine(rs.name),
        check: `fib_add_ifaddr: ${formatIp4(vip)}/${a.prefixLen} on ${dev.name} adds a connected route for the whole subnet through ${dev.name}`,
        message: `${rs.name} has the VIP as ${formatIp4(vip)}/${a.prefixLen} (netmask ${prefixToMask(a.prefixLen)}) on ${dev.name}: replies to any client in that subnet are routed into ${dev.name}.`,
        fix: `ip addr del ${formatIp4(vip)}/${a.prefixLen} dev ${dev.name} && ip addr add ${formatIp4(vip)}/32 dev ${dev.name}   # on ${rs.name}`,
        proof: null,
      });
    }
  }

  /** ipvsadm -a -r RIP:PORT with -i or -g: the kernel keeps the service port (ip_vs_tunnel_xmit never rewrites it). */
  private portMappings(dir: WorldHost, svc: Service): void {
    const hs = this.sc.hosts.get(dir.name);
    if (!hs) return;
    const V = formatIp4(svc.addr);
    for (const l of allLines(hs)) {
      if (!/\bipvsadm\b/.test(l.text) || !new RegExp(`${esc(V)}:${svc.port}\\b`).test(l.text)) continue;
      const m = /(?:-r|--real-server)\s+(\d+\.\d+\.\d+\.\d+):(\d+)/.exec(l.text);
      if (!m || Number(m[2]) === svc.port) continue;
      const method = /\s(-m|--masquerading)\b/.test(l.text) ? 'masq' : /\s(-i|--ipip)\b/.test(l.text) ? 'tunnel' : 'route';
      if (method === 'masq') continue;
      const col = l.text.indexOf(m[0]) + 1;
      this.add({
        code: 'port_mapping_ignored', severity: 'warn', host: dir.name,
        at: { line: l.line, col: l.col + col - 1 },
        check: `ip_vs_${method === 'tunnel' ? 'tunnel' : 'dr'}_xmit: only NAT rewrites the destination port; ipvsadm sets the real server's port to the service's for -i and -g`,
        message: svc.port === 0
          // an all-ports service: the destination keeps the port the client connected to
          ? `${m[1]}:${m[2]} with ${method === 'tunnel' ? '-i' : '-g'}: the port is ignored, packets arrive at the real server for ${V} on the port each client connected to.`
          : `${m[1]}:${m[2]} with ${method === 'tunnel' ? '-i' : '-g'}: the port is ignored, packets arrive at the real server for ${V}:${svc.port}.`,
        fix: svc.port === 0
          ? `ipvsadm -e -t ${V}:0 -r ${m[1]} ${method === 'tunnel' ? '-i' : '-g'}   # and listen on the ports clients connect to on the real server`
          : `ipvsadm -e -t ${V}:${svc.port} -r ${m[1]}:${svc.port} ${method === 'tunnel' ? '-i' : '-g'}   # and listen on port ${svc.port} on the real server`,
        proof: null,
      });
    }
  }

  /**
   * Full-size DF packets need 20 more bytes in the tunnel: they work only while the director's
   * ICMP fragmentation needed gets back to the client (one finding per service).
   */
  private mtu(dir: WorldHost, svc: Service, flows: readonly Flow[]): void {
    const tight: Array<{ rs: WorldHost; seg: number; mtu: number }> = [];
    for (const dest of svc.dests) {
      if (dest.fwd !== 'tunnel') continue;
      const rs = [...this.world.hosts.values()].find(h => h !== dir && h.host.hasAddr(dest.addr));
      const out = ipRouteOutputAnySrc(dir.host, dest.addr);
      if (!rs || !out) continue;
      // A TCPMSS rule on the real server lowers the MSS its SYN-ACK announces (xt_TCPMSS).
      const clamp = /--set-mss (\d+)/.exec(this.world.exec(rs.name, 'iptables-save -t mangle').stdout);
      for (const f of flows) {
        const cout = ipRouteOutputAnySrc(f.client.host, svc.addr);
        // The client's segments follow the real server's SYN-ACK MSS (its route MTU - 40).
        const rsMtu = ipRouteOutputAnySrc(rs.host, f.cip)?.mtu ?? 1500;
        const seg = Math.min(cout?.mtu ?? 1500, rsMtu, clamp ? Number(clamp[1]) + 40 : Infinity);
        if (seg + 20 > out.mtu) { tight.push({ rs, seg, mtu: out.mtu }); break; }
      }
    }
    if (tight.length === 0) return;
    const t = tight[0]!;
    const names = [...new Set(tight.map(x => x.rs.name))].sort().join(', ');
    const at = this.serviceLine(dir, svc);
    if (!tunnelPmtuDisc(dir.host)) {
      // ensure_mtu_is_adequate returns true at once for IP_VS_RT_MODE_TUNNEL when !sysctl_pmtu_disc,
      // and ip_vs_tunnel_xmit clears DF on the outer header: no ICMP, the director fragments.
      this.add({
        code: 'tunnel_mtu_no_headroom', severity: 'info', host: dir.name,
        at: this.lineOf(dir.name, /net\.ipv4\.vs\.pmtu_disc|\/proc\/sys\/net\/ipv4\/vs\/pmtu_disc/) ?? at,
        check: `ip_vs_tunnel_xmit -> ensure_mtu_is_adequate: net.ipv4.vs.pmtu_disc = 0, so a ${t.seg}-byte DF packet is tunnelled anyway and the outer header leaves without DF (${t.seg + 20} bytes on a path of ${t.mtu})`,
        message: `Full-size requests to ${svcName(svc)} (through ${names}) need ${t.seg + 20} bytes in the tunnel: with pmtu_disc=0 the director sends no ICMP "fragmentation needed" but fragments the outer packet, and ${names} reassemble${tight.length > 1 ? '' : 's'} it (lvsim does not model fragmentation: the run sends it whole).`,
        fix: `nothing is required; to avoid fragmenting: iptables -t mangle -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss ${t.mtu - 20 - 40}   # on each of ${names}`,
        proof: null,
      });
      return;
    }
    // The director's "fragmentation needed" goes from the VIP to the client: a rule that stops
    // it on the way leaves large requests hanging (the path-MTU black hole).
    for (const f of flows) {
      const frag: Ipv4 = { proto: 'ipv4', src: svc.addr, dst: f.cip, protocol: IPPROTO_ICMP, ttl: 64, tos: 0, id: 0, df: false,
        payload: { proto: 'icmp', type: 3, code: 4, mtu: t.mtu - 20, quoted: synPkt(f.cip, svc.addr, f.dport) } };
      const end = walk(this.world, dir, svc.addr, f.cip, { pkt: frag, ctinfo: 1 /* IP_CT_RELATED */ });
      if (end.kind !== 'drop' || end.reason.code !== 'iptables') continue;
      const wh = this.byHost(end.host);
      const r = end.reason;
      this.add({
        code: 'pmtu_blackhole', severity: 'error', host: wh.name,
        at: this.lineOf(wh.name, new RegExp(`-[AI]\\s+${esc(r.chain)}\\b.*icmp`)) ?? this.lineOf(wh.name, /iptables/) ?? this.hostPos(wh.name),
        check: `ensure_mtu_is_adequate sends ICMP fragmentation needed (3/4, mtu ${t.mtu - 20}) from ${formatIp4(svc.addr)}; ${wh.name}'s ${r.table} ${r.chain} rule ${r.rule} drops it, so the client never lowers its path MTU`,
        message: `Path-MTU black hole: full-size requests from ${formatIp4(f.cip)} need ${t.seg + 20} bytes in the tunnel, and the "fragmentation needed" that would tell the client is dropped by ${wh.name}'s firewall: small requests work, large ones hang.`,
        fix: `let ICMP type 3 code 4 through on ${wh.name} (iptables -I ${r.chain} -p icmp --icmp-type fragmentation-needed -j ACCEPT), or clamp the MSS on ${names}: iptables -t mangle -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss ${t.mtu - 20 - 40}`,
        proof: { host: wh.name, drops: ['iptables'] },
      });
      break;
    }
    this.add({
      code: 'tunnel_mtu_no_headroom', severity: 'warn', host: dir.name, at,
      check: `ip_vs_tunnel_xmit -> ensure_mtu_is_adequate: a ${t.seg}-byte DF packet needs ${t.seg + 20} bytes in the tunnel but the path has ${t.mtu}, so the director answers ICMP fragmentation needed (3/4, mtu ${t.mtu - 20})`,
      message: `Full-size requests to ${svcName(svc)} (through ${names}) work only while the director's ICMP "fragmentation needed" reaches the client; where ICMP is filtered, large requests hang while small ones work.`,
      fix: `iptables -t mangle -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss ${t.mtu - 20 - 40}   # on each of ${names}; or let ICMP 3/4 through to the clients`,
      proof: { host: dir.name, drops: ['frag_needed', 'ipvs_mtu_too_small'] },
    });
  }

  private persistence(dir: WorldHost, svc: Service): void {
    if (!(svc.flags & 1) /* IP_VS_SVC_F_PERSISTENT */) return;
    if (dir.host.sysctl.num('net.ipv4.vs.expire_quiescent_template') !== 0) return;
    for (const d of svc.dests) {
      if (d.weight !== 0) continue;
      this.add({
        code: 'persistence_pins_drained_server', severity: 'warn', host: dir.name,
        at: this.lineOf(dir.name, new RegExp(`${esc(formatIp4(d.addr))}.*(-w|--weight)\\s*0\\b`)) ?? this.lineOf(dir.name, /-p\b|--persistent/) ?? this.firstLine(dir.name),
        check: 'ip_vs_check_template: a persistence template of a quiescent (weight 0) destination stays valid while net.ipv4.vs.expire_quiescent_template = 0',
        message: `${formatIp4(d.addr)} has weight 0 but the service is persistent: clients with a template keep going to it until the template expires (${svc.timeout} s after their last connection).`,
        fix: `sysctl -w net.ipv4.vs.expire_quiescent_template=1   # on ${dir.name}`,
        proof: null,
      });
    }
  }

  /** An iptables rule or policy on the path: the finding names the rule, at the line that made it. */
  private firewall(end: WalkEnd, what: string, code: 'firewall_drops' | 'ipip_blocked' | 'reply_dropped_by_antispoof' = 'firewall_drops'): boolean {
    if (end.kind !== 'drop' || end.reason.code !== 'iptables') return false;
    const r = end.reason;
    const wh = this.byHost(end.host);
    const ex = explainDrop(r);
    const chainRe = r.rule === 0 ? new RegExp(`-P\\s+${esc(r.chain)}\\b|^:${esc(r.chain)}\\s+DROP`) : new RegExp(`-[AI]\\s+${esc(r.chain)}\\b`);
    this.add({
      code, severity: 'error', host: wh.name,
      at: this.lineOf(wh.name, chainRe) ?? this.lineOf(wh.name, /iptables/) ?? this.hostPos(wh.name),
      check: ex.check,
      message: `${what[0]!.toUpperCase()}${what.slice(1)} ${/^the reply/.test(what) ? 'is' : 'are'} ${r.target === 'REJECT' ? 'rejected' : 'dropped'} by ${wh.name}'s firewall: ${ex.message}`,
      fix: `${ex.fix ?? ''}   # on ${wh.name}`,
      proof: { host: wh.name, drops: ['iptables'] },
    });
    return true;
  }

  private pathBroken(code: 'path_to_rs_broken' | 'reply_path_broken', end: WalkEnd, what: string, at: { line: number; col: number } | null = null): void {
    if (end.kind === 'local') {
      const wh = this.byHost(end.host);
      this.add({
        code, severity: 'error', host: wh.name, at: this.hostPos(wh.name),
        check: 'fib_lookup: the destination is local on another host', message: `${what} end at ${wh.name}, which owns the destination.`,
        fix: `remove the duplicate address from ${wh.name}`, proof: null,
      });
      return;
    }
    const wh = this.byHost(end.host);
    const ex = explainDrop(end.reason);
    this.add({
      code, severity: 'error', host: wh.name, at: at ?? this.hostPos(wh.name),
      check: ex.check, message: `${what[0]!.toUpperCase()}${what.slice(1)} ${what.startsWith('the reply') ? 'dies' : 'die'} at ${wh.name}${end.dev ? ` (${end.dev.name})` : ''}: ${ex.message}`,
      fix: ex.fix ?? `see ${wh.name}'s routes and addresses`,
      proof: { host: wh.name, drops: [end.reason.code] },
    });
  }

  // --- positions ---------------------------------------------------------------------------

  private add(f: Omit<Finding, 'file' | 'line' | 'col'> & { at: { line: number; col: number } | null }): void {
    const at = f.at ?? this.hostPos(f.host);
    // One finding per cause: the same code, host and line once, at its most severe.
    const key = `${f.code}/${f.host}/${at.line}`;
    const { at: _, ...rest } = f;
    const finding: Finding = { ...rest, file: this.sc.file, line: at.line, col: at.col };
    const i = this.seen.get(key);
    if (i === undefined) { this.seen.set(key, this.findings.length); this.findings.push(finding); return; }
    if (SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[this.findings[i]!.severity]) this.findings[i] = finding;
  }

  private byHost(h: Host): WorldHost {
    return this.world.hosts.get(h.name)!;
  }

  private hostPos(name: string): { line: number; col: number } {
    const hs = this.sc.hosts.get(name);
    return hs ? { line: hs.pos.line, col: hs.pos.col } : { line: 1, col: 1 };
  }

  private firstLine(name: string): { line: number; col: number } {
    const hs = this.sc.hosts.get(name);
    const l = hs?.setup[0];
    return l ? { line: l.line, col: l.col } : this.hostPos(name);
  }

  private listenPos(name: string): { line: number; col: number } {
    const hs = this.sc.hosts.get(name);
    if (!hs) return { line: 1, col: 1 };
    // The listen: key, or the host itself when it has none.
    for (let i = hs.pos.line; i < this.src.length && i < hs.pos.line + 400; i++) {
      const m = /^(\s*)listen:/.exec(this.src[i - 1] ?? '');
      if (m) return { line: i, col: m[1]!.length + 1 };
    }
    return this.hostPos(name);
  }

  /** The last line of the host's setup or files that matches: the one whose effect stands. */
  private lineOf(name: string, re: RegExp): { line: number; col: number } | null {
    const hs = this.sc.hosts.get(name);
    return hs ? this.lastMatch(allLines(hs), re) : null;
  }

  /** The last setup line (not a file) that matches: for a device's state, which only commands set. */
  private setupLineOf(name: string, re: RegExp): { line: number; col: number } | null {
    const hs = this.sc.hosts.get(name);
    return hs ? this.lastMatch(hs.setup, re) : null;
  }

  private lastMatch(lines: ReadonlyArray<{ text: string; line: number; col: number }>, re: RegExp): { line: number; col: number } | null {
    let found: { line: number; col: number } | null = null;
    for (const l of lines) {
      const m = re.exec(l.text);
      if (!m) continue;
      const raw = this.src[l.line - 1];
      const col = raw !== undefined && raw.includes(l.text.trim()) ? raw.indexOf(l.text.trim()) + 1 + Math.max(0, l.text.trim().indexOf(m[0])) : l.col + m.index;
      found = { line: l.line, col };
    }
    return found;
  }

  /** The line that made a virtual service: its ipvsadm -A (this protocol and port), or keepalived's virtual_server. */
  private serviceLine(dir: WorldHost, svc: Service): { line: number; col: number } | null {
    const V = esc(formatIp4(svc.addr));
    const opt = svc.protocol === 'udp' ? '(-u|--udp-service)' : '(-t|--tcp-service)';
    return this.lineOf(dir.name, new RegExp(`ipvsadm\\s.*(-A|--add-service)\\b.*${opt}\\s+${V}:${svc.port}\\b`))
      ?? this.lineOf(dir.name, new RegExp(`virtual_server\\s+${V}\\s+${svc.port}\\b`))
      ?? this.lineOf(dir.name, new RegExp(`ipvsadm\\s.*(-A|--add-service)\\b.*${V}`));
  }

  private vipLine(rs: WorldHost, vip: Ip4): { line: number; col: number } | null {
    return this.lineOf(rs.name, new RegExp(esc(formatIp4(vip))));
  }

  /** The line that set the rp_filter in force on `dev` (all or the device, whichever is higher). */
  private rpFilterLine(wh: WorldHost, dev: string): { line: number; col: number } {
    const s = wh.host.sysctl;
    const which = s.devconf(dev, 'rp_filter') >= s.devconf('all', 'rp_filter') ? dev : 'all';
    return this.lineOf(wh.name, new RegExp(`net\\.ipv4\\.conf\\.${esc(which)}\\.rp_filter|/proc/sys/net/ipv4/conf/${esc(which)}/rp_filter`))
      ?? this.lineOf(wh.name, /rp_filter/) ?? this.firstLine(wh.name);
  }
}

// --- the path a packet will take ------------------------------------------------------------

/** The packet a walk stands for, for the iptables rules on the way, and its conntrack state there. */
interface Probe { readonly pkt: Ipv4; readonly ctinfo: number }

/** The first iptables drop among these hooks of a host (xtDryRun), or null. */
function fwAt(host: Host, probe: Probe, hooks: readonly ('PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING')[], inDev: NetDevice | null, outDev: NetDevice | null): Extract<DropReason, { code: 'iptables' }> | null {
  for (const h of hooks) {
    const r = xtDryRun(host, probe.pkt, h, h === 'OUTPUT' || h === 'POSTROUTING' ? null : inDev, h === 'PREROUTING' || h === 'INPUT' ? null : outDev, probe.ctinfo);
    if (r) return r;
  }
  return null;
}

/** A client's SYN (a representative ephemeral port), a real server's SYN-ACK, and the tunnel around a SYN. */
function synPkt(src: Ip4, dst: Ip4, dport: number): Ipv4 {
  return { proto: 'ipv4', src, dst, protocol: IPPROTO_TCP, ttl: 64, tos: 0, id: 0, df: true, payload: { proto: 'tcp', sport: 40000, dport, seq: 0, ack: 0, flags: TCP_SYN, window: 64240, options: { mss: 1460 }, data: new Uint8Array(0) } };
}
function synAckPkt(src: Ip4, dst: Ip4, sport: number): Ipv4 {
  return { proto: 'ipv4', src, dst, protocol: IPPROTO_TCP, ttl: 64, tos: 0, id: 0, df: true, payload: { proto: 'tcp', sport, dport: 40000, seq: 0, ack: 1, flags: TCP_SYN | TCP_ACK, window: 64240, options: { mss: 1460 }, data: new Uint8Array(0) } };
}
function ipipPkt(src: Ip4, dst: Ip4, inner: Ipv4): Ipv4 {
  return { proto: 'ipv4', src, dst, protocol: IPPROTO_IPIP, ttl: 64, tos: 0, id: 0, df: true, payload: inner };
}

interface ArpAsk { readonly target: Ip4; readonly asker: { host: Host; ip: Ip4 }; readonly answerers: ReadonlyArray<{ host: Host; dev: NetDevice }> }

type WalkEnd =
  | { readonly kind: 'local'; readonly host: Host; readonly dev: NetDevice; readonly arp: ArpAsk | null; readonly ttl: number }
  | { readonly kind: 'drop'; readonly host: Host; readonly dev: NetDevice | null; readonly reason: DropReason; readonly arp: ArpAsk | null };

/**
 * Where a packet src -> dst sent by `from` ends: routed hop by hop with each host's own
 * ip_route_output_key / ip_route_input_slow, the next hop resolved over the scenario's links
 * by who would answer its ARP (arp_ignore, arp_filter), as neigh_resolve_output would.
 * With a probe packet, each host's iptables chains on the way are asked too (xtDryRun); MTU is
 * not walked: the run shows that.
 */
function walk(world: World, from: WorldHost, src: Ip4, dst: Ip4, probe?: Probe): WalkEnd {
  let host = from.host;
  let ttl = host.sysctl.num('net.ipv4.ip_default_ttl') || 64;
  let o = ipRouteOutputAnySrc(host, dst);
  if (o === null) return { kind: 'drop', host, dev: null, reason: { code: 'no_route', dst }, arp: null };
  if (o.local) return { kind: 'local', host, dev: o.dev, arp: null, ttl };
  // The sender's own OUTPUT and POSTROUTING chains.
  const own = probe ? fwAt(host, probe, ['OUTPUT', 'POSTROUTING'], null, o.dev) : null;
  if (own) return { kind: 'drop', host, dev: o.dev, reason: own, arp: null };
  let dev = o.dev;
  let nexthop = o.nexthop;
  let lastArp: ArpAsk | null = null;
  for (let hop = 0; hop < 32; hop++) {
    const link = world.links.find(l => l.ends.some(e => e.host === host && e.dev === dev));
    if (!link) return { kind: 'drop', host, dev, reason: { code: 'link_down', dev: dev.name }, arp: lastArp };
    const asker = { host, ip: ipRouteOutputAnySrc(host, nexthop)?.src ?? src };
    const pinned = host.neighLookup(dev.name, nexthop);
    const answerers = link.ends.filter(e => e.host !== host && answersArp(e.host, e.dev, asker.ip, nexthop));
    lastArp = { target: nexthop, asker, answerers };
    const next = pinned && pinned.state === 'PERMANENT'
      ? link.ends.find(e => e.host !== host && e.dev.mac === pinned.mac)
      : answerers[0];
    if (!next) return { kind: 'drop', host, dev, reason: { code: 'arp_unresolved', nexthop, dev: dev.name }, arp: lastArp };
    host = next.host;
    const r = ipRouteInput(host, src, dst, next.dev);
    if (r.kind === 'drop') return { kind: 'drop', host, dev: next.dev, reason: r.reason, arp: lastArp };
    const fwIn = probe ? fwAt(host, probe, r.kind === 'local' ? ['PREROUTING', 'INPUT'] : ['PREROUTING'], next.dev, null) : null;
    if (fwIn) return { kind: 'drop', host, dev: next.dev, reason: fwIn, arp: lastArp };
    if (r.kind === 'local') return { kind: 'local', host, dev: next.dev, arp: lastArp, ttl };
    // ip_forward: a packet that would leave with TTL 0 is answered with ICMP time exceeded.
    if (ttl <= 1) return { kind: 'drop', host, dev: next.dev, reason: { code: 'ttl_exceeded', ttl }, arp: lastArp };
    ttl--;
    const route = r.route;
    const out = route.dev ? host.devices.get(route.dev) : undefined;
    if (!out || !out.up) return { kind: 'drop', host, dev: next.dev, reason: { code: 'no_route', dst }, arp: lastArp };
    const fwFwd = probe ? fwAt(host, probe, ['FORWARD', 'POSTROUTING'], next.dev, out) : null;
    if (fwFwd) return { kind: 'drop', host, dev: next.dev, reason: fwFwd, arp: lastArp };
    dev = out;
    nexthop = route.gw ?? dst;
  }
  return { kind: 'drop', host, dev, reason: { code: 'ttl_exceeded', ttl: 0 }, arp: lastArp };
}

/** arp_process: the target is local, the device takes ARP, and arp_ignore/arp_filter let it answer. */
function answersArp(host: Host, dev: NetDevice, sip: Ip4, tip: Ip4): boolean {
  if (!dev.up || dev.noarp || !host.isLocal(tip)) return false;
  if (arpIgnore(host, dev, sip, tip).ignore) return false;
  if (host.sysctl.confOr(dev.name, 'arp_filter')) {
    const back = ipRouteOutputAnySrc(host, sip);
    if (!back || back.dev !== dev) return false;
  }
  return true;
}

/**
 * The host as ip_tunnel_lookup would see it with every ipip device up (the rest unchanged): which
 * tunnel the packet is meant for when the lookup finds none because a device is down.
 */
function ipipDevicesUp(host: Host): Host {
  const devices = new Map([...host.devices].map(([n, d]) => [n, d.kind === 'ipip' && !d.up ? { ...d, up: true } : d] as const));
  return Object.create(host, { devices: { value: devices } }) as Host;
}

/** VIP:port, or for an all-ports service (vport 0, ipvsadm -p) the VIP and "all ports". */
function svcName(svc: Service): string {
  return svc.port ? `${formatIp4(svc.addr)}:${svc.port}` : `${formatIp4(svc.addr)} (all ports)`;
}

function isRealServerOf(wh: WorldHost, dir: WorldHost): boolean {
  return dir.ipvs.services.some(s => s.dests.some(d => wh.host.hasAddr(d.addr)));
}

/**
 * A director address `rs` can use as its gateway: on a segment they share, and inside a subnet
 * of the real server's device there (fib_check_nh: a gateway must be on-link), if any.
 */
function directorAddrOnLink(world: World, dir: WorldHost, rs: WorldHost): { addr: Ip4; dev: string } | null {
  for (const rsDev of rs.host.devices.values()) {
    if (!rsDev.up || rsDev.kind !== 'ether') continue;
    const link = world.links.find(l => l.ends.some(e => e.host === rs.host && e.dev === rsDev));
    for (const end of link?.ends ?? []) {
      if (end.host !== dir.host || !end.dev.up) continue;
      const a = end.dev.addrs.find(da => rsDev.addrs.some(ra => inPrefix(da.addr, ra.addr, ra.prefixLen)));
      if (a) return { addr: a.addr, dev: rsDev.name };
    }
  }
  return null;
}

function devCovering(host: Host, addr: Ip4): NetDevice | null {
  for (const d of host.devices.values()) if (d.kind === 'ether' && d.addrs.some(a => inPrefix(addr, a.addr, a.prefixLen))) return d;
  return null;
}

function rpFilterFix(host: Host, dev: string, to: number): string {
  const s = host.sysctl;
  const keys: string[] = [];
  if (s.devconf('all', 'rp_filter') === 1) keys.push(`net.ipv4.conf.all.rp_filter=${to}`);
  if (s.devconf(dev, 'rp_filter') === 1) keys.push(`net.ipv4.conf.${dev}.rp_filter=${to}`);
  return `sysctl -w ${keys.join(' ')}   # on ${host.name} (the effective value is max(all, ${dev}))`;
}

function allLines(hs: HostSpec): Array<{ text: string; line: number; col: number }> {
  const out: Array<{ text: string; line: number; col: number }> = [];
  for (const f of hs.files.values()) {
    f.text.split('\n').forEach((t, i) => { if (t.trim()) out.push({ text: t, line: f.line + i, col: 1 }); });
  }
  for (const l of hs.setup) out.push(l);
  // Files are read when a setup line loads them (sysctl -p, systemctl restart network): list
  // them first so a later setup line that overrides a file's value is the one found.
  return out;
}

function prefixToMask(len: number): string {
  const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return formatIp4(m);
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// --- confirmation by a run --------------------------------------------------------------------

export interface Confirmation {
  readonly finding: Finding;
  /** The record that proves it, or null when the run did not exercise it. */
  readonly record: TraceRecord | null;
}

/** Link each finding to the first drop in the run's trace that proves it. */
export function confirmFindings(findings: readonly Finding[], records: readonly TraceRecord[]): Confirmation[] {
  return findings.map(finding => {
    const p = finding.proof;
    if (!p) return { finding, record: null };
    const hits = p.hits ?? [];
    const record = records.find(r => r.host === p.host && (r.verdict === 'drop'
      ? r.reason !== undefined && p.drops.includes(r.reason.code)
      : r.verdict === 'hit' && hits.some(h => r.note?.startsWith(h)))) ?? null;
    return { finding, record };
  });
}

/** The packet that confirms a finding, as the CLI and the lab say it: "packet #20 dropped at rs1 (rp_filter)". */
export function confirmedBy(r: TraceRecord): string {
  return r.verdict === 'drop' ? `packet #${r.packet.id} dropped at ${r.host} (${r.reason!.code})` : `packet #${r.packet.id} at ${r.host}: ${r.note ?? r.verdict}`;
}

/** One finding as the CLI prints it: position, severity, code and host, then the detail. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.col}: ${f.severity} ${f.code} [${f.host}]\n` +
    `    ${f.message}\n` +
    `    kernel: ${f.check}\n` +
    `    fix: ${f.fix}`;
}

/** How long daemons (keepalived) run before the doctor reads the hosts, when no connection says. */
const DAEMON_SETTLE_NS = 5e9;
const MAX_SETTLE_NS = 60e9;

/** Parse a scenario, apply its setup lines, and diagnose it, without running any traffic. */
export function doctorScenarioText(text: string, file: string, seed?: number): { scenario: Scenario; findings: Finding[]; diagnostics: Diagnostic[] } {
  const parsed = parseScenario(text, file);
  const sc = parsed.scenario;
  const { world, diagnostics } = buildWorld(sc, seed ?? sc.seed);
  // A pool that keepalived programs exists once its daemons have started and checked: read the
  // hosts just before the first connection (the daemons' timers run, no traffic is sent).
  if ([...sc.hosts.values()].some(h => [...h.files.keys()].some(f => /keepalived\.conf$/.test(f)))) {
    const firsts = sc.traffic.filter(t => t.kind === 'connect' && t.atNs !== null).map(t => t.atNs!);
    world.engine.run(Math.min(firsts.length ? Math.min(...firsts) : DAEMON_SETTLE_NS, MAX_SETTLE_NS));
  }
  return { scenario: sc, findings: diagnose(sc, world, text), diagnostics: [...parsed.diagnostics, ...diagnostics] };
}
