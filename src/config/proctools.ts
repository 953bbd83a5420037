/**
 * config/proctools.ts: the procps/util-linux/systemd tools that act on a host's processes and
 * log (kernel/proc.ts): `kill [-SIG] PID...`, `pkill [-SIG] NAME`, `killall [-s SIG] NAME`,
 * `pidof NAME`, `ps` (pid and command) and `journalctl [-u UNIT] [-t IDENT]`.
 * journalctl prints as `-o short-monotonic` does: the simulation has no wall clock, only the
 * time since the run began. Not modelled: pkill patterns (NAME is matched exactly, as pkill -x),
 * process groups, journalctl's time filters and follow mode.
 */
import { procs, SIGNALS, type Signal } from '../kernel/proc';
import type { Tool, ToolResult } from './tool';
import { fail } from './tool';

const SIG_BY_NUM = new Map(Object.entries(SIGNALS).map(([k, v]) => [String(v), k as Signal]));

/** "-9", "-KILL", "-SIGKILL", "KILL" -> the signal, or null. */
function signalOf(s: string): Signal | null {
  const t = s.replace(/^-/, '').replace(/^SIG/i, '').toUpperCase();
  if (/^\d+$/.test(t)) return SIG_BY_NUM.get(t) ?? null;
  return t in SIGNALS ? (t as Signal) : null;
}

const SIGNAL_LIST = Object.keys(SIGNALS).join(', ');

export const kill: Tool = (argv, ctx) => {
  let sig: Signal = 'TERM';
  let i = 1;
  if (argv[i]?.text === '-s' || argv[i]?.text === '-n') {
    const s = argv[i + 1] ? signalOf(argv[i + 1].text) : null;
    if (!s) return fail(1, `bash: kill: ${argv[i + 1]?.text ?? ''}: invalid signal specification`, i + 1, `a signal: ${SIGNAL_LIST}`);
    sig = s; i += 2;
  } else if (argv[i]?.text.startsWith('-') && argv[i].text !== '--') {
    const s = signalOf(argv[i].text);
    if (!s) return fail(1, `bash: kill: ${argv[i].text.slice(1)}: invalid signal specification`, i, `a signal: ${SIGNAL_LIST}`);
    sig = s; i++;
  }
  if (argv[i]?.text === '--') i++;
  if (i >= argv.length) return fail(2, 'kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]', argv.length - 1, 'a process id');
  let stderr = '';
  let errorAt: ToolResult['errorAt'];
  for (; i < argv.length; i++) {
    const w = argv[i].text;
    if (!/^\d+$/.test(w)) { stderr += `bash: kill: ${w}: arguments must be process or job IDs\n`; errorAt ??= { word: i, expected: 'a process id (see ps or pidof)' }; continue; }
    if (procs(ctx.host).kill(Number(w), sig) === 'ESRCH') { stderr += `bash: kill: (${w}) - No such process\n`; errorAt ??= { word: i, expected: 'the id of a running process (see ps or pidof)' }; }
  }
  return errorAt ? { exit: 1, stdout: '', stderr, errorAt } : { exit: 0, stdout: '', stderr: '' };
};

/** pkill and killall: every process of that name gets the signal at once. */
function killByName(tool: 'pkill' | 'killall'): Tool {
  return (argv, ctx) => {
    let sig: Signal = 'TERM';
    const names: Array<{ text: string; i: number }> = [];
    for (let i = 1; i < argv.length; i++) {
      const w = argv[i].text;
      if ((w === '-s' || w === '--signal') && argv[i + 1]) {
        const s = signalOf(argv[i + 1].text);
        if (!s) return fail(tool === 'pkill' ? 2 : 1, `${tool}: unknown signal name: ${argv[i + 1].text}`, i + 1, `a signal: ${SIGNAL_LIST}`);
        sig = s; i++;
      } else if (w === '-x' || w === '--exact' || w === '-e') continue;
      else if (w.startsWith('-')) {
        const s = signalOf(w);
        if (!s) return fail(tool === 'pkill' ? 2 : 1, tool === 'pkill' ? `pkill: invalid option -- '${w.slice(1)}'` : `killall: unknown signal: ${w.slice(1)}`, i, `a signal such as -9 or -TERM (or -s SIGNAL)`);
        sig = s;
      } else names.push({ text: w, i });
    }
    if (!names.length) return fail(2, tool === 'pkill' ? 'pkill: no matching criteria specified' : 'Usage: killall [OPTION]... [--] NAME...', argv.length - 1, 'a process name such as keepalived');
    const pt = procs(ctx.host);
    let missing = '';
    let errorAt: ToolResult['errorAt'];
    const pids: number[] = [];
    for (const n of names) {
      const hit = pt.byName(n.text);
      if (!hit.length) {
        if (tool === 'killall') missing += `${n.text}: no process found\n`;
        errorAt ??= { word: n.i, expected: `the name of a running process (${[...new Set([...pt.procs.values()].map(p => p.comm))].join(', ') || 'none is running'})` };
      }
      pids.push(...hit.map(p => p.pid));
    }
    pt.killAll(pids, sig);
    return errorAt ? { exit: 1, stdout: '', stderr: missing, errorAt } : { exit: 0, stdout: '', stderr: '' };
  };
}

export const pkill = killByName('pkill');
export const killall = killByName('killall');

export const pidof: Tool = (argv, ctx) => {
  const names = argv.slice(1).map(w => w.text).filter(w => !w.startsWith('-'));
  const pids = names.flatMap(n => procs(ctx.host).byName(n).map(p => p.pid)).sort((a, b) => b - a);
  return pids.length ? { exit: 0, stdout: pids.join(' ') + '\n', stderr: '' } : { exit: 1, stdout: '', stderr: '' };
};

export const ps: Tool = (_argv, ctx) => {
  const rows = [...procs(ctx.host).procs.values()].sort((a, b) => a.pid - b.pid);
  return { exit: 0, stdout: '    PID    PPID CMD\n' + rows.map(p => `${String(p.pid).padStart(7)} ${String(p.ppid).padStart(7)} ${p.cmdline}`).join('\n') + (rows.length ? '\n' : ''), stderr: '' };
};

/** Monotonic seconds as journalctl -o short-monotonic prints them. */
const mono = (t: number): string => `[${(t / 1e9).toFixed(6).padStart(12)}]`;

export const journalctl: Tool = (argv, ctx) => {
  let unit: string | null = null;
  let ident: string | null = null;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i].text;
    if ((w === '-u' || w === '--unit') && argv[i + 1]) { unit = argv[++i].text.replace(/\.service$/, ''); continue; }
    if (w.startsWith('--unit=')) { unit = w.slice(7).replace(/\.service$/, ''); continue; }
    if ((w === '-t' || w === '--identifier') && argv[i + 1]) { ident = argv[++i].text; continue; }
    if (w === '--no-pager' || w === '-q' || w === '--quiet' || w === '-a' || w === '--all') continue;
    if (w === '-o' && argv[i + 1]?.text === 'short-monotonic') { i++; continue; }
    return fail(1, `lvsim: journalctl ${w} is not modelled`, i, '-u UNIT, -t IDENTIFIER, --no-pager');
  }
  const lines = procs(ctx.host).journal
    .filter(e => (ident === null || e.ident === ident) && (unit === null || e.ident.toLowerCase().startsWith(unit.toLowerCase())))
    .map(e => `${mono(e.t)} ${ctx.host.name} ${e.ident}[${e.pid}]: ${e.msg}`);
  return { exit: 0, stdout: lines.length ? lines.join('\n') + '\n' : '-- No entries --\n', stderr: '' };
};
