/**
 * Every vector recorded from a real kernel (test/fixtures/oracle, formats 1 and 2) replays
 * through the full packet path: the real server of every connection (or the client's error),
 * the data a send step moved with the path MTU and MSS the client ended with, the director's
 * counters and connection table after every step, ipvsadm -Ln byte for byte, -Lnc as a set,
 * and the observations (nstat as zero or not zero, ICMP errors on the captured interfaces as a
 * set, martian-source log lines, cached route MTUs), the direct-routing and NAT ones included.
 * The firewall ones replay through iptables (rule counters as zero or not zero); the keepalived
 * ones through keepalived started as recorded, at their at_ms (who holds the VIP, the router's
 * entry, a second director's table, keepalived's log lines, adverts and gratuitous ARPs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkVector, replayJson, replayVector, type Vector } from '../../src/world/replay';

const DIR = 'test/fixtures/oracle';
const V2 = `${DIR}/v2`;
const list = (d: string) => (existsSync(d) ? readdirSync(d).filter(f => f.endsWith('.json')).sort() : []);
const load = (path: string): Vector => {
  const c = checkVector(JSON.parse(readFileSync(path, 'utf8')));
  if (!c.ok) throw new Error(`${path}: ${c.problems.map(p => `${p.path}: ${p.message}`).join('; ')}`);
  return c.vector;
};
/**
 * Where the recording and lvsim's kernel model part, one line per vector and step: the router's
 * neighbour entry after `arping`. iputils arping talks through a packet socket and arp_process
 * creates no entry from a reply without arp_accept, yet the recording shows one (the recorder's
 * host had resolved the VIP before); lvsim reports what the kernel rules give.
 */
const KNOWN: Record<string, string[]> = {
  'arp-samelan-ignore1-announce2.json': ["step 1: expected the neighbour entry to hold director:eth1's MAC, it holds nothing"],
};

describe('kernel vectors replay exactly', () => {
  it('finds the recorded vectors of both formats in the repository', () => {
    expect(list(DIR).length).toBeGreaterThanOrEqual(7);
    expect(list(V2).length).toBeGreaterThanOrEqual(17);
  });

  for (const f of list(DIR)) {
    it(`v1 ${f}: same real server, counters and listings as Linux 6.1`, () => {
      const v = load(`${DIR}/${f}`);
      const r = replayVector(v, f);
      expect(r.diagnostics).toEqual([]);
      expect(r.notModelled).toEqual([]);
      expect(r.diffs).toEqual([]);
      expect(r.final['ipvsadm-Ln']).toBe(v.final!['ipvsadm-Ln']);
      for (const [i, st] of v.steps.entries()) {
        if (st.do === 'connect' && st.expect?.rs) expect(r.steps[i]!.rs, `step ${st.n}`).toBe(st.expect.rs);
      }
    });
  }

  for (const f of list(V2)) {
    it(`v2 ${f}: outcome, counters, table and observations as Linux 6.1`, () => {
      const v = load(`${V2}/${f}`);
      const r = replayVector(v, f);
      expect(r.diagnostics).toEqual([]);
      expect(r.notModelled).toEqual([]);
      expect(r.diffs).toEqual(KNOWN[f] ?? []);
      expect(r.observe).not.toBeNull();
      for (const [i, st] of v.steps.entries()) {
        const got = r.steps[i]!;
        if (st.do !== 'connect') continue;
        const e = st.expect ?? {};
        expect(got.ok, `step ${st.n}`).toBe(e.ok !== false);
        if (e.rs) expect(got.rs, `step ${st.n}`).toBe(e.rs);
        if (e.error) expect(got.error, `step ${st.n}`).toBe(e.error);
        if (e.pmtu) expect([got.pmtu, got.snd_mss, got.server_bytes], `step ${st.n}`).toEqual([e.pmtu, e.snd_mss, e.server_bytes]);
      }
    });
  }

  it('reports a difference when the vector disagrees', () => {
    const v = load(`${DIR}/baseline.json`);
    const st = v.steps[0]!;
    if (st.do !== 'connect') throw new Error('baseline starts with a connect');
    st.expect = { ok: true, rs: '172.16.197.3' };
    const r = replayVector(v, 'baseline.json');
    expect(r.diffs[0]).toBe('step 1: expected real server 172.16.197.3, got 192.168.134.5');
  });

  it('compares nstat as zero or not zero and ICMP errors as a set', () => {
    const v = load(`${V2}/tunl0-down.json`);
    if (v.format !== 'lvsim-oracle-vector/2') throw new Error('v2 expected');
    v.observe!.nstat!.rs1!.IcmpOutDestUnreachs = 7;
    v.observe!.nstat!.director!.TcpExtIPReversePathFilter = 1;
    v.observe!.icmp = v.observe!.icmp!.slice(1);
    const r = replayVector(v, 'tunl0-down.json');
    expect(r.diffs).toEqual([
      'observe.nstat director TcpExtIPReversePathFilter: kernel 1, lvsim 0 (compared as zero or not zero)',
      'observe.icmp differs (as a set; ICMP redirects not compared; - kernel only, + lvsim only):\n  + client:c0 in 172.16.29.6 > 203.0.113.10 3/3',
    ]);
  });

  it('the PMTU vector: frag-needed 1480 from the VIP, the client ends with pmtu 1480 and MSS 1428', () => {
    const v = load(`${V2}/mtu-df.json`);
    const r = replayVector(v, 'mtu-df.json');
    expect(r.steps[0]).toMatchObject({ ok: true, rs: '172.16.197.3', server_bytes: 20000, pmtu: 1480, snd_mss: 1428 });
    expect(r.observe!.route_mtu).toEqual({ client: 1480, director: null });
    expect(new Set(r.observe!.icmp.map(i => `${i.at} ${i.dir} ${i.type}/${i.code} ${i.mtu}`))).toEqual(new Set(['client:c0 in 3/4 1480', 'director:eth0 out 3/4 1480']));
  });

  it('--json has the fields the vector format lists, per step and in observe', () => {
    const v = load(`${V2}/mtu-df.json`);
    const o = replayJson(replayVector(v, 'mtu-df.json')) as Record<string, any>;
    expect(Object.keys(o)).toEqual(['id', 'steps', 'final', 'observe']);
    expect(o.steps[0]).toEqual(expect.objectContaining({ n: 1, ok: true, rs: '172.16.197.3', error: null, table: expect.any(Array), pmtu: 1480, snd_mss: 1428, server_bytes: 20000 }));
    expect(Object.keys(o.observe)).toEqual(['nstat', 'icmp', 'martian_source_logged', 'route_mtu']);
    expect(o.observe.nstat.director.IcmpOutDestUnreachs).toBeGreaterThan(0);
  });
});
