/**
 * ui/timeline.ts: the run over time, under the player, and the faults panel beside it.
 * The strip has three lanes of marks read from the trace's host and daemon events
 * (trace/record.ts DaemonEvent): faults (crash, boot, a service or a link), keepalived's health
 * checks and pool changes, VRRP transitions (the VIP moving with MASTER). A mark sits where its
 * event falls among the packet records, so it lines up with the player's slider; clicking one
 * seeks there. The faults panel lists what the scenario declares (hosts, services, links);
 * a click asks main.ts to add that fault at the player's time to the scenario text and run again.
 */
import type { FaultKind } from '../trace/record';
import { type EventLane, eventMark } from '../trace/events';
import type { RunView } from './model';
import { esc, fmtTime, runTimeUnit } from './table';

/** A fault the user asked for, before its time is known. */
export interface FaultRequest {
  readonly fault: FaultKind;
  readonly host?: string;
  readonly service?: string;
  readonly link?: string;
}

export interface TimelineView {
  /** Mark the player's position; the panel says what happened last and whether each host is up. Returns the hosts crashed there. */
  update(index: number): ReadonlySet<string>;
}

const LANES: ReadonlyArray<{ lane: EventLane; label: string; title: string }> = [
  { lane: 'fault', label: 'faults', title: 'crashes, boots, services and links' },
  { lane: 'check', label: 'checks', title: 'keepalived health checks and the pool (real servers removed, added, weight 0)' },
  { lane: 'vrrp', label: 'VRRP', title: 'VRRP state transitions: the VIP moves with MASTER' },
];

const GLYPH = { bad: '▼', good: '▲', info: '●' } as const;

