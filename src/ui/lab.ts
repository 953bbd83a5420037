/**
 * ui/lab.ts: the misconfiguration lab's exercise panel. The learner sees the symptom as a user
 * reported it, investigates with the trace, the kernel view and the console, edits the
 * configuration and runs it again; the panel then says whether each expected connection now
 * behaves. The hint and the doctor's diagnosis stay folded until asked for.
 */
import type { Lab } from '../config/scenario';
import type { ExpectationResult } from '../world/expect';
import { describeExpectation } from '../world/expect';
import { confirmedBy, type Confirmation } from '../world/doctor';

export interface LabView {
  readonly lab: Lab | null;
  readonly expectations: readonly ExpectationResult[];
  readonly findings: readonly Confirmation[];
  /** The run is of the learner's edited text, not the exercise as shipped. */
  readonly edited: boolean;
}

/** The panel for a lab scenario; for other scenarios with expectations, just the verdicts. */
export function renderLab(root: HTMLElement, v: LabView): void {
  root.replaceChildren();
  if (!v.lab && v.expectations.length === 0) { root.hidden = true; return; }
  root.hidden = false;
  if (v.lab) {
    root.append(h('h3', 'Exercise'), p(v.lab.symptom, 'lab-symptom'));
    root.append(p('Investigate with the trace, the Kernel tab and the Console tab, then fix the configuration in the editor (E) and run it again.', 'lab-how'));
    if (v.lab.hint) root.append(details('Hint', p(v.lab.hint)));
  }
  if (v.expectations.length) {
    const ok = v.expectations.every(e => e.pass);
    const verdict = p(ok
      ? (v.lab ? (v.edited ? 'Fixed: every connection behaves as expected.' : 'Every connection behaves as expected.') : 'Every expectation is met.')
      : (v.lab ? 'Not fixed yet:' : 'Expectations not met:'), ok ? 'lab-verdict lab-ok' : 'lab-verdict lab-fail');
    verdict.setAttribute('role', 'status');
    root.append(verdict);
    const ul = document.createElement('ul');
    ul.className = 'lab-expect';
    for (const e of v.expectations) {
      const li = document.createElement('li');
      li.className = e.pass ? 'pass' : 'fail';
      li.textContent = `${e.pass ? '✓' : '✗'} ${e.id}: expected ${describeExpectation(e.expect)}, got ${e.got}`;
      ul.append(li);
    }
    root.append(ul);
  }
  if (v.findings.length) {
    const list = document.createElement('ul');
    list.className = 'lab-findings';
    for (const c of v.findings) {
      const f = c.finding;
      const li = document.createElement('li');
      li.className = `sev-${f.severity}`;
      const proof = c.record ? ` Confirmed: ${confirmedBy(c.record)}.` : '';
      li.append(h('b', `${f.severity} ${f.code} [${f.host}]`), ` line ${f.line}: ${f.message}${proof}`, p(`fix: ${f.fix}`, 'lab-fix'));
      list.append(li);
    }
    const errors = v.findings.filter(c => c.finding.severity === 'error').length;
    root.append(details(`Ask the doctor (${errors} error${errors === 1 ? '' : 's'}, ${v.findings.length - errors} other)`, list, !v.lab));
  }
}

function h(tag: string, text: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  return e;
}

function p(text: string, cls?: string): HTMLElement {
  const e = h('p', text);
  if (cls) e.className = cls;
  return e;
}

function details(summary: string, body: HTMLElement, open = false): HTMLElement {
  const d = document.createElement('details');
  d.open = open;
  d.append(h('summary', summary), body);
  return d;
}
