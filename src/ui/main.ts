/**
 * ui/main.ts: the browser app. Runs the scenario in the page (runs are small: the whole trace
 * is computed up front), then every view reads the trace at the player's position:
 * topology and packets (d3), the kernel strip and panel, the trace table, the inspector and
 * the five-step lesson. The player and the lesson are xstate machines; the editor's state
 * and undo are immer patches; the URL hash holds scenario, seed and position.
 */
import './style.css';
import { buildRunView, indexAtTime, type RunView } from './model';
import { createPlayer, SPEEDS, type PlayerActor } from './player';
import { createLesson, lessonFor, type LessonActor } from './lesson';
import { drawTopology, dropSentence, type TopologyView } from './topology';
import { createTable, esc, fmtTime, runTimeUnit, type TableView } from './table';
import { createInspector } from './inspector';
import { createKernelView, type KernelView } from './kernel';
import { createFirewallView, type FirewallView } from './firewall';
import { createEditor } from './editor';
import { createConsole } from './console';
import { renderLab } from './lab';
import { fromHash, toHash, MAX_TEXT_BYTES } from './url';
import { ON_THE_WAY, StepIndex } from '../trace/steps';
import { KIND_COLOR, KIND_LABEL, DROP_COLOR } from './palette';
import { attachModeSwitch, syncModeSwitch } from './modes';
import type { PacketKind } from './model';
import type { TraceRecord } from '../trace/record';
import { rightlyIgnored } from '../trace/explain';
import { createTimeline, type FaultRequest, type TimelineView } from './timeline';
import { faultStepText, insertTrafficStep } from '../config/scenario_edit';

