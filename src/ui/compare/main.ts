/**
 * ui/compare/main.ts: the scheduler comparison page (compare.html). Runs the same workload under
 * each scheduler (flow mode for the load figures, packet mode for latency) in a pool of Web
 * Workers with a progress bar, then draws the charts and answers per-connection diffs.
 * Bad input is refused before anything runs; a run that fails stops the others and its error
 * stays on screen.
 */
import './compare.css';
import scenarioText from '../../../scenarios/compare-schedulers.yaml?raw';
import { summarize, type CompareJob, type ConnDiff, type SummaryRow } from '../../workload/compare';
import type { RunResult } from '../../workload/metrics';
import { parseWorkload, type WorkloadSpec } from '../../workload/spec';
import { SCHEDULER_NAMES } from '../../ipvs/schedulers';
import { suggest } from '../../config/scenario';
import { drawImbalance, drawLatency, drawSeries, sameLatencies } from './charts';
import type { WorkerRequest } from './worker';
import { addOpenReport } from './open';

const FILE = 'scenarios/compare-schedulers.yaml';
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Reply = { id: number; progress?: number; result?: RunResult; diff?: ConnDiff; error?: string };

class Pool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ req: WorkerRequest; resolve: (r: Reply) => void; reject: (e: Error) => void; onProgress?: (f: number) => void }> = [];
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; onProgress?: (f: number) => void; w: Worker }>();
  private nextId = 1;
  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const w = this.spawn();
      this.workers.push(w);
      this.idle.push(w);
    }
  }
  private spawn(): Worker {
    const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (ev: MessageEvent<Reply>) => {
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.progress !== undefined) { p.onProgress?.(m.progress); return; }
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error)); else p.resolve(m);
      this.idle.push(w);
      this.pump();
    };
    return w;
  }
  /** Stop everything queued and running: busy workers are replaced, their callers rejected. */
  cancel(reason: string): void {
    for (const q of this.queue.splice(0)) q.reject(new Error(reason));
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.w.terminate();
      const i = this.workers.indexOf(p.w);
      const fresh = this.spawn();
      this.workers[i] = fresh;
      this.idle.push(fresh);
      p.reject(new Error(reason));
    }
  }
  submit(req: DistributiveOmit<WorkerRequest, 'id'>, onProgress?: (f: number) => void): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { ...req, id: this.nextId++ } as WorkerRequest, resolve, reject, onProgress });
      this.pump();
    });
  }
  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const q = this.queue.shift()!;
      this.pending.set(q.req.id, { resolve: q.resolve, reject: q.reject, onProgress: q.onProgress, w });
      w.postMessage(q.req);
    }
  }
}

const pool = new Pool(Math.max(1, Math.min(8, navigator.hardwareConcurrency || 2)));
let flowRuns: RunResult[] = [];
/** Bumped by every Run: progress from an older run must not overwrite what a newer one shows. */
let generation = 0;
const PACKET_CONNECTIONS = 150;
const MAX_SEEDS = 64;
const MIN_CONNECTIONS = 100;
const workload: WorkloadSpec | null = parseWorkload(scenarioText, FILE).spec;

function setProgress(f: number, text: string): void {
  ($('progress').firstElementChild as HTMLElement).style.width = `${Math.round(f * 100)}%`;
  $('status').textContent = text;
}

/** An error stays on screen until the next Run. */
function showError(msg: string): void {
  const e = $('error');
  e.textContent = msg;
  e.hidden = false;
  $('progress').classList.add('failed');
}
function clearError(): void {
  $('error').hidden = true;
  $('error').textContent = '';
  $('progress').classList.remove('failed');
}

function fillSelect(sel: HTMLSelectElement, names: readonly string[], pick: string): void {
  sel.replaceChildren(...names.map(n => { const o = document.createElement('option'); o.textContent = n; o.selected = n === pick; return o; }));
}

