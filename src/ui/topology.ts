/**
 * ui/topology.ts: the network drawn with d3: subnets as labelled regions with their prefixes,
 * hosts with their interfaces and addresses (the VIP on tunl0 marked), links, and the packets
 * in flight animated along them. Each host carries a strip of its kernel's points that light
 * up as the trace passes them (what runs there, in order, with drops marked).
 */
import * as d3 from 'd3';
import type { Flight, HostView, PacketKind, RunView } from './model';
import { KIND_COLOR, DROP_COLOR, OKABE } from './palette';
import type { TraceRecord } from '../trace/record';
import { formatIp4 } from '../net/addr';
import { explainDrop } from '../trace/explain';
import { hostStateAt } from '../trace/state';

interface Box { x: number; y: number; w: number; h: number; rows: Map<string, number> }
interface Seg { x: number; y: number; w: number; h: number }
interface Pt { x: number; y: number }

/** The kernel strip: inbound path on the first row, forward/outbound on the second. */
export const CHIPS = [
  ['rx', 'rx', 'device receive'], ['PREROUTING', 'PRE', 'PREROUTING'], ['routing', 'route', 'routing decision'],
  ['INPUT', 'INPUT', 'INPUT (LOCAL_IN)'], ['ipvs', 'IPVS', 'IPVS (ip_vs_in_hook)'], ['socket', 'sock', 'socket'],
  ['tunl0', 'tunl0', 'tunl0 decapsulation'], ['FORWARD', 'FWD', 'FORWARD'], ['OUTPUT', 'OUT', 'OUTPUT (LOCAL_OUT)'],
  ['POSTROUTING', 'POST', 'POSTROUTING'], ['neigh', 'ARP', 'neighbour / ARP'], ['tx', 'tx', 'device transmit'],
] as const;
export type Chip = typeof CHIPS[number][0];

const HOST_W = 212;
const ROW_H = 15;
const HEAD_H = 34;
const CHIP_H = 17;
const CHIP_ROWS = 2;

/** Which chip of the host's kernel strip a record lights. */
export function chipOf(r: TraceRecord, tunnelDevs: ReadonlySet<string>): Chip {
  const p = String(r.point);
  switch (p) {
    case 'PREROUTING': case 'INPUT': case 'FORWARD': case 'OUTPUT': case 'POSTROUTING': case 'routing': case 'ipvs': case 'socket':
      return p;
    case 'icmp': case 'tcp': case 'udp': return 'socket';
    case 'arp': case 'neigh': return 'neigh';
  }
  if (tunnelDevs.has(`${r.host}/${p}`)) return 'tunl0';
  if (r.verdict === 'rx') return 'rx';
  if (r.verdict === 'drop' && r.reason && (r.reason.code === 'otherhost' || r.reason.code === 'mc_not_joined' || r.reason.code === 'link_down') && r.note === undefined) return 'rx';
  return 'tx';
}

function column(h: HostView, hasRouter: boolean): number {
  if (h.role === 'client') return 0;
  if (hasRouter) return h.role === 'router' ? 1 : 2;
  return h.role === 'director' ? 1 : 2;
}

export interface Layout {
  readonly W: number;
  readonly H: number;
  readonly boxes: Map<string, Box>;
  readonly segs: Seg[];
}

