/**
 * kernel/skb.ts: the socket buffer as the model needs it. One skb keeps its id through
 * IP-in-IP encapsulation on the director and decapsulation on the real server (the kernel
 * reuses the same sk_buff), so a view can follow one request end to end.
 */
import type { Ethernet, Ipv4 } from '../net/packet';
import type { NetDevice } from './host';

export interface Skb {
  readonly id: number;
  pkt: Ipv4;
  /** Input device (skb->dev on receive); null for locally generated packets. */
  dev: NetDevice | null;
  /** skb->ipvs_property: IPVS already handled it (its own tunnelled output). */
  ipvsProperty?: boolean;
  /** skb->ignore_df: set by IPVS on tunnelled packets. */
  ignoreDf?: boolean;
  /** The frame it arrived in (its link-layer header, for the martian log). */
  frame?: Ethernet;
  /** The packet this one answers or was cloned from. */
  cause?: number;
  /** skb->_nfct: the connection tracking entry (kernel/conntrack.ts), null when untracked or invalid. */
  ct?: import('./conntrack').NfConn | null;
  /** enum ip_conntrack_info for `ct` (IP_CT_*), or IP_CT_UNTRACKED. */
  ctinfo?: number;
}

/** Packet ids for one world: unique across hosts, deterministic per run. */
export class PacketIds {
  private n = 0;
  next(): number {
    return ++this.n;
  }
}
