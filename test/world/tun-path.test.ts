/**
 * The five steps of LVS-TUN on the reference setup, pinned from the trace.
 */
import { describe, expect, it } from 'vitest';
import { CIP, DIP, REF, RIP1, RIP2, VIP, runFile } from './helpers';
import type { Ipv4, Tcp } from '../../src/net/packet';
import { IPPROTO_IPIP, IPPROTO_TCP, TCP_SYN } from '../../src/net/packet';
import { TERMINAL_VERDICTS } from '../../src/trace/record';
import { recordJson } from '../../src/trace/json';
import { runSteps } from '../../src/cli/format';
import { LESSON } from '../../src/ui/lesson';
import { readFileSync } from 'node:fs';
import { runScenarioText } from '../../src/world/world';

const run = runFile(REF);
const recs = run.world.records;
const ipv4 = (r: (typeof recs)[number]) => r.packet.pkt as Ipv4;
const steps = runSteps(run);
const step = (r: (typeof recs)[number]) => steps.of(r.seq);

describe('reference setup: two connections through the five steps', () => {
  it('loads every setup line of the scenario', () => {
    expect(run.diagnostics).toEqual([]);
    expect(run.notApplied).toEqual([]);
  });

  it('rr sends the first connection to the real server added last, the second to the other', () => {
    expect(run.clients.map(c => [c.id, c.ok, c.server])).toEqual([['c1', true, 'RS2'], ['c2', true, 'RS1']]);
    expect(run.clients[0].greeting).toBe('RS2 local=172.16.29.6:9001 peer=203.0.113.10:40001\n');
    expect(run.clients[1].reply).toBe('RS1 local=172.16.29.6:9001 peer=203.0.113.10:40002\nRS1 bytes=0\n');
  });

  /** The first SYN's records, in order, as "host point verdict [step]" ("~" on the way). */
  const firstSyn = (): string[] => {
    const id = recs.find(r => r.host === 'client' && r.point === 'socket' && r.verdict === 'send')!.packet.id;
    return recs.filter(r => r.packet.id === id).map(r => `${r.host} ${r.point} ${r.verdict} ${steps.onTheWay(r.seq) ? '~' : step(r)}`);
  };

  it('on the way: the client\'s and the router\'s hops before the director carry no step number', () => {
    const syn = firstSyn();
    const way = syn.slice(0, syn.indexOf('director eth1 rx 1'));
    expect(way.length).toBeGreaterThan(5);
    expect(way.every(l => l.endsWith(' ~'))).toBe(true);
    expect(way.some(l => l.startsWith('router '))).toBe(true);
  });

  it('steps 1 to 4 on the director, at the textbook boundaries: PREROUTING 1, INPUT 2, IPVS encapsulation 3, OUTPUT/POSTROUTING 4', () => {
    const syn = firstSyn().filter(l => l.startsWith('director '));
    expect(syn).toEqual([
      'director eth1 rx 1',
      'director PREROUTING accept 1',
      'director routing local 2',
      'director INPUT accept 2',
      'director ipvs schedule 3',
      'director ipvs encap 3',
      'director routing output 3',
      'director OUTPUT accept 4',
      'director POSTROUTING accept 4',
      'director neigh queued 4',
      'director eth0 tx 4',
    ]);
  });

  it('step 2: the director records INPUT before IPVS takes the packet (ip_vs_in_hook at LOCAL_IN 99, after filter)', () => {
    const sched = recs.filter(r => r.host === 'director' && r.point === 'ipvs' && r.verdict === 'schedule');
    expect(sched).toHaveLength(2);
    for (const s of sched) {
      const input = recs[s.seq - 1]!;
      expect([input.point, input.verdict, step(input)]).toEqual(['INPUT', 'accept', 2]);
      expect(input.note).toMatch(/ip_vs_in_hook \(LOCAL_IN priority 99\)/);
      expect(step(s)).toBe(3);
    }
    expect(sched[0].sched?.scheduler).toBe('rr');
    expect(sched[0].sched?.chosen).toBe('192.168.134.5:9001');
    expect(sched[1].sched?.chosen).toBe('172.16.197.3:9001');
    // IPVS steals the packet at INPUT: it never reaches a socket on the director.
    const id = sched[0].packet.id;
    expect(recs.some(r => r.host === 'director' && r.packet.id === id && r.point === 'socket')).toBe(false);
  });

  it('step 4 ends with the real server\'s eth0 arrival; step 5 starts at its PREROUTING and holds the decapsulation and delivery', () => {
    const syn = firstSyn();
    const rx = syn.indexOf('rs2 eth0 rx 4');
    expect(rx).toBeGreaterThan(0);
    expect(syn.slice(syn.indexOf('director eth0 tx 4'), rx + 1).every(l => l.endsWith(' 4'))).toBe(true);
    expect(syn.slice(rx + 1)).toEqual([
      'rs2 PREROUTING accept 5', 'rs2 routing local 5', 'rs2 INPUT accept 5', 'rs2 tunl0 decap 5',
      'rs2 PREROUTING accept 5', 'rs2 routing local 5', 'rs2 INPUT accept 5', 'rs2 socket deliver 5',
    ]);
  });

  it('the encapsulated packet leaves the director as DIP -> RIP protocol 4 around the untouched CIP -> VIP (step 4)', () => {
    const out = recs.filter(r => r.host === 'director' && r.point === 'eth0' && r.verdict === 'tx' && ipv4(r).protocol === IPPROTO_IPIP);
    expect(out.length).toBeGreaterThanOrEqual(2);
    const dsts = new Set(out.map(r => ipv4(r).dst));
    expect(dsts).toEqual(new Set([RIP1, RIP2]));
    for (const r of out) {
      const outer = ipv4(r);
      const inner = outer.payload as Ipv4;
      expect(outer.src).toBe(DIP);
      expect([inner.src, inner.dst]).toEqual([CIP, VIP]);
      expect((inner.payload as Tcp).dport).toBe(9001);
      // Observed on 6.1: client TTL 64, router 63, both headers 62 on the director's wire; outer id 0; DF copied.
      expect(inner.ttl).toBe(62);
      expect(outer.ttl).toBe(62);
      expect(outer.id).toBe(0);
      expect(outer.df).toBe(inner.df);
      expect(step(r)).toBe(4);
    }
  });

  it('step 5: the reply VIP -> CIP reaches the client and never passes the director', () => {
    const replies = recs.filter(r => r.packet.pkt.proto === 'ipv4' && ipv4(r).src === VIP && ipv4(r).dst === CIP && ipv4(r).protocol === IPPROTO_TCP);
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.some(r => r.host === 'director')).toBe(false);
    const atClient = replies.filter(r => r.host === 'client' && r.verdict === 'deliver');
    expect(atClient.length).toBeGreaterThan(0);
    expect(replies.every(r => step(r) === 5)).toBe(true);
    // The reply leaves the real server by its own default route, from the VIP.
    const tx = replies.find(r => r.host === 'rs2' && r.point === 'eth0' && r.verdict === 'tx');
    expect(tx?.frame?.src).toBeDefined();
  });

  it('lvsim run and the lesson use the same numbered steps', () => {
    expect(LESSON.map(l => l.n)).toEqual([1, 2, 3, 4, 5]);
    for (const l of LESSON) expect(l.title.toLowerCase()).toBe(steps.step(l.n)!.title.toLowerCase());
    expect(LESSON[2]!.text).toMatch(/LOCAL_IN priority 99, after the filter table/);
    expect(LESSON[3]!.text).toMatch(/passes OUTPUT before POSTROUTING/);
    expect(LESSON[4]!.text).toMatch(/rp_filter is checked on tunl0/);
  });

  it('the director counts what it saw: 6 client packets per connection, 320 bytes (as the kernel did)', () => {
    // Stop at 1 s, before the FIN_WAIT entries expire (120 s).
    const early = runScenarioText(readFileSync(REF, 'utf8'), REF, { untilNs: 1_000_000_000 });
    const ipvs = early.world.hosts.get('director')!.ipvs;
    const svc = ipvs.services[0];
    expect(svc.stats.conns).toBe(2);
    expect(svc.stats.inpkts).toBe(12);
    expect(svc.stats.inbytes).toBe(640);
    expect(svc.dests.map(d => [d.activeconns, d.inactconns])).toEqual([[0, 1], [0, 1]]);
    // Run to the end: the entries expire 120 s after their last packet and the counters go back to 0.
    expect(run.world.hosts.get('director')!.ipvs.services[0].dests.map(d => [d.activeconns, d.inactconns])).toEqual([[0, 0], [0, 0]]);
  });

  it('every packet ends exactly once, delivered or dropped with a reason', () => {
    const ends = new Map<number, number>();
    const seen = new Set<number>();
    for (const r of recs) {
      seen.add(r.packet.id);
      if (TERMINAL_VERDICTS.has(r.verdict)) ends.set(r.packet.id, (ends.get(r.packet.id) ?? 0) + 1);
      if (r.verdict === 'drop') expect(r.reason, `record ${r.seq}`).toBeDefined();
    }
    for (const id of seen) expect(ends.get(id), `packet #${id}`).toBe(1);
  });

  it('the same scenario and seed give byte-identical JSON twice', () => {
    const a = runFile(REF, { seed: 7 }).world.records.map(r => JSON.stringify(recordJson(r))).join('\n');
    const b = runFile(REF, { seed: 7 }).world.records.map(r => JSON.stringify(recordJson(r))).join('\n');
    expect(a.length).toBeGreaterThan(1000);
    expect(a === b).toBe(true);
  });
});

describe('each forwarding method has its own lesson', () => {
  it('DR and NAT steps say what the kernel does for them, not the tunnel\'s text', async () => {
    const { lessonFor } = await import('../../src/ui/lesson');
    const { DR_STEPS, NAT_STEPS } = await import('../../src/trace/steps');
    const dr = lessonFor(DR_STEPS);
    const nat = lessonFor(NAT_STEPS);
    expect(dr.map(l => l.n)).toEqual([1, 2, 3, 4, 5]);
    expect(dr[2]!.text).toMatch(/ip_vs_dr_xmit .*KNOWN_NH/);
    expect(nat[2]!.text).toMatch(/ip_vs_nat_xmit/);
    expect(nat[4]!.text).toMatch(/ip_vs_out_hook at FORWARD/);
    for (const l of [...dr, ...nat]) expect(l.text).not.toMatch(/tunl0|IPIP/);
  });
});
