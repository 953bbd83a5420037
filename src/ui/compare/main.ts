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
import { parseScenario } from '../../config/scenario';
import { PER_RUN_HEAD, perRunCount } from '../../workload/compare';
import type { SeedRange, Sweep } from '../../workload/sweep';
import { drawImbalance, drawLatency, drawSeries, sameLatencies } from './charts';
import type { WorkerRequest } from './worker';
import { addOpenReport } from './open';
import { arrivalNote, formOfSweep, readForm, type ArrivalLimits } from './form';

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
const workload: WorkloadSpec | null = parseWorkload(scenarioText, FILE).spec;
/** The seed a count of seeds starts from, as lvsim compare --seeds N: the workload's, else the scenario's. */
const BASE_SEED = workload?.seed ?? parseScenario(scenarioText, FILE).scenario.seed;
/** What the page shows: its own run (with the seeds it ran) or an opened report. */
let showing: { kind: 'run'; seeds: SeedRange } | { kind: 'report'; name: string; sweep: Sweep } | null = null;

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

/** How many arrivals the workload's duration holds, when its arrival rate is constant. */
function arrivalsInDuration(spec: WorkloadSpec): number | null {
  const a = spec.arrivals;
  return a.process === 'poisson' ? Math.floor(a.rate * spec.durationNs / 1e9) : null;
}

/** The page's workload limits, for the arrivals note (of this page's scenario only). */
function pageLimits(): ArrivalLimits | null {
  if (!workload) return null;
  const a = workload.arrivals;
  return { file: FILE, durationS: workload.durationNs / 1e9, rate: a.process === 'poisson' ? a.rate : null };
}

async function runAll(): Promise<void> {
  // Run while a run is going starts over with the form's values.
  const gen = ++generation;
  pool.cancel('superseded by a new run');
  delete document.body.dataset.done;
  clearError();
  $('note').textContent = '';
  resetDiff();
  const form = readForm($<HTMLInputElement>('schedulers').value, $<HTMLInputElement>('seeds').value, $<HTMLInputElement>('connections').value, BASE_SEED);
  if ('error' in form) { setProgress(0, 'not run'); showError(form.error); return; }
  const { schedulers, seeds, connections } = form;
  leaveReport();
  const fits = workload ? arrivalsInDuration(workload) : null;
  if (fits !== null && connections > fits) $('note').textContent = `${connections} connections at ${(workload!.arrivals as { rate: number }).rate} per second need ${Math.ceil(connections / (workload!.arrivals as { rate: number }).rate)} s; the workload's duration is ${workload!.durationNs / 1e9} s, so about ${fits} will arrive.`;
  const jobs: CompareJob[] = [];
  for (let seed = seeds.first; seed <= seeds.last; seed++) for (const s of schedulers) jobs.push({ text: scenarioText, file: FILE, scheduler: s, mode: 'flow', connections, seed });
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
    showing = { kind: 'run', seeds };
    show(schedulers, all.slice(0, jobs.length), all.slice(jobs.length));
    const limits = pageLimits();
    const cap = limits ? arrivalNote(connections, flowRuns.map(r => r.connections), limits) : '';
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
  const head = ['scheduler', 'runs', 'conns', PER_RUN_HEAD.refused, PER_RUN_HEAD.failed, ...names.map(n => `% to ${n}`), 'load max/mean', 'load CV', 'load Jain', 'conns Jain'];
  const cells = (r: SummaryRow) => [
    r.scheduler, String(r.runs), r.connections.toFixed(0), perRunCount(r.refused), perRunCount(r.failed),
    ...names.map(n => ((r.share[n] ?? 0) * 100).toFixed(1)),
    r.loadMaxMean.toFixed(3), r.loadCv.toFixed(3), r.runs > 1 ? `${r.loadJain.toFixed(3)}±${r.jainSd.toFixed(3)}` : r.loadJain.toFixed(3), r.shareJain.toFixed(3),
  ];
  const table = document.createElement('table');
  const tr = (tag: 'th' | 'td', xs: string[]) => { const row = document.createElement('tr'); for (const x of xs) { const c = document.createElement(tag); c.textContent = x; row.append(c); } return row; };
  table.append(tr('th', head), ...rows.map(r => tr('td', cells(r))));
  el.replaceChildren(table);
}