export function layoutTopology(run: RunView): Layout {
  const W = 1100;
  const hasRouter = run.hosts.some(h => h.role === 'router');
  const cols: HostView[][] = [[], [], []];
  for (const h of run.hosts) cols[column(h, hasRouter)].push(h);
  const heightOf = (h: HostView) => HEAD_H + ROW_H * Math.max(1, h.devs.reduce((n, d) => n + Math.max(1, d.addrs.length), 0)) + (CHIP_H + 2) * CHIP_ROWS + 6;
  const colX = [8, (W - HOST_W) / 2, W - HOST_W - 8];
  const gap = 22;
  const colH = cols.map(c => c.reduce((s, h) => s + heightOf(h), 0) + gap * Math.max(0, c.length - 1));
  const TOP = 8, BOTTOM = 30;
  const H = Math.max(400, Math.max(...colH) + TOP + BOTTOM);
  const boxes = new Map<string, Box>();
  cols.forEach((c, ci) => {
    let y = TOP + (H - TOP - BOTTOM - colH[ci]) / 2;
    for (const h of c) {
      const hh = heightOf(h);
      const rows = new Map<string, number>();
      let ry = y + HEAD_H;
      for (const d of h.devs) { rows.set(d.name, ry + ROW_H / 2); ry += ROW_H * Math.max(1, d.addrs.length); }
      boxes.set(h.name, { x: colX[ci], y, w: HOST_W, h: hh, rows });
      y += hh + gap;
    }
  });
  const segs: Seg[] = run.links.map(l => {
    const pts = l.ends.map(e => boxes.get(e.host)).filter((b): b is Box => !!b).map(b => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 }));
    const x = d3.mean(pts, p => p.x) ?? W / 2;
    const y = d3.mean(pts, p => p.y) ?? H / 2;
    return { x: x - 74, y: y - 21, w: 148, h: 42 };
  });
  // Regions between the same pair of columns must not overlap: push them apart, keep them centred.
  const bands = d3.group(segs.map((s, i) => i), i => Math.round(segs[i].x / 40));
  for (const idx of bands.values()) {
    idx.sort((a, b) => segs[a].y - segs[b].y || a - b);
    const before = d3.mean(idx, i => segs[i].y)!;
    for (let k = 1; k < idx.length; k++) {
      const a = segs[idx[k - 1]], b = segs[idx[k]];
      if (b.y < a.y + a.h + 6) b.y = a.y + a.h + 6;
    }
    const shift = before - d3.mean(idx, i => segs[i].y)!;
    for (const i of idx) segs[i].y = Math.max(4, Math.min(H - 46, segs[i].y + shift));
  }
  return { W, H, boxes, segs };
}

function anchor(b: Box, dev: string, toward: Pt): Pt {
  const y = b.rows.get(dev) ?? b.y + b.h / 2;
  if (toward.x >= b.x + b.w) return { x: b.x + b.w, y };
  if (toward.x <= b.x) return { x: b.x, y };
  return { x: b.x + b.w / 2, y: toward.y < b.y ? b.y : b.y + b.h };
}

function segCenter(s: Seg): Pt { return { x: s.x + s.w / 2, y: s.y + s.h / 2 }; }

/** The polyline a frame follows on a link: sender's interface, the segment, receiver's interface. */
export function flightPath(L: Layout, run: RunView, f: Flight): Pt[] {
  const link = run.links[f.link];
  const s = L.segs[f.link];
  const c = segCenter(s);
  const fe = link.ends.find(e => e.host === f.from)!;
  const te = link.ends.find(e => e.host === f.to)!;
  return [anchor(L.boxes.get(f.from)!, fe.dev, c), c, anchor(L.boxes.get(f.to)!, te.dev, c)];
}

function along(path: Pt[], u: number): Pt {
  const lens = path.slice(1).map((p, i) => Math.hypot(p.x - path[i].x, p.y - path[i].y));
  const total = lens.reduce((a, b) => a + b, 0) || 1;
  let d = Math.max(0, Math.min(1, u)) * total;
  for (let i = 0; i < lens.length; i++) {
    if (d <= lens[i] || i === lens.length - 1) {
      const k = lens[i] ? d / lens[i] : 0;
      return { x: path[i].x + (path[i + 1].x - path[i].x) * k, y: path[i].y + (path[i + 1].y - path[i].y) * k };
    }
    d -= lens[i];
  }
  return path[path.length - 1];
}

export interface TopologyView {
  readonly layout: Layout;
  /** Redraw packets at presentation time `clock` and the kernel strips at record `index`. */
  frame(clock: number, index: number, selectedPacket: number | null): void;
  /** The lesson's focus (0: none). */
  focus(step: number, index: number): void;
  /** Extra animated packets for the stress benchmark. */
  stress(n: number): void;
  /** Show each host's devices and addresses as they were at record `index`. */
  configAt(index: number): void;
}

