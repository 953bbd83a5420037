/**
 * kernel/explain.ts: what a drop means and what fixes it, for each DropReason. The switch is
 * exhaustive: a new reason does not compile until it has its message and its fix.
 */
import { formatIp4, networkOf } from '../net/addr';
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

/**
 * A drop that is a host rightly ignoring a frame, not a failure: ARP for an address arp_ignore
 * keeps quiet about, a frame for another host's MAC, multicast for a group it did not join.
 */
export function rightlyIgnored(r: DropReason): boolean {
  return r.code === 'arp_ignored' || r.code === 'otherhost' || r.code === 'mc_not_joined';
}

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
        fix: r.dev === 'tunl0'
          // decapsulated: the inner destination is the VIP this real server lacks
          ? `Put the VIP on this real server: ip addr add ${formatIp4(r.dst)}/32 dev tunl0`
          : `If this host routes for others (a router, a NAT director): sysctl -w net.ipv4.ip_forward=1; if ${formatIp4(r.dst)} should be one of its own addresses: ip addr add ${formatIp4(r.dst)}/32 dev lo`,
      };
    case 'no_route':
      if (r.tunnel && r.connected) {
        const a = `${formatIp4(r.connected.addr)}/${r.connected.prefixLen}`;
        const net = `${formatIp4(networkOf(r.connected.addr, r.connected.prefixLen))}/${r.connected.prefixLen}`;
        return {
          check: 'ip_tunnel_xmit (fallback tunnel, no remote endpoint)',
          message: `${formatIp4(r.dst)} is routed into ${r.tunnel} by ${net} dev ${r.tunnel}, the connected route the netmask of ${a} on ${r.tunnel} created; ${r.tunnel} has no remote endpoint, so the reply is dropped there.`,
          fix: `Give the VIP on ${r.tunnel} a /32 netmask: ip addr del ${a} dev ${r.tunnel}; ip addr add ${formatIp4(r.connected.addr)}/32 dev ${r.tunnel} (or ifconfig ${r.tunnel} ${formatIp4(r.connected.addr)} netmask 255.255.255.255)`,
        };
      }
      if (r.tunnel) {
        return { check: 'ip_tunnel_xmit (fallback tunnel, no remote endpoint)', message: `${formatIp4(r.dst)} is routed into ${r.tunnel}, which has no remote endpoint: dropped there.`, fix: `Remove the route through ${r.tunnel} (ip route show dev ${r.tunnel}); replies must leave by the real server's own interface.` };
      }
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
    case 'neigh_flushed': {
      const waited = `while this packet waited for ARP resolution of ${formatIp4(r.nexthop)}`;
      switch (r.cause) {
        case 'carrier':
          return {
            check: 'arp_netdev_event -> neigh_carrier_down (arp_evict_nocarrier)',
            message: `${r.dev} lost its carrier ${waited}: the neighbour entry and the packets queued on it were dropped.`,
            fix: `Restore the link on ${r.dev}; the sender's retransmissions resolve the neighbour again once it has carrier.`,
          };
        case 'down':
          return {
            check: 'fib_disable_ip -> arp_ifdown -> neigh_ifdown',
            message: `${r.dev} was set down ${waited}: all its neighbour entries, PERMANENT ones too, and the packets queued on them were dropped.`,
            fix: `ip link set ${r.dev} up (and add back any routes through it and PERMANENT neighbours: setting a device down removes them).`,
          };
        case 'deleted':
          return {
            check: 'unregister_netdevice -> arp_ifdown -> neigh_ifdown',
            message: `${r.dev} was deleted ${waited}: its neighbour entries and the packets queued on them were dropped.`,
          };
        case 'noaddr':
          return {
            check: 'fib_inetaddr_event -> fib_disable_ip -> arp_ifdown',
            message: `${r.dev} lost its last IPv4 address ${waited}: as for a device set down, its routes and neighbour entries went, with the packets queued on them.`,
            fix: `Add the address back (ip addr add ... dev ${r.dev}) and the routes through ${r.dev}.`,
          };
        case 'changeaddr':
          return {
            check: 'arp_netdev_event (NETDEV_CHANGEADDR) -> neigh_changeaddr',
            message: `${r.dev}'s MAC address changed ${waited}: all its neighbour entries, PERMANENT ones too, and the packets queued on them were dropped.`,
          };
      }
    }
    case 'otherhost':
      return { check: 'ip_rcv_core (PACKET_OTHERHOST)', message: `The frame on ${r.dev} was addressed to another host's MAC.` };
    case 'mc_not_joined':
      return {
        check: "the NIC's multicast filter (the device's mc list: dev_mc_add, ndo_set_rx_mode)",
        message: `The frame on ${r.dev} went to the multicast MAC ${r.mac}, a group no socket on this host joined: the NIC keeps it out and the stack never sees it. This is how a host ignores other hosts' multicast (VRRP adverts, IPVS sync messages).`,
      };
    case 'link_down':
      return { check: 'dev_queue_xmit / netif_receive_skb', message: `${r.dev} is down or not attached to any link.`, fix: `ip link set ${r.dev} up` };
    case 'host_crashed':
      return { check: 'panic (sysrq_handle_crash)', message: `This host's kernel has panicked: ${r.dev} still has carrier, but nothing runs to receive or send a frame; its neighbours' ARP for it goes unanswered.`, fix: `boot it again: a traffic step { fault: boot, host: ${r.host}, at: TIME }` };
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
    case 'ipvs_ttl_exceeded': {
      const loop = r.method === 'route' && r.gateway !== null;
      return {
        check: '__ip_vs_get_out_rt (decrement_ttl)',
        message: `TTL ${r.ttl} would reach 0 as IPVS sent the packet on to ${formatIp4(r.rip)}: ICMP time exceeded to the client, from the VIP (its connect fails with EHOSTUNREACH).`
          + (loop ? ` The real server is not on-link: ip_vs_dr_xmit sent the unchanged CIP -> VIP packet to the gateway ${formatIp4(r.gateway!)}, which routed it by its destination, the VIP, back to the director, and IPVS sent it again; every round trip cost two hops until none were left. Direct routing cannot reach a real server in another subnet.` : ''),
        fix: loop
          ? `Direct routing needs each real server on a LAN of the director's (ip route get ${formatIp4(r.rip)} must show no "via"). For real servers in other subnets use tunnelling: ipvsadm -e -t VIP:PORT -r ${formatIp4(r.rip)} -i, with modprobe ipip and the VIP on tunl0 on the real server.`
          : 'Look for a routing loop between the director and the real server, or send with a larger TTL.',
      };
    }
    case 'ipvs_crosses_local':
      return {
        check: '__ip_vs_get_out_rt (crosses_local_route_boundary)',
        message: `IPVS will not send a packet with the loopback source ${formatIp4(r.src)} to the non-local real server ${formatIp4(r.dst)}: dropped.`,
        fix: 'Connect to the virtual service from an address other than 127.0.0.0/8.',
      };
    case 'ipvs_dnat_loopback':
      return {
        check: 'ip_vs_nat_xmit (DNAT to loopback)',
        message: `IPVS NAT will not rewrite a packet from the network to the loopback real server ${formatIp4(r.dst)}: dropped.`,
        fix: 'Give the real server a non-loopback address (for a local service, the host\'s own address on the LAN).',
      };
    case 'ipvs_nat_no_conn':
      return {
        check: 'ip_vs_out (nat_icmp_send)',
        message: `A packet from the NAT real server ${formatIp4(r.src)}:${r.sport} matches no IPVS connection; with net.ipv4.vs.nat_icmp_send=1 the director answers ICMP port unreachable and drops it.`,
        fix: 'Expected for stray packets of expired connections; sysctl -w net.ipv4.vs.nat_icmp_send=0 lets them pass unanswered.',
      };
    case 'tcp_no_socket': {
      const synAck = (r.flags & 0x12) === 0x12;
      return {
        check: 'tcp_v4_rcv (no socket)',
        message: `No socket here expects this segment from ${formatIp4(r.src)}:${r.sport} to port ${r.port}: answered with RST.`
          + (synAck ? ` It is a SYN-ACK from an address this host never connected to: with LVS-NAT (-m), the real server's reply left with its own address ${formatIp4(r.src)} because it did not route back through the director, which would have rewritten it to the VIP.` : ''),
        fix: synAck
          ? 'Route the real server\'s replies to the clients through the director (on the real server: ip route replace default via DIP), or use tunnelling (-i) or direct routing (-g), where the real server answers from the VIP itself.'
          : 'A stray segment of a connection this host no longer has; if it repeats, look for a path that bypasses the host the connection was made with.',
      };
    }
    case 'ipvs_unbound_tunnel':
      return {
        check: 'ip_vs_tunnel_xmit (cp->dest is NULL)',
        message: `This connection's entry came from the master's sync daemon, but this director has no real server ${formatIp4(r.rip)} in the service, so the entry is bound to none. ip_vs_tunnel_xmit reads the missing destination's tunnel type here: a NULL pointer dereference, a kernel oops in softirq context, so the director panics ("Fatal exception in interrupt") and the packet dies with it.`,
        fix: `Give the backup director the same real servers as the master (ipvsadm -a -t VIP:PORT -r ${formatIp4(r.rip)} -i, or the same keepalived.conf); the entry is bound by the next sync message for it.`,
      };
    case 'ipvs_mtu_too_small':
      return { check: 'ip_vs_tunnel_xmit', message: `The tunnel MTU ${r.mtu} is below 68: dropped.`, fix: 'Raise the MTU of the route to the real server.' };
    case 'ecn_decap':
      return { check: 'IP_ECN_decapsulate', message: `Outer header marked CE (tos ${r.tos}) over a not-ECT inner packet: dropped on decapsulation.` };
    case 'tcp_invalid':
      return { check: 'tcp_v4_rcv', message: `TCP segment not accepted: ${r.why}.` };
    case 'icmp_unmatched':
      return { check: 'icmp_rcv', message: 'ICMP error about a flow this host does not know.' };
    case 'arp_sender_local':
      return {
        check: 'arp_process (ip_route_input_noref: martian source)',
        message: `ARP request who-has ${formatIp4(r.tpa)} tell ${formatIp4(r.spa)} on ${r.dev} not answered: the sender address ${formatIp4(r.spa)} is one of this host's own, a martian source. A direct-routing real server holds the VIP on lo, so a director that asks from the VIP never learns the real server's MAC.`,
        fix: `On the asking host, let ARP ask from another address: make ${formatIp4(r.spa)} an extra /32 beside a primary address of its own on that LAN (for example ip addr add 172.16.29.5/24 dev eth1 and ip addr add ${formatIp4(r.spa)}/32 dev eth1 on a director).`,
      };
    case 'iptables':
      return explainIptables(r);
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

