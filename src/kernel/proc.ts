/**
 * kernel/proc.ts: the processes of one host (the task list as `ps`, `kill` and `pkill` see it)
 * and the host's log (what syslog/journald collects from them, `journalctl`). A daemon is a set
 * of processes that the kernel can signal; SIGKILL ends one at once, whatever it holds (a crash:
 * what it configured in the kernel stays), SIGTERM lets it run its own shutdown.
 * Not modelled: process groups, sessions, ptrace, SIGSTOP/SIGCONT, signal masks.
 */
import type { Ns } from '../sim/engine';
import type { Host } from './host';

/** The signals lvsim delivers (kill -l numbering). */
export const SIGNALS: Readonly<Record<string, number>> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15 };
export type Signal = 'HUP' | 'INT' | 'QUIT' | 'KILL' | 'USR1' | 'USR2' | 'TERM';

export interface Process {
  readonly pid: number;
  readonly ppid: number;
  /** The command name (task comm, what pkill matches). */
  readonly comm: string;
  readonly cmdline: string;
  readonly started: Ns;
  /**
   * A signal other than KILL arrived (the process's handler runs; it calls `exit` when it is done).
   * KILL never reaches it: the kernel ends the process and only `onKilled` hears about it.
   */
  readonly onSignal: (sig: Signal) => void;
  /** The process is gone (any cause): the owner drops its timers and sockets. */
  readonly onExit: (how: 'exit' | 'killed') => void;
}

export interface JournalEntry {
  readonly t: Ns;
  /** The syslog identifier (Keepalived_healthcheckers, ...). */
  readonly ident: string;
  readonly pid: number;
  readonly msg: string;
}

class ProcTable {
  readonly procs = new Map<number, Process>();
  readonly journal: JournalEntry[] = [];
  /** pid_max starts low on a fresh boot: the first daemons get small pids. */
  private nextPid = 300;
  constructor(private readonly host: Host) {}

  spawn(p: Omit<Process, 'pid' | 'started'>): Process {
    const proc: Process = { ...p, pid: this.nextPid++, started: this.host.engine.now };
    this.procs.set(proc.pid, proc);
    return proc;
  }

  /** The process ends on its own (exit()). */
  exit(pid: number): void {
    const p = this.procs.get(pid);
    if (!p) return;
    this.procs.delete(pid);
    p.onExit('exit');
  }

  /** kill(2): ESRCH when there is no such process. */
  kill(pid: number, sig: Signal): 'ESRCH' | null {
    return this.procs.has(pid) ? (this.killAll([pid], sig), null) : 'ESRCH';
  }

  /**
   * One signal to several processes at once (pkill, killall, a crash): with SIGKILL every one of
   * them is gone before any owner hears of it, so none can act on another's death.
   */
  killAll(pids: readonly number[], sig: Signal): void {
    const hit = pids.map(p => this.procs.get(p)).filter((p): p is Process => p !== undefined);
    if (sig === 'KILL') {
      for (const p of hit) this.procs.delete(p.pid);
      for (const p of hit) p.onExit('killed');
      return;
    }
    for (const p of hit) if (this.procs.has(p.pid)) p.onSignal(sig);
  }

  byName(comm: string): Process[] {
    return [...this.procs.values()].filter(p => p.comm === comm);
  }
}

const tables = new WeakMap<Host, ProcTable>();

/** The host's process table and log, created on first use. */
export function procs(host: Host): ProcTable {
  let t = tables.get(host);
  if (!t) tables.set(host, (t = new ProcTable(host)));
  return t;
}

/** syslog(3) from a process: one line in the host's log. */
export function syslog(host: Host, ident: string, pid: number, msg: string): void {
  procs(host).journal.push({ t: host.engine.now, ident, pid, msg });
}

export type { ProcTable };
