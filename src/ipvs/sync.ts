/**
 * ipvs/sync.ts: the connection synchronisation daemon (net/netfilter/ipvs/ip_vs_sync.c), started
 * by `ipvsadm --start-daemon master|backup --mcast-interface DEV [--syncid N]`.
 * Master: ip_vs_in hands every packet's connection to ip_vs_sync_conn; ip_vs_sync_conn_needed
 * picks the moments (a TCP connection in ESTABLISHED when its packet count reaches sync_threshold
 * modulo sync_period, 3 of 50 by default; at once when it moves to FIN_WAIT, CLOSE, CLOSE_WAIT or
 * TIME_WAIT); entries collect in a version 1 message, sent as UDP to 224.0.0.81:8848, TTL 1, out
 * of the multicast interface, IPVS_SYNC_FLUSH_TIME (2 s) after the message's first entry.
 * Backup: a socket on 8848 in the group; ip_vs_process_message checks the syncid and version and
 * ip_vs_proc_conn adds or updates each entry, bound to the destination it names, with the state
 * and timeout it carries: when this director takes the VIP, those connections go on. An entry
 * whose real server this director lacks is kept unbound until a later message finds it
 * (Ipvs.syncConnIn).
 * Simplified: the master thread sends a message as soon as it is 2 s old (the kernel checks every
 * second, so 2 to 3 s); one master thread; no sequence options (NAT only); no templates sync
 * beyond what ip_vs_sync_conn does through cp->control.
 */
import { type Ip4, formatIp4, ip4 } from '../net/addr';
import type { Ipv4 } from '../net/packet';
import type { Host } from '../kernel/host';
import { mcJoin, mcLeave, mcSend } from '../kernel/mcast';
import { udpBind, udpUnbind } from '../kernel/udp';
import { NS_PER_S, type EventHandle } from '../sim/engine';
import { IpvsError, type Conn, type IpvsCtl, TcpState, IP_VS_CONN_F_TEMPLATE, IP_VS_CONN_F_ONE_PACKET } from './ctl';

export const IP_VS_SYNC_GROUP = ip4('224.0.0.81');
export const IP_VS_SYNC_PORT = 8848;
const SYNC_PROTO_VER = 1;
const FLUSH_NS = 2 * NS_PER_S;
/** IP_VS_CONN_F_HASHED (never sent) and IP_VS_CONN_F_SYNC (set on what a backup learns). */
const F_HASHED = 0x0040;
const F_SYNC = 0x0020;
/**
 * IP_VS_CONN_F_BACKUP_MASK (include/net/ip_vs.h): what a backup keeps of the master's flags:
 * the forwarding method, NOOUTPUT, INACTIVE, SEQ_MASK, NO_CPORT, TEMPLATE.
 */
const F_BACKUP_MASK = 0x0007 | 0x0080 | 0x0100 | 0x0600 | 0x0800 | 0x1000;
/** sizeof(struct ip_vs_sync_v4), sizeof(struct ip_vs_sync_mesg). */
const V4_LEN = 36;
const MESG_LEN = 8;

export interface SyncDaemonConf {
  readonly state: 'master' | 'backup';
  readonly mcastIfn: string;
  readonly syncid: number;
}

interface Master { conf: SyncDaemonConf; buf: Conn[]; flush: EventHandle | null; oldState: WeakMap<Conn, number> }
interface Backup { conf: SyncDaemonConf; close: () => void }
interface Daemons { master: Master | null; backup: Backup | null; host: Host }

const daemons = new WeakMap<IpvsCtl, Daemons>();

function of(host: Host, ipvs: IpvsCtl): Daemons {
  let d = daemons.get(ipvs);
  if (!d) daemons.set(ipvs, (d = { master: null, backup: null, host }));
  return d;
}

