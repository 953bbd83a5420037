/**
 * config/tool.ts: the shape every command of the command languages has (ip, ifconfig, route,
 * sysctl, ipvsadm, modprobe, systemctl, echo > /proc/...). A tool runs against one host,
 * like the real binary: it either changes the host or prints its state, and exits with the
 * real tool's status and message. Scenario loading and `lvsim exec` both call tools this way.
 */
import type { Word } from './shell';
import type { Host } from '../kernel/host';
import type { Ns } from '../sim/engine';
import type { IpvsCtl } from '../ipvs/ctl';
import type { TraceRecord } from '../trace/record';

export interface ToolContext {
  readonly host: Host;
  /** The host's IPVS (ipvsadm's target). */
  readonly ipvs: IpvsCtl;
  /** Virtual time now (for -Lnc countdowns, rates). */
  readonly now: Ns;
  /** Files the scenario declares for this host (/etc/sysctl.conf, ifcfg-eth0 ...): path -> text. */
  readonly files: ReadonlyMap<string, string>;
  /** Standard input (ipvsadm-restore, iptables-restore). */
  readonly stdin?: string;
  /** The declared file stdin was read from (`< FILE`, ipvsadm.service), to place errors at its lines. */
  readonly stdinPath?: string;
  /** The trace so far (tcpdump reads what crossed a device); absent while the setup loads. */
  readonly records?: readonly TraceRecord[];
  /**
   * Let virtual time pass while the command runs (arping waits a second between probes).
   * Absent where the command runs inside the simulation (a scenario's setup or exec step):
   * there a command that waits carries on in the background.
   */
  readonly advance?: (ns: Ns) => void;
}

export interface ToolResult {
  /** The real tool's exit status (0 success; ipvsadm uses 2 for usage, 255 for kernel errors). */
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  /** On failure: which word (index into argv, 0 = the command name) to point at, and what was expected there. */
  readonly errorAt?: { readonly word: number; readonly expected: string };
  /**
   * Lines of a file the tool read that it refused (sysctl -p FILE), each at its place in that
   * file. When given, they are the whole of the failure: the rest of the file was applied.
   */
  readonly fileErrors?: readonly FileError[];
  /** Accepted, but probably not what was meant (a port ipvsadm silently replaced ...). */
  readonly warnings?: ReadonlyArray<{ readonly word: number; readonly message: string }>;
}

/** One refused line of a file a tool read; line and columns are 1-based within that file. */
export interface FileError {
  readonly path: string;
  readonly line: number;
  readonly col: number;
  readonly endCol: number;
  readonly found: string;
  readonly expected: string;
  /** The tool's own message for this line. */
  readonly tool: string;
  /** Unset: an error when the command failed, else a warning. */
  readonly severity?: 'error' | 'warning';
}

export type Tool = (argv: readonly Word[], ctx: ToolContext) => ToolResult;

export const ok = (stdout = ''): ToolResult => ({ exit: 0, stdout, stderr: '' });

export const fail = (exit: number, stderr: string, word: number, expected: string): ToolResult => ({
  exit,
  stdout: '',
  stderr: stderr.endsWith('\n') || stderr === '' ? stderr : stderr + '\n',
  errorAt: { word, expected },
});