/** The form's values, or what is wrong with them in the user's words. */
function readForm(schedText: string, seedsText: string, connText: string): { schedulers: string[]; seeds: number; connections: number } | { error: string } {
  const schedulers = schedText.split(',').map(s => s.trim()).filter(Boolean);
  if (!schedulers.length) return { error: `schedulers: found nothing, expected a comma-separated list such as rr,wlc (${SCHEDULER_NAMES.join(', ')})` };
  for (const s of schedulers) {
    if (!SCHEDULER_NAMES.includes(s)) return { error: `schedulers: found '${s}', expected one of ${SCHEDULER_NAMES.join(', ')}${suggest(s, SCHEDULER_NAMES)}. Nothing was run.` };
  }
  const dup = schedulers.find((s, i) => schedulers.indexOf(s) !== i);
  if (dup) return { error: `schedulers: '${dup}' is listed twice. Nothing was run.` };
  if (!/^\d+$/.test(seedsText.trim()) || Number(seedsText) < 1 || Number(seedsText) > MAX_SEEDS) return { error: `seeds: found '${seedsText}', expected a whole number from 1 to ${MAX_SEEDS}. Nothing was run.` };
  if (!/^\d+$/.test(connText.trim()) || Number(connText) < MIN_CONNECTIONS) return { error: `connections: found '${connText}', expected a whole number of at least ${MIN_CONNECTIONS}. Nothing was run.` };
  return { schedulers, seeds: Number(seedsText), connections: Number(connText) };
}

/** How many arrivals the workload's duration holds, when its arrival rate is constant. */
function arrivalsInDuration(spec: WorkloadSpec): number | null {
  const a = spec.arrivals;
  return a.process === 'poisson' ? Math.floor(a.rate * spec.durationNs / 1e9) : null;
}

/** Why fewer connections than asked for arrived: the workload's duration ends arrivals first. */
function capNote(asked: number, arrived: number): string {
  if (!workload || arrived >= asked) return '';
  const secs = workload.durationNs / 1e9;
  const a = workload.arrivals;
  const rate = a.process === 'poisson' ? ` at ${a.rate} connections per second` : '';
  return `Asked for ${asked} connections; ${arrived} arrived: arrivals stop at the workload's duration (${secs} s${rate}, workload: duration in ${FILE}) or at the connection count, whichever comes first.`;
}