/** An iptables drop: which rule, what it means on an LVS-TUN path, and the fixes side by side. */
function explainIptables(r: Extract<DropReason, { code: 'iptables' }>): Explanation {
  const t = r.table === 'filter' ? '' : `-t ${r.table} `;
  const where = r.rule === 0 ? `the ${r.chain} chain's policy (${r.text})` : `rule ${r.rule} of ${r.chain} (${r.text})`;
  const answer = r.target === 'REJECT'
    ? r.with === 'tcp-reset' ? ': a TCP RST was sent back' : `: an ICMP destination unreachable (${r.with}) was sent back`
    : ': dropped silently (no nstat counter moves; iptables -L -v -n shows the rule counter)';
  const check = `ipt_do_table (${r.table} table, ${r.chain})`;
  const remove = r.rule === 0
    ? `iptables ${t}-P ${r.chain} ACCEPT, or add an ACCEPT rule for this traffic: iptables ${t}-A ${r.chain} ... -j ACCEPT`
    : `iptables ${t}-D ${r.chain} ${r.rule}, or insert an ACCEPT for this traffic before it: iptables ${t}-I ${r.chain} ${r.rule} ... -j ACCEPT`;
  if (r.proto === 4) {
    return {
      check,
      message: `The ${r.table} table dropped an IP-in-IP packet (protocol 4) at ${where}${answer}. This is the director's tunnel to the real server: a firewall that passes only TCP, UDP and ICMP stops every LVS-TUN request${r.target === 'REJECT'
        ? ', and the director relays the ICMP error to the client (ip_vs_in_icmp): a fatal one (port or protocol unreachable, *-prohibited) fails its connect at once (ECONNREFUSED, EHOSTUNREACH), another leaves it to time out.'
        : ', and clients time out.'}`,
      fix: `Let protocol 4 through: iptables ${t}-I ${r.chain} -p 4 -j ACCEPT (or ${remove}).`,
    };
  }
  if (r.icmp === '3/4') {
    return {
      check,
      message: `The ${r.table} table dropped an ICMP fragmentation-needed at ${where}${answer}. The sender never learns the path MTU: small exchanges work, large transfers stall and time out (a path-MTU black hole).`,
      fix: `Any one of: let it through (iptables ${t}-I ${r.chain} -p icmp --icmp-type fragmentation-needed -j ACCEPT); clamp the MSS on the real server (iptables -t mangle -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j TCPMSS --set-mss 1440); or lower the MTU of the route toward the clients (ip route change default via GW mtu 1480).`,
    };
  }
  return { check, message: `${where[0].toUpperCase()}${where.slice(1)} in the ${r.table} table matched${answer}.`, fix: remove };
}
