/**
 * kernel/tcp.ts: a small TCP (net/ipv4/tcp_input.c, tcp_output.c, tcp_ipv4.c) with what the
 * LVS flow needs: listeners that accept and answer, clients that connect, send, half-close
 * and read to the end; the full handshake and teardown; RST for closed ports; SYN and data
 * retransmission with exponential backoff from the kernel's RTT-based timeout (tcp_rtt_estimator,
 * __tcp_set_rto); the path MTU from ICMP fragmentation-needed.
 * Segments carry the options Linux puts on them (SYN: MSS, SACK_PERM, TS, WS; later: TS),
 * so IP lengths match what the director counts (InBytes).
 * Simplified: ACKs are sent at once (quick-ack mode; no delayed ACK), the receive window is
 * fixed, out-of-order segments are dropped and re-requested by a duplicate ACK, no SACK
 * blocks, no congestion control (everything in flight is sent at once).
 */
import { type Ip4, formatEndpoint, formatIp4 } from '../net/addr';
import { type Icmp, type Ipv4, type Tcp, EMPTY, IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../net/packet';
import { type Engine, type EventReceiver, type Ns, NS_PER_MS, NS_PER_S, type Ticket, Timer } from '../sim/engine';
import type { Host } from './host';
import type { Skb } from './skb';
import { ipSend } from './ip';
import { RST } from '../trace/record';
import { defaultTtl } from './icmp';
import { usecsToJiffiesNs } from './jiffies';
import { type OutputRoute, ipRouteOutput } from './route';

export type TcpState =
  | 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT1' | 'FIN_WAIT2' | 'CLOSE_WAIT'
  | 'CLOSING' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSED';

export type TcpErrno = 'ECONNREFUSED' | 'ETIMEDOUT' | 'ECONNRESET' | 'EHOSTUNREACH' | 'ENETUNREACH' | 'ENOPROTOOPT';

/** What an application sees of its socket. */
export interface TcpApp {
  onConnected?(s: TcpSock): void;
  onData?(s: TcpSock, data: Uint8Array): void;
  /** The peer's FIN arrived (read returned 0). */
  onPeerClosed?(s: TcpSock): void;
  onError?(s: TcpSock, err: TcpErrno): void;
  /** The socket is gone (CLOSED or into TIME_WAIT for the app's purposes). */
  onClosed?(s: TcpSock): void;
}

interface Segment {
  seq: number;
  data: Uint8Array;
  flags: number;
  /** When it was first sent (the skb's tx timestamp, for the RTT sample). */
  sentAt: Ns;
  /** Sent more than once (TCPCB_RETRANS): Karn's rule, no sequence RTT sample from it. */
  retrans: boolean;
}

export const TCP_TIMEWAIT_NS = 60 * NS_PER_S;
const TCP_TIMEOUT_INIT_NS = 1 * NS_PER_S;
/** tcp_rto_min (TCP_RTO_MIN, HZ / 5), in microseconds as tcp_rtt_estimator uses it. */
const TCP_RTO_MIN_US = 200_000;
const TCP_RETRIES2 = 15;
const TCP_MAX_RTO_NS = 120 * NS_PER_S;

const u32 = (n: number) => n >>> 0;
/** Sequence comparison modulo 2^32: a < b. */
const before = (a: number, b: number) => ((a - b) | 0) < 0;

/**
 * Wakeups of the socket's process (sk_data_ready, sk_state_change, ...): the application runs
 * as its own event at the same instant, after the softirq that woke it. Coded events on the
 * socket, so a wakeup allocates nothing.
 */
const WAKE_CONNECTED = 1;
const WAKE_DATA = 2;
const WAKE_PEER_CLOSED = 3;
const WAKE_ERROR = 4;
const WAKE_CLOSED = 5;
const TIMEWAIT_DONE = 6;
const RTO_EXPIRED = 7;
/** The application and (empty, frozen) buffers of a socket its process has closed. */
const GONE_APP: TcpApp = {};
const NO_DATA: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];
const NO_SEGMENTS: Segment[] = Object.freeze([]) as unknown as Segment[];

