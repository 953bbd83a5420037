/**
 * ui/editor.ts: the scenario editor. The text lives in an immer store; every change is kept
 * as its patches and inverse patches, so undo and redo replay exact diffs (typing within a
 * short pause is one undo step). Validation runs as you type: diagnostics with line and
 * column are underlined in the text, marked in the gutter and listed below.
 */
import { enablePatches, produceWithPatches, applyPatches, type Patch } from 'immer';
import type { Diagnostic } from '../config/diag';
import type { Finding } from '../world/doctor';
import { esc } from './table';

enablePatches();

interface EditorState { readonly text: string }
interface Change { redo: Patch[]; undo: Patch[]; at: number }

export interface EditorStore {
  readonly state: EditorState;
  set(text: string, coalesce?: boolean): void;
  undo(): boolean;
  redo(): boolean;
  canUndo(): boolean;
  canRedo(): boolean;
  reset(text: string): void;
}

export function createEditorStore(text: string): EditorStore {
  let state: EditorState = { text };
  let past: Change[] = [];
  let future: Change[] = [];
  return {
    get state() { return state; },
    set(next, coalesce = true) {
      if (next === state.text) return;
      const [s, redo, undo] = produceWithPatches(state, d => { d.text = next; });
      const now = Date.now();
      const last = past[past.length - 1];
      if (coalesce && last && now - last.at < 700) { last.redo = redo; last.at = now; }
      else past.push({ redo, undo, at: now });
      future = [];
      state = s;
    },
    undo() {
      const c = past.pop();
      if (!c) return false;
      state = applyPatches(state, c.undo);
      future.push(c);
      return true;
    },
    redo() {
      const c = future.pop();
      if (!c) return false;
      state = applyPatches(state, c.redo);
      past.push({ ...c, at: 0 });
      return true;
    },
    canUndo: () => past.length > 0,
    canRedo: () => future.length > 0,
    reset(t) { state = { text: t }; past = []; future = []; },
  };
}

export interface EditorView {
  setText(text: string, file: string): void;
  showDiagnostics(d: readonly Diagnostic[]): void;
  /** The doctor's findings on the text, below the problems. */
  showFindings(f: readonly Finding[]): void;
  readonly store: EditorStore;
  focus(): void;
}