export function drawTopology(svgEl: SVGSVGElement, run: RunView, onPick: (recordIdx: number) => void): TopologyView {
  const L = layoutTopology(run);
  const svg = d3.select(svgEl);
  svg.selectAll('*').remove();
  svg.attr('viewBox', `0 0 ${L.W} ${L.H}`).attr('preserveAspectRatio', 'xMidYMid meet');
  const defs = svg.append('defs');
  // Arrowheads in drawing units, not multiples of the route's 7-unit stroke (the default
  // markerUnits would make a 7-wide marker some 49 units long): the tip sits on the end.
  for (const [id, fill] of [['arrow-reply', OKABE.green], ['arrow-tunnel', OKABE.orange]] as const) {
    defs.append('marker').attr('id', id).attr('viewBox', '0 0 10 10').attr('refX', 10).attr('refY', 5)
      .attr('markerUnits', 'userSpaceOnUse').attr('markerWidth', ARROW).attr('markerHeight', ARROW).attr('orient', 'auto')
      .append('path').attr('d', 'M0,0L10,5L0,10z').attr('fill', fill);
  }

  const gLinks = svg.append('g').attr('class', 'links');
  const gPaths = svg.append('g').attr('class', 'paths');
  const gSegs = svg.append('g').attr('class', 'segs');
  const gHosts = svg.append('g').attr('class', 'hosts');
  const gPk = svg.append('g').attr('class', 'packets');
  const gStress = svg.append('g').attr('class', 'stress');

  const tunnelDevs = new Set<string>();
  for (const h of run.hosts) for (const d of h.devs) if (d.kind === 'ipip') tunnelDevs.add(`${h.name}/${d.name}`);

  // Links: interface -> segment region.
  run.links.forEach((l, i) => {
    const c = segCenter(L.segs[i]);
    for (const e of l.ends) {
      const b = L.boxes.get(e.host);
      if (!b) continue;
      const a = anchor(b, e.dev, c);
      gLinks.append('line').attr('x1', a.x).attr('y1', a.y).attr('x2', c.x).attr('y2', c.y).attr('class', 'link-line');
    }
  });

  // Tunnel and reply routes, only those the run's packets took (routesOf): one path per hop,
  // an arrowhead where a route ends (at the real server, at the client), bright during their
  // lesson steps for the connection the player is on.
  const routes = routesOf(run);
  const hopSel = routes.map(r => {
    const p = flightPath(L, run, r.flights[0]!);
    const tunnel = r.kind === 'tunnel';
    return gPaths.append('path').attr('class', `route route-${r.kind}`).attr('data-hop', `${r.from}>${r.to}`)
      .attr('d', 'M' + p.map(q => `${q.x.toFixed(1)},${q.y.toFixed(1)}`).join('L'))
      .attr('stroke', tunnel ? OKABE.orange : OKABE.green)
      .attr('marker-end', r.end ? `url(#arrow-${r.kind})` : null);
  });
  const replyHop = routes.find(r => r.kind === 'reply' && r.end);
  const replyLabel = gPaths.append('text').attr('class', 'route-label').attr('fill', '#00684c');
  if (replyHop) {
    const p = flightPath(L, run, replyHop.flights[0]!);
    replyLabel.attr('x', p[1].x).attr('y', p[1].y + 38).attr('text-anchor', 'middle')
      .text('reply: straight to the client,').append('tspan').attr('x', p[1].x).attr('dy', 14).text('never via the director');
  }

  // Subnet regions.
  run.links.forEach((l, i) => {
    const s = L.segs[i];
    const g = gSegs.append('g').attr('class', 'seg').attr('data-link', l.name);
    g.append('rect').attr('x', s.x).attr('y', s.y).attr('width', s.w).attr('height', s.h).attr('rx', 12);
    g.append('text').attr('x', s.x + s.w / 2).attr('y', s.y + 16).attr('class', 'seg-prefix').text(l.prefixes.join(', ') || '(no prefix)');
    g.append('text').attr('x', s.x + s.w / 2).attr('y', s.y + 32).attr('class', 'seg-name').text(`${l.name} · ${fmtLatency(l.latencyNs)}`);
  });

  // Hosts.
  const perRow = CHIPS.length / CHIP_ROWS;
  const chipW = (HOST_W - 12) / perRow;
  const hostSel = new Map<string, d3.Selection<SVGGElement, unknown, null, undefined>>();
  /** The text rows of each device ("host/dev"), to rewrite with the state at a position. */
  const devRows = new Map<string, { rows: Array<d3.Selection<SVGTextElement, unknown, null, undefined>>; x: number; kind: string }>();
  const vipStrings = new Set(run.vips);
  for (const h of run.hosts) {
    const b = L.boxes.get(h.name)!;
    const g = gHosts.append('g').attr('class', `host role-${h.role}`).attr('data-host', h.name);
    hostSel.set(h.name, g);
    g.append('rect').attr('class', 'host-box').attr('x', b.x).attr('y', b.y).attr('width', b.w).attr('height', b.h).attr('rx', 6);
    g.append('text').attr('class', 'host-name').attr('x', b.x + 10).attr('y', b.y + 20).text(h.name);
    g.append('text').attr('class', 'host-role').attr('x', b.x + b.w - 10).attr('y', b.y + 20).attr('text-anchor', 'end').text(h.role);
    let ry = b.y + HEAD_H;
    for (const d of h.devs) {
      const addrs = d.addrs.length ? d.addrs : [null];
      const rows: Array<d3.Selection<SVGTextElement, unknown, null, undefined>> = [];
      devRows.set(`${h.name}/${d.name}`, { rows, x: b.x, kind: d.kind });
      addrs.forEach((a, k) => {
        const t = g.append('text').attr('class', `dev ${d.kind === 'ipip' ? 'dev-tun' : ''} ${a?.vip ? 'dev-vip' : ''}`)
          .attr('x', b.x + 10).attr('y', ry + ROW_H * k + 11);
        rows.push(t);
        t.append('tspan').attr('class', 'dev-name').text(k === 0 ? d.name.padEnd(6, ' ') : '');
        t.append('tspan').attr('x', b.x + 56).text(a ? `${a.addr}/${a.prefixLen}` : (d.up ? '(no address)' : '(down)'));
        if (a?.vip) t.append('tspan').attr('class', 'vip-tag').text('  VIP');
        if (k === 0 && !d.up && d.addrs.length) t.append('tspan').attr('class', 'down-tag').text('  down');
      });
      ry += ROW_H * addrs.length;
    }
    const cy0 = b.y + b.h - (CHIP_H + 2) * CHIP_ROWS - 3;
    const chips = g.append('g').attr('class', 'chips');
    CHIPS.forEach(([key, abbr, title], k) => {
      const c = chips.append('g').attr('class', 'chip').attr('data-chip', key);
      const col = k % perRow, cy = cy0 + Math.floor(k / perRow) * (CHIP_H + 2);
      c.append('title').text(title);
      c.append('rect').attr('x', b.x + 6 + col * chipW).attr('y', cy).attr('width', chipW - 2).attr('height', CHIP_H).attr('rx', 3);
      c.append('text').attr('x', b.x + 6 + col * chipW + (chipW - 2) / 2).attr('y', cy + 12.5).text(abbr);
    });
    // Under the host, kept inside the drawing: a long reason under a side column would be cut at the edge.
    const side = b.x < L.W / 3 ? 'start' : b.x + b.w > L.W * 2 / 3 ? 'end' : 'middle';
    g.append('text').attr('class', 'drop-tag').attr('y', b.y + b.h + 16).attr('text-anchor', side)
      .attr('x', side === 'start' ? b.x : side === 'end' ? b.x + b.w : b.x + b.w / 2);
  }

  const records = run.records;
  const pt = run.pt;

  /** The host's current traversal: its latest records at or before `index` for one packet and instant. */
  function traversal(host: string, index: number): number[] {
    let i = Math.min(index, records.length - 1);
    while (i >= 0 && records[i].host !== host) i--;
    if (i < 0) return [];
    const last = records[i];
    const out = [i];
    for (let j = i - 1; j >= 0 && index - j < 400; j--) {
      const r = records[j];
      if (r.host !== host) continue;
      if (r.t !== last.t || (r.packet.id !== last.packet.id && r.cause !== last.packet.id && last.cause !== r.packet.id)) break;
      out.push(j);
    }
    return out.reverse();
  }

  function lightKernels(clock: number, index: number): void {
    for (const h of run.hosts) {
      const g = hostSel.get(h.name)!;
      const tr = traversal(h.name, index);
      const state = new Map<string, { cls: string; kind: PacketKind }>();
      let drop: TraceRecord | null = null;
      for (const i of tr) {
        const r = records[i];
        const kind = r.packet.pkt.proto === 'arp' ? 'arp' : kindOfPkt(r, run);
        const cls = r.verdict === 'drop' ? 'lit drop' : (r.verdict === 'schedule' || r.verdict === 'encap' || r.verdict === 'decap' || r.verdict === 'hit' || r.verdict === 'xmit' || r.verdict === 'dnat' || r.verdict === 'snat') ? 'lit strong' : 'lit';
        state.set(chipOf(r, tunnelDevs), { cls: i === index ? cls + ' now' : cls, kind });
        if (r.verdict === 'drop') drop = r;
      }
      const age = tr.length ? clock - pt[tr[tr.length - 1]] : Infinity;
      const fade = age < 2500 ? 1 : age < 6000 ? 0.45 : 0.25;
      g.selectAll<SVGGElement, unknown>('g.chip').each(function () {
        const key = this.getAttribute('data-chip')!;
        const s = state.get(key);
        this.setAttribute('class', ['chip', s?.cls, this.classList.contains('focus') ? 'focus' : ''].filter(Boolean).join(' '));
        const rect = this.firstElementChild!.nextElementSibling as SVGRectElement;
        rect.style.fill = s ? (s.cls.includes('drop') ? DROP_COLOR : KIND_COLOR[s.kind]) : '';
        rect.style.opacity = s ? String(fade) : '';
      });
      const tag = g.select<SVGTextElement>('text.drop-tag');
      if (drop && drop.reason && age < 6000) {
        tag.text(`✕ dropped: ${drop.reason.code} at ${drop.point}`);
        g.classed('has-drop', true);
      } else {
        tag.text('');
        g.classed('has-drop', false);
      }
      g.classed('active', tr.includes(index));
      g.attr('aria-label', `${h.name}: ${tr.map(i => `${records[i].point} ${records[i].verdict}`).join(', ')}`);
    }
  }

  const paths = new Map<Flight, Pt[]>();
  const pathOf = (f: Flight) => { let p = paths.get(f); if (!p) { p = flightPath(L, run, f); paths.set(f, p); } return p; };

  function frame(clock: number, index: number, selectedPacket: number | null): void {
    const live: Array<{ f: Flight; p: Pt }> = [];
    for (const f of run.flights) {
      const a = pt[f.tx], b = pt[f.rx];
      if (a > clock) continue;
      if (!(clock < b || (f.tx <= index && index < f.rx))) continue;
      const u = b > a ? (clock - a) / (b - a) : 0;
      live.push({ f, p: along(pathOf(f), u) });
    }
    const labels = live.length <= 6;
    const sel = gPk.selectAll<SVGGElement, { f: Flight; p: Pt }>('g.pkt').data(live, d => `${d.f.tx}`);
    sel.exit().remove();
    const enter = sel.enter().append('g').attr('class', d => `pkt pkt-${d.f.kind}`)
      .attr('role', 'button').attr('tabindex', -1)
      .attr('aria-label', d => `packet #${d.f.id} ${d.f.kind} from ${d.f.from} to ${d.f.to}`)
      .on('click', (_e, d) => onPick(d.f.tx));
    enter.each(function (d) { glyph(d3.select(this), d.f, run); });
    const all = enter.merge(sel);
    all.attr('transform', d => `translate(${d.p.x.toFixed(1)},${d.p.y.toFixed(1)})`)
      .classed('selected', d => d.f.id === selectedPacket);
    all.select('g.pkt-label').attr('display', labels ? null : 'none');
    lightKernels(clock, index);
  }

  function focus(step: number, index: number): void {
    const kind = step === 3 || step === 4 ? 'tunnel' : step === 5 ? 'reply' : null;
    const on = kind ? routeNear(routes, kind, index) : new Set<number>();
    hopSel.forEach((sel, i) => sel.classed('bright', on.has(i)));
    replyLabel.classed('bright', step === 5);
    const cur = records[index];
    for (const h of run.hosts) {
      const g = hostSel.get(h.name)!;
      const on = (step === 1 || step === 2 || step === 3) ? h.role === 'director' || (cur && run.steps.of(cur.seq) === step && cur.host === h.name)
        : step === 4 ? !!cur && cur.host === h.name && h.role === 'realserver'
        : step === 5 ? h.role === 'client' || (!!cur && cur.host === h.name && run.steps.of(cur.seq) === 5) : false;
      g.classed('focus', !!on);
      g.selectAll('g.chip[data-chip="ipvs"]').classed('focus', (step === 2 || step === 3) && h.role === 'director');
      g.selectAll('text.dev-tun').classed('focus', step === 5 && !!on);
    }
  }

  let stressTimer = 0;
  function stress(n: number): void {
    cancelAnimationFrame(stressTimer);
    gStress.selectAll('*').remove();
    if (n <= 0 || run.flights.length === 0) return;
    const kinds = run.flights;
    const items = d3.range(n).map(i => ({ f: kinds[i % kinds.length], phase: (i * 0.6180339) % 1, period: 1500 + (i % 7) * 250 }));
    const g = gStress.selectAll<SVGGElement, typeof items[number]>('g').data(items).enter().append('g').attr('class', d => `pkt pkt-${d.f.kind}`);
    g.each(function (d) { glyph(d3.select(this), d.f, run, false); });
    const t0 = performance.now();
    const loop = (now: number) => {
      g.attr('transform', d => {
        const p = along(pathOf(d.f), ((now - t0) / d.period + d.phase) % 1);
        return `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`;
      });
      stressTimer = requestAnimationFrame(loop);
    };
    stressTimer = requestAnimationFrame(loop);
  }

  /**
   * The devices' rows as they were at record `index` (trace/state.ts folds the run's
   * configuration changes): an address added by an exec step mid-run appears only from there.
   * Rows are laid out for the end of the run; more addresses than rows end in "+N".
   */
  let lastConfigSeq = -1;
  function configAt(index: number): void {
    if (run.changes.length === 0) return;
    const seq = records[index]?.seq ?? 0;
    // Only redraw when a change lies between the last position drawn and this one.
    if (lastConfigSeq >= 0 && !run.changes.some(c => (c.seq > Math.min(seq, lastConfigSeq) && c.seq <= Math.max(seq, lastConfigSeq)))) { lastConfigSeq = seq; return; }
    lastConfigSeq = seq;
    for (const h of run.hosts) {
      const st = hostStateAt(run.changes, h.name, seq);
      for (const d of h.devs) {
        const view = devRows.get(`${h.name}/${d.name}`);
        if (!view) continue;
        const link = st.links.get(d.name);
        const addrs = st.addrs.get(d.name) ?? [];
        const up = link?.up ?? false;
        view.rows.forEach((t, k) => {
          const a = addrs[k];
          const more = k === view.rows.length - 1 && addrs.length > view.rows.length ? `  +${addrs.length - view.rows.length}` : '';
          const text = a ? `${formatIp4(a.addr)}/${a.prefixLen}${more}` : k === 0 ? (link ? (up ? '(no address)' : '(down)') : '(absent)') : '';
          const vip = !!a && vipStrings.has(formatIp4(a.addr));
          t.classed('dev-vip', vip).attr('data-addr', a ? `${formatIp4(a.addr)}/${a.prefixLen}` : null);
          t.selectAll('tspan:not(.dev-name)').remove();
          t.append('tspan').attr('x', view.x + 56).text(text);
          if (vip) t.append('tspan').attr('class', 'vip-tag').text('  VIP');
          if (k === 0 && !up && addrs.length) t.append('tspan').attr('class', 'down-tag').text('  down');
          // A link fault: up, but no carrier (the cable is out).
          else if (k === 0 && up && link && !link.carrier) t.append('tspan').attr('class', 'down-tag').text('  no carrier');
        });
      }
    }
  }

  return { layout: L, frame, focus, stress, configAt };
}

