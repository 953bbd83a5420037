/**
 * config/tcpdump.ts: `tcpdump -n -i DEV` as a capture that ran on that device from the start
 * of the run: every frame the trace shows crossing it (in and out), one line each in tcpdump's
 * words (net/summary.ts), stamped with virtual time of day. -e adds the link-level header, -v
 * the IP header fields, -c N stops after N packets; the summary lines go to stderr as tcpdump
 * prints them. Not modelled: filter expressions, -w (lvsim run --pcap writes captures),
 * name resolution (output is always numeric, as with -n).
 */
import { summarize, summarizeFrame } from '../net/summary';
import type { TraceRecord } from '../trace/record';
import type { Tool } from './tool';
import { fail } from './tool';

/** hh:mm:ss.micros of virtual time, as tcpdump stamps a packet. */
export function tcpdumpTime(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1e6);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(Math.floor(s / 3600) % 24)}:${p2(Math.floor(s / 60) % 60)}:${p2(s % 60)}.${String(us % 1e6).padStart(6, '0')}`;
}

/** The records of frames crossing host:dev: received (rx, or decapsulated onto an ipip device) or sent (tx). */
export function capturedOn(records: readonly TraceRecord[], host: string, dev: string): TraceRecord[] {
  return records.filter(r => r.host === host && r.dev === dev && (r.verdict === 'rx' || r.verdict === 'tx' || (r.verdict === 'decap' && r.point === dev)));
}

export const tcpdump: Tool = (argv, ctx) => {
  let dev: string | null = null;
  let link = false;
  let verbose = false;
  let max = Infinity;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!.text;
    if (w === '-i' || w === '--interface') {
      const v = argv[++i]?.text;
      if (v === undefined) return fail(1, "tcpdump: option requires an argument -- 'i'", i - 1, 'a device after -i');
      dev = v;
    } else if (/^-i\S+$/.test(w)) dev = w.slice(2);
    else if (w === '-c') {
      const v = argv[++i]?.text;
      if (v === undefined || !/^[1-9]\d*$/.test(v)) return fail(1, `tcpdump: invalid packet count ${v ?? ''}`, i, 'a count after -c');
      max = Number(v);
    } else if (/^-[nNeSvlq]+$/.test(w)) {
      if (w.includes('e')) link = true;
      if (w.includes('v')) verbose = true;
    } else if (w === '-w' || w === '-r') {
      return fail(1, `lvsim: tcpdump ${w} is not modelled; lvsim run --pcap FILE writes every device's capture`, i, 'tcpdump -n -i DEV');
    } else if (w.startsWith('-')) {
      return fail(1, `tcpdump: invalid option -- '${w.slice(1)}'`, i, 'one of -n -e -v -c N -i DEV');
    } else {
      return fail(1, `lvsim: tcpdump filter expressions are not modelled ('${argv.slice(i).map(x => x.text).join(' ')}'); every packet on the device is printed`, i, 'no filter expression');
    }
  }
  if (dev === null) return fail(1, 'lvsim: tcpdump needs -i DEV (the capture is per device)', 0, 'tcpdump -n -i DEV');
  const d = ctx.host.devices.get(dev);
  if (!d) return fail(1, `tcpdump: ${dev}: No such device exists\n(SIOCGIFHWADDR: No such device)`, argv.findIndex(w => w.text === dev || w.text === `-i${dev}`), 'a device of this host');
  const raw = d.kind !== 'ether';
  const head = `tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on ${dev}, link-type ${raw ? 'RAW (Raw IP)' : 'EN10MB (Ethernet)'}, snapshot length 262144 bytes\n`;
  const recs = capturedOn(ctx.records ?? [], ctx.host.name, dev).slice(0, max);
  const lines = recs.map(r => {
    const body = link && r.frame && !raw ? summarizeFrame(r.frame, { verbose }) : summarize(r.packet.pkt, { verbose });
    return `${tcpdumpTime(r.t)} ${raw || !link ? '' : ''}${body}`;
  });
  const n = recs.length;
  return { exit: 0, stdout: lines.map(l => l + '\n').join(''), stderr: `${verbose ? head.replace(/^tcpdump: verbose[^\n]*\n/, '') : head}\n${n} packet${n === 1 ? '' : 's'} captured\n${n} packet${n === 1 ? '' : 's'} received by filter\n0 packets dropped by kernel\n` };
};
