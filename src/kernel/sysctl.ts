/**
 * kernel/sysctl.ts: the host's /proc/sys/net tree. Per-device IPv4 settings live in
 * net.ipv4.conf.<dev>.*, copied from conf.default when a device appears (devinet_sysctl
 * register). Which of `all` and `<dev>` wins is per knob (include/linux/inetdevice.h):
 * rp_filter, arp_ignore, arp_announce take the max; accept_local, log_martians, arp_filter
 * and send_redirects OR them; forwarding is the device's own value.
 */
import { isLinuxSysctl } from './sysctl_linux';

/** IPv4 devconf keys and their kernel defaults (Documentation/networking/ip-sysctl.rst). */
export const DEVCONF_DEFAULTS: Readonly<Record<string, number>> = {
  forwarding: 0,
  mc_forwarding: 0,
  accept_redirects: 1,
  secure_redirects: 1,
  shared_media: 1,
  rp_filter: 0,
  send_redirects: 1,
  accept_source_route: 0,
  accept_local: 0,
  src_valid_mark: 0,
  proxy_arp: 0,
  medium_id: 0,
  bootp_relay: 0,
  log_martians: 0,
  tag: 0,
  arp_filter: 0,
  arp_announce: 0,
  arp_ignore: 0,
  arp_accept: 0,
  arp_notify: 0,
  arp_evict_nocarrier: 1,
  proxy_arp_pvlan: 0,
  disable_xfrm: 0,
  disable_policy: 0,
  ignore_routes_with_linkdown: 0,
  drop_gratuitous_arp: 0,
  drop_unicast_in_l2_multicast: 0,
  route_localnet: 0,
  promote_secondaries: 0,
  bc_forwarding: 0,
};

/** Host-wide keys (net.ipv4.*, net.core.*) and defaults. */
export const GLOBAL_DEFAULTS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '0',
  'net.ipv4.ip_default_ttl': '64',
  'net.ipv4.ip_no_pmtu_disc': '0',
  'net.ipv4.ip_local_port_range': '32768\t60999',
  'net.ipv4.ip_nonlocal_bind': '0',
  'net.ipv4.icmp_echo_ignore_all': '0',
  'net.ipv4.icmp_ratelimit': '1000',
  'net.ipv4.tcp_syn_retries': '6',
  'net.ipv4.tcp_synack_retries': '5',
  'net.ipv4.tcp_fin_timeout': '60',
  'net.ipv4.tcp_timestamps': '1',
  'net.ipv4.tcp_sack': '1',
  'net.ipv4.tcp_window_scaling': '1',
  'net.ipv4.tcp_mtu_probing': '0',
  'net.core.somaxconn': '4096',
};

/**
 * net.netfilter.* (present once nf_conntrack is loaded), defaults from nf_conntrack_proto_tcp.c
 * tcp_timeouts[], nf_conntrack_proto_generic.c, _udp.c, _icmp.c (seconds).
 */
export const NF_CONNTRACK_DEFAULTS: Readonly<Record<string, string>> = {
  'net.netfilter.nf_conntrack_max': '262144',
  'net.netfilter.nf_conntrack_count': '0',
  'net.netfilter.nf_conntrack_generic_timeout': '600',
  'net.netfilter.nf_conntrack_icmp_timeout': '30',
  'net.netfilter.nf_conntrack_udp_timeout': '30',
  'net.netfilter.nf_conntrack_udp_timeout_stream': '120',
  'net.netfilter.nf_conntrack_tcp_loose': '1',
  'net.netfilter.nf_conntrack_tcp_be_liberal': '0',
  'net.netfilter.nf_conntrack_tcp_max_retrans': '3',
  'net.netfilter.nf_conntrack_tcp_timeout_syn_sent': '120',
  'net.netfilter.nf_conntrack_tcp_timeout_syn_recv': '60',
  'net.netfilter.nf_conntrack_tcp_timeout_established': '432000',
  'net.netfilter.nf_conntrack_tcp_timeout_fin_wait': '120',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait': '60',
  'net.netfilter.nf_conntrack_tcp_timeout_last_ack': '30',
  'net.netfilter.nf_conntrack_tcp_timeout_time_wait': '120',
  'net.netfilter.nf_conntrack_tcp_timeout_close': '10',
  'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': '300',
  'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': '300',
};

