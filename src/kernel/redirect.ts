/**
 * kernel/redirect.ts: ICMP redirects a router sends when it forwards a packet out of the
 * interface it came in on, to a sender on that link (net/ipv4/route.c __mkroute_input sets
 * IPSKB_DOREDIRECT; ip_forward calls ip_rt_send_redirect after decrementing the TTL).
 * An LVS-NAT director whose real servers use it as their gateway sends them these for every
 * reply bound for a client behind another router on the same LAN.
 *
 * Rate limit per sender (the inet_peer of ip_rt_send_redirect): the first at once, the next
 * after ip_rt_redirect_load << n_redirects jiffies, none after ip_rt_redirect_number, all
 * forgotten after ip_rt_redirect_silence without any. HZ is 250 (one jiffy = 4 ms).
 */
import type { Ip4 } from '../net/addr';
import type { Host, NetDevice } from './host';
import type { Skb } from './skb';
import type { OutputRoute, CachedOutput } from './route';
import { fibLookup } from './route';
import { icmpSend } from './icmp';
import { JIFFY_NS } from './jiffies';

/** ip_rt_redirect_load = HZ / 50, ip_rt_redirect_number = 9, silence = load << (number + 1). */
const REDIRECT_LOAD = 5;
const REDIRECT_NUMBER = 9;
const REDIRECT_SILENCE = REDIRECT_LOAD << (REDIRECT_NUMBER + 1);

interface Peer { rateLast: number; nRedirects: number }
const peers = new WeakMap<Host, Map<Ip4, Peer>>();

/**
 * IPSKB_DOREDIRECT as __mkroute_input decides it: out the input device, send_redirects on,
 * and the sender on-link (fib_validate_source returned 1: its route is a connected one
 * through this device). The last test, shared_media or inet_addr_onlink(sender, gateway),
 * always holds here: the sender is on a connected subnet of the device and so is any gateway.
 */
export function doRedirect(host: Host, inDev: NetDevice | null, rt: CachedOutput | OutputRoute, src: Ip4): boolean {
  if (inDev === null || rt.dev !== inDev) return false;
  if (!host.sysctl.confOr(inDev.name, 'send_redirects')) return false;
  const back = fibLookup(host, src);
  return back !== null && back.type === 'unicast' && back.gw === null && back.dev === inDev.name;
}

/** ip_rt_send_redirect: ICMP redirect for host, naming the next hop the packet is sent to. */
export function ipRtSendRedirect(host: Host, skb: Skb, gateway: Ip4): void {
  let m = peers.get(host);
  if (!m) peers.set(host, (m = new Map()));
  const now = Math.floor(host.engine.now / JIFFY_NS);
  const src = skb.pkt.src;
  let peer = m.get(src);
  if (!peer) m.set(src, (peer = { rateLast: now, nRedirects: 0 }));
  if (now > peer.rateLast + REDIRECT_SILENCE) peer.nRedirects = 0;
  if (peer.nRedirects >= REDIRECT_NUMBER) { peer.rateLast = now; return; }
  if (peer.nRedirects === 0 || now > peer.rateLast + (REDIRECT_LOAD << peer.nRedirects)) {
    icmpSend(host, skb, 5, 1, { gateway });
    peer.rateLast = now;
    peer.nRedirects++;
  }
}
