import { describe, expect, it } from 'vitest';
import { ACK, FIN, SYN, director, rs, tsvc } from './world';
import { EstStats } from '../../src/ipvs/estimator';

function busy() {
  const d = director();
  d.ipvs.addService(tsvc());
  d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
  return d;
}

describe('estimation_timer (2-second copy of the counters, ip_vs_est.c)', () => {
  it('--stats shows the counters as of the last 2-second tick, not live ones', () => {
    const d = busy();
    const svc = d.ipvs.services[0]!;
    d.wait(0.5);
    for (let i = 0; i < 4; i++) d.send(`203.0.113.${i + 1}`, 1000, SYN, { bytes: 60 });
    expect(d.ipvs.shownStats(svc)).toEqual({ conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 });
    expect(d.ipvs.liveStats(svc).conns).toBe(4);
    d.wait(1.4); // t = 1.9 s
    expect(d.ipvs.shownStats(svc).conns).toBe(0);
    d.wait(0.1); // t = 2 s: tick
    expect(d.ipvs.shownStats(svc)).toEqual({ conns: 4, inpkts: 4, outpkts: 0, inbytes: 240, outbytes: 0 });
    d.send('203.0.113.1', 1000, ACK, { bytes: 52 });
    expect(d.ipvs.shownStats(svc).inpkts).toBe(4);
    expect(d.ipvs.shownStats(d.dest('10.1.0.1')).conns).toBe(4);
    expect(d.ipvs.shownStats('total').conns).toBe(4);
    d.wait(2);
    expect(d.ipvs.shownStats(svc).inpkts).toBe(5);
    expect(d.ipvs.shownStats('total').inbytes).toBe(292);
  });

  it('a listing right after a burst lags the connections made (as recorded: 33 shown for 44)', () => {
    const d = busy();
    const svc = d.ipvs.services[0]!;
    for (let i = 0; i < 44; i++) {
      d.send(`203.0.113.${i + 1}`, 1000, SYN);
      d.wait(0.1);
    }
    // t = 4.4 s: the tick at 4 s saw the first 40
    expect(d.ipvs.shownStats(svc).conns).toBe(40);
    expect(d.ipvs.liveStats(svc).conns).toBe(44);
  });

  it('rates: EWMA with weight 1/4 per 2 s tick converges to the steady rate and decays to 0', () => {
    const d = busy();
    const svc = d.ipvs.services[0]!;
    // 10 connections per second, one 100-byte packet each
    for (let i = 0; i < 600; i++) {
      const c = `203.0.${113 + (i >> 8)}.${i & 255}`;
      d.send(c, 1000, SYN, { bytes: 100 });
      d.wait(0.1);
    }
    const r = d.ipvs.shownRates(svc);
    expect(r.cps).toBe(10);
    expect(r.inpps).toBe(10);
    expect(r.inbps).toBe(1000);
    expect(r.outpps).toBe(0);
    d.wait(4); // two idle ticks: 10 * (3/4)^2 ~ 5.6
    const r2 = d.ipvs.shownRates(svc);
    expect(r2.cps).toBeGreaterThan(4);
    expect(r2.cps).toBeLessThan(7);
    d.wait(600);
    expect(d.ipvs.shownRates(svc)).toEqual({ cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 });
  });

  it('the first tick after one connection gives cps = round(512/4 / 1024) = 0 and pps 0', () => {
    const s = new EstStats(0);
    s.addConn(0);
    expect(s.rates(1).cps).toBe(0); // 128 + 511 >> 10
    const t = new EstStats(0);
    for (let i = 0; i < 8; i++) t.addConn(0);
    expect(t.rates(1).cps).toBe(1); // 8 conns / 2 s = 4 cps; first tick 1/4 of it: 1024 + 511 >> 10
  });
});

describe('ip_vs_zero_stats (-Z)', () => {
  it('the zero point is the last tick\'s copy; rates restart from 0', () => {
    const d = busy();
    const svc = d.ipvs.services[0]!;
    for (let i = 0; i < 10; i++) d.send(`203.0.113.${i + 1}`, 1000, SYN);
    d.wait(2);
    expect(d.ipvs.shownStats(svc).conns).toBe(10);
    d.send('203.0.113.50', 1000, SYN);
    d.ipvs.zero();
    expect(d.ipvs.shownStats(svc).conns).toBe(0);
    expect(d.ipvs.shownStats(d.dest('10.1.0.1')).conns).toBe(0);
    expect(d.ipvs.shownStats('total').conns).toBe(0);
    expect(d.ipvs.shownRates(svc).cps).toBe(0);
    d.wait(2);
    // the connection made after the last tick but before -Z shows up at the next tick
    expect(d.ipvs.shownStats(svc).conns).toBe(1);
  });

  it('-Z of one service leaves the others and the totals', () => {
    const d = busy();
    d.ipvs.addService(tsvc(443));
    d.ipvs.addDest(tsvc(443), rs('10.1.0.1', {}, 443));
    d.send('203.0.113.1', 1000, SYN);
    d.send('203.0.113.1', 1001, SYN, { vport: 443 });
    d.wait(2);
    d.ipvs.zero(tsvc(80));
    expect(d.ipvs.shownStats(d.ipvs.services[0]!).conns).toBe(0);
    expect(d.ipvs.shownStats(d.ipvs.services[1]!).conns).toBe(1);
    expect(d.ipvs.shownStats('total').conns).toBe(2);
  });
});

describe('no perpetual timer', () => {
  it('a finished run leaves an empty event queue (engine.run() terminates)', () => {
    const d = busy();
    d.send('203.0.113.1', 1000, SYN);
    d.send('203.0.113.1', 1000, ACK);
    d.send('203.0.113.1', 1000, FIN | ACK);
    d.engine.run();
    expect(d.engine.pending).toBe(0);
    expect(d.engine.now).toBeLessThan(130e9);
    expect(d.ipvs.shownStats(d.ipvs.services[0]!).inpkts).toBe(3);
  });
});
