/**
 * ui/compare/charts.ts: the comparison's d3 charts: open connections per real server over time,
 * imbalance per scheduler, latency CDFs. Each draws into a container from RunResult data only.
 */
import * as d3 from 'd3';
import type { RunResult } from '../../workload/metrics';

const W = 560;
const H = 260;
const M = { top: 10, right: 90, bottom: 30, left: 48 };

function svgIn(el: HTMLElement): d3.Selection<SVGGElement, unknown, null, undefined> {
  el.innerHTML = '';
  return d3.select(el).append('svg').attr('width', W).attr('height', H)
    .append('g').attr('transform', `translate(${M.left},${M.top})`);
}

const color = d3.scaleOrdinal<string, string>(d3.schemeTableau10);

/** Open connections per real server over time (one run). */
export function drawSeries(el: HTMLElement, r: RunResult): void {
  const g = svgIn(el);
  const w = W - M.left - M.right;
  const h = H - M.top - M.bottom;
  const x = d3.scaleLinear().domain([0, d3.max(r.t) ?? 1]).range([0, w]);
  const ymax = d3.max(r.series, s => d3.max(s.open) ?? 0) ?? 1;
  const y = d3.scaleLinear().domain([0, Math.max(1, ymax)]).nice().range([h, 0]);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x).ticks(8)).append('text').attr('x', w).attr('y', 26).attr('fill', '#333').attr('text-anchor', 'end').text('time (s)');
  g.append('g').attr('class', 'axis').call(d3.axisLeft(y).ticks(6));
  r.series.forEach((s, i) => {
    const line = d3.line<number>().x((_, k) => x(r.t[k]!)).y(v => y(v));
    g.append('path').datum(s.open).attr('fill', 'none').attr('stroke', color(s.name)).attr('stroke-width', 1.4).attr('d', line);
    const w0 = s.weight.find(v => v > 0) ?? 0;
    g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 12 + i * 16).attr('fill', color(s.name)).text(`${s.name} (w ${w0})`);
  });
}

/** Jain's index of load/weight and of connections/weight, per scheduler. */
export function drawImbalance(el: HTMLElement, rows: ReadonlyArray<{ scheduler: string; load: number; conns: number }>): void {
  const g = svgIn(el);
  const w = W - M.left - M.right;
  const h = H - M.top - M.bottom;
  const x0 = d3.scaleBand().domain(rows.map(r => r.scheduler)).range([0, w]).padding(0.2);
  const x1 = d3.scaleBand().domain(['load', 'conns']).range([0, x0.bandwidth()]).padding(0.05);
  const y = d3.scaleLinear().domain([0, 1]).range([h, 0]);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x0));
  g.append('g').attr('class', 'axis').call(d3.axisLeft(y).ticks(5));
  const c = { load: '#4e79a7', conns: '#f28e2b' } as const;
  for (const r of rows) {
    for (const k of ['load', 'conns'] as const) {
      g.append('rect').attr('x', x0(r.scheduler)! + x1(k)!).attr('width', x1.bandwidth()).attr('y', y(r[k])).attr('height', h - y(r[k])).attr('fill', c[k])
        .append('title').text(`${r.scheduler} ${k}: ${r[k].toFixed(3)}`);
    }
  }
  g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 12).attr('fill', c.load).text('open / weight');
  g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 28).attr('fill', c.conns).text('conns / weight');
}

/** Latency CDF per scheduler (packet mode). */
export function drawLatency(el: HTMLElement, runs: readonly RunResult[]): void {
  const g = svgIn(el);
  const w = W - M.left - M.right;
  const h = H - M.top - M.bottom;
  const all = runs.flatMap(r => r.latency?.samplesMs ?? []);
  const x = d3.scaleLinear().domain([0, d3.max(all) ?? 1]).nice().range([0, w]);
  const y = d3.scaleLinear().domain([0, 1]).range([h, 0]);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x).ticks(8)).append('text').attr('x', w).attr('y', 26).attr('fill', '#333').attr('text-anchor', 'end').text('SYN -> first answer byte (ms)');
  g.append('g').attr('class', 'axis').call(d3.axisLeft(y).ticks(5));
  runs.forEach((r, i) => {
    const s = r.latency?.samplesMs ?? [];
    if (!s.length) return;
    const pts: Array<[number, number]> = s.map((v, k) => [v, (k + 1) / s.length]);
    g.append('path').datum(pts).attr('fill', 'none').attr('stroke', color(r.scheduler)).attr('stroke-width', 1.4)
      .attr('d', d3.line<[number, number]>().curve(d3.curveStepAfter).x(p => x(p[0])).y(p => y(p[1])));
    g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 12 + i * 16).attr('fill', color(r.scheduler)).text(`${r.scheduler} p99 ${r.latency!.p99.toFixed(2)}`);
  });
}
