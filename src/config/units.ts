/**
 * config/units.ts: systemd units of daemons (keepalived.service ...). A daemon registers its unit
 * here; `systemctl start|stop|restart|status|is-active NAME` reaches it through this table, so the
 * command layer does not depend on any daemon.
 */
import type { FileError, ToolContext } from './tool';

export interface DaemonUnit {
  /**
   * ExecStart: false with the messages when the daemon refused to start; `fileErrors`, the lines
   * of its configuration files it reported (placed at their lines of the scenario's files:).
   */
  start(ctx: ToolContext): { ok: boolean; stderr: string; fileErrors?: readonly FileError[] };
  /** ExecStop (SIGTERM to the main process); nothing to do when inactive. */
  stop(ctx: ToolContext): void;
  active(ctx: ToolContext): boolean;
  /** `systemctl status` body lines after Loaded/Active (the main PID, the last log lines). */
  status(ctx: ToolContext): string;
}

const units = new Map<string, DaemonUnit>();
/** Units that exist on some hosts only (a scenario's servers): asked after the fixed ones. */
const resolvers: Array<(name: string, ctx: ToolContext) => DaemonUnit | null> = [];

export function registerUnitResolver(r: (name: string, ctx: ToolContext) => DaemonUnit | null): void {
  resolvers.push(r);
}

export function registerUnit(name: string, unit: DaemonUnit): void {
  units.set(name, unit);
}

/** The daemon unit for `keepalived` or `keepalived.service` on ctx's host, if one is registered. */
export function daemonUnit(name: string, ctx: ToolContext): DaemonUnit | null {
  const n = name.replace(/\.service$/, '');
  const u = units.get(n);
  if (u) return u;
  for (const r of resolvers) {
    const x = r(n, ctx);
    if (x) return x;
  }
  return null;
}
