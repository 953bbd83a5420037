/**
 * Test harness for ipvs/ipvs.ts: one director's IPVS on a fresh engine, and a stand-in for
 * ip_vs_in_hook (net/netfilter/ipvs/ip_vs_core.c, from the connection lookup to the transmit
 * call) that drives the data-plane API the way
 * ipvs/core.ts does, without packets or transmit.
 */
import { ip4 } from '../../src/net/addr';
import { Engine, NS_PER_S } from '../../src/sim/engine';
import { Sysctls } from '../../src/kernel/sysctl';
import { Ipvs, type IpvsOptions } from '../../src/ipvs/ipvs';
import type { Conn, DestSpec, ServiceSpec } from '../../src/ipvs/ctl';
import type { Dest } from '../../src/ipvs/types';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export const VIP = ip4('10.0.0.100');
export const S = NS_PER_S;

export interface Director {
  engine: Engine;
  sysctl: Sysctls;
  ipvs: Ipvs;
  /** Advance virtual time by `sec` seconds, running timers due. */
  wait(sec: number): void;
  /** One client packet through ip_vs_in_hook. */
  send(src: string, sport: number, flags: number, opts?: { vport?: number; bytes?: number; proto?: number }): Verdict;
  dest(addr: string, port?: number): Dest;
}

export type Verdict =
  | { v: 'xmit'; conn: Conn; rs: string }
  | { v: 'accept' }
  | { v: 'icmp_unreach' }
  | { v: 'drop' };

export function tsvc(port = 80, scheduler = 'rr', extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { protocol: 'tcp', addr: VIP, port, scheduler, ...extra };
}

export function rs(addr: string, extra: Partial<DestSpec> = {}, port = 80): DestSpec {
  return { addr: ip4(addr), port, fwd: 'tunnel', weight: 1, uThreshold: 0, lThreshold: 0, ...extra };
}

export function director(opts: IpvsOptions = {}): Director {
  const engine = new Engine(1);
  const sysctl = new Sysctls();
  sysctl.loadIpvs();
  const ipvs = new Ipvs(engine, sysctl, opts);
  const d: Director = {
    engine,
    sysctl,
    ipvs,
    wait(sec) {
      engine.run(engine.now + Math.round(sec * S));
    },
    send(src, sport, flags, o = {}): Verdict {
      const proto = o.proto ?? 6;
      const vport = o.vport ?? 80;
      const caddr = ip4(src);
      let cp: Conn | null = ipvs.connInGet(proto, caddr, sport, VIP, vport);
      const isNew = proto === 6 ? (flags & SYN) !== 0 : false;
      if (isNew && cp) {
        let resched = false;
        if (sysctl.num('net.ipv4.vs.expire_nodest_conn') && cp.dest && cp.dest.weight === 0) resched = true;
        else if (ipvs.isNewConnExpected(cp)) resched = true;
        if (resched) {
          if (cp.nControl === 0) ipvs.expireNow(cp);
          cp = null;
        }
      }
      if (cp && cp.dest && !ipvs.destAvailable(cp.dest)) {
        if (sysctl.num('net.ipv4.vs.expire_nodest_conn')) {
          ipvs.expireNow(cp);
          cp = null;
        } else return { v: 'drop' };
      }
      if (!cp) {
        if (proto === 6 && (!(flags & SYN) || flags & RST)) return { v: 'accept' };
        const svc = ipvs.serviceFind(proto, VIP, vport);
        if (!svc) return { v: 'accept' };
        const r = ipvs.schedule(svc, { saddr: caddr, daddr: VIP, sport, dport: vport, protocol: proto });
        if (r.conn === null) return r.reason === 'no_dest' ? { v: 'icmp_unreach' } : { v: 'accept' };
        cp = r.conn;
      }
      ipvs.inStats(cp, o.bytes ?? 52);
      ipvs.setState(cp, proto === 6 ? flags : null);
      ipvs.connPut(cp);
      const a = cp.daddr;
      return { v: 'xmit', conn: cp, rs: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}` };
    },
    dest(addr, port = 80) {
      for (const s of ipvs.services) for (const x of s.dests) if (x.addr === ip4(addr) && x.port === port) return x;
      throw new Error(`no dest ${addr}:${port}`);
    },
  };
  return d;
}

/** [active, inactive] of a dest. */
export const counts = (d: Dest): [number, number] => [d.activeconns, d.inactconns];

/** Remaining seconds of an entry, as -Lnc would compute them (whole seconds). */
export function remaining(dir: Director, cp: Conn): number {
  return Math.floor((cp.expires - dir.engine.now) / S);
}
