/**
 * ui/compare/charts.ts: the comparison's d3 charts: open connections per real server over time,
 * imbalance per scheduler, latency CDFs. Each draws into a container from RunResult data only.
 */
import * as d3 from 'd3';
import type { RunResult } from '../../workload/metrics';

const W = 560;
const H = 260;
const M = { top: 18, right: 90, bottom: 30, left: 48 };
/** Width of a legend label in the charts' 12px font (generous, so no label is cut). */
const labelWidth = (s: string) => s.length * 7.2 + 12;

/**
 * An SVG that scales to its container (viewBox), with room on the right for the longest
 * legend label; returns the plot group and the plot's width.
 */
function svgIn(el: HTMLElement, legend: readonly string[] = []): { g: d3.Selection<SVGGElement, unknown, null, undefined>; w: number } {
  el.replaceChildren();
  const right = Math.max(M.right, ...legend.map(labelWidth));
  const width = W - M.right + right;
  const g = d3.select(el).append('svg').attr('viewBox', `0 0 ${width} ${H}`).attr('class', 'chart')
    .append('g').attr('transform', `translate(${M.left},${M.top})`);
  return { g, w: W - M.left - M.right };
}

/**
 * Series colours: Okabe-Ito hues darkened until each reads at 4.5:1 or more on white (WCAG AA
 * for the 12px legend text drawn in the same colour). Past the eighth, lines are dashed too.
 */
export const SERIES_COLORS = ['#0072B2', '#B34700', '#007857', '#A8437F', '#8A5A00', '#6B4C9A', '#555555', '#1A1A1A'] as const;
const colorAt = (i: number): string => SERIES_COLORS[i % SERIES_COLORS.length]!;
const dashAt = (i: number): string | null => (i < SERIES_COLORS.length ? null : '5 3');

/** Real servers in natural order (rs2 before rs10), the order of the legend and of the colours. */
export function naturalOrder<T>(items: readonly T[], name: (x: T) => string): T[] {
  return [...items].sort((a, b) => name(a).localeCompare(name(b), 'en', { numeric: true }));
}

/** Open connections per real server over time (one run, whose seed the caller names). */
export function drawSeries(el: HTMLElement, r: RunResult): void {
  const label = (s: RunResult['series'][number]) => `${s.name} (w ${s.weight.find(v => v > 0) ?? 0})`;
  const series = naturalOrder(r.series, s => s.name);
  const { g, w } = svgIn(el, series.map(label));
  const h = H - M.top - M.bottom;
  const x = d3.scaleLinear().domain([0, d3.max(r.t) ?? 1]).range([0, w]);
  const ymax = d3.max(r.series, s => d3.max(s.open) ?? 0) ?? 1;
  const y = d3.scaleLinear().domain([0, Math.max(1, ymax)]).nice().range([h, 0]);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x).ticks(8)).append('text').attr('x', w / 2).attr('y', 28).attr('fill', '#333').attr('text-anchor', 'middle').text('time (s)');
  g.append('g').attr('class', 'axis').call(d3.axisLeft(y).ticks(6));
  series.forEach((s, i) => {
    const line = d3.line<number>().x((_, k) => x(r.t[k]!)).y(v => y(v));
    g.append('path').datum(s.open).attr('fill', 'none').attr('stroke', colorAt(i)).attr('stroke-dasharray', dashAt(i)).attr('stroke-width', 1.4).attr('d', line);
    g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 12 + i * 16).attr('fill', colorAt(i)).text(label(s));
  });
}

/** Jain's index of load/weight and of connections/weight, per scheduler. */
export function drawImbalance(el: HTMLElement, rows: ReadonlyArray<{ scheduler: string; load: number; conns: number }>): void {
  const { g, w } = svgIn(el, ['open / weight', 'conns / weight']);
  const h = H - M.top - M.bottom;
  const x0 = d3.scaleBand().domain(rows.map(r => r.scheduler)).range([0, w]).padding(0.2);
  const x1 = d3.scaleBand().domain(['load', 'conns']).range([0, x0.bandwidth()]).padding(0.05);
  const y = d3.scaleLinear().domain([0, 1]).range([h, 0]);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x0));
  g.append('g').attr('class', 'axis').call(d3.axisLeft(y).ticks(5));
  const c = { load: SERIES_COLORS[0], conns: SERIES_COLORS[1] } as const;
  for (const r of rows) {
    for (const k of ['load', 'conns'] as const) {
      g.append('rect').attr('x', x0(r.scheduler)! + x1(k)!).attr('width', x1.bandwidth()).attr('y', y(r[k])).attr('height', h - y(r[k])).attr('fill', c[k])
        .append('title').text(`${r.scheduler} ${k}: ${r[k].toFixed(3)}`);
    }
  }
  g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 12).attr('fill', c.load).text('open / weight');
  g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 28).attr('fill', c.conns).text('conns / weight');
}

/** True when every run has exactly the same latency samples: a chart would say nothing. */
export function sameLatencies(runs: readonly RunResult[]): boolean {
  const first = runs[0]?.latency?.samplesMs ?? [];
  return runs.every(r => {
    const s = r.latency?.samplesMs ?? [];
    return s.length === first.length && s.every((v, k) => v === first[k]);
  });
}

/** Latency CDF per scheduler (packet mode), each labelled with its mean. */
export function drawLatency(el: HTMLElement, runs: readonly RunResult[]): void {
  const label = (r: RunResult) => `${r.scheduler} mean ${r.latency!.mean.toFixed(3)} ms`;
  const { g, w } = svgIn(el, runs.map(label));
  const h = H - M.top - M.bottom;
  const all = runs.flatMap(r => r.latency?.samplesMs ?? []);
  const x = d3.scaleLinear().domain([d3.min(all) ?? 0, d3.max(all) ?? 1]).nice().range([0, w]);
  const y = d3.scaleLinear().domain([0, 1]).range([h, 0]);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x).ticks(8)).append('text').attr('x', w / 2).attr('y', 28).attr('fill', '#333').attr('text-anchor', 'middle').text('SYN -> first answer byte (ms)');
  g.append('g').attr('class', 'axis').call(d3.axisLeft(y).ticks(5)).append('text').attr('x', 4).attr('y', -2).attr('fill', '#333').attr('text-anchor', 'start').text('share of connections');
  runs.forEach((r, i) => {
    const s = r.latency?.samplesMs ?? [];
    if (!s.length) return;
    const pts: Array<[number, number]> = s.map((v, k) => [v, (k + 1) / s.length]);
    g.append('path').datum(pts).attr('fill', 'none').attr('stroke', colorAt(i)).attr('stroke-dasharray', dashAt(i)).attr('stroke-width', 1.4)
      .attr('d', d3.line<[number, number]>().curve(d3.curveStepAfter).x(p => x(p[0])).y(p => y(p[1])));
    g.append('text').attr('class', 'legend').attr('x', w + 8).attr('y', 12 + i * 16).attr('fill', colorAt(i)).text(label(r));
  });
}
