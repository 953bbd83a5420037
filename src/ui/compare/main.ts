/**
 * ui/compare/main.ts: the scheduler comparison page (compare.html). Runs the same workload under
 * each scheduler (flow mode for the load figures, packet mode for latency) in a pool of Web
 * Workers with a progress bar, then draws the charts and answers per-connection diffs.
 */
import scenarioText from '../../../scenarios/compare-schedulers.yaml?raw';
import { formatTable, summarize, type CompareJob, type ConnDiff } from '../../workload/compare';
import type { RunResult } from '../../workload/metrics';
import { drawImbalance, drawLatency, drawSeries } from './charts';
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
      this.workers.push(w);
      this.idle.push(w);
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

function setProgress(f: number, text: string): void {
  ($('progress').firstElementChild as HTMLElement).style.width = `${Math.round(f * 100)}%`;
  $('status').textContent = text;
}

function fillSelect(sel: HTMLSelectElement, names: readonly string[], pick: string): void {
  sel.innerHTML = names.map(n => `<option${n === pick ? ' selected' : ''}>${n}</option>`).join('');
}

async function runAll(): Promise<void> {
  const schedulers = $<HTMLInputElement>('schedulers').value.split(',').map(s => s.trim()).filter(Boolean);
  const seeds = Math.max(1, Number($<HTMLInputElement>('seeds').value) || 1);
  const connections = Math.max(100, Number($<HTMLInputElement>('connections').value) || 20000);
  const jobs: CompareJob[] = [];
  for (let k = 0; k < seeds; k++) for (const s of schedulers) jobs.push({ text: scenarioText, file: FILE, scheduler: s, mode: 'flow', connections, seed: seeds > 1 ? 7 + k : undefined });
  const packetJobs: CompareJob[] = schedulers.map(s => ({ text: scenarioText, file: FILE, scheduler: s, mode: 'packet', connections: 150 }));
  const total = jobs.length + packetJobs.length;
  const part = new Array<number>(total).fill(0);
  const t0 = performance.now();
  const tick = (): void => { const d = part.reduce((a, b) => a + b, 0); setProgress(d / total, `${Math.floor(d)}/${total} runs`); };
  $<HTMLButtonElement>('run').disabled = true;
  try {
    const all = await Promise.all([...jobs, ...packetJobs].map((job, i) => pool.submit({ kind: 'run', job }, f => { part[i] = Math.min(0.99, f); tick(); }).then(r => { part[i] = 1; tick(); return r.result!; })));
    show(schedulers, all.slice(0, jobs.length), all.slice(jobs.length));
    setProgress(1, `done: ${total} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    document.body.dataset.done = '1';
  } catch (e) {
    setProgress(0, `error: ${(e as Error).message}`);
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
  }
}

/** Draw the table and charts of a set of runs (this page's, or an opened report's). */
function show(schedulers: readonly string[], flow: RunResult[], packetRuns: RunResult[]): void {
  flowRuns = flow;
  const rows = summarize(flowRuns, schedulers);
  $('table').innerHTML = `<pre>${formatTable(rows)}</pre>`;
  drawImbalance($('imbalance'), rows.map(r => ({ scheduler: r.scheduler, load: r.loadJain, conns: r.shareJain })));
  drawLatency($('latency'), packetRuns);
  fillSelect($('series-sched'), schedulers, schedulers.includes('wlc') ? 'wlc' : schedulers[0]!);
  showSeries();
  fillSelect($('diff-a'), schedulers, schedulers.includes('wlc') ? 'wlc' : schedulers[0]!);
  fillSelect($('diff-b'), schedulers, schedulers.includes('sed') ? 'sed' : schedulers[1] ?? schedulers[0]!);
}

function showSeries(): void {
  const s = $<HTMLSelectElement>('series-sched').value;
  const r = flowRuns.find(x => x.scheduler === s);
  if (r) drawSeries($('series'), r);
}

async function explain(): Promise<void> {
  const a = $<HTMLSelectElement>('diff-a').value;
  const b = $<HTMLSelectElement>('diff-b').value;
  const c = $<HTMLInputElement>('diff-conn').value;
  $('diff-out').textContent = 'running...';
  try {
    const r = await pool.submit({ kind: 'diff', text: scenarioText, file: FILE, a, b, conn: c === '' ? undefined : Number(c) });
    $('diff-out').textContent = r.diff!.text;
    document.body.dataset.diff = '1';
  } catch (e) {
    $('diff-out').textContent = `error: ${(e as Error).message}`;
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
void runAll();