/** net.ipv4.vs.* (present once the ip_vs module is loaded), defaults from ip_vs_ctl.c. */
export const IPVS_DEFAULTS: Readonly<Record<string, string>> = {
  'net.ipv4.vs.am_droprate': '10',
  'net.ipv4.vs.amemthresh': '1024',
  'net.ipv4.vs.backup_only': '0',
  'net.ipv4.vs.cache_bypass': '0',
  'net.ipv4.vs.conn_reuse_mode': '1',
  'net.ipv4.vs.conntrack': '0',
  'net.ipv4.vs.drop_entry': '0',
  'net.ipv4.vs.drop_packet': '0',
  'net.ipv4.vs.expire_nodest_conn': '0',
  'net.ipv4.vs.expire_quiescent_template': '0',
  'net.ipv4.vs.ignore_tunneled': '0',
  'net.ipv4.vs.lblc_expiration': '86400',
  'net.ipv4.vs.lblcr_expiration': '86400',
  'net.ipv4.vs.nat_icmp_send': '0',
  'net.ipv4.vs.pmtu_disc': '1',
  'net.ipv4.vs.run_estimation': '1',
  'net.ipv4.vs.schedule_icmp': '0',
  'net.ipv4.vs.secure_tcp': '0',
  'net.ipv4.vs.sloppy_sctp': '0',
  'net.ipv4.vs.sloppy_tcp': '0',
  'net.ipv4.vs.snat_reroute': '1',
  'net.ipv4.vs.sync_persist_mode': '0',
  'net.ipv4.vs.sync_ports': '1',
  'net.ipv4.vs.sync_qlen_max': '0',
  'net.ipv4.vs.sync_refresh_period': '0',
  'net.ipv4.vs.sync_retries': '0',
  'net.ipv4.vs.sync_sock_size': '0',
  'net.ipv4.vs.sync_threshold': '3\t50',
  'net.ipv4.vs.sync_version': '1',
};

/**
 * Keys whose handler is proc_dointvec_minmax or proc_dou8vec_minmax, with the bounds of their
 * ctl_table (extra1, extra2): a write outside them fails with EINVAL and changes nothing.
 */
export const SYSCTL_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  // net/ipv4/sysctl_net_ipv4.c: ip_ttl_min 1, ip_ttl_max 255.
  'net.ipv4.ip_default_ttl': [1, 255],
  // tcp_syn_retries_min 1, tcp_syn_retries_max MAX_TCP_SYNCNT (127).
  'net.ipv4.tcp_syn_retries': [1, 127],
  // proc_dou8vec_minmax: a u8.
  'net.ipv4.tcp_synack_retries': [0, 255],
  'net.ipv4.icmp_echo_ignore_all': [0, 1],
};

/**
 * net.ipv4.neigh.<dev>.* (neigh_sysctl_register, net/core/neighbour.c), copied from
 * neigh.default when a device appears. locktime is in USER_HZ (1/100 s): 100 is one second.
 */
export const NEIGH_DEFAULTS: Readonly<Record<string, number>> = {
  locktime: 100,
};

const EMPTY_CONF: Readonly<Record<string, number>> = Object.freeze({});

export type SysctlError = { code: 'ENOENT'; message: string } | { code: 'EINVAL'; message: string };

/**
 * The values. Keys use dots (net.ipv4.conf.all.rp_filter); sysctl also accepts slashes,
 * which the sysctl tool normalises before calling in.
 */
export class Sysctls {
  private readonly values = new Map<string, string>();
  private readonly devs = new Set<string>();
  /** Numeric cache of devconf values, kept in step with `values`: the packet path reads these. */
  private readonly conf = new Map<string, Record<string, number>>();
  ipvsLoaded = false;
  /** Bumped on every change, so per-packet readers can cache values. */
  gen = 0;

