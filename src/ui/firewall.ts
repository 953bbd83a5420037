/**
 * ui/firewall.ts: one host's iptables tables as at the player's position: every chain, its
 * rules as `iptables -S` prints them, each rule's packet and byte counters and the built-in
 * chains' policies. Counters come from the trace (trace/firewall.ts: the rule set of the last
 * commit plus the rule matches recorded since), so a packet later in the run is not counted
 * yet and stepping back takes counts away. The rules the selected packet matched on this host
 * are marked, the one that decided its fate in bold; a rule counted at the current event is
 * outlined.
 */
import type { TraceRecord } from '../trace/record';
import { ruleHitOf, xtablesAt, xtablesChangeAt } from '../trace/firewall';
import type { XtChainState } from '../trace/state';
import type { RunView } from './model';
import { esc } from './table';

export interface FirewallView {
  /** Draw at the player's position `index`; `selected` is the record open in the inspector (null: the current one). */
  update(index: number, selected: number | null): void;
}

/** A rule as the view keys it: "table chain rule" (rule 0: the policy). */
const keyOf = (table: string, chain: string, rule: number) => `${table} ${chain} ${rule}`;

export function createFirewallView(root: HTMLElement, run: RunView, onSeek: (i: number) => void): FirewallView {
  let pinned: string | null = null;
  let followed: string | null = null;
  let last: { index: number; selected: number | null } = { index: 0, selected: null };
  /** Hosts with a table at some point of the run, in the scenario's order. */
  const withRules = new Set(run.changes.filter(c => c.change.kind === 'iptables' && c.change.xtables.tables.length > 0).map(c => c.host));

  function hostFor(index: number): string | undefined {
    if (pinned) return pinned;
    const cur = run.records[index];
    if (cur && withRules.has(cur.host)) followed = cur.host;
    return followed ?? run.hostNames.find(h => withRules.has(h)) ?? cur?.host ?? run.hostNames[0];
  }

  /** The selected packet's rule matches on `host` up to the player's position: key -> the record that counted it. */
  function matchesOf(host: string, index: number, selected: number | null): { hits: Map<string, TraceRecord>; pid: number | null } {
    const hits = new Map<string, TraceRecord>();
    const pick = run.records[selected ?? index];
    if (!pick) return { hits, pid: null };
    const pid = pick.packet.id;
    for (let i = 0; i <= index && i < run.records.length; i++) {
      const r = run.records[i]!;
      if (r.packet.id !== pid || r.host !== host) continue;
      const h = ruleHitOf(r);
      if (h) hits.set(keyOf(h.table, h.chain, h.rule), r);
    }
    return { hits, pid };
  }

  function update(index: number, selected: number | null): void {
    last = { index, selected };
    const host = hostFor(index);
    if (!host) { root.innerHTML = '<p class="hint">No host in this run.</p>'; return; }
    const xt = xtablesAt(run.records, run.changes, host, index);
    const cur = run.records[index];
    const nowHit = cur && cur.host === host ? ruleHitOf(cur) : null;
    const nowKey = nowHit ? keyOf(nowHit.table, nowHit.chain, nowHit.rule) : '';
    const { hits, pid } = matchesOf(host, index, selected);
    let html = `<div class="k-head"><label>host <select class="fw-host" aria-label="Firewall of host">` +
      `<option value="">follow the packet</option>${run.hostNames.map(h => `<option value="${esc(h)}" ${pinned === h ? 'selected' : ''}>${esc(h)}${withRules.has(h) ? ' (iptables)' : ''}</option>`).join('')}</select></label>` +
      ` <b>${esc(host)}</b> <span class="hint">counters at event #${index}</span></div>`;
    if (xt.tables.length === 0) {
      html += `<p class="hint">${esc(host)} has no iptables table loaded at this point of the run: no rule sees its packets, every hook lets them through.${withRules.size ? ` Hosts with iptables tables: ${[...withRules].map(esc).join(', ')}.` : ''}</p>`;
      root.innerHTML = html;
      bind();
      return;
    }
    // A rule set changed during the run (an exec step): say from which event it holds.
    const since = xtablesChangeAt(run.changes, host, index);
    const first = run.changes.find(c => c.host === host && c.change.kind === 'iptables');
    if (since && first && since !== first) {
      const at = Math.min(since.seq, run.records.length - 1);
      html += `<p class="hint fw-since">Rules as an iptables command changed them during the run, just before event <button type="button" class="fw-go" data-seek="${at}" aria-label="Go to event ${at}">#${since.seq}</button>: counters as that command left them, plus every packet since.</p>`;
    }
    html += pid !== null
      ? `<p class="fw-legend hint"><span class="fw-swatch match"></span> matched packet #${pid} here${hits.size ? '' : ' (none yet)'} · <b>bold</b>: decided its fate · <span class="fw-swatch now"></span> counted at this event</p>`
      : '';
    for (const t of xt.tables) {
      html += `<section class="fw-table" aria-label="${esc(t.name)} table"><h4>${esc(t.name)}</h4>`;
      for (const c of t.chains) html += chainHtml(t.name, c, hits, nowKey);
      html += '</section>';
    }
    root.innerHTML = html;
    bind();
  }

  function chainHtml(table: string, c: XtChainState, hits: Map<string, TraceRecord>, nowKey: string): string {
    const refs = c.policy === null ? ' <span class="hint">(user chain)</span>' : '';
    let html = `<div class="fw-chain"><div class="fw-chain-head">Chain <b>${esc(c.name)}</b>${refs}</div>` +
      `<table class="fw-rules" aria-label="${esc(table)} ${esc(c.name)}"><thead><tr><th scope="col">#</th><th scope="col">pkts</th><th scope="col">bytes</th><th scope="col">rule</th></tr></thead><tbody>`;
    const row = (k: string, n: string, pk: number, by: number, text: string, title: string, extra = '') => {
      const hit = hits.get(k);
      const decided = hit !== undefined && hit.verdict !== 'match';
      const cls = [extra, hit ? 'match' : '', decided ? 'decided' : '', k === nowKey ? 'now' : ''].filter(Boolean).join(' ');
      const mark = hit ? `<button type="button" class="fw-go" data-seek="${hit.seq}" aria-label="Go to the event where packet #${hit.packet.id} matched ${esc(title)}">${decided ? (hit.verdict === 'drop' ? '✕' : '✓') : '●'}</button>` : '';
      return `<tr class="${cls}" data-rule="${esc(k)}"><td>${n}</td><td class="num">${pk}</td><td class="num">${by}</td><td><code title="${esc(title)}">${esc(text)}</code>${mark}</td></tr>`;
    };
    c.rules.forEach((r, i) => {
      const prefix = `-A ${c.name} `;
      html += row(keyOf(table, c.name, i + 1), String(i + 1), r.pcnt, r.bcnt, r.text.startsWith(prefix) ? r.text.slice(prefix.length) || '(no match, no target)' : r.text, r.text);
    });
    if (c.policy !== null) html += row(keyOf(table, c.name, 0), '', c.pcnt, c.bcnt, `policy ${c.policy}`, `-P ${c.name} ${c.policy}`, 'fw-policy');
    else if (c.rules.length === 0) html += '<tr><td></td><td></td><td></td><td class="hint">(empty: returns to the calling chain)</td></tr>';
    return html + '</tbody></table></div>';
  }

  function bind(): void {
    root.querySelector<HTMLSelectElement>('.fw-host')?.addEventListener('change', ev => {
      pinned = (ev.target as HTMLSelectElement).value || null;
      update(last.index, last.selected);
    });
    for (const b of Array.from(root.querySelectorAll<HTMLButtonElement>('[data-seek]'))) b.addEventListener('click', () => onSeek(Number(b.dataset.seek)));
  }

  return { update };
}
