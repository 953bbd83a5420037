/**
 * config/commands.ts: the command registry. One simple command (words and an optional
 * redirection, from shell.ts) runs the tool named by its first word against one host, as
 * bash would find the binary on PATH. Unknown names fail as bash does ("command not found",
 * 127) with a did-you-mean. `isReadOnly` tells `lvsim exec` which lines only print state.
 */
import type { SimpleCommand, Word } from './shell';
import type { Tool, ToolContext, ToolResult } from './tool';
import { ip, nearest } from './ip';
import { ifconfig } from './ifconfig';
import { sysctl, sysctlReadOnly } from './sysctl';
import { modprobe, rmmod, lsmod } from './modprobe';
import { echo, cat } from './proc';
import { ipvsadm, ipvsadmSave, ipvsadmRestore, ipvsadmReadOnly } from './ipvsadm';
import { route } from './route';
import { systemctl, service } from './systemctl';
import { nstat, netstat } from './nstat';
import { kill, pkill, killall, pidof, ps, journalctl } from './proctools';
import { iptables, iptablesSave, iptablesRestore, iptablesReadOnly, dmesg, conntrack } from './iptables';
import { arping } from './arping';
import { tcpdump } from './tcpdump';

const noop: Tool = () => ({ exit: 0, stdout: '', stderr: '' });

const tools = new Map<string, Tool>([
  ['ip', ip],
  ['ifconfig', ifconfig],
  ['sysctl', sysctl],
  ['modprobe', modprobe],
  ['rmmod', rmmod],
  ['lsmod', lsmod],
  ['cat', cat],
  ['route', route],
  ['systemctl', systemctl],
  ['service', service],
  ['nstat', nstat],
  ['netstat', netstat],
  ['arping', arping],
  ['tcpdump', tcpdump],
  ['ipvsadm', ipvsadm],
  ['ipvsadm-save', ipvsadmSave],
  ['ipvsadm-restore', ipvsadmRestore],
  ['kill', kill],
  ['pkill', pkill],
  ['killall', killall],
  ['pidof', pidof],
  ['ps', ps],
  ['journalctl', journalctl],
  ['iptables', iptables],
  ['iptables-legacy', iptables],
  ['iptables-save', iptablesSave],
  ['iptables-legacy-save', iptablesSave],
  ['iptables-restore', iptablesRestore],
  ['iptables-legacy-restore', iptablesRestore],
  ['dmesg', dmesg],
  ['conntrack', conntrack],
  ['true', noop],
  [':', noop],
]);

/**
 * Add or replace a tool (tests may register fakes).
 */
export function registerTool(name: string, tool: Tool): void {
  tools.set(name, tool);
}

/** Every command name runCommand accepts, sorted. */
export function knownCommands(): string[] {
  return [...new Set([...tools.keys(), 'echo'])].filter(n => n !== ':').sort();
}

/** Strip a path (/sbin/ip, /usr/sbin/ipvsadm) the way PATH lookup would find the same binary. */
export function commandName(w: string): string {
  const m = /^(?:\/usr)?\/s?bin\/([^/]+)$/.exec(w);
  return m ? m[1] : w;
}

/** Run one simple command on ctx.host. Never throws. */
export function runCommand(cmd: SimpleCommand, ctx: ToolContext): ToolResult {
  if (cmd.words.length === 0) return { exit: 0, stdout: '', stderr: '' };
  const name = commandName(cmd.words[0].text);
  try {
    if (name === 'echo') return echo(cmd, ctx);
    if (name === 'sudo') {
      const r = runCommand({ ...cmd, words: cmd.words.slice(1) }, ctx);
      return r.errorAt ? { ...r, errorAt: { word: r.errorAt.word + 1, expected: r.errorAt.expected } } : r;
    }
    if (cmd.redirect?.op === '<') {
      // bash opens the file before it runs the command; a command that does not read stdin ignores it.
      const path = cmd.redirect.target.text;
      const text = ctx.files.get(path);
      if (text === undefined) {
        return {
          exit: 1, stdout: '', stderr: `bash: ${path}: No such file or directory\n`,
          errorAt: { word: cmd.words.length, expected: "a file declared in this host's files:" },
        };
      }
      const tool = name === 'echo' ? null : tools.get(name);
      if (tool) return tool(cmd.words, { ...ctx, stdin: text, stdinPath: path });
      return runCommand({ words: cmd.words }, { ...ctx, stdin: text, stdinPath: path });
    }
    if (cmd.redirect && !isReadOnlyName(name)) {
      const target = cmd.redirect.target.text;
      return {
        exit: 1, stdout: '', stderr: `lvsim: output redirection of ${name} (to ${target}) is not modelled\n`,
        errorAt: { word: cmd.words.length, expected: 'a command without redirection (only echo N > /proc/sys/... writes)' },
      };
    }
    const tool = tools.get(name);
    if (tool) {
      const r = tool(cmd.words, ctx);
      if (cmd.redirect) return { ...r, stdout: '' };
      return r;
    }
    const known = knownCommands();
    const guess = nearest(name, known);
    const expected = guess ? `"${guess}"? (one of: ${known.join(', ')})` : `one of: ${known.join(', ')}`;
    return { exit: 127, stdout: '', stderr: `bash: ${name}: command not found\n`, errorAt: { word: 0, expected } };
  } catch (e) {
    return { exit: 1, stdout: '', stderr: `lvsim: ${name}: internal error: ${e instanceof Error ? e.message : String(e)}\n`, errorAt: { word: 0, expected: 'a command the model can run' } };
  }
}