/** Arrowhead size in drawing units. */
const ARROW = 16;

/** One hop of a tunnel or reply route: a link crossed from one host to another. */
export interface RouteHop {
  readonly kind: 'tunnel' | 'reply';
  readonly link: number;
  readonly from: string;
  readonly to: string;
  /** A route ends here: the packet went no further (the real server for the tunnel, the client for the reply). */
  readonly end: boolean;
  /** The flights over this hop, in trace order. */
  readonly flights: readonly Flight[];
}

/**
 * The routes the run's packets took, as hops. Tunnel: the encapsulated packets (DIP->RIP).
 * Reply: packets from the VIP that a real server sent (the reply straight to the client); a
 * packet from the VIP that the director sends (an ICMP error from its own VIP in DR or NAT) is
 * no such reply. A method that never tunnels or never replies from a real server draws neither.
 */
export function routesOf(run: RunView): RouteHop[] {
  const role = new Map(run.hosts.map(h => [h.name, h.role]));
  const byId = new Map<number, Flight[]>();
  for (const f of run.flights) {
    if (f.kind !== 'encap' && f.kind !== 'reply') continue;
    let l = byId.get(f.id);
    if (!l) byId.set(f.id, l = []);
    l.push(f);
  }
  const hops = new Map<string, { kind: 'tunnel' | 'reply'; link: number; from: string; to: string; end: boolean; flights: Flight[] }>();
  for (const fl of byId.values()) {
    fl.sort((a, b) => a.tx - b.tx);
    // A packet's path starts where its first frame was sent: the director encapsulates, a real server replies.
    const origin = role.get(fl[0]!.from);
    for (const f of fl) {
      const kind = f.kind === 'encap' ? 'tunnel' : 'reply';
      if (kind === 'reply' && origin !== 'realserver') continue;
      const key = `${kind}:${f.link}:${f.from}>${f.to}`;
      let h = hops.get(key);
      if (!h) hops.set(key, h = { kind, link: f.link, from: f.from, to: f.to, end: false, flights: [] });
      h.flights.push(f);
      if (!fl.some(g => g.from === f.to && g.tx > f.rx)) h.end = true;
    }
  }
  return [...hops.values()];
}

