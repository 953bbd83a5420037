/**
 * daemons/keepalived/vrrp.ts: keepalived's VRRP process (Keepalived_vrrp), VRRP version 2
 * (RFC 3768) as keepalived/vrrp/vrrp.c and vrrp_scheduler.c run it. Adverts are IP protocol 112 to
 * 224.0.0.18 with TTL 255 out of the instance's interface, from its primary address, through a raw
 * socket that joined the group (kernel/mcast.ts). An instance starts in BACKUP (unless priority
 * 255) and becomes MASTER when no advert came for 3 x advert_int + skew ((256 - priority) / 256 of
 * advert_int); a MASTER sends an advert every advert_int, adds its virtual_ipaddress and sends
 * garp_master_repeat gratuitous ARPs, again after garp_master_delay; it steps down on a higher
 * priority advert (or an equal one from a higher address). A BACKUP resets its timer on adverts of
 * at least its own priority; lower ones it discards and takes over (preemption), unless nopreempt,
 * or until preempt_delay has passed. vrrp_sync_group members follow each other's transitions.
 * An advert whose interval differs from ours, or whose addresses differ from our virtual_ipaddress
 * list, is dropped with keepalived's log line (vrrp_check_packet): peers that disagree each go
 * MASTER. A MASTER's advert timer restarts on every advert it reads (vrrp_dispatcher_read).
 * SIGTERM: priority-0 advert, VIPs removed. SIGKILL: nothing undone (the VIP stays).
 * Simplified: keepalived hears link changes of tracked interfaces by netlink at once; lvsim looks
 * at them on each VRRP timer tick (within advert_int). lvs_sync_daemon naming an instance: the
 * backup sync daemon from the start, the master while the instance is MASTER (ipvswrapper.ts).
 * Not modelled (refused at start, config/keepalived.ts): authentication, unicast peers, VRRPv3,
 * VMACs, notify scripts and FIFOs; IPv6.
 */
import { type Ip4, formatIp4, ip4 } from '../../net/addr';
import { type Arp, type Ipv4, ETH_P_ARP } from '../../net/packet';
import { BROADCAST_MAC } from '../../net/addr';
import type { EventHandle, Ns } from '../../sim/engine';
import type { Host, NetDevice } from '../../kernel/host';
import type { Skb } from '../../kernel/skb';
import { KernelError } from '../../kernel/host';
import { devXmit } from '../../kernel/ip';
import { mcJoin, mcLeave, mcSend, rawSocket } from '../../kernel/mcast';
import type { KaConfig, KaVrrpInstance } from '../../config/keepalived';
import type { IpvsCtl } from '../../ipvs/ctl';
import { type LvsSyncdConfig, ipvsSyncdBackup, ipvsSyncdCmd, ipvsSyncdMaster } from './ipvswrapper';

export const VRRP_GROUP = ip4('224.0.0.18');
/** Who the changes the VRRP process makes are recorded as. */
export const VRRP_PROCESS = 'keepalived (Keepalived_vrrp)';
export const IPPROTO_VRRP = 112;
const VRRP_PRIO_OWNER = 255;
const DOWN_TIMER_ADVERTS = 3;

/** STOP: keepalived's VRRP_STATE_STOP, an instance shut down (SIGTERM). */
type State = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface VrrpEnv {
  readonly host: Host;
  /** For lvs_sync_daemon with `inst`: this process starts and stops the sync daemons. */
  readonly ipvs: IpvsCtl;
  readonly log: (msg: string) => void;
  /** -D (--log-detail): keepalived logs timeouts, VIP changes and each gratuitous ARP only then. */
  readonly detail: boolean;
}