/** IP_VS_SO_SET_STARTDAEMON: EEXIST when that daemon runs already, ENODEV for a missing interface. */
export function startSyncDaemon(host: Host, ipvs: IpvsCtl, conf: SyncDaemonConf): void {
  const d = of(host, ipvs);
  const dev = host.devices.get(conf.mcastIfn);
  if (!dev) throw new IpvsError('ENODEV', `no device ${conf.mcastIfn}`);
  if (conf.state === 'master') {
    if (d.master) throw new IpvsError('EEXIST', 'master sync daemon already running');
    d.master = { conf, buf: [], flush: null, oldState: new WeakMap() };
    return;
  }
  if (d.backup) throw new IpvsError('EEXIST', 'backup sync daemon already running');
  mcJoin(dev, IP_VS_SYNC_GROUP);
  udpBind(host, 0, IP_VS_SYNC_PORT, (_h, skb, udp) => processMessage(ipvs, d.backup?.conf ?? conf, udp.data, skb.pkt.src));
  d.backup = { conf, close: () => { mcLeave(dev, IP_VS_SYNC_GROUP); udpUnbind(host, IP_VS_SYNC_PORT); } };
}

/** IP_VS_SO_SET_STOPDAEMON: ESRCH when it does not run. */
export function stopSyncDaemon(host: Host, ipvs: IpvsCtl, state: 'master' | 'backup'): void {
  const d = of(host, ipvs);
  if (state === 'master') {
    if (!d.master) throw new IpvsError('ESRCH', 'no daemon is running');
    if (d.master.flush) host.engine.cancel(d.master.flush);
    d.master = null;
  } else {
    if (!d.backup) throw new IpvsError('ESRCH', 'no daemon is running');
    d.backup.close();
    d.backup = null;
  }
}

/** What `ipvsadm -L --daemon` lists. */
export function syncDaemons(ipvs: IpvsCtl): SyncDaemonConf[] {
  const d = daemons.get(ipvs);
  return [d?.master?.conf, d?.backup?.conf].filter((c): c is SyncDaemonConf => !!c);
}

/** Is a backup sync daemon running (ipvs->sync_state & IP_VS_STATE_BACKUP)? */
export function syncBackup(ipvs: IpvsCtl): boolean {
  return !!daemons.get(ipvs)?.backup;
}

/** Is a master sync daemon running (ipvs->sync_state & IP_VS_STATE_MASTER)? */
export function syncMaster(ipvs: IpvsCtl): boolean {
  return !!daemons.get(ipvs)?.master;
}

/** ip_vs_sync_conn_needed with the default sysctls (sync_threshold 3, sync_period 50, no refresh period). */
function needed(ipvs: IpvsCtl, m: Master, cp: Conn, pkts: number): boolean {
  // net.ipv4.vs.sync_threshold holds "threshold period".
  const [threshold, period] = (daemons.get(ipvs)!.host.sysctl.get('net.ipv4.vs.sync_threshold') ?? '3\t50').split(/\s+/).map(Number);
  // set: old_state = state; the cmpxchg on sync_endtime succeeds (one thread here).
  const set = () => { m.oldState.set(cp, cp.state); return true; };
  if (cp.protocol === 6 && !(cp.flags & IP_VS_CONN_F_TEMPLATE)) {
    const synced = [TcpState.ESTABLISHED, TcpState.FIN_WAIT, TcpState.CLOSE, TcpState.CLOSE_WAIT, TcpState.TIME_WAIT] as number[];
    if (!synced.includes(cp.state)) return false;
    const force = cp.state !== (m.oldState.get(cp) ?? TcpState.NONE);
    if (force && cp.state !== TcpState.ESTABLISHED) return set();
  }
  if (period > 0) {
    if (!(cp.flags & IP_VS_CONN_F_TEMPLATE) && pkts % period !== threshold) return false;
  } else if (pkts !== threshold) return false;
  return set();
}

/** ip_vs_sync_conn: called from ip_vs_in with the connection's packet count. */
export function ipVsSyncConn(host: Host, ipvs: IpvsCtl, cp: Conn, pkts: number): void {
  const m = daemons.get(ipvs)?.master;
  if (!m) return;
  for (let c: Conn | null = cp, n = pkts; c; c = c.control, n = 3) {
    if (c.flags & IP_VS_CONN_F_ONE_PACKET || !needed(ipvs, m, c, n)) continue;
    m.buf.push(c);
    if (m.buf.length === 1) m.flush = host.engine.after(FLUSH_NS, () => sendMessage(host, m));
  }
}