/** Draw the timeline and the faults panel for a run into `root` (replacing what was there). */
export function createTimeline(root: HTMLElement, run: RunView, onSeek: (index: number) => void, onFault: (f: FaultRequest) => void): TimelineView {
  const n = run.records.length;
  const unit = runTimeUnit(run.records);
  const marks = run.events.map(r => ({ r, m: eventMark(r), index: Math.min(r.seq, Math.max(0, n - 1)) }));
  // Position over the slider's range (record index), in percent.
  const x = (index: number) => (n > 1 ? (index / (n - 1)) * 100 : 0);
  const labels = LANES.map(({ label, title }) => `<span class="tl-label" title="${esc(title)}">${esc(label)}</span>`).join('');
  // Events at one position of one lane share a mark (a failed check and the pool change it caused).
  const groups: Array<{ lane: EventLane; index: number; seq: number; items: typeof marks }> = [];
  const byPos = new Map<string, typeof groups[number]>();
  for (const k of marks) {
    const key = `${k.m.lane}:${k.index}`;
    const g = byPos.get(key);
    if (g) g.items.push(k);
    else { const ng = { lane: k.m.lane, index: k.index, seq: k.r.seq, items: [k] }; byPos.set(key, ng); groups.push(ng); }
  }
  const toneOf = (g: typeof groups[number]) => (g.items.some(k => k.m.tone === 'bad') ? 'bad' : g.items.some(k => k.m.tone === 'good') ? 'good' : 'info');
  const lines = (g: typeof groups[number]) => g.items.map(k => `${fmtTime(k.r.t, unit)} ${k.m.text}`);
  const tracks = LANES.map(({ lane }) => `<div class="tl-track" data-lane="${lane}">${groups.map((g, gi) => g.lane !== lane ? '' :
    `<button type="button" class="tl-mark tone-${toneOf(g)}" data-g="${gi}" data-index="${g.index}" ` +
    `title="${esc(lines(g).join('\n'))}" aria-label="${esc(`Go to ${lines(g).join('; ')}`)}">${GLYPH[toneOf(g)]}</button>`).join('')}</div>`).join('');
  const ft = run.faultTargets;
  const btn = (label: string, f: FaultRequest, aria: string) =>
    `<button type="button" data-fault='${esc(JSON.stringify(f))}' aria-label="${esc(aria)}">${esc(label)}</button>`;
  const hostRows = ft.hosts.map(h => `<li data-host="${esc(h)}"><span class="tl-target">${esc(h)}</span> <span class="tl-state"></span>
      ${btn('crash', { fault: 'crash', host: h }, `Crash ${h} here`)}${btn('boot', { fault: 'boot', host: h }, `Boot ${h} here`)}${btn('reboot', { fault: 'reboot', host: h }, `Reboot ${h} here`)}</li>`).join('');
  const svcRows = ft.services.map(s => `<li><span class="tl-target">${esc(s.host)}: ${esc(s.service)}</span>
      ${btn('stop', { fault: 'service-stop', host: s.host, service: s.service }, `Stop ${s.service} on ${s.host} here`)}${btn('start', { fault: 'service-start', host: s.host, service: s.service }, `Start ${s.service} on ${s.host} here`)}</li>`).join('');
  const linkRows = ft.links.map(l => `<li><span class="tl-target">${esc(l)}</span>
      ${btn('down', { fault: 'link-down', link: l }, `Take link ${l} down here`)}${btn('up', { fault: 'link-up', link: l }, `Bring link ${l} up here`)}</li>`).join('');
  root.innerHTML = `
    <div class="tl-head">
      <span class="tl-title">Timeline</span>
      <span class="tl-last" aria-live="polite"></span>
      <button type="button" class="tl-toggle" aria-expanded="false" aria-controls="faults-panel">⚡ Faults</button>
    </div>
    <div class="tl-strip" role="group" aria-label="Timeline: faults, health checks and VRRP (click a mark to go there)">
      <div class="tl-labels">${labels}</div>
      <div class="tl-tracks">${tracks}<div class="tl-cursor" aria-hidden="true"></div>
        ${marks.length ? '' : '<p class="tl-empty">No faults, health checks or VRRP changes in this run: inject one with ⚡ Faults.</p>'}</div>
    </div>
    <div class="faults-panel" id="faults-panel" hidden>
      <p class="tl-at"></p>
      <div class="faults-cols">
        <section aria-label="Hosts"><h4>Hosts</h4><ul class="cells-5">${hostRows}</ul></section>
        <section aria-label="Services"><h4>Services</h4><ul class="cells-3">${svcRows || '<li class="tl-none">none declared (listen: or a keepalived.conf)</li>'}</ul></section>
        <section aria-label="Links"><h4>Links</h4><ul class="cells-3">${linkRows || '<li class="tl-none">none</li>'}</ul></section>
      </div>
    </div>`;
  const panel = root.querySelector<HTMLElement>('.faults-panel')!;
  const toggle = root.querySelector<HTMLButtonElement>('.tl-toggle')!;
  toggle.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute('aria-expanded', String(!panel.hidden));
  });
  for (const b of Array.from(root.querySelectorAll<HTMLButtonElement>('.tl-mark'))) b.addEventListener('click', () => onSeek(Number(b.dataset.index)));
  for (const b of Array.from(root.querySelectorAll<HTMLButtonElement>('[data-fault]'))) b.addEventListener('click', () => onFault(JSON.parse(b.dataset.fault!) as FaultRequest));
  const cursor = root.querySelector<HTMLElement>('.tl-cursor')!;
  const last = root.querySelector<HTMLElement>('.tl-last')!;
  const at = root.querySelector<HTMLElement>('.tl-at')!;
  const hostLis = Array.from(root.querySelectorAll<HTMLElement>('li[data-host]'));
  const markEls = groups.map((_, gi) => root.querySelector<HTMLElement>(`.tl-mark[data-g="${gi}"]`)!);
  // Placed through the CSSOM: the page's CSP allows no inline style attribute.
  groups.forEach((g, j) => { markEls[j]!.style.left = `${x(g.index).toFixed(3)}%`; });

  return {
    update(index: number): ReadonlySet<string> {
      cursor.style.left = `${x(index).toFixed(3)}%`;
      // Events before the record at `index` have happened (an event's seq counts the records before it).
      let lastMark: typeof marks[number] | undefined;
      const crashed = new Set<string>();
      for (const k of marks) {
        if (k.r.seq > index) break;
        lastMark = k;
        const e = k.r.event;
        if (e.kind === 'host') { if (e.op === 'crash') crashed.add(k.r.host); else crashed.delete(k.r.host); }
      }
      last.textContent = lastMark ? `${fmtTime(lastMark.r.t, unit)} ${lastMark.m.text}` : '';
      groups.forEach((g, j) => markEls[j]!.classList.toggle('past', g.seq <= index));
      const t = run.records[index]?.t ?? 0;
      at.textContent = `A fault is added to the scenario at t=${fmtTime(t, unit)} (the player's position) and the run starts again; the player stays there.`;
      for (const li of hostLis) {
        const down = crashed.has(li.dataset.host!);
        li.querySelector('.tl-state')!.textContent = down ? 'crashed' : 'running';
        li.classList.toggle('down', down);
        li.querySelector<HTMLButtonElement>('[aria-label^="Crash"]')!.disabled = down;
        li.querySelector<HTMLButtonElement>('[aria-label^="Reboot"]')!.disabled = down;
        li.querySelector<HTMLButtonElement>('[aria-label^="Boot"]')!.disabled = !down;
      }
      return crashed;
    },
  };
}
