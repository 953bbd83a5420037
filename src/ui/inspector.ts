/**
 * ui/inspector.ts: one packet, every layer and every field (outer IPv4, inner IPv4, TCP ...),
 * and the bytes of its wire encoding with the selected field highlighted (net/wire fieldRanges).
 * Where the record has no frame (points inside the kernel), the IP datagram is shown alone.
 * Above the layers: every iptables rule (or policy) the packet matched, host by host and hook by
 * hook, as the trace names them; those after the selected record are marked as later.
 */
import type { TraceRecord } from '../trace/record';
import { packetJson, type JsonValue } from '../net/json';
import { encodeFrame, fieldRanges, type FieldRange } from '../net/wire';
import { ETH_P_ARP, ETH_P_IP, type Ethernet } from '../net/packet';
import { ZERO_MAC } from '../net/addr';
import { explainDrop } from '../trace/explain';
import { ruleHitOf, ruleHitText } from '../trace/firewall';
import type { StepIndex } from '../trace/steps';
import { esc, fmtTime } from './table';
import type { TimeUnit } from '../trace/time';

const LAYER_TITLE: Record<string, string> = { eth: 'Ethernet', arp: 'ARP', tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', raw: 'Payload' };

export interface InspectorView {
  /** The record's packet; its time in `unit`, the unit of the run's other views; `records` the whole trace (for the rules the packet matched). */
  show(r: TraceRecord | null, unit: TimeUnit, steps?: StepIndex, records?: readonly TraceRecord[]): void;
  selectField(layer: number, field: string): void;
}

export function createInspector(root: HTMLElement): InspectorView {
  let sel: { layer: number; field: string } | null = null;
  let ranges: FieldRange[] = [];
  let skip = 0;

  function highlight(): void {
    for (const el of Array.from(root.querySelectorAll('.hex .b.on'))) el.classList.remove('on');
    for (const el of Array.from(root.querySelectorAll('.field.on'))) el.classList.remove('on');
    if (!sel) return;
    const r = ranges.find(x => x.layer === sel!.layer && x.field === sel!.field);
    root.querySelector(`.field[data-l="${sel.layer}"][data-f="${sel.field}"]`)?.classList.add('on');
    if (!r) return;
    for (let i = r.start; i < r.end; i++) root.querySelector(`.hex .b[data-i="${i}"]`)?.classList.add('on');
    const desc = root.querySelector('.hex-sel');
    if (desc) desc.textContent = `${r.layerName}.${r.field}: bytes ${r.start - skip}–${r.end - 1 - skip}`;
  }

  function show(r: TraceRecord | null, unit: TimeUnit, steps?: StepIndex, records?: readonly TraceRecord[]): void {
    if (!r) { root.innerHTML = '<p class="hint">Click a packet on the map or a row of the trace to inspect it.</p>'; return; }
    const pkt = r.packet.pkt;
    const frame: Ethernet = r.frame ?? { proto: 'eth', src: ZERO_MAC, dst: ZERO_MAC, ethertype: pkt.proto === 'arp' ? ETH_P_ARP : ETH_P_IP, payload: pkt };
    skip = r.frame ? 0 : 14;
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame);
      ranges = fieldRanges(frame);
    } catch (e) {
      bytes = new Uint8Array(0);
      ranges = [];
    }
    const layers = packetJson(r.packet.id, frame).layers;
    const ipCount = layers.filter(l => l['proto'] === 'ipv4').length;
    let ipSeen = 0;
    const layerIdx = [...new Set(ranges.map(x => x.layer))];
    if (!layerIdx.length) layers.forEach((_, i) => layerIdx.push(i));
    let html = `<div class="insp-head"><b>packet #${r.packet.id}</b> at record ${r.seq}: ${esc(r.host)} ${esc(String(r.point))} <b>${r.verdict}</b>, t=${fmtTime(r.t, unit)}` +
      (steps?.of(r.seq) ? ` <span class="step-badge">step ${esc(steps.title(steps.of(r.seq)))}</span>` : '') +
      (r.frame ? '' : '<div class="hint">No Ethernet header at this point in the kernel: the bytes start at the IP header.</div>') + '</div>';
    if (r.reason) {
      const e = explainDrop(r.reason);
      html += `<div class="drop-box" role="alert"><b>✕ ${esc(r.reason.code)}</b> (${esc(e.check)}): ${esc(e.message)}${e.fix ? `<div class="fix">fix: <code>${esc(e.fix)}</code></div>` : ''}</div>`;
    }
    if (r.note) html += `<div class="note">${esc(r.note)}</div>`;
    if (r.sched) html += `<div class="note">scheduler: ${esc(r.sched.summary)}</div>`;
    if (records) html += rulesMatched(records, r);
    html += '<div class="layers">';
    for (const li of layerIdx) {
      if (skip && li === 0) continue;
      const json = layers[li] as Record<string, JsonValue> | undefined;
      const lr = ranges.filter(x => x.layer === li);
      const base = lr[0]?.layerName ?? String(json?.['proto'] ?? '');
      let title = LAYER_TITLE[base] ?? base;
      if (base === 'ipv4') {
        ipSeen++;
        title = ipCount > 1 ? (ipSeen === 1 ? 'IPv4 (outer, IP-in-IP)' : 'IPv4 (inner)') : 'IPv4';
      } else if (base.endsWith('(quoted)')) title = `${LAYER_TITLE[base.split(' ')[0]] ?? base.split(' ')[0]} (quoted)`;
      html += `<section class="layer" aria-label="${esc(title)}"><h4>${esc(title)}</h4><dl>`;
      const names = lr.map(x => x.field);
      if (json) for (const k of Object.keys(json)) if (k !== 'proto' && !names.includes(k)) names.push(k);
      for (const f of [...new Set(names)]) {
        const v = json && f in json ? json[f] : undefined;
        const rg = lr.find(x => x.field === f);
        const val = fieldValue(base, f, v, rg, bytes, json);
        html += `<div class="field" data-l="${li}" data-f="${esc(f)}" tabindex="0" role="button" aria-label="${esc(title)} ${esc(f)} ${esc(val)}"><dt>${esc(f)}</dt><dd title="${esc(val)}">${esc(val)}</dd></div>`;
      }
      html += '</dl></section>';
    }
    html += '</div><div class="hex-wrap"><div class="hex-sel" aria-live="polite"></div><div class="hex" aria-label="Wire bytes">';
    for (let off = skip; off < bytes.length; off += 16) {
      html += `<div class="hrow"><span class="off">${(off - skip).toString(16).padStart(4, '0')}</span>`;
      for (let i = off; i < Math.min(off + 16, bytes.length); i++) html += `<span class="b" data-i="${i}">${bytes[i].toString(16).padStart(2, '0')}</span>`;
      html += '</div>';
    }
    html += '</div></div>';
    root.innerHTML = html;
    for (const el of Array.from(root.querySelectorAll<HTMLElement>('.field'))) {
      const pick = () => { sel = { layer: Number(el.dataset.l), field: el.dataset.f! }; highlight(); };
      el.addEventListener('click', pick);
      el.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); e.stopPropagation(); pick(); } });
    }
    for (const el of Array.from(root.querySelectorAll<HTMLElement>('.hex .b'))) {
      el.addEventListener('click', () => {
        const i = Number(el.dataset.i);
        const hit = ranges.filter(x => x.start <= i && i < x.end).sort((a, b) => b.layer - a.layer || (a.end - a.start) - (b.end - b.start))[0];
        if (hit) { sel = { layer: hit.layer, field: hit.field }; highlight(); }
      });
    }
    if (sel && !ranges.some(x => x.layer === sel!.layer && x.field === sel!.field)) sel = null;
    highlight();
  }

  return { show, selectField(layer, field) { sel = { layer, field }; highlight(); } };
}

