/**
 * cli/replay.ts: `lvsim replay <vector.json> [--json]`. Replays a kernel-recorded vector
 * (version 1 or 2) and compares. Exit 0 when everything matches, 1 with a readable diff (or
 * when the vector needs what lvsim does not model yet, said as such), 2 for a file it cannot
 * read or a vector that is not well formed (each problem with its JSON path).
 */
import { readFileSync } from 'node:fs';
import { formatDiagnostic } from '../config/diag';
import { checkVector, replayJson, replayVector, type ReplayResult, type Vector, type VectorStep } from '../world/replay';



export function replayMain(argv: readonly string[]): number {
  const json = argv.includes('--json');
  const unknown = argv.filter(a => a.startsWith('-') && a !== '--json');
  const files = argv.filter(a => !a.startsWith('-'));
  if (unknown.length || files.length !== 1) {
    process.stderr.write(`lvsim replay: usage: lvsim replay <vector.json> [--json]${unknown.length ? ` (unknown option ${unknown[0]})` : ''}\n`);
    return 2;
  }
  const file = files[0]!;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`lvsim replay: cannot read ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  const checked = checkVector(raw);
  if (!checked.ok) {
    for (const p of checked.problems) process.stderr.write(`lvsim replay: ${file}: ${p.path}: ${p.message}\n`);
    return 2;
  }
  const v = checked.vector;
  const r = replayVector(v, file);
  for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (json) process.stdout.write(JSON.stringify(replayJson(r)) + '\n');
  else process.stdout.write(textReport(v, r));
  return r.notModelled.length || r.diffs.length ? 1 : 0;
}

function describeStep(st: VectorStep): string {
  switch (st.do) {
    case 'connect': return `connect ${st.src} (${st.mode ?? 'close'}${st.mode === 'send' ? ` ${st.bytes} bytes` : ''})`;
    case 'release': return `release ${(st.ids ?? [st.id]).join(', ')}`;
    case 'exec': return `${st.host ?? 'director'}: ${st.cmd ?? st.command}`;
    case 'wait': return st.ms !== undefined ? `wait ${st.ms} ms` : 'read the tables';
    case 'arping': return `${st.host}: arping -I ${st.dev} -c ${st.count} ${st.target}`;
    case 'start': return st.listen ? `${st.host}: start ${st.listen.name} on tcp ${st.listen.port}` : `${st.host}: ${st.cmd ?? `${st.daemon} -f ${st.config}`}`;
    case 'kill': return `${st.host}: pkill -${st.signal.replace(/^SIG/, '')} ${st.process}`;
    case 'check': return 'who holds the VIP';
  }
}

/** When the step ran, for steps run at their recorded time ("@   2400 ms"). */
function stepHead(st: VectorStep): string {
  return st.at_ms !== undefined ? `@${String(st.at_ms).padStart(6)} ms  ` : '';
}

function textReport(v: Vector, r: ReplayResult): string {
  const lines: string[] = [`replay ${r.id} (format ${r.format}): ${v.steps.length} steps`];
  if (r.notModelled.length) {
    lines.push('', 'not replayed: this vector needs what lvsim does not model yet:', ...r.notModelled.map(m => `  - ${m}`));
    return lines.join('\n') + '\n';
  }
  for (const [i, s] of r.steps.entries()) {
    const st = v.steps[i]!;
    let res: string;
    if (st.do === 'connect') {
      res = s.ok ? `-> ${s.rs}` : `failed ${s.error}`;
      if (st.mode === 'send') res += ` server_bytes=${s.server_bytes ?? '-'} pmtu=${s.pmtu ?? '-'} snd_mss=${s.snd_mss ?? '-'}`;
    } else if (st.do === 'arping') {
      res = `replies [${(s.replies_from ?? []).join(', ')}], entry ${s.neigh_at_end ?? 'none'}`;
    } else if (st.do === 'check') {
      res = `VIP on [${(s.vip_on ?? []).join(', ')}], router's entry ${s.router_neigh_vip ?? 'none'}`;
    } else res = s.ok ? 'ok' : `failed ${s.error ?? ''}`;
    const table = (a: Record<string, readonly number[]>) => Object.entries(a).map(([k, c]) => `${k} [${c.join(',')}]`).join('  ');
    const after = table(s.after) + (s.director2 ? `  | director2: ${table(s.director2.after) || '(empty)'}` : '');
    lines.push(`${String(s.n).padStart(3)} ${s.diffs.length ? 'DIFF' : 'ok  '} ${stepHead(st)}${describeStep(st).padEnd(44)} ${res.padEnd(18)} ${after}`);
  }
  lines.push('', r.final['ipvsadm-Ln'], '', r.final['ipvsadm-Lnc'], '');
  if (r.final_director2) lines.push('director2:', r.final_director2['ipvsadm-Ln'], '', r.final_director2['ipvsadm-Lnc'], '');
  if (r.observe) {
    const o = r.observe;
    for (const [h, cs] of Object.entries(o.nstat)) {
      const nz = Object.entries(cs).filter(([, n]) => n !== 0).map(([k, n]) => `${k} ${n}`);
      lines.push(`nstat ${h}: ${nz.length ? nz.join(', ') : 'all observed counters 0'}`);
    }
    const icmp = [...new Set(o.icmp.map(i => `${i.at} ${i.dir} ${i.src} > ${i.dst} ICMP ${i.type}/${i.code}${i.mtu !== undefined ? ` mtu ${i.mtu}` : ''}`))];
    if (icmp.length) lines.push('ICMP errors on the captured interfaces:', ...icmp.map(x => `  ${x}`));
    for (const [h, n] of Object.entries(o.martian_source_logged)) lines.push(`dmesg ${h}: ${n} martian source line(s)`);
    for (const [h, m] of Object.entries(o.route_mtu)) lines.push(`ip route get on ${h}: ${m === null ? 'no cached MTU' : `cache mtu ${m}`}`);
    for (const [h, rows] of Object.entries(o.iptables_counters ?? {})) {
      lines.push(`iptables-save -c on ${h}:${rows.length ? '' : ' no rules'}`, ...rows.map(([t, c, spec, n]) => `  [${n}] ${t} -A ${c} ${spec}`));
    }
    for (const [h, log] of Object.entries(o.log ?? {})) {
      lines.push(`keepalived on ${h}:`, ...log.map(l => `  ${String(l.at_ms).padStart(6)} ms  ${l.msg}`));
    }
    for (const a of o.vrrp ?? []) lines.push(`VRRP adverts from ${a.from} (${a.src}) vrid ${a.vrid} prio ${a.prio}: ${a.count}, ${a.first_ms} to ${a.last_ms} ms`);
    if (o.garp) {
      const by = new Map<string, number[]>();
      for (const g of o.garp) by.set(`${g.from} for ${g.ip}`, [...(by.get(`${g.from} for ${g.ip}`) ?? []), g.at_ms]);
      for (const [k, ts] of by) lines.push(`gratuitous ARPs from ${k}: ${ts.length} (${ts[0]} to ${ts[ts.length - 1]} ms)`);
    }
    lines.push('');
  }
  if (r.race) lines.push(`racy vector, the outcome shown is one the race allows: ${r.race}`, '');
  for (const f of r.findings) lines.push(f.message, `  fix: ${f.fix}`, '');
  lines.push(r.diffs.length ? `${r.diffs.length} difference(s) from the kernel:\n${r.diffs.join('\n')}` : 'matches the kernel vector');
  return lines.join('\n') + '\n';
}
