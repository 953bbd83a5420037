/**
 * ipvs/conn.ts: the connection table (net/netfilter/ipvs/ip_vs_conn.c): entries hashed by
 * <protocol, caddr, cport> and matched on vaddr/vport (ip_vs_conn_hashkey_param,
 * __ip_vs_conn_in_get), new entries at the head of their chain (hlist_add_head_rcu), so a
 * lookup finds the newest entry first. Persistence templates (cport 0, IP_VS_CONN_F_TEMPLATE)
 * live in a table of their own, reached only by ip_vs_ct_in_get(): in the kernel they share
 * the hash table, but __ip_vs_conn_in_get never matches them (cport 0 without NO_CPORT).
 *
 * The key is a number, protocol class * 2^48 + caddr * 2^16 + cport (exact below 2^53), so a
 * lookup builds no string; the chain is an intrusive `hnext` link on the entry.
 * Every entry is also in `all`, an insertion-ordered Set: `ipvsadm -Lnc` lists in creation
 * order (the kernel's bucket order depends on a boot-time random seed; FORMAT.md compares sets).
 * Not modelled: IP_VS_CONN_F_NO_CPORT entries (sync/FTP) and the `cport = 0` retry lookup.
 */
import type { Ip4 } from '../net/addr';
import { Timer, type Engine, type Ns } from '../sim/engine';
import { IP_VS_CONN_F_TEMPLATE, type Conn } from './ctl';
import type { Dest } from './types';
import { NEW_CONN_TIMEOUT_NS } from './proto_tcp';

const P48 = 281474976710656; // 2^48
const P16 = 65536;

/** Protocol class for the key: TCP 0, UDP 1, anything else 2 (then matched on protocol). */
const protoClass = (p: number): number => (p === 6 ? 0 : p === 17 ? 1 : 2);

/** The numeric hash key of <protocol, addr, port>. */
export const connKey = (protocol: number, addr: Ip4, port: number): number =>
  protoClass(protocol) * P48 + (addr >>> 0) * P16 + port;

/** struct ip_vs_conn. */
export class ConnEntry implements Conn {
  cport: number;
  vport: number;
  dport: number;
  dest: Dest | null = null;
  state = 0;
  flags: number;
  timeout: Ns = NEW_CONN_TIMEOUT_NS;
  expires: Ns = -1;
  control: Conn | null = null;
  nControl = 0;
  inPkts = 0;
  /** Next entry in the same hash chain. */
  hnext: ConnEntry | null = null;
  /** In the hash table (IP_VS_CONN_F_HASHED). */
  hashed = false;
  /** Key it is hashed under. */
  key = 0;
  readonly timer: Timer;

  constructor(
    readonly id: number,
    readonly protocol: number,
    readonly caddr: Ip4,
    cport: number,
    readonly vaddr: Ip4,
    vport: number,
    readonly daddr: Ip4,
    dport: number,
    flags: number,
    engine: Engine,
    onTimer: (cp: ConnEntry) => void,
  ) {
    this.cport = cport;
    this.vport = vport;
    this.dport = dport;
    this.flags = flags;
    this.timer = new Timer(engine, () => onTimer(this));
  }

  get isTemplate(): boolean {
    return (this.flags & IP_VS_CONN_F_TEMPLATE) !== 0;
  }
}

/** One hash table (connections or templates) keyed by <protocol, addr, port>. */
class Chains {
  private readonly heads = new Map<number, ConnEntry>();

  insert(cp: ConnEntry, key: number): void {
    cp.key = key;
    cp.hnext = this.heads.get(key) ?? null;
    this.heads.set(key, cp);
    cp.hashed = true;
  }

  remove(cp: ConnEntry): boolean {
    if (!cp.hashed) return false;
    let p: ConnEntry | null = this.heads.get(cp.key) ?? null;
    let prev: ConnEntry | null = null;
    while (p !== null && p !== cp) {
      prev = p;
      p = p.hnext;
    }
    if (p !== cp) return false;
    if (prev === null) {
      if (cp.hnext === null) this.heads.delete(cp.key);
      else this.heads.set(cp.key, cp.hnext);
    } else prev.hnext = cp.hnext;
    cp.hnext = null;
    cp.hashed = false;
    return true;
  }

  find(key: number, protocol: number, vaddr: Ip4, vport: number): ConnEntry | null {
    let p: ConnEntry | null = this.heads.get(key) ?? null;
    while (p !== null) {
      if (p.vport === vport && p.vaddr === vaddr && p.protocol === protocol) return p;
      p = p.hnext;
    }
    return null;
  }

  clear(): void {
    this.heads.clear();
  }
}

/** The table: connections, templates, and every live entry in creation order. */
export class ConnTable {
  private readonly conns = new Chains();
  private readonly templates = new Chains();
  /** Every entry not yet freed (hashed or not), in creation order. */
  readonly all = new Set<ConnEntry>();

  get size(): number {
    return this.all.size;
  }

  /** ip_vs_conn_hash: connections by <proto, caddr, cport>, templates by <proto, caddr, vport>. */
  hash(cp: ConnEntry): void {
    if (cp.isTemplate) this.templates.insert(cp, connKey(cp.protocol, cp.caddr, cp.vport));
    else this.conns.insert(cp, connKey(cp.protocol, cp.caddr, cp.cport));
  }

  unhash(cp: ConnEntry): boolean {
    return cp.isTemplate ? this.templates.remove(cp) : this.conns.remove(cp);
  }

  /** __ip_vs_conn_in_get. */
  inGet(protocol: number, caddr: Ip4, cport: number, vaddr: Ip4, vport: number): ConnEntry | null {
    return this.conns.find(connKey(protocol, caddr, cport), protocol, vaddr, vport);
  }

  /** ip_vs_ct_in_get: the template <protocol, snet, 0, vaddr, vport'>. */
  ctInGet(protocol: number, snet: Ip4, vaddr: Ip4, vport: number): ConnEntry | null {
    return this.templates.find(connKey(protocol, snet, vport), protocol, vaddr, vport);
  }
}
