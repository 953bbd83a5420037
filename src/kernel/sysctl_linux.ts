/**
 * kernel/sysctl_linux.ts: keys every Linux kernel has under /proc/sys that lvsim does not
 * model (kernel.sysrq, vm.swappiness, net.core.rmem_max, net.ipv4.tcp_syncookies ...). A
 * production sysctl.conf sets them; lvsim keeps what is written and lets it change nothing,
 * instead of calling the key missing. Names from the kernel's documentation of each directory:
 * Documentation/admin-guide/sysctl/{kernel,vm,fs,net}.rst and
 * Documentation/networking/ip-sysctl.rst (net.ipv4, net.ipv6, neigh). Only names listed
 * there count: a misspelt key is still missing, as on Linux.
 */

/** /proc/sys/kernel (Documentation/admin-guide/sysctl/kernel.rst). */
const KERNEL = [
  'acct', 'auto_msgmni', 'bpf_stats_enabled', 'cad_pid', 'cap_last_cap', 'core_pattern', 'core_pipe_limit',
  'core_uses_pid', 'ctrl-alt-del', 'dmesg_restrict', 'domainname', 'hostname', 'hardlockup_all_cpu_backtrace',
  'hardlockup_panic', 'hotplug', 'hung_task_panic', 'hung_task_check_count', 'hung_task_timeout_secs',
  'hung_task_check_interval_secs', 'hung_task_warnings', 'kexec_load_disabled', 'kptr_restrict', 'modprobe',
  'modules_disabled', 'msgmax', 'msgmnb', 'msgmni', 'msg_next_id', 'sem_next_id', 'shm_next_id', 'nmi_watchdog',
  'numa_balancing', 'numa_balancing_scan_period_min_ms', 'numa_balancing_scan_delay_ms',
  'numa_balancing_scan_period_max_ms', 'numa_balancing_scan_size_mb', 'osrelease', 'ostype', 'version',
  'overflowgid', 'overflowuid', 'panic', 'panic_on_io_nmi', 'panic_on_oops', 'panic_on_unrecovered_nmi',
  'panic_on_warn', 'panic_print', 'panic_on_rcu_stall', 'perf_cpu_time_max_percent', 'perf_event_paranoid',
  'perf_event_max_stack', 'perf_event_mlock_kb', 'perf_event_max_contexts_per_stack', 'pid_max', 'ns_last_pid',
  'printk', 'printk_delay', 'printk_ratelimit', 'printk_ratelimit_burst', 'printk_devkmsg', 'randomize_va_space',
  'sched_schedstats', 'sem', 'shmall', 'shmmax', 'shmmni', 'shm_rmid_forced', 'sysctl_writes_strict',
  'softlockup_all_cpu_backtrace', 'softlockup_panic', 'soft_watchdog', 'sysrq', 'tainted', 'threads-max',
  'unknown_nmi_panic', 'unprivileged_bpf_disabled', 'watchdog', 'watchdog_cpumask', 'watchdog_thresh',
  'random.boot_id', 'random.entropy_avail', 'random.poolsize', 'random.uuid', 'keys.maxkeys', 'keys.maxbytes',
  'yama.ptrace_scope',
];

/** /proc/sys/vm (Documentation/admin-guide/sysctl/vm.rst). */
const VM = [
  'admin_reserve_kbytes', 'compact_memory', 'compact_unevictable_allowed', 'dirty_background_bytes',
  'dirty_background_ratio', 'dirty_bytes', 'dirty_expire_centisecs', 'dirty_ratio', 'dirtytime_expire_seconds',
  'dirty_writeback_centisecs', 'drop_caches', 'extfrag_threshold', 'hugetlb_shm_group', 'laptop_mode',
  'legacy_va_layout', 'lowmem_reserve_ratio', 'max_map_count', 'memory_failure_early_kill',
  'memory_failure_recovery', 'min_free_kbytes', 'min_slab_ratio', 'min_unmapped_ratio', 'mmap_min_addr',
  'mmap_rnd_bits', 'mmap_rnd_compat_bits', 'nr_hugepages', 'nr_hugepages_mempolicy', 'nr_overcommit_hugepages',
  'numa_zonelist_order', 'oom_dump_tasks', 'oom_kill_allocating_task', 'overcommit_kbytes', 'overcommit_memory',
  'overcommit_ratio', 'page-cluster', 'panic_on_oom', 'stat_interval', 'stat_refresh', 'numa_stat', 'swappiness',
  'unprivileged_userfaultfd', 'user_reserve_kbytes', 'vfs_cache_pressure', 'watermark_boost_factor',
  'watermark_scale_factor', 'zone_reclaim_mode',
];