export class TcpSock implements EventReceiver {
  state: TcpState;
  iss = 0; sndUna = 0; sndNxt = 0; irs = 0; rcvNxt = 0;
  /** Bytes of application data not yet sent, and segments in flight. */
  private pending: Uint8Array[] = [];
  unacked: Segment[] = [];
  finQueued = false;
  finSent = false;
  peerFin = false;
  /** Our MSS announcement and the peer's; payload per segment is the smaller, minus TS option. */
  peerMss = 536;
  received = 0;
  err: TcpErrno | null = null;
  /** icsk_rto: TCP_TIMEOUT_INIT until the first RTT sample, then __tcp_set_rto, doubled per timeout. */
  private rto = TCP_TIMEOUT_INIT_NS;
  private retries = 0;
  /** tcp_rtt_estimator's state, in microseconds: srtt_us (8 times the smoothed RTT), mdev_us, mdev_max_us, rttvar_us, rtt_seq. */
  private srttUs = 0;
  private mdevUs = 0;
  private mdevMaxUs = 0;
  private rttvarUs = 0;
  private rttSeq = 0;
  /** Sequence up to which data re-sent after a PMTU reduction counts as retransmitted. */
  private retransHigh = 0;
  /** The retransmission timer (icsk_retransmit_timer, armed with mod_timer semantics). */
  private readonly rtoTimer: Timer;
  /** Next socket in the same hash bucket (SockMap). */
  hashNext: TcpSock | undefined = undefined;
  /** Data received in order and not yet handed to the application (one entry per WAKE_DATA). */
  private rxQueue: Uint8Array[] = [];
  private tsOffset: number;
  tsRecent = 0;
  private ipId: number;
  /** Greeting and request bookkeeping for views. */
  readonly created: number;

  constructor(
    readonly host: Host,
    readonly laddr: Ip4, readonly lport: number,
    readonly raddr: Ip4, readonly rport: number,
    public app: TcpApp,
    state: TcpState,
  ) {
    this.state = state;
    const rng = host.engine.rng(`tcp:${host.name}`);
    this.iss = rng.nextU32();
    this.tsOffset = rng.nextU32();
    this.ipId = rng.nextU32() & 0xffff;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.created = host.engine.now;
    this.rtoTimer = new Timer(host.engine, this, RTO_EXPIRED);
  }

  /** Wake the application (or end TIME_WAIT). */
  onEvent(code: number, _now: Ns): void {
    // A panicked kernel runs no timer and wakes no process.
    if (this.host.crashed) return;
    const app = this.app;
    switch (code) {
      case WAKE_CONNECTED: app.onConnected?.(this); return;
      case WAKE_DATA: { const d = this.rxQueue.shift()!; app.onData?.(this, d); return; }
      case WAKE_PEER_CLOSED: app.onPeerClosed?.(this); return;
      case WAKE_ERROR: app.onError?.(this, this.err!); app.onClosed?.(this); return;
      case WAKE_CLOSED:
        app.onClosed?.(this);
        // tcp_time_wait: what stays hashed for TIME_WAIT is a small inet_timewait_sock; the
        // full socket and the application's state go (the closing process has let go of it).
        if (this.state === 'TIME_WAIT' || this.state === 'CLOSED') {
          this.app = GONE_APP;
          // Nothing is queued any more (every earlier wakeup has run): drop the buffers too.
          this.pending = NO_DATA;
          this.unacked = NO_SEGMENTS;
          this.rxQueue = NO_DATA;
        }
        return;
      case RTO_EXPIRED: this.onRto(); return;
      case TIMEWAIT_DONE: {
        this.twTicket = -1;
        table(this.host).socks.remove(this);
        this.state = 'CLOSED';
        return;
      }
    }
  }

  wake(code: number): void {
    this.engine.postCode(0, this, code);
  }

  /** Hand in-order data to the application. */
  deliverData(data: Uint8Array): void {
    this.rxQueue.push(data);
    this.wake(WAKE_DATA);
  }

  get engine(): Engine {
    return this.host.engine;
  }


  toString(): string {
    return `${formatEndpoint(this.laddr, this.lport)} <-> ${formatEndpoint(this.raddr, this.rport)} ${this.state}`;
  }

  /**
   * The socket's route (sk_dst_cache): kept while the host's routes are unchanged, as the
   * kernel revalidates a cached dst by its generation (rt_genid).
   */
  route(): OutputRoute | null {
    const h = this.host;
    if (this.dstGen !== h.routeGen) {
      if (!this.stillRoutes()) this.dst = ipRouteOutput(h, this.raddr, this.laddr);
      this.dstGen = h.routeGen;
    }
    return this.dst;
  }

