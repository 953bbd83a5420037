/**
 * config/proc.ts: the shell's view of /proc/sys: `echo N > /proc/sys/net/ipv4/ip_forward`
 * (bash opens the file and echo writes "N\n"; the kernel's proc_dointvec parses it) and
 * `cat /proc/sys/...`. cat also prints the files the scenario declares for the host
 * (/etc/sysctl.conf, ifcfg files). Messages are bash's and coreutils'.
 * `echo c > /proc/sysrq-trigger` crashes the host (kernel/panic.ts).
 * Not modelled: writing to any other file, /proc/net/*.
 */
import type { SimpleCommand } from './shell';
import type { Tool, ToolContext, ToolResult } from './tool';
import { acceptedValues, unmodelledNote, unmodelledUnset, writeSysctl } from './sysctl';
import { panic } from '../kernel/panic';

const PROC_SYS = '/proc/sys/';

/** /proc/sys/net/ipv4/conf/eth0.100/rp_filter -> net.ipv4.conf.eth0/100.rp_filter (sysctl's own rule). */
export function procPathToKey(path: string): string | null {
  const p = path.replace(/\/{2,}/g, '/');
  if (!p.startsWith(PROC_SYS)) return null;
  return p.slice(PROC_SYS.length).replace(/\./g, '/').split('/').map(s => s).join('.').replace(/\.+$/, '');
}

function echoText(argv: readonly { text: string }[]): string {
  let i = 1;
  let newline = true;
  let escapes = false;
  while (i < argv.length && /^-[neE]+$/.test(argv[i].text)) {
    for (const c of argv[i].text.slice(1)) {
      if (c === 'n') newline = false;
      else if (c === 'e') escapes = true;
      else escapes = false;
    }
    i++;
  }
  let s = argv.slice(i).map(w => w.text).join(' ');
  if (escapes) s = s.replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
  return s + (newline ? '\n' : '');
}

/** `echo` with an optional redirection (the dispatcher passes the whole simple command). */
export function echo(cmd: SimpleCommand, ctx: ToolContext): ToolResult {
  const text = echoText(cmd.words);
  if (!cmd.redirect || cmd.redirect.op === '<') return { exit: 0, stdout: text, stderr: '' };
  const target = cmd.redirect.target.text;
  const at = cmd.words.length; // the redirection target: one past the last word
  if (target === '/proc/sysrq-trigger') {
    // sysrq: 'c' crashes the kernel (sysrq_handle_crash); the others are not modelled.
    if (text.trim() === 'c') { panic(ctx.host, 'sysrq triggered crash'); return { exit: 0, stdout: '', stderr: '' }; }
    return { exit: 1, stdout: '', stderr: `lvsim: sysrq '${text.trim()}' is not modelled (only c, a crash)\n`, errorAt: { word: 1, expected: "c (echo c > /proc/sysrq-trigger crashes the host)" } };
  }
  const key = procPathToKey(target);
  if (key === null) {
    return { exit: 1, stdout: '', stderr: `lvsim: writing to ${target} is not modelled (only /proc/sys/...)\n`, errorAt: { word: at, expected: 'a /proc/sys/... path' } };
  }
  if (ctx.host.sysctl.isUnmodelled(key)) {
    ctx.host.sysctl.setUnmodelled(key, text);
    return { exit: 0, stdout: '', stderr: '', warnings: [{ word: at, message: unmodelledNote(key) }] };
  }
  if (!ctx.host.sysctl.has(key)) {
    return { exit: 1, stdout: '', stderr: `bash: ${target}: No such file or directory\n`, errorAt: { word: at, expected: 'an existing /proc/sys file (sysctl -a lists the keys)' } };
  }
  const err = writeSysctl(ctx.host, key, text);
  if (err) {
    return { exit: 1, stdout: '', stderr: 'bash: echo: write error: Invalid argument\n', errorAt: { word: 1, expected: acceptedValues(key) } };
  }
  return { exit: 0, stdout: '', stderr: '' };
}

/** `cat FILE...`: /proc/sys values and the host's declared files. */
export const cat: Tool = (argv, ctx) => {
  let out = '';
  let err = '';
  let bad: { word: number; expected: string } | undefined;
  if (argv.length < 2 && ctx.stdin !== undefined) return { exit: 0, stdout: ctx.stdin, stderr: '' };
  if (argv.length < 2) {
    return { exit: 1, stdout: '', stderr: 'lvsim: cat without a file would read standard input; name a file\n', errorAt: { word: 0, expected: 'a file such as /proc/sys/net/ipv4/ip_forward' } };
  }
  for (let i = 1; i < argv.length; i++) {
    const path = argv[i].text;
    const key = procPathToKey(path);
    if (key !== null && ctx.host.sysctl.has(key)) {
      out += (ctx.host.sysctl.get(key) ?? '') + '\n';
      continue;
    }
    if (key !== null && ctx.host.sysctl.isUnmodelled(key)) {
      const kept = ctx.host.sysctl.getUnmodelled(key);
      if (kept !== undefined) { out += kept + '\n'; continue; }
      err += unmodelledUnset(key) + '\n';
      bad ??= { word: i, expected: `a file lvsim models, or set ${key} first` };
      continue;
    }
    const f = ctx.files.get(path);
    if (f !== undefined) { out += f; continue; }
    err += `cat: ${path}: No such file or directory\n`;
    bad ??= { word: i, expected: 'an existing /proc/sys file or a file the scenario declares' };
  }
  return bad ? { exit: 1, stdout: out, stderr: err, errorAt: bad } : { exit: 0, stdout: out, stderr: '' };
};