/** The editor pane: gutter with line numbers, the textarea over a backdrop that underlines errors. */
export function createEditor(root: HTMLElement, onChange: (text: string) => void, onRun: () => void): EditorView {
  root.innerHTML = `
    <div class="ed-bar">
      <button type="button" class="ed-run" aria-label="Run the edited scenario (Ctrl+Enter)">▶ Run edited scenario</button>
      <button type="button" class="ed-undo" aria-label="Undo (Ctrl+Z)">↶ Undo</button>
      <button type="button" class="ed-redo" aria-label="Redo (Ctrl+Shift+Z)">↷ Redo</button>
      <span class="ed-status" aria-live="polite"></span>
    </div>
    <div class="ed-body">
      <pre class="ed-gutter" aria-hidden="true"></pre>
      <div class="ed-stack">
        <pre class="ed-backdrop" aria-hidden="true"></pre>
        <textarea class="ed-text" spellcheck="false" wrap="off" aria-label="Scenario YAML"></textarea>
      </div>
    </div>
    <ul class="ed-diags" aria-label="Problems" aria-live="polite"></ul>
    <div class="ed-doctor" aria-label="Doctor" hidden><h4>Doctor: what the kernel will do with this configuration</h4><ul class="ed-findings"></ul></div>`;
  const ta = root.querySelector<HTMLTextAreaElement>('.ed-text')!;
  const gutter = root.querySelector<HTMLPreElement>('.ed-gutter')!;
  const back = root.querySelector<HTMLPreElement>('.ed-backdrop')!;
  const list = root.querySelector<HTMLUListElement>('.ed-diags')!;
  const doctor = root.querySelector<HTMLDivElement>('.ed-doctor')!;
  const findingsList = root.querySelector<HTMLUListElement>('.ed-findings')!;
  const status = root.querySelector<HTMLSpanElement>('.ed-status')!;
  const undoB = root.querySelector<HTMLButtonElement>('.ed-undo')!;
  const redoB = root.querySelector<HTMLButtonElement>('.ed-redo')!;
  const store = createEditorStore('');
  let diags: readonly Diagnostic[] = [];

  function paint(): void {
    const lines = store.state.text.split('\n');
    const bad = new Map<number, Diagnostic[]>();
    for (const d of diags) bad.set(d.line, [...(bad.get(d.line) ?? []), d]);
    gutter.innerHTML = lines.map((_, i) => bad.has(i + 1) ? `<span class="g-err" title="${esc(bad.get(i + 1)!.map(d => d.expected).join('; '))}">● ${i + 1}</span>` : String(i + 1)).join('\n') + '\n';
    back.innerHTML = lines.map((l, i) => {
      const ds = bad.get(i + 1);
      if (!ds) return esc(l);
      const d = ds[0];
      const a = Math.max(0, d.col - 1), b = Math.max(a + 1, Math.min(l.length, d.endCol - 1));
      return esc(l.slice(0, a)) + `<mark>${esc(l.slice(a, b) || ' ')}</mark>` + esc(l.slice(b));
    }).join('\n') + '\n';
    undoB.disabled = !store.canUndo();
    redoB.disabled = !store.canRedo();
  }
  /** Select line:col..endCol in the text and scroll it into view. */
  function jump(line: number, col: number, endCol: number): void {
    const lines = ta.value.split('\n');
    let pos = 0;
    for (let k = 0; k < line - 1 && k < lines.length; k++) pos += lines[k].length + 1;
    ta.focus();
    ta.selectionStart = pos + col - 1;
    ta.selectionEnd = pos + Math.max(col, endCol) - 1;
    const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
    ta.scrollTop = Math.max(0, (line - 1) * lh - ta.clientHeight / 3);
    syncScroll();
  }
  const syncScroll = () => { gutter.scrollTop = ta.scrollTop; back.scrollTop = ta.scrollTop; back.scrollLeft = ta.scrollLeft; };
  ta.addEventListener('scroll', syncScroll);
  ta.addEventListener('input', () => { store.set(ta.value); paint(); onChange(store.state.text); });
  const restore = () => { const p = ta.selectionStart; ta.value = store.state.text; ta.selectionStart = ta.selectionEnd = Math.min(p, ta.value.length); paint(); onChange(store.state.text); };
  const undo = () => { if (store.undo()) restore(); };
  const redo = () => { if (store.redo()) restore(); };
  ta.addEventListener('keydown', e => {
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === 'z' && !e.shiftKey) { e.preventDefault(); undo(); }
    else if (mod && (e.key.toLowerCase() === 'y' || (e.key.toLowerCase() === 'z' && e.shiftKey))) { e.preventDefault(); redo(); }
    else if (mod && e.key === 'Enter') { e.preventDefault(); onRun(); }
    else if (e.key === 'Tab' && !e.shiftKey) {
      e.preventDefault();
      const s = ta.selectionStart;
      ta.setRangeText('  ', s, ta.selectionEnd, 'end');
      ta.dispatchEvent(new Event('input'));
    }
    // The app's shortcuts are letters the user types here; only Escape (close) goes through.
    if (e.key !== 'Escape') e.stopPropagation();
  });
  undoB.addEventListener('click', undo);
  redoB.addEventListener('click', redo);
  root.querySelector('.ed-run')!.addEventListener('click', onRun);

  return {
    store,
    setText(text) { store.reset(text); ta.value = text; diags = []; paint(); },
    showDiagnostics(all) {
      // In the order of the text, whichever stage found them (parse, setup, a daemon's file).
      const d = [...all].sort((a, b) => a.line - b.line || a.col - b.col);
      diags = d;
      const errors = d.filter(x => x.severity === 'error').length;
      const warnings = d.length - errors;
      const plural = (n: number, w: string) => `${n} ${w}${n > 1 ? 's' : ''}`;
      status.textContent = errors ? `${plural(errors, 'problem')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}` : warnings ? `valid, ${plural(warnings, 'warning')}` : '✓ valid';
      status.className = `ed-status ${errors ? 'bad' : warnings ? 'warn' : 'ok'}`;
      list.innerHTML = d.map((x, i) => `<li><button type="button" data-i="${i}">${x.line}:${x.col}</button> ${x.severity}: found ${x.found === '' ? 'nothing' : `'${esc(x.found)}'`}, expected ${esc(x.expected)}${x.tool ? `<div class="tool">${esc(x.tool)}</div>` : ''}</li>`).join('');
      for (const b of Array.from(list.querySelectorAll<HTMLButtonElement>('button'))) {
        b.addEventListener('click', () => { const x = d[Number(b.dataset.i)]; jump(x.line, x.col, x.endCol); });
      }
      paint();
    },
    showFindings(f) {
      doctor.hidden = f.length === 0;
      findingsList.innerHTML = f.map((x, i) => `<li class="sev-${x.severity}"><button type="button" data-i="${i}">${x.line}:${x.col}</button> <b>${x.severity} ${esc(x.code)}</b> [${esc(x.host)}]: ${esc(x.message)}<div class="fix">fix: ${esc(x.fix)}</div></li>`).join('');
      for (const b of Array.from(findingsList.querySelectorAll<HTMLButtonElement>('button'))) {
        b.addEventListener('click', () => { const x = f[Number(b.dataset.i)]; jump(x.line, x.col, x.col + 1); });
      }
    },
    focus() { ta.focus(); },
  };
}