function fieldValue(layer: string, f: string, v: JsonValue | undefined, rg: FieldRange | undefined, bytes: Uint8Array, json: Record<string, JsonValue> | undefined): string {
  const raw = rg ? bytes.subarray(rg.start, rg.end) : null;
  const num = raw && raw.length <= 4 ? raw.reduce((a, b) => a * 256 + b, 0) : null;
  if (layer.startsWith('ipv4')) {
    if (f === 'version' && raw) return String(raw[0] >> 4);
    if (f === 'ihl' && raw) return `${raw[0] & 15} (${(raw[0] & 15) * 4} bytes)`;
    if (f === 'protocol' && v !== undefined) return `${v}${({ 1: ' (ICMP)', 4: ' (IPIP)', 6: ' (TCP)', 17: ' (UDP)' } as Record<number, string>)[Number(v)] ?? ''}`;
    if (f === 'mf' && raw) return String(Boolean(raw[0] & 0x20));
    if (f === 'df' && v === undefined && raw) return String(Boolean(raw[0] & 0x40));
    if (f === 'fragOffset' && num !== null) return String(num & 0x1fff);
  }
  if (layer.startsWith('tcp')) {
    if (f === 'dataOffset' && raw) return `${raw[0] >> 4} (${(raw[0] >> 4) * 4} bytes)`;
    if (raw && f === 'mss' && raw.length >= 4) return `${(raw[2] << 8) | raw[3]}`;
    if (raw && f === 'wscale' && raw.length >= 3) return `${raw[2]} (×${2 ** raw[2]})`;
    if (raw && f === 'sackPerm') return 'yes';
    if (raw && f === 'ts' && raw.length >= 10) { const dv = new DataView(raw.buffer, raw.byteOffset, raw.length); return `val ${dv.getUint32(2)} ecr ${dv.getUint32(6)}`; }
    if (f === 'flags' && json && typeof json['flags'] === 'string') return `${json['flags'] || '(none)'} (0x${(num ?? 0).toString(16).padStart(2, '0')})`;
  }
  if (f === 'checksum' && num !== null) return `0x${num.toString(16).padStart(4, '0')}`;
  if (f === 'ethertype' && num !== null) return `0x${num.toString(16).padStart(4, '0')}${num === 0x0800 ? ' (IPv4)' : num === 0x0806 ? ' (ARP)' : ''}`;
  if (v !== undefined) return typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (raw) {
    if (f === 'options' || f === 'data') return raw.length ? `${raw.length} bytes: ${hex(raw.subarray(0, 16))}${raw.length > 16 ? '…' : ''}` : '(none)';
    if (num !== null) return String(num);
    return hex(raw);
  }
  return '';
}

function hex(b: Uint8Array): string {
  return Array.from(b, x => x.toString(16).padStart(2, '0')).join(' ');
}

/** The iptables rules the record's packet matched, in trace order: host, hook, and the rule or policy. */
function rulesMatched(records: readonly TraceRecord[], sel: TraceRecord): string {
  const id = sel.packet.id;
  let items = '';
  for (const r of records) {
    if (r.packet.id !== id) continue;
    const h = ruleHitOf(r);
    if (!h) continue;
    const mark = r.verdict === 'drop' ? '✕' : r.verdict === 'accept' ? '✓' : '·';
    const later = r.seq > sel.seq;
    items += `<li class="${later ? 'later' : ''}${r.seq === sel.seq ? ' now' : ''}"><span class="fw-mark" aria-hidden="true">${mark}</span> <b>${esc(r.host)} ${esc(String(r.point))}</b> ${esc(ruleHitText(h))}${later ? ' <i>(later)</i>' : ''}</li>`;
  }
  return items ? `<section class="fw-insp" aria-label="iptables rules this packet matched"><h4>iptables rules matched</h4><ol>${items}</ol></section>` : '';
}