  /** Only /32 local routes for other addresses were added since: the cached route still holds. */
  private stillRoutes(): boolean {
    const h = this.host;
    const from = h.routePointsSince(this.dstGen);
    if (this.dst === null || from < 0 || h.routeGen - this.dstGen > 8) return false;
    const pts = h.routePoints;
    for (let i = from; i < pts.length; i++) if (pts[i]!.dst === this.raddr) return false;
    return true;
  }
  private dst: OutputRoute | null = null;
  private dstGen = -1;

  /** Path MTU towards the peer: learned PMTU, else the route's MTU. */
  pathMtu(): number {
    const learned = this.host.pmtuOf(this.raddr);
    const rt = this.route();
    const m = rt ? rt.mtu : 1500;
    return learned !== null ? Math.min(learned, m) : m;
  }

  /** Payload bytes per segment: min(peer MSS, PMTU - 40) less the 12-byte timestamp option. */
  sendMss(): number {
    return Math.min(this.peerMss, this.pathMtu() - 40) - 12;
  }

  /** Queue application bytes and send what the window allows (all of it: no congestion control). */
  send(data: Uint8Array): void {
    if (this.finQueued || this.state === 'CLOSED') return;
    if (data.length) this.pending.push(data);
    this.push();
  }

  /** shutdown(SHUT_WR): FIN after pending data. */
  shutdown(): void {
    if (this.finQueued || this.state === 'CLOSED') return;
    this.finQueued = true;
    this.push();
  }

  /** close(): as shutdown for the sending side; the socket lingers until the peer closes. */
  close(): void {
    this.shutdown();
  }

  private push(): void {
    if (this.state !== 'ESTABLISHED' && this.state !== 'CLOSE_WAIT') return;
    const mss = this.sendMss();
    while (this.pending.length) {
      const buf = this.pending[0];
      const n = Math.min(mss, buf.length);
      const chunk = buf.subarray(0, n);
      if (n === buf.length) this.pending.shift(); else this.pending[0] = buf.subarray(n);
      const seg: Segment = { seq: this.sndNxt, data: chunk, flags: TCP_ACK | TCP_PSH, sentAt: this.engine.now, retrans: before(this.sndNxt, this.retransHigh) };
      this.unacked.push(seg);
      this.sndNxt = u32(this.sndNxt + n);
      this.output(seg.flags, seg.seq, seg.data);
    }
    if (this.finQueued && !this.finSent) {
      this.finSent = true;
      const seg: Segment = { seq: this.sndNxt, data: EMPTY, flags: TCP_FIN | TCP_ACK, sentAt: this.engine.now, retrans: before(this.sndNxt, this.retransHigh) };
      this.unacked.push(seg);
      this.sndNxt = u32(this.sndNxt + 1);
      this.state = this.state === 'CLOSE_WAIT' ? 'LAST_ACK' : 'FIN_WAIT1';
      this.output(seg.flags, seg.seq, EMPTY);
    }
    this.armRto();
  }

  /** Start the active open: SYN with MSS, SACK_PERM, TS and WS as Linux sends it. */
  connect(): void {
    this.state = 'SYN_SENT';
    this.unacked.push({ seq: this.iss, data: EMPTY, flags: TCP_SYN, sentAt: this.engine.now, retrans: false });
    this.sndNxt = u32(this.iss + 1);
    this.host.count('TcpActiveOpens');
    this.output(TCP_SYN, this.iss, EMPTY);
    this.armRto();
  }

  /** Build and send one segment. */
  output(flags: number, seq: number, data: Uint8Array): void {
    const now = this.engine.now;
    const tsval = u32(Math.floor(now / NS_PER_MS) + this.tsOffset);
    const syn = (flags & TCP_SYN) !== 0;
    const advMss = syn ? this.routeMss() : 0;
    const tcp: Tcp = {
      proto: 'tcp', sport: this.lport, dport: this.rport, seq: u32(seq),
      ack: flags & TCP_ACK ? this.rcvNxt : 0, flags,
      window: syn ? 64240 : 502,
      options: syn ? { mss: advMss, sackPerm: true, ts: [tsval, flags & TCP_ACK ? this.tsRecent : 0], wscale: 7 } : { ts: [tsval, this.tsRecent] },
      data,
    };
    const pkt: Ipv4 = {
      proto: 'ipv4', src: this.laddr, dst: this.raddr, protocol: IPPROTO_TCP,
      ttl: defaultTtl(this.host), tos: 0, id: this.ipId, df: true, payload: tcp,
    };
    this.ipId = (this.ipId + 1) & 0xffff;
    this.host.snmp.TcpOutSegs++;
    ipSend(this.host, pkt, undefined, this.route());
  }

