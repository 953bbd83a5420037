import { describe, expect, it } from 'vitest';
import { ip4 } from '../../src/net/addr';
import { ACK, FIN, SYN, counts, director, rs, tsvc, VIP } from './world';
import type { Conn } from '../../src/ipvs/ctl';
import type { Dest } from '../../src/ipvs/types';

describe('one-packet scheduling (-o, IP_VS_CONN_F_ONE_PACKET)', () => {
  it('schedules every UDP datagram anew and frees the entry at ip_vs_conn_put', () => {
    const d = director();
    const svc = { protocol: 'udp' as const, addr: VIP, port: 53, scheduler: 'rr', ops: true };
    d.ipvs.addService(svc);
    d.ipvs.addDest(svc, rs('10.1.0.1', {}, 53));
    d.ipvs.addDest(svc, rs('10.1.0.2', {}, 53));
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = d.send('203.0.113.7', 5000, 0, { proto: 17, vport: 53 });
      if (r.v !== 'xmit') throw new Error();
      picks.push(r.rs);
    }
    expect(picks).toEqual(['10.1.0.2', '10.1.0.1', '10.1.0.2', '10.1.0.1']);
    expect(d.ipvs.conns.size).toBe(0);
    expect(counts(d.dest('10.1.0.1', 53))).toEqual([0, 0]);
    expect(d.ipvs.liveStats(d.ipvs.services[0]!).conns).toBe(4);
  });
});

describe('onExpire hook', () => {
  it('reports each freed entry with the dest it was bound to', () => {
    const seen: [Conn, Dest | null][] = [];
    const d = director({ onExpire: (cp, dest) => void seen.push([cp, dest]) });
    d.ipvs.addService(tsvc(80, 'rr', { persistent: 10 }));
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.send('203.0.113.7', 1000, SYN);
    d.send('203.0.113.7', 1000, ACK);
    d.send('203.0.113.7', 1000, FIN | ACK);
    d.engine.run();
    expect(seen.map(([c]) => c.cport)).toEqual([1000, 0]); // the connection, then its template
    expect(seen.every(([c, dest]) => c.dest === null && dest?.addr === ip4('10.1.0.1'))).toBe(true);
    expect(d.dest('10.1.0.1').persistconns).toBe(0);
  });
});

describe('connection table lookups (__ip_vs_conn_in_get)', () => {
  it('matches <proto, caddr, cport, vaddr, vport> and finds the newest entry of a key first', () => {
    const d = director();
    d.ipvs.addService(tsvc(80));
    d.ipvs.addService(tsvc(443));
    d.ipvs.addDest(tsvc(80), rs('10.1.0.1'));
    d.ipvs.addDest(tsvc(443), rs('10.1.0.1', {}, 443));
    const a = d.send('203.0.113.7', 1000, SYN);
    const b = d.send('203.0.113.7', 1000, SYN, { vport: 443 });
    if (a.v !== 'xmit' || b.v !== 'xmit') throw new Error();
    expect(d.ipvs.connInGet(6, ip4('203.0.113.7'), 1000, VIP, 80)).toBe(a.conn);
    expect(d.ipvs.connInGet(6, ip4('203.0.113.7'), 1000, VIP, 443)).toBe(b.conn);
    expect(d.ipvs.connInGet(17, ip4('203.0.113.7'), 1000, VIP, 80)).toBe(null);
    expect(d.ipvs.connInGet(6, ip4('203.0.113.7'), 1001, VIP, 80)).toBe(null);
  });

  it('stays exact while the table grows past its initial buckets', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    const conns: Conn[] = [];
    for (let i = 0; i < 20000; i++) {
      const r = d.send(`198.18.${i >> 8}.${i & 255}`, 1024 + (i % 7), SYN);
      if (r.v !== 'xmit') throw new Error();
      conns.push(r.conn);
    }
    for (let i = 0; i < 20000; i += 997) {
      expect(d.ipvs.connInGet(6, ip4(`198.18.${i >> 8}.${i & 255}`), 1024 + (i % 7), VIP, 80)).toBe(conns[i]);
    }
    expect(d.ipvs.connections().map((c) => c.cport).slice(0, 3)).toEqual([1024, 1025, 1026]); // creation order
    d.engine.run();
    expect(d.ipvs.conns.size).toBe(0);
    expect(counts(d.dest('10.1.0.1'))).toEqual([0, 0]);
  });
});

describe('SchedContext', () => {
  it('twos draws from the engine stream "ipvs:twos": same seed, same picks', () => {
    const run = () => {
      const d = director();
      d.ipvs.addService(tsvc(80, 'twos'));
      for (let i = 1; i <= 5; i++) d.ipvs.addDest(tsvc(), rs(`10.1.0.${i}`, { weight: i }));
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        const r = d.send(`203.0.113.${i + 1}`, 1000, SYN);
        out.push(r.v === 'xmit' ? r.rs : r.v);
      }
      return out;
    };
    const a = run();
    expect(new Set(a).size).toBeGreaterThan(1);
    expect(run()).toEqual(a);
  });
});