/** Latency in packet mode, with what it measures; no chart where every scheduler gives the same. */
function showLatency(runs: readonly RunResult[], flowReport: string | null): void {
  const el = $('latency');
  const with_ = runs.filter(r => r.latency && r.latency.count > 0);
  const intro = document.createElement('p');
  intro.className = 'explain';
  intro.textContent = `Time from the client's SYN to the first byte of the real server's answer, for ${PACKET_CONNECTIONS} connections per scheduler with every packet through the kernel model. ` +
    'The real servers answer at once here (no queueing), so a connection\'s latency is the length of its path (client, director, tunnel to the real server, reply to the client) plus any retransmission: ' +
    'schedulers differ only in how many connections they send to the real servers behind slower links.';
  if (flowReport !== null) {
    // A flow-mode sweep sends no packets: there is no latency in it, not a latency that failed.
    const p = document.createElement('p');
    p.className = 'report-absent';
    p.textContent = `${flowReport} is a flow-mode report: flow mode sends no packets, so it has no latency. ` +
      'lvsim compare --mode packet measures latency; opening such a report shows it here.';
    el.replaceChildren(p);
    return;
  }
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
function show(schedulers: readonly string[], flow: RunResult[], packetRuns: RunResult[], flowReport: string | null = null): void {
  flowRuns = flow;
  const rows = summarize(flowRuns, schedulers);
  drawTable($('table'), rows);
  drawImbalance($('imbalance'), rows.map(r => ({ scheduler: r.scheduler, load: r.loadJain, conns: r.shareJain })));
  showLatency(packetRuns, flowReport);
  fillSelect($('series-sched'), schedulers, schedulers.includes('wlc') ? 'wlc' : schedulers[0]!);
  fillSeeds();
  showSeries();
  fillDiff(schedulers);
}

/** The seeds the runs have (each scheduler ran every seed), first selected. */
function fillSeeds(): void {
  const seeds = [...new Set(flowRuns.map(r => r.seed))].sort((a, b) => a - b);
  const sel = $<HTMLSelectElement>('series-seed');
  sel.replaceChildren(...seeds.map((n, i) => { const o = document.createElement('option'); o.value = String(n); o.textContent = `seed ${n}`; o.selected = i === 0; return o; }));
  sel.disabled = seeds.length < 2;
}

function showSeries(): void {
  const s = $<HTMLSelectElement>('series-sched').value;
  const seed = Number($<HTMLSelectElement>('series-seed').value);
  const r = flowRuns.find(x => x.scheduler === s && x.seed === seed) ?? flowRuns.find(x => x.scheduler === s);
  const which = $('series-which');
  if (!r) { $('series').replaceChildren(); which.textContent = ''; return; }
  const n = new Set(flowRuns.map(x => x.seed)).size;
  which.textContent = `${r.scheduler}, seed ${r.seed}` + (n > 1 ? ` (one of the ${n} seeds in the table; pick another seed above)` : '') + `: ${r.connections} connections.`;
  drawSeries($('series'), r);
}

const DIFF_PROMPT = 'Pick two schedulers: the first connection they send to different real servers, and why.';
function resetDiff(): void {
  $('diff-out').textContent = DIFF_PROMPT;
  delete document.body.dataset.diff;
}

const DIFF_CONTROLS = ['diff-a', 'diff-b', 'diff-conn', 'diff'] as const;
const FORM_FIELDS = ['schedulers', 'seeds', 'connections'] as const;

/**
 * An opened report replaces the page's run: the form takes the report's schedulers, seeds and
 * connections (and says so), and the per-connection diff, which reruns this page's own
 * scenario, is switched off rather than answer for runs it did not make.
 */
function enterReport(name: string, sweep: Sweep): void {
  showing = { kind: 'report', name, sweep };
  document.body.dataset.report = '1';
  const f = formOfSweep(sweep, workload?.connections ?? 0);
  $<HTMLInputElement>('schedulers').value = f.schedulers;
  $<HTMLInputElement>('seeds').value = f.seeds;
  $<HTMLInputElement>('connections').value = f.connections;
  for (const id of FORM_FIELDS) $(id).classList.add('from-report');
  reportBanner(false);
  diffGen++;
  delete document.body.dataset.diff;
  for (const id of DIFF_CONTROLS) $<HTMLInputElement>(id).disabled = true;
  $('diff-out').textContent = `The per-connection diff reruns this page's scenario (${FILE}) to explain one connection; it does not answer for the opened report ${name}. ` +
    `Run the page to use it here, or on the command line: lvsim compare ${sweep.scenario.file} --diff A,B --seed ${sweep.seeds.first} --conn N`;
  const limits = sweep.scenario.file === FILE ? pageLimits() : null;
  $('note').textContent = sweep.connections !== null && limits ? arrivalNote(sweep.connections, flowRuns.map(r => r.connections), limits) : '';
}

/** The banner saying the page shows a report, and whether the form still holds its values. */
function reportBanner(edited: boolean): void {
  if (showing?.kind !== 'report') return;
  const { name, sweep } = showing;
  const el = $('report-banner');
  el.hidden = false;
  const other = sweep.scenario.file === FILE ? '' : ` Run uses this page's scenario ${FILE}, not the report's ${sweep.scenario.file}.`;
  el.textContent = `Showing the report ${name} (${sweep.scenario.file}, ${sweep.mode} mode, seeds ${sweep.seeds.first}..${sweep.seeds.last}), not a run of this page. ` +
    (edited ? 'The form has been changed since: it no longer describes the report; Run runs the form.' : 'The form holds its schedulers, seeds and connections; Run runs them again here.') + other;
}

/** Back to the page's own run: banner off, the diff on again. */
function leaveReport(): void {
  if (showing?.kind !== 'report') return;
  showing = null;
  delete document.body.dataset.report;
  $('report-banner').hidden = true;
  for (const id of FORM_FIELDS) $(id).classList.remove('from-report', 'report-edited');
  for (const id of DIFF_CONTROLS) $<HTMLInputElement>(id).disabled = false;
}

/** Two different schedulers by default (wlc and sed when both were run). */
function fillDiff(schedulers: readonly string[]): void {
  const a = schedulers.includes('wlc') ? 'wlc' : schedulers[0]!;
  const b = schedulers.includes('sed') && a !== 'sed' ? 'sed' : schedulers.find(s => s !== a) ?? a;
  fillSelect($('diff-a'), schedulers, a);
  fillSelect($('diff-b'), schedulers, b);
  $<HTMLButtonElement>('diff').disabled = schedulers.length < 2 || showing?.kind === 'report';
  if (schedulers.length < 2) $('diff-out').textContent = 'Run at least two schedulers to compare them connection by connection.';
}

let diffGen = 0;
async function explain(): Promise<void> {
  const a = $<HTMLSelectElement>('diff-a').value;
  const b = $<HTMLSelectElement>('diff-b').value;
  const c = $<HTMLInputElement>('diff-conn').value.trim();
  if (a === b) { $('diff-out').textContent = `Both sides are ${a}: pick two different schedulers.`; return; }
  if (c !== '' && !/^\d+$/.test(c)) { $('diff-out').textContent = `connection: found '${c}', expected a connection number (0 is the first), or nothing for the first difference.`; return; }
  if (showing?.kind !== 'run') return;
  // The first seed of the page's run: the diff's arrivals are that run's.
  const seed = showing.seeds.first;
  const g = ++diffGen;
  $('diff-out').textContent = 'running...';
  try {
    const r = await pool.submit({ kind: 'diff', text: scenarioText, file: FILE, a, b, conn: c === '' ? undefined : Number(c), seed });
    if (g !== diffGen) return;
    $('diff-out').textContent = `seed ${seed}: ${r.diff!.text}`;
    document.body.dataset.diff = '1';
  } catch (e) {
    if (g === diffGen) $('diff-out').textContent = `error: ${(e as Error).message}`;
  }
}

$('run').addEventListener('click', () => void runAll());
// A report's runs carry no wall time, which no chart reads.
addOpenReport(document.querySelector('header')!, (sweep, runs, name) => {
  // Opening a report supersedes a run still going.
  generation++;
  pool.cancel('superseded by an opened report');
  clearError();
  showing = { kind: 'report', name, sweep };
  show(sweep.schedulers, runs as RunResult[], sweep.mode === 'packet' ? runs as RunResult[] : [], sweep.mode === 'flow' ? name : null);
  enterReport(name, sweep);
}, (line, error) => setProgress(error ? 0 : 1, error ? `error: ${line}` : line));
for (const id of FORM_FIELDS) $(id).addEventListener('input', () => {
  if (showing?.kind !== 'report') return;
  $(id).classList.add('report-edited');
  reportBanner(true);
});
$('series-sched').addEventListener('change', showSeries);
$('series-seed').addEventListener('change', showSeries);
$('diff').addEventListener('click', () => void explain());
// A diff on screen answers the pair it was asked for: changing the pair clears it.
for (const id of ['diff-a', 'diff-b', 'diff-conn']) $(id).addEventListener('change', () => { diffGen++; resetDiff(); });
void runAll();
