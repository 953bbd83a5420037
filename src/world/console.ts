/**
 * world/console.ts: a host's shell at a point of the run, for `lvsim exec --at` and the
 * browser's console. The run is deterministic, so the state at time t is the run replayed to
 * t: the command then sees exactly what the kernel held at that moment (connection entries
 * and their timers, neighbour states, counters), not an approximation rebuilt from records.
 * Only commands that print state run here; anything that would change the host belongs in
 * the scenario.
 */
import type { Ns } from '../sim/engine';
import { isReadOnly, knownCommands, unmodelledCommand } from '../config/commands';
import { splitLine } from '../config/shell';
import type { ToolResult } from '../config/tool';
import { runScenarioText, type Run } from './world';

/** True when every command of the line only prints state. */
export function isReadOnlyLine(line: string): boolean {
  const s = splitLine(line);
  return s.ok && s.commands.every(c => isReadOnly(c));
}

export const NOT_READ_ONLY = (line: string): string =>
  `'${line}' would change the host: the console runs commands that print state (ipvsadm -Ln, ip route, sysctl KEY, nstat, ...). Put changes in the scenario (setup: or an exec: traffic step).`;

/** What to use instead of a common read-only tool lvsim does not have. */
const UNMODELLED_HINTS: Readonly<Record<string, string>> = {
  ss: 'IPVS connections: ipvsadm -Lnc; tracked flows: conntrack -L; counters: nstat -az',
  arp: 'the neighbour table: ip neigh',
  ping: 'traffic is a traffic: step of the scenario',
  curl: 'traffic is a traffic: step of the scenario',
  nc: 'traffic is a traffic: step of the scenario',
  telnet: 'traffic is a traffic: step of the scenario',
};

/**
 * Why the console will not run `line`, or null when it will: a command lvsim does not model
 * (ss, arp -n: they would only print, but lvsim has no such tool) is said to be not modelled;
 * one that would change the host is refused as such.
 */
export function consoleRefusal(line: string): { readonly reason: 'not-modelled' | 'changes-host'; readonly message: string } | null {
  const s = splitLine(line);
  if (!s.ok) return null; // the shell's own syntax error is the answer
  for (const c of s.commands) {
    const name = unmodelledCommand(c);
    if (name !== null) {
      const hint = UNMODELLED_HINTS[name];
      return { reason: 'not-modelled', message: `${name} is not modelled${hint ? ` (${hint})` : ''}; lvsim runs ${knownCommands().filter(n => n !== 'true').join(', ')}` };
    }
  }
  return s.commands.every(c => isReadOnly(c)) ? null : { reason: 'changes-host', message: NOT_READ_ONLY(line) };
}

export class HostConsole {
  private cached: { at: Ns | undefined; run: Run } | null = null;

  constructor(private readonly text: string, private readonly file: string, private readonly seed?: number) {}

  /** The run stopped at `at` (the end of the run when undefined), replayed once per time asked. */
  runAt(at: Ns | undefined): Run {
    if (this.cached && this.cached.at === at) return this.cached.run;
    const run = runScenarioText(this.text, this.file, { seed: this.seed, untilNs: at });
    this.cached = { at, run };
    return run;
  }

  /** Run one read-only line on `host` as it was at `at`. */
  exec(host: string, line: string, at?: Ns): ToolResult {
    if (line.trim() === '') return { exit: 0, stdout: '', stderr: '' };
    const refused = consoleRefusal(line);
    if (refused !== null) return { exit: 2, stdout: '', stderr: `lvsim: ${refused.message}\n` };
    const run = this.runAt(at);
    if (!run.world.hosts.has(host)) return { exit: 2, stdout: '', stderr: `lvsim: no host '${host}' (hosts: ${[...run.world.hosts.keys()].join(', ')})\n` };
    return run.world.exec(host, line);
  }
}

/** The commands and the read-only forms users reach for, for completion. */
const COMMON = [
  'ipvsadm -Ln', 'ipvsadm -Lnc', 'ipvsadm -Ln --stats', 'ipvsadm -Ln --rate', 'ipvsadm -Ln --timeout',
  'ip addr', 'ip -s link', 'ip route', 'ip route get ', 'ip neigh', 'ip rule',
  'nstat -az', 'sysctl -a', 'sysctl net.ipv4.conf.all.rp_filter', 'cat /proc/net/ip_vs', 'cat /proc/net/ip_vs_conn',
  'iptables -L -v -n', 'iptables-save -c', 'conntrack -L', 'tcpdump -n -i ', 'dmesg', 'lsmod', 'netstat -s',
];

/** Completions of a partly typed line: the common forms first, then command names. */
export function completeLine(prefix: string): string[] {
  const p = prefix.trimStart();
  const forms = COMMON.filter(c => c.startsWith(p) && c !== p);
  const names = p.includes(' ') ? [] : knownCommands().filter(n => n.startsWith(p) && !forms.some(f => f.startsWith(n + ' ')));
  return [...forms, ...names];
}
