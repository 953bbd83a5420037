/**
 * ipvs/conn.ts: the connection table (net/netfilter/ipvs/ip_vs_conn.c): entries hashed by
 * <protocol, caddr, cport> and matched on vaddr/vport (ip_vs_conn_hashkey_param,
 * __ip_vs_conn_in_get), new entries at the head of their chain (hlist_add_head_rcu), so a
 * lookup finds the newest entry first. Persistence templates (cport 0, IP_VS_CONN_F_TEMPLATE)
 * live in a table of their own, reached only by ip_vs_ct_in_get(): in the kernel they share
 * the hash table, but __ip_vs_conn_in_get never matches them (cport 0 without NO_CPORT).
 *
 * Buckets are an array of chain heads indexed by a 32-bit hash; chains link entry indexes
 * through a typed array that also holds each entry's key, so a lookup builds no string,
 * allocates nothing and reads no entry but the one it finds. `all` lists
 * the live entries in creation order, as `ipvsadm -Lnc` shows them (the kernel's bucket order
 * depends on a boot-time random seed; the recorded vectors compare sets).
 *
 * Each entry's timer (cp->timer) lives in the table's TimerSet under the entry's index, so
 * that a packet's re-arm and a timer's early firing touch half a cache line, not the entry.
 * Not modelled: IP_VS_CONN_F_NO_CPORT entries (sync/FTP) and the `cport = 0` retry lookup.
 */
import type { Ip4 } from '../net/addr';
import { NS_PER_S, TimerSet, type Engine, type Ns } from '../sim/engine';
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

/**
 * struct ip_vs_conn. Entries may be recycled by their table (ConnTable.recycle), so the
 * fields that the kernel fixes at ip_vs_conn_new are set by `init`, not by the constructor.
 */
export class ConnEntry implements Conn {
  cport = 0;
  /** Addresses as signed 32-bit integers (small integers for V8, so never a boxed number). */
  c32 = 0;
  vport = 0;
  v32 = 0;
  protocol = 0;
  id = 0;
  dport = 0;
  d32 = 0;
  get caddr(): Ip4 { return this.c32 >>> 0; }
  get vaddr(): Ip4 { return this.v32 >>> 0; }
  get daddr(): Ip4 { return this.d32 >>> 0; }
  state = 0;
  flags = 0;
  dest: Dest | null = null;
  /**
   * cp->timeout, kept in whole seconds when it is one (every timeout the kernel's interfaces
   * set is), so V8 holds it as a small integer in the entry and not as a separate boxed double.
   */
  private tmo: number = NEW_CONN_TIMEOUT_NS / NS_PER_S;
  private tmoNs = false;
  get timeout(): Ns {
    return this.tmoNs ? this.tmo : this.tmo * NS_PER_S;
  }
  set timeout(ns: Ns) {
    const s = ns / NS_PER_S;
    this.tmoNs = (s | 0) !== s;
    this.tmo = this.tmoNs ? ns : s;
  }
  control: Conn | null = null;
  nControl = 0;
  inPkts = 0;
  /** In the hash table (IP_VS_CONN_F_HASHED), hence listed. */
  hashed = false;
  /** Its timer's index in the table's TimerSet; -1 once the entry is freed. */
  ix = -1;

  constructor(private readonly timers: TimerSet) {}

  /** ip_vs_conn_new's fields: a fresh entry, state NONE, timeout 3 s, unbound, timer not armed. */
  init(ix: number, id: number, protocol: number, caddr: Ip4, cport: number, vaddr: Ip4, vport: number, daddr: Ip4, dport: number, flags: number): this {
    this.ix = ix;
    this.id = id;
    this.protocol = protocol;
    this.c32 = caddr | 0;
    this.cport = cport;
    this.v32 = vaddr | 0;
    this.vport = vport;
    this.d32 = daddr | 0;
    this.dport = dport;
    this.flags = flags;
    this.dest = null;
    this.state = 0;
    this.timeout = NEW_CONN_TIMEOUT_NS;
    this.control = null;
    this.nControl = 0;
    this.inPkts = 0;
    return this;
  }