async function runAll(): Promise<void> {
  // Run while a run is going starts over with the form's values.
  const gen = ++generation;
  pool.cancel('superseded by a new run');
  delete document.body.dataset.done;
  clearError();
  $('note').textContent = '';
  resetDiff();
  const form = readForm($<HTMLInputElement>('schedulers').value, $<HTMLInputElement>('seeds').value, $<HTMLInputElement>('connections').value);
  if ('error' in form) { setProgress(0, 'not run'); showError(form.error); return; }
  const { schedulers, seeds, connections } = form;
  const fits = workload ? arrivalsInDuration(workload) : null;
  if (fits !== null && connections > fits) $('note').textContent = `${connections} connections at ${(workload!.arrivals as { rate: number }).rate} per second need ${Math.ceil(connections / (workload!.arrivals as { rate: number }).rate)} s; the workload's duration is ${workload!.durationNs / 1e9} s, so about ${fits} will arrive.`;
  const jobs: CompareJob[] = [];
  for (let k = 0; k < seeds; k++) for (const s of schedulers) jobs.push({ text: scenarioText, file: FILE, scheduler: s, mode: 'flow', connections, seed: seeds > 1 ? 7 + k : undefined });
  const packetJobs: CompareJob[] = schedulers.map(s => ({ text: scenarioText, file: FILE, scheduler: s, mode: 'packet', connections: PACKET_CONNECTIONS }));
  const total = jobs.length + packetJobs.length;
  const part = new Array<number>(total).fill(0);
  const t0 = performance.now();
  const tick = (): void => {
    if (gen !== generation) return;
    const d = part.reduce((x, y) => x + y, 0);
    setProgress(d / total, `${Math.floor(d)}/${total} runs`);
  };
  try {
    const all = await Promise.all([...jobs, ...packetJobs].map((job, i) => pool.submit({ kind: 'run', job }, f => { part[i] = Math.min(0.99, f); tick(); })
      .then(r => { part[i] = 1; tick(); return r.result!; }, (e: Error) => { throw new Error(`${job.scheduler} (${job.mode} mode): ${e.message}`); })));
    if (gen !== generation) return;
    show(schedulers, all.slice(0, jobs.length), all.slice(jobs.length));
    const arrived = Math.min(...flowRuns.map(r => r.connections));
    const cap = capNote(connections, arrived);
    if (cap) $('note').textContent = cap;
    setProgress(1, `done: ${total} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    document.body.dataset.done = '1';
  } catch (e) {
    if (gen !== generation) return;
    // One failed run fails the comparison: stop the others rather than let them finish unseen.
    generation++;
    pool.cancel('stopped: another run failed');
    setProgress(0, 'stopped');
    showError(`error: ${(e as Error).message}. The other runs were stopped.`);
  }
}

/** The flow-mode summary. Latency is not a flow-mode figure: it has its own section. */
function drawTable(el: HTMLElement, rows: readonly SummaryRow[]): void {
  const names = [...new Set(rows.flatMap(r => Object.keys(r.share)))].sort();
  const head = ['scheduler', 'runs', 'conns', 'refused', 'failed', ...names.map(n => `% to ${n}`), 'load max/mean', 'load CV', 'load Jain', 'conns Jain'];
  const cells = (r: SummaryRow) => [
    r.scheduler, String(r.runs), r.connections.toFixed(0), r.refused.toFixed(0), r.failed.toFixed(0),
    ...names.map(n => ((r.share[n] ?? 0) * 100).toFixed(1)),
    r.loadMaxMean.toFixed(3), r.loadCv.toFixed(3), r.runs > 1 ? `${r.loadJain.toFixed(3)}±${r.jainSd.toFixed(3)}` : r.loadJain.toFixed(3), r.shareJain.toFixed(3),
  ];
  const table = document.createElement('table');
  const tr = (tag: 'th' | 'td', xs: string[]) => { const row = document.createElement('tr'); for (const x of xs) { const c = document.createElement(tag); c.textContent = x; row.append(c); } return row; };
  table.append(tr('th', head), ...rows.map(r => tr('td', cells(r))));
  el.replaceChildren(table);
}

/** Latency in packet mode, with what it measures; no chart where every scheduler gives the same. */
function showLatency(runs: readonly RunResult[]): void {
  const el = $('latency');
  const with_ = runs.filter(r => r.latency && r.latency.count > 0);
  const intro = document.createElement('p');
  intro.className = 'explain';
  intro.textContent = `Time from the client's SYN to the first byte of the real server's answer, for ${PACKET_CONNECTIONS} connections per scheduler with every packet through the kernel model. ` +
    'The real servers answer at once here (no queueing), so a connection\'s latency is the length of its path (client, director, tunnel to the real server, reply to the client) plus any retransmission: ' +
    'schedulers differ only in how many connections they send to the real servers behind slower links.';
  if (!with_.length) {
    const p = document.createElement('p');
    p.textContent = 'No packet-mode connection completed, so there is no latency to show.';
    el.replaceChildren(intro, p);
    return;
  }
  const table = document.createElement('table');
  table.innerHTML = '<tr><th>scheduler</th><th>conns</th><th>mean ms</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th></tr>';
  for (const r of with_) {
    const l = r.latency!;
    const row = document.createElement('tr');
    for (const x of [r.scheduler, String(l.count), l.mean.toFixed(3), l.p50.toFixed(2), l.p99.toFixed(2), l.max.toFixed(2)]) { const c = document.createElement('td'); c.textContent = x; row.append(c); }
    table.append(row);
  }
  const chart = document.createElement('div');
  el.replaceChildren(intro, table, chart);
  if (sameLatencies(with_)) {
    const p = document.createElement('p');
    p.className = 'same';
    p.textContent = 'Every scheduler gives the same latencies here, so there is no chart to compare.';
    chart.replaceWith(p);
  } else {
    drawLatency(chart, with_);
  }
}

/** Draw the table and charts of a set of runs (this page's, or an opened report's). */
function show(schedulers: readonly string[], flow: RunResult[], packetRuns: RunResult[]): void {
  flowRuns = flow;
  const rows = summarize(flowRuns, schedulers);
  drawTable($('table'), rows);
  drawImbalance($('imbalance'), rows.map(r => ({ scheduler: r.scheduler, load: r.loadJain, conns: r.shareJain })));
  showLatency(packetRuns);
  fillSelect($('series-sched'), schedulers, schedulers.includes('wlc') ? 'wlc' : schedulers[0]!);
  showSeries();
  fillDiff(schedulers);
}

function showSeries(): void {
  const s = $<HTMLSelectElement>('series-sched').value;
  const r = flowRuns.find(x => x.scheduler === s);
  if (r) drawSeries($('series'), r);
}

const DIFF_PROMPT = 'Pick two schedulers: the first connection they send to different real servers, and why.';
function resetDiff(): void {
  $('diff-out').textContent = DIFF_PROMPT;
  delete document.body.dataset.diff;
}

/** Two different schedulers by default (wlc and sed when both were run). */
function fillDiff(schedulers: readonly string[]): void {
  const a = schedulers.includes('wlc') ? 'wlc' : schedulers[0]!;
  const b = schedulers.includes('sed') && a !== 'sed' ? 'sed' : schedulers.find(s => s !== a) ?? a;
  fillSelect($('diff-a'), schedulers, a);
  fillSelect($('diff-b'), schedulers, b);
  $<HTMLButtonElement>('diff').disabled = schedulers.length < 2;
  if (schedulers.length < 2) $('diff-out').textContent = 'Run at least two schedulers to compare them connection by connection.';
}

let diffGen = 0;
async function explain(): Promise<void> {
  const a = $<HTMLSelectElement>('diff-a').value;
  const b = $<HTMLSelectElement>('diff-b').value;
  const c = $<HTMLInputElement>('diff-conn').value.trim();
  if (a === b) { $('diff-out').textContent = `Both sides are ${a}: pick two different schedulers.`; return; }
  if (c !== '' && !/^\d+$/.test(c)) { $('diff-out').textContent = `connection: found '${c}', expected a connection number (0 is the first), or nothing for the first difference.`; return; }
  const g = ++diffGen;
  $('diff-out').textContent = 'running...';
  try {
    const r = await pool.submit({ kind: 'diff', text: scenarioText, file: FILE, a, b, conn: c === '' ? undefined : Number(c) });
    if (g !== diffGen) return;
    $('diff-out').textContent = r.diff!.text;
    document.body.dataset.diff = '1';
  } catch (e) {
    if (g === diffGen) $('diff-out').textContent = `error: ${(e as Error).message}`;
  }
}

$('run').addEventListener('click', () => void runAll());
// A report's runs carry no wall time, which no chart reads.
addOpenReport(document.querySelector('header')!, (sweep, runs) => {
  show(sweep.schedulers, runs as RunResult[], sweep.mode === 'packet' ? runs as RunResult[] : []);
  document.body.dataset.report = '1';
}, (line, error) => setProgress(error ? 0 : 1, error ? `error: ${line}` : line));
$('series-sched').addEventListener('change', showSeries);
$('diff').addEventListener('click', () => void explain());
// A diff on screen answers the pair it was asked for: changing the pair clears it.
for (const id of ['diff-a', 'diff-b', 'diff-conn']) $(id).addEventListener('change', () => { diffGen++; resetDiff(); });
void runAll();