  constructor() {
    for (const [k, v] of Object.entries(GLOBAL_DEFAULTS)) this.values.set(k, v);
    for (const d of ['all', 'default']) this.addConf(d, DEVCONF_DEFAULTS);
    for (const [k, v] of Object.entries(NEIGH_DEFAULTS)) this.values.set(`net.ipv4.neigh.default.${k}`, String(v));
  }

  /** net.ipv4.neigh.<dev>.<knob> as a number (the default table's value for unknown devices). */
  neigh(dev: string, knob: string): number {
    const v = this.values.get(`net.ipv4.neigh.${dev}.${knob}`) ?? this.values.get(`net.ipv4.neigh.default.${knob}`);
    return v === undefined ? NEIGH_DEFAULTS[knob] ?? 0 : parseInt(v, 10) || 0;
  }

  /** A device appeared: its conf is a copy of conf.default (devinet_init_net / inetdev_init). */
  addDevice(dev: string): void {
    if (this.devs.has(dev)) return;
    this.devs.add(dev);
    this.addConf(dev, this.conf.get('default')!);
    for (const k of Object.keys(NEIGH_DEFAULTS)) this.values.set(`net.ipv4.neigh.${dev}.${k}`, this.values.get(`net.ipv4.neigh.default.${k}`)!);
  }

  removeDevice(dev: string): void {
    if (!this.devs.delete(dev)) return;
    this.gen++;
    this.conf.delete(dev);
    for (const k of Object.keys(DEVCONF_DEFAULTS)) this.values.delete(`net.ipv4.conf.${dev}.${k}`);
    for (const k of Object.keys(NEIGH_DEFAULTS)) this.values.delete(`net.ipv4.neigh.${dev}.${k}`);
  }

  loadIpvs(): void {
    if (this.ipvsLoaded) return;
    this.gen++;
    this.ipvsLoaded = true;
    for (const [k, v] of Object.entries(IPVS_DEFAULTS)) this.values.set(k, v);
  }

  /** nf_conntrack's net.netfilter.* keys appear when the module loads. */
  loadConntrack(): void {
    if (this.values.has('net.netfilter.nf_conntrack_max')) return;
    this.gen++;
    for (const [k, v] of Object.entries(NF_CONNTRACK_DEFAULTS)) this.values.set(k, v);
  }

  unloadIpvs(): void {
    this.gen++;
    this.ipvsLoaded = false;
    for (const k of Object.keys(IPVS_DEFAULTS)) this.values.delete(k);
  }