function isReadOnlyName(name: string): boolean {
  return name === 'cat' || name === 'lsmod' || name === 'true' || name === ':';
}

/** The first command name of `cmd` (after sudo) that lvsim does not run (ss, arp, ping ...), or null. */
export function unmodelledCommand(cmd: SimpleCommand): string | null {
  const words = commandName(cmd.words[0]?.text ?? '') === 'sudo' ? cmd.words.slice(1) : cmd.words;
  if (words.length === 0) return null;
  const name = commandName(words[0]!.text);
  return name === 'echo' || tools.has(name) ? null : name;
}

/**
 * True when the command only prints state (lvsim exec runs only these): listings of ip,
 * ifconfig, route, sysctl reads, cat, lsmod, nstat, netstat, ipvsadm -L / ipvsadm-save,
 * systemctl status, dmesg, tcpdump, the arping probe, and echo without redirection.
 */
export function isReadOnly(cmd: SimpleCommand): boolean {
  if (cmd.words.length === 0) return true;
  const name = commandName(cmd.words[0].text);
  const args = cmd.words.slice(1).map(w => w.text);
  if (name === 'sudo') return isReadOnly({ ...cmd, words: cmd.words.slice(1) });
  if (name === 'echo') return !cmd.redirect || cmd.redirect.op === '<';
  if (cmd.redirect && cmd.redirect.op !== '<') return false;
  switch (name) {
    case 'cat': case 'lsmod': case 'true': case ':': case 'netstat': case 'ipvsadm-save': case 'pidof': case 'ps': case 'journalctl':
      return true;
    case 'nstat':
      return true;
    case 'iptables': case 'iptables-legacy': return iptablesReadOnly(args);
    case 'iptables-save': case 'iptables-legacy-save': return true;
    case 'dmesg': return !args.some(a => a === '-C' || a === '--clear' || a === '-c');
    case 'conntrack': return args.length === 0 || args.some(a => a === '-L' || a === '--dump' || a === '-C' || a === '--count');
    // Reading the capture; arping is a probe (like ping), it configures nothing.
    case 'tcpdump': case 'arping':
      return true;
    case 'ip': return ipReadOnly(args);
    case 'ifconfig': return args.filter(a => !a.startsWith('-')).length <= 1;
    case 'route': return !args.some(a => a === 'add' || a === 'del' || a === 'delete' || a === 'flush');
    case 'sysctl': return sysctlReadOnly(cmd.words.map(w => w.text));
    case 'ipvsadm': return ipvsadmReadOnly(cmd.words);
    case 'systemctl': return args[0] === 'status' || args[0] === 'is-active' || args[0] === 'is-enabled' || args[0] === 'show';
    case 'modprobe': return args.includes('--show-depends') || args.includes('-D');
    case 'keepalived': return args.some(a => a === '-t' || a === '--config-test' || a === '-v' || a === '--version');
    default: return false;
  }
}

/** `ip` lines that only print: show/list/get, or an object with no verb (iproute2 verb prefixes per object). */
function ipReadOnly(args: string[]): boolean {
  let k = 0;
  while (k < args.length && args[k].startsWith('-')) {
    if (args[k] === '-f' || args[k] === '-family') k++;
    k++;
  }
  const obj = args[k];
  const sub = args[k + 1];
  if (obj === undefined || sub === undefined) return true;
  const pre = (full: string): boolean => full.startsWith(sub);
  // "ip link s" is set (iplink.c tries set before show); elsewhere "s" is show.
  if ('link'.startsWith(obj) && pre('set')) return false;
  return pre('show') || pre('list') || pre('lst') || pre('get') || pre('help');
}

export type { Word };
