/**
 * config/arping.ts: iputils `arping` (20221126, Debian 12): ARP requests for a target out of one
 * device, one a second, through a packet socket (kernel/neigh.ts `arping`).
 *   arping [-AbDfhqUV] [-c count] [-w timeout] [-i interval] [-I device] [-s source] destination
 * -U and -A send gratuitous ARP (request or reply) announcing the destination as our own;
 * -b keeps broadcasting; -f stops at the first reply. Exit 0 when answered (always with -U/-A),
 * 1 when not, 2 for a usage or device error. Where time cannot pass (a scenario's setup or exec
 * step) the probes go out in the background and only the first line is printed.
 * Not modelled: -D (duplicate address detection), -i, -q output suppression beyond the lines.
 */
import { formatIp4, parseIp4 } from '../net/addr';
import { arping as arpingProbe, type ArpingResult } from '../kernel/neigh';
import { ipRouteOutput, inetSelectAddr } from '../kernel/route';
import type { Tool, ToolResult } from './tool';
import { fail } from './tool';

const USAGE = 'Usage: arping [-AbDfhqUV] [-c count] [-w timeout] [-i interval] [-I device] [-s source] destination';

export const arping: Tool = (argv, ctx) => {
  const a = argv.map(w => w.text);
  let dev: string | null = null;
  let count = 0;
  let deadline: number | undefined;
  let src: number | undefined;
  let unsolicited: 'U' | 'A' | undefined;
  let broadcastOnly = false;
  let quiet = false;
  let first = false;
  let target: string | null = null;
  let targetWord = 0;
  const num = (i: number, what: string): number | ToolResult => {
    const v = a[i];
    if (v === undefined) return fail(2, `arping: option requires an argument -- '${what}'\n${USAGE}`, i - 1, `a number after -${what}`);
    if (!/^\d+(\.\d+)?$/.test(v)) return fail(2, `arping: invalid argument: '${v}'`, i, 'a number');
    return Number(v);
  };
  for (let i = 1; i < a.length; i++) {
    const w = a[i]!;
    if (w.startsWith('-') && w.length > 1) {
      const opt = w.slice(1);
      // Flags may be grouped (-qU); an option with an argument takes the rest or the next word.
      for (let k = 0; k < opt.length; k++) {
        const c = opt[k]!;
        const rest = opt.slice(k + 1);
        const takeArg = (): string | null => {
          if (rest) { k = opt.length; return rest; }
          i++;
          return a[i] ?? null;
        };
        switch (c) {
          case 'U': unsolicited = 'U'; break;
          case 'A': unsolicited = 'A'; break;
          case 'b': broadcastOnly = true; break;
          case 'q': quiet = true; break;
          case 'f': first = true; break;
          case 'h': return { exit: 0, stdout: '', stderr: USAGE + '\n' };
          case 'V': return { exit: 0, stdout: 'arping from iputils 20221126\n', stderr: '' };
          case 'D': return fail(2, 'lvsim: arping -D (duplicate address detection) is not modelled', i, 'arping without -D');
          case 'I': { const v = takeArg(); if (v === null) return fail(2, `arping: option requires an argument -- 'I'\n${USAGE}`, i - 1, 'a device after -I'); dev = v; break; }
          case 's': {
            const v = takeArg();
            const ip = v === null ? null : parseIp4(v);
            if (ip === null) return fail(2, `arping: invalid source ${v ?? ''}`, i, 'an IPv4 address after -s');
            src = ip;
            break;
          }
          case 'c': case 'w': case 'i': {
            let n: number | ToolResult;
            if (rest) { n = /^\d+(\.\d+)?$/.test(rest) ? Number(rest) : fail(2, `arping: invalid argument: '${rest}'`, i, 'a number'); k = opt.length; } else { i++; n = num(i, c); }
            if (typeof n !== 'number') return n;
            if (c === 'c') count = Math.floor(n);
            else if (c === 'w') deadline = n;
            else if (n !== 1) return fail(2, 'lvsim: arping -i (an interval other than 1 s) is not modelled', i, '-i 1 or no -i');
            break;
          }
          default:
            return fail(2, `arping: invalid option -- '${c}'\n${USAGE}`, i, 'one of -A -b -c -f -I -q -s -U -w');
        }
      }
      continue;
    }
    if (target !== null) return fail(2, USAGE, i, 'a single destination');
    target = w;
    targetWord = i;
  }
  if (target === null) return fail(2, USAGE, a.length, 'a destination address');
  const tip = parseIp4(target);
  if (tip === null) return fail(2, `arping: ${target}: Name or service not known`, targetWord, 'an IPv4 address (names are not resolved)');
  const host = ctx.host;
  const devName = dev ?? [...host.devices.values()].find(d => d.kind === 'ether' && d.up)?.name;
  if (!devName) return fail(2, 'arping: Suitable device could not be determined. Please, use option -I.', 0, '-I DEVICE');
  if (count === 0 && deadline === undefined && !ctx.advance) count = 1;
  if (count === 0 && deadline === undefined) return fail(2, 'lvsim: arping without -c or -w would run until interrupted; give -c COUNT', 0, '-c COUNT');
  const d = host.devices.get(devName);
  const from = unsolicited ? tip : src ?? (d ? ipRouteOutput(host, tip)?.src ?? inetSelectAddr(host, d, tip) : null);
  let res: ArpingResult | null = null;
  const err = arpingProbe(host, { dev: devName, target: tip, count: count || Infinity, deadlineS: deadline, src, unsolicited, broadcastOnly, stopAtReply: first, waitReplies: deadline !== undefined && count > 0 }, r => { res = r; });
  if (err) return fail(2, err, 0, 'an up Ethernet device with -I');
  const head = `ARPING ${formatIp4(tip)} from ${formatIp4(from ?? 0)} ${devName}\n`;
  if (!ctx.advance) return { exit: 0, stdout: head, stderr: '' };
  // One probe a second until arping exits (bounded: the engine has a finite amount to do).
  for (let guard = 0; res === null && guard < 100_000; guard++) ctx.advance(1_000_000_000);
  const r = res as ArpingResult | null;
  if (!r) return fail(1, 'lvsim: arping did not finish', 0, 'a smaller -c or -w');
  const out = quiet ? '' : head + (r.lines ?? []).join('\n') + (r.lines?.length ? '\n' : '')
    + `Sent ${r.sent} probes (${r.broadcasts ?? 0} broadcast(s))\nReceived ${r.replies.length} response(s)\n`;
  return { exit: unsolicited ? 0 : r.replies.length ? 0 : 1, stdout: out, stderr: '' };
};