/** RFC 3768 section 5.1: version 2, type 1 (advertisement), auth type 0, the addresses, 8 bytes of auth data. */
export function encodeAdvert(vrid: number, prio: number, advertIntS: number, vips: readonly Ip4[]): Uint8Array {
  const b = new Uint8Array(8 + 4 * vips.length + 8);
  b[0] = 0x21; b[1] = vrid; b[2] = prio; b[3] = vips.length; b[4] = 0; b[5] = advertIntS;
  vips.forEach((a, i) => { const o = 8 + 4 * i; b[o] = a >>> 24; b[o + 1] = (a >>> 16) & 255; b[o + 2] = (a >>> 8) & 255; b[o + 3] = a & 255; });
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const c = ~sum & 0xffff;
  b[6] = c >> 8; b[7] = c & 255;
  return b;
}

export interface Advert { readonly vrid: number; readonly prio: number; readonly advertIntS: number; readonly vips: Ip4[] }

/** The fields of an advert, or null when it is not a valid VRRPv2 advertisement (vrrp_check_packet). */
export function decodeAdvert(b: Uint8Array): Advert | null {
  if (b.length < 8 || b[0] !== 0x21) return null;
  const n = b[3];
  if (b.length < 8 + 4 * n) return null;
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  if (sum !== 0xffff) return null;
  const vips: Ip4[] = [];
  for (let i = 0; i < n; i++) { const o = 8 + 4 * i; vips.push(((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0); }
  return { vrid: b[1], prio: b[2], advertIntS: b[5], vips };
}

class Instance {
  private st: State = 'INIT';
  get state(): State { return this.st; }
  /** Every transition is also a trace event, for the run's timeline (trace/record.ts DaemonEvent). */
  set state(to: State) {
    if (to === this.st) return;
    this.env.host.emit.event({ kind: 'vrrp', instance: this.name, from: this.st, to, vips: this.conf.vips.map(v => v.addr) });
    this.st = to;
  }
  private timer: EventHandle | null = null;
  private garpTimer: EventHandle | null = null;
  /** master_adver_int: v2 keeps our own advert_int. */
  readonly adverNs: Ns;
  /** When a preempt_delay started (0: not running). */
  private preemptAt: Ns = 0;
  /** master_saddr: the source of the last advert a BACKUP took as the master's (null: none yet). */
  private masterSaddr: Ip4 | null = null;
  sync: Instance[] = [];
  /** lvs_sync_daemon's settings when it names this instance (global_data->lvs_syncd.vrrp). */
  syncd: LvsSyncdConfig | null = null;

  constructor(private readonly vrrp: VrrpProcess, readonly conf: KaVrrpInstance, readonly dev: NetDevice) {
    this.adverNs = conf.advertIntNs;
  }

  private get env() { return this.vrrp.env; }
  private get engine() { return this.env.host.engine; }
  private get name() { return this.conf.name; }

  /** VRRP_TIMER_SKEW (v2): (256 - priority) * TIMER_HZ / 256, in whole microseconds. */
  private skewNs(): Ns { return Math.floor(((256 - this.conf.priority) * this.adverNs / 1000) / 256) * 1000; }
  private msDownNs(): Ns { return DOWN_TIMER_ADVERTS * this.adverNs + this.skewNs(); }

  private arm(delay: Ns, fn: () => void): void {
    if (this.timer) this.engine.cancel(this.timer);
    this.timer = this.engine.after(delay, () => { this.timer = null; if (!this.vrrp.dead) fn(); });
  }

  /** The interface (and tracked ones) up and running? */
  private linkOk(): boolean {
    const h = this.env.host;
    const ok = (d: NetDevice | undefined) => !!d && h.isRunning(d);
    return ok(this.dev) && this.conf.trackInterface.every(n => ok(h.devices.get(n)));
  }

  /**
   * vrrp_init_state: the backup sync daemon starts when lvs_sync_daemon names this instance
   * (the state is not yet MASTER), VIPs that are configured (left over) are removed, then
   * BACKUP (or FAULT).
   */
  start(): void {
    if (this.syncd) ipvsSyncdCmd(this.env, 'IP_VS_SO_SET_STARTDAEMON', this.syncd, ['backup'], false);
    if (this.env.detail) this.env.log(`(${this.name}) removing VIPs.`);
    this.setVips(false);
    if (this.conf.priority === VRRP_PRIO_OWNER && this.conf.state === 'MASTER' && this.linkOk()) {
      this.gotoMaster();
      return;
    }
    if (!this.linkOk()) {
      this.env.log(`(${this.name}) Entering FAULT STATE (init)`);
      this.state = 'FAULT';
      this.arm(this.adverNs, () => this.faultTick());
      return;
    }
    this.env.log(`(${this.name}) Entering BACKUP STATE (init)`);
    this.state = 'BACKUP';
    this.arm(this.msDownNs(), () => this.downTimer());
  }

  /** The master-down timer ran out in BACKUP: vrrp_goto_master. */
  private downTimer(): void {
    if (!this.linkOk()) { this.enterFault(); return; }
    if (this.env.detail) this.env.log(`(${this.name}) Receive advertisement timeout`);
    this.gotoMaster();
    for (const o of this.sync) if (o !== this && o.state === 'BACKUP') o.syncTo('MASTER');
  }

  private gotoMaster(): void {
    // vrrp_state_master_tx: the advert goes first, so the old master drops the VIPs before the ARPs.
    this.sendAdvert(this.conf.priority);
    this.env.log(`(${this.name}) Entering MASTER STATE`);
    this.state = 'MASTER';
    if (this.env.detail) this.env.log(`(${this.name}) setting VIPs.`);
    this.setVips(true);
    this.linkUpdate();
    // vrrp_state_become_master: ipvs_syncd_master.
    if (this.syncd) ipvsSyncdMaster(this.env, this.syncd);
    if (this.conf.garpMasterDelayNs > 0) {
      if (this.garpTimer) this.engine.cancel(this.garpTimer);
      this.garpTimer = this.engine.after(this.conf.garpMasterDelayNs, () => {
        this.garpTimer = null;
        if (!this.vrrp.dead && this.state === 'MASTER') this.linkUpdate();
      });
    }
    this.arm(this.adverNs, () => this.masterTick());
  }

  private masterTick(): void {
    if (!this.linkOk()) { this.leaveMaster('FAULT'); return; }
    this.sendAdvert(this.conf.priority);
    this.arm(this.adverNs, () => this.masterTick());
  }

  private faultTick(): void {
    if (this.linkOk()) {
      this.env.log(`(${this.name}) Entering BACKUP STATE`);
      this.state = 'BACKUP';
      this.arm(this.msDownNs(), () => this.downTimer());
      return;
    }
    this.arm(this.adverNs, () => this.faultTick());
  }

  private enterFault(): void {
    this.env.log(`(${this.name}) Entering FAULT STATE`);
    this.state = 'FAULT';
    this.arm(this.adverNs, () => this.faultTick());
  }

  /** vrrp_state_leave_master: first ipvs_syncd_backup (the VIPs are set), then the state. */
  private leaveMaster(want: 'BACKUP' | 'FAULT'): void {
    if (this.syncd) ipvsSyncdBackup(this.env, this.syncd);
    if (want === 'BACKUP') this.env.log(`(${this.name}) Entering BACKUP STATE`);
    else { this.env.log(`(${this.name}) Entering FAULT STATE`); this.sendAdvert(0); }
    if (this.env.detail) this.env.log(`(${this.name}) removing VIPs.`);
    this.setVips(false);
    if (this.garpTimer) { this.engine.cancel(this.garpTimer); this.garpTimer = null; }
    this.state = want;
    this.preemptAt = 0;
    if (want === 'BACKUP') this.arm(this.msDownNs(), () => this.downTimer());
    else this.arm(this.adverNs, () => this.faultTick());
    for (const o of this.sync) if (o !== this && o.state === 'MASTER') o.syncTo(want);
  }

  /** A sync group member moved: follow it (vrrp_sync.c). */
  private syncTo(want: 'MASTER' | 'BACKUP' | 'FAULT'): void {
    if (want === 'MASTER') this.gotoMaster();
    else if (this.state === 'MASTER') this.leaveMaster(want);
  }

  /**
   * vrrp_check_packet (vrrp.c), the checks that concern this instance's configuration (rcv has
   * made the others): false when the advert is dropped, with keepalived's line. 2.2.7 logs each
   * dropped advert (no rate limit).
   */
  private checkPacket(adv: Advert, checkVipAddr: boolean): boolean {
    // VRRPv2: the interval must be ours, "to prevent concurrent VRID running => multiple master in 1 VRID".
    if (adv.advertIntS * 1e9 !== this.adverNs) {
      this.env.log(`(${this.name}) advertisement interval mismatch mine=${Math.floor(this.adverNs / 1e9)} sec rcv'd=${adv.advertIntS} sec`);
      return false;
    }
    if (!checkVipAddr) return true;
    if (adv.vips.length !== this.conf.vips.length) {
      this.env.log(`(${this.name}) received an unexpected ip number count ${adv.vips.length}, expected ${this.conf.vips.length}!`);
      return false;
    }
    // vrrp_in_chk_vips: each of our VIPs must be in the advert.
    const missing = this.conf.vips.find(v => !adv.vips.includes(v.addr));
    if (missing) {
      this.env.log(`(${this.name}) ip address associated with VRID ${this.conf.vrid} not present in MASTER advert: ${formatIp4(missing.addr)}`);
      return false;
    }
    return true;
  }

  /** An advert for our VRID arrived on our interface (vrrp_scheduler.c `vrrp_dispatcher_read`). */
  receive(src: Ip4, adv: Advert): void {
    const prio = this.conf.priority;
    if (this.state === 'BACKUP') {
      // vrrp_state_backup: with skip_check_adv_addr, the addresses are checked only when the master changes.
      const checkAddr = !this.conf.skipCheckAdvAddr || this.masterSaddr !== src;
      // A dropped advert is ignored: the master-down timer keeps running.
      if (!this.checkPacket(adv, checkAddr)) return;
      if (adv.prio === 0) {
        if (this.env.detail) this.env.log(`(${this.name}) Backup received priority 0 advertisement`);
        this.arm(this.skewNs(), () => this.downTimer());
        return;
      }
      const now = this.engine.now;
      const delayRunning = this.conf.preemptDelayNs > 0 && (this.preemptAt === 0 || this.preemptAt + this.conf.preemptDelayNs > now);
      if (this.conf.nopreempt || adv.prio >= prio || delayRunning) {
        this.masterSaddr = src;
        if (this.conf.preemptDelayNs > 0) {
          if (adv.prio >= prio) this.preemptAt = 0;
          else if (this.preemptAt === 0) this.preemptAt = now;
        }
        this.arm(this.msDownNs(), () => this.downTimer());
        return;
      }
      // !nopreempt, lower priority: discarded, the down timer keeps running (preemption).
      this.masterSaddr = src;
      this.env.log(`(${this.name}) received lower priority (${adv.prio}) advert from ${formatIp4(src)} - discarding`);
      return;
    }
    if (this.state !== 'MASTER') return;
    if (this.masterRx(src, adv)) { this.leaveMaster('BACKUP'); return; }
    // vrrp_dispatcher_read ends with vrrp_init_instance_sands: a MASTER that stays sends its next
    // advert adver_int after any advert it read, dropped ones too.
    this.arm(this.adverNs, () => this.masterTick());
  }

  /** vrrp_state_master_rx: true when the advert makes this MASTER step down. */
  private masterRx(src: Ip4, adv: Advert): boolean {
    const prio = this.conf.priority;
    if (!this.checkPacket(adv, true)) return false;
    if (adv.prio === 0) {
      this.sendAdvert(prio);
      if (this.env.detail) this.env.log(`(${this.name}) Master received priority 0 message`);
      return false;
    }
    const ours = this.vrrp.primary(this.dev) ?? 0;
    const higherAddr = src > ours;
    if (adv.prio < prio || (adv.prio === prio && !higherAddr)) {
      this.env.log(`(${this.name}) Received advert from ${formatIp4(src)} with lower priority ${adv.prio}, ours ${prio}, forcing new election`);
      this.sendAdvert(prio);
      return false;
    }
    if (adv.prio > prio) this.env.log(`(${this.name}) Master received advert from ${formatIp4(src)} with higher priority ${adv.prio}, ours ${prio}`);
    else this.env.log(`(${this.name}) Master received advert from ${formatIp4(src)} with same priority ${adv.prio} but higher IP address than ours`);
    return true;
  }

  sendAdvert(prio: number): void {
    const src = this.vrrp.primary(this.dev);
    if (src === null || !this.env.host.isRunning(this.dev)) return;
    const pkt: Ipv4 = {
      proto: 'ipv4', src, dst: VRRP_GROUP, protocol: IPPROTO_VRRP, ttl: 255, tos: 0xc0, id: this.vrrp.nextId(), df: false,
      payload: { proto: 'raw', data: encodeAdvert(this.conf.vrid!, prio, Math.max(1, Math.round(this.adverNs / 1e9)), this.conf.vips.map(v => v.addr)) },
    };
    mcSend(this.env.host, this.dev, pkt);
  }

  /** netlink_iplist: add or delete the virtual_ipaddress entries. */
  setVips(add: boolean): void {
    const h = this.env.host;
    for (const v of this.conf.vips) {
      const dev = v.dev ?? this.dev.name;
      try {
        if (add) h.addAddr(dev, v.addr, v.len, { scope: 'global' });
        else h.delAddr(dev, v.addr, v.len);
      } catch (e) {
        if (!(e instanceof KernelError)) throw e; // EEXIST on add, EADDRNOTAVAIL on delete: nothing to do
      }
    }
    // Recorded now, as `ip addr add|del` would be, made by the VRRP process.
    h.emit.configChanged(VRRP_PROCESS);
  }

  /** vrrp_send_link_update: garp_master_repeat gratuitous ARPs for each VIP. */
  private linkUpdate(): void {
    for (const v of this.conf.vips) {
      const dev = this.env.host.devices.get(v.dev ?? this.dev.name) ?? this.dev;
      if (this.env.detail) this.env.log(`(${this.name}) Sending/queueing gratuitous ARPs on ${dev.name} for ${formatIp4(v.addr)}`);
      for (let i = 0; i < this.conf.garpMasterRepeat; i++) {
        if (this.env.detail) this.env.log(`Sending gratuitous ARP on ${dev.name} for ${formatIp4(v.addr)}`);
        sendGratuitousArp(this.env.host, dev, v.addr);
      }
    }
  }

  stop(graceful: boolean): void {
    if (graceful && this.state === 'MASTER') {
      this.sendAdvert(0);
      if (this.env.detail) this.env.log(`(${this.name}) sent 0 priority`);
      if (this.env.detail) this.env.log(`(${this.name}) removing VIPs.`);
      this.setVips(false);
    }
    if (graceful) this.state = 'STOP';
    if (this.timer) this.engine.cancel(this.timer);
    if (this.garpTimer) this.engine.cancel(this.garpTimer);
    this.timer = this.garpTimer = null;
  }
}

/**
 * send_gratuitous_arp (vrrp_arp.c): an ARP request for the address from the address, broadcast,
 * from the interface's MAC, on a packet socket (no IP routing, no neighbour table).
 */
export function sendGratuitousArp(host: Host, dev: NetDevice, addr: Ip4): void {
  const arp: Arp = { proto: 'arp', op: 1, sha: dev.mac, spa: addr, tha: BROADCAST_MAC, tpa: addr };
  const id = host.ids.next();
  host.emit.pass({ id, pkt: arp }, 'arp', 'send', dev.name, noteGarp, addr);
  devXmit(host, dev, { proto: 'eth', src: dev.mac, dst: BROADCAST_MAC, ethertype: ETH_P_ARP, payload: arp }, { id, pkt: arp as never, dev: null });
}

const noteGarp = (addr: Ip4) => `gratuitous ARP for ${formatIp4(addr)}`;

/** The VRRP child: one raw socket per interface, the instances, their sync groups. */
export class VrrpProcess {
  private readonly instances: Instance[] = [];
  private closers: Array<() => void> = [];
  private stopped = false;
  private ipId = 0;

  constructor(readonly env: VrrpEnv, cfg: KaConfig) {
    for (const v of cfg.vrrpInstances) {
      const dev = env.host.devices.get(v.iface ?? '');
      if (!dev || v.vrid === null) continue;
      this.instances.push(new Instance(this, v, dev));
    }
    for (const g of cfg.syncGroups) {
      const members = this.instances.filter(i => g.group.includes(i.conf.name));
      for (const m of members) m.sync = members;
    }
    // vrrp_complete_init: the lvs_sync_daemon instance, its syncid the instance's VRID unless set.
    const sd = cfg.lvsSyncd;
    const tied = sd?.inst != null ? this.instances.find(i => i.conf.name === sd.inst) : undefined;
    if (sd && tied) tied.syncd = { ifname: sd.ifname, syncid: sd.syncid ?? tied.conf.vrid! };
  }

  get dead(): boolean { return this.stopped; }
  nextId(): number { this.ipId = (this.ipId + 1) & 0xffff; return this.ipId; }

  /** The interface's primary address (the advert source). */
  primary(dev: NetDevice): Ip4 | null {
    return this.env.host.primaryAddr(dev)?.addr ?? null;
  }

  /** Instances whose interface is missing: keepalived reports them and leaves them out. */
  static missing(host: Host, cfg: KaConfig): string[] {
    return cfg.vrrpInstances.filter(v => !host.devices.get(v.iface ?? '')).map(v => `(${v.name}) Unknown interface ${v.iface ?? ''}!`);
  }

  start(): void {
    const devs = new Set(this.instances.map(i => i.dev));
    for (const dev of devs) mcJoin(dev, VRRP_GROUP);
    this.closers.push(() => { for (const dev of devs) mcLeave(dev, VRRP_GROUP); });
    this.closers.push(rawSocket(this.env.host, IPPROTO_VRRP, (skb: Skb, dev: NetDevice) => this.rcv(skb, dev)));
    for (const i of this.instances) i.start();
  }

  private rcv(skb: Skb, dev: NetDevice): void {
    if (this.stopped) return;
    const p = skb.pkt;
    // vrrp_check_packet: TTL 255, a valid advert, not one of our own.
    if (p.ttl !== 255 || p.payload.proto !== 'raw') return;
    const adv = decodeAdvert(p.payload.data);
    if (!adv || this.env.host.hasAddr(p.src) && this.primary(dev) === p.src) return;
    for (const i of this.instances) if (i.dev === dev && i.conf.vrid === adv.vrid) i.receive(p.src, adv);
  }

  stop(graceful: boolean): void {
    if (this.stopped) return;
    // stop_vrrp: the sync daemon of the instance's state stops before the instances go.
    const tied = graceful ? this.instances.find(i => i.syncd) : undefined;
    if (tied?.syncd) ipvsSyncdCmd(this.env, 'IP_VS_SO_SET_STOPDAEMON', tied.syncd, [tied.state === 'MASTER' ? 'master' : 'backup'], false);
    for (const i of this.instances) i.stop(graceful);
    this.stopped = true;
    for (const c of this.closers) c();
    this.closers = [];
  }

  /** For views and tests: each instance's state. */
  states(): Array<{ name: string; state: State }> {
    return this.instances.map(i => ({ name: i.conf.name, state: i.state }));
  }
}