  private routeMss(): number {
    const rt = this.route();
    return (rt ? rt.mtu : 1500) - 40;
  }

  armRto(): void {
    // Re-armed as a new event each time (del, then mod), so an RTO ties with other events at
    // the same instant in the order the code armed them, not in the order a moved deadline
    // would re-queue itself.
    this.rtoTimer.del();
    if (!this.unacked.length || this.state === 'CLOSED') return;
    this.rtoTimer.mod(this.engine.now + this.rto);
  }

  private onRto(): void {
    if (!this.unacked.length || this.state === 'CLOSED') return;
    const limit = this.state === 'SYN_SENT'
      ? this.host.sysctl.num('net.ipv4.tcp_syn_retries')
      : this.state === 'SYN_RECV' ? this.host.sysctl.num('net.ipv4.tcp_synack_retries') : TCP_RETRIES2;
    if (this.retries >= limit) {
      this.fail('ETIMEDOUT');
      return;
    }
    this.retries++;
    this.host.count('TcpRetransSegs');
    this.rto = Math.min(this.rto * 2, TCP_MAX_RTO_NS);
    const seg = this.unacked[0];
    seg.retrans = true;
    this.output(seg.flags | (this.state === 'SYN_RECV' ? TCP_ACK : 0), seg.seq, seg.data);
    this.armRto();
  }

  /**
   * A hard error: report to the application and drop the socket (tcp_done). `attemptFails`
   * false when the attempt ends without tcp_done's count: the program closing a socket still in
   * SYN_SENT (tcp_close), or an ICMP error aborting it (recorded kernels show TcpAttemptFails 0).
   */
  fail(err: TcpErrno, attemptFails = true): void {
    if (this.state === 'CLOSED') return;
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECV') { if (attemptFails) this.host.count('TcpAttemptFails'); }
    else if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') this.host.count('TcpEstabResets');
    this.err = err;
    this.destroy();
    this.wake(WAKE_ERROR);
  }

  /**
   * close() with SO_LINGER {1, 0} (what keepalived's checkers do): tcp_disconnect sends an RST
   * when the state needs one (tcp_need_reset: established or closing; not SYN_SENT) and the socket
   * is gone at once; the application hears nothing more.
   */
  abort(): void {
    if (this.state === 'CLOSED' || this.state === 'TIME_WAIT') { this.app = GONE_APP; return; }
    const s = this.state;
    if (s === 'ESTABLISHED' || s === 'CLOSE_WAIT' || s === 'FIN_WAIT1' || s === 'FIN_WAIT2' || s === 'SYN_RECV' || s === 'LAST_ACK' || s === 'CLOSING') {
      // tcp_send_active_reset: RST|ACK at the next sequence number.
      this.host.count('TcpOutRsts');
      this.output(TCP_RST | TCP_ACK, this.sndNxt, EMPTY);
      if (s === 'ESTABLISHED' || s === 'CLOSE_WAIT') this.host.count('TcpEstabResets');
    }
    this.app = GONE_APP;
    this.destroy();
  }

  destroy(): void {
    if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') this.host.count('TcpCurrEstab', -1);
    this.state = 'CLOSED';
    this.rtoTimer.del();
    table(this.host).socks.remove(this);
  }

  /** tcp_v4_mtu_reduced + tcp_simple_retransmit: resend what is in flight at the new MSS. */
  mtuReduced(): void {
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECV' || this.state === 'CLOSED') return;
    const data = this.unacked.filter(s => s.data.length);
    if (!data.length) return;
    const hadFin = this.unacked.some(s => s.flags & TCP_FIN);
    const bytes: Uint8Array[] = data.map(s => s.data);
    // tcp_simple_retransmit marks them lost and resends them: retransmissions (TCPCB_RETRANS).
    this.retransHigh = this.sndNxt;
    this.unacked.length = 0;
    this.sndNxt = this.sndUna;
    this.pending = bytes.concat(this.pending);
    if (hadFin) { this.finSent = false; this.state = this.state === 'LAST_ACK' ? 'CLOSE_WAIT' : 'ESTABLISHED'; }
    this.host.count('TcpRetransSegs', data.length);
    this.push();
  }