  /** The timer is pending (timer_pending). */
  get armed(): boolean {
    return this.ix >= 0 && this.timers.armed(this.ix);
  }

  /** Absolute expiry of the timer, -1 when not armed. */
  get expires(): Ns {
    return this.ix >= 0 ? this.timers.expiry(this.ix) : -1;
  }

  /** mod_timer(&cp->timer, at). */
  mod(at: Ns): void {
    this.timers.mod(this.ix, at);
  }

  /** mod_timer(&cp->timer, jiffies + delay), through the engine's lane for the delay. */
  modAfter(delay: Ns): void {
    this.timers.modAfter(this.ix, delay);
  }

  /** del_timer. */
  del(): void {
    if (this.ix >= 0) this.timers.del(this.ix);
  }

  get isTemplate(): boolean {
    return (this.flags & IP_VS_CONN_F_TEMPLATE) !== 0;
  }
}

/**
 * The hash chains' records, by entry index, shared by the two tables (an entry is in one chain
 * at most): the next entry's index and the lookup key, side by side in one typed array. A
 * chain walk reads 16 bytes per entry it passes and touches only the entry it returns, so the
 * hundred thousand entries a busy director holds in FIN_WAIT cost a lookup nothing.
 */
class ChainLinks {
  /** Per index: next index (-1: end), caddr, vaddr (as int32), cport | vport << 16. */
  l = new Int32Array(64 * 4);

  reserve(n: number): void {
    if (n * 4 <= this.l.length) return;
    let c = this.l.length;
    while (c < n * 4) c *= 2;
    const l = new Int32Array(c);
    l.set(this.l);
    this.l = l;
  }
}

const L_NEXT = 0;
const L_CADDR = 1;
const L_VADDR = 2;
const L_PORTS = 3;
const NONE = -1;

/**
 * One hash table (connections or templates): chain heads indexed by a 32-bit mix of
 * <protocol, addr, port> like ip_vs_conn_hashkey (whose jhash seed is random; this one is
 * fixed, which only changes bucket order, never a lookup), chains linked by entry index
 * (ChainLinks), new entries at the head. It doubles when it is half full, so a lookup mostly
 * reads one record (the kernel's fixed 4096 buckets only change speed). No Map and no key
 * object: the hot path allocates nothing.
 */
class Chains {
  private heads = new Int32Array(4096).fill(NONE);
  private mask = 4095;
  private count = 0;

  constructor(private readonly links: ChainLinks, private readonly byIx: readonly (ConnEntry | undefined)[]) {}