const SCENARIOS = import.meta.glob(['/scenarios/*.yaml', '/scenarios/lab/*.yaml'], { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const DEFAULT = 'tun-different-subnets';
/** A scenario's name: its path under scenarios/ without .yaml ("lab/rp-filter-all" for an exercise). */
const nameOf = (path: string) => path.replace(/^\/scenarios\//, '').replace(/\.yaml$/, '');
const scenarioText = (name: string) => SCENARIOS[`/scenarios/${name}.yaml`];

const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

interface AppState {
  run: RunView;
  /** Scenario file name when unedited; null when the run is of edited text. */
  scenario: string | null;
  edited: boolean;
  player: PlayerActor;
  lesson: LessonActor;
  topo: TopologyView;
  kernel: KernelView;
  firewall: FirewallView;
  timeline: TimelineView;
  /** The step the view shows at each record: the last step reached, ON_THE_WAY from a request's first hop before the director, 0 before any. */
  stepAt: Int8Array;
  /** The packet record the user picked (a row, a packet on the map, I); null: the Packet tab follows the current event. */
  selected: number | null;
  lastIndex: number;
  lastStep: number;
}

let app: AppState | null = null;
const table: TableView = createTable($('#trace'), i => { seek(i); showPacket(i); });
const inspector = createInspector($('#pane-packet'));
const editorRoot = $('#editor');
const editor = createEditor(editorRoot, text => validateSoon(text), () => runEdited());
const shell = createConsole($('#pane-console'));
const debug: Record<string, unknown> = {};
(window as unknown as { lvsim: unknown }).lvsim = debug;

// ---------------------------------------------------------------- loading

function load(text: string, file: string, scenario: string | null, seed?: number, index = 0, edited = false): void {
  let run: RunView;
  try {
    run = buildRunView(text, file, seed);
  } catch (e) {
    showFatal(`The scenario could not be run: ${(e as Error).message}`);
    return;
  }
  app?.player.stop();
  const player = createPlayer(run.pt, Math.min(index, Math.max(0, run.records.length - 1)), app?.player.getSnapshot().context.speed ?? 1);
  const lesson = app?.lesson ?? createLesson();
  const stepAt = new Int8Array(run.records.length);
  let s = 0;
  // A record of no step keeps the step before it (an ARP exchange inside step 4), except the
  // request's hops before the director: a new request on its way ends the previous step.
  for (let i = 0; i < run.records.length; i++) { s = run.steps.onTheWay(i) ? ON_THE_WAY : run.steps.of(i) || s; stepAt[i] = s; }
  const topo = drawTopology($('#topo') as unknown as SVGSVGElement, run, i => { showPacket(i); });
  const kernel = createKernelView($('#pane-kernel'), run, i => seek(i));
  const firewall = createFirewallView($('#pane-firewall'), run, i => seek(i));
  const timeline = createTimeline($('#timeline'), run, i => seek(i), injectFault);
  app = { run, scenario, edited, player, lesson, topo, kernel, firewall, timeline, stepAt, selected: null, lastIndex: -1, lastStep: -1 };
  reserveDropSlot(run);
  table.setRecords(run.records, run.steps);
  $('#scenario').querySelector<HTMLOptionElement>(`option[value="${scenario ?? ''}"]`)!.selected = true;
  syncModeSwitch($<HTMLSelectElement>('#mode'), text);
  document.title = `lvsim — ${run.name}`;
  renderLessonPane();
  renderLegend();
  player.subscribe(() => scheduleRender());
  if (editor.store.state.text !== text) editor.setText(text, file);
  editor.showDiagnostics(run.diagnostics);
  editor.showFindings(run.findings.map(c => c.finding));
  select(null);
  renderAll(true);
  if (!debug.firstRenderMs) {
    debug.firstRenderMs = performance.now();
    document.body.dataset.ready = '1';
  }
}

function loadByName(name: string, seed?: number, index = 0): void {
  const text = scenarioText(name);
  if (text === undefined) { loadByName(DEFAULT); showFatal(`This link names a scenario '${name}' that this version of lvsim does not have; showing the reference scenario ${DEFAULT} instead.`); return; }
  load(text, `scenarios/${name}.yaml`, name, seed, index);
}

function showFatal(msg: string): void {
  const f = $('#fatal');
  f.hidden = false;
  f.innerHTML = `${esc(msg)} <button type="button" aria-label="Dismiss">✕</button>`;
  f.querySelector('button')!.addEventListener('click', () => { f.hidden = true; });
}

// ---------------------------------------------------------------- player commands

function seek(i: number): void { app?.player.send({ type: 'SEEK', index: i }); }
function step(delta: number): void { app?.player.send({ type: 'STEP', delta }); }
/** Pick a packet record for the Packet tab (null: the tab follows the current event). */
function select(i: number | null): void {
  if (!app) return;
  app.selected = i;
  showInspector();
  if (tab === 'firewall') app.firewall.update(app.player.getSnapshot().context.index, i);
  // The topology marks the selected packet: redraw it with the new pick.
  scheduleRender();
  updateHashSoon();
  if (i !== null && document.activeElement?.closest('.tbody') === null) { /* keep focus */ }
}
function showPacket(i: number): void { select(i); setTab('packet'); }

/** The Packet tab: the user's pick, or the current event's packet when nothing is picked (as Kernel and Firewall follow it). */
function showInspector(): void {
  if (!app) return;
  const index = app.player.getSnapshot().context.index;
  const i = app.selected ?? index;
  inspector.show(app.run.records[i] ?? null, runTimeUnit(app.run.records), app.run.steps, app.run.records);
  const pane = $('#pane-packet');
  pane.dataset.follow = app.selected === null ? '1' : '0';
  if (app.selected === null || !app.run.records[i]) return;
  const bar = document.createElement('p');
  bar.className = 'pick-bar';
  bar.innerHTML = `Showing your pick, record ${i}. <button type="button" class="link-inline" aria-label="Follow the current event in the Packet tab">Follow the current event</button>`;
  bar.querySelector('button')!.addEventListener('click', () => select(null));
  pane.prepend(bar);
}

/**
 * N / P and the Next/Previous step buttons: pause (as the arrow keys do, so the learner can read
 * the step) and go to where the next step begins: step 1 from the start or from a request on its
 * way, the one after the current step otherwise. Where the run has no such step, say so.
 */
function nextStep(dir: 1 | -1): void {
  if (!app) return;
  const { run, stepAt } = app;
  app.player.send({ type: 'PAUSE' });
  const idx = app.player.getSnapshot().context.index;
  const cur = stepAt[idx]!;
  const last = run.steps.list.steps.length;
  const want = dir > 0 ? (cur > 0 ? (cur % last) + 1 : 1) : (cur > 1 ? cur - 1 : last);
  for (let j = idx + dir; j >= 0 && j < run.records.length; j += dir) {
    if (run.steps.of(j) === want && (dir > 0 || stepAt[j - 1] !== want)) { seek(j); revealStage(); return; }
  }
  const dropAhead = dir > 0 && run.records.some((r, j) => j > idx && bannerWorthy(r));
  stepNote(dir > 0
    ? `No next step: the run reaches no step ${want} after event #${idx}.${dropAhead ? ' Press D for the drop that stops it.' : ''}`
    : `No previous step: the run reaches no step ${want} before event #${idx}.`);
  revealStage();
}

/** A short note under the caption; the caption's next change takes it away. */
function stepNote(msg: string): void {
  const c = $('#caption');
  let n = c.querySelector<HTMLElement>('.step-note');
  if (!n) { n = document.createElement('span'); n.className = 'step-note'; c.append(n); }
  n.textContent = msg;
}

/** After N / P: the caption and the network are what must be in view (the one-column layout may have scrolled to a tab). */
function revealStage(): void {
  const cap = $('#caption').getBoundingClientRect();
  if (cap.top < 0 || cap.bottom > window.innerHeight) $('.stage').scrollIntoView({ block: 'start' });
}

function nextDrop(dir: 1 | -1): void {
  if (!app) return;
  const idx = app.player.getSnapshot().context.index;
  for (let j = idx + dir; j >= 0 && j < app.run.records.length; j += dir) if (bannerWorthy(app.run.records[j])) { seek(j); showPacket(j); return; }
}

/** After D: the drop banner sits below the network, so that is what must be in view. */
function revealDrop(): void {
  const stage = $('.stage').getBoundingClientRect();
  if (stage.bottom <= 60 || stage.top >= window.innerHeight) $('.stage').scrollIntoView({ block: 'start' });
}

function setSpeed(dir: number): void {
  if (!app) return;
  const sp = app.player.getSnapshot().context.speed;
  const k = Math.max(0, Math.min(SPEEDS.length - 1, SPEEDS.findIndex(s => s >= sp) + dir));
  app.player.send({ type: 'SPEED', speed: SPEEDS[k] });
}

// ---------------------------------------------------------------- rendering

let rafPending = false;
function scheduleRender(): void {
  if (rafPending) return;
  rafPending = true;
  requestAnimationFrame(() => { rafPending = false; renderAll(false); });
}

let lastTs = 0;
function loop(ts: number): void {
  const dt = lastTs ? Math.min(100, ts - lastTs) : 16;
  lastTs = ts;
  if (app && app.player.getSnapshot().matches('playing')) app.player.send({ type: 'TICK', dt });
  requestAnimationFrame(loop);
}

function renderAll(force: boolean): void {
  if (!app) return;
  const snap = app.player.getSnapshot();
  const { index, clock, speed } = snap.context;
  const playing = snap.matches('playing');
  const sel = app.selected !== null ? app.run.records[app.selected]?.packet.id ?? null : null;
  app.topo.frame(clock, index, sel);
  renderPlayer(index, speed, playing, snap.matches('finished'));
  if (index === app.lastIndex && !force) return;
  const from = app.lastIndex;
  app.lastIndex = index;
  // The lesson follows the packet through every step it passed, even when a frame skips records.
  if (from >= 0 && index > from && index - from < 200) {
    for (let j = from + 1; j <= index; j++) if (app.stepAt[j]! > 0 && app.stepAt[j] !== app.stepAt[j - 1]) app.lesson.send({ type: 'REACHED', step: app.stepAt[j]! });
  } else app.lesson.send({ type: 'JUMPED', step: Math.max(0, app.stepAt[index] ?? 0) });
  table.update(index);
  app.kernel.update(index);
  const crashed = app.timeline.update(index);
  for (const g of Array.from(document.querySelectorAll<SVGGElement>('#topo g.host[data-host]'))) g.classList.toggle('crashed', crashed.has(g.dataset.host!));
  if (tab === 'console') updateConsole(index);
  if (tab === 'firewall') app.firewall.update(index, app.selected);
  if (tab === 'packet' && app.selected === null) showInspector();
  // ON_THE_WAY: a request on its way to the director, no step highlighted.
  const st = app.stepAt[index] ?? 0;
  app.topo.focus(st, index);
  app.topo.configAt(index);
  renderCaption(index === 0 && !playing ? 0 : st);
  if (st !== app.lastStep) { app.lastStep = st; renderLessonPane(); }
  if (index === 0 && !playing) { /* intro caption above */ }
  renderDropBanner(index);
  if (playing && app.selected !== null && $('#pane-packet').hidden) { /* the inspector keeps the user's pick */ }
  debug.index = index;
  debug.step = Math.max(0, st);
  debug.lessonTrail = app.lesson.getSnapshot().context.trail;
  debug.records = app.run.records.length;
  document.body.dataset.index = String(index);
  document.body.dataset.step = String(Math.max(0, st));
  if (!playing) updateHashSoon();
}

/** The console answers at the player's position: the time of the current record. */
function updateConsole(index: number): void {
  if (!app) return;
  const r = app.run.records[index];
  const unit = runTimeUnit(app.run.records);
  shell.setContext({ text: app.run.text, file: app.run.file, seed: app.run.seed, hosts: app.run.hostNames, atNs: r ? r.t : 0, fmtTime: ns => fmtTime(ns, unit) });
}

/** Why a run has no trace records, in the user's terms, and what to change. */
function whyNothingMoved(run: RunView): string {
  const errors = run.diagnostics.filter(d => d.severity === 'error').length;
  const problems = errors ? ` The scenario has ${errors} problem${errors > 1 ? 's' : ''}: open the editor to see ${errors > 1 ? 'them' : 'it'}.` : '';
  if (run.hosts.length === 0) return `Nothing moved: the scenario defines no hosts, so there is nothing to send from.${problems}`;
  if (run.trafficSteps === 0) {
    const client = run.hosts.find(h => h.role === 'client')?.name ?? '<client host>';
    return `Nothing moved: the scenario has no traffic: steps, so no packet was sent. Add one, e.g. "traffic: [ { connect: ${run.vips[0] ?? '<VIP>'}:<port>, from: ${client} } ]".${problems}`;
  }
  return `Nothing moved: the traffic steps sent no packet.${problems}`;
}

function renderCaption(st: number): void {
  const c = $('#caption');
  c.dataset.step = String(Math.max(0, st));
  if (st === ON_THE_WAY) c.dataset.way = '1'; else delete c.dataset.way;
  if (app!.run.records.length === 0) {
    c.dataset.empty = '1';
    const errors = app!.run.diagnostics.some(d => d.severity === 'error');
    c.innerHTML = `<b>${esc(app!.run.name)}</b> <span class="why">${esc(whyNothingMoved(app!.run))}</span>` +
      (errors || app!.run.trafficSteps === 0 ? ' <button type="button" class="link-inline" id="why-edit" aria-label="Open the editor (E)">Open the editor</button>' : '');
    c.querySelector('#why-edit')?.addEventListener('click', () => toggleEditor(true));
    return;
  }
  delete c.dataset.empty;
  if (!st) {
    c.innerHTML = `<b>${esc(app!.run.name)}</b> <button type="button" id="cta" class="cta" aria-label="Send a request: play the scenario (Space)">▶ Send a request</button> or press <kbd>Space</kbd> to watch a connection cross the five steps of LVS-${esc(app!.run.steps.list.method.toUpperCase())}.`;
    c.querySelector('#cta')!.addEventListener('click', () => { app?.player.send({ type: 'PLAY' }); $('#player [data-a=play]').focus(); });
    return;
  }
  if (st === ON_THE_WAY) {
    c.innerHTML = `<span class="step-num">${esc(cap(app!.run.steps.list.onTheWay))}</span> <b>The request CIP -> VIP is not at the director yet.</b> <span class="step-text">The client and the routers forward it by its destination, the VIP; step 1 begins when the director receives it.</span>`;
    return;
  }
  const s = lessonFor(app!.run.steps.list)[st - 1];
  c.innerHTML = `<span class="step-num" aria-label="Step ${st} of 5">Step ${st} of 5</span> <b>${esc(s.title)}.</b> <span class="step-text">${esc(s.text)}</span>`;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function renderLessonPane(): void {
  if (!app) return;
  const st = app.stepAt[app.player.getSnapshot().context.index] ?? 0;
  const pane = $('#pane-lesson');
  // An exercise's panel already says what the user sees; its description would say it twice.
  pane.innerHTML = `${app.run.lab ? '' : `<p class="intro">${esc(app.run.description || app.run.name)}</p>`}
    ${st === ON_THE_WAY ? `<p class="lesson-way" aria-current="step">${esc(cap(app.run.steps.list.onTheWay))}: the request has not reached the director yet.</p>` : ''}
    <ol class="lesson">${lessonFor(app.run.steps.list).map(s => `<li class="${s.n === st ? 'current' : ''} ${app!.run.firstOfStep[s.n] < 0 ? 'never' : ''}" ${s.n === st ? 'aria-current="step"' : ''}>
      <button type="button" data-step="${s.n}" aria-label="Go to step ${s.n}: ${esc(s.title)}" ${app!.run.firstOfStep[s.n] < 0 ? 'disabled' : ''}><span class="n">${s.n}</span> ${esc(s.title)}</button>
      <p>${esc(s.text)}</p></li>`).join('')}</ol>
    <div class="lesson-nav"><button type="button" data-nav="-1" aria-label="Previous step (P)">◀ Previous step</button> <button type="button" data-nav="1" aria-label="Next step (N)">Next step ▶</button></div>
    ${app.run.records.length === 0 ? '<p class="hint">Nothing ran, so no step is reached: the caption above the network says why.</p>' : app.run.firstOfStep.slice(1).some(x => x < 0) ? '<p class="hint">Steps this run never reaches are greyed out: look for the drop in the trace (press <kbd>D</kbd>).</p>' : ''}`;
  const lab = document.createElement('section');
  lab.className = 'lab-panel';
  lab.setAttribute('aria-label', app.run.lab ? 'Exercise' : 'Expectations');
  renderLab(lab, { lab: app.run.lab, expectations: app.run.expectations, findings: app.run.findings, edited: app.edited });
  pane.prepend(lab);
  for (const b of Array.from(pane.querySelectorAll<HTMLButtonElement>('[data-step]'))) b.addEventListener('click', () => { seek(app!.run.firstOfStep[Number(b.dataset.step)]); });
  for (const b of Array.from(pane.querySelectorAll<HTMLButtonElement>('[data-nav]'))) b.addEventListener('click', () => nextStep(Number(b.dataset.nav) as 1 | -1));
}

/** A drop the banner explains and D visits: a failure, not a frame the host rightly ignores (ARP for the VIP, another host's frame, multicast it did not join). */
function bannerWorthy(r: TraceRecord): boolean {
  return r.verdict === 'drop' && !!r.reason && !rightlyIgnored(r.reason);
}

/**
 * The banner's place below the network (one line where the view is wide), reserved for the
 * whole run when it has a drop to explain: the banner never covers a host or the drop's mark,
 * and the drawing does not jump each time a banner comes and goes.
 */
function reserveDropSlot(run: RunView | null): void {
  const has = !!run && run.records.some(bannerWorthy);
  $('#drop-slot').hidden = !has;
  $('.stage').classList.toggle('has-drops', has);
  const b = $('#drop-banner');
  b.hidden = true;
  delete b.dataset.i;
}

function renderDropBanner(index: number): void {
  const b = $('#drop-banner');
  const hint = $('#drop-hint');
  const rs = app!.run.records;
  let drop = -1;
  for (let j = Math.min(index, rs.length - 1); j >= 0 && index - j < 60; j--) if (bannerWorthy(rs[j])) { drop = j; break; }
  hint.hidden = drop >= 0 || $('#drop-slot').hidden;
  if (drop < 0) {
    b.hidden = true;
    if (!hint.hidden && !hint.firstChild) hint.innerHTML = 'This run drops packets. Press <kbd>D</kbd> for the next drop, <kbd>Shift</kbd>+<kbd>D</kbd> for the previous one: each is explained here.';
    return;
  }
  const shown = !b.hidden && b.dataset.i === String(drop);
  b.hidden = false;
  if (shown) return;
  // A new drop: its explanation from the top (the banner's place scrolls where it is short).
  $('#drop-slot').scrollTop = 0;
  b.dataset.i = String(drop);
  const d = dropSentence(rs[drop])!;
  b.innerHTML = `<span class="drop-line"><b>✕ ${esc(d.title)}</b> <span class="check">(${esc(d.check)})</span><span class="drop-msg">${esc(d.message)}</span></span>${d.fix ? `<div class="fix">fix: <code>${esc(d.fix)}</code></div>` : ''}` +
    `<button type="button" class="link" data-i="${drop}" aria-label="Inspect the dropped packet">inspect</button>`;
  b.querySelector('button')!.addEventListener('click', () => { seek(drop); showPacket(drop); });
}

function renderLegend(): void {
  const kinds: PacketKind[] = ['request', 'encap', 'reply', 'arp', 'other'];
  const shape = (k: PacketKind) => {
    const c = KIND_COLOR[k];
    switch (k) {
      case 'encap': return `<rect x="1" y="3" width="22" height="14" rx="3" fill="${c}" stroke="#5a3d00" stroke-dasharray="3 2"/><circle cx="12" cy="10" r="4" fill="${KIND_COLOR.request}" stroke="#fff"/>`;
      case 'reply': return `<path d="M12,1L21,10L12,19L3,10Z" fill="${c}" stroke="#003d2b"/>`;
      case 'arp': return `<path d="M12,3L19,17L5,17Z" fill="${c}"/>`;
      case 'request': return `<circle cx="12" cy="10" r="7" fill="${c}" stroke="#00324f"/>`;
      default: return `<rect x="6" y="4" width="12" height="12" fill="${c}" stroke="#333"/>`;
    }
  };
  $('#legend').innerHTML = kinds.map(k => `<span><svg width="24" height="20" aria-hidden="true">${shape(k)}</svg>${esc(KIND_LABEL[k])}</span>`).join('') +
    `<span><svg width="24" height="20" aria-hidden="true"><text x="5" y="16" fill="${DROP_COLOR}" font-weight="bold" font-size="16">✕</text></svg>drop</span>`;
}

let playerBuilt = false;
function renderPlayer(index: number, speed: number, playing: boolean, finished: boolean): void {
  const root = $('#player');
  const n = app!.run.records.length;
  if (!playerBuilt) {
    playerBuilt = true;
    root.innerHTML = `
      <button type="button" data-a="first" aria-label="First event (Home)">⇤</button>
      <button type="button" data-a="back" aria-label="Step back (Left arrow)">◀︎</button>
      <button type="button" data-a="play" class="play" aria-label="Play (Space)">▶ Play</button>
      <button type="button" data-a="fwd" aria-label="Step forward (Right arrow)">▶︎|</button>
      <button type="button" data-a="last" aria-label="Last event (End)">⇥</button>
      <label>speed <select data-a="speed" aria-label="Speed">${SPEEDS.map(s => `<option value="${s}">${s}×</option>`).join('')}</select></label>
      <input type="range" data-a="scrub" min="0" value="0" aria-label="Position in the trace">
      <span class="pos" aria-live="off"></span>
      <form class="jump" aria-label="Jump">
        <input data-a="jump" size="10" placeholder="#42 or 1.5ms" aria-label="Jump to an event (#n) or a time (e.g. 1.5ms, 300us)" aria-describedby="jump-err">
        <button type="submit" aria-label="Jump (G)">Go</button>
        <span id="jump-err" class="jump-err" role="alert" hidden></span>
      </form>`;
    root.querySelector('[data-a=first]')!.addEventListener('click', () => seek(0));
    root.querySelector('[data-a=back]')!.addEventListener('click', () => step(-1));
    root.querySelector('[data-a=play]')!.addEventListener('click', () => app?.player.send({ type: 'TOGGLE' }));
    root.querySelector('[data-a=fwd]')!.addEventListener('click', () => step(1));
    root.querySelector('[data-a=last]')!.addEventListener('click', () => seek(Number.MAX_SAFE_INTEGER));
    root.querySelector<HTMLSelectElement>('[data-a=speed]')!.addEventListener('change', e => app?.player.send({ type: 'SPEED', speed: Number((e.target as HTMLSelectElement).value) }));
    root.querySelector<HTMLInputElement>('[data-a=scrub]')!.addEventListener('input', e => seek(Number((e.target as HTMLInputElement).value)));
    root.querySelector<HTMLFormElement>('form.jump')!.addEventListener('submit', e => {
      e.preventDefault();
      const inp = root.querySelector<HTMLInputElement>('[data-a=jump]')!;
      const err = root.querySelector<HTMLElement>('#jump-err')!;
      if (jumpTo(inp.value)) {
        inp.removeAttribute('aria-invalid');
        err.hidden = true;
        inp.blur();
        return;
      }
      // Nothing moves: say what the box accepts and keep the text to correct.
      inp.setAttribute('aria-invalid', 'true');
      err.textContent = `${inp.value.trim() ? `"${inp.value.trim()}" is not an event or a time.` : 'Type an event or a time.'} Accepted: #42, 1.5ms, 300us`;
      err.hidden = false;
      inp.focus();
      inp.select();
    });
    const jumpBox = root.querySelector<HTMLInputElement>('[data-a=jump]')!;
    const jumpErr = root.querySelector<HTMLElement>('#jump-err')!;
    jumpBox.addEventListener('input', () => { jumpBox.removeAttribute('aria-invalid'); jumpErr.hidden = true; });
    // The message shows while the box has focus; the invalid mark stays until the text changes.
    jumpBox.addEventListener('blur', () => { jumpErr.hidden = true; });
    jumpBox.addEventListener('focus', () => { if (jumpBox.getAttribute('aria-invalid') === 'true') jumpErr.hidden = false; });
  }
  const play = root.querySelector<HTMLButtonElement>('[data-a=play]')!;
  const label = playing ? '❚❚ Pause' : finished ? '↻ Replay' : '▶ Play';
  if (play.textContent !== label) { play.textContent = label; play.setAttribute('aria-label', `${label.replace(/^\S+ /, '')} (Space)`); }
  const sp = root.querySelector<HTMLSelectElement>('[data-a=speed]')!;
  if (sp.value !== String(speed)) sp.value = String(speed);
  const scrub = root.querySelector<HTMLInputElement>('[data-a=scrub]')!;
  scrub.max = String(Math.max(0, n - 1));
  if (scrub.value !== String(index)) scrub.value = String(index);
  const r = app!.run.records[index];
  root.querySelector('.pos')!.textContent = r ? `event #${index} of ${n - 1} · t=${fmtTime(r.t, runTimeUnit(app!.run.records))}` : 'no events';
}

/** "#42" or "42" jumps to an event; "1.5ms", "300us", "2s" to the first event at that time. */
export function jumpTo(s: string): boolean {
  if (!app) return false;
  const t = s.trim();
  const ev = /^#?(\d+)$/.exec(t);
  if (ev) { seek(Number(ev[1])); return true; }
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)$/.exec(t);
  if (!m) return false;
  const mult = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns'];
  seek(indexAtTime(app.run.records, Number(m[1]) * mult));
  return true;
}

// ---------------------------------------------------------------- tabs, help, keyboard

type Tab = 'lesson' | 'kernel' | 'packet' | 'console' | 'firewall';
const TABS: readonly Tab[] = ['lesson', 'kernel', 'packet', 'console', 'firewall'];
let tab: Tab = 'lesson';
document.body.dataset.tab = tab;
/** Show a side tab; `reveal` scrolls it into view where the layout puts it below the fold. */
function setTab(t: Tab, reveal = false): void {
  tab = t;
  // Beside an open Lesson pane the caption keeps to the step's title (style.css): the diagram stays put.
  document.body.dataset.tab = t;
  updateHashSoon();
  if (t === 'console' && app) { updateConsole(app.player.getSnapshot().context.index); }
  if (t === 'firewall' && app) app.firewall.update(app.player.getSnapshot().context.index, app.selected);
  if (t === 'packet' && app && app.selected === null) showInspector();
  for (const k of TABS) {
    $(`#tab-${k}`).setAttribute('aria-selected', String(k === t));
    $(`#pane-${k}`).hidden = k !== t;
  }
  if (reveal) revealSide();
}
function revealSide(): void {
  const side = $('.side');
  const r = side.getBoundingClientRect();
  // Only the one-column layout scrolls; there the sticky player stays above the panel.
  if (r.top >= window.innerHeight - 120 || r.bottom <= 0) side.scrollIntoView({ block: 'start' });
}
for (const k of TABS) $(`#tab-${k}`).addEventListener('click', () => { setTab(k, true); if (k === 'console') shell.focus(); });

const HELP: ReadonlyArray<[string, string]> = [
  ['Space', 'play / pause'], ['→ / ←', 'step forward / back one event'], ['Shift + → / ←', 'ten events'],
  ['N / P', 'next / previous lesson step'], ['Home / End', 'first / last event'], ['D / Shift+D', 'next / previous drop'],
  ['+ / −', 'faster / slower'], ['G', 'jump to an event (#42) or a time (1.5ms)'], ['E', 'open / close the editor'],
  ['1 / 2 / 3 / 4 / 5', 'Lesson / Kernel / Packet / Console / Firewall tab'], ['I or Enter', 'inspect the packet of the current event'], ['S', 'copy a link to this view'], ['?', 'this help'], ['Esc', 'close'],
];
function toggleHelp(show?: boolean): void {
  const h = $('#help');
  h.hidden = show === undefined ? !h.hidden : !show;
  if (!h.hidden) {
    h.innerHTML = `<div class="help-box"><h2 id="help-title">Keyboard shortcuts</h2><dl>${HELP.map(([k, v]) => `<dt><kbd>${esc(k)}</kbd></dt><dd>${esc(v)}</dd>`).join('')}</dl>
      <p>Step back and jump are exact: the whole trace of a run is computed up front with a fixed seed, and the player's position is an index into it, so every view at event <i>n</i> is the same however you got there.</p>
      <button type="button" aria-label="Close help">Close</button></div>`;
    h.querySelector('button')!.addEventListener('click', () => toggleHelp(false));
    h.querySelector<HTMLButtonElement>('button')!.focus();
  }
}
$('#btn-help').addEventListener('click', () => toggleHelp());
$('#help').addEventListener('click', e => { if (e.target === $('#help')) toggleHelp(false); });

function toggleEditor(show?: boolean): void {
  const open = show ?? editorRoot.hidden;
  editorRoot.hidden = !open;
  $('#btn-edit').setAttribute('aria-pressed', String(open));
  if (open) editor.focus();
}
$('#btn-edit').addEventListener('click', () => toggleEditor());

document.addEventListener('keydown', e => {
  const tgt = e.target as HTMLElement;
  if (e.key === 'Escape') {
    toggleHelp(false);
    if (!editorRoot.hidden) { toggleEditor(false); $('#btn-edit').focus(); }
    return;
  }
  if (tgt.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key;
  const handled = (() => {
    switch (k) {
      case ' ': if (tgt.tagName === 'BUTTON') return false; app?.player.send({ type: 'TOGGLE' }); return true;
      case 'ArrowRight': step(e.shiftKey ? 10 : 1); return true;
      case 'ArrowLeft': step(e.shiftKey ? -10 : -1); return true;
      case 'Home': seek(0); return true;
      case 'End': seek(Number.MAX_SAFE_INTEGER); return true;
      case 'n': case 'N': nextStep(1); return true;
      case 'p': case 'P': nextStep(-1); return true;
      case 'd': nextDrop(1); revealDrop(); return true;
      case 'D': nextDrop(-1); revealDrop(); return true;
      case '+': case '=': setSpeed(1); return true;
      case '-': case '_': setSpeed(-1); return true;
      case 'g': case 'G': { const j = $<HTMLInputElement>('[data-a=jump]'); j.focus(); j.select(); return true; }
      case 'e': case 'E': toggleEditor(); return true;
      case '1': setTab('lesson', true); return true;
      case '2': setTab('kernel', true); return true;
      case '3': setTab('packet', true); return true;
      case '4': setTab('console', true); shell.focus(); return true;
      case '5': setTab('firewall', true); return true;
      case 's': case 'S': void share(); return true;
      case 'i': case 'I': case 'Enter': if (k === 'Enter' && tgt.tagName === 'BUTTON') return false; showPacket(app?.player.getSnapshot().context.index ?? 0); revealSide(); return true;
      case '?': toggleHelp(); return true;
    }
    return false;
  })();
  if (handled) e.preventDefault();
});


// ---------------------------------------------------------------- editor

let validateTimer = 0;
let pendingText = '';
function validateSoon(text: string): void {
  pendingText = text;
  clearTimeout(validateTimer);
  validateTimer = window.setTimeout(() => {
    // The same check Run makes: schema problems and every command line's problems together
    // (the run builds what the schema accepted and reports each line it could not apply).
    try {
      const rv = buildRunView(text, 'edited.yaml', app?.run.seed);
      editor.showDiagnostics(rv.diagnostics);
      editor.showFindings(rv.findings.map(c => c.finding));
    } catch (err) {
      editor.showDiagnostics([{ file: 'edited.yaml', line: 1, col: 1, endCol: 2, severity: 'error', found: '', expected: `a scenario lvsim can run (${(err as Error).message})` }]);
    }
  }, 300);
}

/**
 * A fault from the faults panel: added to the scenario text as a declared step at the player's
 * time (so the run is shareable and nothing is lost), run again, the player kept at that time.
 */
function injectFault(f: FaultRequest): void {
  if (!app) return;
  const atNs = app.run.records[app.player.getSnapshot().context.index]?.t ?? 0;
  const text = insertTrafficStep(app.run.text, faultStepText({ ...f, atNs }), atNs);
  keepHash = false;
  load(text, 'edited.yaml', null, app.run.seed, 0, true);
  if (app) seek(indexAtTime(app.run.records, atNs));
}

function runEdited(): void {
  keepHash = false;
  const text = editor.store.state.text || pendingText;
  load(text, 'edited.yaml', null, app?.run.seed, 0, true);
}

// ---------------------------------------------------------------- share / URL

let hashTimer = 0;
/** True while the view shows a link that could not be read whole: the address bar keeps it. */
let keepHash = false;
function updateHashSoon(): void {
  clearTimeout(hashTimer);
  if (keepHash) return;
  hashTimer = window.setTimeout(async () => {
    const h = await currentHash();
    if (h && h !== location.hash) history.replaceState(null, '', location.pathname + location.search + h);
  }, 250);
}
async function currentHash(): Promise<string | null> {
  if (!app) return null;
  const index = app.player.getSnapshot().context.index;
  const pick = app.selected !== null && app.selected !== index ? app.selected : undefined;
  return app.scenario && !app.edited
    ? toHash({ scenario: app.scenario, seed: app.run.seed, index, pick, tab })
    : toHash({ text: app.run.text, seed: app.run.seed, index, pick, tab });
}
async function share(): Promise<void> {
  const h = await currentHash();
  if (!h) return;
  history.replaceState(null, '', location.pathname + location.search + h);
  const url = location.href;
  let copied = false;
  try { await navigator.clipboard.writeText(url); copied = true; } catch { copied = false; }
  $('#share-status').textContent = copied ? 'link copied' : 'link in the address bar';
  setTimeout(() => { $('#share-status').textContent = ''; }, 2500);
}
$('#btn-share').addEventListener('click', () => void share());

// ---------------------------------------------------------------- boot

const picker = $<HTMLSelectElement>('#scenario');
const names = Object.keys(SCENARIOS).map(nameOf).sort((a, b) => (a === DEFAULT ? -1 : b === DEFAULT ? 1 : a.localeCompare(b)));
const option = (n: string) => `<option value="${esc(n)}">${esc(n.replace(/^lab\//, ''))}</option>`;
picker.innerHTML = `<optgroup label="Scenarios">${names.filter(n => !n.startsWith('lab/')).map(option).join('')}</optgroup>`
  + `<optgroup label="Misconfiguration lab">${names.filter(n => n.startsWith('lab/')).map(option).join('')}</optgroup>`
  + '<option value="" disabled>(edited)</option>';
/** The text of the last edited run: "(edited)" in the picker brings it back after another scenario was picked. */
let lastEdited: string | null = null;
picker.addEventListener('change', () => void pick(picker.value));
async function pick(name: string): Promise<void> {
  keepHash = false;
  if (name === '') {
    if (lastEdited !== null) load(lastEdited, 'edited.yaml', null, app?.run.seed, 0, true);
    return;
  }
  const typed = editor.store.state.text;
  if (app && (app.edited || (typed !== '' && typed !== app.run.text))) {
    // Leaving an edited run, or text typed and not run yet: keep it ("(edited)" in the picker
    // brings it back), and leave the edited run a history entry of its own, so Back restores it.
    lastEdited = typed !== '' && typed !== app.run.text ? typed : app.run.text;
    editedOption().disabled = false;
    if (app.edited) {
      clearTimeout(hashTimer);
      const h = await currentHash();
      const here = location.pathname + location.search;
      if (h) { history.replaceState(null, '', here + h); history.pushState(null, '', here + h); }
    }
  }
  loadByName(name);
}
function editedOption(): HTMLOptionElement {
  return picker.querySelector<HTMLOptionElement>('option[value=""]')!;
}
attachModeSwitch($<HTMLSelectElement>('#mode'), () => app?.run.text ?? '', text => { keepHash = false; load(text, 'edited.yaml', null, app?.run.seed, 0, true); });
window.addEventListener('hashchange', () => void boot());

async function boot(): Promise<void> {
  const v = await fromHash(location.hash);
  const index = v.index ?? 0;
  keepHash = false;
  if (v.tooLarge) {
    // Refused before parsing (reading stopped at the limit): the link stays in the address bar.
    keepHash = true;
    app?.player.stop();
    app = null;
    $('#topo').replaceChildren();
    reserveDropSlot(null);
    table.setRecords([], new StepIndex([], { vips: new Set(), directors: new Set(), realServers: new Set() }));
    const why = `This link's scenario is larger than ${MAX_TEXT_BYTES / 1024 / 1024} MiB once inflated; lvsim loads scenarios up to ${MAX_TEXT_BYTES / 1024 / 1024} MiB, so nothing was run. The link is kept in the address bar.`;
    $('#caption').textContent = why;
    $('#caption').dataset.empty = '1';
    showFatal(why);
    document.body.dataset.ready = '1';
    return;
  }
  if (v.damage !== undefined) {
    // Keep the damaged link in the address bar until the user changes something.
    keepHash = true;
    const text = v.text ?? '';
    const lines = text === '' ? 0 : text.split('\n').length;
    load(text, 'edited.yaml', null, v.seed, index, true);
    toggleEditor(true);
    showFatal(`This link is damaged (${v.damage}). ${lines ? `The editor holds the ${lines} line${lines > 1 ? 's' : ''} that could be recovered; check them and run again.` : 'Nothing could be recovered from it.'}`);
  } else if (v.text !== undefined) load(v.text, 'edited.yaml', null, v.seed, index, true);
  // A link naming a scenario this build lacks says so (loadByName) rather than quietly showing another.
  else loadByName(v.scenario ?? DEFAULT, v.seed, index);
  if (v.pick !== undefined && app && v.pick < app.run.records.length) select(v.pick);
  setTab(v.tab ?? 'lesson');
  const stress = Number(new URLSearchParams(location.search).get('stress') ?? 0);
  if (stress > 0 && app) { app.topo.stress(stress); app.player.send({ type: 'SPEED', speed: 1 }); app.player.send({ type: 'PLAY' }); }
}

debug.seek = seek;
/** First tx record of a flight of this kind (request, encap, reply ...), -1 if none. */
debug.flightOfKind = (kind: string) => { const f = app?.run.flights.find(x => x.kind === kind); return f ? { tx: f.tx, rx: f.rx } : null; };
debug.jumpTo = jumpTo;
void boot().then(() => requestAnimationFrame(loop));