  /**
   * Process the ACK field: drop acknowledged segments (tcp_clean_rtx_queue), take an RTT sample
   * and set the timeout from it (tcp_ack_update_rtt), advance the state on our FIN. `tsecr` is
   * the segment's echoed timestamp (0 without one).
   */
  ackRcv(ack: number, tsecr = 0): void {
    if (before(this.sndUna, ack) && !before(this.sndNxt, ack)) {
      this.sndUna = ack;
      let firstAckt = -1;
      let retransAcked = false;
      while (this.unacked.length) {
        const s = this.unacked[0];
        const end = u32(s.seq + s.data.length + (s.flags & (TCP_SYN | TCP_FIN) ? 1 : 0));
        if (before(ack, end)) break;
        if (s.retrans) retransAcked = true;
        else if (firstAckt < 0) firstAckt = s.sentAt;
        this.unacked.shift();
      }
      this.retries = 0;
      // tcp_ack_update_rtt: the oldest newly acked segment's age, unless a retransmission was
      // acked (Karn); else the echoed timestamp (tcp_rtt_tsopt_us, 1 ms clock, at least 1 ms).
      let rttUs = firstAckt >= 0 && !retransAcked ? Math.floor((this.engine.now - firstAckt) / 1000) : -1;
      if (rttUs < 0 && tsecr !== 0) {
        const delta = u32(Math.floor(this.engine.now / NS_PER_MS) + this.tsOffset - tsecr);
        if (delta < 0x7fffffff / 1000) rttUs = Math.max(1, delta) * 1000;
      }
      if (rttUs >= 0) {
        this.rttEstimator(rttUs);
        // tcp_set_rto: __tcp_set_rto, bounded by TCP_RTO_MAX (icsk_backoff starts over).
        this.rto = Math.min(usecsToJiffiesNs((this.srttUs >> 3) + this.rttvarUs), TCP_MAX_RTO_NS);
      }
      this.armRto();
      if (this.finSent && this.sndUna === this.sndNxt) {
        if (this.state === 'FIN_WAIT1') this.state = 'FIN_WAIT2';
        else if (this.state === 'CLOSING') this.enterTimeWait();
        else if (this.state === 'LAST_ACK') { this.destroy(); this.wake(WAKE_CLOSED); }
      }
    }
  }

  /** tcp_rtt_estimator (net/ipv4/tcp_input.c): Jacobson's smoothed RTT and mean deviation, in us. */
  private rttEstimator(mrttUs: number): void {
    let m = mrttUs;
    let srtt = this.srttUs;
    if (srtt !== 0) {
      m -= srtt >> 3;
      srtt += m;
      if (m < 0) {
        m = -m;
        m -= this.mdevUs >> 2;
        if (m > 0) m >>= 3;
      } else {
        m -= this.mdevUs >> 2;
      }
      this.mdevUs += m;
      if (this.mdevUs > this.mdevMaxUs) {
        this.mdevMaxUs = this.mdevUs;
        if (this.mdevMaxUs > this.rttvarUs) this.rttvarUs = this.mdevMaxUs;
      }
      if (before(this.rttSeq, this.sndUna)) {
        if (this.mdevMaxUs < this.rttvarUs) this.rttvarUs -= (this.rttvarUs - this.mdevMaxUs) >> 2;
        this.rttSeq = this.sndNxt;
        this.mdevMaxUs = TCP_RTO_MIN_US;
      }
    } else {
      // No previous measure: rto = 3 * rtt, at least rtt + tcp_rto_min.
      srtt = m << 3;
      this.mdevUs = m << 1;
      this.rttvarUs = Math.max(this.mdevUs, TCP_RTO_MIN_US);
      this.mdevMaxUs = this.rttvarUs;
      this.rttSeq = this.sndNxt;
    }
    this.srttUs = Math.max(1, srtt);
  }