/**
 * The hops (indices into `routes`) of the one route of `kind` the player is on at `index`: the
 * packet on it now, else the nearest one in the trace. Its hops share that packet's id.
 */
export function routeNear(routes: readonly RouteHop[], kind: 'tunnel' | 'reply', index: number): Set<number> {
  let best: Flight | null = null;
  let dist = Infinity;
  for (const r of routes) {
    if (r.kind !== kind) continue;
    for (const f of r.flights) {
      const d = f.tx <= index && index <= f.rx ? 0 : Math.min(Math.abs(f.tx - index), Math.abs(f.rx - index));
      if (d < dist || (d === dist && best && f.tx < best.tx)) { best = f; dist = d; }
    }
  }
  const out = new Set<number>();
  if (!best) return out;
  routes.forEach((r, i) => { if (r.kind === kind && r.flights.some(f => f.id === best!.id)) out.add(i); });
  return out;
}

function kindOfPkt(r: TraceRecord, run: RunView): PacketKind {
  const p = r.packet.pkt;
  if (p.proto === 'arp') return 'arp';
  if (p.protocol === 4) return 'encap';
  const dst = formatIp4(p.dst), src = formatIp4(p.src);
  if (run.vips.includes(dst)) return 'request';
  if (run.vips.includes(src)) return 'reply';
  return 'other';
}

