/**
 * kernel/explain.ts: what a drop means and what fixes it, for each DropReason. The switch is
 * exhaustive: a new reason does not compile until it has its message and its fix.
 */
import { formatIp4 } from '../net/addr';
import type { DropReason } from './record';

export interface Explanation {
  /** One sentence: what the kernel did and why. */
  readonly message: string;
  /** The knob or configuration to change, with the command, when there is one. */
  readonly fix?: string;
  /** The kernel function or check responsible. */
  readonly check: string;
}

const PROTO: Record<number, string> = { 1: 'ICMP', 4: 'IPIP', 6: 'TCP', 17: 'UDP' };

export function explainDrop(r: DropReason): Explanation {
  switch (r.code) {
    case 'rp_filter': {
      const mode = r.effective === 1 ? 'strict' : 'loose';
      const why = r.mode === 'strict'
        ? `the route back to the source does not leave through ${r.dev}`
        : r.mode === 'loose-no-addr' ? `${r.dev} has no IPv4 address, so even loose mode rejects it` : 'there is no route back to the source';
      return {
        check: 'fib_validate_source (rp_filter)',
        message: `Reverse-path filter (${mode}, max(conf.all=${r.all}, conf.${r.dev}=${r.devValue}) = ${r.effective}) dropped it: ${why}. Counted as TcpExtIPReversePathFilter.`,
        fix: `sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.${r.dev}.rp_filter=0 (the effective value is the max of both)`,
      };
    }
    case 'martian_source':
      return {
        check: 'ip_route_input_slow (martian source)',
        message: r.why === 'local'
          ? `Martian source on ${r.dev}: the source ${formatIp4(r.src)} is one of this host's own addresses.`
          : `Martian source ${formatIp4(r.src)} on ${r.dev} (${r.why} address).`,
        fix: r.why === 'local' ? 'Route the replies so they do not come back through this host (do not use the director as the real server\'s gateway), or set accept_local=1 if it is intended.' : undefined,
      };
    case 'forwarding_disabled':
      return {
        check: 'ip_route_input_slow (IN_DEV_FORWARD)',
        message: `${formatIp4(r.dst)} is not a local address and forwarding is off on ${r.dev}: dropped silently (IpInAddrErrors).`,
        fix: `If this host should accept it, add the address (for a real server: ip addr add ${formatIp4(r.dst)}/32 dev tunl0); if it should route it, sysctl -w net.ipv4.ip_forward=1`,
      };
    case 'no_route':
      return { check: 'fib_lookup', message: `No route to ${formatIp4(r.dst)}.`, fix: `ip route add ${formatIp4(r.dst)}/32 via GATEWAY (or a default route)` };
    case 'protocol_unreachable':
      return {
        check: 'ip_protocol_deliver_rcu',
        message: `No handler for IP protocol ${r.protocol}${PROTO[r.protocol] ? ` (${PROTO[r.protocol]})` : ''}: ICMP protocol unreachable sent back.`,
        fix: r.protocol === 4 ? 'modprobe ipip (and bring tunl0 up with the VIP on it)' : undefined,
      };
    case 'tunnel_unmatched':
      return {
        check: 'tunnel4_rcv / ip_tunnel_lookup',
        message: `The ipip module is loaded but no tunnel device that is up takes ${formatIp4(r.src)} > ${formatIp4(r.dst)} (tunl0 is down): ICMP port unreachable sent back.`,
        fix: 'ip link set tunl0 up',
      };
    case 'no_listener':
      return {
        check: r.proto === 'tcp' ? 'tcp_v4_rcv (no socket)' : '__udp4_lib_rcv (no socket)',
        message: `Nothing listens on ${r.proto.toUpperCase()} port ${r.port}: ${r.reply === 'rst' ? 'answered with RST' : 'ICMP port unreachable sent back'}.`,
        fix: `Start the service on port ${r.port} (listening on 0.0.0.0 or the VIP).`,
      };
    case 'frag_needed':
      return {
        check: 'ensure_mtu_is_adequate / ip_forward (DF set)',
        message: `${r.len} bytes with DF set exceed the MTU ${r.mtu}: ICMP fragmentation needed (MTU ${r.mtu}) sent to the sender.`,
        fix: 'Normal path-MTU discovery: the sender lowers its segment size. To avoid it, lower the client MSS or raise the tunnel path MTU.',
      };
    case 'ttl_exceeded':
      return { check: 'ip_forward / decrement_ttl', message: `TTL ${r.ttl} would reach 0: ICMP time exceeded sent back.`, fix: 'Check for a routing loop, or send with a larger TTL.' };
    case 'arp_unresolved':
      return {
        check: 'neigh_timer_handler (NUD_FAILED)',
        message: `No ARP reply for ${formatIp4(r.nexthop)} on ${r.dev} after 3 requests.`,
        fix: `Check that ${formatIp4(r.nexthop)} exists on that segment and answers ARP for it (arp_ignore on the target, the sender address chosen by arp_announce here).`,
      };
    case 'neigh_queue_full':
      return {
        check: '__neigh_event_send (unres_qlen)',
        message: `${r.qlen} packets already wait for ARP resolution of ${formatIp4(r.nexthop)} on ${r.dev}: the oldest is dropped (unres_discards).`,
        fix: `Find out why ${formatIp4(r.nexthop)} does not answer ARP (it is down, or arp_ignore keeps it quiet), or send less to it while it resolves.`,
      };
    case 'otherhost':
      return { check: 'ip_rcv_core (PACKET_OTHERHOST)', message: `The frame on ${r.dev} was addressed to another host's MAC.` };
    case 'link_down':
      return { check: 'dev_queue_xmit / netif_receive_skb', message: `${r.dev} is down or not attached to any link.`, fix: `ip link set ${r.dev} up` };
    case 'ipvs_no_dest':
      return {
        check: 'ip_vs_schedule -> ip_vs_leave',
        message: `IPVS: ${r.scheduler}: ${r.service} - no destination available (all real servers weight 0 or overloaded): ICMP port unreachable to the client.`,
        fix: `Add a real server or give one a weight: ipvsadm -e -t ${r.service.split(' ')[1]} -r RIP -i -w 1`,
      };
    case 'ipvs_dest_unavailable':
      return {
        check: 'ip_vs_in_hook (dest not available)',
        message: `The connection's real server ${r.dest} was deleted; packets of the old connection are dropped.`,
        fix: 'sysctl -w net.ipv4.vs.expire_nodest_conn=1 (expire such connections so clients reconnect)',
      };
    case 'ipvs_mtu_too_small':
      return { check: 'ip_vs_tunnel_xmit', message: `The tunnel MTU ${r.mtu} is below 68: dropped.`, fix: 'Raise the MTU of the route to the real server.' };
    case 'ecn_decap':
      return { check: 'IP_ECN_decapsulate', message: `Outer header marked CE (tos ${r.tos}) over a not-ECT inner packet: dropped on decapsulation.` };
    case 'tcp_invalid':
      return { check: 'tcp_v4_rcv', message: `TCP segment not accepted: ${r.why}.` };
    case 'icmp_unmatched':
      return { check: 'icmp_rcv', message: 'ICMP error about a flow this host does not know.' };
    case 'arp_ignored':
      return {
        check: r.why === 'arp_filter' ? 'arp_filter' : 'arp_ignore',
        message: r.why === 'arp_ignore'
          ? `ARP request for ${formatIp4(r.tpa)} on ${r.dev} not answered: arp_ignore=${r.mode} and ${formatIp4(r.tpa)} is not configured on ${r.dev}${r.mode === 2 ? ' (or the sender is not in its subnet)' : ''}.`
          : r.why === 'arp_filter' ? `ARP request for ${formatIp4(r.tpa)} not answered on ${r.dev}: arp_filter, the reply would leave by another device.`
          : `ARP request for ${formatIp4(r.tpa)}: not a local address.`,
        fix: r.why === 'arp_ignore' ? 'Intended on a real server for the VIP (arp_ignore=1); if this address must answer, configure it on the receiving device or lower arp_ignore.' : undefined,
      };
  }
}