/** /proc/sys/fs (Documentation/admin-guide/sysctl/fs.rst). */
const FS = [
  'aio-max-nr', 'aio-nr', 'dentry-state', 'file-max', 'file-nr', 'inode-nr', 'inode-state', 'mount-max',
  'nr_open', 'overflowgid', 'overflowuid', 'pipe-max-size', 'pipe-user-pages-hard', 'pipe-user-pages-soft',
  'protected_fifos', 'protected_hardlinks', 'protected_regular', 'protected_symlinks', 'suid_dumpable',
  'lease-break-time', 'leases-enable', 'dir-notify-enable', 'inotify.max_user_watches',
  'inotify.max_user_instances', 'inotify.max_queued_events', 'epoll.max_user_watches',
  'mqueue.msg_max', 'mqueue.msgsize_max', 'mqueue.queues_max', 'mqueue.msg_default', 'mqueue.msgsize_default',
];

/** /proc/sys/net/core (Documentation/admin-guide/sysctl/net.rst, section 1). */
const NET_CORE = [
  'bpf_jit_enable', 'bpf_jit_harden', 'bpf_jit_kallsyms', 'bpf_jit_limit', 'dev_weight', 'dev_weight_rx_bias',
  'dev_weight_tx_bias', 'default_qdisc', 'busy_read', 'busy_poll', 'rmem_default', 'rmem_max', 'wmem_default',
  'wmem_max', 'message_burst', 'message_cost', 'netdev_budget', 'netdev_budget_usecs', 'netdev_max_backlog',
  'netdev_rss_key', 'netdev_tstamp_prequeue', 'optmem_max', 'rps_sock_flow_entries', 'flow_limit_cpu_bitmap',
  'flow_limit_table_len', 'tstamp_allow_data', 'xfrm_acq_expires', 'xfrm_aevent_etime', 'xfrm_aevent_rseqth',
  'xfrm_larval_drop', 'devconf_inherit_init_net', 'high_order_alloc_disable', 'fb_tunnels_only_for_init_net',
  'max_skb_frags', 'skb_defer_max', 'gro_normal_batch', 'netdev_unregister_timeout_secs',
];

