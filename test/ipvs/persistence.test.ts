import { describe, expect, it } from 'vitest';
import { ip4 } from '../../src/net/addr';
import { ACK, FIN, SYN, counts, director, remaining, rs, tsvc } from './world';
import { Ipvs } from '../../src/ipvs/ipvs';

function persistent(timeout = 300, extra: Record<string, unknown> = {}) {
  const d = director();
  d.ipvs.addService(tsvc(80, 'rr', { persistent: timeout, ...extra }));
  d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
  d.ipvs.addDest(tsvc(), rs('10.1.0.2'));
  return d;
}

function connect(d: ReturnType<typeof director>, src: string, sport: number, close = false): string {
  const r = d.send(src, sport, SYN);
  if (r.v !== 'xmit') throw new Error(`not scheduled: ${r.v}`);
  d.send(src, sport, ACK);
  if (close) {
    d.send(src, sport, FIN | ACK);
    d.send(src, sport, ACK);
  }
  return r.rs;
}

const templates = (d: ReturnType<typeof director>) => d.ipvs.connections().filter((c) => c.template);

describe('ip_vs_sched_persist (templates)', () => {
  it('keeps a client on its real server; the template is not in active/inactive but in persistconns', () => {
    const d = persistent();
    const a = connect(d, '203.0.113.7', 1000);
    const b = connect(d, '203.0.113.7', 1001);
    const other = connect(d, '203.0.113.8', 1000);
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    const ra = d.dest(a);
    expect(counts(ra)).toEqual([2, 0]);
    expect(ra.persistconns).toBe(1);
    const t = templates(d);
    expect(t.length).toBe(2);
    expect(t[0]).toMatchObject({ protocol: 'TCP', cport: 0, vport: 80, dport: 80, state: 'ASSURED' });
    expect(d.ipvs.shownStats(d.ipvs.services[0]!).conns).toBe(0); // not yet published
    expect(d.ipvs.liveStats(d.ipvs.services[0]!).conns).toBe(3); // templates are not counted
  });

  it('a template is NONE until a controlled connection reaches ESTABLISHED', () => {
    const d = persistent();
    d.send('203.0.113.7', 1000, SYN);
    expect(templates(d)[0]!.state).toBe('NONE');
    d.send('203.0.113.7', 1000, ACK);
    expect(templates(d)[0]!.state).toBe('ASSURED');
  });

  it('expires after the persistence timeout, re-armed by each new connection; +60 s while controlling', () => {
    const d = persistent(300);
    connect(d, '203.0.113.7', 1000); // held: controls the template for 900 s
    const ct = [...d.ipvs.conns].find((c) => Ipvs.stateName(c) === 'ASSURED')!;
    expect(remaining(d, ct)).toBe(300);
    d.wait(100);
    connect(d, '203.0.113.7', 1001, true);
    expect(remaining(d, ct)).toBe(300);
    d.wait(300); // fires while controlling: 60 s more, and its timeout is now 60 s
    expect(d.ipvs.conns.has(ct)).toBe(true);
    expect(remaining(d, ct)).toBe(60);
    expect(ct.timeout).toBe(60e9);
    connect(d, '203.0.113.7', 1002, true); // re-armed with the template's (new) timeout
    expect(remaining(d, ct)).toBe(60);
    // the held connection idles out 900 s after its last packet (t=900); the template follows
    d.wait(900 - 400 + 1);
    expect(d.ipvs.conns.size).toBe(1);
    expect(d.ipvs.conns.has(ct)).toBe(true);
    d.engine.run();
    expect(d.ipvs.conns.size).toBe(0);
    expect(d.dest('10.1.0.2').persistconns + d.dest('10.1.0.1').persistconns).toBe(0);
  });

  it('an uncontrolled template expires after the timeout and the client may move', () => {
    const d = persistent(30);
    const a = connect(d, '203.0.113.7', 1000, true);
    d.wait(31);
    // the connection (FIN_WAIT, 120 s) still controls it: template lives on in 60 s steps
    expect(templates(d).length).toBe(1);
    d.wait(120);
    expect(d.ipvs.conns.size).toBe(0);
    expect(d.dest(a).persistconns).toBe(0);
  });

  it('-M netmask groups clients of one network onto one template', () => {
    const d = persistent(300, { netmask: ip4('255.255.255.0') });
    const a = connect(d, '203.0.113.7', 1000);
    expect(connect(d, '203.0.113.99', 1000)).toBe(a);
    expect(connect(d, '203.0.114.1', 1000)).not.toBe(a);
    const t = templates(d);
    expect(t.length).toBe(2);
    expect(t[0]!.caddr).toBe(ip4('203.0.113.0'));
  });

  it('a controlled connection is never rescheduled by conn_reuse_mode (it has a control)', () => {
    const d = persistent();
    const r = d.send('203.0.113.7', 1000, SYN);
    if (r.v !== 'xmit') throw new Error();
    d.send('203.0.113.7', 1000, FIN); // SYN_RECV -> TIME_WAIT
    expect(d.ipvs.isNewConnExpected(r.conn)).toBe(false);
    const again = d.send('203.0.113.7', 1000, SYN);
    expect(again.v === 'xmit' && again.conn).toBe(r.conn);
  });
});

describe('ip_vs_check_template', () => {
  it('weight 0: the template keeps sending its client (expire_quiescent_template=0)', () => {
    const d = persistent();
    const a = connect(d, '203.0.113.7', 1000);
    d.ipvs.editDest(tsvc(), rs(a, { weight: 0 }));
    expect(connect(d, '203.0.113.7', 1001)).toBe(a);
  });

  it('expire_quiescent_template=1 with weight 0 invalidates it: re-hashed with port 65535, new template', () => {
    const d = persistent();
    d.sysctl.set('net.ipv4.vs.expire_quiescent_template', '1');
    const a = connect(d, '203.0.113.7', 1000);
    d.ipvs.editDest(tsvc(), rs(a, { weight: 0 }));
    const b = connect(d, '203.0.113.7', 1001);
    expect(b).not.toBe(a);
    const t = templates(d);
    expect(t.length).toBe(2);
    expect(t[0]).toMatchObject({ vport: 65535, dport: 65535, cport: 0 });
    expect(t[1]).toMatchObject({ vport: 80, dport: 80 });
    expect(d.dest(a).persistconns).toBe(1); // still bound until it expires
  });

  it('a deleted dest always invalidates the template', () => {
    const d = persistent();
    const a = connect(d, '203.0.113.7', 1000, true);
    d.ipvs.delDest(tsvc(), rs(a));
    expect(connect(d, '203.0.113.7', 1001)).not.toBe(a);
  });
});