function sendMessage(host: Host, m: Master): void {
  m.flush = null;
  const conns = m.buf.splice(0);
  const dev = host.devices.get(m.conf.mcastIfn);
  const src = dev ? host.primaryAddr(dev)?.addr ?? null : null;
  if (!conns.length || !dev || src === null) return;
  const data = encodeMessage(m.conf.syncid, conns, host.engine.now);
  const pkt: Ipv4 = {
    proto: 'ipv4', src, dst: IP_VS_SYNC_GROUP, protocol: 17, ttl: 1, tos: 0, id: 0, df: true,
    payload: { proto: 'udp', sport: IP_VS_SYNC_PORT, dport: IP_VS_SYNC_PORT, data },
  };
  mcSend(host, dev, pkt);
}

/** struct ip_vs_sync_mesg (version 1) with one struct ip_vs_sync_v4 per connection. */
export function encodeMessage(syncid: number, conns: readonly Conn[], now: number): Uint8Array {
  const b = new Uint8Array(MESG_LEN + V4_LEN * conns.length);
  const v = new DataView(b.buffer);
  b[0] = 0; b[1] = syncid; v.setUint16(2, b.length); b[4] = conns.length; b[5] = SYNC_PROTO_VER;
  conns.forEach((c, i) => {
    const o = MESG_LEN + V4_LEN * i;
    b[o] = 0; b[o + 1] = c.protocol; v.setUint16(o + 2, V4_LEN);
    v.setUint32(o + 4, (c.flags & ~F_HASHED) >>> 0); v.setUint16(o + 8, c.state);
    v.setUint16(o + 10, c.cport); v.setUint16(o + 12, c.vport); v.setUint16(o + 14, c.dport);
    v.setUint32(o + 16, 0); v.setUint32(o + 20, Math.floor(c.timeout / NS_PER_S));
    v.setUint32(o + 24, c.caddr); v.setUint32(o + 28, c.vaddr); v.setUint32(o + 32, c.daddr);
  });
  void now;
  return b;
}

export interface SyncEntry {
  readonly protocol: number; readonly flags: number; readonly state: number;
  readonly caddr: Ip4; readonly cport: number; readonly vaddr: Ip4; readonly vport: number;
  readonly daddr: Ip4; readonly dport: number; readonly timeoutS: number;
}

/** The entries of a version 1 message, or null when it is not one (wrong version, bad sizes). */
export function decodeMessage(b: Uint8Array): { syncid: number; conns: SyncEntry[] } | null {
  if (b.length < MESG_LEN || b[0] !== 0 || b[5] !== SYNC_PROTO_VER) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint16(2) !== b.length) return null;
  const conns: SyncEntry[] = [];
  let o = MESG_LEN;
  for (let i = 0; i < b[4]; i++) {
    if (o + V4_LEN > b.length || b[o] !== 0) return null;
    const size = v.getUint16(o + 2) & 0x0fff;
    conns.push({
      protocol: b[o + 1], flags: v.getUint32(o + 4), state: v.getUint16(o + 8),
      cport: v.getUint16(o + 10), vport: v.getUint16(o + 12), dport: v.getUint16(o + 14), timeoutS: v.getUint32(o + 20),
      caddr: v.getUint32(o + 24), vaddr: v.getUint32(o + 28), daddr: v.getUint32(o + 32),
    });
    o += Math.max(size, V4_LEN);
    o += (4 - (o & 3)) & 3;
  }
  return { syncid: b[1], conns };
}

/** ip_vs_process_message: a backup with a syncid takes only that id's messages. */
function processMessage(ipvs: IpvsCtl, conf: SyncDaemonConf, data: Uint8Array, _from: Ip4): void {
  const m = decodeMessage(data);
  if (!m) return;
  if (conf.syncid !== 0 && m.syncid !== conf.syncid) return;
  for (const e of m.conns) {
    if (e.protocol !== 6 && e.protocol !== 17) continue;
    // ip_vs_proc_sync_conn: flags & IP_VS_CONN_F_BACKUP_MASK | IP_VS_CONN_F_SYNC.
    ipvs.syncConnIn({ ...e, flags: (e.flags & F_BACKUP_MASK) | F_SYNC });
  }
}

/** "master sync daemon (mcast=eth1, syncid=0)" lines for ipvsadm -L --daemon. */
export function listDaemons(ipvs: IpvsCtl): string {
  return syncDaemons(ipvs).map(c => `${c.state} sync daemon (mcast=${c.mcastIfn}, syncid=${c.syncid})\n`).join('');
}

export { formatIp4 };