/** /proc/sys/net/ipv4, host-wide (Documentation/networking/ip-sysctl.rst). */
const NET_IPV4 = [
  'ip_dynaddr', 'ip_early_demux', 'ping_group_range', 'tcp_early_demux', 'udp_early_demux', 'ip_forward_use_pmtu',
  'ip_forward_update_priority', 'fwmark_reflect', 'fib_multipath_use_neigh', 'fib_multipath_hash_policy',
  'fib_multipath_hash_fields', 'fib_sync_mem', 'ip_autobind_reuse', 'ip_unprivileged_port_start',
  'ip_local_reserved_ports', 'ipfrag_high_thresh', 'ipfrag_low_thresh', 'ipfrag_time', 'ipfrag_max_dist',
  'inet_peer_threshold', 'inet_peer_minttl', 'inet_peer_maxttl', 'nexthop_compat_mode',
  'tcp_abort_on_overflow', 'tcp_adv_win_scale', 'tcp_allowed_congestion_control', 'tcp_app_win',
  'tcp_autocorking', 'tcp_available_congestion_control', 'tcp_base_mss', 'tcp_mtu_probe_floor',
  'tcp_min_snd_mss', 'tcp_congestion_control', 'tcp_dsack', 'tcp_early_retrans', 'tcp_ecn', 'tcp_ecn_fallback',
  'tcp_fack', 'tcp_fastopen', 'tcp_fastopen_blackhole_timeout_sec', 'tcp_fastopen_key', 'tcp_invalid_ratelimit',
  'tcp_keepalive_time', 'tcp_keepalive_probes', 'tcp_keepalive_intvl', 'tcp_l3mdev_accept', 'tcp_low_latency',
  'tcp_max_orphans', 'tcp_max_syn_backlog', 'tcp_max_tw_buckets', 'tcp_mem', 'tcp_min_rtt_wlen',
  'tcp_moderate_rcvbuf', 'tcp_no_metrics_save', 'tcp_no_ssthresh_metrics_save', 'tcp_orphan_retries',
  'tcp_recovery', 'tcp_reordering', 'tcp_max_reordering', 'tcp_retrans_collapse', 'tcp_retries1',
  'tcp_retries2', 'tcp_rfc1337', 'tcp_rmem', 'tcp_slow_start_after_idle', 'tcp_stdurg', 'tcp_syncookies',
  'tcp_migrate_req', 'tcp_fastopen', 'tcp_thin_linear_timeouts', 'tcp_tw_reuse', 'tcp_tw_recycle',
  'tcp_limit_output_bytes', 'tcp_challenge_ack_limit', 'tcp_comp_sack_delay_ns', 'tcp_comp_sack_nr',
  'tcp_comp_sack_slack_ns', 'tcp_notsent_lowat', 'tcp_pacing_ss_ratio', 'tcp_pacing_ca_ratio',
  'tcp_tso_win_divisor', 'tcp_wmem', 'tcp_workaround_signed_windows', 'tcp_frto', 'tcp_thin_dupack',
  'tcp_child_ehash_entries', 'tcp_ehash_entries', 'tcp_plb_enabled', 'tcp_rx_skb_cache', 'tcp_tx_skb_cache',
  'tcp_probe_interval', 'tcp_probe_threshold', 'tcp_mtu_probing',
  'udp_l3mdev_accept', 'udp_mem', 'udp_rmem_min', 'udp_wmem_min', 'udp_child_hash_entries', 'udp_hash_entries',
  'raw_l3mdev_accept', 'cipso_cache_enable', 'cipso_cache_bucket_size', 'cipso_rbm_optfmt', 'cipso_rbm_strictvalid',
  'icmp_echo_enable_probe', 'icmp_echo_ignore_broadcasts', 'icmp_ratemask', 'icmp_ignore_bogus_error_responses',
  'icmp_errors_use_inbound_ifaddr', 'icmp_msgs_per_sec', 'icmp_msgs_burst', 'igmp_link_local_mcast_reports',
  'igmp_max_memberships', 'igmp_max_msf', 'igmp_qrv', 'force_igmp_version', 'tcp_fin_timeout',
];

/** net.ipv4.route.* (ip-sysctl.rst, "/proc/sys/net/ipv4/route/*"). */
const NET_IPV4_ROUTE = [
  'error_burst', 'error_cost', 'flush', 'gc_elasticity', 'gc_interval', 'gc_min_interval', 'gc_min_interval_ms',
  'gc_thresh', 'gc_timeout', 'max_size', 'min_adv_mss', 'min_pmtu', 'mtu_expires', 'redirect_load',
  'redirect_number', 'redirect_silence',
];

/** net.ipv6.* host-wide (ip-sysctl.rst, "/proc/sys/net/ipv6/*"). */
const NET_IPV6 = [
  'bindv6only', 'flowlabel_consistency', 'auto_flowlabels', 'flowlabel_state_ranges', 'flowlabel_reflect',
  'fib_multipath_hash_policy', 'anycast_src_echo_reply', 'idgen_delay', 'idgen_retries', 'mld_qrv',
  'max_dst_opts_number', 'max_hbh_opts_number', 'max_dst_opts_length', 'max_hbh_length', 'seg6_flowlabel',
  'ip_nonlocal_bind', 'ip6frag_high_thresh', 'ip6frag_low_thresh', 'ip6frag_time', 'icmp.ratelimit',
  'icmp.echo_ignore_all', 'icmp.echo_ignore_multicast', 'icmp.echo_ignore_anycast', 'route.gc_thresh',
  'route.max_size', 'route.gc_min_interval', 'route.gc_timeout', 'route.gc_interval', 'route.gc_elasticity',
  'route.mtu_expires', 'route.min_adv_mss', 'route.flush',
];