  private addConf(dev: string, from: Readonly<Record<string, number>>): void {
    const c: Record<string, number> = { ...from };
    this.gen++;
    this.conf.set(dev, c);
    for (const [k, v] of Object.entries(c)) this.values.set(`net.ipv4.conf.${dev}.${k}`, String(v));
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  /** Numeric value of a host-wide key (0 when absent). */
  num(key: string): number {
    // Read per packet (ip_default_ttl, vs.pmtu_disc, ...): parsed once per value written.
    if (this.numsGen !== this.gen) { this.nums.clear(); this.numsGen = this.gen; }
    let n = this.nums.get(key);
    if (n === undefined) {
      const v = this.values.get(key);
      n = v === undefined ? 0 : parseInt(v, 10) || 0;
      this.nums.set(key, n);
    }
    return n;
  }
  private readonly nums = new Map<string, number>();
  private numsGen = -1;

  /**
   * The live devconf record of a device (or 'all'), for the packet path to read knobs as
   * properties without a lookup per packet. Updated in place by set(); empty for unknown devices.
   */
  /** conf.all, read per packet (rp_filter, accept_local). */
  get confAll(): Readonly<Record<string, number>> {
    return this.confAllRec ??= this.confOf('all');
  }
  private confAllRec: Readonly<Record<string, number>> | null = null;

  confOf(dev: string): Readonly<Record<string, number>> {
    return this.conf.get(dev) ?? EMPTY_CONF;
  }

  /** conf.<dev>.<knob> as a number (0 for unknown devices). */
  devconf(dev: string, knob: string): number {
    return this.conf.get(dev)?.[knob] ?? 0;
  }

  /** max(conf.all, conf.<dev>): rp_filter, arp_ignore, arp_announce. */
  confMax(dev: string, knob: string): number {
    return Math.max(this.devconf('all', knob), this.devconf(dev, knob));
  }

  /** conf.all || conf.<dev>: accept_local, log_martians, arp_filter, send_redirects. */
  confOr(dev: string, knob: string): boolean {
    return this.devconf('all', knob) !== 0 || this.devconf(dev, knob) !== 0;
  }

  /** conf.all && conf.<dev>: arp_evict_nocarrier (IN_DEV_ANDCONF). */
  confAnd(dev: string, knob: string): boolean {
    return this.devconf('all', knob) !== 0 && this.devconf(dev, knob) !== 0;
  }

  /**
   * Keys Linux has that the model does not (kernel.sysrq, net.core.rmem_max; see
   * sysctl_linux.ts): what was written is kept, so it reads back, and nothing reads it.
   * Kept apart from the modelled keys: they are not in `sysctl -a` or the config records.
   */
  private readonly unmodelled = new Map<string, string>();

  /** True for a key Linux has under /proc/sys that the model does not (per-device keys for this host's devices). */
  isUnmodelled(key: string): boolean {
    return !this.values.has(key) && isLinuxSysctl(key, dev => dev !== 'all' && dev !== 'default' && this.devs.has(dev));
  }

  /** Keep a value written to an unmodelled key (its text, as the kernel would store a string). */
  setUnmodelled(key: string, value: string): void {
    this.unmodelled.set(key, value.trim().replace(/\s+/g, '\t'));
  }

  /** The value last written to an unmodelled key, if the scenario wrote one. */
  getUnmodelled(key: string): string | undefined {
    return this.unmodelled.get(key);
  }

  /** All keys, sorted as `sysctl -a` prints them. */
  keys(): string[] {
    return [...this.values.keys()].sort();
  }

  /** Write a value as `sysctl -w` / `echo > /proc/sys/...` would. */
  set(key: string, raw: string): SysctlError | null {
    this.gen++;
    if (!this.values.has(key)) {
      return { code: 'ENOENT', message: `cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory` };
    }
    const value = raw.trim().replace(/\s+/g, '\t');
    const conf = /^net\.ipv4\.conf\.([^.]+)\.([a-z_0-9]+)$/.exec(key);
    const multi = key === 'net.ipv4.ip_local_port_range' || key === 'net.ipv4.vs.sync_threshold';
    if (!multi && !/^-?\d+$/.test(value)) {
      return { code: 'EINVAL', message: `setting key "${key}": Invalid argument` };
    }
    if (multi && !/^\d+\t\d+$/.test(value)) {
      return { code: 'EINVAL', message: `setting key "${key}": Invalid argument` };
    }
    const range = SYSCTL_RANGES[key];
    if (range && (Number(value) < range[0] || Number(value) > range[1])) {
      return { code: 'EINVAL', message: `setting key "${key}": Invalid argument` };
    }
    if (key === 'net.ipv4.ip_forward' || key === 'net.ipv4.conf.all.forwarding') {
      // devinet_sysctl_forward -> inet_forward_change: the value goes to all, default and every device.
      const v = Number(value) ? '1' : '0';
      this.values.set('net.ipv4.ip_forward', v);
      for (const d of this.conf.keys()) this.setConf(d, 'forwarding', Number(v));
      return null;
    }
    if (conf) {
      this.setConf(conf[1], conf[2], parseInt(value, 10));
      return null;
    }
    this.values.set(key, value);
    return null;
  }

  private setConf(dev: string, knob: string, v: number): void {
    const c = this.conf.get(dev);
    if (!c) return;
    c[knob] = v;
    this.values.set(`net.ipv4.conf.${dev}.${knob}`, String(v));
  }
}