  /** tcp_time_wait: once per socket (the CLOSING and FIN_WAIT paths both end here). */
  enterTimeWait(): void {
    if (this.twTicket >= 0) return;
    this.state = 'TIME_WAIT';
    this.rtoTimer.del();
    this.twTicket = this.engine.afterCode(TCP_TIMEWAIT_NS, this, TIMEWAIT_DONE);
    this.wake(WAKE_CLOSED);
  }

  /** tcp_timewait_state_process: a retransmitted FIN is ACKed again and the TIME_WAIT period starts over. */
  restartTimeWait(): void {
    if (this.twTicket < 0) return;
    this.engine.cancelCode(this.twTicket);
    this.twTicket = this.engine.afterCode(TCP_TIMEWAIT_NS, this, TIMEWAIT_DONE);
  }
  private twTicket: Ticket = -1;
}

export interface Listener {
  readonly addr: Ip4;
  readonly port: number;
  readonly name: string;
  readonly accept: (s: TcpSock) => TcpApp;
}

/**
 * Sockets by 4-tuple: a chained hash table as the kernel's established hash (inet_ehashfn),
 * keyed by a 30-bit mix of the tuple so the Map keys stay small integers; a bucket is a list
 * through TcpSock.hashNext, checked field by field.
 */
class SockMap {
  private readonly buckets = new Map<number, TcpSock>();
  size = 0;
  get(laddr: Ip4, lport: number, raddr: Ip4, rport: number): TcpSock | undefined {
    let s = this.buckets.get(ehash(laddr, lport, raddr, rport));
    while (s !== undefined) {
      if (s.laddr === laddr && s.lport === lport && s.raddr === raddr && s.rport === rport) return s;
      s = s.hashNext;
    }
    return undefined;
  }
  /** Hash `s`, replacing a socket with the same 4-tuple (a TIME_WAIT one being reused). */
  add(s: TcpSock): void {
    const old = this.get(s.laddr, s.lport, s.raddr, s.rport);
    if (old !== undefined) this.remove(old);
    const h = ehash(s.laddr, s.lport, s.raddr, s.rport);
    s.hashNext = this.buckets.get(h);
    this.buckets.set(h, s);
    this.size++;
  }
  /** Unhash `s` if it is hashed. */
  remove(s: TcpSock): void {
    const h = ehash(s.laddr, s.lport, s.raddr, s.rport);
    let x = this.buckets.get(h);
    let prev: TcpSock | undefined;
    while (x !== undefined && x !== s) { prev = x; x = x.hashNext; }
    if (x === undefined) return;
    if (prev === undefined) {
      if (s.hashNext === undefined) this.buckets.delete(h); else this.buckets.set(h, s.hashNext);
    } else prev.hashNext = s.hashNext;
    s.hashNext = undefined;
    this.size--;
  }
  *values(): IterableIterator<TcpSock> {
    for (let s of this.buckets.values()) for (; s !== undefined; s = s.hashNext!) yield s;
  }
}

