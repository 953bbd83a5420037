import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffSchedulers, formatTable, perRunCount, runJob, summarize } from '../../src/workload/compare';
import { renderReport } from '../../src/workload/report';
import type { Sweep } from '../../src/workload/sweep';
import { seriesCsv, summaryCsv } from '../../src/workload/metrics';

const SCN = 'scenarios/compare-schedulers.yaml';
const text = readFileSync(SCN, 'utf8');

describe('per-connection diff', () => {
  it('explains the first connection wlc and sed send to different real servers', () => {
    const d = diffSchedulers(text, SCN, 'wlc', 'sed');
    // Connections 0 and 1 went to rs4 (w4) and rs3 (w3) under both. For connection 2 both see
    // rs4 and rs3 with one active connection each, rs2 (w2) and rs1 (w1) idle:
    // wlc's overhead/weight: rs4 256/4, rs3 256/3, rs2 0/2, rs1 0/1 -> rs2 (0 beats 64; tie with rs1 keeps rs2, earlier in list);
    // sed's (active+1)/weight: rs4 2/4, rs3 2/3, rs2 1/2, rs1 1/1 -> rs4 (2/4 = 1/2 ties with rs2; rs4 is earlier in list).
    expect(d.conn).toBe(2);
    expect(d.a).toMatchObject({ scheduler: 'wlc', name: 'rs2', dest: '192.168.134.5:9001' });
    expect(d.b).toMatchObject({ scheduler: 'sed', name: 'rs4', dest: '10.20.40.5:9001' });
    expect(d.a.explain!.candidates.map(c => [c.dest, c.weight, c.activeconns, c.cost])).toEqual([
      ['10.20.40.5:9001', 4, 1, 256], ['10.20.30.4:9001', 3, 1, 256], ['192.168.134.5:9001', 2, 0, 0], ['172.16.197.3:9001', 1, 0, 0],
    ]);
    expect(d.b.explain!.candidates.map(c => c.cost)).toEqual([2, 2, 1, 1]);
    expect(d.text).toMatch(/^connection 2 \(client [\d.]+:\d+, SYN at [\d.]+ s\) went to rs2 under wlc and rs4 under sed, because:/);
  });

  it('explains a chosen connection number even where both agree', () => {
    const d = diffSchedulers(text, SCN, 'rr', 'wrr', { conn: 0 });
    expect(d.conn).toBe(0);
    expect(d.a.explain!.scheduler).toBe('rr');
    expect(d.b.explain!.summary).toMatch(/^wrr: /);
  });
});

describe('comparison table and exports', () => {
  it('runs the same arrivals under each scheduler (rr splits evenly, wlc follows the weights)', () => {
    const rs = ['rr', 'wlc'].map(s => runJob({ text, file: SCN, scheduler: s, mode: 'flow', connections: 4000 }));
    expect(rs.map(r => r.connections)).toEqual([4000, 4000]);
    const rr = rs[0]!.dests.map(d => d.conns);
    expect(Math.max(...rr) - Math.min(...rr)).toBeLessThanOrEqual(1);
    const wlc = Object.fromEntries(rs[1]!.dests.map(d => [d.name, d.conns]));
    expect(wlc.rs4! + wlc.rs3!).toBeGreaterThan(wlc.rs1! * 4);
    const table = formatTable(summarize(rs, ['rr', 'wlc']));
    expect(table.split('\n')[0]).toMatch(/^sched\s+runs\s+conns/);
    expect(summaryCsv(rs).split('\n')[0]).toMatch(/^scheduler,seed,mode,connections/);
    const csv = seriesCsv(rs).split('\n');
    expect(csv[0]).toBe('scheduler,seed,mode,t_s,server,dest,new_conns,active_conn,inact_conn,open,weight,load_per_weight');
    expect(csv.length).toBeGreaterThan(100);
    expect(JSON.parse(JSON.stringify(rs[0]))).toMatchObject({ scheduler: 'rr', mode: 'flow' });
  });

  it('packet mode reports connection latency percentiles', () => {
    const r = runJob({ text, file: SCN, scheduler: 'wlc', mode: 'packet', connections: 60 });
    expect(r.latency!.count).toBe(60);
    expect(r.latency!.p50).toBeGreaterThan(1);
    expect(r.latency!.p99).toBeGreaterThanOrEqual(r.latency!.p50);
  });
});

describe('failed and refused in the summary tables', () => {
  // One real run, repeated as four seeds of which only the third had a failed connection:
  // the mean per run is 0.25, and no table may print it as 0.
  const one = runJob({ text, file: SCN, scheduler: 'rr', mode: 'flow', connections: 200 });
  const runs = [0, 0, 1, 0].map((failed, k) => ({ ...one, seed: 1 + k, failed, refused: k === 1 ? 3 : 0 }));
  const sweep: Sweep = {
    lvsim: 'test', scenario: { file: SCN, name: 'compare', sha256: '0'.repeat(64) },
    mode: 'flow', connections: 200, schedulers: ['rr'], seeds: { first: 1, last: 4 },
  };

  it('prints the mean per run with decimals, labelled per run, in the text table lvsim compare and lvsim merge print', () => {
    const out = renderReport(sweep, runs, 'text').split('\n');
    const head = out[1]!.trim().split(/\s{2,}/);
    const row = out[3]!.trim().split(/\s+/);
    expect(head.slice(0, 5)).toEqual(['sched', 'runs', 'conns', 'refused/run', 'failed/run']);
    expect(row.slice(0, 5)).toEqual(['rr', '4', '200', '0.75', '0.25']);
    expect(out.join('\n')).toMatch(/conns, refused\/run, failed\/run = mean per run over the seeds/);
  });

  it('prints the same figures in the HTML report', () => {
    const html = renderReport(sweep, runs, 'html');
    expect(html).toContain('<th>refused/run</th><th>failed/run</th>');
    expect(html).toMatch(/<th>rr<\/th><td>4<\/td><td>200<\/td><td>0\.75<\/td><td>0\.25<\/td>/);
  });

  it('never rounds a failure away: whole numbers stay whole, a tiny mean reads <0.01', () => {
    expect(perRunCount(0)).toBe('0');
    expect(perRunCount(2)).toBe('2');
    expect(perRunCount(0.5)).toBe('0.50');
    expect(perRunCount(1 / 400)).toBe('<0.01');
    expect(perRunCount(1 / 3)).toBe('0.33');
    expect(formatTable(summarize(runs, ['rr'])).split('\n')[2]).toMatch(/^rr\s+4\s+200\s+0\.75\s+0\.25\s/);
  });
});
