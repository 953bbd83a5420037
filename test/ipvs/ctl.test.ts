import { describe, expect, it } from 'vitest';
import { ip4 } from '../../src/net/addr';
import { ACK, FIN, SYN, counts, director, rs, tsvc, VIP } from './world';
import { IP_VS_DEST_F_AVAILABLE, IP_VS_DEST_F_OVERLOAD, IP_VS_SVC_F_PERSISTENT, type Scheduler } from '../../src/ipvs/types';
import type { IpvsErrno } from '../../src/ipvs/ctl';
import { getScheduler } from '../../src/ipvs/schedulers/index';

const errno = (e: IpvsErrno) => expect.objectContaining({ errno: e });

/** A scheduler that records its callbacks and picks the first dest in list order. */
function recorder(name: string, log: string[]): Scheduler {
  return {
    name,
    initService: () => void log.push(`${name}.init`),
    doneService: () => void log.push(`${name}.done`),
    addDest: (svc, d) => void log.push(`${name}.add ${d.addr & 255} listed=${svc.dests.includes(d)}`),
    delDest: (svc, d) => void log.push(`${name}.del ${d.addr & 255} listed=${svc.dests.includes(d)} avail=${(d.flags & IP_VS_DEST_F_AVAILABLE) !== 0}`),
    updDest: (_svc, d) => void log.push(`${name}.upd ${d.addr & 255} w=${d.weight}`),
    schedule: (svc) => svc.dests.find((d) => d.weight > 0) ?? null,
  };
}

function withRecorders() {
  const log: string[] = [];
  const scheds: Record<string, Scheduler> = { a: recorder('a', log), b: recorder('b', log) };
  const d = director({ getScheduler: (n) => scheds[n] ?? getScheduler(n) });
  return { d, log };
}

