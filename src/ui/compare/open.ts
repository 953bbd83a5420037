/**
 * ui/compare/open.ts: open a sweep's report (`lvsim merge --json`, `lvsim compare --json`) from
 * a file and show it with the page's own charts. The file is checked as the CLI checks it
 * (workload/report.ts parseReport); a file that is not a report is said in words, and what is
 * on the page stays.
 */
import { parseReport } from '../../workload/report';
import { seedCount, type Sweep, type SweepRun } from '../../workload/sweep';

/** A report larger than this is refused before it is read (a browser tab has finite memory). */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024;

/** One line saying what the page shows. */
export function reportTitle(name: string, sweep: Sweep, runs: readonly SweepRun[]): string {
  const n = seedCount(sweep.seeds);
  const seeds = n === 1 ? `seed ${sweep.seeds.first}` : `seeds ${sweep.seeds.first}..${sweep.seeds.last}`;
  return `${name}: ${sweep.scenario.file}, ${sweep.mode} mode, ${seeds} x ${sweep.schedulers.length} scheduler(s), ${runs.length} runs (lvsim ${sweep.lvsim})`;
}

/**
 * Add an "open report" file control to `parent`. `show` draws the report's runs; `say` puts a
 * line in the page's status (an error keeps what is drawn).
 */
export function addOpenReport(parent: HTMLElement, show: (sweep: Sweep, runs: SweepRun[], name: string) => void, say: (line: string, error: boolean) => void): HTMLInputElement {
  const label = document.createElement('label');
  label.textContent = 'open report ';
  const input = document.createElement('input');
  input.type = 'file';
  input.id = 'open-report';
  input.accept = '.json,application/json';
  label.append(input);
  parent.append(label);
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (!f) return;
    if (f.size > MAX_REPORT_BYTES) {
      say(`${f.name}: ${(f.size / 2 ** 20).toFixed(0)} MiB, more than the ${MAX_REPORT_BYTES / 2 ** 20} MiB a report may have here; make it smaller (fewer seeds) or use lvsim merge --html`, true);
      return;
    }
    void f.text().then(text => {
      const r = parseReport(text, f.name);
      show(r.sweep, r.runs, f.name);
      say(reportTitle(f.name, r.sweep, r.runs), false);
    }).catch((e: unknown) => say(e instanceof Error ? e.message : String(e), true));
  });
  return input;
}