/** net.ipv6.conf.{all,default,DEV}.* (ip-sysctl.rst, "conf/interface/*"). */
const IPV6_CONF = [
  'accept_dad', 'accept_ra', 'accept_ra_defrtr', 'accept_ra_from_local', 'accept_ra_min_hop_limit',
  'accept_ra_pinfo', 'accept_ra_rt_info_max_plen', 'accept_ra_rt_info_min_plen', 'accept_ra_rtr_pref',
  'accept_ra_mtu', 'accept_redirects', 'accept_source_route', 'addr_gen_mode', 'autoconf', 'dad_transmits',
  'disable_ipv6', 'disable_policy', 'enhanced_dad', 'forwarding', 'hop_limit', 'ignore_routes_with_linkdown',
  'keep_addr_on_down', 'max_addresses', 'max_desync_factor', 'mc_forwarding', 'mldv1_unsolicited_report_interval',
  'mldv2_unsolicited_report_interval', 'mtu', 'ndisc_notify', 'optimistic_dad', 'proxy_ndp', 'regen_max_retry',
  'router_probe_interval', 'router_solicitation_delay', 'router_solicitation_interval',
  'router_solicitation_max_interval', 'router_solicitations', 'seg6_enabled', 'stable_secret',
  'suppress_frag_ndisc', 'temp_prefered_lft', 'temp_valid_lft', 'use_optimistic', 'use_tempaddr',
  'drop_unicast_in_l2_multicast', 'drop_unsolicited_na', 'force_mld_version', 'force_tllao', 'rpl_seg_enabled',
];

/** net.ipv4.neigh.{default,DEV}.* and net.ipv6.neigh.* (ip-sysctl.rst, "neigh/default/*"). */
const NEIGH = [
  'anycast_delay', 'app_solicit', 'base_reachable_time', 'base_reachable_time_ms', 'delay_first_probe_time',
  'gc_stale_time', 'interval_probe_time_ms', 'locktime', 'mcast_resolicit', 'mcast_solicit', 'proxy_delay',
  'proxy_qlen', 'retrans_time', 'retrans_time_ms', 'ucast_solicit', 'unres_qlen', 'unres_qlen_bytes',
];
/** Only neigh.default has the garbage collector's thresholds. */
const NEIGH_DEFAULT_ONLY = ['gc_interval', 'gc_thresh1', 'gc_thresh2', 'gc_thresh3'];

const FIXED: ReadonlySet<string> = new Set([
  ...KERNEL.map(k => `kernel.${k}`),
  ...VM.map(k => `vm.${k}`),
  ...FS.map(k => `fs.${k}`),
  ...NET_CORE.map(k => `net.core.${k}`),
  ...NET_IPV4.map(k => `net.ipv4.${k}`),
  ...NET_IPV4_ROUTE.map(k => `net.ipv4.route.${k}`),
  ...NET_IPV6.map(k => `net.ipv6.${k}`),
  'net.unix.max_dgram_qlen',
]);
const IPV6_CONF_SET: ReadonlySet<string> = new Set(IPV6_CONF);
const NEIGH_SET: ReadonlySet<string> = new Set(NEIGH);
const NEIGH_DEFAULT_SET: ReadonlySet<string> = new Set(NEIGH_DEFAULT_ONLY);

/**
 * True when `key` (dotted) names a file Linux has under /proc/sys. Per-device keys count only
 * for a device the host has (`hasDevice` answers for real devices; all and default are checked
 * here), so net.ipv6.conf.eth9.disable_ipv6 is missing on a host without eth9, as on Linux.
 */
export function isLinuxSysctl(key: string, hasDevice: (dev: string) => boolean): boolean {
  if (FIXED.has(key)) return true;
  let m = /^net\.ipv6\.conf\.([^.]+)\.([a-z_0-9]+)$/.exec(key);
  if (m) return IPV6_CONF_SET.has(m[2]!) && (m[1] === 'all' || m[1] === 'default' || hasDevice(m[1]!));
  m = /^net\.ipv[46]\.neigh\.([^.]+)\.([a-z_0-9]+)$/.exec(key);
  if (m) {
    if (m[1] === 'default') return NEIGH_SET.has(m[2]!) || NEIGH_DEFAULT_SET.has(m[2]!);
    return NEIGH_SET.has(m[2]!) && hasDevice(m[1]!);
  }
  return false;
}
