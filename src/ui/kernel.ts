/**
 * ui/kernel.ts: inside one host's kernel. The points a packet passes (device, PREROUTING,
 * routing, INPUT with IPVS, FORWARD, OUTPUT, POSTROUTING, tunl0, socket) drawn as the
 * netfilter diagram, each hook listing the handlers registered on it (host.nf.handlers, so
 * what is drawn is what runs), lit in the order the current packet passed them, with the
 * verdict; a drop shows where it happened with the reason and the fix from explainDrop.
 */
import type { TraceRecord } from '../trace/record';
import type { RunView, HostView } from './model';
import { explainDrop } from '../trace/explain';
import { chipOf, type Chip } from './topology';
import { esc } from './table';

const STAGES: ReadonlyArray<{ key: Chip; label: string; row: number; col: number; hook?: 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING' }> = [
  { key: 'rx', label: 'device rx', row: 1, col: 1 },
  { key: 'PREROUTING', label: 'PRE\u00adROUTING', row: 1, col: 2, hook: 'PREROUTING' },
  { key: 'routing', label: 'routing decision', row: 1, col: 3 },
  { key: 'INPUT', label: 'INPUT', row: 1, col: 4, hook: 'INPUT' },
  { key: 'ipvs', label: 'IPVS', row: 1, col: 5 },
  { key: 'socket', label: 'socket', row: 1, col: 6 },
  { key: 'tunl0', label: 'tunl0 decap, re-enters at rx', row: 2, col: 5 },
  { key: 'FORWARD', label: 'FORWARD', row: 2, col: 3, hook: 'FORWARD' },
  { key: 'OUTPUT', label: 'OUTPUT', row: 3, col: 5, hook: 'OUTPUT' },
  { key: 'POSTROUTING', label: 'POST\u00adROUTING', row: 3, col: 4, hook: 'POSTROUTING' },
  { key: 'neigh', label: 'neigh / ARP', row: 3, col: 2 },
  { key: 'tx', label: 'device tx', row: 3, col: 1 },
];

export interface KernelView { update(index: number, host?: string): void }

export function createKernelView(root: HTMLElement, run: RunView, onSeek: (i: number) => void): KernelView {
  const tunnelDevs = new Set<string>();
  for (const h of run.hosts) for (const d of h.devs) if (d.kind === 'ipip') tunnelDevs.add(`${h.name}/${d.name}`);
  let pinned: string | null = null;

  function traversal(host: string, index: number): number[] {
    const rs = run.records;
    let i = Math.min(index, rs.length - 1);
    while (i >= 0 && rs[i].host !== host) i--;
    if (i < 0) return [];
    const last = rs[i];
    const out = [i];
    for (let j = i - 1; j >= 0 && index - j < 400; j--) {
      const r = rs[j];
      if (r.host !== host) continue;
      if (r.t !== last.t || (r.packet.id !== last.packet.id && r.cause !== last.packet.id && last.cause !== r.packet.id)) break;
      out.push(j);
    }
    return out.reverse();
  }

  function update(index: number, host?: string): void {
    if (host !== undefined) pinned = host || null;
    const cur = run.records[index];
    const name = pinned ?? cur?.host ?? run.hosts[0]?.name;
    const hv: HostView | undefined = run.hosts.find(h => h.name === name);
    if (!hv) { root.innerHTML = ''; return; }
    const tr = traversal(hv.name, index);
    const lit = new Map<Chip, { orders: number[]; r: TraceRecord }>();
    tr.forEach((i, k) => {
      const c = chipOf(run.records[i], tunnelDevs);
      lit.set(c, { orders: [...(lit.get(c)?.orders ?? []), k + 1], r: run.records[i] });
    });
    let html = `<div class="k-head"><label>host <select class="k-host" aria-label="Kernel of host">` +
      `<option value="">follow the packet</option>${run.hosts.map(h => `<option ${pinned === h.name ? 'selected' : ''}>${esc(h.name)}</option>`).join('')}</select></label>` +
      ` <b>${esc(hv.name)}</b> (${esc(hv.role)})</div><div class="k-grid" role="list" aria-label="Kernel points of ${esc(hv.name)}">`;
    for (const s of STAGES) {
      const l = lit.get(s.key);
      const handlers = s.hook ? hv.hooks[s.hook] : [];
      const cls = l ? (l.r.verdict === 'drop' ? 'lit drop' : 'lit') + (l.r.seq === index ? ' now' : '') : '';
      html += `<div class="k-stage ${cls}" role="listitem" data-row="${s.row}" data-col="${s.col}" data-stage="${s.key}">` +
        `<div class="k-label">${l ? l.orders.map(o => `<span class="k-order">${o}</span>`).join('') : ''}${esc(s.label)}</div>` +
        (handlers.length ? `<div class="k-handlers">${handlers.map(h => `<div>${esc(h.name)} <i>${h.priority}</i></div>`).join('')}</div>` : '') +
        (l ? `<div class="k-verdict">${l.r.verdict === 'drop' ? '✕ DROP' : esc(l.r.verdict)}</div>` : '') + '</div>';
    }
    html += '</div><ol class="k-trav" aria-label="This packet on this host, in order">';
    for (const i of tr) {
      const r = run.records[i];
      html += `<li class="${r.verdict === 'drop' ? 'drop' : ''} ${i === index ? 'now' : ''}"><button type="button" data-seek="${i}" aria-label="Go to record ${i}">${esc(String(r.point))} <b>${r.verdict === 'drop' ? '✕ DROP' : r.verdict}</b></button>${r.note ? ` <span class="note">${esc(r.note)}</span>` : ''}</li>`;
    }
    html += '</ol>';
    const drop = tr.map(i => run.records[i]).find(r => r.verdict === 'drop' && r.reason);
    if (drop?.reason) {
      const e = explainDrop(drop.reason);
      html += `<div class="drop-box" role="alert"><b>✕ dropped at ${esc(String(drop.point))}: ${esc(drop.reason.code)}</b> <span class="check">(${esc(e.check)})</span><p>${esc(e.message)}</p>${e.fix ? `<div class="fix">fix: <code>${esc(e.fix)}</code></div>` : ''}</div>`;
    }
    root.innerHTML = html;
    root.querySelector<HTMLSelectElement>('.k-host')!.addEventListener('change', ev => update(index, (ev.target as HTMLSelectElement).value));
    for (const b of Array.from(root.querySelectorAll<HTMLButtonElement>('[data-seek]'))) b.addEventListener('click', () => onSeek(Number(b.dataset.seek)));
  }

  return { update };
}