  private static hash(protocol: number, addr: Ip4, port: number): number {
    let h = Math.imul(addr ^ Math.imul(port + 1, 0x9e3779b1) ^ (protocol << 24), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  /** Hash `cp` (by <protocol, caddr, port>, port its cport or, for templates, vport). */
  insert(cp: ConnEntry, port: number): void {
    if (this.count * 2 >= this.heads.length) this.grow();
    const i = Chains.hash(cp.protocol, cp.c32, port) & this.mask;
    const l = this.links.l;
    const o = cp.ix * 4;
    l[o + L_NEXT] = this.heads[i]!;
    l[o + L_CADDR] = cp.c32;
    l[o + L_VADDR] = cp.v32;
    l[o + L_PORTS] = (cp.cport & 0xffff) | (cp.vport << 16);
    this.heads[i] = cp.ix;
    cp.hashed = true;
    this.count++;
  }

  remove(cp: ConnEntry, port: number): boolean {
    if (!cp.hashed) return false;
    const l = this.links.l;
    const i = Chains.hash(cp.protocol, cp.c32, port) & this.mask;
    const ix = cp.ix;
    let p = this.heads[i]!;
    let prev = NONE;
    while (p !== NONE && p !== ix) {
      prev = p;
      p = l[p * 4 + L_NEXT]!;
    }
    if (p !== ix) return false;
    const next = l[ix * 4 + L_NEXT]!;
    if (prev === NONE) this.heads[i] = next;
    else l[prev * 4 + L_NEXT] = next;
    cp.hashed = false;
    this.count--;
    return true;
  }

  /** First entry (newest first) with this <protocol, addr, port, vaddr, vport>; `port` is cport or, for templates, vport. */
  find(protocol: number, addr: Ip4, port: number, vaddr: Ip4, vport: number, template: boolean): ConnEntry | null {
    const l = this.links.l;
    const a32 = addr | 0;
    const v32 = vaddr | 0;
    // a template matches on vport alone (its cport is 0): compare the upper half only
    const ports = (port & 0xffff) | (vport << 16);
    const pmask = template ? ~0xffff : -1;
    let ix = this.heads[Chains.hash(protocol, addr, port) & this.mask]!;
    while (ix !== NONE) {
      const o = ix * 4;
      if (l[o + L_CADDR] === a32 && ((l[o + L_PORTS]! ^ ports) & pmask) === 0 && l[o + L_VADDR] === v32) {
        const cp = this.byIx[ix]!;
        if (cp.protocol === protocol) return cp;
      }
      ix = l[o + L_NEXT]!;
    }
    return null;
  }

  /**
   * The entry of a reply from <daddr, dport> to <caddr, cport> (ip_vs_conn_out_get): the
   * same chain as the client's flow, matched on the real-server side.
   */
  findOut(protocol: number, caddr: Ip4, cport: number, daddr: Ip4, dport: number): ConnEntry | null {
    const l = this.links.l;
    const c32 = caddr | 0;
    let ix = this.heads[Chains.hash(protocol, caddr, cport) & this.mask]!;
    while (ix !== NONE) {
      const o = ix * 4;
      if (l[o + L_CADDR] === c32 && (l[o + L_PORTS]! & 0xffff) === cport) {
        const p = this.byIx[ix]!;
        if (p.d32 === (daddr | 0) && p.dport === dport && p.protocol === protocol) return p;
      }
      ix = l[o + L_NEXT]!;
    }
    return null;
  }

  /** Every entry, in bucket order. */
  gather(out: ConnEntry[]): void {
    const l = this.links.l;
    for (const h of this.heads) for (let ix = h; ix !== NONE; ix = l[ix * 4 + L_NEXT]!) out.push(this.byIx[ix]!);
  }

  /** Double the bucket array, keeping each chain's relative order (newest first). */
  private grow(): void {
    const old = this.heads;
    const l = this.links.l;
    this.heads = new Int32Array(old.length * 2).fill(NONE);
    this.mask = this.heads.length - 1;
    const tails = new Int32Array(this.heads.length).fill(NONE);
    for (let b = 0; b < old.length; b++) {
      let ix = old[b]!;
      while (ix !== NONE) {
        const next = l[ix * 4 + L_NEXT]!;
        const p = this.byIx[ix]!;
        const i = Chains.hash(p.protocol, p.c32, p.isTemplate ? p.vport : p.cport) & this.mask;
        l[ix * 4 + L_NEXT] = NONE;
        const t = tails[i]!;
        if (t === NONE) this.heads[i] = ix;
        else l[t * 4 + L_NEXT] = ix;
        tails[i] = ix;
        ix = next;
      }
    }
  }
}

/** Every live entry (hashed), in creation order: gathered from the chains when asked. */
export class ConnList implements Iterable<ConnEntry> {
  size = 0;

  constructor(private readonly gather: (out: ConnEntry[]) => void) {}

  has(cp: Conn): boolean {
    return cp instanceof ConnEntry && cp.hashed;
  }

  /** Creation order (by id). A snapshot: the table may change while it is walked. */
  *[Symbol.iterator](): Iterator<ConnEntry> {
    const out: ConnEntry[] = [];
    this.gather(out);
    out.sort((a, b) => a.id - b.id);
    yield* out;
  }
}

/** The table: connections, templates, every live entry in creation order, and their timers. */
export class ConnTable {
  /** The live entry holding each index. */
  private readonly byIx: (ConnEntry | undefined)[] = [];
  private readonly links = new ChainLinks();
  private readonly conns = new Chains(this.links, this.byIx);
  private readonly templates = new Chains(this.links, this.byIx);
  /** Every entry not yet freed, in creation order. */
  readonly all = new ConnList((out) => {
    this.conns.gather(out);
    this.templates.gather(out);
  });
  /** cp->timer of every entry, by the entry's index. */
  private readonly timers: TimerSet;
  /** Timer indexes free for new entries, and the next never used. */
  private readonly freeIx: number[] = [];
  private nextIx = 0;
  /**
   * Reuse freed entries for new ones (as the kernel's ip_vs_conn_cachep slab does), for a
   * caller that keeps no entry past its expiry: flow mode, whose million-entry runs would
   * otherwise be mostly garbage collection. Off by default: packet mode's views may hold an
   * entry after it is freed.
   */
  recycle = false;
  private readonly spare: ConnEntry[] = [];


  constructor(engine: Engine, onTimer: (cp: ConnEntry) => void) {
    this.timers = new TimerSet(engine, (ix) => onTimer(this.byIx[ix]!));
  }

  get size(): number {
    return this.all.size;
  }

  /** kmem_cache_alloc + ip_vs_conn_new's fields: a spare entry when recycling, else a new one, with a timer index. */
  alloc(id: number, protocol: number, caddr: Ip4, cport: number, vaddr: Ip4, vport: number, daddr: Ip4, dport: number, flags: number): ConnEntry {
    let ix = this.freeIx.pop();
    if (ix === undefined) {
      ix = this.nextIx++;
      this.timers.reserve(this.nextIx);
      this.links.reserve(this.nextIx);
    }
    const cp = (this.spare.pop() ?? new ConnEntry(this.timers)).init(ix, id, protocol, caddr, cport, vaddr, vport, daddr, dport, flags);
    this.byIx[ix] = cp;
    return cp;
  }

  /** The entry is freed (ip_vs_conn_rcu_free): its timer index is released, the entry kept for reuse when recycling. */
  free(cp: ConnEntry): void {
    if (cp.ix < 0) return;
    this.timers.del(cp.ix);
    this.freeIx.push(cp.ix);
    this.byIx[cp.ix] = undefined;
    cp.ix = -1;
    if (this.recycle) this.spare.push(cp);
  }

  /** ip_vs_conn_hash: connections by <proto, caddr, cport>, templates by <proto, caddr, vport>; listed from now on. */
  hash(cp: ConnEntry): void {
    if (cp.isTemplate) this.templates.insert(cp, cp.vport);
    else this.conns.insert(cp, cp.cport);
    this.all.size++;
  }

  unhash(cp: ConnEntry): boolean {
    const done = cp.isTemplate ? this.templates.remove(cp, cp.vport) : this.conns.remove(cp, cp.cport);
    if (done) this.all.size--;
    return done;
  }

  /** __ip_vs_conn_in_get. */
  inGet(protocol: number, caddr: Ip4, cport: number, vaddr: Ip4, vport: number): ConnEntry | null {
    return this.conns.find(protocol, caddr, cport, vaddr, vport, false);
  }

  /** ip_vs_conn_out_get: a reply RIP:rport -> CIP:cport. */
  outGet(protocol: number, daddr: Ip4, dport: number, caddr: Ip4, cport: number): ConnEntry | null {
    return this.conns.findOut(protocol, caddr, cport, daddr, dport);
  }

  /** ip_vs_ct_in_get: the template <protocol, snet, 0, vaddr, vport'>. */
  ctInGet(protocol: number, snet: Ip4, vaddr: Ip4, vport: number): ConnEntry | null {
    return this.templates.find(protocol, snet, vport, vaddr, vport, true);
  }
}