describe('ip_vs_add_service / ip_vs_edit_service / ip_vs_del_service', () => {
  it('enables IPVS with the first service and disables it with the last', () => {
    const d = director();
    expect(d.ipvs.enabled).toBe(false);
    d.ipvs.addService(tsvc());
    expect(d.ipvs.enabled).toBe(true);
    d.ipvs.delService(tsvc());
    expect(d.ipvs.enabled).toBe(false);
  });

  it('EEXIST for an existing service (checked before the scheduler), ENOENT for an unknown scheduler', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    expect(() => d.ipvs.addService(tsvc(80, 'nosuch'))).toThrow(errno('EEXIST'));
    expect(() => d.ipvs.addService(tsvc(81, 'nosuch'))).toThrow(errno('ENOENT'));
    expect(() => d.ipvs.editService(tsvc(80, 'nosuch'))).toThrow(errno('ENOENT'));
    expect(d.ipvs.services.length).toBe(1);
  });

  it('ESRCH for -E/-D/-Z/-a/-e/-d on a missing service', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    const other = tsvc(81);
    expect(() => d.ipvs.editService(other)).toThrow(errno('ESRCH'));
    expect(() => d.ipvs.delService(other)).toThrow(errno('ESRCH'));
    expect(() => d.ipvs.zero(other)).toThrow(errno('ESRCH'));
    expect(() => d.ipvs.addDest(other, rs('10.1.0.1'))).toThrow(errno('ESRCH'));
    expect(() => d.ipvs.editDest(other, rs('10.1.0.1'))).toThrow(errno('ESRCH'));
    expect(() => d.ipvs.delDest(other, rs('10.1.0.1'))).toThrow(errno('ESRCH'));
    expect(() => d.ipvs.editDest(tsvc(), rs('10.1.0.1'))).toThrow(errno('ENOENT'));
    expect(() => d.ipvs.delDest(tsvc(), rs('10.1.0.1'))).toThrow(errno('ENOENT'));
  });

  it('-E with the same scheduler does not re-init it; a different one is done then init', () => {
    const { d, log } = withRecorders();
    d.ipvs.addService(tsvc(80, 'a'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.ipvs.editService(tsvc(80, 'a', { persistent: 300 }));
    expect(d.ipvs.services[0]!.flags & IP_VS_SVC_F_PERSISTENT).toBeTruthy();
    expect(d.ipvs.services[0]!.timeout).toBe(300);
    d.ipvs.editService(tsvc(80, 'b'));
    expect(d.ipvs.services[0]!.flags & IP_VS_SVC_F_PERSISTENT).toBe(0); // -E replaces
    expect(log).toEqual(['a.init', 'a.add 1 listed=true', 'a.done', 'b.init']);
  });

  it('-D unbinds the scheduler and moves every dest to the trash without del_dest', () => {
    const { d, log } = withRecorders();
    d.ipvs.addService(tsvc(80, 'a'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.2'));
    const d1 = d.dest('10.1.0.1');
    d.ipvs.delService(tsvc());
    expect(log.slice(3)).toEqual(['a.done']);
    expect(d1.flags & IP_VS_DEST_F_AVAILABLE).toBe(0);
    expect(d1.svc).toBe(null);
    expect(d.ipvs.trashed.length).toBe(2);
  });

  it('-C flushes every service', () => {
    const d = director();
    d.ipvs.addService(tsvc(80));
    d.ipvs.addService(tsvc(443));
    d.ipvs.flush();
    expect(d.ipvs.services.length).toBe(0);
    expect(d.ipvs.enabled).toBe(false);
  });
});

describe('ip_vs_add_dest / ip_vs_edit_dest / ip_vs_del_dest', () => {
  it('links a new dest at the head of the list, then calls add_dest', () => {
    const { d, log } = withRecorders();
    d.ipvs.addService(tsvc(80, 'a'));
    for (const a of ['10.1.0.1', '10.1.0.2', '10.1.0.3']) d.ipvs.addDest(tsvc(), rs(a));
    expect(d.ipvs.services[0]!.dests.map((x) => x.addr & 255)).toEqual([3, 2, 1]);
    expect(log.filter((l) => l.startsWith('a.add'))).toEqual(['a.add 1 listed=true', 'a.add 2 listed=true', 'a.add 3 listed=true']);
  });

  it('kernel rejections: EEXIST, ERANGE (weight < 0, l_threshold > u_threshold), EINVAL (not unicast)', () => {
    const d = director({ isUnicastOrLocal: (a) => a !== ip4('10.1.0.255') });
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    expect(() => d.ipvs.addDest(tsvc(), rs('10.1.0.1'))).toThrow(errno('EEXIST'));
    expect(() => d.ipvs.addDest(tsvc(), rs('10.1.0.2', { weight: -1 }))).toThrow(errno('ERANGE'));
    expect(() => d.ipvs.addDest(tsvc(), rs('10.1.0.2', { lThreshold: 5 }))).toThrow(errno('ERANGE'));
    expect(() => d.ipvs.editDest(tsvc(), rs('10.1.0.1', { lThreshold: 5, uThreshold: 4 }))).toThrow(errno('ERANGE'));
    for (const bad of ['0.0.0.0', '0.1.2.3', '255.255.255.255', '224.0.0.1', '239.1.1.1', '10.1.0.255']) {
      expect(() => d.ipvs.addDest(tsvc(), rs(bad))).toThrow(errno('EINVAL'));
    }
    // ERANGE is checked before EEXIST
    expect(() => d.ipvs.addDest(tsvc(), rs('10.1.0.1', { weight: -1 }))).toThrow(errno('ERANGE'));
    expect(d.ipvs.services[0]!.dests.length).toBe(1);
  });

  it('-e keeps the list position, updates last_weight only for non-zero weights, calls upd_dest', () => {
    const { d, log } = withRecorders();
    d.ipvs.addService(tsvc(80, 'a'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.1', { weight: 3 }));
    d.ipvs.addDest(tsvc(), rs('10.1.0.2'));
    d.ipvs.editDest(tsvc(), rs('10.1.0.1', { weight: 0 }));
    const d1 = d.dest('10.1.0.1');
    expect(d1.weight).toBe(0);
    expect(d1.lastWeight).toBe(3);
    d.ipvs.editDest(tsvc(), rs('10.1.0.1', { weight: 7, fwd: 'route' }));
    expect(d1.lastWeight).toBe(7);
    expect(d1.fwd).toBe('route');
    expect(d.ipvs.services[0]!.dests.map((x) => x.addr & 255)).toEqual([2, 1]);
    expect(log.filter((l) => l.startsWith('a.upd'))).toEqual(['a.upd 1 w=0', 'a.upd 1 w=7']);
  });

  it('-d unlinks, clears AVAILABLE, then calls del_dest; the dest goes to the trash', () => {
    const { d, log } = withRecorders();
    d.ipvs.addService(tsvc(80, 'a'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.ipvs.delDest(tsvc(), rs('10.1.0.1'));
    expect(log.at(-1)).toBe('a.del 1 listed=false avail=false');
    expect(d.ipvs.trashed.length).toBe(1);
  });

  it('existing connections keep a deleted dest (packets dropped) unless expire_nodest_conn', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.2'));
    const first = d.send('203.0.113.7', 40000, SYN);
    if (first.v !== 'xmit') throw new Error();
    const gone = d.dest(first.rs);
    d.ipvs.delDest(tsvc(), { addr: gone.addr, port: 80 });
    d.wait(1);
    expect(d.send('203.0.113.7', 40000, ACK).v).toBe('drop');
    expect(d.ipvs.conns.size).toBe(1);
    expect(counts(gone)).toEqual([1, 0]); // counters live on in the trashed dest
    d.wait(61);
    expect(d.ipvs.conns.size).toBe(0);
    expect(counts(gone)).toEqual([0, 0]);
  });

  it('expire_nodest_conn=1: deleting a dest expires its connections one jiffy later', () => {
    const d = director();
    d.sysctl.set('net.ipv4.vs.expire_nodest_conn', '1');
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.2'));
    d.send('203.0.113.7', 40000, SYN);
    d.send('203.0.113.7', 40000, ACK);
    d.send('203.0.113.8', 40000, SYN);
    const d2 = d.dest('10.1.0.2');
    d.ipvs.delDest(tsvc(), rs('10.1.0.2'));
    expect(d.ipvs.conns.size).toBe(2);
    d.wait(0.005);
    expect(d.ipvs.conns.size).toBe(1);
    expect(counts(d2)).toEqual([0, 0]);
    // a packet of a deleted dest's flow is rescheduled when it is a SYN
    const again = d.send('203.0.113.7', 40000, SYN);
    expect(again.v === 'xmit' && again.rs).toBe('10.1.0.1');
  });

  it('a re-added dest comes back from the trash at the head, with its counters', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.ipvs.addDest(tsvc(), rs('10.1.0.2'));
    d.send('203.0.113.7', 40000, SYN); // rr: 10.1.0.2 (head)
    const d2 = d.dest('10.1.0.2');
    expect(counts(d2)).toEqual([1, 0]);
    d.ipvs.delDest(tsvc(), rs('10.1.0.2'));
    d.wait(10);
    d.ipvs.addDest(tsvc(), rs('10.1.0.2', { weight: 4 }));
    expect(d.dest('10.1.0.2')).toBe(d2);
    expect(d2.weight).toBe(4);
    expect(counts(d2)).toEqual([1, 0]);
    expect(d.ipvs.services[0]!.dests[0]).toBe(d2);
    expect(d.ipvs.trashed.length).toBe(0);
    expect(d.ipvs.liveStats(d2).conns).toBe(1); // same service: stats kept
  });

  it('the trash frees an unreferenced dest after 120-180 s; a later re-add starts from zero', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.send('203.0.113.7', 40000, SYN);
    d.send('203.0.113.7', 40000, FIN);
    const old = d.dest('10.1.0.1');
    d.ipvs.delDest(tsvc(), rs('10.1.0.1'));
    d.engine.run();
    expect(d.ipvs.trashed.length).toBe(0);
    expect(d.engine.pending).toBe(0);
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    expect(d.dest('10.1.0.1')).not.toBe(old);
    expect(d.ipvs.liveStats(d.dest('10.1.0.1')).conns).toBe(0);
  });

  it('a dest whose service was deleted and re-created comes back with its stats zeroed', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    d.send('203.0.113.7', 40000, SYN);
    const old = d.dest('10.1.0.1');
    d.wait(2); // an estimator tick publishes conns=1
    expect(d.ipvs.shownStats(old).conns).toBe(1);
    d.ipvs.delService(tsvc());
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    expect(d.dest('10.1.0.1')).toBe(old);
    expect(counts(old)).toEqual([1, 0]);
    expect(d.ipvs.shownStats(old).conns).toBe(0);
    expect(d.ipvs.liveStats(old).conns).toBe(0);
  });
});

describe('thresholds and IP_VS_DEST_F_OVERLOAD (ip_vs_bind_dest / ip_vs_unbind_dest)', () => {
  function overloadable(u: number, l: number) {
    const d = director();
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1', { uThreshold: u, lThreshold: l }));
    return d;
  }
  const overloaded = (d: ReturnType<typeof director>) => (d.dest('10.1.0.1').flags & IP_VS_DEST_F_OVERLOAD) !== 0;

  it('sets OVERLOAD when active+inactive reaches u_threshold; the scheduler then refuses', () => {
    const d = overloadable(2, 0);
    d.send('203.0.113.1', 1000, SYN);
    expect(overloaded(d)).toBe(false);
    d.send('203.0.113.2', 1000, SYN);
    expect(overloaded(d)).toBe(true);
    expect(d.send('203.0.113.3', 1000, SYN).v).toBe('icmp_unreach');
  });

  it('clears it on expiry below 3/4 of u_threshold when l_threshold is 0', () => {
    const d = overloadable(4, 0);
    for (let i = 1; i <= 4; i++) {
      d.send(`203.0.113.${i}`, 1000, SYN);
      d.send(`203.0.113.${i}`, 1000, FIN); // SYN_RECV -> TIME_WAIT, 120 s
      d.wait(10);
    }
    expect(overloaded(d)).toBe(true);
    d.wait(81); // first entry expires: total 3, 3*4 < 4*3 is false
    expect(d.dest('10.1.0.1').inactconns).toBe(3);
    expect(overloaded(d)).toBe(true);
    d.wait(10); // total 2: 8 < 12
    expect(d.dest('10.1.0.1').inactconns).toBe(2);
    expect(overloaded(d)).toBe(false);
  });

  it('clears it below l_threshold when set', () => {
    const d = overloadable(3, 2);
    for (let i = 1; i <= 3; i++) {
      d.send(`203.0.113.${i}`, 1000, SYN);
      d.send(`203.0.113.${i}`, 1000, FIN);
      d.wait(10);
    }
    expect(overloaded(d)).toBe(true);
    d.wait(91); // one expired: total 2, not < 2
    expect(overloaded(d)).toBe(true);
    d.wait(10); // total 1 < 2
    expect(overloaded(d)).toBe(false);
  });

  it('-e clears it when u_threshold becomes 0 or larger, not when smaller or equal', () => {
    const d = overloadable(1, 0);
    d.send('203.0.113.1', 1000, SYN);
    expect(overloaded(d)).toBe(true);
    d.ipvs.editDest(tsvc(), rs('10.1.0.1', { uThreshold: 1 }));
    expect(overloaded(d)).toBe(true);
    d.ipvs.editDest(tsvc(), rs('10.1.0.1', { uThreshold: 2 }));
    expect(overloaded(d)).toBe(false);
    d.send('203.0.113.2', 1000, SYN);
    expect(overloaded(d)).toBe(true);
    d.ipvs.editDest(tsvc(), rs('10.1.0.1', { uThreshold: 0 }));
    expect(overloaded(d)).toBe(false);
  });

  it('is not re-evaluated on state changes, only on bind and unbind', () => {
    const d = overloadable(1, 0);
    d.send('203.0.113.1', 1000, SYN);
    d.send('203.0.113.1', 1000, ACK);
    d.send('203.0.113.1', 1000, FIN | ACK);
    expect(overloaded(d)).toBe(true);
  });
});

describe('ip_vs_service_find', () => {
  it('exact <proto, VIP, port>, then the port-0 service', () => {
    const d = director();
    d.ipvs.addService(tsvc(80));
    d.ipvs.addService(tsvc(0, 'rr', { persistent: 60 }));
    expect(d.ipvs.serviceFind(6, VIP, 80)!.port).toBe(80);
    expect(d.ipvs.serviceFind(6, VIP, 8080)!.port).toBe(0);
    expect(d.ipvs.serviceFind(17, VIP, 80)).toBe(null);
  });

  it('FTP: data and unprivileged ports fall back to the port-21 service (TCP only)', () => {
    const d = director();
    d.ipvs.addService(tsvc(21, 'rr', { persistent: 60 }));
    expect(d.ipvs.serviceFind(6, VIP, 20)!.port).toBe(21);
    expect(d.ipvs.serviceFind(6, VIP, 40000)!.port).toBe(21);
    expect(d.ipvs.serviceFind(6, VIP, 443)).toBe(null);
  });

  it('a non-persistent port-0 service refuses every connection (ip_vs_leave: ICMP)', () => {
    const d = director();
    d.ipvs.addService(tsvc(0));
    d.ipvs.addDest(tsvc(0), rs('10.1.0.1', {}, 0));
    expect(d.send('203.0.113.1', 1000, SYN).v).toBe('icmp_unreach');
  });

  it('never schedules a connection from client port 20 (FTPDATA)', () => {
    const d = director();
    d.ipvs.addService(tsvc());
    d.ipvs.addDest(tsvc(), rs('10.1.0.1'));
    expect(d.send('203.0.113.1', 20, SYN).v).toBe('accept');
  });
});
