/**
 * workload/report.ts: the report of a scheduler sweep, as text, JSON, CSV or a self-contained
 * HTML page. It is a function of the sweep and its runs only (no wall time), so `lvsim compare`
 * of a whole sweep and `lvsim merge` of its shards print the same bytes.
 * Pure core: no DOM, no Node APIs.
 */
import { z } from '../config/schema';
import { formatTable, PER_RUN_HEAD, perRunCount, summarize, type SummaryRow } from './compare';
import { summaryCsv } from './metrics';
import { jsonPath, parseJsonFile, PART_FORMAT, REPORT_FORMAT, runSchema, seedCount, SweepError, sweepShape, type Sweep, type SweepRun } from './sweep';

export type ReportFormat = 'text' | 'json' | 'csv' | 'html';

export const LOAD_LEGEND = 'conns, refused/run, failed/run = mean per run over the seeds; load = open connections per unit of weight, averaged over time (Jain 1 = even); conns Jain = total connections per weight.';

/** The report's JSON object: the sweep, one summary row per scheduler, and every run. */
export interface Report extends Sweep {
  readonly format: typeof REPORT_FORMAT;
  readonly summary: SummaryRow[];
  readonly runs: readonly SweepRun[];
}

export function reportObject(sweep: Sweep, runs: readonly SweepRun[]): Report {
  return { format: REPORT_FORMAT, ...sweep, summary: summarize(runs, sweep.schedulers), runs };
}

// The summary is recomputed from the runs, so only its presence is checked.
const reportSchema = z.object({ format: z.literal(REPORT_FORMAT), ...sweepShape, summary: z.array(z.unknown()), runs: z.array(runSchema) }).strict();

/**
 * Read a report written by `lvsim compare --json` or `lvsim merge --json` (the browser's compare
 * page opens one). Throws SweepError naming the file and the JSON path of the first problem.
 */
export function parseReport(textOf: string, file: string): { sweep: Sweep; runs: SweepRun[] } {
  const v = parseJsonFile(textOf, file);
  const fmt = (v as { format?: unknown } | null)?.format;
  if (fmt === PART_FORMAT) throw new SweepError(`${file}: one part of a sharded sweep; merge the parts first: lvsim merge part-*.json --json > report.json`);
  if (typeof v !== 'object' || v === null || fmt !== REPORT_FORMAT) {
    throw new SweepError(`${file}: not a compare report (expected "format": "${REPORT_FORMAT}", as lvsim compare --json and lvsim merge --json write it${typeof fmt === 'string' ? `; found "${fmt}"` : ''})`);
  }
  const r = reportSchema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SweepError(`${file}: ${jsonPath(issue.path)}: ${issue.message}`);
  }
  const { format: _f, summary: _s, runs, ...sweep } = v as Report;
  return { sweep, runs: [...runs] };
}

function headline(sweep: Sweep, runs: readonly SweepRun[]): string {
  const n = seedCount(sweep.seeds);
  const seeds = n === 1 ? `seed ${sweep.seeds.first}` : `seeds ${sweep.seeds.first}..${sweep.seeds.last}`;
  const conns = runs[0]?.connections ?? sweep.connections ?? 0;
  return `${runs[0]?.scenario ?? sweep.scenario.name}, ${sweep.mode} mode, ${seeds} x ${sweep.schedulers.length} scheduler(s), ${conns} connections per run`;
}

/** The report in one of its formats (each ends with a newline). */
export function renderReport(sweep: Sweep, runs: readonly SweepRun[], format: ReportFormat): string {
  switch (format) {
    case 'json': return JSON.stringify(reportObject(sweep, runs)) + '\n';
    case 'csv': return summaryCsv(runs);
    case 'text': return `lvsim compare: ${headline(sweep, runs)}\n${formatTable(summarize(runs, sweep.schedulers))}${LOAD_LEGEND}\n`;
    case 'html': return reportHtml(sweep, runs);
  }
}

const esc = (s: string): string => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
const fixed = (x: number | null, d: number): string => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));

/** A page with no script and no external resource: the table, and each scheduler's share of connections per real server as bars. */
function reportHtml(sweep: Sweep, runs: readonly SweepRun[]): string {
  const rows = summarize(runs, sweep.schedulers);
  const names = [...new Set(rows.flatMap(r => Object.keys(r.share)))].sort();
  const head = ['scheduler', 'runs', 'conns', PER_RUN_HEAD.refused, PER_RUN_HEAD.failed, ...names.map(n => `% ${n}`), 'load max/mean', 'load CV', 'load Jain', 'conns Jain', 'p50 ms', 'p99 ms'];
  const body = rows.map(r => [
    r.scheduler, String(r.runs), fixed(r.connections, 0), perRunCount(r.refused), perRunCount(r.failed),
    ...names.map(n => fixed((r.share[n] ?? 0) * 100, 1)),
    fixed(r.loadMaxMean, 3), fixed(r.loadCv, 3), r.runs > 1 ? `${fixed(r.loadJain, 3)} ± ${fixed(r.jainSd, 3)}` : fixed(r.loadJain, 3), fixed(r.shareJain, 3),
    fixed(r.p50, 2), fixed(r.p99, 2),
  ]);
  const table = `<table>\n<thead><tr>${head.map(h => `<th>${esc(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${body.map(b => `<tr>${b.map((c, i) => (i === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('\n')}\n</tbody>\n</table>`;
  // Share bars: one SVG per scheduler, one bar per real server, 0-100 %.
  const W = 360, bar = 16, gap = 4, label = 80;
  const charts = rows.map(r => {
    const h = names.length * (bar + gap);
    const bars = names.map((n, i) => {
      const pct = (r.share[n] ?? 0) * 100;
      const y = i * (bar + gap);
      return `<text x="0" y="${y + 12}">${esc(n)}</text><rect x="${label}" y="${y}" width="${((W - label - 50) * pct / 100).toFixed(1)}" height="${bar}"></rect><text x="${(label + (W - label - 50) * pct / 100 + 4).toFixed(1)}" y="${y + 12}">${fixed(pct, 1)} %</text>`;
    }).join('');
    return `<figure><figcaption>${esc(r.scheduler)}: share of connections</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" role="img" aria-label="${esc(r.scheduler)} share of connections per real server">${bars}</svg></figure>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lvsim compare: ${esc(sweep.scenario.name)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2em 0.6em; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
thead th, tbody th { text-align: left; }
figure { display: inline-block; margin: 1em 2em 0 0; }
svg text { font-size: 12px; fill: #222; }
svg rect { fill: #4a7bb7; }
.overflow { overflow-x: auto; }
</style>
</head>
<body>
<h1>lvsim compare</h1>
<p>${esc(headline(sweep, runs))}. Scenario ${esc(sweep.scenario.file)} (SHA-256 ${esc(sweep.scenario.sha256)}), lvsim ${esc(sweep.lvsim)}.</p>
<div class="overflow">
${table}
</div>
<p>${esc(LOAD_LEGEND)}</p>
${charts}
</body>
</html>
`;
}