function short(r: TraceRecord): string[] {
  const p = r.packet.pkt;
  if (p.proto === 'arp') return [p.op === 1 ? `ARP who-has ${formatIp4(p.tpa)}` : `ARP ${formatIp4(p.spa)} is-at`];
  const t = (q: typeof p): string => {
    const l4 = q.payload;
    if (l4.proto === 'tcp') return `${formatIp4(q.src)}:${l4.sport} → ${formatIp4(q.dst)}:${l4.dport}`;
    if (l4.proto === 'udp') return `${formatIp4(q.src)}:${l4.sport} → ${formatIp4(q.dst)}:${l4.dport} udp`;
    if (l4.proto === 'icmp') return `${formatIp4(q.src)} → ${formatIp4(q.dst)} icmp ${l4.type}/${l4.code}`;
    return `${formatIp4(q.src)} → ${formatIp4(q.dst)}`;
  };
  if (p.protocol === 4 && p.payload.proto === 'ipv4') return [`outer ${formatIp4(p.src)} → ${formatIp4(p.dst)} proto 4`, `inner ${t(p.payload)}`];
  return [t(p)];
}

function glyph(g: d3.Selection<SVGGElement, unknown, null, undefined>, f: Flight, run: RunView, label = true): void {
  const c = KIND_COLOR[f.kind];
  switch (f.kind) {
    case 'encap':
      g.append('rect').attr('x', -15).attr('y', -10).attr('width', 30).attr('height', 20).attr('rx', 4)
        .attr('fill', c).attr('stroke', '#5a3d00').attr('stroke-width', 1.5).attr('stroke-dasharray', '4 2');
      g.append('circle').attr('r', 5.5).attr('fill', KIND_COLOR.request).attr('stroke', '#fff').attr('stroke-width', 1.5);
      break;
    case 'reply':
      g.append('path').attr('d', 'M0,-10L10,0L0,10L-10,0Z').attr('fill', c).attr('stroke', '#003d2b').attr('stroke-width', 1.5);
      break;
    case 'arp':
      g.append('path').attr('d', 'M0,-8L8,7L-8,7Z').attr('fill', c).attr('stroke', '#5c2a4a').attr('stroke-width', 1.2);
      break;
    case 'request':
      g.append('circle').attr('r', 7.5).attr('fill', c).attr('stroke', '#00324f').attr('stroke-width', 1.5);
      break;
    default:
      g.append('rect').attr('x', -7).attr('y', -7).attr('width', 14).attr('height', 14).attr('fill', c).attr('stroke', '#333');
  }
  g.append('circle').attr('class', 'sel-ring').attr('r', 19);
  if (!label) return;
  const lines = short(run.records[f.tx]);
  const lg = g.append('g').attr('class', 'pkt-label');
  const w = Math.max(...lines.map(s => s.length)) * 6.1 + 10;
  lg.append('rect').attr('x', -w / 2).attr('y', -18 - lines.length * 13).attr('width', w).attr('height', lines.length * 13 + 4).attr('rx', 3);
  lines.forEach((s, k) => lg.append('text').attr('y', -18 - (lines.length - 1 - k) * 13 - 4).attr('text-anchor', 'middle').text(s));
}

function fmtLatency(ns: number): string {
  return ns >= 1e6 ? `${ns / 1e6} ms` : `${ns / 1e3} µs`;
}

/** One sentence for the drop banner. */
export function dropSentence(r: TraceRecord): { title: string; message: string; fix?: string; check: string } | null {
  if (!r.reason) return null;
  const e = explainDrop(r.reason);
  return { title: `Dropped on ${r.host} at ${r.point}: ${r.reason.code}`, message: e.message, fix: e.fix, check: e.check };
}
