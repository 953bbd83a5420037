/**
 * ipvs/bind_xmit.ts: ip_vs_bind_xmit (net/netfilter/ipvs/ip_vs_conn.c): a connection sends
 * by the transmitter of the forwarding method it was created with (IP_VS_CONN_F_FWD_MASK of
 * its flags, copied from the destination's conn_flags), so `-g` and `-m` destinations are
 * never tunnelled, and editing a destination's method only changes new connections.
 */
import type { Host } from '../kernel/host';
import type { Skb } from '../kernel/skb';
import { type NfVerdict, NF_ACCEPT } from '../kernel/netfilter';
import { type Conn, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_MASQ, IP_VS_CONN_F_TUNNEL } from './ctl';
import { ipVsTunnelXmit } from './xmit';
import { ipVsDrXmit } from './xmit_dr';
import { ipVsNatXmit } from './xmit_nat';

/** cp->packet_xmit(skb, cp, ...). */
export function packetXmit(host: Host, skb: Skb, cp: Conn): NfVerdict {
  switch (cp.flags & IP_VS_CONN_F_FWD_MASK) {
    case IP_VS_CONN_F_MASQ: return ipVsNatXmit(host, skb, cp);
    case IP_VS_CONN_F_TUNNEL: return ipVsTunnelXmit(host, skb, cp);
    case IP_VS_CONN_F_DROUTE: return ipVsDrXmit(host, skb, cp);
    // IP_VS_CONN_F_LOCALNODE (ip_vs_null_xmit) and bypass: the packet goes on as it is.
    default: return NF_ACCEPT;
  }
}