function ehash(laddr: Ip4, lport: number, raddr: Ip4, rport: number): number {
  let h = Math.imul(laddr ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ raddr, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((lport << 16) | rport), 0x27d4eb2f);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

export interface TcpTable {
  readonly socks: SockMap;
  readonly listeners: Listener[];
}

export function table(host: Host): TcpTable {
  let t = host.tcp;
  if (t === null) host.tcp = t = { socks: new SockMap(), listeners: [] };
  return t;
}


/** listen() on addr:port (addr 0 = any local address). */
export function tcpListen(host: Host, addr: Ip4, port: number, name: string, accept: (s: TcpSock) => TcpApp): void {
  table(host).listeners.push({ addr, port, name, accept });
}

/** close() of a listening socket: new SYNs to addr:port get an RST; accepted connections stay. */
export function tcpUnlisten(host: Host, addr: Ip4, port: number): boolean {
  const ls = table(host).listeners;
  const i = ls.findIndex(l => l.addr === addr && l.port === port);
  if (i < 0) return false;
  ls.splice(i, 1);
  return true;
}

/** Open a connection from src:sport (sport 0 = an ephemeral port). */
export function tcpConnect(host: Host, src: Ip4, sport: number, dst: Ip4, dport: number, app: TcpApp): TcpSock | TcpErrno {
  let laddr = src;
  if (laddr === 0) {
    const rt = ipRouteOutput(host, dst);
    if (!rt) return 'ENETUNREACH';
    laddr = rt.src;
  }
  let lport = sport;
  if (lport === 0) {
    const rng = host.engine.rng(`tcp:ports:${host.name}`);
    const t = table(host);
    do lport = 32768 + rng.int(0, 60999 - 32768); while (t.socks.get(laddr, lport, dst, dport) !== undefined);
  }
  const s = new TcpSock(host, laddr, lport, dst, dport, app, 'SYN_SENT');
  table(host).socks.add(s);
  s.connect();
  return s;
}

const noteSocket = (state: string, ip: Ipv4, th: Tcp): string => `${state} ${formatEndpoint(ip.dst, th.dport)} <- ${formatEndpoint(ip.src, th.sport)}`;
const noteListener = (l: Listener): string => `SYN to listener ${l.name} on ${l.addr ? formatIp4(l.addr) : '*'}:${l.port}`;

/** tcp_v4_rcv: find the socket (established first, then a listener), else answer RST. */
export function tcpV4Rcv(host: Host, skb: Skb): void {
  const ip = skb.pkt;
  const th = ip.payload as Tcp;
  host.snmp.TcpInSegs++;
  const t = table(host);
  const s = t.socks.get(ip.dst, th.dport, ip.src, th.sport);
  if (s) {
    host.emit.end(skb, 'socket', 'deliver', undefined, noteSocket, s.state, ip, th);
    segmentArrived(s, th);
    return;
  }
  const l = t.listeners.find(x => x.port === th.dport && (x.addr === 0 || x.addr === ip.dst));
  if (l && (th.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
    host.emit.end(skb, 'socket', 'deliver', undefined, noteListener, l);
    const child = new TcpSock(host, ip.dst, th.dport, ip.src, th.sport, {}, 'SYN_RECV');
    child.irs = th.seq;
    child.rcvNxt = u32(th.seq + 1);
    child.peerMss = th.options?.mss ?? 536;
    child.tsRecent = th.options?.ts?.[0] ?? 0;
    t.socks.add(child);
    host.count('TcpPassiveOpens');
    child.unacked.push({ seq: child.iss, data: EMPTY, flags: TCP_SYN | TCP_ACK, sentAt: host.engine.now, retrans: false });
    child.sndNxt = u32(child.iss + 1);
    child.output(TCP_SYN | TCP_ACK, child.iss, EMPTY);
    child.armRto();
    (child as { listener?: Listener }).listener = l;
    return;
  }
  if (th.flags & TCP_RST) {
    host.emit.drop(skb, 'socket', { code: 'tcp_invalid', why: 'RST for no socket' });
    return;
  }
  // A listener matters only to a SYN; anything else with no socket is an answer nobody waits for.
  if ((th.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) host.emit.drop(skb, 'socket', { code: 'no_listener', proto: 'tcp', port: th.dport, reply: 'rst' }, RST);
  else host.emit.drop(skb, 'socket', { code: 'tcp_no_socket', src: ip.src, sport: th.sport, port: th.dport, flags: th.flags }, RST);
  sendReset(host, ip, th, skb.id);
}

/** tcp_v4_send_reset: RST in answer to a segment for no socket. */
function sendReset(host: Host, ip: Ipv4, th: Tcp, cause: number): void {
  const len = th.data.length + (th.flags & TCP_SYN ? 1 : 0) + (th.flags & TCP_FIN ? 1 : 0);
  const rst: Tcp = th.flags & TCP_ACK
    ? { proto: 'tcp', sport: th.dport, dport: th.sport, seq: th.ack, ack: 0, flags: TCP_RST, window: 0, data: EMPTY }
    : { proto: 'tcp', sport: th.dport, dport: th.sport, seq: 0, ack: u32(th.seq + len), flags: TCP_RST | TCP_ACK, window: 0, data: EMPTY };
  host.count('TcpOutRsts');
  ipSend(host, { proto: 'ipv4', src: ip.dst, dst: ip.src, protocol: IPPROTO_TCP, ttl: defaultTtl(host), tos: 0, id: 0, df: true, payload: rst }, cause);
}

/** tcp_rcv_state_process, reduced to the transitions the model needs. */
function segmentArrived(s: TcpSock, th: Tcp): void {
  const host = s.host;
  if (th.options?.ts) s.tsRecent = th.options.ts[0];
  if (th.flags & TCP_RST) {
    const err: TcpErrno = s.state === 'SYN_SENT' ? 'ECONNREFUSED' : 'ECONNRESET';
    if (s.state === 'TIME_WAIT') return;
    s.fail(err);
    return;
  }
  if (s.state === 'SYN_SENT') {
    if ((th.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) && th.ack === u32(s.iss + 1)) {
      s.irs = th.seq;
      s.rcvNxt = u32(th.seq + 1);
      s.peerMss = th.options?.mss ?? 536;
      s.ackRcv(th.ack, th.options?.ts?.[1] ?? 0);
      s.state = 'ESTABLISHED';
      host.count('TcpCurrEstab');
      s.output(TCP_ACK, s.sndNxt, EMPTY);
      s.wake(WAKE_CONNECTED);
    }
    return;
  }
  if (s.state === 'SYN_RECV') {
    if ((th.flags & TCP_SYN) && !(th.flags & TCP_ACK)) {
      // Retransmitted SYN: answer with the SYN-ACK again.
      s.output(TCP_SYN | TCP_ACK, s.iss, EMPTY);
      return;
    }
    if (!(th.flags & TCP_ACK) || th.ack !== u32(s.iss + 1)) return;
    s.ackRcv(th.ack, th.options?.ts?.[1] ?? 0);
    s.state = 'ESTABLISHED';
    host.count('TcpCurrEstab');
    const l = (s as { listener?: Listener }).listener!;
    s.app = l.accept(s);
    s.wake(WAKE_CONNECTED);
    // fall through: the ACK may carry data
  }
  if (th.flags & TCP_SYN) {
    // A SYN on a synchronized connection: challenge ACK.
    s.output(TCP_ACK, s.sndNxt, EMPTY);
    return;
  }
  if (th.flags & TCP_ACK) s.ackRcv(th.ack, th.options?.ts?.[1] ?? 0);
  if (s.state === 'CLOSED') return;
  let needAck = false;
  if (th.data.length) {
    if (th.seq === s.rcvNxt && !s.peerFin) {
      s.rcvNxt = u32(s.rcvNxt + th.data.length);
      s.received += th.data.length;
      s.deliverData(th.data);
    }
    needAck = true; // in order: ACK it; duplicate or out of order: duplicate ACK
  }
  if ((th.flags & TCP_FIN) && u32(th.seq + th.data.length) === s.rcvNxt && !s.peerFin) {
    s.rcvNxt = u32(s.rcvNxt + 1);
    s.peerFin = true;
    needAck = true;
    switch (s.state) {
      case 'ESTABLISHED': s.state = 'CLOSE_WAIT'; break;
      case 'FIN_WAIT1': s.state = s.sndUna === s.sndNxt ? 'TIME_WAIT' : 'CLOSING'; break;
      case 'FIN_WAIT2': s.state = 'TIME_WAIT'; break;
    }
    s.wake(WAKE_PEER_CLOSED);
  } else if ((th.flags & TCP_FIN) && s.peerFin) {
    needAck = true; // retransmitted FIN
    if (s.state === 'TIME_WAIT') s.restartTimeWait();
  }
  if (needAck) s.output(TCP_ACK, s.sndNxt, EMPTY);
  if (s.state === 'TIME_WAIT') s.enterTimeWait();
}

/** tcp_v4_err: an ICMP error about one of our segments. Returns true if a socket took it. */
export function tcpV4Err(host: Host, quoted: Ipv4, icmp: Icmp): boolean {
  const th = quoted.payload;
  if (th.proto !== 'tcp') return false;
  const s = table(host).socks.get(quoted.src, th.sport, quoted.dst, th.dport);
  if (!s) return false;
  if (icmp.type === 3 && icmp.code === 4) {
    s.mtuReduced();
    return true;
  }
  if (s.state === 'SYN_SENT' || s.state === 'SYN_RECV') {
    // icmp_err_convert: unreachable errors abort a connection attempt.
    // icmp_err_convert: unreachable codes map to their errno; time exceeded is EHOSTUNREACH.
    const err: TcpErrno | null = icmp.type === 3
      ? icmp.code === 3 ? 'ECONNREFUSED' : icmp.code === 2 ? 'ENOPROTOOPT' : icmp.code === 0 ? 'ENETUNREACH' : 'EHOSTUNREACH'
      : icmp.type === 11 ? 'EHOSTUNREACH' : null;
    if (err) s.fail(err, false);
  }
  return true;
}
