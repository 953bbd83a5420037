/**
 * ui/table.ts: the trace as a table, filtered by host, point, packet and drops, with only
 * the visible rows in the DOM. The current record (the player's position) is highlighted and
 * kept in view; clicking a row moves the player there and opens the packet.
 */
import type { TraceRecord } from '../trace/record';
import { summarize } from '../net/summary';
import type { StepIndex } from '../trace/steps';
import { formatTime, timeUnitFor, type TimeUnit } from '../trace/time';

export interface Filters { host: string; point: string; packet: string; drops: boolean }

const ROW = 22;

export interface TableView {
  update(index: number): void;
  setRecords(records: readonly TraceRecord[], steps: StepIndex): void;
  readonly filters: Filters;
}

/** The unit every time of a run is shown in: one per view, from the run's length. */
export function runTimeUnit(records: readonly TraceRecord[]): TimeUnit {
  return timeUnitFor(records.length ? records[records.length - 1].t : 0);
}

/** A time with its unit symbol ("8.900 ms"), for places that show one time alone. */
export function fmtTime(ns: number, unit: TimeUnit): string {
  return `${formatTime(ns, unit)} ${unit.symbol}`;
}

export function createTable(root: HTMLElement, onPick: (index: number) => void): TableView {
  root.innerHTML = `
    <div class="filters" role="group" aria-label="Trace filters">
      <label>host <select data-f="host" aria-label="Filter by host"><option value="">all</option></select></label>
      <label>point <select data-f="point" aria-label="Filter by point"><option value="">all</option></select></label>
      <label>packet <input data-f="packet" size="5" inputmode="numeric" placeholder="#id" aria-label="Filter by packet id"></label>
      <label><input type="checkbox" data-f="drops" aria-label="Drops only"> drops only</label>
      <span class="count" aria-live="polite"></span>
    </div>
    <div class="thead" role="row">
      <span>#</span><span class="th-time">time</span><span>host</span><span>point</span><span>verdict</span><span>step</span><span>pkt</span><span>packet</span>
    </div>
    <div class="tbody" role="grid" aria-label="Trace records" tabindex="0"><div class="spacer"></div></div>`;
  const body = root.querySelector<HTMLDivElement>('.tbody')!;
  const spacer = root.querySelector<HTMLDivElement>('.spacer')!;
  const count = root.querySelector<HTMLSpanElement>('.count')!;
  const hostSel = root.querySelector<HTMLSelectElement>('[data-f=host]')!;
  const pointSel = root.querySelector<HTMLSelectElement>('[data-f=point]')!;
  const pktIn = root.querySelector<HTMLInputElement>('[data-f=packet]')!;
  const dropsIn = root.querySelector<HTMLInputElement>('[data-f=drops]')!;
  const filters: Filters = { host: '', point: '', packet: '', drops: false };
  let records: readonly TraceRecord[] = [];
  let steps: StepIndex | null = null;
  let unit: TimeUnit = runTimeUnit([]);
  const timeHead = root.querySelector<HTMLSpanElement>('.th-time')!;
  let rows: number[] = [];
  let current = 0;
  const summaries = new Map<number, string>();
  const summary = (r: TraceRecord) => {
    let s = summaries.get(r.seq);
    if (s === undefined) { s = summarize(r.packet.pkt, { verbose: false }); summaries.set(r.seq, s); }
    return s;
  };

  function refilter(): void {
    const pk = filters.packet.replace(/^#/, '').trim();
    const pid = pk === '' ? null : Number(pk);
    rows = [];
    for (const r of records) {
      if (filters.host && r.host !== filters.host) continue;
      if (filters.point && String(r.point) !== filters.point) continue;
      if (pid !== null && r.packet.id !== pid && r.cause !== pid) continue;
      if (filters.drops && r.verdict !== 'drop') continue;
      rows.push(r.seq);
    }
    spacer.style.height = `${rows.length * ROW}px`;
    count.textContent = `${rows.length} of ${records.length} records`;
    render();
    reveal();
  }

  function render(): void {
    const top = body.scrollTop;
    const h = body.clientHeight || 200;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(rows.length, Math.ceil((top + h) / ROW) + 5);
    const keep = new Set<number>();
    for (let k = first; k < last; k++) keep.add(k);
    for (const el of Array.from(body.querySelectorAll<HTMLDivElement>('.row'))) {
      const k = Number(el.dataset.k);
      if (!keep.has(k) || Number(el.dataset.seq) !== rows[k]) el.remove();
      else keep.delete(k);
    }
    for (const k of keep) {
      const r = records[rows[k]];
      const el = document.createElement('div');
      const step = steps?.of(r.seq) ?? 0;
      el.className = `row v-${r.verdict}${step ? ` step-${step}` : ''}`;
      el.dataset.k = String(k);
      el.dataset.seq = String(r.seq);
      el.setAttribute('role', 'row');
      el.style.top = `${k * ROW}px`;
      const verdict = r.verdict === 'drop' ? `✕ DROP` : r.verdict;
      el.title = r.reason ? `${r.reason.code}${r.note ? ' — ' + r.note : ''}` : r.note ?? '';
      el.innerHTML = `<span>${r.seq}</span><span>${formatTime(r.t, unit)}</span><span>${esc(r.host)}</span><span>${esc(String(r.point))}</span>` +
        `<span class="verdict">${verdict}</span><span title="${step ? esc(steps!.title(step)) : ''}">${step ? `[${step}]` : ''}</span>` +
        `<span>#${r.packet.id}</span><span class="sum">${esc(summary(r))}${r.reason ? ` — ${esc(r.reason.code)}` : r.note ? ` — ${esc(r.note)}` : ''}</span>`;
      el.addEventListener('click', () => onPick(r.seq));
      body.appendChild(el);
    }
    for (const el of Array.from(body.querySelectorAll<HTMLDivElement>('.row'))) {
      const seq = Number(el.dataset.seq);
      el.classList.toggle('current', seq === current);
      el.classList.toggle('past', seq < current);
      el.setAttribute('aria-selected', String(seq === current));
    }
  }

  function reveal(): void {
    // The row of the current record, or the last visible row before it when it is filtered out.
    let lo = 0, hi = rows.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (rows[m] <= current) lo = m + 1; else hi = m; }
    const k = Math.max(0, lo - 1);
    const y = k * ROW;
    if (y < body.scrollTop || y + ROW > body.scrollTop + body.clientHeight) body.scrollTop = Math.max(0, y - body.clientHeight / 2);
  }

  body.addEventListener('scroll', () => render(), { passive: true });
  const onFilter = () => {
    filters.host = hostSel.value;
    filters.point = pointSel.value;
    filters.packet = pktIn.value;
    filters.drops = dropsIn.checked;
    refilter();
  };
  for (const el of [hostSel, pointSel, dropsIn]) el.addEventListener('change', onFilter);
  pktIn.addEventListener('input', onFilter);

  return {
    filters,
    setRecords(rs, st) {
      records = rs;
      steps = st;
      unit = runTimeUnit(rs);
      timeHead.textContent = `time (${unit.symbol})`;
      summaries.clear();
      const opts = (sel: HTMLSelectElement, vals: string[]) => {
        const v = sel.value;
        sel.innerHTML = '<option value="">all</option>' + vals.map(x => `<option>${esc(x)}</option>`).join('');
        sel.value = vals.includes(v) ? v : '';
      };
      opts(hostSel, [...new Set(rs.map(r => r.host))]);
      opts(pointSel, [...new Set(rs.map(r => String(r.point)))].sort());
      for (const el of Array.from(body.querySelectorAll('.row'))) el.remove();
      onFilter();
    },
    update(index) {
      if (index === current && body.querySelector('.row')) return;
      current = index;
      render();
      reveal();
      render();
    },
  };
}

export function esc(s: string): string {
  return s.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));
}
